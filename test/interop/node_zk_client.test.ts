// node-zookeeper-client (a third-party pure-JS ZooKeeper client from npm) against each server:
// what an application using that library would notice if the server got something wrong.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { NzkClient, errorCode, long, nzk, recordingWatcher, type NzkAcl } from '../support/nzk.js';
import { serverKindsUnderTest, startServer, waitFor, type RunningServer } from '../support/servers.js';
import { startTcpProxy } from '../support/tcp_proxy.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', zk_missing);

const { CreateMode, Event, Permission } = nzk;

function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

for (const kind of serverKindsUnderTest()) {
  describe.skipIf(kind === 'zookeeper' && zk_missing.length > 0)(`node-zookeeper-client vs ${kind}`, () => {
    let server: RunningServer;
    const clients: NzkClient[] = [];
    const connect = async (opts: Parameters<typeof NzkClient.connect>[1] = {}, at?: string): Promise<NzkClient> => {
      const c = await NzkClient.connect(at ?? server.connectString, opts);
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      // tickTime 500 → session timeouts down to 1 s, so expiry tests stay short.
      server = await startServer(kind, { tickTime_ms: 500 });
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      await server?.stop();
    });

    it('create / getData / setData / getChildren / remove with versions and errors', async () => {
      const c = await connect();
      expect(await c.create('/crud', 'v1')).toBe('/crud');
      expect(await errorCode(c.create('/crud', 'again'))).toBe(Err.NODEEXISTS);
      const got = await c.getData('/crud');
      expect(got.data).toBe('v1');
      expect(got.stat.version).toBe(0);
      expect(got.stat.dataLength).toBe(2);
      expect(long(got.stat.czxid)).toBe(long(got.stat.mzxid));

      const s1 = await c.setData('/crud', 'value-2', 0);
      expect(s1.version).toBe(1);
      expect(s1.dataLength).toBe(7);
      expect(long(s1.mzxid)).toBeGreaterThan(long(s1.czxid));
      expect(await errorCode(c.setData('/crud', 'stale', 0))).toBe(Err.BADVERSION);
      expect((await c.getData('/crud')).data).toBe('value-2');

      await c.create('/crud/b', 'x');
      await c.create('/crud/a', null);
      expect((await c.getChildren('/crud')).sort()).toEqual(['a', 'b']);
      expect((await c.getData('/crud/a')).data).toBeNull();
      expect(await errorCode(c.create('/missing/child', 'x'))).toBe(Err.NONODE);
      expect(await errorCode(c.remove('/crud'))).toBe(Err.NOTEMPTY);
      expect(await errorCode(c.remove('/crud/a', 5))).toBe(Err.BADVERSION);
      await c.remove('/crud/a', 0);
      await c.remove('/crud/b');
      await c.remove('/crud');
      expect(await c.exists('/crud')).toBeNull();
      expect(await errorCode(c.getData('/crud'))).toBe(Err.NONODE);
      expect(await errorCode(c.remove('/crud'))).toBe(Err.NONODE);
    });

    it('an ephemeral node belongs to its session and disappears when the client closes', async () => {
      const owner = await connect();
      const other = await connect();
      await owner.create('/eph-close', 'mine', CreateMode.EPHEMERAL);
      const stat = await other.exists('/eph-close');
      expect(stat).not.toBeNull();
      expect(long(stat!.ephemeralOwner)).toBe(owner.sessionId());
      expect(await errorCode(owner.create('/eph-close/child', 'x'))).toBe(Err.NOCHILDRENFOREPHEMERALS);

      owner.close();
      await waitFor('ephemeral removed after close', async () => (await other.exists('/eph-close')) === null);
    });

    it('an ephemeral node disappears when its session expires (client frozen behind a proxy)', async () => {
      const proxy = await startTcpProxy(server.port);
      try {
        const owner = await connect({ sessionTimeout_ms: 2_000 }, proxy.connectString);
        const observer = await connect();
        await owner.create('/eph-expire', 'x', CreateMode.EPHEMERAL);
        const expired = owner.waitForState('expired', 60_000);
        // The owner's heartbeats no longer reach the server: the server must expire the session.
        proxy.freeze();
        await waitFor('ephemeral removed after expiry', async () => (await observer.exists('/eph-expire')) === null, 60_000);
        // The server closed the frozen connection; the client reconnects and learns it expired.
        await expired;
        expect(proxy.accepted()).toBeGreaterThanOrEqual(2);
      } finally {
        await proxy.close();
      }
    });

    it('sequential nodes get %010d suffixes from the parent counter, never reused', async () => {
      const c = await connect();
      await c.create('/seq', null);
      const names = [
        await c.create('/seq/n-', 'a', CreateMode.PERSISTENT_SEQUENTIAL),
        await c.create('/seq/n-', 'b', CreateMode.PERSISTENT_SEQUENTIAL),
        await c.create('/seq/e-', 'c', CreateMode.EPHEMERAL_SEQUENTIAL),
      ];
      expect(names).toEqual(['/seq/n-0000000000', '/seq/n-0000000001', '/seq/e-0000000002']);
      await c.remove('/seq/n-0000000001');
      expect(await c.create('/seq/n-', 'd', CreateMode.PERSISTENT_SEQUENTIAL)).toBe('/seq/n-0000000003');
      expect((await c.getChildren('/seq')).sort()).toEqual(['e-0000000002', 'n-0000000000', 'n-0000000003']);
    });

    it('data, child and exists watches fire once with the right event types', async () => {
      const watcher_client = await connect();
      const writer = await connect();
      await writer.create('/w', 'v0');

      const data = recordingWatcher();
      await watcher_client.getData('/w', data.fn);
      const children = recordingWatcher();
      await watcher_client.getChildren('/w', children.fn);
      const created = recordingWatcher();
      expect(await watcher_client.exists('/w/later', created.fn)).toBeNull();

      await writer.setData('/w', 'v1');
      await writer.setData('/w', 'v2'); // the data watch is one-shot: no second event
      await writer.create('/w/later', 'x');
      await writer.create('/w/other', 'x'); // the child watch is one-shot too
      // A client sees a watch event before any later reply; this read orders us after them all.
      await watcher_client.getData('/w');
      expect(data.events).toEqual([{ type: Event.NODE_DATA_CHANGED, name: 'NODE_DATA_CHANGED', path: '/w' }]);
      expect(children.events).toEqual([{ type: Event.NODE_CHILDREN_CHANGED, name: 'NODE_CHILDREN_CHANGED', path: '/w' }]);
      expect(created.events).toEqual([{ type: Event.NODE_CREATED, name: 'NODE_CREATED', path: '/w/later' }]);

      const deleted = recordingWatcher();
      await watcher_client.getData('/w/later', deleted.fn);
      await writer.remove('/w/later');
      await watcher_client.exists('/w');
      expect(deleted.events).toEqual([{ type: Event.NODE_DELETED, name: 'NODE_DELETED', path: '/w/later' }]);
    });

    it('multi commits all ops or none, with per-op results', async () => {
      const c = await connect();
      const ok = await c.multi((t) => t.create('/m', Buffer.from('a')).create('/m/c', Buffer.from('b')).setData('/m', Buffer.from('z'), 0).check('/m', 1));
      expect(ok.code).toBe(0);
      expect(ok.results.map((r) => r.type)).toEqual([1, 1, 5, 13]);
      expect(ok.results[0].path).toBe('/m');
      expect(ok.results[2].stat?.version).toBe(1);
      expect((await c.getData('/m')).data).toBe('z');

      // (The library turns a version of 0 into -1 = "any", so the stale version here is 7.)
      const bad = await c.multi((t) => t.create('/m2', Buffer.from('a')).setData('/m', Buffer.from('q'), 7).remove('/m/c', -1));
      expect(bad.code).toBe(Err.BADVERSION);
      expect(bad.results).toEqual([
        { type: -1, err: Err.OK },
        { type: -1, err: Err.BADVERSION },
        { type: -1, err: Err.RUNTIMEINCONSISTENCY },
      ]);
      expect(await c.exists('/m2')).toBeNull();
      expect(await c.exists('/m/c')).not.toBeNull();
      expect((await c.getData('/m')).data).toBe('z');
    });

    it('digest auth: the ACL owner reads, others get NO_AUTH', async () => {
      const alice = await connect({ auth: [['digest', 'alice:secret']] });
      const anon = await connect();
      const wrong = await connect({ auth: [['digest', 'alice:wrong']] });
      const acl: NzkAcl[] = [new nzk.ACL(Permission.ALL, new nzk.Id('digest', digestId('alice', 'secret')))];
      await alice.create('/secure', 'classified', CreateMode.PERSISTENT, acl);
      expect((await alice.getData('/secure')).data).toBe('classified');
      expect(await errorCode(anon.getData('/secure'))).toBe(Err.NOAUTH);
      expect(await errorCode(anon.setData('/secure', 'x'))).toBe(Err.NOAUTH);
      expect(await errorCode(wrong.getData('/secure'))).toBe(Err.NOAUTH);
      expect(await errorCode(anon.create('/secure/child', 'x'))).toBe(Err.NOAUTH);

      const { acls, stat } = await alice.getACL('/secure');
      expect(acls).toEqual([{ permission: Permission.ALL, id: { scheme: 'digest', id: digestId('alice', 'secret') } }]);
      expect(stat.aversion).toBe(0);

      // "auth" ACL = the creator's authenticated ids; addAuthInfo after connect works too.
      const bob = await connect();
      bob.addAuth('digest', 'bob:pw');
      await bob.create('/bobs', 'b', CreateMode.PERSISTENT, [new nzk.ACL(Permission.ALL, new nzk.Id('auth', ''))]);
      expect((await bob.getACL('/bobs')).acls[0].id).toEqual({ scheme: 'digest', id: digestId('bob', 'pw') });
      expect(await errorCode(anon.getData('/bobs'))).toBe(Err.NOAUTH);

      // setACL with a stale aversion fails; with the right one it opens the node.
      const open = [new nzk.ACL(Permission.READ, new nzk.Id('world', 'anyone'))];
      expect(await errorCode(alice.setACL('/secure', open, 3))).toBe(Err.BADVERSION);
      expect((await alice.setACL('/secure', open, 0)).aversion).toBe(1);
      expect((await anon.getData('/secure')).data).toBe('classified');
      expect(await errorCode(anon.setData('/secure', 'x'))).toBe(Err.NOAUTH);
    });

    it('an unknown auth scheme fails the session with AUTH_FAILED', async () => {
      const raw = nzk.createClient(server.connectString, { sessionTimeout: 10_000, spinDelay: 100 });
      raw.addAuthInfo('nosuchscheme', Buffer.from('x'));
      const failed = new Promise<void>((resolve) => raw.once('authenticationFailed', () => resolve()));
      raw.connect();
      await failed;
      raw.close();
    });
  });
}
