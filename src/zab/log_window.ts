// The core's in-memory view of its txn log: the recent committed txns (the "committed log"
// ZooKeeper keeps for DIFF syncs, bounded by committed_log_max) plus every txn not known to be
// committed. The driver's log holds everything; this window is what the core can send.
//
// Invariants (checked by `check()` in tests and after every mutation in debug builds):
// - entries are strictly increasing by zxid, all > base;
// - base <= committed <= last, and persisted <= last;
// - every entry <= committed beyond the newest `committed_log_max` is trimmed (base moves up),
//   entries above committed are never trimmed (the core may still have to send or ACK them).

import { compareZxid, zxidLe, zxidLt, zxidMax, zxidMin, zxidToString, ZXID_ZERO, type Zxid } from './zxid.js';

export interface LogEntry {
  readonly zxid: Zxid;
  readonly txn: Uint8Array;
}

/**
 * The highest zxid a log holding `entries` proves committed: the last entry of an epoch below the
 * last entry's epoch, ZXID_ZERO if none. A txn of epoch e enters a log only once e is established
 * (a leader proposes in broadcast only, and sends a joining learner what it proposed), and
 * establishing e committed its initial history: everything before e's first txn in any log that
 * holds one (that prefix is what the leader of e synced it with, or its own log).
 */
export function committedBeforeLastEpoch(entries: readonly LogEntry[]): Zxid {
  if (entries.length === 0) return ZXID_ZERO;
  const last_epoch = entries[entries.length - 1].zxid.epoch;
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i].zxid.epoch < last_epoch) return entries[i].zxid;
  return ZXID_ZERO;
}

export class LogWindow {
  /** Zxid just before entries[head] (a trimmed txn, the snapshot's zxid, or ZXID_ZERO). */
  base: Zxid;
  private entries: LogEntry[];
  private head = 0;
  /** Absolute index of the first entry above committed (entries[head..commit_pos) are committed). */
  private commit_pos = 0;
  /** Highest zxid known committed (everything up to it is). */
  committed: Zxid;
  /** Highest zxid durable in this window: the driver's report, clamped to last. */
  persisted: Zxid;
  /**
   * Highest zxid the driver reported durable. Its log may run ahead of the window: a leader's
   * txns queued behind in_flight_max are logged before they are appended here, and were they
   * durable by then, no later report would say so again. Clamped only by truncation.
   */
  private durable_reported: Zxid;
  /**
   * While set, trimming keeps every entry after `pin` (base never passes it): the leader pins
   * the window while the driver prepares a snapshot at a zxid >= pin for a SNAP sync, so the
   * txns after the snapshot are still here when it is ready. Bounded: a sync waits at most
   * initLimit ticks.
   */
  pin: Zxid | null = null;

  constructor(
    base: Zxid,
    entries: readonly LogEntry[],
    committed: Zxid,
    private readonly committed_log_max: number,
  ) {
    if (!Number.isInteger(committed_log_max) || committed_log_max < 0) throw new Error('LogWindow: bad committed_log_max');
    this.base = base;
    this.entries = [...entries];
    this.committed = committed;
    this.persisted = this.last();
    this.durable_reported = this.persisted;
    this.commit_pos = this.advancePos(0, committed);
    this.check();
    this.trim();
  }

  /** First absolute index >= from whose entry is above z. */
  private advancePos(from: number, z: Zxid): number {
    let i = Math.max(from, this.head);
    while (i < this.entries.length && zxidLe(this.entries[i].zxid, z)) i++;
    return i;
  }

  get length(): number {
    return this.entries.length - this.head;
  }

  last(): Zxid {
    return this.length === 0 ? this.base : this.entries[this.entries.length - 1].zxid;
  }

  /** Index (relative to the window) of the entry with zxid `z`, or -1. */
  indexOf(z: Zxid): number {
    let lo = this.head;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareZxid(this.entries[mid].zxid, z);
      if (c === 0) return mid - this.head;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** True if `z` is the base or an entry: a point the window can send everything after. */
  holdsPoint(z: Zxid): boolean {
    return compareZxid(z, this.base) === 0 || this.indexOf(z) >= 0;
  }

  at(i: number): LogEntry {
    const e = this.entries[this.head + i];
    if (e === undefined) throw new Error(`LogWindow.at(${i}) out of range (length ${this.length})`);
    return e;
  }

  /** The point just before entry `z` (the previous entry's zxid, or the base); z must be an entry. */
  before(z: Zxid): Zxid {
    const i = this.indexOf(z);
    if (i < 0) throw new Error(`LogWindow.before(${zxidToString(z)}): not an entry`);
    return i === 0 ? this.base : this.entries[this.head + i - 1].zxid;
  }

  /** Entries with zxid > z, oldest first; z must be a point the window holds. */
  after(z: Zxid): LogEntry[] {
    if (compareZxid(z, this.base) === 0) return this.entries.slice(this.head);
    const i = this.indexOf(z);
    if (i < 0) throw new Error(`LogWindow.after(${zxidToString(z)}): not in the window`);
    return this.entries.slice(this.head + i + 1);
  }

  /** The newest entry of `epoch` strictly before `z` (same epoch), or null. */
  lastOfEpochBefore(z: Zxid): Zxid | null {
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      const e = this.entries[i].zxid;
      if (e.epoch < z.epoch) break;
      if (e.epoch === z.epoch && e.counter < z.counter) return e;
    }
    return null;
  }

