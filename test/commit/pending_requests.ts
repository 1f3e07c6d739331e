// Random write REQUESTS (not txns) for the pending-view property: each command becomes the
// request a client (or the reaper, or the session tracker) would send, given the tree's current
// state, so the same request can be prepped against two trees. A few commands are txns made by
// hand instead (createSession; closeSession listing only some ephemerals; creates with names
// prep refuses but a restored snapshot may hold, which sort differently in UTF-8 and UTF-16).

import fc from 'fast-check';
import { CreateMode } from '../../src/protocol/constants.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { MultiOp } from '../../src/protocol/types.js';
import type { DataTree } from '../../src/tree/data_tree.js';
import { joinPath } from '../../src/tree/path_rules.js';
import type { WriteRequest } from '../../src/tree/prep.js';
import type { TxnOp } from '../../src/tree/txn.js';
import { ownerKind, ttlOwner } from '../../src/tree/znode.js';
import { ACLS, data, SESSIONS } from '../store/txn_gen.js';

const MODES = ['persistent', 'pseq', 'ephemeral', 'eseq', 'container', 'ttl', 'tseq'] as const;
type Mode = (typeof MODES)[number];

const FLAGS: Readonly<Record<Mode, number>> = {
  persistent: CreateMode.PERSISTENT, pseq: CreateMode.PERSISTENT_SEQUENTIAL, ephemeral: CreateMode.EPHEMERAL,
  eseq: CreateMode.EPHEMERAL_SEQUENTIAL, container: CreateMode.CONTAINER, ttl: CreateMode.PERSISTENT_WITH_TTL,
  tseq: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
};

/** -1 (any version), the node's current version, or one it does not have. */
type VersionPick = 'any' | 'current' | 'wrong';

const version_pick: fc.Arbitrary<VersionPick> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('any' as const) },
  { weight: 3, arbitrary: fc.constant('current' as const) },
  { weight: 1, arbitrary: fc.constant('wrong' as const) },
);
/** Few names, so creates collide (NODEEXISTS) and sequential names pile up under one parent. */
const name = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[a-e]{1,2}$/) },
  { weight: 1, arbitrary: fc.constantFrom('é', '日本', '\ufb01', 'n0000000001') },
  { weight: 1, arbitrary: fc.constantFrom('', 'a/', 'zookeeper') },
);
/** Names prep refuses (surrogate pairs, private use): UTF-8 order differs from UTF-16's. */
const raw_name = fc.constantFrom('😀', '\ue000', '\uffff', 'x😀', 'x\uffff', '\ufb01');
const mode: fc.Arbitrary<Mode> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('persistent' as const) },
  { weight: 2, arbitrary: fc.constant('pseq' as const) },
  { weight: 3, arbitrary: fc.constantFrom('ephemeral' as const, 'eseq' as const) },
  { weight: 3, arbitrary: fc.constantFrom('container' as const, 'ttl' as const, 'tseq' as const) },
);
/** Mostly super (requests succeed, trees grow); otherwise ACLs decide (NOAUTH). */
const is_super = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

type SubCmd =
  | { kind: 'create'; parent: number; name: string; mode: Mode; data: Uint8Array | null; acl: number; ttl_ms: number }
  | { kind: 'delete'; pick: number; version: VersionPick }
  | { kind: 'setData'; pick: number; data: Uint8Array | null; version: VersionPick }
  | { kind: 'check'; pick: number; version: VersionPick };

export type ReqCmd =
  | { kind: 'create'; parent: number; name: string; mode: Mode; create2: boolean; session: number; super: boolean; data: Uint8Array | null; acl: number; ttl_ms: number }
  | { kind: 'rawCreate'; parent: number; name: string; owner: number; session: number; acl: number }
  | { kind: 'delete'; pick: number; version: VersionPick; super: boolean }
  | { kind: 'deleteContainer'; pick: number; any_node: boolean }
  | { kind: 'setData'; pick: number; data: Uint8Array | null; version: VersionPick; super: boolean }
  | { kind: 'setACL'; pick: number; acl: number; version: VersionPick; super: boolean }
  | { kind: 'check'; pick: number; version: VersionPick; super: boolean }
  | { kind: 'multi'; ops: SubCmd[]; fail_at: number; session: number; super: boolean }
  | { kind: 'closeSession'; session: number }
  | { kind: 'rawCloseSession'; session: number; listing: 'some' | 'none' | 'stale' }
  | { kind: 'createSession' }
  | { kind: 'malformed' };

