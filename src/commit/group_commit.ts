// Group commit, sans-IO: sits between CommitCore's outbox and the commit stream. Every txn the
// core proposes is encoded as a log record into the open batch; the caller writes a batch with
// one write + fdatasync while the next one fills (pipelining), and a publication is released
// only once the batch holding it (or, for a non-txn publication, every txn before it) is durable.
//
// Invariants:
// - publications are released in exactly the order the core emitted them;
// - a txn publication is released only after its batch completed; a non-txn publication (sync,
//   session, error, close_conn) only after every txn emitted before it;
// - at most one batch is in flight; batch seqs complete in increasing order;
// - no batch holds more than txns_max txns, nor more than bytes_max bytes unless it is a single
//   txn: a batch that reaches a bound is sealed and queued, and the next txn opens a new one;
// - after a failed batch nothing is ever released as committed again: its txns and every later
//   one become close_conn for their connection (the client sees a lost connection: the outcome
//   is unknown to it, which is the truth), and no batch is handed out any more.

import { JuteWriter } from '../protocol/jute.js';
import { appendRecord, RECORD_HEADER_BYTES } from '../log/segment_format.js';
import type { Publication } from './commit_core.js';

export interface GroupCommitOptions {
  /** A batch is written once it holds this many txns ... */
  txns_max: number;
  /** ... or this many bytes ... */
  bytes_max: number;
  /** ... or its first txn has waited this long (0 = write as soon as no write is in flight). */
  wait_us: number;
}

/** A batch handed to the log writer: bytes[start, end) are whole records. */
export interface Batch {
  seq: number;
  bytes: Uint8Array;
  start: number;
  end: number;
  first_zxid: number;
  last_zxid: number;
  count: number;
}

interface BatchBuf {
  w: JuteWriter;
  seq: number;
  count: number;
  first_zxid: number;
  last_zxid: number;
  opened_us: number;
}

interface Entry {
  pub: Publication;
  /** The batch that must be durable before release; 0 = none. */
  seq: number;
  /** Txn entries: the batch buffer and the payload range (what the commit stream carries). */
  buf: BatchBuf | null;
  start: number;
  end: number;
}

export type ReleaseVisitor = (pub: Publication, body: Uint8Array | null, start: number, end: number) => void;

export class GroupCommit {
  private entries: Entry[] = [];
  private head = 0;
  private open: BatchBuf;
  /** Batches at a bound, waiting to be written, oldest first (seqs increasing, all > inflight's). */
  private sealed: BatchBuf[] = [];
  private inflight: BatchBuf | null = null;
  /** Completed batches whose entries are not released yet; their buffers are reused after. */
  private completed: BatchBuf[] = [];
  private readonly free: JuteWriter[] = [];
  private next_seq = 1;
  private last_txn_seq = 0;
  private durable_seq = 0;
  /** zxid of the last txn in a durable batch. */
  durable_zxid: number;
  /** Set once a batch failed: nothing commits any more. */
  failed = false;
  /** Totals for stats. */
  batches = 0;
  txns = 0;

  constructor(
    private readonly opts: GroupCommitOptions,
    /** The zxid recovered at start (everything up to it is durable). */
    start_zxid: number,
  ) {
    this.durable_zxid = start_zxid;
    this.open = this.newBatch(0);
  }

  private newBatch(now_us: number): BatchBuf {
    const w = this.free.pop() ?? new JuteWriter(64 * 1024);
    w.reset();
    return { w, seq: this.next_seq++, count: 0, first_zxid: 0, last_zxid: 0, opened_us: now_us };
  }

  /** Queues the core's publications, in order; txns are encoded into the open batch. */
  add(pubs: readonly Publication[], now_us: number): void {
    for (const pub of pubs) {
      if (pub.kind !== 'txn') {
        this.entries.push({ pub, seq: this.last_txn_seq > this.durable_seq ? this.last_txn_seq : 0, buf: null, start: 0, end: 0 });
        continue;
      }
      if (this.failed) {
        this.pushLost(pub);
        continue;
      }
      const b = this.open;
      if (b.count === 0) {
        b.first_zxid = pub.txn.header.zxid;
        b.opened_us = now_us;
      }
      const start = appendRecord(b.w, pub.txn) + RECORD_HEADER_BYTES;
      b.count++;
      b.last_zxid = pub.txn.header.zxid;
      this.last_txn_seq = b.seq;
      this.entries.push({ pub, seq: b.seq, buf: b, start, end: b.w.length });
      if (this.atBound(b)) {
        this.sealed.push(b);
        this.open = this.newBatch(now_us);
      }
    }
  }

  private atBound(b: BatchBuf): boolean {
    return b.count >= this.opts.txns_max || b.w.length >= this.opts.bytes_max;
  }

