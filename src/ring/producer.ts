// The single writer of a ring. Writes frames into its private cursor and publishes them in
// batches with flush(): one Atomics.store of the write cursor, and one Atomics.notify only if a
// consumer announced it is asleep. Free space is bounded by the slowest consumer.
//
// Hot path (tryReserve/commit/tryWrite) allocates nothing and does no Atomics op unless the cached
// view of the consumers' cursors says the ring is full.

import { type AttachOptions, claimSlot, releaseSlot } from './claim.js';
import { counterView } from './counters.js';
import { FRAME_HEADER_BYTES, frameBytes, RingCorruptError, SKIP_MARKER } from './frame.js';
import {
  C_READ_CURSOR,
  consumerLine,
  H_CLOSED,
  H_DATA_SEQ,
  H_PRODUCER_CLAIMED,
  H_PRODUCER_WAITING,
  H_SLEEPING,
  H_SPACE_SEQ,
  H_SPACE_TARGET,
  H_WRITE_CURSOR,
  headerView,
  PC_BYTES,
  PC_FRAMES,
  PC_FULL_REJECTS,
  PC_NOTIFIES,
  PC_SPACE_WAITS,
  PRODUCER_COUNTER_NAMES,
  PRODUCER_COUNTERS_OFFSET_BYTES,
  readGeometry,
} from './layout.js';
import { copyToShared } from '../memory/shared_copy.js';
import { checkTimeout, deadlineAfter, msUntil, sleepOn, sleepOnAsync, wake } from './waiter.js';

export class RingProducer {
  /** The data region. Offsets returned by tryReserve() index into it. */
  readonly data: Uint8Array;
  readonly capacity_bytes: number;
  readonly frame_bytes_max: number;
  readonly consumers: number;

  private readonly header: Int32Array;
  /** The data region as Int32 words, for frame length words (frames start 8-aligned). */
  private readonly words: Int32Array;
  private readonly mask: number;
  /** This producer's counters in the SAB (PC_* indices), read by Ring.stats from any thread. */
  private readonly counters: Float64Array;

  /**
   * Private write cursor (uint32, wraps at 2^32). Invariants: write_local is 8-aligned;
   * (write_local - write_published) >>> 0 = committed bytes not yet visible to consumers;
   * (write_local - slowest READ_CURSOR) >>> 0 <= capacity_bytes.
   */
  private write_local: number;
  /** The value last stored to WRITE_CURSOR (this producer is its only writer). */
  private write_published: number;
  /**
   * The slowest consumer's read cursor as last loaded. Stale is safe: read cursors only move
   * forward, so a stale value under-estimates free space, never over-estimates it. Reloaded only
   * when the cached value says a frame does not fit.
   */
  private read_min_seen: number;
  /** Data offset of the pending reservation's length word, or -1 when none is pending. */
  private reserved_at = -1;
  private reserved_len = 0;
  /** Frames and payload bytes committed since the last flush (counted when published). */
  private pending_frames = 0;
  private pending_bytes = 0;
  private closed = false;

  private constructor(sab: SharedArrayBuffer, options: AttachOptions | undefined) {
    const g = readGeometry(sab);
    this.capacity_bytes = g.capacity_bytes;
    this.frame_bytes_max = g.frame_bytes_max;
    this.consumers = g.consumers;
    this.mask = g.capacity_bytes - 1;
    this.header = headerView(sab, g);
    this.data = new Uint8Array(sab, g.data_offset_bytes, g.capacity_bytes);
    this.words = new Int32Array(sab, g.data_offset_bytes, g.capacity_bytes / 4);
    claimSlot(this.header, H_PRODUCER_CLAIMED, 'the producer', options);
    this.counters = counterView(sab, PRODUCER_COUNTERS_OFFSET_BYTES, PRODUCER_COUNTER_NAMES.length);
    this.write_local = Atomics.load(this.header, H_WRITE_CURSOR) >>> 0;
    this.write_published = this.write_local;
    this.read_min_seen = this.write_local;
    this.refreshReadMin();
    this.closed = Atomics.load(this.header, H_CLOSED) !== 0;
  }

  /** Attach the producer side to a ring created by createRingBuffer (any thread, once at a time). */
  static attach(sab: SharedArrayBuffer, options?: AttachOptions): RingProducer {
    return new RingProducer(sab, options);
  }

  /**
   * Reserves room for a frame of `len_bytes` payload bytes. Returns the offset in `data` where the
   * payload goes, or -1 if the ring is full (nothing changes then). Follow with commit().
   * Throws RangeError if len_bytes > frame_bytes_max.
   */
  tryReserve(len_bytes: number): number {
    if (this.reserved_at !== -1) throw new Error('ring: tryReserve() while a reservation is pending; commit() or abort() first');
    this.checkWritable(len_bytes);
    const pos = this.write_local & this.mask;
    const tail_bytes = this.capacity_bytes - pos;
    const need_bytes = frameBytes(len_bytes);
    const skip_bytes = need_bytes > tail_bytes ? tail_bytes : 0;
    if (!this.hasSpace(skip_bytes + need_bytes)) {
      this.counters[PC_FULL_REJECTS]++;
      return -1;
    }
    let start = pos;
    if (skip_bytes !== 0) {
      // Safe to publish even if this reservation is aborted: a skip marker is a valid frame.
      this.words[pos >> 2] = SKIP_MARKER;
      this.write_local = (this.write_local + skip_bytes) >>> 0;
      start = 0;
    }
    this.reserved_at = start;
    this.reserved_len = len_bytes;
    return start + FRAME_HEADER_BYTES;
  }

