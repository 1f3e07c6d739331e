// The txn log's sync times as ZooKeeper reports them, and its slow-sync warning.
//
// ZooKeeper times each flush of its txn log (FileTxnLog.commit: the fsync, in whole
// milliseconds) into an AvgMinMaxCounter that mntr prints as zk_{avg,min,max,cnt,sum}_fsynctime,
// and logs a warning, counting it (ServerStats' fsync_threshold_exceed_count), for every one
// that took longer than fsync.warningthresholdms (default 1000). Operators watch both to tell a
// slow disk from a slow server. Here the timed unit is one group-commit batch: its log write and
// its fdatasync, as the commit worker waits for them. Pure: the commit stage feeds it.

/** What the commit worker reports of them (stats: mntr, the admin server's server_stats). */
export interface FsyncTimeStats {
  readonly count: number;
  readonly sum_ms: number;
  readonly min_ms: number;
  readonly max_ms: number;
  readonly over_threshold: number;
}

export class LogSyncTimes implements FsyncTimeStats {
  count = 0;
  sum_ms = 0;
  /** 0 until the first sync (mntr prints 0 then, as ZooKeeper does). */
  min_ms = 0;
  max_ms = 0;
  /** Syncs that took longer than the threshold. */
  over_threshold = 0;

  constructor(readonly warning_threshold_ms: number) {
    if (!Number.isInteger(warning_threshold_ms) || warning_threshold_ms < 0) {
      throw new RangeError(`fsync.warningthresholdms must be an integer >= 0, got ${warning_threshold_ms}`);
    }
  }

  /** Records one sync of `took_ms` (counted in whole ms, as ZooKeeper does); true when it took
   *  longer than the threshold (the caller warns). */
  observe(took_ms: number): boolean {
    const ms = Math.floor(took_ms);
    if (this.count === 0 || ms < this.min_ms) this.min_ms = ms;
    if (ms > this.max_ms) this.max_ms = ms;
    this.count++;
    this.sum_ms += ms;
    if (ms <= this.warning_threshold_ms) return false;
    this.over_threshold++;
    return true;
  }

}

/** ZooKeeper's average (mntr's zk_avg_fsynctime): sum / count, 0 before the first sync. */
export function averageMs(t: FsyncTimeStats): number {
  return t.count === 0 ? 0 : t.sum_ms / t.count;
}

/** The warning logged for a sync over the threshold (ZooKeeper logs one per such fsync). */
export function slowSyncWarning(took_ms: number, threshold_ms: number, txns: number, bytes: number): string {
  return (
    `waitfree: warning: writing and syncing the txn log took ${Math.floor(took_ms)} ms ` +
    `(a batch of ${txns} txn${txns === 1 ? '' : 's'}, ${bytes} bytes), over fsync.warningthresholdms=${threshold_ms}: ` +
    'every write in it waited that long; the disk is slow or overloaded'
  );
}
