// Reference-model property test: random sequences of writes go through prep + apply, and the same
// requests through a deliberately simple model (scans instead of indexes, multi = run on a copy
// and keep it only if every op succeeded, client cversion from counted creates and deletes).
// After every step the errors, events, every node's fields and stats, children, indexes and
// counters must agree.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTAINER_EPHEMERAL_OWNER, Perms, TTL_MAX_MS } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import type { ACL, Id, MultiOp } from '../../src/protocol/types.js';
import type { ApplyResult } from '../../src/tree/data_tree.js';
import type { TxnOp } from '../../src/tree/txn.js';
import { ttlOwner } from '../../src/tree/znode.js';
import { bounded } from '../support/fc_bounds.js';
import { dec, enc, Harness } from './harness.js';

// ---- fixtures -------------------------------------------------------------------------------

const ANYONE = { scheme: 'world', id: 'anyone' };
const ALICE: Id = { scheme: 'digest', id: 'alice:AAAA' };
const BOB: Id = { scheme: 'digest', id: 'bob:BBBB' };
const IP: Id = { scheme: 'ip', id: '10.0.0.1' };

interface Session { id: bigint; auth: Id[]; is_super: boolean }
const SESSIONS: Session[] = [
  { id: 0x11n, auth: [IP, ALICE], is_super: false },
  { id: 0x22n, auth: [IP], is_super: false },
  { id: 0x33n, auth: [IP, BOB], is_super: false },
  { id: 0x44n, auth: [IP], is_super: true },
];

const ACL_CHOICES: ACL[][] = [
  [{ perms: Perms.ALL, id: ANYONE }],
  [{ perms: Perms.READ, id: ANYONE }],
  [{ perms: Perms.READ | Perms.CREATE | Perms.DELETE, id: ANYONE }],
  [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }],
  [{ perms: Perms.ALL, id: ALICE }, { perms: Perms.READ, id: ANYONE }],
  [],
];

const EXTRA_PATHS = ['/nope', '/a/nope', 'bad', '/zookeeper', '/', '/zookeeper/config'];
const SYSTEM = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

// ---- the model --------------------------------------------------------------------------------

interface MNode {
  data: string | null;
  acl: ACL[];
  owner: bigint;
  version: number;
  cversion: number;
  aversion: number;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  creates: number;
  deletes: number;
  initial_children: number;
}

type Req =
  | { t: 'create'; opcode: number; path: string; flags: number; ttl: number; acl: ACL[]; data: string | null }
  | { t: 'delete'; path: string; version: number }
  | { t: 'setData'; path: string; data: string | null; version: number }
  | { t: 'setACL'; path: string; acl: ACL[]; version: number }
  | { t: 'check'; path: string; version: number };

type Event = [number, string];
type Outcome = { err: number; path?: string } | { multi: number[] };

const modelParent = (p: string): string => {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
};

function sysNode(initial_children: number, acl: ACL[]): MNode {
  return {
    data: '', acl, owner: 0n, version: 0, cversion: 0, aversion: 0, czxid: 0, mzxid: 0, pzxid: 0,
    ctime: 0, mtime: 0, creates: 0, deletes: 0, initial_children,
  };
}

class Model {
  nodes = new Map<string, MNode>([
    ['/', sysNode(1, ACL_CHOICES[0])],
    ['/zookeeper', sysNode(2, ACL_CHOICES[0])],
    ['/zookeeper/quota', sysNode(0, ACL_CHOICES[0])],
    // ZooKeeper sets this ACL with setACL(..., -1): aversion -1 (seen in the differential test).
    ['/zookeeper/config', { ...sysNode(0, ACL_CHOICES[1]), aversion: -1 }],
  ]);
  zxid = 0;
  time = 1_000_000;

  constructor(readonly ttl_enabled: boolean) {}

  clone(): Model {
    const m = new Model(this.ttl_enabled);
    m.nodes = new Map([...this.nodes].map(([p, n]) => [p, { ...n }]));
    m.zxid = this.zxid;
    m.time = this.time;
    return m;
  }

  children(path: string): string[] {
    return [...this.nodes.keys()].filter((p) => p !== '/' && modelParent(p) === path).sort();
  }

