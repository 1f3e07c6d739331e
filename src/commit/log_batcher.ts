// The log batcher, sans-IO: encodes every txn once, as a log record, into the open batch; hands
// out one batch at a time for the caller to write with one write + fdatasync while the next one
// fills (pipelining); says how much more input the caller may take.
//
// Invariants:
// - at most one batch is in flight; batch seqs are handed out and complete in increasing order;
// - no batch holds more than txns_max txns, nor more than bytes_max bytes unless it is a single
//   txn: a batch that reaches a bound is sealed and queued, and the next txn opens a new one;
// - a batch buffer is reused only once every txn in it has left the release gate
//   (recycle(released_zxid)): the commit stream carries the bytes encoded here;
// - after a failed batch no batch is handed out any more.

import { JuteWriter } from '../protocol/jute.js';
import { crc32c } from '../log/crc32c.js';
import { appendRecord, RECORD_HEADER_BYTES } from '../log/segment_format.js';
import type { Txn } from '../tree/txn.js';
import type { Payload } from './release_gate.js';

export interface LogBatcherOptions {
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

/**
 * Batch buffers kept for reuse (each grows to the largest batch it held, <= about bytes_max).
 * Up to four are in use at once (open, sealed, in flight, completed until released): with two
 * kept, a saturated log allocated and regrew (64 KiB -> 1 MiB, four copies) a buffer every few
 * batches.
 */
const FREE_BUFFERS_MAX = 4;

export class LogBatcher {
  private open: BatchBuf;
  /** Batches at a bound, waiting to be written, oldest first (seqs increasing, all > inflight's). */
  private sealed: BatchBuf[] = [];
  private inflight: BatchBuf | null = null;
  /** Durable batches whose txns may still be held by the release gate. */
  private completed: BatchBuf[] = [];
  private readonly free: JuteWriter[] = [];
  private next_seq = 1;
  /** zxid of the last txn in a durable batch. */
  durable_zxid: number;
  /** Set once a batch failed: nothing is written any more. */
  failed = false;
  /** Totals for stats. */
  batches = 0;
  txns = 0;

  constructor(
    private readonly opts: LogBatcherOptions,
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

  /** Encodes a txn into the open batch; returns where its payload (the txn, without the record
   *  header) lives. */
  add(txn: Txn, now_us: number): Payload {
    if (this.failed) throw new Error('log batcher: add after a failed batch');
    const b = this.open;
    if (b.count === 0) {
      b.first_zxid = txn.header.zxid;
      b.opened_us = now_us;
    }
    const start = appendRecord(b.w, txn) + RECORD_HEADER_BYTES;
    b.count++;
    b.last_zxid = txn.header.zxid;
    const payload: Payload = { source: b.w, start, end: b.w.length };
    if (b.count >= this.opts.txns_max || b.w.length >= this.opts.bytes_max) {
      this.sealed.push(b);
      this.open = this.newBatch(now_us);
    }
    return payload;
  }

  /** Appends a txn that is already encoded (a Zab follower logs the leader's proposal bytes as
   *  they came: the same bytes as appendRecord's payload, so recovery reads them alike). */
  addEncoded(zxid: number, payload: Uint8Array, now_us: number): Payload {
    if (this.failed) throw new Error('log batcher: add after a failed batch');
    const b = this.open;
    if (b.count === 0) {
      b.first_zxid = zxid;
      b.opened_us = now_us;
    }
    const w = b.w;
    const record_start = w.length;
    w.writeInt(0); // crc, patched below (it covers the length and the payload, as appendRecord's)
    const len_at = w.beginFrame();
    w.writeRaw(payload);
    w.finishFrame(len_at);
    w.setUint32At(record_start, crc32c(w.range(record_start + 4, w.length)));
    b.count++;
    b.last_zxid = zxid;
    const out: Payload = { source: w, start: record_start + RECORD_HEADER_BYTES, end: w.length };
    if (b.count >= this.opts.txns_max || w.length >= this.opts.bytes_max) {
      this.sealed.push(b);
      this.open = this.newBatch(now_us);
    }
    return out;
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

  get has_unwritten(): boolean {
    return this.open.count > 0 || this.sealed.length > 0;
  }

  /** Hands out the oldest sealed batch, else the open one (call when due(), or to flush early). */
  take(now_us: number): Batch {
    if (this.failed || this.inflight !== null || (this.sealed.length === 0 && this.open.count === 0)) throw new Error('log batcher: no batch to take');
    let b = this.sealed.shift();
    if (b === undefined) {
      b = this.open;
      this.open = this.newBatch(now_us);
    }
    this.inflight = b;
    return { seq: b.seq, bytes: b.w.view_bytes(), start: 0, end: b.w.length, first_zxid: b.first_zxid, last_zxid: b.last_zxid, count: b.count };
  }

  /** The batch in flight is durable; returns the new durable zxid. */
  complete(seq: number): number {
    const b = this.inflight;
    if (b === null || b.seq !== seq) throw new Error(`log batcher: completion of batch ${seq}, in flight ${b?.seq}`);
    this.inflight = null;
    this.durable_zxid = b.last_zxid;
    this.completed.push(b);
    this.batches++;
    this.txns += b.count;
    return this.durable_zxid;
  }

  /** The batch in flight could not be made durable: nothing is written from now on. */
  fail(seq: number): void {
    const b = this.inflight;
    if (b === null || b.seq !== seq) throw new Error(`log batcher: failure of batch ${seq}, in flight ${b?.seq}`);
    this.failed = true;
    this.inflight = null;
    this.sealed = [];
    this.open.count = 0;
    this.open.w.reset();
  }

  /** Every txn up to `released_zxid` has left the release gate: their buffers may be reused. */
  recycle(released_zxid: number): void {
    let kept = 0;
    for (const b of this.completed) {
      if (b.last_zxid > released_zxid) this.completed[kept++] = b;
      else if (this.free.length < FREE_BUFFERS_MAX) this.free.push(b.w);
    }
    this.completed.length = kept;
  }
}
