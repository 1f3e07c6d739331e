// Watch events are filtered by READ permission on the node they are about, as ZooKeeper does:
// the commit worker ships each trigger with the node's ACL unless anyone may read it, and every
// shard checks its watchers' auth against it. A session without READ hears nothing of a
// protected node; one authenticated for it, and anyone watching an open parent, do.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Perms } from '../../src/protocol/constants.js';
import { digestId } from '../../src/tree/acl.js';
import type { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, connect, startTestServer, type TestServer } from './harness.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const BOB_ONLY = [{ perms: Perms.ALL, id: { scheme: 'digest', id: digestId('bob:pw') } }];

function events(c: WireClient): { type: number; path: string }[] {
  return c.received.flatMap((r) => (r.kind === 'notification' ? [{ type: r.event.type, path: r.event.path }] : []));
}

describe('watch events and ACLs', () => {
  let server: TestServer;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2 });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('a watcher without READ on the node gets no event; one with READ does; the open parent fires for both', async () => {
    const [anon, bob, writer] = await Promise.all([connect(server.port), connect(server.port), connect(server.port)]);
    clients.push(anon, bob, writer);
    expect((await bob.requestSpecial(-4, 100, { type: 0, scheme: 'digest', auth: utf8('bob:pw') })).err).toBe(0);
    expect((await writer.request(1, { path: '/wacl', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    for (const c of [anon, bob]) {
      expect((await c.request(3, { path: '/wacl/secret', watch: true })).err).toBe(-101); // exist watch
      expect((await c.request(8, { path: '/wacl', watch: true })).err).toBe(0); // child watch
    }
    expect((await writer.request(1, { path: '/wacl/secret', data: utf8('s'), acl: BOB_ONLY, flags: 0 })).err).toBe(0);
    // Both sessions sync afterwards: a reply behind the event means the event would have come first.
    for (const c of [anon, bob]) expect((await c.request(9, { path: '/wacl' })).err).toBe(0);
    expect(events(bob)).toEqual([
      { type: 1, path: '/wacl/secret' }, // NodeCreated
      { type: 4, path: '/wacl' }, // NodeChildrenChanged
    ]);
    expect(events(anon)).toEqual([{ type: 4, path: '/wacl' }]);
  });
});