  private allowed(acl: ACL[], perm: number, s: Session): boolean {
    if (s.is_super || acl.length === 0) return true;
    return acl.some((e) => (e.perms & perm) !== 0 && (
      (e.id.scheme === 'world' && e.id.id === 'anyone') ||
      (e.id.scheme === 'digest' && s.auth.some((a) => a.scheme === 'digest' && a.id === e.id.id))));
  }

  private fixup(acl: ACL[], s: Session): ACL[] | null {
    if (acl.length === 0) return null;
    const out: ACL[] = [];
    for (const e of acl) {
      if (e.id.scheme !== 'auth') { out.push(e); continue; }
      const ids = s.auth.filter((a) => a.scheme === 'digest');
      if (ids.length === 0) return null;
      for (const id of ids) out.push({ perms: e.perms, id });
    }
    return out;
  }

  /** One op against this model; on success it is applied and its events appended. */
  exec(req: Req, s: Session, events: Event[]): { err: number; path?: string } {
    switch (req.t) {
      case 'create': return this.create(req, s, events);
      case 'delete': return this.delete(req, s, events);
      case 'setData': {
        if (req.path.endsWith('/') && req.path !== '/' || !req.path.startsWith('/')) return { err: Err.BADARGUMENTS };
        const n = this.nodes.get(req.path);
        if (n === undefined) return { err: Err.NONODE };
        if (!this.allowed(n.acl, Perms.WRITE, s)) return { err: Err.NOAUTH };
        if (req.version !== -1 && req.version !== n.version) return { err: Err.BADVERSION };
        Object.assign(n, { data: req.data, version: n.version + 1, mzxid: this.zxid, mtime: this.time });
        events.push([3, req.path]);
        return { err: 0 };
      }
      case 'setACL': {
        if (!req.path.startsWith('/') || (req.path.endsWith('/') && req.path !== '/')) return { err: Err.BADARGUMENTS };
        const acl = this.fixup(req.acl, s);
        if (acl === null) return { err: Err.INVALIDACL };
        const n = this.nodes.get(req.path);
        if (n === undefined) return { err: Err.NONODE };
        if (!this.allowed(n.acl, Perms.ADMIN, s)) return { err: Err.NOAUTH };
        if (req.version !== -1 && req.version !== n.aversion) return { err: Err.BADVERSION };
        Object.assign(n, { acl, aversion: n.aversion + 1 });
        return { err: 0 };
      }
      case 'check': {
        if (!req.path.startsWith('/') || (req.path.endsWith('/') && req.path !== '/')) return { err: Err.BADARGUMENTS };
        const n = this.nodes.get(req.path);
        if (n === undefined) return { err: Err.NONODE };
        if (!this.allowed(n.acl, Perms.READ, s)) return { err: Err.NOAUTH };
        if (req.version !== -1 && req.version !== n.version) return { err: Err.BADVERSION };
        return { err: 0 };
      }
    }
  }

  private create(req: Extract<Req, { t: 'create' }>, s: Session, events: Event[]): { err: number; path?: string } {
    if (req.flags < 0 || req.flags > 6) return { err: Err.BADARGUMENTS };
    const is_ttl = req.flags === 5 || req.flags === 6;
    const container = req.flags === 4;
    if (is_ttl && !this.ttl_enabled) return { err: Err.UNIMPLEMENTED };
    if (is_ttl ? !(req.ttl > 0 && req.ttl <= TTL_MAX_MS) : req.ttl >= 0) return { err: Err.BADARGUMENTS };
    // The mode comes from the flags (ZooKeeper); only createTTL insists on a TTL mode.
    if (req.opcode === 21 && !is_ttl) return { err: Err.BADARGUMENTS };
    if (!req.path.includes('/')) return { err: Err.BADARGUMENTS };
    const acl = this.fixup(req.acl, s);
    if (acl === null) return { err: Err.INVALIDACL };
    const parent_path = modelParent(req.path);
    const parent = this.nodes.get(parent_path);
    if (parent === undefined) return { err: Err.NONODE };
    if (!this.allowed(parent.acl, Perms.CREATE, s)) return { err: Err.NOAUTH };
    const seq = req.flags === 2 || req.flags === 3 || req.flags === 6;
    const path = seq ? req.path + String(parent.cversion).padStart(10, '0') : req.path;
    if (path.endsWith('/') && path !== '/') return { err: Err.BADARGUMENTS };
    if (this.nodes.has(path)) return { err: Err.NODEEXISTS };
    if (SESSIONS.some((x) => x.id === parent.owner)) return { err: Err.NOCHILDRENFOREPHEMERALS };
    const owner = container ? CONTAINER_EPHEMERAL_OWNER : is_ttl ? ttlOwner(req.ttl) : req.flags === 1 || req.flags === 3 ? s.id : 0n;
    this.nodes.set(path, {
      data: req.data, acl, owner, version: 0, cversion: 0, aversion: 0, czxid: this.zxid, mzxid: this.zxid,
      pzxid: this.zxid, ctime: this.time, mtime: this.time, creates: 0, deletes: 0, initial_children: 0,
    });
    Object.assign(parent, { cversion: parent.cversion + 1, pzxid: this.zxid, creates: parent.creates + 1 });
    events.push([1, path], [4, parent_path]);
    return { err: 0, path };
  }

