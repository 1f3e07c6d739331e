import { describe, expect, it } from 'vitest';
import { CONTAINER_EPHEMERAL_OWNER, Perms, TTL_MAX_MS } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ACL, MultiOp } from '../../src/protocol/types.js';
import { digestId } from '../../src/tree/acl.js';
import { sequenceSuffix } from '../../src/tree/path_rules.js';
import { ttlOwner } from '../../src/tree/znode.js';
import { enc, Harness, open } from './harness.js';

const S1 = 0x1111n;
const world = (perms: number): ACL[] => [{ perms, id: { scheme: 'world', id: 'anyone' } }];
const ALICE = { scheme: 'digest', id: digestId('alice:pw') };
const alice_caller = { auth: [{ scheme: 'ip', id: '10.1.2.3' }, ALICE] };

function errOf(h: Harness, opcode: number, request: Parameters<Harness['write']>[1], caller = {}): number {
  const { op } = h.write(opcode, request, caller);
  return op.kind === 'error' ? op.err : 0;
}

function create(path: string, flags = 0, acl: ACL[] = open()) {
  return { path, data: null, acl, flags };
}

describe('prep create: modes and TTL', () => {
  it('rejects unknown flags with BADARGUMENTS', () => {
    const h = new Harness();
    expect(errOf(h, Op.create, create('/a', 7))).toBe(Err.BADARGUMENTS);
    expect(errOf(h, Op.create, create('/a', -1))).toBe(Err.BADARGUMENTS);
  });

  it('answers UNIMPLEMENTED for TTL nodes when TTL is disabled, before looking at the ttl', () => {
    const h = new Harness();
    const req = { ...create('/t', 5), ttl: 0 };
    expect(errOf(h, Op.createTTL, req, { ttl_enabled: false })).toBe(Err.UNIMPLEMENTED);
    expect(errOf(h, Op.createTTL, req, { ttl_enabled: true })).toBe(Err.BADARGUMENTS);
  });

  it('accepts 0 < ttl <= TTL_MAX_MS and encodes it in ephemeralOwner', () => {
    const h = new Harness();
    expect(errOf(h, Op.createTTL, { ...create('/t', 5), ttl: TTL_MAX_MS + 1 })).toBe(Err.BADARGUMENTS);
    const { op } = h.write(Op.createTTL, { ...create('/t', 5), ttl: TTL_MAX_MS });
    expect(op).toMatchObject({ kind: 'create', path: '/t', ephemeral_owner: ttlOwner(TTL_MAX_MS), opcode: 21 });
    const seq = h.write(Op.createTTL, { ...create('/t/s-', 6), ttl: 1 });
    expect(seq.op).toMatchObject({ kind: 'create', path: '/t/s-0000000000' });
  });

  it('takes the mode from the flags, as ZooKeeper does; TTL modes and createTTL must agree', () => {
    const h = new Harness();
    expect(errOf(h, Op.create, create('/a', 5))).toBe(Err.BADARGUMENTS); // TTL mode without a ttl
    expect(errOf(h, Op.createTTL, { ...create('/a', 0), ttl: 100 })).toBe(Err.BADARGUMENTS);
    // ZooKeeper accepts this one and then fails to apply it; we refuse it up front.
    expect(errOf(h, Op.createTTL, { ...create('/a', 0), ttl: -1 })).toBe(Err.BADARGUMENTS);
    // createContainer with flags 0 makes a persistent node; create2 with flags 4 a container.
    expect(h.write(Op.createContainer, create('/p', 0)).op).toMatchObject({ kind: 'create', ephemeral_owner: 0n });
    expect(h.write(Op.create2, create('/c', 4)).op).toMatchObject({ kind: 'create', ephemeral_owner: CONTAINER_EPHEMERAL_OWNER });
  });

  it('gives each mode its ephemeralOwner', () => {
    const h = new Harness();
    expect(h.write(Op.create, create('/p', 0)).op).toMatchObject({ ephemeral_owner: 0n });
    expect(h.write(Op.create, create('/e', 1), { session_id: S1 }).op).toMatchObject({ ephemeral_owner: S1 });
    expect(h.write(Op.createContainer, create('/c', 4)).op).toMatchObject({ ephemeral_owner: CONTAINER_EPHEMERAL_OWNER });
  });
});

