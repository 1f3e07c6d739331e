// Every client operation against a live server: declared once, run against waitfree (npm test)
// and Apache ZooKeeper 3.8 (npm run test:interop). Each test works in its own namespace, most
// through a chroot, so paths in and out of the client are chroot-relative throughout.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CREATOR_ALL_ACL,
  digestAcl,
  isZooKeeperError,
  MultiError,
  OPEN_ACL_UNSAFE,
  Perms,
  ZooKeeperError,
  type WatchEvent,
} from '../../../src/client/index.js';
import { eventually, nextValue, TestClients, type Target } from '../support/targets.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ZooKeeperError) return e.code;
    throw e;
  }
  throw new Error('expected the call to fail');
}

export interface ServerFeatures {
  /** Standalone check (opcode 13): ZooKeeper 3.9+ and waitfree; 3.8 never answers it. */
  standaloneCheck: boolean;
}

export function defineOpsSuite(label: string, start: () => Promise<Target>, features: ServerFeatures): void {
  describe(`client operations vs ${label}`, () => {
    let target: Target;
    let t: TestClients;
    beforeAll(async () => {
      target = await start();
    });
    afterAll(async () => {
      await target?.stop();
    });
    afterEach(async () => {
      await t?.closeAll();
    });
    const clients = (): TestClients => (t = new TestClients(target, 'ops'));

    it('create / getData / setData / delete with versions, typed errors carrying the code name', async () => {
      const zk = await clients().client();
      expect(await zk.create('/crud', 'v1')).toBe('/crud');
      const err = await zk.create('/crud', 'again').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ZooKeeperError);
      expect(err).toMatchObject({ code: 'NODEEXISTS', errno: -110, path: '/crud', op: 'create' });
      const got = await zk.getData('/crud');
      expect(got.data?.toString()).toBe('v1');
      expect(got.stat.version).toBe(0);
      const s1 = await zk.setData('/crud', 'value-2', 0);
      expect(s1.version).toBe(1);
      expect(s1.dataLength).toBe(7);
      expect(await codeOf(zk.setData('/crud', 'stale', 0))).toBe('BADVERSION');
      expect((await zk.getData('/crud')).data?.toString()).toBe('value-2');
      await zk.create('/crud/child');
      expect(await codeOf(zk.delete('/crud'))).toBe('NOTEMPTY');
      expect(await codeOf(zk.delete('/crud/child', 5))).toBe('BADVERSION');
      await zk.delete('/crud/child', 0);
      await zk.delete('/crud');
      expect(await zk.exists('/crud')).toBeNull();
      expect(await codeOf(zk.getData('/crud'))).toBe('NONODE');
      expect(await codeOf(zk.create('/no/parent'))).toBe('NONODE');
      expect(await codeOf(zk.create('bad-path'))).toBe('BADARGUMENTS');
    });

    it('create2 returns the Stat; null data stays null, empty stays empty', async () => {
      const zk = await clients().client();
      const { path, stat } = await zk.create2('/c2', 'abc');
      expect(path).toBe('/c2');
      expect(stat.dataLength).toBe(3);
      expect(stat.czxid).toBe(stat.mzxid);
      await zk.create('/null');
      await zk.create('/empty', '');
      expect((await zk.getData('/null')).data).toBeNull();
      expect((await zk.getData('/empty')).data?.length ?? -1).toBe(0);
    });

    it('ephemeral nodes belong to the session and go when it closes', async () => {
      const c = clients();
      const owner = await c.client();
      const other = await c.client();
      const { stat } = await owner.create2('/eph', 'x', { mode: 'ephemeral' });
      expect(stat.ephemeralOwner).toBe(owner.sessionId);
      expect(await owner.getEphemerals()).toEqual(['/eph']);
      expect(await codeOf(owner.create('/eph/child'))).toBe('NOCHILDRENFOREPHEMERALS');
      await owner.close();
      expect(owner.state).toBe('closed');
      expect(await other.exists('/eph')).toBeNull();
      expect(await codeOf(owner.getData('/'))).toBe('SESSIONEXPIRED');
    });

    it('sequential nodes get the parent cversion as a 10-digit suffix, in call order', async () => {
      const zk = await clients().client();
      await zk.create('/seq');
      const calls = Array.from({ length: 20 }, () => zk.create('/seq/n-', null, { mode: 'persistentSequential' }));
      const names = await Promise.all(calls);
      expect(names).toEqual(Array.from({ length: 20 }, (_, i) => `/seq/n-${String(i).padStart(10, '0')}`));
      const eph = await zk.create('/seq/e-', null, { mode: 'ephemeralSequential' });
      expect(eph).toBe('/seq/e-0000000020');
    });

    it('getChildren / getChildren2 / getAllChildrenNumber / exists', async () => {
      const zk = await clients().client();
      await zk.mkdirp('/tree/a/deep');
      await zk.create('/tree/b');
      expect((await zk.getChildren('/tree')).sort()).toEqual(['a', 'b']);
      const g2 = await zk.getChildren2('/tree');
      expect(g2.children.sort()).toEqual(['a', 'b']);
      expect(g2.stat.numChildren).toBe(2);
      expect(await zk.getAllChildrenNumber('/tree')).toBe(3);
      expect((await zk.exists('/tree/a'))?.numChildren).toBe(1);
      expect(await zk.exists('/tree/zz')).toBeNull();
      await zk.deleteAll('/tree');
      expect(await zk.exists('/tree')).toBeNull();
    });

    it('containers are reaped after their last child goes; TTL nodes after their TTL', async () => {
      const zk = await clients().client();
      const box = await zk.create2('/box', null, { mode: 'container' });
      // Stat hides the container/TTL owner markers (DataNode.getClientEphemeralOwner): 0.
      expect(box.stat.ephemeralOwner).toBe(0n);
      await zk.create('/box/item');
      await zk.delete('/box/item');
      const ttl = await zk.create2('/ttl', 'x', { ttl_ms: 200 });
      expect(ttl.stat.ephemeralOwner).toBe(0n);
      const seq = await zk.create('/ttl-', null, { mode: 'persistentSequential', ttl_ms: 60_000 });
      expect(seq).toMatch(/^\/ttl-\d{10}$/);
      await eventually('container and TTL node reaped', async () => (await zk.exists('/box')) === null && (await zk.exists('/ttl')) === null, 20_000);
      expect(await zk.exists(seq)).not.toBeNull();
    });

    it('getACL / setACL with versions; digest auth decides who may read; whoAmI names the user', async () => {
      const c = clients();
      const owner = await c.client();
      const stranger = await c.client();
      await owner.addAuth('digest', 'alice:secret');
      expect((await owner.whoAmI()).some((i) => i.authScheme === 'digest' && i.user === 'alice')).toBe(true);
      await owner.create('/private', 'p', { acl: CREATOR_ALL_ACL });
      const { acl, stat } = await owner.getACL('/private');
      expect(acl).toEqual([digestAcl('alice', 'secret')]);
      expect(await codeOf(stranger.getData('/private'))).toBe('NOAUTH');
      expect((await owner.getData('/private')).data?.toString()).toBe('p');
      expect(await codeOf(owner.setACL('/private', OPEN_ACL_UNSAFE, stat.aversion + 1))).toBe('BADVERSION');
      const s2 = await owner.setACL('/private', [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }], stat.aversion);
      expect(s2.aversion).toBe(1);
      expect((await stranger.getData('/private')).data?.toString()).toBe('p');
      expect(await codeOf(stranger.setData('/private', 'no'))).toBe('NOAUTH');
    });

    it('multi applies all ops or none; the builder reports which op failed', async () => {
      const zk = await clients().client();
      await zk.create('/m', 'm0');
      const results = await zk.transaction().create('/m/a', 'A').setData('/m', 'm1', 0).check('/m', 1).delete('/m/a').commit();
      expect(results).toEqual([
        { op: 'create', path: '/m/a' },
        { op: 'setData', stat: expect.objectContaining({ version: 1 }) },
        { op: 'check' },
        { op: 'delete' },
      ]);
      const err = await zk.transaction().create('/m/b').setData('/m', 'x', 99).create('/m/c').commit().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MultiError);
      expect(err).toMatchObject({ code: 'BADVERSION', index: 1, path: '/m' });
      expect((err as MultiError).results.map((r) => r.code)).toEqual(['OK', 'BADVERSION', 'RUNTIMEINCONSISTENCY']);
      expect(await zk.exists('/m/b')).toBeNull();
      expect(await zk.getChildren('/m')).toEqual([]);
    });

    it('multiRead answers each read on its own', async () => {
      const zk = await clients().client();
      await zk.create('/r', 'rr');
      await zk.create('/r/kid');
      const res = await zk.multiRead([
        { op: 'getData', path: '/r' },
        { op: 'getChildren', path: '/r' },
        { op: 'getData', path: '/missing' },
      ]);
      expect(res[0]).toMatchObject({ op: 'getData', stat: { numChildren: 1 } });
      expect((res[0] as { data: Buffer }).data.toString()).toBe('rr');
      expect(res[1]).toEqual({ op: 'getChildren', children: ['kid'] });
      expect(res[2]).toMatchObject({ op: 'error', error: { code: 'NONODE' } });
    });

    it('sync', async () => {
      const zk = await clients().client();
      await zk.create('/s', 'x');
      await zk.sync('/s');
      await zk.sync();
      await zk.sync('/s/missing'); // sync does not look at the node (both servers)
    });

    it.skipIf(!features.standaloneCheck)('check (standalone version check)', async () => {
      const zk = await clients().client();
      await zk.create('/chk', 'x');
      expect((await zk.check('/chk', 0)).version).toBe(0);
      expect(await codeOf(zk.check('/chk', 3))).toBe('BADVERSION');
      expect(await codeOf(zk.check('/chk-missing', -1))).toBe('NONODE');
    });

    it('one-shot watches fire once, as callbacks, and before the new data can be read', async () => {
      const c = clients();
      const zk = await c.client();
      const other = await c.client();
      await zk.create('/w', 'a');
      const data = nextValue<WatchEvent>();
      const exists = nextValue<WatchEvent>();
      const child = nextValue<WatchEvent>();
      await zk.getData('/w', { watch: data.listener });
      expect(await zk.exists('/w/new', { watch: exists.listener })).toBeNull();
      await zk.getChildren('/w', { watch: child.listener });
      await other.setData('/w', 'b');
      // The event is delivered before any reply that could show the new data.
      await eventually('new data visible', async () => (await zk.getData('/w')).data?.toString() === 'b');
      expect(data.got).toEqual([{ type: 'NodeDataChanged', path: '/w', zxid: expect.any(Number) }]);
      await other.create('/w/new');
      expect(await exists.value).toMatchObject({ type: 'NodeCreated', path: '/w/new' });
      expect(await child.value).toMatchObject({ type: 'NodeChildrenChanged', path: '/w' });
      await other.setData('/w', 'c');
      await other.create('/w/new2');
      await zk.sync('/');
      await zk.getData('/w');
      expect(data.got).toHaveLength(1);
      expect(child.got).toHaveLength(1);
    });

    it('persistent watches as callbacks stay after firing; removeWatches ends them with a removal event', async () => {
      const c = clients();
      const zk = await c.client();
      const other = await c.client();
      await zk.create('/p', '0');
      const events: WatchEvent[] = [];
      const listener = (e: WatchEvent) => events.push(e);
      await zk.addWatch('/p', listener);
      expect(await zk.checkWatches('/p', 'any')).toBe(true);
      for (let i = 1; i <= 3; i++) await other.setData('/p', String(i));
      await other.create('/p/kid');
      await eventually('4 events', () => events.length >= 4);
      expect(events.map((e) => e.type)).toEqual(['NodeDataChanged', 'NodeDataChanged', 'NodeDataChanged', 'NodeChildrenChanged']);
      await zk.removeWatches('/p', 'persistent', { listener });
      expect(events[events.length - 1]).toEqual({ type: 'PersistentWatchRemoved', path: '/p', zxid: -1 });
      expect(await zk.checkWatches('/p', 'any')).toBe(false);
      const before = events.length;
      await other.setData('/p', 'after');
      await zk.sync('/');
      await zk.getData('/p');
      expect(events.length).toBe(before);
      expect(await codeOf(zk.removeWatches('/p', 'persistent'))).toBe('NOWATCHER');
    });

    it('persistent recursive watches as async iterators see the whole subtree, never child events', async () => {
      const c = clients();
      const zk = await c.client();
      const other = await c.client();
      await zk.create('/rec');
      const stream = await zk.watch('/rec', { recursive: true });
      await other.create('/rec/a');
      await other.create('/rec/a/b', 'x');
      await other.setData('/rec/a/b', 'y');
      await other.delete('/rec/a/b');
      const seen: string[] = [];
      for await (const ev of stream) {
        seen.push(`${ev.type} ${ev.path}`);
        if (seen.length === 4) break; // leaving the loop removes the watch
      }
      expect(seen).toEqual(['NodeCreated /rec/a', 'NodeCreated /rec/a/b', 'NodeDataChanged /rec/a/b', 'NodeDeleted /rec/a/b']);
      expect(await zk.checkWatches('/rec', 'any')).toBe(false);
    });

    it('removing a persistent watch keeps a one-shot watch on the same path', async () => {
      const c = clients();
      const zk = await c.client();
      const other = await c.client();
      await zk.create('/both', '0');
      const persistent: WatchEvent[] = [];
      const listener = (e: WatchEvent) => persistent.push(e);
      await zk.addWatch('/both', listener);
      const once = nextValue<WatchEvent>();
      await zk.getData('/both', { watch: once.listener });
      await zk.removeWatches('/both', 'persistent', { listener });
      await other.setData('/both', '1');
      expect(await once.value).toMatchObject({ type: 'NodeDataChanged', path: '/both' });
      expect(persistent.map((e) => e.type)).toEqual(['PersistentWatchRemoved']);
    });

    it('removeWatches on a one-shot data watch tells the listener; the server forgets it too', async () => {
      const c = clients();
      const zk = await c.client();
      await zk.create('/rw');
      const got = nextValue<WatchEvent>();
      await zk.getData('/rw', { watch: got.listener });
      expect(await zk.checkWatches('/rw', 'data')).toBe(true);
      await zk.removeWatches('/rw', 'data');
      expect(await got.value).toEqual({ type: 'DataWatchRemoved', path: '/rw', zxid: -1 });
      expect(await zk.checkWatches('/rw', 'data')).toBe(false);
    });

    it('chroot: paths in results, events and ephemeral lists are chroot-relative', async () => {
      const c = clients();
      const zk = await c.client();
      const root = await c.raw();
      const ev = nextValue<WatchEvent>();
      await zk.getChildren('/', { watch: ev.listener });
      const p = await zk.create('/x-', 'v', { mode: 'ephemeralSequential' });
      expect(p).toMatch(/^\/x-\d{10}$/);
      expect(await ev.value).toMatchObject({ type: 'NodeChildrenChanged', path: '/' });
      expect(await zk.getEphemerals('/')).toEqual([p]);
      expect((await root.getData(`${c.ns}${p}`)).data?.toString()).toBe('v');
      const [res] = await zk.transaction().create('/y').commit();
      expect(res).toEqual({ op: 'create', path: '/y' });
      expect(await root.exists(`${c.ns}/y`)).not.toBeNull();
    });

    it('calls made without awaiting reach the server in call order, also through a small outstanding bound', async () => {
      const zk = await clients().client({ maxOutstanding: 3 });
      await zk.create('/fifo');
      const ops: Promise<unknown>[] = [];
      for (let i = 0; i < 30; i++) {
        ops.push(zk.create(`/fifo/n${i}`, String(i)));
        ops.push(zk.setData('/fifo', String(i)));
      }
      const last = zk.getData('/fifo');
      await Promise.all(ops);
      expect((await last).data?.toString()).toBe('29');
      expect((await last).stat.version).toBe(30);
      expect((await zk.getChildren('/fifo')).length).toBe(30);
    });

    it('an aborted call rejects with the signal reason; an already-aborted signal sends nothing', async () => {
      const zk = await clients().client();
      const ac = new AbortController();
      ac.abort(new Error('stop'));
      await expect(zk.create('/never', null, { signal: ac.signal })).rejects.toThrow('stop');
      expect(await zk.exists('/never')).toBeNull();
      expect(isZooKeeperError(new ZooKeeperError(-101), 'NONODE')).toBe(true);
    });
  });
}
