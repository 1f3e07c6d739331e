import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditArena } from '../../src/store/arena/check.js';
import { ArenaInvariantError } from '../../src/store/arena/errors.js';
import { createArenaHandle, type ArenaHandle } from '../../src/store/arena/memory.js';
import { writeNodeStream } from '../../src/store/arena/node_stream.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';
import { Applier } from '../../src/commit/applier.js';
import { loadArenaFromTree } from '../../src/store/tree_mirror.js';
import { compareUtf8 } from '../../src/store/tree_node_stream.js';
import { DataTree } from '../../src/tree/data_tree.js';
import type { Txn } from '../../src/tree/txn.js';
import { ZNode } from '../../src/tree/znode.js';
import { bounded } from '../support/fc_bounds.js';
import { arenaDiff } from './tree_equal.js';
import { cmd, type Cmd, TxnSource } from './txn_gen.js';

// The arena mirrors the heap DataTree: the same random txns (made by prep against the heap tree,
// plus hand-made closeSessions and raw creates) go to DataTree.apply and to the Applier (whose
// result, reply and watch triggers, must equal DataTree.apply's), in
// random batches. After every batch the newest root equals the heap tree in everything arenaDiff
// compares; roots pinned before later batches read as they did. Small pages (1 KiB) make the
// B+trees several levels deep with a few hundred nodes; names up to 300 bytes overflow keys;
// data up to 9 KB takes page runs. loadArenaFromTree is held to the same (a Zab reload's
// replacing batch: replace_batch.property.test.ts).

const SMALL = { page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64, reader_slots: 8, root_ring: 8 };

type Step = Cmd | { kind: 'commit' } | { kind: 'pin' } | { kind: 'unpin'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 20, arbitrary: cmd },
  { weight: 3, arbitrary: fc.constant({ kind: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pin' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unpin' as const), pick: fc.nat() }) },
);

/** A digest of everything a pinned root holds (the node stream: paths, stored stats, data, ACLs). */
function viewDump(view: TreeReader): string {
  const h = createHash('sha256');
  writeNodeStream(view, (chunk) => h.update(chunk), { last_zxid: view.last_zxid });
  return h.digest('hex');
}

/** The heap tree after the first `n` txns of `log` (apply is deterministic). */
function replay(log: readonly Txn[], n: number): DataTree {
  const tree = new DataTree();
  for (let i = 0; i < n; i++) tree.apply(log[i]);
  return tree;
}

/** Pins the newest root, diffs it against `tree`, unpins. */
function newestDiff(handle: ArenaHandle, tree: DataTree): string[] {
  const reader = new TreeReader(handle);
  reader.pin();
  try {
    return arenaDiff(reader, tree);
  } finally {
    reader.close();
  }
}

interface Pinned {
  reader: TreeReader;
  /** Txns applied when the pinned root was published. */
  txns: number;
  dump: string;
}

/** A heap tree and an arena tree fed the same txns. */
class Mirror {
  readonly tree = new DataTree();
  readonly source = new TxnSource(this.tree);
  readonly log: Txn[] = [];
  /** Txns in published batches. */
  committed = 0;

  private readonly applier: Applier;

  /** via_replay: txns go through Applier.replay (recovery's path: no result to compare). */
  constructor(
    readonly writer: TreeWriter,
    private readonly via_replay = false,
  ) {
    this.applier = new Applier(writer, 0);
  }

  /** Makes and applies the txn of `c` to both trees (inside the writer's open batch); the
   *  Applier's result (reply and watch triggers) is the heap tree's. */
  apply(c: Cmd): void {
    const txn = this.source.next(c);
    if (txn === null) return;
    this.log.push(txn);
    const expected = this.tree.apply(txn);
    if (this.via_replay) this.applier.replay(txn);
    else expect(this.applier.apply(txn), `result of txn ${this.log.length} (${txn.op.kind})`).toEqual(expected);
  }

  commit(): void {
    this.writer.commit(this.tree.last_zxid);
    this.committed = this.log.length;
  }
}

