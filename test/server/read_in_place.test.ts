// A shard answers a getData or exists at the head of an empty FIFO from the ring where the frame
// lies (ShardSession.tryReadNow): the path is compared as bytes and never decoded. A read queued
// behind another request of the session takes the decoder's path. The two must give the client
// the same answer: the same data and Stat, NONODE, NOAUTH by the session's own auth ids, the same
// watches; and a path the in-place reader does not take (not printable ASCII) is still served.
// Net fast reads are off so that every read reaches the shard.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Perms } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { digestId } from '../../src/tree/acl.js';
import type { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, connect, startTestServer, utf8, type TestServer } from './harness.js';

const BOB_ONLY = [{ perms: Perms.ALL, id: { scheme: 'digest', id: digestId('bob:pw') } }];

describe('reads answered in place by a shard', () => {
  let server: TestServer;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2, net_fast_reads: false });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  async function session(): Promise<WireClient> {
    const c = await connect(server.port);
    clients.push(c);
    return c;
  }

  it('answers getData and exists as the decoder does (a read queued behind a sync is decoded)', async () => {
    const c = await session();
    expect((await c.request(Op.create, { path: '/rip', data: utf8('value'), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    expect((await c.request(Op.setData, { path: '/rip', data: utf8('value 2'), version: 0 })).err).toBe(0);
    for (const op of [Op.getData, Op.exists] as const) {
      for (const watch of [false, true]) {
        const in_place = await c.request(op, { path: '/rip', watch });
        // Behind a sync the read waits in the FIFO: the shard decodes it when the sync completes.
        const [, queued] = await Promise.all([c.request(Op.sync, { path: '/rip' }), c.request(op, { path: '/rip', watch })]);
        expect(in_place.err).toBe(0);
        expect(in_place.zxid).toBe(queued.zxid);
        expect(in_place.body).toEqual(queued.body);
      }
    }
    const got = (await c.request(Op.getData, { path: '/rip', watch: false })).body as { data: Uint8Array; stat: { version: number; dataLength: number } };
    expect(Buffer.from(got.data).toString()).toBe('value 2');
    expect([got.stat.version, got.stat.dataLength]).toEqual([1, 7]);
  });

  it('registers the watches ZooKeeper registers: data on a node read, exist on a missing node, none for a getData of one', async () => {
    const [watcher, writer] = await Promise.all([session(), session()]);
    expect((await writer.request(Op.create, { path: '/rip-w', data: utf8('a'), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    expect((await watcher.request(Op.getData, { path: '/rip-w', watch: true })).err).toBe(0);
    expect((await watcher.request(Op.exists, { path: '/rip-w-new', watch: true })).err).toBe(Err.NONODE);
    expect((await watcher.request(Op.getData, { path: '/rip-w-none', watch: true })).err).toBe(Err.NONODE);
    expect((await writer.request(Op.setData, { path: '/rip-w', data: utf8('b'), version: -1 })).err).toBe(0);
    expect((await writer.request(Op.create, { path: '/rip-w-new', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    expect((await writer.request(Op.create, { path: '/rip-w-none', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    // A reply behind the events: had they fired, they came first.
    expect((await watcher.request(Op.sync, { path: '/' })).err).toBe(0);
    const events = watcher.received.flatMap((r) => (r.kind === 'notification' ? [{ type: r.event.type, path: r.event.path }] : []));
    expect(events).toEqual([
      { type: 3, path: '/rip-w' }, // NodeDataChanged
      { type: 1, path: '/rip-w-new' }, // NodeCreated
    ]);
  });

  it('answers NONODE for a missing node, and serves the root and /zookeeper', async () => {
    const c = await session();
    for (const op of [Op.getData, Op.exists] as const) expect((await c.request(op, { path: '/rip-missing/x', watch: false })).err).toBe(Err.NONODE);
    expect((await c.request(Op.exists, { path: '/', watch: false })).err).toBe(0);
    expect((await c.request(Op.getData, { path: '/zookeeper/quota', watch: false })).err).toBe(0);
  });

  it('checks READ against the session’s own ids: NOAUTH without them, the data with them', async () => {
    const [anon, bob] = await Promise.all([session(), session()]);
    expect((await bob.requestSpecial(-4, Op.auth, { type: 0, scheme: 'digest', auth: utf8('bob:pw') })).err).toBe(0);
    expect((await bob.request(Op.create, { path: '/rip-secret', data: utf8('s'), acl: BOB_ONLY, flags: 0 })).err).toBe(0);
    for (const op of [Op.getData, Op.exists] as const) {
      expect((await anon.request(op, { path: '/rip-secret', watch: false })).err).toBe(Err.NOAUTH);
      expect((await bob.request(op, { path: '/rip-secret', watch: false })).err).toBe(0);
    }
  });

  it('serves a path it does not read in place (not printable ASCII) through the decoder', async () => {
    const c = await session();
    expect((await c.request(Op.create, { path: '/rip-é', data: utf8('accent'), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const r = await c.request(Op.getData, { path: '/rip-é', watch: false });
    expect(r.err).toBe(0);
    expect(Buffer.from((r.body as { data: Uint8Array }).data).toString()).toBe('accent');
  });

  it('keeps FIFO order: a read pipelined behind a write of the session sees it', async () => {
    const c = await session();
    expect((await c.request(Op.create, { path: '/rip-fifo', data: utf8('0'), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const pending: Promise<{ err: number; body?: unknown }>[] = [];
    for (let i = 1; i <= 20; i++) {
      pending.push(c.request(Op.setData, { path: '/rip-fifo', data: utf8(String(i)), version: -1 }));
      pending.push(c.request(Op.getData, { path: '/rip-fifo', watch: false }));
    }
    const answers = await Promise.all(pending);
    for (let i = 1; i <= 20; i++) {
      const read = answers[2 * i - 1] as { err: number; body: { data: Uint8Array } };
      expect(read.err).toBe(0);
      expect(Buffer.from(read.body.data).toString()).toBe(String(i));
    }
  });
});
