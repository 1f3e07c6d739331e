import { describe, expect, it } from 'vitest';
import { CONTAINER_EPHEMERAL_OWNER, EventType, Perms } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { DataTree } from '../../src/tree/data_tree.js';
import { ttlOwner } from '../../src/tree/znode.js';
import { dec, enc, Harness, open } from './harness.js';

const S1 = 0x1111n;
const S2 = 0x2222n;

describe('DataTree: a fresh tree', () => {
  it('has /, /zookeeper, /zookeeper/quota and /zookeeper/config like a standalone ZooKeeper', () => {
    const tree = new DataTree();
    expect(tree.getChildren('/')).toEqual(['zookeeper']);
    expect(tree.getChildren('/zookeeper')).toEqual(['config', 'quota']);
    expect(tree.getChildren('/zookeeper/config')).toEqual([]);
    expect(tree.node_count).toBe(4);
    expect(tree.approximate_data_size).toBe('/'.length + '/zookeeper'.length + '/zookeeper/quota'.length + '/zookeeper/config'.length);
    expect(tree.ephemerals_count).toBe(0);
    expect(tree.last_zxid).toBe(0);
    expect(tree.get('/zookeeper/config')!.data).toEqual(new Uint8Array(0));
  });

  it('reports the v3 cversion of system nodes (stored 0, so 0*2 - numChildren)', () => {
    const tree = new DataTree();
    expect(tree.stat('/zookeeper')).toMatchObject({ cversion: -2, numChildren: 2, czxid: 0, pzxid: 0, version: 0 });
    expect(tree.stat('/')).toMatchObject({ cversion: -1, numChildren: 1 });
  });

  it('makes /zookeeper/config read-only for everyone and the rest open', () => {
    const tree = new DataTree();
    expect(tree.get('/zookeeper/config')!.acl).toEqual([{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }]);
    expect(tree.get('/zookeeper')!.acl).toEqual(open());
    expect(tree.get('/')!.acl).toEqual(open());
  });
});

describe('DataTree.apply: stats after each op', () => {
  it('create sets the new node stat from the txn and moves the parent cversion/pzxid', () => {
    const h = new Harness();
    const { result } = h.create('/a', 'hello');
    expect(result.err).toBe(0);
    expect(result.path).toBe('/a');
    const t = h.time_ms;
    expect(result.stat).toEqual({
      czxid: 1, mzxid: 1, pzxid: 1, ctime: t, mtime: t, version: 0, cversion: 0, aversion: 0,
      ephemeralOwner: 0n, dataLength: 5, numChildren: 0,
    });
    const root = h.tree.get('/')!;
    expect(root.cversion).toBe(1);
    expect(root.pzxid).toBe(1);
    expect(h.tree.stat('/')!.cversion).toBe(0); // 1*2 - 2 children
    expect(result.events).toEqual([
      { type: EventType.NodeCreated, path: '/a', acl: open() },
      { type: EventType.NodeChildrenChanged, path: '/', acl: open() },
    ]);
  });

  it('delete moves the parent pzxid but not its stored cversion; clients see creates + deletes', () => {
    const h = new Harness();
    h.create('/a');
    h.create('/a/b');
    const { result } = h.write(Op.delete, { path: '/a/b', version: -1 });
    expect(result).toMatchObject({ err: 0, path: '/a/b' });
    const a = h.tree.get('/a')!;
    expect(a.cversion).toBe(1);
    expect(a.pzxid).toBe(3);
    expect(h.tree.stat('/a')).toMatchObject({ cversion: 2, numChildren: 0, pzxid: 3, mzxid: 1 });
    expect(result.events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeDeleted, '/a/b'],
      [EventType.NodeChildrenChanged, '/a'],
    ]);
    expect(h.tree.has('/a/b')).toBe(false);
  });

  it('setData bumps version, mzxid, mtime and dataLength but not czxid/ctime', () => {
    const h = new Harness();
    h.create('/a', 'x');
    const created = h.tree.stat('/a')!;
    const { result } = h.write(Op.setData, { path: '/a', data: enc('longer'), version: 0 });
    expect(result.stat).toMatchObject({ version: 1, mzxid: 2, mtime: h.time_ms, czxid: 1, ctime: created.ctime, dataLength: 6 });
    expect(dec(h.tree.get('/a')!.data)).toBe('longer');
    expect(result.events).toEqual([{ type: EventType.NodeDataChanged, path: '/a', acl: open() }]);
  });

  it('setACL bumps aversion only and triggers nothing', () => {
    const h = new Harness();
    h.create('/a');
    const acl = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];
    const { result } = h.write(Op.setACL, { path: '/a', acl, version: -1 });
    expect(result.stat).toMatchObject({ aversion: 1, version: 0, mzxid: 1 });
    expect(result.events).toEqual([]);
    expect(h.tree.get('/a')!.acl).toEqual(acl);
  });

  it('keeps null data null (getData of a node created with a null buffer returns null)', () => {
    const h = new Harness();
    h.create('/n', null);
    expect(h.tree.get('/n')!.data).toBeNull();
    expect(h.tree.stat('/n')!.dataLength).toBe(0);
  });

  it('sets last_zxid for every txn, error txns included, and leaves the tree alone on error', () => {
    const h = new Harness();
    h.create('/a');
    const before = h.tree.digest();
    const { result } = h.commit({ kind: 'error', err: Err.NONODE });
    expect(result).toEqual({ err: Err.NONODE, events: [] });
    expect(h.tree.last_zxid).toBe(2);
    expect(h.tree.digest()).toBe(before);
  });

  it('refuses to go back in zxid', () => {
    const h = new Harness();
    h.create('/a');
    expect(() => h.tree.apply({ header: { session_id: 0n, cxid: 0, zxid: 0, time_ms: 0 }, op: { kind: 'error', err: 0 } })).toThrow();
  });

  it('tracks approximate_data_size as path length + data length', () => {
    const h = new Harness();
    const base = h.tree.approximate_data_size;
    h.create('/abc', '12345');
    expect(h.tree.approximate_data_size).toBe(base + 4 + 5);
    h.write(Op.setData, { path: '/abc', data: enc('1'), version: -1 });
    expect(h.tree.approximate_data_size).toBe(base + 4 + 1);
    h.write(Op.delete, { path: '/abc', version: -1 });
    expect(h.tree.approximate_data_size).toBe(base);
  });
});