function runTxns(steps: Step[], via_replay = false): void {
  const handle = createArenaHandle(SMALL);
  const writer = new TreeWriter(handle);
  writer.begin();
  createSystemNodes(writer);
  writer.commit(0);
  const m = new Mirror(writer, via_replay);
  expect(newestDiff(handle, m.tree)).toEqual([]);
  const pinned: Pinned[] = [];
  const verifyPinned = (): void => {
    for (const p of pinned) expect(viewDump(p.reader), `root pinned after ${p.txns} txns`).toBe(p.dump);
  };
  const closePin = (p: Pinned): void => {
    expect(arenaDiff(p.reader, replay(m.log, p.txns)), `root pinned after ${p.txns} txns`).toEqual([]);
    p.reader.close();
  };
  writer.begin();
  for (const s of steps) {
    switch (s.kind) {
      case 'commit':
        m.commit();
        expect(newestDiff(handle, m.tree), `after txn ${m.log.length}`).toEqual([]);
        expect(writer.approximate_data_bytes).toBe(m.tree.approximate_data_size);
        verifyPinned();
        writer.begin();
        break;
      case 'pin': {
        if (pinned.length >= 5) break;
        const reader = new TreeReader(handle);
        reader.pin();
        pinned.push({ reader, txns: m.committed, dump: viewDump(reader) });
        break;
      }
      case 'unpin':
        if (pinned.length > 0) closePin(pinned.splice(s.pick % pinned.length, 1)[0]);
        break;
      default:
        m.apply(s);
        // The writer's view reads its open batch.
        expect(writer.view.nodeCount()).toBe(m.tree.node_count);
    }
  }
  m.commit();
  expect(newestDiff(handle, m.tree)).toEqual([]);
  verifyPinned();
  for (const p of pinned) closePin(p);
  // Nothing pinned: the next batch reclaims everything, and no page leaks.
  writer.begin();
  writer.commit(m.tree.last_zxid);
  expect(auditArena(writer).nodes).toBe(m.tree.node_count);
}

/** A heap tree built from commands (no arena). */
function heapTree(cmds: readonly Cmd[]): DataTree {
  const tree = new DataTree();
  const source = new TxnSource(tree);
  for (const c of cmds) {
    const txn = source.next(c);
    if (txn !== null) tree.apply(txn);
  }
  return tree;
}

/** Applies `txn` through a fresh Applier (the tests below start at zxid 0 each time). */
function applyTxnToArena(writer: TreeWriter, txn: Txn): void {
  new Applier(writer, txn.header.zxid - 1).apply(txn);
}

describe('Applier', () => {
  it('keeps the newest root equal to the heap tree after every batch; pinned roots stay as they were', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 250, size: 'max' }), (steps) => runTxns(steps)), bounded({ numRuns: 30 }));
  }, 120_000);

  it('replays (recovery: no results) into the same trees as it applies', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 250, size: 'max' }), (steps) => runTxns(steps, true)),
      bounded({ numRuns: 20 }),
    );
  }, 120_000);

  it('closes a session with hundreds of ephemerals, listed and unlisted, in one txn', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 400; i++) {
      steps.push({ kind: 'create', parent: i % 3 === 0 ? 0 : i * 7919, name: `e${i}`, mode: i % 2 === 0 ? 'ephemeral' : 'eseq', session: i % 3 === 0 ? 2 : 0, data: new Uint8Array(i % 40), acl: i % 4, ttl_ms: 1 });
      if (i % 50 === 0) steps.push({ kind: 'create', parent: i, name: `p${i}`, mode: 'persistent', session: 0, data: null, acl: 0, ttl_ms: 1 });
    }
    steps.push({ kind: 'commit' }, { kind: 'pin' });
    steps.push({ kind: 'closeSession', session: 0, listing: 'some' }, { kind: 'commit' });
    steps.push({ kind: 'closeSession', session: 2, listing: 'none' }, { kind: 'commit' });
    runTxns(steps);
  });

  it('builds a deep tree in a few large batches and tears it down again', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 1500; i++) {
      const modes = ['persistent', 'persistent', 'pseq', 'ephemeral', 'container', 'ttl'] as const;
      steps.push({ kind: 'create', parent: i * 7919, name: `n${(i * 31) % 997}x${i}`, mode: modes[i % 6], session: i % 3, data: new Uint8Array(i % 50), acl: i % 4, ttl_ms: 1 + i });
      if (i % 500 === 499) steps.push({ kind: 'commit' }, { kind: 'pin' });
    }
    for (let i = 0; i < 1600; i++) {
      steps.push({ kind: 'delete', pick: i * 104729 + 1 });
      if (i % 400 === 399) steps.push({ kind: 'commit' }, { kind: 'unpin', pick: i });
    }
    runTxns(steps);
  }, 60_000);

  it('applies nothing of a multi that holds an error op, whatever the other ops are', () => {
    const writer = TreeWriter.create(SMALL);
    const tree = new DataTree();
    loadArenaFromTree(writer, tree);
    writer.begin();
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    const txn: Txn = {
      header: { session_id: 1n, cxid: 1, zxid: 1, time_ms: 5 },
      op: { kind: 'multi', ops: [{ kind: 'create', path: '/a', data: null, acl, ephemeral_owner: 0n, parent_cversion: 1, opcode: 1 }, { kind: 'setData', path: '/zookeeper', data: null, version: 9 }, { kind: 'error', err: -101 }] },
    };
    applyTxnToArena(writer, txn);
    tree.apply(txn);
    writer.commit(1);
    expect(writer.view.findPath('/a')).toBe(false);
    expect(arenaDiff(writer.view, tree)).toEqual([]);
  });

  it('throws on a txn that does not fit the tree, and the batch stays usable', () => {
    const writer = TreeWriter.create(SMALL);
    const tree = new DataTree();
    loadArenaFromTree(writer, tree);
    writer.begin();
    const header = { session_id: 1n, cxid: 1, zxid: 1, time_ms: 5 };
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    const bad: Txn['op'][] = [
      { kind: 'create', path: '/a/b', data: null, acl, ephemeral_owner: 0n, parent_cversion: 1, opcode: 1 },
      { kind: 'create', path: '/zookeeper', data: null, acl, ephemeral_owner: 0n, parent_cversion: 1, opcode: 1 },
      { kind: 'delete', path: '/nope', opcode: 2 },
      { kind: 'delete', path: '/zookeeper', opcode: 2 },
      { kind: 'setData', path: '/nope', data: null, version: 1 },
      { kind: 'setACL', path: '/nope', acl, version: 1 },
      { kind: 'check', path: '/nope', version: 0 },
      { kind: 'multi', ops: [{ kind: 'setACL', path: '/', acl, version: 1 }] },
    ];
    for (const op of bad) expect(() => applyTxnToArena(writer, { header, op }), JSON.stringify(op, (_, v) => (typeof v === 'bigint' ? String(v) : v))).toThrow();
    const good: Txn = { header, op: { kind: 'create', path: '/a', data: null, acl, ephemeral_owner: 0n, parent_cversion: 1, opcode: 1 } };
    applyTxnToArena(writer, good);
    tree.apply(good);
    writer.commit(1);
    expect(arenaDiff(writer.view, tree)).toEqual([]);
  });
});

