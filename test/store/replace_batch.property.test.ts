// TreeWriter.beginReplace, the arena side of a Zab reload (recovery_arena.ts reloadIntoArena):
// an arena holding a random tree A (bulk-loaded, then changed txn by txn) and a reader pinning
// A's root; one batch that starts empty, gets a random tree B's "snapshot" (the bulk loader,
// into_open_batch) and then the rest of B's txns (an Applier), committed once (rewinding the
// zxid when B's is lower). The new root equals B in everything arenaDiff compares; the pinned
// root reads A exactly as before; once unpinned, the leak audit finds exactly B. Small pages
// (1 KiB), names up to 300 bytes (overflow keys) and data up to 9 KB (page runs), ephemerals,
// containers and TTL nodes (the owner index) come from txn_gen.ts.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Applier } from '../../src/commit/applier.js';
import { auditArena } from '../../src/store/arena/check.js';
import { createArenaHandle } from '../../src/store/arena/memory.js';
import { writeNodeStream } from '../../src/store/arena/node_stream.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { TreeWriter } from '../../src/store/arena/tree_writer.js';
import { loadArenaFromTree } from '../../src/store/tree_mirror.js';
import { DataTree } from '../../src/tree/data_tree.js';
import type { Txn } from '../../src/tree/txn.js';
import { bounded } from '../support/fc_bounds.js';
import { arenaDiff } from './tree_equal.js';
import { cmd, type Cmd, TxnSource } from './txn_gen.js';

const SMALL = { page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64, reader_slots: 8, root_ring: 8 };

/** A digest of everything a pinned root holds (node stream: paths, stored stats, data, ACLs). */
function digest(view: TreeReader): string {
  const h = createHash('sha256');
  writeNodeStream(view, (chunk) => h.update(chunk), { last_zxid: view.last_zxid });
  return h.digest('hex');
}

/** The txns of `cmds` against a fresh DataTree, and the tree after each prefix on demand. */
function txnsOf(cmds: readonly Cmd[]): Txn[] {
  const tree = new DataTree();
  const source = new TxnSource(tree);
  const out: Txn[] = [];
  for (const c of cmds) {
    const txn = source.next(c);
    if (txn === null) continue;
    tree.apply(txn);
    out.push(txn);
  }
  return out;
}

function treeOf(txns: readonly Txn[]): DataTree {
  const tree = new DataTree();
  for (const t of txns) tree.apply(t);
  return tree;
}

/** Applies txns through an Applier into the writer's open batch. */
function applyAll(writer: TreeWriter, after_zxid: number, txns: readonly Txn[]): void {
  const applier = new Applier(writer, after_zxid);
  for (const t of txns) applier.apply(t);
}

const replace_case = fc.record({
  old_cmds: fc.array(cmd, { maxLength: 150 }),
  old_split: fc.nat(),
  new_cmds: fc.array(cmd, { maxLength: 150 }),
  new_split: fc.nat(),
  after: fc.array(cmd, { maxLength: 30 }),
  fresh: fc.boolean(),
});

describe('TreeWriter.beginReplace', () => {
  it('one batch from empty: the new root is exactly B, a root pinned before reads A, and A is all reclaimed', () => {
    fc.assert(
      fc.property(replace_case, ({ old_cmds, old_split, new_cmds, new_split, after, fresh }) => {
        const handle = createArenaHandle(SMALL);
        const writer = new TreeWriter(handle);
        // A: bulk-loaded, then txns in a batch of their own (copy-on-write pages, retired memory).
        const A = txnsOf(old_cmds);
        const a_cut = old_split % (A.length + 1);
        const a_tree = treeOf(A);
        if (!fresh) {
          loadArenaFromTree(writer, treeOf(A.slice(0, a_cut)));
          writer.begin();
          applyAll(writer, a_cut === 0 ? 0 : A[a_cut - 1].header.zxid, A.slice(a_cut));
          writer.commit(a_tree.last_zxid);
        }
        const pinned = new TreeReader(handle);
        pinned.pin();
        const before = digest(pinned);
        const gen_before = writer.generation;

        // B: a snapshot (its first b_cut txns) bulk-loaded into the open batch, then the rest.
        const B = txnsOf(new_cmds);
        const b_cut = new_split % (B.length + 1);
        const b_tree = treeOf(B);
        writer.beginReplace();
        expect(writer.view.nodeCount()).toBe(0);
        loadArenaFromTree(writer, treeOf(B.slice(0, b_cut)), { into_open_batch: true });
        applyAll(writer, b_cut === 0 ? 0 : B[b_cut - 1].header.zxid, B.slice(b_cut));
        // Nothing published in between: a new pin still gets A.
        const mid = new TreeReader(handle);
        expect(mid.pin()).toBe(gen_before);
        expect(digest(mid)).toBe(before);
        mid.close();
        writer.commit(b_tree.last_zxid, { rewind: true });

        expect(writer.generation).toBe(gen_before + 1);
        const newest = new TreeReader(handle);
        newest.pin();
        expect(arenaDiff(newest, b_tree)).toEqual([]);
        newest.close();
        expect(writer.approximate_data_bytes).toBe(b_tree.approximate_data_size);
        expect(writer.acl_lists).toBe(new Set([...b_tree.entries()].map(([, n]) => JSON.stringify(n.acl))).size);
        expect(digest(pinned)).toBe(before);
        if (!fresh) expect(arenaDiff(pinned, a_tree)).toEqual([]);

        // B goes on as usual; then the pin goes and A's memory with it.
        const tail = txnsOf([...new_cmds, ...after]).slice(B.length);
        writer.begin();
        applyAll(writer, b_tree.last_zxid, tail);
        writer.commit(tail.at(-1)?.header.zxid ?? b_tree.last_zxid);
        expect(digest(pinned)).toBe(before);
        pinned.close();
        writer.reclaim();
        expect(writer.stats().bytes_retired).toBe(0);
        const final_tree = treeOf([...B, ...tail]);
        expect(auditArena(writer).nodes).toBe(final_tree.node_count);
        expect(arenaDiff(writer.view, final_tree)).toEqual([]);
      }),
      bounded({ numRuns: 30 }),
    );
  }, 120_000);

  it('refuses to load into the open batch twice, or without beginReplace', () => {
    const writer = TreeWriter.create(SMALL);
    expect(() => loadArenaFromTree(writer, new DataTree(), { into_open_batch: true })).toThrow(/without an open batch/);
    writer.beginReplace();
    loadArenaFromTree(writer, new DataTree(), { into_open_batch: true });
    expect(() => loadArenaFromTree(writer, new DataTree(), { into_open_batch: true })).toThrow(/already holds 4 nodes/);
  });
});