describe('prep create: paths, ACLs and the order of checks', () => {
  it('rejects a path without / or with NUL before anything else', () => {
    const h = new Harness();
    expect(errOf(h, Op.create, create('a', 0, []))).toBe(Err.BADARGUMENTS);
    expect(errOf(h, Op.create, create('/a\u0000b'))).toBe(Err.BADARGUMENTS);
  });

  it('checks the ACL (INVALIDACL) before the parent (NONODE)', () => {
    const h = new Harness();
    expect(errOf(h, Op.create, create('/missing/x', 0, []))).toBe(Err.INVALIDACL);
    expect(errOf(h, Op.create, create('/missing/x'))).toBe(Err.NONODE);
  });

  it('finds the parent before validating the whole path (ZooKeeper order)', () => {
    const h = new Harness();
    h.create('/a');
    expect(errOf(h, Op.create, create('/a//b'))).toBe(Err.NONODE); // parent '/a/' does not exist
    expect(errOf(h, Op.create, create('/a/'))).toBe(Err.BADARGUMENTS);
    expect(errOf(h, Op.create, create('/a/.'))).toBe(Err.BADARGUMENTS);
    expect(errOf(h, Op.create, create('/a/\u0001'))).toBe(Err.BADARGUMENTS);
    // A sequential create of '/a/' is valid: the suffix makes the last segment.
    expect(h.write(Op.create, create('/a/', 2)).op).toMatchObject({ kind: 'create', path: '/a/0000000000' });
  });

  it('needs CREATE on the parent (NOAUTH), checked before NODEEXISTS; super passes', () => {
    const h = new Harness();
    h.create('/ro', '', 0, {}, world(Perms.READ | Perms.DELETE));
    h.create('/ro/x', '', 0, { is_super: true });
    expect(errOf(h, Op.create, create('/ro/x'))).toBe(Err.NOAUTH);
    expect(errOf(h, Op.create, create('/ro/x'), { is_super: true })).toBe(Err.NODEEXISTS);
    expect(errOf(h, Op.create, create('/ro/y'), { is_super: true })).toBe(0);
  });

  it('answers NODEEXISTS for an existing node and for the root', () => {
    const h = new Harness();
    h.create('/a');
    expect(errOf(h, Op.create, create('/a'))).toBe(Err.NODEEXISTS);
    expect(errOf(h, Op.create, create('/'))).toBe(Err.NODEEXISTS);
  });

  it('refuses children of ephemerals but allows children of containers and TTL nodes', () => {
    const h = new Harness();
    h.create('/e', '', 1, { session_id: S1 });
    expect(errOf(h, Op.create, create('/e/x'))).toBe(Err.NOCHILDRENFOREPHEMERALS);
    h.write(Op.createContainer, create('/c', 4));
    expect(errOf(h, Op.create, create('/c/x'))).toBe(0);
    h.write(Op.createTTL, { ...create('/t', 5), ttl: 1000 });
    expect(errOf(h, Op.create, create('/t/x'))).toBe(0);
  });

  it('validates ACL entries: schemes, ids, world:anyone only, auth needs an authenticated id', () => {
    const h = new Harness();
    const bad: ACL[][] = [
      [],
      [{ perms: 31, id: { scheme: 'world', id: 'nobody' } }],
      [{ perms: 31, id: { scheme: 'digest', id: 'alice' } }],
      [{ perms: 31, id: { scheme: 'ip', id: '300.1.1.1' } }],
      [{ perms: 31, id: { scheme: 'ip', id: '10.0.0.0/33' } }],
      [{ perms: 31, id: { scheme: 'x509', id: 'alice' } }],
      [{ perms: 31, id: { scheme: 'sasl', id: 'alice@R@S' } }],
      [{ perms: 31, id: { scheme: 'super', id: '' } }],
      [{ perms: 31, id: { scheme: 'auth', id: '' } }], // caller has only an ip id
    ];
    for (const acl of bad) expect(errOf(h, Op.create, create('/a', 0, acl)), JSON.stringify(acl)).toBe(Err.INVALIDACL);
    expect(errOf(h, Op.create, create('/a', 0, [{ perms: 1, id: { scheme: 'ip', id: '10.0.0.0/8' } }]))).toBe(0);
    expect(errOf(h, Op.create, create('/b', 0, [{ perms: 1, id: { scheme: 'sasl', id: 'alice' } }]))).toBe(0);
    expect(errOf(h, Op.create, create('/c', 0, [{ perms: 1, id: { scheme: 'x509', id: 'CN=alice' } }]))).toBe(0);
  });

  it('expands auth into the caller digest ids and drops duplicate entries', () => {
    const h = new Harness();
    const acl: ACL[] = [
      { perms: 31, id: { scheme: 'auth', id: 'ignored' } },
      { perms: 1, id: { scheme: 'world', id: 'anyone' } },
      { perms: 1, id: { scheme: 'world', id: 'anyone' } },
    ];
    const { op } = h.write(Op.create, create('/a', 0, acl), alice_caller);
    expect(op).toMatchObject({ acl: [{ perms: 31, id: ALICE }, { perms: 1, id: { scheme: 'world', id: 'anyone' } }] });
  });
});

