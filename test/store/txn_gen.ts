// Random txn sequences for the arena mirroring tests: fast-check commands, each turned into a
// txn against the current heap DataTree, mostly through prep (as the commit worker makes them:
// sequential names, versions, failed multis, error txns) and partly by hand (closeSession with
// listed and unlisted ephemerals, createSession, raw creates with names prep refuses but a
// restored snapshot may hold). Every txn produced applies cleanly to the tree it was made from.

import fc from 'fast-check';
import { CreateMode } from '../../src/protocol/constants.js';
import type { MultiOp, RequestACL } from '../../src/protocol/types.js';
import type { DataTree } from '../../src/tree/data_tree.js';
import { joinPath } from '../../src/tree/path_rules.js';
import { prepRequest } from '../../src/tree/prep.js';
import type { Txn, TxnOp } from '../../src/tree/txn.js';
import { ownerKind } from '../../src/tree/znode.js';

export const ACLS: RequestACL[][] = [
  [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }],
  [
    { perms: 31, id: { scheme: 'digest', id: 'bob:8d8yVJHXqSmRGJBhOf9bmbi2ZPA=' } },
    { perms: 1, id: { scheme: 'ip', id: '10.0.0.0/8' } },
  ],
  [{ perms: 5, id: { scheme: 'digest', id: 'ünïcödé:x' } }],
];
/** Session ids: ordinary, small, "negative" (top bit set, not the container marker), 0. */
export const SESSIONS: readonly bigint[] = [0x1234_5678_9abc_def0n, 7n, -0x7fff_ffff_ffff_fff0n, 0n];

const name = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[a-z0-9]{1,8}$/) },
  { weight: 2, arbitrary: fc.constantFrom('n0000000001', 'n0000000002', 'n-000000001', 'n', 'n0') },
  { weight: 1, arbitrary: fc.constantFrom('é', 'ü-x', '日本', 'a b', 'a.b', 'ab', '\ufb01') },
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 300 }).map((n) => 'L'.repeat(n)) },
);
/** Names prep refuses (surrogates, private use) but a tree may hold: UTF-8 vs UTF-16 order. */
const raw_name = fc.oneof(name, fc.constantFrom('😀', '\ue000', '\uffff', 'x😀', '\ufb01'));
export const data = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1100, max: 9000 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
);
const MODES = ['persistent', 'ephemeral', 'container', 'ttl', 'pseq', 'eseq', 'tseq'] as const;
/** Mostly persistent nodes, so trees grow to a few hundred nodes (B+trees several levels deep). */
const mode = fc.oneof(
  { weight: 8, arbitrary: fc.constant('persistent' as const) },
  { weight: 2, arbitrary: fc.constant('pseq' as const) },
  { weight: 3, arbitrary: fc.constantFrom('ephemeral' as const, 'eseq' as const) },
  { weight: 2, arbitrary: fc.constantFrom('container' as const, 'ttl' as const, 'tseq' as const) },
);

type SubCmd =
  | { kind: 'create'; parent: number; name: string; data: Uint8Array | null; acl: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'setData'; pick: number; data: Uint8Array | null }
  | { kind: 'check'; pick: number };

export type Cmd =
  | { kind: 'create'; parent: number; name: string; mode: (typeof MODES)[number]; session: number; data: Uint8Array | null; acl: number; ttl_ms: number }
  | { kind: 'rawCreate'; parent: number; name: string; data: Uint8Array | null; acl: number; owner: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'deleteContainer'; pick: number }
  | { kind: 'setData'; pick: number; data: Uint8Array | null }
  | { kind: 'setACL'; pick: number; acl: number }
  | { kind: 'check'; pick: number }
  | { kind: 'multi'; ops: SubCmd[]; fail_at: number }
  | { kind: 'closeSession'; session: number; listing: 'all' | 'some' | 'none' | 'stale' }
  | { kind: 'createSession' }
  | { kind: 'error' };

const sub_cmd: fc.Arbitrary<SubCmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), parent: fc.nat(), name, data, acl: fc.nat(ACLS.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setData' as const), pick: fc.nat(), data }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('check' as const), pick: fc.nat() }) },
);

