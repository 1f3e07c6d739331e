// Session expiry, sans-IO (ZooKeeper's SessionTrackerImpl + ExpiryQueue). Sessions sit in
// buckets keyed by their expiry time rounded up to the next tick boundary, so a touch is O(1)
// and one timer per tick serves every session. The caller owns the clock and the timer: it
// passes now_ms in, arms a timer for next_expiry_ms(), and turns what expire() returns into
// closeSession txns.

import assert from 'node:assert/strict';

export interface SessionRecord {
  readonly session_id: bigint;
  /** Negotiated timeout; a touch keeps the session alive for this long (rounded up to a tick). */
  timeout_ms: number;
  readonly passwd: Uint8Array;
  /** Set by setClosing() (the client sent closeSession) or by expire(): touches are refused
   *  from then on; the record stays until remove() (the closeSession txn committed). */
  closing: boolean;
  /** Bucket the session expires at: a multiple of tick_ms, > the now_ms of its last touch. */
  expiry_ms: number;
}

export class SessionTracker {
  private readonly sessions = new Map<bigint, SessionRecord>();
  /** expiry_ms → sessions due then. Invariant: a session not yet expired is in exactly the
   *  bucket of its record's expiry_ms; no bucket is empty. Keys span at most
   *  (max timeout / tick + 1) values, so scanning them for the minimum is cheap. Holds records,
   *  not ids: hashing an object is far cheaper than hashing a bigint, and touches move
   *  sessions between buckets all the time. */
  private readonly buckets = new Map<number, Set<SessionRecord>>();
  /** Bumped whenever a session is added, removed or moves to another bucket: the liveness
   *  file (liveness_file.ts) is rewritten only when this changed since the last write. */
  version = 0;

  constructor(readonly tick_ms: number) {
    if (!(Number.isInteger(tick_ms) && tick_ms > 0)) assert.fail(`tick_ms must be a positive integer: ${tick_ms}`);
  }

  /** ExpiryQueue.roundToNextInterval: the first tick boundary strictly after t. */
  roundUp(t_ms: number): number {
    return (Math.floor(t_ms / this.tick_ms) + 1) * this.tick_ms;
  }

  /**
   * Tracks a new session, due at roundUp(now + timeout). Returns false if it was already tracked:
   * then, like ZooKeeper's trackSession, only its timeout and expiry are refreshed (the password
   * is kept, and a closing session stays closing and unqueued).
   *
   * `due_in_ms` (default: timeout_ms) is for sessions recovered after a restart: they resume
   * with what was left of their timeout, due at roundUp(now + due_in_ms); 0 expires at the next
   * tick.
   */
  add(session_id: bigint, timeout_ms: number, now_ms: number, passwd: Uint8Array, due_in_ms = timeout_ms): boolean {
    assertTimeout(timeout_ms);
    assertTime(now_ms);
    if (!(Number.isFinite(due_in_ms) && due_in_ms >= 0 && due_in_ms <= timeout_ms)) assert.fail(`due_in_ms must be in [0, timeout_ms]: ${due_in_ms}`);
    const existing = this.sessions.get(session_id);
    if (existing !== undefined) {
      if (!existing.closing) this.requeue(existing, now_ms, timeout_ms);
      return false;
    }
    const record: SessionRecord = { session_id, timeout_ms, passwd, closing: false, expiry_ms: 0 };
    this.sessions.set(session_id, record);
    this.requeue(record, now_ms, timeout_ms, due_in_ms);
    this.version++;
    return true;
  }

  /** Keeps a session alive (any request or ping). False if unknown or closing: the caller
   *  answers SESSIONEXPIRED. A reconnect passes the newly negotiated timeout_ms. */
  touch(session_id: bigint, now_ms: number, timeout_ms?: number): boolean {
    assertTime(now_ms);
    const record = this.sessions.get(session_id);
    if (record === undefined || record.closing) return false;
    if (timeout_ms !== undefined) assertTimeout(timeout_ms);
    this.requeue(record, now_ms, timeout_ms ?? record.timeout_ms);
    return true;
  }

  /** Marks a session closing (its closeSession is in flight). It stays queued, as in
   *  ZooKeeper: if the close is lost, expire() still reports it when due. */
  setClosing(session_id: bigint): boolean {
    const record = this.sessions.get(session_id);
    if (record === undefined) return false;
    record.closing = true;
    return true;
  }