const ttl_ms = fc.integer({ min: 1, max: 100_000 });
const session = fc.nat(SESSIONS.length - 1);
const acl = fc.nat(ACLS.length - 1);

const sub_cmd: fc.Arbitrary<SubCmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), parent: fc.nat(), name, mode, data, acl, ttl_ms }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat(), version: version_pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setData' as const), pick: fc.nat(), data, version: version_pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('check' as const), pick: fc.nat(), version: version_pick }) },
);

export const req_cmd: fc.Arbitrary<ReqCmd> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({
      kind: fc.constant('create' as const), parent: fc.nat(), name, mode, create2: fc.boolean(), session, super: is_super, data, acl, ttl_ms,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rawCreate' as const), parent: fc.nat(), name: raw_name, owner: fc.nat(3), session, acl }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat(), version: version_pick, super: is_super }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteContainer' as const), pick: fc.nat(), any_node: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('setData' as const), pick: fc.nat(), data, version: version_pick, super: is_super }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setACL' as const), pick: fc.nat(), acl, version: version_pick, super: is_super }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('check' as const), pick: fc.nat(), version: version_pick, super: is_super }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('multi' as const), ops: fc.array(sub_cmd, { minLength: 1, maxLength: 6 }), fail_at: fc.integer({ min: -10, max: 5 }), session, super: is_super,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('closeSession' as const), session }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rawCloseSession' as const), session, listing: fc.constantFrom('some' as const, 'none' as const, 'stale' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'createSession' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'malformed' as const }) },
);

/** One unit of work: a request to prep, or a txn op made by hand. */
export type Work =
  | { kind: 'prep'; session_id: bigint; is_super: boolean; opcode: number; request: WriteRequest }
  | { kind: 'raw'; session_id: bigint; op: TxnOp };

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length];

/** The node's version for a VersionPick (`field`: version, or aversion for setACL). */
function versionFor(tree: DataTree, path: string, v: VersionPick, field: 'version' | 'aversion'): number {
  if (v === 'any') return -1;
  const node = tree.get(path);
  const current = node === undefined ? 0 : node[field];
  return v === 'current' ? current : current + 1000;
}

function createOp(path: string, m: Mode, d: Uint8Array | null, acl_i: number, ttl: number, create2: boolean): MultiOp {
  const request = { path, data: d, acl: ACLS[acl_i], flags: FLAGS[m] };
  if (m === 'ttl' || m === 'tseq') return { type: 21, request: { ...request, ttl } };
  if (m === 'container') return { type: 19, request };
  return { type: create2 ? 15 : 1, request };
}

/**
 * The work for `c` given `tree` (the latest state: paths are picked from it), or null when the
 * command does not apply to it. `tree` is only read.
 */
