// The commit worker's metric block: group-commit batch sizes, log write + fdatasync latency,
// txns committed, and snapshots (duration, and the zxid and time of the last one, which the
// admin command last_snapshot reports). Written only by the commit worker's thread (the thread
// that learns a snapshot finished calls snapshotSaved, even if another thread wrote the file).

import {
  BATCH_TXNS,
  DURATION_MS,
  histogramSlots,
  LATENCY_MS,
  observe,
  readHistogram,
  type HistogramSnapshot,
} from './histogram.js';
import { blockView, createBlock, SlotLayout } from './slots.js';

const L = new SlotLayout();
const BATCH = L.array(histogramSlots(BATCH_TXNS));
const BATCH_BYTES = L.scalar();
const FSYNC = L.array(histogramSlots(LATENCY_MS));
const TXNS = L.scalar();
/** Txns applied to the shared tree (the Applier: once per committed txn). */
const APPLIED = L.scalar();
const SNAPSHOT = L.array(histogramSlots(DURATION_MS));
/** -1 until the first snapshot is reported (ZooKeeper's lsnp answers zxid -1, timestamp -1). */
const SNAPSHOT_ZXID = L.scalar();
const SNAPSHOT_TIME_MS = L.scalar();
const SLOTS = L.slots;

export function createCommitMetricsBlock(): SharedArrayBuffer {
  const sab = createBlock(SLOTS);
  const v = new Float64Array(sab);
  v[SNAPSHOT_ZXID] = -1;
  v[SNAPSHOT_TIME_MS] = -1;
  return sab;
}

/** The commit worker's writer. */
export class CommitMetrics {
  private readonly v: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    this.v = blockView(sab, SLOTS, 'commit');
  }

  /** A group-commit batch was made durable: `txns` txns, `bytes` bytes of log records. */
  batch(txns: number, bytes: number): void {
    observe(this.v, BATCH, BATCH_TXNS, txns);
    this.v[BATCH_BYTES] += bytes;
    this.v[TXNS] += txns;
  }

  /** The Applier applied one committed txn to the shared tree. */
  applied(): void {
    this.v[APPLIED] += 1;
  }

  /** One log write + fdatasync took `duration_ms` (with fsync=none: the write alone). */
  fsync(duration_ms: number): void {
    observe(this.v, FSYNC, LATENCY_MS, duration_ms);
  }

  /** A snapshot of the tree at `zxid` is complete on disk; it took `duration_ms`. */
  snapshotSaved(zxid: number, duration_ms: number, at_ms: number = Date.now()): void {
    observe(this.v, SNAPSHOT, DURATION_MS, duration_ms);
    this.v[SNAPSHOT_ZXID] = zxid;
    this.v[SNAPSHOT_TIME_MS] = at_ms;
  }

  /**
   * The snapshot recovery started from (its zxid, and its file's mtime): what last_snapshot
   * reports until the first new snapshot, as in ZooKeeper. Not a snapshot taken: no duration.
   */
  recoveredFrom(zxid: number, mtime_ms: number): void {
    this.v[SNAPSHOT_ZXID] = zxid;
    this.v[SNAPSHOT_TIME_MS] = mtime_ms;
  }
}

export interface CommitTotals {
  readonly batch_txns: HistogramSnapshot;
  readonly batch_bytes: number;
  readonly fsync_ms: HistogramSnapshot;
  readonly txns: number;
  readonly applied: number;
  readonly snapshot_ms: HistogramSnapshot;
  /** -1 when no snapshot was reported yet. */
  readonly last_snapshot_zxid: number;
  readonly last_snapshot_time_ms: number;
}

export function readCommitMetrics(sab: SharedArrayBuffer): CommitTotals {
  const v = blockView(sab, SLOTS, 'commit');
  return {
    batch_txns: readHistogram(v, BATCH, BATCH_TXNS),
    batch_bytes: v[BATCH_BYTES],
    fsync_ms: readHistogram(v, FSYNC, LATENCY_MS),
    txns: v[TXNS],
    applied: v[APPLIED],
    snapshot_ms: readHistogram(v, SNAPSHOT, DURATION_MS),
    last_snapshot_zxid: v[SNAPSHOT_ZXID],
    last_snapshot_time_ms: v[SNAPSHOT_TIME_MS],
  };
}