describe('prep create: sequential names', () => {
  it('numbers children from the parent cversion; deletes do not reset it; all creates count', () => {
    const h = new Harness();
    h.create('/q');
    const names: string[] = [];
    for (let i = 0; i < 3; i++) names.push(h.create('/q/n-', '', 2).result.path!);
    expect(names).toEqual(['/q/n-0000000000', '/q/n-0000000001', '/q/n-0000000002']);
    h.write(Op.delete, { path: '/q/n-0000000002', version: -1 });
    h.create('/q/plain');
    expect(h.create('/q/n-', '', 2).result.path).toBe('/q/n-0000000004');
  });

  it('formats like Java %010d, negatives after int32 wrap included', () => {
    expect(sequenceSuffix(0)).toBe('0000000000');
    expect(sequenceSuffix(2147483647)).toBe('2147483647');
    expect(sequenceSuffix(-1)).toBe('-000000001');
    expect(sequenceSuffix(-2147483648)).toBe('-2147483648');
    const h = new Harness();
    h.create('/q');
    h.tree.get('/q')!.cversion = 2147483647; // as if 2^31-1 children had been created
    const first = h.create('/q/n-', '', 2);
    expect(first.result.path).toBe('/q/n-2147483647');
    expect(first.op).toMatchObject({ parent_cversion: -2147483648 });
    expect(h.create('/q/n-', '', 2).result.path).toBe('/q/n--2147483648');
    expect(h.create('/q/n-', '', 2).result.path).toBe('/q/n--2147483647');
  });
});

describe('prep delete', () => {
  it('refuses ZooKeeper system paths and paths without / (BADARGUMENTS)', () => {
    const h = new Harness();
    for (const path of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config', 'a']) {
      expect(errOf(h, Op.delete, { path, version: -1 }), path).toBe(Err.BADARGUMENTS);
    }
  });

  it('checks parent, DELETE on parent, node, version, children in that order', () => {
    const h = new Harness();
    h.create('/locked', '', 0, {}, world(Perms.ALL & ~Perms.DELETE));
    h.create('/locked/x');
    h.create('/a');
    h.create('/a/b');
    expect(errOf(h, Op.delete, { path: '/nope/x', version: -1 })).toBe(Err.NONODE);
    expect(errOf(h, Op.delete, { path: '/locked/missing', version: -1 })).toBe(Err.NOAUTH);
    expect(errOf(h, Op.delete, { path: '/locked/x', version: -1 })).toBe(Err.NOAUTH);
    expect(errOf(h, Op.delete, { path: '/a/missing', version: -1 })).toBe(Err.NONODE);
    expect(errOf(h, Op.delete, { path: '/a', version: 5 })).toBe(Err.BADVERSION);
    expect(errOf(h, Op.delete, { path: '/a', version: 0 })).toBe(Err.NOTEMPTY);
    expect(errOf(h, Op.delete, { path: '/a/b', version: 0 })).toBe(0);
    expect(errOf(h, Op.delete, { path: '/a', version: -1 })).toBe(0);
  });
});