export function workFor(c: ReqCmd, tree: DataTree): Work | null {
  const paths = [...tree.entries()].map(([p]) => p);
  switch (c.kind) {
    case 'create': {
      const op = createOp(joinPath(pick(paths, c.parent), c.name), c.mode, c.data, c.acl, c.ttl_ms, c.create2);
      return { kind: 'prep', session_id: SESSIONS[c.session], is_super: c.super, opcode: op.type, request: op.request };
    }
    case 'rawCreate':
      return rawCreate(c, tree, paths);
    case 'delete': {
      const path = pick(paths, c.pick);
      return { kind: 'prep', session_id: SESSIONS[0], is_super: c.super, opcode: Op.delete, request: { path, version: versionFor(tree, path, c.version, 'version') } };
    }
    case 'deleteContainer': {
      const reapable = [...tree.containers(), ...tree.ttls()].sort();
      const path = c.any_node || reapable.length === 0 ? pick(paths, c.pick) : pick(reapable, c.pick);
      return { kind: 'prep', session_id: 0n, is_super: true, opcode: Op.deleteContainer, request: { path } };
    }
    case 'setData': {
      const path = pick(paths, c.pick);
      return { kind: 'prep', session_id: SESSIONS[1], is_super: c.super, opcode: Op.setData, request: { path, data: c.data, version: versionFor(tree, path, c.version, 'version') } };
    }
    case 'setACL': {
      const path = pick(paths, c.pick);
      return { kind: 'prep', session_id: SESSIONS[1], is_super: c.super, opcode: Op.setACL, request: { path, acl: ACLS[c.acl], version: versionFor(tree, path, c.version, 'aversion') } };
    }
    case 'check': {
      const path = pick(paths, c.pick);
      return { kind: 'prep', session_id: SESSIONS[1], is_super: c.super, opcode: Op.check, request: { path, version: versionFor(tree, path, c.version, 'version') } };
    }
    case 'multi':
      return { kind: 'prep', session_id: SESSIONS[c.session], is_super: c.super, opcode: Op.multi, request: multiOps(c, tree, paths) };
    case 'closeSession':
      return { kind: 'prep', session_id: SESSIONS[c.session], is_super: false, opcode: Op.closeSession, request: null };
    case 'rawCloseSession': {
      const all = tree.ephemerals(SESSIONS[c.session]);
      const listed = c.listing === 'some' ? all.filter((_, i) => i % 2 === 0) : c.listing === 'none' ? [] : ['/gone', ...all, '/zzz/never/there'];
      return { kind: 'raw', session_id: SESSIONS[c.session], op: { kind: 'closeSession', paths: listed } };
    }
    case 'createSession':
      return { kind: 'raw', session_id: SESSIONS[1], op: { kind: 'createSession', timeout_ms: 30_000, passwd: new Uint8Array(16) } };
    case 'malformed':
      return { kind: 'prep', session_id: SESSIONS[1], is_super: false, opcode: Op.setData, request: { malformed: true, header: { xid: 1, type: Op.setData }, reason: 'test' } };
  }
}

/** A create prep would refuse (its name), as a restored snapshot may hold one. */
function rawCreate(c: Extract<ReqCmd, { kind: 'rawCreate' }>, tree: DataTree, paths: readonly string[]): Work | null {
  const parent_path = pick(paths, c.parent);
  const parent = tree.get(parent_path)!;
  const path = joinPath(parent_path, c.name);
  if (tree.has(path) || ownerKind(parent.ephemeralOwner) === 'ephemeral') return null;
  // 0 persistent, 1 container, 2 TTL, 3 an ephemeral of the command's session.
  const owner = [0n, -0x8000_0000_0000_0000n, ttlOwner(1000), SESSIONS[c.session]][c.owner];
  if (owner === 0n && c.owner === 3) return null;
  const acl = ACLS[c.acl].map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme ?? '', id: a.id.id ?? '' } }));
  const op: TxnOp = { kind: 'create', path, data: null, acl, ephemeral_owner: owner, parent_cversion: (parent.cversion + 1) | 0, opcode: Op.create };
  return { kind: 'raw', session_id: c.owner === 3 ? owner : 0n, op };
}

/**
 * The multi's ops. A sub-op may pick a path an earlier create of the same multi made (so a multi
 * builds and tears down subtrees); fail_at in range inserts a check no node passes (BADVERSION).
 */
function multiOps(c: Extract<ReqCmd, { kind: 'multi' }>, tree: DataTree, paths: readonly string[]): MultiOp[] {
  const known = [...paths];
  const ops: MultiOp[] = [];
  c.ops.forEach((o, i) => {
    if (i === c.fail_at) ops.push({ type: 13, request: { path: pick(known, i), version: 0x7fff_fff0 } });
    switch (o.kind) {
      case 'create': {
        const path = joinPath(pick(known, o.parent), o.name);
        ops.push(createOp(path, o.mode, o.data, o.acl, o.ttl_ms, false));
        known.push(path);
        break;
      }
      case 'delete': {
        const path = pick(known, o.pick);
        ops.push({ type: 2, request: { path, version: versionFor(tree, path, o.version, 'version') } });
        break;
      }
      case 'setData': {
        const path = pick(known, o.pick);
        ops.push({ type: 5, request: { path, data: o.data, version: versionFor(tree, path, o.version, 'version') } });
        break;
      }
      case 'check': {
        const path = pick(known, o.pick);
        ops.push({ type: 13, request: { path, version: versionFor(tree, path, o.version, 'version') } });
        break;
      }
    }
  });
  return ops;
}
