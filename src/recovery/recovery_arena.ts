// Recovery straight into the replica's shared tree: the newest usable snapshot is loaded
// (arena_snapshot_loader.ts: streamed into the bulk loader when the file is in key order, as the
// shared tree writes them), then the log after it is applied by an Applier, as committed txns
// are at run time. No heap copy of the tree is ever built.
// - recoverIntoArena (start-up): into an empty arena; the snapshot is one batch, the replayed
//   log another.
// - reloadIntoArena (after a Zab TRUNC or SNAP): into an arena that holds another tree, which
//   readers may still pin. TreeWriter.beginReplace opens ONE batch whose tree starts empty (the
//   old tree retired into it); snapshot and log both go into it and it is committed once, with
//   the recovered zxid (rewinding, after a TRUNC). Nothing in between publishes, so a reader
//   sees the old tree or the new one, never a mix nor an intermediate state.

import { CONFIG_NODE } from '../protocol/constants.js';
import { Applier } from '../commit/applier.js';
import type { SnapshotInfo } from '../snapshot/snapshot_format.js';
import type { SessionTable } from '../snapshot/snapshot_reader.js';
import { loadSnapshotFileIntoArena, SnapshotLoadHalfWayError } from '../snapshot/arena_snapshot_loader.js';
import { ARENA_CONFIG_KEYS } from '../store/arena/config.js';
import { ArenaFullError, ArenaInvariantError } from '../store/arena/errors.js';
import type { TreeWriter } from '../store/arena/tree_writer.js';
import { loadArenaFromTree } from '../store/tree_mirror.js';
import { DataTree } from '../tree/data_tree.js';
import type { Txn } from '../tree/txn.js';
import { recoverInto, RecoveryError, type RecoveredLog, type RecoveryOptions, type RecoveryTarget } from './recovery.js';

export type ArenaRecovered = RecoveredLog & { snapshot_method: string | null };

/**
 * What a replica writes into its own tree after recovery, never logged nor replicated
 * (ZooKeeper's ZKDatabase.initConfigInZKDatabase): /zookeeper/config holds the ensemble's
 * membership as QuorumVerifier text (config/quorum_config_text.ts); null leaves it as recovered
 * (standalone: empty, as ZooKeeper's standalone server has it).
 */
export interface LocalNodes {
  readonly config_data: Uint8Array | null;
  /** True: the recovered node's data stays (a membership a reconfig made); default false. */
  readonly keep?: (current: Uint8Array) => boolean;
}

const NO_LOCAL_NODES: LocalNodes = { config_data: null };

/** Recovers into `writer`'s arena, which must be empty (a fresh TreeWriter); publishes the result. */
export function recoverIntoArena(writer: TreeWriter, opts: RecoveryOptions, local: LocalNodes = NO_LOCAL_NODES): ArenaRecovered {
  const target = new ArenaTarget(writer, false, local);
  const state = recoverInto(target, opts);
  target.finish(state.last_zxid);
  return { ...state, snapshot_method: target.method };
}

/**
 * Re-recovers the state on disk into `writer`'s arena, which holds another tree (the writer
 * has no batch open), and publishes it as one new generation with the recovered last zxid,
 * which may be before the arena's (a TRUNC). Roots published before stay readable while pinned;
 * their memory is reclaimed once no reader pins them, so the arena must have room for both
 * trees meanwhile. Any failure once the batch is open is a RecoveryError the replica cannot go
 * on from (the old tree is already retired from the newest state): stop the commit worker.
 */
export function reloadIntoArena(writer: TreeWriter, opts: RecoveryOptions, local: LocalNodes = NO_LOCAL_NODES): ArenaRecovered {
  if (writer.in_batch) throw new ArenaInvariantError('reloadIntoArena: the writer has a batch open');
  try {
    writer.beginReplace();
    const target = new ArenaTarget(writer, true, local);
    const state = recoverInto(target, opts);
    target.finish(state.last_zxid);
    return { ...state, snapshot_method: target.method };
  } catch (e) {
    const message = `reloading the state on disk into the shared tree failed half way; the replica cannot go on: ${reloadFailure(e)}`;
    // The open batch holds part of a tree: it must never be published.
    writer.abandon(message);
    throw new RecoveryError(message, { cause: e });
  }
}

/** Causes followed to find a full arena behind a failed reload (errors wrap one another). */
const CAUSE_DEPTH_MAX = 8;

/** The message of a failed reload, naming the arena bound to raise when it ran out of room. */
function reloadFailure(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  let cause = e;
  for (let depth = 0; depth < CAUSE_DEPTH_MAX && cause instanceof Error && !(cause instanceof ArenaFullError); depth++) cause = cause.cause;
  if (!(cause instanceof ArenaFullError)) return message;
  return `${message} (a reload holds the old tree, until no reader pins it, and the new one at once: raise ${ARENA_CONFIG_KEYS.segments_max})`;
}

class ArenaTarget implements RecoveryTarget {
  private applier: Applier | null = null;
  method: string | null = null;
  /** The Applier copies data into the arena (TreeWriter.create / setData) before apply returns. */
  readonly copies_data = true;

  /** `replacing`: fill the open batch of TreeWriter.beginReplace and commit it once (finish). */
  constructor(
    private readonly writer: TreeWriter,
    private readonly replacing: boolean,
    private readonly local: LocalNodes,
  ) {}

  loadSnapshot(path: string, sessions: SessionTable | null): SnapshotInfo {
    try {
      const loaded = loadSnapshotFileIntoArena(path, this.writer, sessions, { into_open_batch: this.replacing });
      this.method = loaded.method;
      this.applier = new Applier(this.writer, loaded.zxid);
      this.applier.recountQuotas();
      return loaded;
    } catch (e) {
      // The loader checks the whole file before it writes (a refused file leaves the tree empty:
      // an older snapshot may be tried); a failure after it began writing leaves a batch the
      // arena cannot take back.
      if (e instanceof SnapshotLoadHalfWayError) throw new RecoveryError(`${path}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  loadEmpty(): void {
    loadArenaFromTree(this.writer, new DataTree(), { into_open_batch: this.replacing });
    this.applier = new Applier(this.writer, 0);
  }

  /** At start-up the first txn opens the log's batch; when replacing it joins the open one. */
  apply(txn: Txn): void {
    this.applier!.replay(txn);
  }

  /** Publishes what is not yet: the replayed txns (start-up), or the whole replacing batch,
   *  with this replica's own nodes set. */
  finish(last_zxid: number): void {
    this.setLocalNodes();
    if (this.replacing) this.writer.commit(last_zxid, { rewind: true });
    else this.applier!.seal();
  }

  /** As ZooKeeper sets the config node: setData with version -1 and zxid 0, the local time. */
  private setLocalNodes(): void {
    if (this.local.config_data === null) return;
    const view = this.writer.view;
    if (this.local.keep !== undefined && view.findPath(CONFIG_NODE) && this.local.keep(view.data() ?? new Uint8Array(0))) return;
    if (!this.writer.in_batch) this.writer.begin();
    this.writer.setData(CONFIG_NODE, this.local.config_data, -1, 0, Date.now());
  }
}