describe('prep setData', () => {
  it('checks path, node, WRITE, version', () => {
    const h = new Harness();
    h.create('/ro', '', 0, {}, world(Perms.READ));
    h.create('/a');
    const set = (path: string, version: number) => ({ path, data: enc('v'), version });
    expect(errOf(h, Op.setData, set('/a/', -1))).toBe(Err.BADARGUMENTS);
    expect(errOf(h, Op.setData, set('/nope', -1))).toBe(Err.NONODE);
    expect(errOf(h, Op.setData, set('/ro', 7))).toBe(Err.NOAUTH);
    expect(errOf(h, Op.setData, set('/a', 7))).toBe(Err.BADVERSION);
    expect(h.write(Op.setData, set('/a', 0)).op).toMatchObject({ kind: 'setData', version: 1 });
    expect(h.write(Op.setData, set('/a', -1)).op).toMatchObject({ kind: 'setData', version: 2 });
  });

  it('follows the ACLs of ZooKeeper own nodes: /zookeeper writable, /zookeeper/config not', () => {
    const h = new Harness();
    expect(errOf(h, Op.setData, { path: '/zookeeper/config', data: null, version: -1 })).toBe(Err.NOAUTH);
    expect(errOf(h, Op.setData, { path: '/zookeeper', data: null, version: -1 })).toBe(0);
    expect(errOf(h, Op.create, create('/zookeeper/mine'))).toBe(0);
    expect(errOf(h, Op.create, create('/zookeeper/config/x'))).toBe(Err.NOAUTH);
  });

  it('wraps the version like a Java int', () => {
    const h = new Harness();
    h.create('/a');
    h.tree.get('/a')!.version = 2147483647;
    expect(h.write(Op.setData, { path: '/a', data: null, version: 2147483647 }).op).toMatchObject({ version: -2147483648 });
  });
});

describe('prep setACL and check', () => {
  it('setACL checks path, ACL, node, ADMIN, aversion', () => {
    const h = new Harness();
    h.create('/noadmin', '', 0, {}, world(Perms.ALL & ~Perms.ADMIN));
    h.create('/a');
    const set = (path: string, acl: ACL[], version = -1) => ({ path, acl, version });
    expect(errOf(h, Op.setACL, set('bad', []))).toBe(Err.BADARGUMENTS);
    expect(errOf(h, Op.setACL, set('/nope', []))).toBe(Err.INVALIDACL);
    expect(errOf(h, Op.setACL, set('/nope', open()))).toBe(Err.NONODE);
    expect(errOf(h, Op.setACL, set('/noadmin', open(), 9))).toBe(Err.NOAUTH);
    expect(errOf(h, Op.setACL, set('/a', open(), 9))).toBe(Err.BADVERSION);
    expect(h.write(Op.setACL, set('/a', world(Perms.READ), 0)).op).toMatchObject({ kind: 'setACL', version: 1 });
    expect(errOf(h, Op.setData, { path: '/a', data: null, version: -1 })).toBe(Err.NOAUTH);
  });

  it('check needs READ and a matching version', () => {
    const h = new Harness();
    h.create('/hidden', '', 0, {}, world(Perms.WRITE));
    h.create('/a');
    expect(errOf(h, Op.check, { path: '/a/', version: 0 })).toBe(Err.BADARGUMENTS);
    expect(errOf(h, Op.check, { path: '/nope', version: 0 })).toBe(Err.NONODE);
    expect(errOf(h, Op.check, { path: '/hidden', version: 0 })).toBe(Err.NOAUTH);
    expect(errOf(h, Op.check, { path: '/a', version: 3 })).toBe(Err.BADVERSION);
    const { op, result } = h.write(Op.check, { path: '/a', version: 0 });
    expect(op).toEqual({ kind: 'check', path: '/a', version: 0 });
    expect(result.stat).toMatchObject({ version: 0 });
  });
});