  /** True when a batch should be written now: a sealed one, or the open one after its wait. */
  due(now_us: number): boolean {
    if (this.failed || this.inflight !== null) return false;
    if (this.sealed.length > 0) return true;
    return this.open.count > 0 && now_us - this.open.opened_us >= this.opts.wait_us;
  }

  /** When the next batch becomes due (µs), or null when there is nothing to wait for. */
  due_at_us(): number | null {
    if (this.failed || this.inflight !== null) return null;
    if (this.sealed.length > 0) return this.sealed[0].opened_us;
    return this.open.count === 0 ? null : this.open.opened_us + this.opts.wait_us;
  }

  /** No room for another txn (see txn_room): stop taking input until a write lands. */
  get full(): boolean {
    return this.txn_room() === 0;
  }

  /**
   * How many more txns the caller may hand in before it should stop reading input: room for two
   * batches when no write is in flight (one to write now, one to fill), one while a write is in
   * flight. The commit worker polls at most this many frames (each frame makes at most one txn),
   * so sealed batches never pile up behind the disk however small batchTxnsMax is.
   */
  txn_room(): number {
    if (this.failed) return Number.MAX_SAFE_INTEGER; // nothing is logged any more; txns become lost connections
    let queued = this.open.count;
    for (const b of this.sealed) queued += b.count;
    return Math.max(0, (this.inflight === null ? 2 : 1) * this.opts.txns_max - queued);
  }

  get in_flight(): boolean {
    return this.inflight !== null;
  }

  /** Hands out the oldest sealed batch, else the open one (call when due(), or to flush early). */
  take(now_us: number): Batch {
    if (this.failed || this.inflight !== null || (this.sealed.length === 0 && this.open.count === 0)) throw new Error('group commit: no batch to take');
    let b = this.sealed.shift();
    if (b === undefined) {
      b = this.open;
      this.open = this.newBatch(now_us);
    }
    this.inflight = b;
    return { seq: b.seq, bytes: b.w.view_bytes(), start: 0, end: b.w.length, first_zxid: b.first_zxid, last_zxid: b.last_zxid, count: b.count };
  }

  /** The batch in flight is durable. */
  complete(seq: number): void {
    const b = this.inflight;
    if (b === null || b.seq !== seq) throw new Error(`group commit: completion of batch ${seq}, in flight ${b?.seq}`);
    this.inflight = null;
    this.durable_seq = seq;
    this.durable_zxid = b.last_zxid;
    this.completed.push(b);
    this.batches++;
    this.txns += b.count;
  }

  /** The batch in flight could not be made durable: nothing commits from now on. */
  fail(seq: number): void {
    const b = this.inflight;
    if (b === null || b.seq !== seq) throw new Error(`group commit: failure of batch ${seq}, in flight ${b?.seq}`);
    this.failed = true;
    this.inflight = null;
    this.last_txn_seq = 0; // nothing will ever be durable again: later publications go out at once
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.pub.kind === 'txn') {
        const o = e.pub.origin;
        e.pub = o === null ? { kind: 'close_conn', shard: -1, conn_id: 0 } : { kind: 'close_conn', shard: o.shard, conn_id: o.conn_id };
        e.buf = null;
      }
      e.seq = 0;
    }
    this.sealed = [];
    this.open.count = 0;
    this.open.w.reset();
  }

  private pushLost(pub: Extract<Publication, { kind: 'txn' }>): void {
    const o = pub.origin;
    if (o !== null) this.entries.push({ pub: { kind: 'close_conn', shard: o.shard, conn_id: o.conn_id }, seq: 0, buf: null, start: 0, end: 0 });
  }

  /**
   * Visits, in order, every publication that may go out now; txn publications come with their
   * encoded payload (valid during the visit only). Returns how many were visited.
   */
  release(visit: ReleaseVisitor): number {
    let n = 0;
    while (this.head < this.entries.length) {
      const e = this.entries[this.head];
      if (e.seq > this.durable_seq) break;
      this.head++;
      n++;
      if (e.pub.kind === 'close_conn' && e.pub.shard < 0) continue; // a lost server-made txn
      if (e.buf !== null) visit(e.pub, e.buf.w.view_bytes(), e.start, e.end);
      else visit(e.pub, null, 0, 0);
    }
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    this.recycle();
    return n;
  }

  /**
   * Entry seqs never decrease along the queue (a non-txn entry takes the seq of the txns before
   * it), so once release() stopped, no entry of a completed batch is left: their buffers are free.
   */
  private recycle(): void {
    for (const b of this.completed) if (this.free.length < 2) this.free.push(b.w);
    this.completed = [];
  }

  /** Publications waiting for durability. */
  get pending(): number {
    return this.entries.length - this.head;
  }
}