describe('loadArenaFromTree', () => {
  it('loads any heap tree into a fresh arena; txns applied afterwards keep them equal', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 300 }), fc.array(cmd, { maxLength: 60 }), (before, after) => {
        const handle = createArenaHandle(SMALL);
        const writer = new TreeWriter(handle);
        const m = new Mirror(writer);
        const tree = heapTree(before);
        // Continue from the loaded tree's state: replay `before` into the mirror's own tree.
        for (const c of before) {
          const txn = m.source.next(c);
          if (txn !== null) m.tree.apply(txn);
        }
        expect(m.tree.digest()).toBe(tree.digest());
        loadArenaFromTree(writer, m.tree);
        expect(newestDiff(handle, m.tree)).toEqual([]);
        writer.begin();
        for (const c of after) m.apply(c);
        m.commit();
        expect(newestDiff(handle, m.tree)).toEqual([]);
        writer.begin();
        writer.commit(m.tree.last_zxid);
        expect(auditArena(writer).nodes).toBe(m.tree.node_count);
      }),
      bounded({ numRuns: 25 }),
    );
  }, 120_000);

  it('loads a restored tree whose Map order is not parents-first', () => {
    const source = heapTree(fc.sample(fc.array(cmd, { minLength: 200, maxLength: 200 }), { numRuns: 1, seed: 7 })[0]);
    const restored = new DataTree();
    restored.beginRestore();
    const entries = [...source.entries()].reverse();
    for (const [path, n] of entries) {
      restored.restoreNode(path, new ZNode(n.data, n.acl, n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.ephemeralOwner));
    }
    restored.endRestore(source.last_zxid);
    expect(restored.digest()).toBe(source.digest());
    const writer = TreeWriter.create(SMALL);
    loadArenaFromTree(writer, restored);
    expect(arenaDiff(writer.view, restored)).toEqual([]);
  });

  it('orders parents whose names UTF-16 and UTF-8 order differently (surrogates, U+E000..U+FFFF)', () => {
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    const tree = new DataTree();
    let zxid = 0;
    const create = (path: string): void => {
      zxid++;
      const parent = tree.get(path.slice(0, path.lastIndexOf('/')) || '/')!;
      tree.apply({ header: { session_id: 0n, cxid: zxid, zxid, time_ms: zxid }, op: { kind: 'create', path, data: null, acl, ephemeral_owner: 0n, parent_cversion: parent.cversion + 1, opcode: 1 } });
    };
    for (const name of ['z', '\ue000', '😀', '\uffff', '\ufb01', 'a😀', 'a\uffff']) {
      create(`/${name}`);
      create(`/${name}/c\uffff`);
      create(`/${name}/c😀`);
      create(`/${name}/c😀/x`);
    }
    const writer = TreeWriter.create(SMALL);
    loadArenaFromTree(writer, tree);
    expect(arenaDiff(writer.view, tree)).toEqual([]);
  });

  it('refuses an arena that is not empty', () => {
    const writer = TreeWriter.create(SMALL);
    writer.begin();
    createSystemNodes(writer);
    writer.commit(0);
    expect(() => loadArenaFromTree(writer, new DataTree())).toThrow(/already holds 4 nodes/);
  });
});

describe('compareUtf8', () => {
  it('orders strings as their UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const bytes = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
        expect(Math.sign(compareUtf8(a, b))).toBe(bytes);
      }),
      bounded({ numRuns: 2000 }),
    );
    expect(['\uffff', '😀', '\ue000', 'z'].sort(compareUtf8)).toEqual(['z', '\ue000', '\uffff', '😀']);
  });
});