describe('prep multi', () => {
  const c = (path: string, flags = 0): MultiOp => ({ type: 1, request: create(path, flags) });

  it('sees the effects of earlier ops of the same multi', () => {
    const h = new Harness();
    const { op, result } = h.write(Op.multi, [
      c('/a'), c('/a/b'), c('/a/s-', 2), c('/a/s-', 2),
      { type: 5, request: { path: '/a/b', data: enc('1'), version: 0 } },
      { type: 5, request: { path: '/a/b', data: enc('2'), version: 1 } },
      { type: 2, request: { path: '/a/b', version: 2 } },
      c('/a/b'),
    ]);
    expect(op.kind).toBe('multi');
    expect(result.multi!.map((r) => r.type)).toEqual([1, 1, 1, 1, 5, 5, 2, 1]);
    expect(h.tree.getChildren('/a')).toEqual(['b', 's-0000000001', 's-0000000002']);
    expect(h.tree.get('/a')!.cversion).toBe(4); // b, s-, s-, b again
    expect(h.tree.get('/a/b')!.version).toBe(0);
  });

  it('a failing multi changes nothing; errors are 0 before, the code, then -2', () => {
    const h = new Harness();
    h.create('/q');
    const before = h.tree.digest();
    const { op, result } = h.write(Op.multi, [
      c('/q/s-', 2),
      c('/m2'),
      { type: 13, request: { path: '/q', version: 42 } },
      c('/m3'),
    ]);
    expect(op).toEqual({
      kind: 'multi',
      ops: [
        { kind: 'error', err: 0 },
        { kind: 'error', err: 0 },
        { kind: 'error', err: Err.BADVERSION },
        { kind: 'error', err: Err.RUNTIMEINCONSISTENCY },
      ],
    });
    expect(result.err).toBe(0);
    expect(result.multi!.map((r) => (r.type === -1 ? r.response.err : 'ok'))).toEqual([0, 0, Err.BADVERSION, -2]);
    expect(h.tree.digest()).toBe(before);
    expect(h.tree.last_zxid).toBe(h.zxid);
    // The failed sequential create did not consume a sequence number.
    expect(h.create('/q/s-', '', 2).result.path).toBe('/q/s-0000000000');
  });

  it('rejects read ops inside a write multi as a whole (MARSHALLINGERROR)', () => {
    const h = new Harness();
    const { op } = h.write(Op.multi, [c('/a'), { type: 4, request: { path: '/a', watch: false } }]);
    expect(op).toEqual({ kind: 'error', err: Err.MARSHALLINGERROR });
    expect(h.tree.has('/a')).toBe(false);
  });

  it('an empty multi is an empty success', () => {
    const h = new Harness();
    expect(h.write(Op.multi, []).result).toEqual({ err: 0, multi: [], events: [] });
  });

  it('a delete then a create of the same path, and create-then-delete, both work', () => {
    const h = new Harness();
    h.create('/x', 'old');
    h.write(Op.multi, [
      { type: 2, request: { path: '/x', version: -1 } },
      c('/x'),
      c('/tmp'),
      { type: 2, request: { path: '/tmp', version: 0 } },
    ]);
    expect(h.tree.get('/x')!.czxid).toBe(2);
    expect(h.tree.has('/tmp')).toBe(false);
  });

  it('fails NOTEMPTY when an earlier op of the multi gave the node a child', () => {
    const h = new Harness();
    h.create('/p');
    const { result } = h.write(Op.multi, [c('/p/c'), { type: 2, request: { path: '/p', version: -1 } }]);
    expect(result.multi!.map((r) => (r.type === -1 ? r.response.err : 'ok'))).toEqual([0, Err.NOTEMPTY]);
    expect(h.tree.has('/p/c')).toBe(false);
  });
});

describe('prep: other opcodes', () => {
  it('closeSession lists the session ephemerals; reconfig is disabled; reads are not writes', () => {
    const h = new Harness();
    h.create('/e', '', 1, { session_id: S1 });
    expect(h.write(Op.closeSession, null, { session_id: S1 }).op).toEqual({ kind: 'closeSession', paths: ['/e'] });
    expect(h.write(Op.reconfig, null).op).toEqual({ kind: 'error', err: Err.RECONFIGDISABLED });
    expect(h.write(Op.exists, null).op).toEqual({ kind: 'error', err: Err.UNIMPLEMENTED });
  });
});