  private delete(req: Extract<Req, { t: 'delete' }>, s: Session, events: Event[]): { err: number } {
    if (!req.path.includes('/') || SYSTEM.has(req.path)) return { err: Err.BADARGUMENTS };
    const parent = this.nodes.get(modelParent(req.path));
    if (parent === undefined) return { err: Err.NONODE };
    if (!this.allowed(parent.acl, Perms.DELETE, s)) return { err: Err.NOAUTH };
    const n = this.nodes.get(req.path);
    if (n === undefined) return { err: Err.NONODE };
    if (req.version !== -1 && req.version !== n.version) return { err: Err.BADVERSION };
    if (this.children(req.path).length > 0) return { err: Err.NOTEMPTY };
    this.removeLeaf(req.path, events);
    return { err: 0 };
  }

  private removeLeaf(path: string, events: Event[]): void {
    this.nodes.delete(path);
    const parent = this.nodes.get(modelParent(path))!;
    Object.assign(parent, { pzxid: Math.max(parent.pzxid, this.zxid), deletes: parent.deletes + 1 });
    events.push([2, path], [4, modelParent(path)]);
  }

  closeSession(s: Session, events: Event[]): void {
    const mine = [...this.nodes].filter(([, n]) => n.owner === s.id).map(([p]) => p).sort();
    for (const p of mine) this.removeLeaf(p, events);
  }

  multi(reqs: Req[], s: Session, events: Event[]): number[] {
    const copy = this.clone();
    const copy_events: Event[] = [];
    for (let i = 0; i < reqs.length; i++) {
      const { err } = copy.exec(reqs[i], s, copy_events);
      if (err !== 0) return reqs.map((_, j) => (j < i ? 0 : j === i ? err : Err.RUNTIMEINCONSISTENCY));
    }
    this.nodes = copy.nodes;
    events.push(...copy_events);
    return reqs.map(() => 0);
  }
}

// ---- commands -------------------------------------------------------------------------------

type VersionPick = 'cur' | number;
interface CreateCmd { t: 'create'; parent: number; name: string; flags: number; opcode_pick: number; ttl: number; acl: number; data: string | null }
type LeafCmd =
  | CreateCmd
  | { t: 'delete'; target: number; version: VersionPick }
  | { t: 'setData'; target: number; data: string | null; version: VersionPick }
  | { t: 'check'; target: number; version: VersionPick };
type Cmd = { session: number } & (
  | LeafCmd
  | { t: 'setACL'; target: number; acl: number; version: VersionPick }
  | { t: 'multi'; ops: LeafCmd[] }
  | { t: 'close' }
);

