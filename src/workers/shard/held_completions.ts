// The completions a shard holds while a commit batch is open (shard_stage.ts: APPLIED frames
// arrive, then the batch's ROOT), answered in stream order once the shard has moved to that root.
//
// Rows in typed columns, not a closure per completion: a direct write's completion is held once
// per write, and a closure with its context per write was most of the shard's garbage at
// 32 x 100 setData. Rarer completions (a session's reattach, sync, an error) keep a closure.
//
// Invariant: a row is answered at most once, and only while its connection is open (a row of a
// connection that closed meanwhile is dropped, as a frame for a gone connection is).

import type { Conn } from './conn.js';
import type { AppliedCompletion, ShardSession } from './shard_session.js';

const ROWS_INITIAL = 64;

export class HeldCompletions {
  private xid = new Int32Array(ROWS_INITIAL);
  private err = new Int32Array(ROWS_INITIAL);
  private zxid = new Float64Array(ROWS_INITIAL);
  private readonly conn: (Conn | null)[] = [];
  /** What a row answers with: null for a direct write (its xid, err, zxid columns), the reply
   *  of an applied txn, or the closure of any other completion. */
  private readonly other: (AppliedCompletion | (() => void) | null)[] = [];
  private n = 0;

  get length(): number {
    return this.n;
  }

  /** A direct write answered by the commit worker: the session's FIFO moves on (completeDirect). */
  pushDirect(conn: Conn, xid: number, err: number, zxid: number): void {
    const i = this.row();
    this.conn[i] = conn;
    this.xid[i] = xid;
    this.err[i] = err;
    this.zxid[i] = zxid;
    this.other[i] = null;
  }

  /** A txn's reply for its session (onApplied). */
  pushApplied(conn: Conn, a: AppliedCompletion): void {
    const i = this.row();
    this.conn[i] = conn;
    this.other[i] = a;
  }

  /** Any other completion of `conn`. */
  pushThunk(conn: Conn, complete: () => void): void {
    const i = this.row();
    this.conn[i] = conn;
    this.other[i] = complete;
  }

  /**
   * Answers every row in order and empties the queue. Nothing may be pushed meanwhile (the
   * caller closed the batch first, so completions run at once instead of being held).
   */
  drain(session: ShardSession): void {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const conn = this.conn[i] as Conn;
      const other = this.other[i];
      this.conn[i] = null;
      this.other[i] = null;
      if (conn.state === 'closed') continue;
      if (other === null) session.completeDirect(conn, this.xid[i], this.err[i], this.zxid[i]);
      else if (typeof other === 'function') other();
      else session.onApplied(conn, other);
    }
    if (this.n !== n) throw new Error(`held completions: ${this.n - n} pushed while draining`);
    this.n = 0;
  }

  /** Drops every row unanswered (a RELOAD: the connections are closed next). */
  clear(): void {
    for (let i = 0; i < this.n; i++) {
      this.conn[i] = null;
      this.other[i] = null;
    }
    this.n = 0;
  }

  private row(): number {
    const i = this.n++;
    if (i === this.xid.length) this.grow();
    return i;
  }

  private grow(): void {
    const rows = this.xid.length * 2;
    const xid = new Int32Array(rows);
    const err = new Int32Array(rows);
    const zxid = new Float64Array(rows);
    xid.set(this.xid);
    err.set(this.err);
    zxid.set(this.zxid);
    this.xid = xid;
    this.err = err;
    this.zxid = zxid;
  }
}
