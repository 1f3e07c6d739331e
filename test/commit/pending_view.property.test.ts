import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Applier } from '../../src/commit/applier.js';
import { PendingView } from '../../src/commit/pending_view.js';
import { Op } from '../../src/protocol/opcodes.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';
import { DataTree } from '../../src/tree/data_tree.js';
import { prepRequest, type PrepContext } from '../../src/tree/prep.js';
import { reapCandidates } from '../../src/tree/reaper.js';
import type { Txn, TxnHeader, TxnOp } from '../../src/tree/txn.js';
import { bounded } from '../support/fc_bounds.js';
import { arenaDiff } from '../store/tree_equal.js';
import { SESSIONS } from '../store/txn_gen.js';
import { req_cmd, type ReqCmd, type Work, workFor } from './pending_requests.js';

// Prep against the PendingView (the arena's committed state + the txns in flight) makes the same
// txns as prep against a heap DataTree that applies every txn right after prep (what the commit
// worker did before the view existed). The same random requests are prepped against both; the
// arena receives the txns through the Applier only at random commit points (a random prefix of
// those in flight, sealed or not), then `applied`. A "quorum lost" step drops the txns in flight
// on both sides (the heap tree is rebuilt from the committed txns; the view is cleared).

/** Small pages: B+trees several levels deep with a few hundred nodes (as the Applier's test). */
const SMALL = { page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64, reader_slots: 8, root_ring: 8 };
/** A closing session's paths and the reaper's candidates are compared at this age. */
const REAP_AGE_MS = 50_000;

type Step = ReqCmd | { kind: 'commit'; count: number; seal: boolean } | { kind: 'quorumLost' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 20, arbitrary: req_cmd },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), count: fc.nat(), seal: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'quorumLost' as const }) },
);