  append(e: LogEntry): void {
    if (!zxidLt(this.last(), e.zxid)) {
      throw new Error(`LogWindow.append: ${zxidToString(e.zxid)} not after last ${zxidToString(this.last())}`);
    }
    this.entries.push(e);
    if (zxidLe(e.zxid, this.durable_reported)) this.persisted = e.zxid;
  }

  /** Drops every entry after `to`; `to` must be >= committed and a point the window holds. */
  truncate(to: Zxid): void {
    if (zxidLt(to, this.committed)) throw new Error(`LogWindow.truncate(${zxidToString(to)}) below committed`);
    if (!this.holdsPoint(to)) throw new Error(`LogWindow.truncate(${zxidToString(to)}): not in the window`);
    const keep = compareZxid(to, this.base) === 0 ? this.head : this.head + this.indexOf(to) + 1;
    this.entries.length = keep;
    this.commit_pos = Math.min(this.commit_pos, keep);
    this.persisted = zxidMin(this.persisted, to);
    this.durable_reported = zxidMin(this.durable_reported, to);
  }

  /** Replaces the whole window by a snapshot at `z` (committed and durable by contract). */
  resetTo(z: Zxid): void {
    this.entries = [];
    this.head = 0;
    this.commit_pos = 0;
    this.base = z;
    this.committed = z;
    this.persisted = z;
    this.durable_reported = z;
  }

  /** Raises committed to `z` (<= last); returns the entries newly committed. */
  commitTo(z: Zxid): LogEntry[] {
    if (zxidLt(this.last(), z)) throw new Error(`LogWindow.commitTo(${zxidToString(z)}) past last ${zxidToString(this.last())}`);
    if (zxidLe(z, this.committed)) return [];
    const pos = this.advancePos(this.commit_pos, z);
    const newly = this.entries.slice(this.commit_pos, pos);
    this.commit_pos = pos;
    this.committed = z;
    this.trim();
    return newly;
  }

  markPersisted(z: Zxid): void {
    this.durable_reported = zxidMax(this.durable_reported, z);
    this.persisted = zxidMax(this.persisted, zxidMin(z, this.last()));
  }

  /** Number of entries above committed (the uncommitted tail). */
  uncommittedCount(): number {
    return this.entries.length - this.commit_pos;
  }

  /** Keeps at most committed_log_max committed entries (more while pinned); never an uncommitted one. */
  trim(): void {
    let drop = this.commit_pos - this.head - this.committed_log_max;
    if (this.pin !== null) while (drop > 0 && zxidLt(this.pin, this.entries[this.head + drop - 1].zxid)) drop--;
    if (drop <= 0) return;
    this.base = this.entries[this.head + drop - 1].zxid;
    this.head += drop;
    // Compact once the dead prefix dominates, so memory stays proportional to the window.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.commit_pos -= this.head;
      this.head = 0;
    }
  }

  /** Asserts the invariants listed at the top of the file. */
  check(): void {
    let prev = this.base;
    for (let i = this.head; i < this.entries.length; i++) {
      const z = this.entries[i].zxid;
      if (!zxidLt(prev, z)) throw new Error(`LogWindow: ${zxidToString(z)} not after ${zxidToString(prev)}`);
      prev = z;
    }
    if (zxidLt(this.committed, this.base)) throw new Error('LogWindow: committed below base');
    if (zxidLt(this.last(), this.committed)) throw new Error('LogWindow: committed past last');
    if (zxidLt(this.last(), this.persisted)) throw new Error('LogWindow: persisted past last');
    const pos = this.advancePos(this.head, this.committed);
    if (this.commit_pos !== pos && this.entries.length > 0) throw new Error(`LogWindow: commit_pos ${this.commit_pos} != ${pos}`);
  }
}