describe('DataTree: indexes', () => {
  it('indexes ephemerals by session and closeSession deletes exactly them', () => {
    const h = new Harness();
    h.create('/app');
    h.create('/app/e1', '', 1, { session_id: S1 });
    h.create('/app/e2', '', 3, { session_id: S1 });
    h.create('/app/other', '', 1, { session_id: S2 });
    expect(h.tree.ephemerals(S1)).toEqual(['/app/e1', '/app/e20000000001']);
    expect(h.tree.ephemerals_count).toBe(3);
    const { op, result } = h.write(Op.closeSession, null, { session_id: S1 });
    expect(op).toEqual({ kind: 'closeSession', paths: ['/app/e1', '/app/e20000000001'] });
    expect(result.events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeDeleted, '/app/e1'],
      [EventType.NodeChildrenChanged, '/app'],
      [EventType.NodeDeleted, '/app/e20000000001'],
      [EventType.NodeChildrenChanged, '/app'],
    ]);
    expect(h.tree.getChildren('/app')).toEqual(['other']);
    expect(h.tree.ephemerals(S1)).toEqual([]);
    expect(h.tree.ephemerals(S2)).toEqual(['/app/other']);
    expect(h.tree.sessions()).toEqual([S2]);
    expect(h.tree.ephemerals_count).toBe(1);
    expect(h.tree.get('/app')!.pzxid).toBe(h.zxid);
  });

  it('closeSession skips listed paths that are already gone', () => {
    const h = new Harness();
    h.create('/e', '', 1, { session_id: S1 });
    const { result } = h.commit({ kind: 'closeSession', paths: ['/gone', '/e'] }, S1);
    expect(result.err).toBe(0);
    expect(h.tree.has('/e')).toBe(false);
  });

  it('indexes containers and TTL nodes; clients see ephemeralOwner 0 for them', () => {
    const h = new Harness();
    h.write(Op.createContainer, { path: '/c', data: null, acl: open(), flags: 4 });
    h.write(Op.createTTL, { path: '/t', data: null, acl: open(), flags: 5, ttl: 5000 });
    expect([...h.tree.containers()]).toEqual(['/c']);
    expect([...h.tree.ttls()]).toEqual(['/t']);
    expect(h.tree.get('/c')!.ephemeralOwner).toBe(CONTAINER_EPHEMERAL_OWNER);
    expect(h.tree.get('/t')!.ephemeralOwner).toBe(ttlOwner(5000));
    expect(h.tree.stat('/c')!.ephemeralOwner).toBe(0n);
    expect(h.tree.stat('/t')!.ephemeralOwner).toBe(0n);
    h.write(Op.delete, { path: '/c', version: -1 });
    h.write(Op.delete, { path: '/t', version: -1 });
    expect(h.tree.containers().size + h.tree.ttls().size).toBe(0);
  });

  it('getAllChildrenNumber counts all descendants; for / every node but the root', () => {
    const h = new Harness();
    h.create('/a');
    h.create('/a/b');
    h.create('/a/b/c');
    h.create('/a/d');
    expect(h.tree.getAllChildrenNumber('/a')).toBe(3);
    expect(h.tree.getAllChildrenNumber('/a/b/c')).toBe(0);
    expect(h.tree.getAllChildrenNumber('/')).toBe(h.tree.node_count - 1);
    expect(h.tree.getAllChildrenNumber('/missing')).toBe(0);
  });

  it('getEphemerals matches the prefix as a string, and blank or / means all', () => {
    const h = new Harness();
    h.create('/a', '', 1, { session_id: S1 });
    h.create('/ab', '', 1, { session_id: S1 });
    h.create('/b', '', 1, { session_id: S1 });
    expect(h.tree.getEphemerals(S1, '/a')).toEqual(['/a', '/ab']);
    expect(h.tree.getEphemerals(S1, '  ')).toEqual(['/a', '/ab', '/b']);
    expect(h.tree.getEphemerals(S1, ' / ')).toEqual(['/a', '/ab', '/b']);
    expect(h.tree.getEphemerals(S1, '/c')).toEqual([]);
    expect(h.tree.getEphemerals(S2, '/')).toEqual([]);
  });
});

