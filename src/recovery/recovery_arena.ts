// Recovery straight into the replica's shared tree (start-up): the newest usable snapshot is
// loaded into the empty arena (arena_snapshot_loader.ts: streamed into the bulk loader when the
// file is in key order, as the shared tree writes them), then the log after it is applied by an
// Applier, as committed txns are at run time. No heap copy of the tree is ever built.

import { Applier } from '../commit/applier.js';
import type { SnapshotInfo } from '../snapshot/snapshot_format.js';
import type { SessionTable } from '../snapshot/snapshot_reader.js';
import { loadSnapshotFileIntoArena } from '../snapshot/arena_snapshot_loader.js';
import type { TreeWriter } from '../store/arena/tree_writer.js';
import { loadArenaFromTree } from '../store/tree_mirror.js';
import { DataTree } from '../tree/data_tree.js';
import type { Txn } from '../tree/txn.js';
import { recoverInto, RecoveryError, type RecoveredLog, type RecoveryOptions, type RecoveryTarget } from './recovery.js';

/** Recovers into `writer`'s arena, which must be empty (a fresh TreeWriter); publishes the result. */
export function recoverIntoArena(writer: TreeWriter, opts: RecoveryOptions): RecoveredLog & { snapshot_method: string | null } {
  const target = new ArenaTarget(writer);
  const state = recoverInto(target, opts);
  target.finish();
  return { ...state, snapshot_method: target.method };
}

class ArenaTarget implements RecoveryTarget {
  private applier: Applier | null = null;
  method: string | null = null;

  constructor(private readonly writer: TreeWriter) {}

  loadSnapshot(path: string, sessions: SessionTable | null): SnapshotInfo {
    try {
      const loaded = loadSnapshotFileIntoArena(path, this.writer, sessions);
      this.method = loaded.method;
      this.applier = new Applier(this.writer, loaded.zxid);
      return loaded;
    } catch (e) {
      // The loader checks the whole file before it writes; a failure after it began writing
      // leaves a batch the arena cannot take back: no older snapshot can be tried in it.
      if (this.writer.in_batch) throw new RecoveryError(`loading ${path} into the shared tree failed half way: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    }
  }

  loadEmpty(): void {
    loadArenaFromTree(this.writer, new DataTree());
    this.applier = new Applier(this.writer, 0);
  }

  apply(txn: Txn): void {
    this.applier!.apply(txn);
  }

  /** Publishes the replayed txns (one batch). */
  finish(): void {
    this.applier!.seal();
  }
}