/** Commands that make txns (weights favour creates, so trees grow to a few hundred nodes). */
export const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({
      kind: fc.constant('create' as const), parent: fc.nat(), name, mode,
      session: fc.nat(SESSIONS.length - 1), data, acl: fc.nat(ACLS.length - 1), ttl_ms: fc.integer({ min: 1, max: 100_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rawCreate' as const), parent: fc.nat(), name: raw_name, data, acl: fc.nat(ACLS.length - 1), owner: fc.nat(2) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteContainer' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('setData' as const), pick: fc.nat(), data }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setACL' as const), pick: fc.nat(), acl: fc.nat(ACLS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('check' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('multi' as const), ops: fc.array(sub_cmd, { minLength: 1, maxLength: 6 }), fail_at: fc.integer({ min: -10, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('closeSession' as const), session: fc.nat(SESSIONS.length - 1), listing: fc.constantFrom('all' as const, 'some' as const, 'none' as const, 'stale' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'createSession' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'error' as const }) },
);

const CONTAINER = -0x8000_0000_0000_0000n;
const TTL_1S = -0x0100_0000_0000_0000n | 1000n;

/** Turns commands into txns against `tree` (the caller applies each txn before the next). */
export class TxnSource {
  zxid = 0;
  time_ms = 1_700_000_000_000;

  constructor(private readonly tree: DataTree) {}

  private paths(): string[] {
    return [...this.tree.entries()].map(([p]) => p);
  }

  private pick(paths: readonly string[], i: number): string {
    return paths[i % paths.length];
  }

  private header(session_id: bigint): Txn['header'] {
    this.zxid += 1;
    this.time_ms += 1 + (this.zxid % 7);
    return { session_id, cxid: this.zxid, zxid: this.zxid, time_ms: this.time_ms };
  }

  private prep(session_id: bigint, opcode: number, request: Parameters<typeof prepRequest>[2]): TxnOp {
    return prepRequest(
      { tree: this.tree, session_id, auth: [{ scheme: 'ip', id: '127.0.0.1' }], is_super: true, now_ms: this.time_ms, ttl_enabled: true, quota: null },
      opcode,
      request,
    );
  }

  /** The txn for `c`, or null when the command does not apply to this tree. */
  next(c: Cmd): Txn | null {
    const paths = this.paths();
    const session = (i: number): bigint => SESSIONS[i];
    switch (c.kind) {
      case 'create': {
        const parent = this.pick(paths, c.parent);
        const flags = {
          persistent: CreateMode.PERSISTENT, ephemeral: CreateMode.EPHEMERAL, container: CreateMode.CONTAINER, ttl: CreateMode.PERSISTENT_WITH_TTL,
          pseq: CreateMode.PERSISTENT_SEQUENTIAL, eseq: CreateMode.EPHEMERAL_SEQUENTIAL, tseq: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
        }[c.mode];
        const s = session(c.session);
        // An ephemeral of session 0 would be a persistent node in disguise.
        if ((c.mode === 'ephemeral' || c.mode === 'eseq') && s === 0n) return null;
        const path = joinPath(parent, c.name);
        const ttl = c.mode === 'ttl' || c.mode === 'tseq';
        const opcode = ttl ? 21 : c.mode === 'container' ? 19 : 1;
        const request = { path, data: c.data, acl: ACLS[c.acl], flags, ...(ttl ? { ttl: c.ttl_ms } : {}) };
        return { header: this.header(s), op: this.prep(s, opcode, request) };
      }
      case 'rawCreate': {
        const parent = this.pick(paths, c.parent);
        const node = this.tree.get(parent)!;
        const path = joinPath(parent, c.name);
        if (this.tree.has(path) || ownerKind(node.ephemeralOwner) === 'ephemeral') return null;
        const owner = [0n, CONTAINER, TTL_1S][c.owner];
        const acl = ACLS[c.acl].map((a) => ({ perms: a.perms, id: { scheme: a.id.scheme ?? '', id: a.id.id ?? '' } }));
        return { header: this.header(0n), op: { kind: 'create', path, data: c.data, acl, ephemeral_owner: owner, parent_cversion: (node.cversion + 1) | 0, opcode: 1 } };
      }
      case 'delete': {
        // Mostly leaves; sometimes any node (prep answers NOTEMPTY / BADARGUMENTS: error txns).
        const leaves = paths.filter((p) => this.tree.get(p)!.child_count === 0);
        const path = c.pick % 5 === 0 ? this.pick(paths, c.pick) : this.pick(leaves, c.pick);
        return { header: this.header(SESSIONS[0]), op: this.prep(SESSIONS[0], 2, { path, version: -1 }) };
      }
      case 'deleteContainer': {
        const reapable = [...this.tree.containers(), ...this.tree.ttls()].sort();
        if (reapable.length === 0) return null;
        return { header: this.header(0n), op: this.prep(0n, 20, { path: this.pick(reapable, c.pick) }) };
      }
      case 'setData':
        return { header: this.header(SESSIONS[1]), op: this.prep(SESSIONS[1], 5, { path: this.pick(paths, c.pick), data: c.data, version: -1 }) };
      case 'setACL':
        return { header: this.header(SESSIONS[1]), op: this.prep(SESSIONS[1], 7, { path: this.pick(paths, c.pick), acl: ACLS[c.acl], version: -1 }) };
      case 'check':
        return { header: this.header(SESSIONS[1]), op: this.prep(SESSIONS[1], 13, { path: this.pick(paths, c.pick), version: -1 }) };
      case 'multi':
        return { header: this.header(SESSIONS[0]), op: this.prep(SESSIONS[0], 14, this.multiOps(c, paths)) };
      case 'closeSession':
        return { header: this.header(session(c.session)), op: { kind: 'closeSession', paths: this.listing(session(c.session), c.listing) } };
      case 'createSession':
        return { header: this.header(SESSIONS[1]), op: { kind: 'createSession', timeout_ms: 30_000, passwd: new Uint8Array(16) } };
      case 'error':
        return { header: this.header(SESSIONS[1]), op: { kind: 'error', err: -101 } };
    }
  }

  /**
   * The multi's requests. A sub-op may pick a path an earlier create of the same multi made
   * (so a multi builds and tears down subtrees); fail_at in range adds a check with a version
   * no node has (BADVERSION: the whole multi fails and becomes error ops).
   */
  private multiOps(c: Extract<Cmd, { kind: 'multi' }>, paths: readonly string[]): MultiOp[] {
    const known = [...paths];
    const ops: MultiOp[] = [];
    c.ops.forEach((o, i) => {
      if (i === c.fail_at) ops.push({ type: 13, request: { path: this.pick(known, i), version: 0x7fff_fff0 } });
      switch (o.kind) {
        case 'create': {
          const path = joinPath(this.pick(known, o.parent), o.name);
          ops.push({ type: 1, request: { path, data: o.data, acl: ACLS[o.acl], flags: 0 } });
          known.push(path);
          break;
        }
        case 'delete':
          ops.push({ type: 2, request: { path: this.pick(known, o.pick), version: -1 } });
          break;
        case 'setData':
          ops.push({ type: 5, request: { path: this.pick(known, o.pick), data: o.data, version: -1 } });
          break;
        case 'check':
          ops.push({ type: 13, request: { path: this.pick(known, o.pick), version: -1 } });
          break;
      }
    });
    return ops;
  }

  /** closeSession's listed paths: all the session's ephemerals, some, none, or all plus gone ones. */
  private listing(session_id: bigint, listing: 'all' | 'some' | 'none' | 'stale'): string[] {
    const all = this.tree.ephemerals(session_id);
    switch (listing) {
      case 'all':
        return all;
      case 'some':
        return all.filter((_, i) => i % 2 === 0);
      case 'none':
        return [];
      case 'stale':
        return ['/gone', ...all, '/zzz/never/there'];
    }
  }
}
