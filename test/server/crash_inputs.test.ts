// Well-formed requests with values the watch table rejects by throwing (found by the protocol
// fuzzer, test/fuzz/).
// A request like this must cost at most its own connection: the offender gets an error reply (or
// is disconnected), and a well-behaved session on the same shard keeps being served.
//
// How these fail: the shard worker lets the exception escape its frame loop and exits; the
// supervisor then stops the whole server (and calls process.exit), so the well-behaved session
// loses its connection and its request is rejected. Each case runs on its own server so that one
// crash does not hide the others.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpCode, RequestInput } from '../../src/protocol/messages.js';
import type { Reply, WireClient } from '../support/wire_client.js';
import { asReply, connect, startTestServer, type TestServer } from './harness.js';

const WAIT_MS = 5_000;

describe('requests that must not take the server down (read_workers 1: offender and bystander share a shard)', () => {
  let server: TestServer;
  let bystander: WireClient;
  let offender: WireClient;

  beforeEach(async () => {
    server = await startTestServer({ read_workers: 1 });
    bystander = await connect(server.port);
    offender = await connect(server.port);
  });
  afterEach(async () => {
    bystander?.destroy();
    offender?.destroy();
    await server?.stop();
  });

  /** Sends one request from the offender; resolves with its reply, or null if the connection closed. */
  async function offend<C extends OpCode>(xid: number | null, type: C, body: RequestInput<C>): Promise<Reply | null> {
    const sent = xid === null ? offender.request(type, body) : offender.requestSpecial(xid, type, body);
    const answer = sent.catch(() => null);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), WAIT_MS).unref());
    const r = await Promise.race([answer, timeout]);
    expect(r, 'the offender got neither a reply nor a close').not.toBe('timeout');
    return r === 'timeout' ? null : r;
  }

  async function expectBystanderServed(): Promise<void> {
    expect(bystander.isClosed(), 'the well-behaved session lost its connection').toBe(false);
    const r = asReply(await bystander.request(3, { path: '/', watch: false }));
    expect(r.err).toBe(0);
  }

  it('removeWatches with an unknown WatcherType (7)', async () => {
    const r = await offend(null, 18, { path: '/', type: 7 });
    if (r !== null) expect(r.err).not.toBe(0);
    await expectBystanderServed();
  });

  it('checkWatches with an unknown WatcherType (0)', async () => {
    const r = await offend(null, 17, { path: '/', type: 0 });
    if (r !== null) expect(r.err).not.toBe(0);
    await expectBystanderServed();
  });

  it('digest auth with a very long user name, then whoAmI and a digest-protected node', async () => {
    // The id travels from the shard to the commit worker; a long one must not break that link.
    const user = 'u'.repeat(5_000);
    const auth = await offend(-4, 100, { type: 0, scheme: 'digest', auth: new TextEncoder().encode(`${user}:pw`) });
    expect(auth?.err).toBe(0);
    const who = asReply(await offender.request(107, null));
    expect(who.err).toBe(0);
    const infos = (who.body as { clientInfo: { authScheme: string; user: string }[] }).clientInfo;
    expect(infos.find((c) => c.authScheme === 'digest')?.user).toBe(user);
    const acl = [{ perms: 31, id: { scheme: 'auth', id: '' } }];
    expect(asReply(await offender.request(1, { path: '/long-user', data: null, acl, flags: 0 })).err).toBe(0);
    expect(asReply(await offender.request(4, { path: '/long-user', watch: false })).err).toBe(0);
    expect(asReply(await bystander.request(4, { path: '/long-user', watch: false })).err).toBe(-102);
    await expectBystanderServed();
  });

  it('exists with watch on a relative path', async () => {
    // ZooKeeper registers the watch and answers NONODE; no node can have this path.
    const r = await offend(null, 3, { path: 'relative', watch: true });
    if (r !== null) expect(r.err).not.toBe(0);
    await expectBystanderServed();
  });

  it('addWatch on a relative path', async () => {
    await offend(null, 106, { path: 'relative', mode: 0 });
    await expectBystanderServed();
  });

  it('setWatches2 with a relative path in existWatches', async () => {
    await offend(-8, 105, {
      relativeZxid: 0,
      dataWatches: [],
      existWatches: ['relative'],
      childWatches: [],
      persistentWatches: [],
      persistentRecursiveWatches: [],
    });
    await expectBystanderServed();
  });

  it('setWatches2 with a relative path in persistentRecursiveWatches', async () => {
    await offend(-8, 105, {
      relativeZxid: 0,
      dataWatches: [],
      existWatches: [],
      childWatches: [],
      persistentWatches: [],
      persistentRecursiveWatches: ['relative'],
    });
    await expectBystanderServed();
  });
});