  /**
   * Completes the pending reservation as a frame of `len_bytes` (default: the reserved length;
   * may be smaller, e.g. when the payload was encoded in place into a worst-case reservation).
   * The frame becomes visible to consumers at the next flush().
   */
  commit(len_bytes: number = this.reserved_len): void {
    const at = this.reserved_at;
    if (at === -1) throw new Error('ring: commit() without a pending tryReserve()');
    if (!Number.isInteger(len_bytes) || len_bytes < 0 || len_bytes > this.reserved_len) {
      throw new RangeError(`ring: commit(${len_bytes}) outside the reserved 0..${this.reserved_len} bytes`);
    }
    this.words[at >> 2] = len_bytes;
    this.write_local = (this.write_local + frameBytes(len_bytes)) >>> 0;
    this.reserved_at = -1;
    this.pending_frames++;
    this.pending_bytes += len_bytes;
  }

  /** Drops the pending reservation (no frame is written). */
  abort(): void {
    this.reserved_at = -1;
  }

  /** Copies `bytes` into a new frame. False if the ring is full. Publish with flush(). */
  tryWrite(bytes: Uint8Array): boolean {
    const off = this.tryReserve(bytes.length);
    if (off === -1) return false;
    copyToShared(this.data, off, bytes, 0, bytes.length);
    this.commit(bytes.length);
    return true;
  }

  /**
   * Writes one frame = `head[0, head_len)` followed by `body[body_start, body_end)`, without
   * concatenating (e.g. a routing id in front of a request). False if the ring is full.
   */
  tryWrite2(head: Uint8Array, body: Uint8Array, body_start = 0, body_end: number = body.length, head_len: number = head.length): boolean {
    if (!(0 <= body_start && body_start <= body_end && body_end <= body.length)) {
      throw new RangeError(`ring: tryWrite2 body range ${body_start}..${body_end} outside 0..${body.length}`);
    }
    if (!(0 <= head_len && head_len <= head.length)) throw new RangeError(`ring: tryWrite2 head length ${head_len} outside 0..${head.length}`);
    const len = head_len + (body_end - body_start);
    const off = this.tryReserve(len);
    if (off === -1) return false;
    // A head is a few bytes (a link head): a loop, no view of it (one per frame otherwise).
    for (let i = 0; i < head_len; i++) this.data[off + i] = head[i];
    copyToShared(this.data, off + head_len, body, body_start, body_end - body_start);
    this.commit(len);
    return true;
  }

  /**
   * Publishes every committed frame: one store of the write cursor, and a wake-up only if a
   * consumer announced it is sleeping. Cheap when there is nothing new.
   */
  flush(): void {
    if (this.write_local === this.write_published) return;
    Atomics.store(this.header, H_WRITE_CURSOR, this.write_local | 0);
    this.write_published = this.write_local;
    this.counters[PC_FRAMES] += this.pending_frames;
    this.counters[PC_BYTES] += this.pending_bytes;
    this.pending_frames = 0;
    this.pending_bytes = 0;
    if (Atomics.load(this.header, H_SLEEPING) !== 0 && Atomics.exchange(this.header, H_SLEEPING, 0) !== 0) {
      wake(this.header, H_DATA_SEQ);
      this.counters[PC_NOTIFIES]++;
    }
  }

  /**
   * Blocks (Atomics.wait) until a frame of `len_bytes` fits or the timeout passes; true if it fits.
   * Flushes first (consumers can only free space for frames they can see). For dedicated threads.
   */
  waitForSpace(len_bytes: number, timeout_ms: number): boolean {
    const need = this.prepareSpaceWait(len_bytes, timeout_ms);
    if (this.hasSpace(need)) return true;
    const deadline = deadlineAfter(timeout_ms);
    try {
      for (;;) {
        this.announceSpaceWait(need); // again each round: a consumer that woke us took the flag
        const seen = Atomics.load(this.header, H_SPACE_SEQ);
        if (this.hasSpace(need)) return true;
        const left_ms = msUntil(deadline);
        if (left_ms <= 0) return false;
        if (!this.announcementStands()) continue;
        this.countSpaceWait();
        sleepOn(this.header, H_SPACE_SEQ, seen, left_ms);
      }
    } finally {
      Atomics.store(this.header, H_PRODUCER_WAITING, 0);
    }
  }