  /** Forgets a session (its closeSession txn committed). */
  remove(session_id: bigint): boolean {
    const record = this.sessions.get(session_id);
    if (record === undefined) return false;
    this.unqueue(record);
    this.sessions.delete(session_id);
    this.version++;
    return true;
  }

  /**
   * What is left of every live session's timeout at now_ms (its bucket minus now, at least 0),
   * for the liveness file. Closing sessions are left out: their closeSession is in the log.
   */
  liveness(now_ms: number): { session_id: bigint; remaining_ms: number }[] {
    const out: { session_id: bigint; remaining_ms: number }[] = [];
    for (const r of this.sessions.values()) {
      if (!r.closing) out.push({ session_id: r.session_id, remaining_ms: Math.max(0, r.expiry_ms - now_ms) });
    }
    return out;
  }

  /**
   * Every session whose bucket is <= now_ms, oldest bucket first, `max` at most: each is taken
   * off the queue and marked closing (no touch revives it). Records stay until remove(). Sessions
   * the client was already closing are included (their close may have been lost). Those past
   * `max` stay queued in their bucket, due: the next call takes them.
   */
  expire(now_ms: number, max = Number.MAX_SAFE_INTEGER): bigint[] {
    assertTime(now_ms);
    assert(Number.isInteger(max) && max >= 0, 'expire: max must be an integer >= 0');
    const expired: bigint[] = [];
    for (let due = this.next_expiry_ms(); due !== null && due <= now_ms && expired.length < max; due = this.next_expiry_ms()) {
      const bucket = this.buckets.get(due);
      assert(bucket !== undefined && bucket.size > 0);
      for (const record of bucket) {
        if (expired.length >= max) break;
        assert(record.expiry_ms === due, 'bucket out of step with record');
        assert(this.sessions.get(record.session_id) === record, 'bucket holds a removed session');
        bucket.delete(record);
        record.closing = true;
        expired.push(record.session_id);
      }
      if (bucket.size === 0) this.buckets.delete(due);
    }
    return expired;
  }

  /** Sessions queued in buckets due at now_ms (what expire(now_ms) would take without a max). */
  dueCount(now_ms: number): number {
    let n = 0;
    for (const [expiry_ms, bucket] of this.buckets) if (expiry_ms <= now_ms) n += bucket.size;
    return n;
  }

  /** When the earliest bucket is due, or null if no session is queued. For the caller's timer. */
  next_expiry_ms(): number | null {
    let min: number | null = null;
    for (const expiry_ms of this.buckets.keys()) {
      if (min === null || expiry_ms < min) min = expiry_ms;
    }
    return min;
  }

  get(session_id: bigint): Readonly<SessionRecord> | undefined {
    return this.sessions.get(session_id);
  }

  has(session_id: bigint): boolean {
    return this.sessions.has(session_id);
  }

  /** Tracked sessions, closing ones included. */
  get size(): number {
    return this.sessions.size;
  }

  ids(): IterableIterator<bigint> {
    return this.sessions.keys();
  }

  /** Moves a live session to the bucket of roundUp(now + timeout) (ExpiryQueue.update). Most
   *  touches land in the bucket the session is already in: that path is one comparison. */
  private requeue(record: SessionRecord, now_ms: number, timeout_ms: number, due_in_ms = timeout_ms): void {
    // Invariant: a session that is not closing is queued in the bucket of its expiry_ms (a new
    // record has expiry_ms 0, which is never a bucket).
    assert(!record.closing);
    record.timeout_ms = timeout_ms;
    const expiry_ms = this.roundUp(now_ms + due_in_ms);
    if (expiry_ms === record.expiry_ms) return;
    this.version++;
    this.unqueue(record);
    let bucket = this.buckets.get(expiry_ms);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(expiry_ms, bucket);
    }
    bucket.add(record);
    record.expiry_ms = expiry_ms;
  }

  private unqueue(record: SessionRecord): void {
    const bucket = this.buckets.get(record.expiry_ms);
    if (bucket === undefined || !bucket.delete(record)) return; // already expired
    if (bucket.size === 0) this.buckets.delete(record.expiry_ms);
  }
}

function assertTime(now_ms: number): void {
  if (!(Number.isFinite(now_ms) && now_ms >= 0)) assert.fail(`now_ms must be finite and >= 0: ${now_ms}`);
}

function assertTimeout(timeout_ms: number): void {
  if (!(Number.isFinite(timeout_ms) && timeout_ms > 0)) assert.fail(`timeout_ms must be > 0: ${timeout_ms}`);
}