const show = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<${x.length} bytes>` : x));

/** The facts prep and the reaper read, as plain data (ZNode and overlay objects differ in shape). */
function factsOf(f: { acl: readonly unknown[]; version: number; cversion: number; aversion: number; ephemeralOwner: bigint; child_count: number; mtime: number } | undefined): unknown {
  if (f === undefined) return undefined;
  const { acl, version, cversion, aversion, ephemeralOwner, child_count, mtime } = f;
  return { acl, version, cversion, aversion, ephemeralOwner, child_count, mtime };
}

/** The heap tree prep used before, the arena + PendingView that replace it, fed the same work. */
class Twin {
  heap = new DataTree();
  readonly writer = TreeWriter.create(SMALL);
  readonly applier: Applier;
  readonly view: PendingView;
  /** Txns prepped, not yet applied to the arena, in zxid order. */
  inflight: Txn[] = [];
  /** Txns applied to the arena (the heap tree is rebuilt from them when the quorum is lost). */
  readonly committed: Txn[] = [];
  /** Every path a node ever had (reads of deleted paths must answer undefined too). */
  readonly seen = new Set<string>(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);
  private zxid = 0;
  time_ms = 1_700_000_000_000;

  constructor() {
    this.writer.begin();
    createSystemNodes(this.writer);
    this.writer.commit(0);
    this.applier = new Applier(this.writer, 0);
    // Sweeps the overlay's retired entries whenever there are 2 or more (4096 in the product).
    this.view = new PendingView(this.writer.view, 0, 2);
  }

  private header(session_id: bigint): TxnHeader {
    this.zxid += 1;
    this.time_ms += 1 + (this.zxid % 7);
    return { session_id, cxid: this.zxid, zxid: this.zxid, time_ms: this.time_ms };
  }

  private ctx(tree: PrepContext['tree'], w: Extract<Work, { kind: 'prep' }>): PrepContext {
    return { tree, session_id: w.session_id, auth: [{ scheme: 'ip', id: '127.0.0.1' }], is_super: w.is_super, now_ms: this.time_ms, ttl_enabled: true, quota: null };
  }

  /** Preps `c` against both trees (the txns must be identical) and records it on both. */
  run(c: ReqCmd): void {
    const work = workFor(c, this.heap);
    if (work === null) return;
    const header = this.header(work.session_id);
    let op: TxnOp = work.kind === 'raw' ? work.op : prepRequest(this.ctx(this.heap, work), work.opcode, work.request);
    if (work.kind === 'prep') {
      // PrepContext.tree is typed DataTree until prep takes a PrepTree (see pending_view.ts).
      const from_view = prepRequest(this.ctx(this.view as unknown as DataTree, work), work.opcode, work.request);
      expect(from_view, `txn ${header.zxid} for ${show(c)}`).toStrictEqual(op);
      op = from_view;
    }
    const txn: Txn = { header, op };
    this.heap.apply(txn);
    this.view.record(txn);
    this.inflight.push(txn);
    if (op.kind === 'create') this.seen.add(op.path);
    if (op.kind === 'multi') for (const o of op.ops) if (o.kind === 'create') this.seen.add(o.path);
  }

  /** The Applier applies the first `count` txns in flight (mod their number + 1). */
  commit(count: number, seal: boolean): void {
    const n = count % (this.inflight.length + 1);
    for (const txn of this.inflight.splice(0, n)) {
      this.applier.apply(txn);
      this.committed.push(txn);
    }
    if (seal) this.applier.seal();
    if (n > 0) this.view.applied(this.committed[this.committed.length - 1].header.zxid);
  }

  /** The txns in flight are lost: the heap tree goes back to the committed txns. */
  quorumLost(): void {
    this.inflight = [];
    this.view.clear();
    this.heap = new DataTree();
    for (const txn of this.committed) this.heap.apply(txn);
  }

  /** What prep's callers read besides get: zxid, ephemerals, containers, TTL nodes. */
  checkIndexes(label: string): void {
    expect(this.view.last_zxid, label).toBe(this.heap.last_zxid);
    for (const s of SESSIONS) expect(this.view.ephemerals(s), `${label}: ephemerals of ${s}`).toEqual(this.heap.ephemerals(s));
    expect(this.view.containers(), label).toEqual([...this.heap.containers()].sort());
    expect(this.view.ttls(), label).toEqual([...this.heap.ttls()].sort());
  }

  /** Every node ever seen reads the same in both; the reaper picks the same candidates. */
  checkNodes(label: string): void {
    for (const path of this.seen) expect(factsOf(this.view.get(path)), `${label}: ${path}`).toStrictEqual(factsOf(this.heap.get(path)));
    const now_ms = this.time_ms + REAP_AGE_MS;
    expect(reapCandidates(this.view as unknown as DataTree, now_ms, { never_used_ms: 10_000 }), label).toEqual(reapCandidates(this.heap, now_ms, { never_used_ms: 10_000 }));
    if (this.inflight.length === 0) expect(this.view.size, `${label}: nothing in flight`).toBe(0);
  }
}

function runSteps(steps: readonly Step[]): void {
  const t = new Twin();
  steps.forEach((s, i) => {
    const label = `step ${i} (${s.kind})`;
    switch (s.kind) {
      case 'commit':
        t.commit(s.count, s.seal);
        t.checkNodes(label);
        break;
      case 'quorumLost':
        t.quorumLost();
        t.checkNodes(label);
        break;
      default:
        t.run(s);
    }
    t.checkIndexes(label);
  });
  t.commit(t.inflight.length, true);
  t.checkNodes('the end');
  expect(t.view.size).toBe(0);
  expect(arenaDiff(t.writer.view, t.heap)).toEqual([]);
}

describe('PendingView', () => {
  it('gives prep the same txns as a heap tree that applies every txn at once, whenever commits land', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 250, size: 'max' }), runSteps), bounded({ numRuns: 60 }));
  }, 120_000);

  it('matches the heap tree with long runs of txns in flight (commits rare, closes of busy sessions)', () => {
    const rare_commits = fc.oneof(
      { weight: 60, arbitrary: req_cmd },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('commit' as const), count: fc.nat(), seal: fc.boolean() }) },
    );
    fc.assert(fc.property(fc.array(rare_commits, { minLength: 50, maxLength: 250, size: 'max' }), runSteps), bounded({ numRuns: 15 }));
  }, 120_000);
});

describe('PendingView.applied', () => {
  const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  const S = 0x42n;
  const txn = (zxid: number, op: TxnOp, session_id = 0n): Txn => ({ header: { session_id, cxid: zxid, zxid, time_ms: 1000 + zxid }, op });
  const create = (path: string, parent_cversion: number, owner = 0n): TxnOp => ({ kind: 'create', path, data: null, acl, ephemeral_owner: owner, parent_cversion, opcode: Op.create });

  function setup(): { writer: TreeWriter; applier: Applier; view: PendingView; txns: Txn[] } {
    const writer = TreeWriter.create(SMALL);
    writer.begin();
    createSystemNodes(writer);
    writer.commit(0);
    const txns = [
      txn(1, create('/a', 1)), //                                        touches /, /a
      txn(2, { kind: 'setData', path: '/a', data: null, version: 1 }), //   /a
      txn(3, create('/zookeeper/q', 1)), //                               /zookeeper, /zookeeper/q
      txn(4, { kind: 'check', path: '/a', version: 1 }), //                 nothing
      txn(5, create('/a/e', 1, S), S), //                                 /a, /a/e
    ];
    const view = new PendingView(writer.view, 0);
    for (const t of txns) view.record(t);
    return { writer, applier: new Applier(writer, 0), view, txns };
  }

  it('drops exactly the entries whose last touching txn the arena now holds', () => {
    const { applier, view, txns } = setup();
    expect(view.size).toBe(5);
    expect(view.last_zxid).toBe(5);
    let applied_zxid = 0;
    /** The Applier applies the txns up to `zxid`, then the view is told. */
    const through = (zxid: number): void => {
      for (const t of txns) if (t.header.zxid > applied_zxid && t.header.zxid <= zxid) applier.apply(t);
      applied_zxid = zxid;
      view.applied(zxid);
    };
    through(1);
    // '/' was last touched by txn 1; /a by txn 5 (still pending): the overlay keeps it.
    expect(view.size).toBe(4);
    expect(view.get('/a')).toMatchObject({ version: 1, child_count: 1, cversion: 1 });
    expect(view.ephemerals(S)).toEqual(['/a/e']);
    through(3);
    expect(view.size).toBe(2);
    through(4);
    expect(view.size).toBe(2);
    expect(view.get('/a/e')).toMatchObject({ ephemeralOwner: S, mtime: 1005 });
    through(5);
    expect(view.size).toBe(0);
    // Now read from the arena: the same facts.
    expect(view.get('/a')).toMatchObject({ version: 1, child_count: 1, cversion: 1, mtime: 1002 });
    expect(view.get('/zookeeper')).toMatchObject({ child_count: 3, cversion: 1 });
    expect(view.ephemerals(S)).toEqual(['/a/e']);
    expect(view.last_zxid).toBe(5);
  });

  it('a path written again after the overlay swept its retired entry out is pending again', () => {
    const writer = TreeWriter.create(SMALL);
    writer.begin();
    createSystemNodes(writer);
    writer.commit(0);
    const applier = new Applier(writer, 0);
    // Sweep minimum 0: the overlay is rebuilt whenever retired entries are at least the live ones.
    const view = new PendingView(writer.view, 0, 0);
    const t1 = txn(1, create('/a', 1));
    const t2 = txn(2, create('/b', 2));
    for (const t of [t1, t2]) {
      view.record(t);
      applier.apply(t);
    }
    view.applied(2); // retires /, /a, /b (the last looked up) and sweeps them all out
    expect(view.size).toBe(0);
    view.record(txn(3, { kind: 'setData', path: '/b', data: null, version: 1 }));
    expect(view.size).toBe(1);
    expect(view.get('/a')).toMatchObject({ version: 0, mtime: 1001 });
    expect(view.get('/b')).toMatchObject({ version: 1, mtime: 1003 });
  });

  it('applied past every recorded txn (commits from a new leader) empties the overlay', () => {
    const { applier, view, txns } = setup();
    for (const t of txns) applier.apply(t);
    view.applied(9);
    expect(view.size).toBe(0);
    expect(view.last_zxid).toBe(9);
    expect(() => view.applied(8)).toThrow(/applied zxid 0x8 before 0x9/);
    expect(() => view.record(txn(9, { kind: 'check', path: '/a', version: 1 }))).toThrow(/zxid 0x9 after 0x9/);
  });

  it('clear forgets the txns in flight: reads fall back to the arena', () => {
    const { applier, view, txns } = setup();
    for (const t of txns.slice(0, 2)) applier.apply(t);
    view.applied(2);
    view.record(txn(6, { kind: 'closeSession', paths: ['/a/e'] }, S));
    expect(view.get('/a/e')).toBeUndefined();
    expect(view.ephemerals(S)).toEqual([]);
    view.clear();
    expect(view.size).toBe(0);
    expect(view.last_zxid).toBe(2);
    expect(view.get('/a/e')).toBeUndefined();
    expect(view.get('/zookeeper/q')).toBeUndefined();
    expect(view.get('/a')).toMatchObject({ version: 1, child_count: 0 });
    // A TRUNC rewinds the arena: the view follows it back.
    expect(() => view.applied(1)).toThrow(/before 0x2/);
    view.resetTo(1);
    expect(view.last_zxid).toBe(1);
    view.record(txn(2, { kind: 'check', path: '/a', version: 1 }));
    expect(view.last_zxid).toBe(2);
  });

  it('records nothing of a multi that holds an error op, whatever its other ops', () => {
    const { view } = setup();
    const before = view.size;
    view.record(txn(6, { kind: 'multi', ops: [create('/b', 2), { kind: 'setData', path: '/a', data: null, version: 7 }, { kind: 'error', err: -101 }] }));
    expect(view.get('/b')).toBeUndefined();
    expect(view.get('/a')).toMatchObject({ version: 1 });
    expect(view.size).toBe(before);
    expect(view.last_zxid).toBe(6);
  });

  it('refuses a txn that does not fit the pending state, naming the path', () => {
    const { view } = setup();
    expect(() => view.record(txn(6, { kind: 'delete', path: '/nope', opcode: Op.delete }))).toThrow(/no node \/nope/);
    expect(() => view.record(txn(7, create('/a', 2)))).toThrow(/create of existing \/a/);
    expect(() => view.record(txn(8, { kind: 'delete', path: '/a', opcode: Op.delete }))).toThrow(/delete of non-empty \/a/);
  });
});