describe('DataTree.digest', () => {
  it('is equal for two trees fed the same txns and changes with any change', () => {
    const h = new Harness();
    h.create('/a', 'x');
    h.create('/a/s', 'y', 2);
    h.create('/e', 'z', 1, { session_id: S1 });
    h.write(Op.setData, { path: '/a', data: enc('x2'), version: -1 });
    const copy = new DataTree();
    for (const txn of h.log) copy.apply(txn);
    expect(copy.digest()).toBe(h.tree.digest());
    expect(copy.last_zxid).toBe(h.tree.last_zxid);
    const before = copy.digest();
    copy.apply({ header: { session_id: 0n, cxid: 0, zxid: 99, time_ms: 0 }, op: { kind: 'setACL', path: '/a', acl: open(), version: 1 } });
    expect(copy.digest()).not.toBe(before);
  });
});

describe('DataTree.apply: multi', () => {
  it('applies every op under one zxid and returns per-op results in reply shape', () => {
    const h = new Harness();
    h.create('/x', 'old');
    const { result } = h.write(Op.multi, [
      { type: 1, request: { path: '/m', data: null, acl: open(), flags: 0 } },
      { type: 15, request: { path: '/m/c', data: enc('c'), acl: open(), flags: 0 } },
      { type: 5, request: { path: '/x', data: enc('new'), version: 0 } },
      { type: 13, request: { path: '/x', version: 1 } },
      { type: 2, request: { path: '/x', version: 1 } },
    ]);
    expect(result.err).toBe(0);
    // create2 inside a multi answers like create: the path only (ZooKeeper 3.8/3.9).
    expect(result.multi!.map((r) => r.type)).toEqual([1, 1, 5, 13, 2]);
    expect(result.multi![0]).toEqual({ type: 1, response: { path: '/m' } });
    expect(result.multi![1]).toEqual({ type: 1, response: { path: '/m/c' } });
    expect(result.multi![2]).toMatchObject({ type: 5, response: { stat: { version: 1, mzxid: 2 } } });
    expect(h.tree.get('/m')!.czxid).toBe(2);
    expect(h.tree.has('/x')).toBe(false);
    expect(result.events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeCreated, '/m'], [EventType.NodeChildrenChanged, '/'],
      [EventType.NodeCreated, '/m/c'], [EventType.NodeChildrenChanged, '/m'],
      [EventType.NodeDataChanged, '/x'],
      [EventType.NodeDeleted, '/x'], [EventType.NodeChildrenChanged, '/'],
    ]);
  });

  it('createContainer and createTTL inside a multi reply as type 15 (CreateResult with a Stat)', () => {
    const h = new Harness();
    const { result } = h.write(Op.multi, [
      { type: 19, request: { path: '/c', data: null, acl: open(), flags: 4 } },
      { type: 21, request: { path: '/t', data: null, acl: open(), flags: 5, ttl: 10 } },
    ]);
    expect(result.multi!.map((r) => r.type)).toEqual([15, 15]);
  });

  it('a multi txn holding an error op applies nothing: 0 before it, -2 after it', () => {
    const h = new Harness();
    const before = h.tree.digest();
    const { result } = h.commit({
      kind: 'multi',
      ops: [
        { kind: 'create', path: '/q', data: null, acl: open(), ephemeral_owner: 0n, parent_cversion: 1, opcode: 1 },
        { kind: 'error', err: Err.BADVERSION },
        { kind: 'delete', path: '/zookeeper/quota', opcode: 2 },
      ],
    });
    expect(result.err).toBe(0);
    expect(result.multi).toEqual([
      { type: -1, response: { err: 0 } },
      { type: -1, response: { err: Err.BADVERSION } },
      { type: -1, response: { err: Err.RUNTIMEINCONSISTENCY } },
    ]);
    expect(result.events).toEqual([]);
    expect(h.tree.digest()).toBe(before);
  });
});