  /**
   * Like waitForSpace but with Atomics.waitAsync, for threads that also serve sockets/timers.
   * PITFALL: a pending waitAsync does not keep a worker alive; hold a timer/socket while waiting.
   */
  async waitForSpaceAsync(len_bytes: number, timeout_ms: number): Promise<boolean> {
    const need = this.prepareSpaceWait(len_bytes, timeout_ms);
    if (this.hasSpace(need)) return true;
    const deadline = deadlineAfter(timeout_ms);
    try {
      for (;;) {
        this.announceSpaceWait(need); // again each round: a consumer that woke us took the flag
        const seen = Atomics.load(this.header, H_SPACE_SEQ);
        if (this.hasSpace(need)) return true;
        const left_ms = msUntil(deadline);
        if (left_ms <= 0) return false;
        if (!this.announcementStands()) continue;
        this.countSpaceWait();
        const pending = sleepOnAsync(this.header, H_SPACE_SEQ, seen, left_ms);
        if (pending !== null) await pending;
      }
    } finally {
      Atomics.store(this.header, H_PRODUCER_WAITING, 0);
    }
  }

  /** Largest payload tryReserve() would accept right now (wrap included), or -1 if none fits. */
  freeBytes(): number {
    this.refreshReadMin();
    const free = this.capacity_bytes - ((this.write_local - this.read_min_seen) >>> 0);
    const tail = this.capacity_bytes - (this.write_local & this.mask);
    // Either the frame fits before the end of the region, or it wraps and the tail is skipped.
    const largest = Math.max(Math.min(free, tail), free - tail) - FRAME_HEADER_BYTES;
    return largest < 0 ? -1 : Math.min(largest, this.frame_bytes_max);
  }

  /** Flushes, marks the ring closed (consumers drain what is left, then see isFinished()), wakes all. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    Atomics.store(this.header, H_CLOSED, 1);
    Atomics.store(this.header, H_SLEEPING, 0);
    wake(this.header, H_DATA_SEQ);
  }

  /** Gives up the producer slot so another thread may attach (does not close the ring). */
  release(): void {
    this.flush();
    releaseSlot(this.header, H_PRODUCER_CLAIMED);
  }

  private checkWritable(len_bytes: number): void {
    if (this.closed) throw new Error('ring: write after close()');
    if (!Number.isInteger(len_bytes) || len_bytes < 0 || len_bytes > this.frame_bytes_max) {
      throw new RangeError(`ring: frame of ${len_bytes} bytes rejected: frame_bytes_max is ${this.frame_bytes_max}`);
    }
  }

  /** Bytes a frame of len_bytes needs from the current position, including a wrap's skipped tail. */
  private spaceNeeded(len_bytes: number): number {
    const tail_bytes = this.capacity_bytes - (this.write_local & this.mask);
    const need_bytes = frameBytes(len_bytes);
    return need_bytes > tail_bytes ? tail_bytes + need_bytes : need_bytes;
  }

  private prepareSpaceWait(len_bytes: number, timeout_ms: number): number {
    this.checkWritable(len_bytes);
    checkTimeout(timeout_ms);
    if (this.reserved_at !== -1) throw new Error('ring: waiting for space while a reservation is pending');
    this.flush();
    return this.spaceNeeded(len_bytes);
  }

  /** Tells consumers which read cursor makes `need` bytes fit, then that the producer waits. */
  private announceSpaceWait(need: number): void {
    Atomics.store(this.header, H_SPACE_TARGET, (this.write_local + need - this.capacity_bytes) | 0);
    Atomics.store(this.header, H_PRODUCER_WAITING, 1);
  }

  /**
   * Whether PRODUCER_WAITING is still 1 after SPACE_SEQ was read. A consumer that reached the target
   * takes the flag (1 -> 0) and then bumps SPACE_SEQ. If it took the flag before we read SPACE_SEQ,
   * its bump may already be in `seen`, while another consumer (SPMC) still holds the space: sleeping
   * then would wait for a wake-up nobody will send, because the flag is gone. So re-announce instead.
   */
  private announcementStands(): boolean {
    return Atomics.load(this.header, H_PRODUCER_WAITING) !== 0;
  }

  private countSpaceWait(): void {
    this.counters[PC_SPACE_WAITS]++;
  }

  private hasSpace(bytes: number): boolean {
    if (this.capacity_bytes - ((this.write_local - this.read_min_seen) >>> 0) >= bytes) return true;
    this.refreshReadMin();
    return this.capacity_bytes - ((this.write_local - this.read_min_seen) >>> 0) >= bytes;
  }

  private refreshReadMin(): void {
    let lag_max = 0;
    for (let i = 0; i < this.consumers; i++) {
      const read = Atomics.load(this.header, consumerLine(i) + C_READ_CURSOR) >>> 0;
      const lag = (this.write_local - read) >>> 0;
      if (lag > this.capacity_bytes) {
        throw new RingCorruptError(`ring: consumer ${i} read cursor ${read} is not within capacity of write cursor ${this.write_local}`);
      }
      if (lag > lag_max) lag_max = lag;
    }
    this.read_min_seen = (this.write_local - lag_max) >>> 0;
  }
}
