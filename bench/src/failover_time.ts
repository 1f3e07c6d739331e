// Failover time as a client sees it: from the leader's SIGKILL to the first write that commits
// after it. Pure: the probe (failover_probe.ts) records every write, this file reads them.
//
// Only a write *sent* at or after the kill counts: a write sent before may have been committed by
// the old leader and answered late, which says nothing about the new one.

export interface WriteRecord {
  /** performance.now() of the process that also took kill_ms. */
  readonly sent_ms: number;
  readonly done_ms: number;
  /** ZooKeeper error code of the reply; 0 = committed. */
  readonly err: number;
}

/** ms from `kill_ms` to the earliest committed write sent at or after it; null if none. */
export function failoverMs(writes: readonly WriteRecord[], kill_ms: number): number | null {
  let first: number | null = null;
  for (const w of writes) {
    if (w.err !== 0 || w.sent_ms < kill_ms) continue;
    if (first === null || w.done_ms < first) first = w.done_ms;
  }
  return first === null ? null : first - kill_ms;
}

/** The last committed write completed before `kill_ms` (ms before the kill; null if none). */
export function lastCommitBeforeMs(writes: readonly WriteRecord[], kill_ms: number): number | null {
  let last: number | null = null;
  for (const w of writes) if (w.err === 0 && w.done_ms <= kill_ms && (last === null || w.done_ms > last)) last = w.done_ms;
  return last === null ? null : kill_ms - last;
}

export interface Spread {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return { n: s.length, median: s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}