const version = fc.oneof(fc.constant('cur' as const), fc.constant(-1), fc.integer({ min: 0, max: 2 }));
const target = fc.nat(60);
const createCmd: fc.Arbitrary<CreateCmd> = fc.record({
  t: fc.constant('create' as const),
  parent: target,
  name: fc.constantFrom('a', 'b', 'c', 's-', ''),
  flags: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: fc.constant(7) }),
  opcode_pick: fc.nat(19),
  ttl: fc.constantFrom(0, 50, 5000, TTL_MAX_MS + 1),
  acl: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 5, arbitrary: fc.nat(ACL_CHOICES.length - 1) }),
  data: fc.constantFrom('', 'x', 'hello', null),
});
const leafCmd: fc.Arbitrary<LeafCmd> = fc.oneof(
  { weight: 5, arbitrary: createCmd },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), target, version }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('setData' as const), target, data: fc.constantFrom('', 'y', null), version }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('check' as const), target, version }) },
);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ session: fc.nat(3) }).chain((s) => leafCmd.map((c) => ({ ...s, ...c }))) },
  { weight: 1, arbitrary: fc.record({ session: fc.nat(3), t: fc.constant('setACL' as const), target, acl: fc.nat(ACL_CHOICES.length - 1), version }) },
  { weight: 2, arbitrary: fc.record({ session: fc.nat(3), t: fc.constant('multi' as const), ops: fc.array(leafCmd, { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ session: fc.nat(3), t: fc.constant('close' as const) }) },
);

/** Canonical opcode for the flags most of the time; a random create opcode sometimes. */
function opcodeFor(flags: number, pick: number): number {
  if (pick < 2) return [1, 15, 19, 21][pick * 2 + (flags & 1)];
  if (flags === 4) return 19;
  if (flags === 5 || flags === 6) return 21;
  return pick % 2 === 0 ? 1 : 15;
}

function resolve(c: LeafCmd | Extract<Cmd, { t: 'setACL' }>, model: Model): Req {
  // Mostly the user's own nodes (where the interesting cases are), sometimes system or bad paths.
  const user = [...model.nodes.keys()].filter((p) => !SYSTEM.has(p)).sort();
  const others = [...SYSTEM, ...EXTRA_PATHS];
  const pick = (pool: string[], i: number) => (i < 48 && pool.length > 0 ? pool[i % pool.length] : others[i % others.length]);
  const at = (i: number) => pick(user, i);
  const ver = (path: string, v: VersionPick, of: 'version' | 'aversion' = 'version') =>
    v === 'cur' ? (model.nodes.get(path)?.[of] ?? 0) : v;
  switch (c.t) {
    case 'create': {
      const parent = pick(['/', ...user], c.parent);
      const path = parent === '/' ? `/${c.name}` : `${parent}/${c.name}`;
      const opcode = opcodeFor(c.flags, c.opcode_pick);
      return { t: 'create', opcode, path, flags: c.flags, ttl: opcode === 21 ? c.ttl : -1, acl: ACL_CHOICES[c.acl], data: c.data };
    }
    case 'delete': return { t: 'delete', path: at(c.target), version: ver(at(c.target), c.version) };
    case 'setData': return { t: 'setData', path: at(c.target), data: c.data, version: ver(at(c.target), c.version) };
    case 'check': return { t: 'check', path: at(c.target), version: ver(at(c.target), c.version) };
    case 'setACL': return { t: 'setACL', path: at(c.target), acl: ACL_CHOICES[c.acl], version: ver(at(c.target), c.version, 'aversion') };
  }
}

function toRequest(req: Req): MultiOp | { type: 7; request: { path: string; acl: ACL[]; version: number } } {
  const data = (d: string | null) => (d === null ? null : enc(d));
  switch (req.t) {
    case 'create': {
      const base = { path: req.path, data: data(req.data), acl: req.acl, flags: req.flags };
      return req.opcode === 21 ? { type: 21, request: { ...base, ttl: req.ttl } } : { type: req.opcode as 1 | 15 | 19, request: base };
    }
    case 'delete': return { type: 2, request: { path: req.path, version: req.version } };
    case 'setData': return { type: 5, request: { path: req.path, data: data(req.data), version: req.version } };
    case 'check': return { type: 13, request: { path: req.path, version: req.version } };
    case 'setACL': return { type: 7, request: { path: req.path, acl: req.acl, version: req.version } };
  }
}

// ---- running and comparing ------------------------------------------------------------------

function outcomeOf(op: TxnOp, result: ApplyResult): Outcome {
  if (op.kind === 'error') return { err: op.err };
  if (result.multi !== undefined) return { multi: result.multi.map((r) => (r.type === -1 ? r.response.err : 0)) };
  return op.kind === 'create' ? { err: 0, path: result.path } : { err: 0 };
}

function step(h: Harness, model: Model, c: Cmd, ttl_enabled: boolean): void {
  const s = SESSIONS[c.session];
  const caller = { session_id: s.id, auth: s.auth, is_super: s.is_super, ttl_enabled };
  model.zxid += 1;
  model.time += 10;
  const events: Event[] = [];
  let expected: Outcome;
  let got: { op: TxnOp; result: ApplyResult };
  if (c.t === 'close') {
    model.closeSession(s, events);
    expected = { err: 0 };
    got = h.write(-11, null, caller);
  } else if (c.t === 'multi') {
    const reqs = c.ops.map((o) => resolve(o, model));
    expected = { multi: model.multi(reqs, s, events) };
    got = h.write(14, reqs.map((r) => toRequest(r) as MultiOp), caller);
  } else {
    const req = resolve(c, model);
    expected = model.exec(req, s, events);
    const { type, request } = toRequest(req);
    got = h.write(type, request, caller);
  }
  expect(outcomeOf(got.op, got.result)).toEqual(expected);
  expect(got.result.events.map((e) => [e.type, e.path])).toEqual(events);
  compareTrees(h, model);
}

function compareTrees(h: Harness, model: Model): void {
  const tree = h.tree;
  expect(tree.last_zxid).toBe(model.zxid);
  expect(tree.node_count).toBe(model.nodes.size);
  let size = 0;
  const kids_of = new Map<string, string[]>();
  for (const p of [...model.nodes.keys()].sort()) {
    if (p !== '/') kids_of.set(modelParent(p), [...(kids_of.get(modelParent(p)) ?? []), p]);
  }
  for (const [path, m] of model.nodes) {
    const n = tree.get(path);
    expect(n, path).toBeDefined();
    const kids = kids_of.get(path) ?? [];
    expect(dec(n!.data), path).toBe(m.data);
    expect({ acl: n!.acl, owner: n!.ephemeralOwner, version: n!.version, cversion: n!.cversion, aversion: n!.aversion }, path)
      .toEqual({ acl: m.acl, owner: m.owner, version: m.version, cversion: m.cversion, aversion: m.aversion });
    expect([n!.czxid, n!.mzxid, n!.pzxid, n!.ctime, n!.mtime], path).toEqual([m.czxid, m.mzxid, m.pzxid, m.ctime, m.mtime]);
    expect(tree.getChildren(path), path).toEqual(kids.map((k) => k.slice(k.lastIndexOf('/') + 1)));
    const stat = tree.stat(path)!;
    expect(stat.numChildren).toBe(kids.length);
    expect(stat.cversion, `client cversion of ${path}`).toBe(m.creates + m.deletes - m.initial_children);
    expect(stat.ephemeralOwner).toBe(SESSIONS.some((x) => x.id === m.owner) ? m.owner : 0n);
    size += path.length + (m.data === null ? 0 : m.data.length);
  }
  expect(tree.approximate_data_size).toBe(size);
  const owned = (id: bigint) => [...model.nodes].filter(([, m]) => m.owner === id).map(([p]) => p).sort();
  for (const s of SESSIONS) expect(tree.ephemerals(s.id)).toEqual(owned(s.id));
  expect(tree.ephemerals_count).toBe(SESSIONS.reduce((sum, s) => sum + owned(s.id).length, 0));
  expect([...tree.containers()].sort()).toEqual(owned(CONTAINER_EPHEMERAL_OWNER));
  const ttl_paths = [...model.nodes].filter(([, m]) => m.owner !== CONTAINER_EPHEMERAL_OWNER && m.owner < 0n).map(([p]) => p).sort();
  expect([...tree.ttls()].sort()).toEqual(ttl_paths);
}

describe('tree vs reference model', () => {
  it('agrees on errors, events, nodes, stats, children and indexes after every write', () => {
    fc.assert(
      fc.property(fc.array(cmd, { minLength: 1, maxLength: 30, size: 'max' }), fc.boolean(), (cmds, ttl_enabled) => {
        const h = new Harness();
        const model = new Model(ttl_enabled);
        for (const c of cmds) step(h, model, c, ttl_enabled);
        // A second tree fed the same txns ends identical.
        const replica = new Harness();
        for (const txn of h.log) replica.tree.apply(txn);
        expect(replica.tree.digest()).toBe(h.tree.digest());
      }),
      bounded({ numRuns: 100 }),
    );
  });
});
