// One reader of a ring (there may be several: broadcast, each sees every frame). poll() hands out
// views of frames in place and releases the space once per batch; waits never spin.

import { type AttachOptions, claimSlot, releaseSlot } from './claim.js';
import { counterView } from './counters.js';
import { FRAME_HEADER_BYTES, frameBytes, RingCorruptError, SKIP_MARKER } from './frame.js';
import {
  C_CLAIMED,
  C_READ_CURSOR,
  CC_BATCHES,
  CC_BYTES,
  CC_DATA_WAITS,
  CC_FRAMES,
  CONSUMER_COUNTER_NAMES,
  consumerCountersOffsetBytes,
  consumerLine,
  H_CLOSED,
  H_DATA_SEQ,
  H_PRODUCER_WAITING,
  H_SLEEPING,
  H_SPACE_SEQ,
  H_SPACE_TARGET,
  H_WRITE_CURSOR,
  headerView,
  readGeometry,
} from './layout.js';
import { checkTimeout, deadlineAfter, msUntil, sleepOn, sleepOnAsync, wake } from './waiter.js';

/**
 * Called once per frame with the ring's data region and the payload's [start, end). The view is
 * valid only during the call: the space is handed back to the producer when poll() returns.
 */
export type FrameHandler = (bytes: Uint8Array, start: number, end: number) => void;

export class RingConsumer {
  /** The data region (the `bytes` argument every handler receives). */
  readonly data: Uint8Array;
  readonly consumer_index: number;
  readonly capacity_bytes: number;
  readonly frame_bytes_max: number;

  private readonly header: Int32Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  /** Header index of this consumer's READ_CURSOR word. */
  private readonly read_index: number;
  /** This consumer's counters in the SAB (CC_* indices), read by Ring.stats from any thread. */
  private readonly counters: Float64Array;
  /**
   * Always equal to this consumer's READ_CURSOR in the SAB (this object is its only writer).
   * Invariant: on a frame boundary, and (WRITE_CURSOR - read_local) >>> 0 <= capacity_bytes.
   */
  private read_local: number;
  /** This consumer's bit in the SLEEPING word. */
  private readonly sleeping_bit: number;
  /** True while handlers run: poll() must not be re-entered from a handler. */
  private polling = false;

  private constructor(sab: SharedArrayBuffer, consumer_index: number, options: AttachOptions | undefined) {
    const g = readGeometry(sab);
    if (!Number.isInteger(consumer_index) || consumer_index < 0 || consumer_index >= g.consumers) {
      throw new RangeError(`ring: consumer_index must be in [0, ${g.consumers - 1}], got ${consumer_index}`);
    }
    this.consumer_index = consumer_index;
    this.capacity_bytes = g.capacity_bytes;
    this.frame_bytes_max = g.frame_bytes_max;
    this.mask = g.capacity_bytes - 1;
    this.header = headerView(sab, g);
    this.data = new Uint8Array(sab, g.data_offset_bytes, g.capacity_bytes);
    this.words = new Int32Array(sab, g.data_offset_bytes, g.capacity_bytes / 4);
    const line = consumerLine(consumer_index);
    claimSlot(this.header, line + C_CLAIMED, `consumer ${consumer_index}`, options);
    this.read_index = line + C_READ_CURSOR;
    this.sleeping_bit = 1 << consumer_index;
    this.counters = counterView(sab, consumerCountersOffsetBytes(consumer_index), CONSUMER_COUNTER_NAMES.length);
    this.read_local = Atomics.load(this.header, this.read_index) >>> 0;
  }

  /** Attach consumer `consumer_index` (0-based, < the ring's consumer count) to a ring. */
  static attach(sab: SharedArrayBuffer, consumer_index: number, options?: AttachOptions): RingConsumer {
    return new RingConsumer(sab, consumer_index, options);
  }

  /**
   * Calls `handler` for up to `max_frames` available frames, in order, then releases their space
   * in one step (and wakes the producer if it waits for space). Returns the number of frames.
   * If a handler throws, the frames before it are released and the throwing frame is delivered
   * again by the next poll. Throws RingCorruptError on an impossible frame header.
   * `until`: a cursor writeCursor() returned: only frames published before it are taken.
   */
  poll(handler: FrameHandler, max_frames = 0x7fffffff, until: number | null = null): number {
    if (this.polling) throw new Error('ring: poll() re-entered from a frame handler');
    const write = until ?? Atomics.load(this.header, H_WRITE_CURSOR) >>> 0;
    let read = this.read_local;
    if (read === write || max_frames <= 0) return 0;
    if (((write - read) >>> 0) > this.capacity_bytes) this.corrupt(`write cursor ${write} is more than capacity ahead of read cursor ${read}`);
    let frames = 0;
    let bytes = 0;
    this.polling = true;
    try {
      while (read !== write && frames < max_frames) {
        const pos = read & this.mask;
        const len = this.words[pos >> 2];
        const remaining = (write - read) >>> 0;
        if (len === SKIP_MARKER) {
          const tail = this.capacity_bytes - pos;
          if (tail > remaining) this.corrupt(`skip marker at ${pos} runs past the written range`);
          read = (read + tail) >>> 0;
          continue;
        }
        const size = this.checkFrame(pos, len, remaining);
        handler(this.data, pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + len);
        read = (read + size) >>> 0;
        frames++;
        bytes += len;
      }
    } finally {
      this.polling = false;
      if (read !== this.read_local) this.finishBatch(read, frames, bytes);
    }
    return frames;
  }

  /** True if at least one published frame (or skip marker) has not been polled yet. */
  hasData(): boolean {
    return Atomics.load(this.header, H_WRITE_CURSOR) >>> 0 !== this.read_local;
  }

  /** Where the producer's published frames end now (for poll's `until`). */
  writeCursor(): number {
    return Atomics.load(this.header, H_WRITE_CURSOR) >>> 0;
  }

  /** Published bytes not yet consumed by this consumer (frames incl. headers and padding). */
  availableBytes(): number {
    return (Atomics.load(this.header, H_WRITE_CURSOR) - this.read_local) >>> 0;
  }

  /** The producer called close() (there may still be frames to poll). */
  isClosed(): boolean {
    return Atomics.load(this.header, H_CLOSED) !== 0;
  }

  /** The producer closed the ring and this consumer has polled every frame: stop reading. */
  isFinished(): boolean {
    return this.isClosed() && !this.hasData(); // closed first: the final cursor was stored before
  }

  /**
   * Blocks the thread (Atomics.wait) until data is available, the ring is closed, or the timeout
   * passes. True if data is available. For dedicated workers whose event loop has nothing else.
   */
  waitForData(timeout_ms: number): boolean {
    checkTimeout(timeout_ms);
    if (this.hasData()) return true;
    const deadline = deadlineAfter(timeout_ms);
    try {
      for (;;) {
        // Announce again each round: the producer clears the whole word when it wakes sleepers.
        Atomics.or(this.header, H_SLEEPING, this.sleeping_bit);
        const seen = Atomics.load(this.header, H_DATA_SEQ);
        const closed = this.isClosed();
        if (this.hasData()) return true;
        const left_ms = msUntil(deadline);
        if (closed || left_ms <= 0) return false;
        if (!this.announcementStands()) continue;
        this.counters[CC_DATA_WAITS]++;
        sleepOn(this.header, H_DATA_SEQ, seen, left_ms);
      }
    } finally {
      Atomics.and(this.header, H_SLEEPING, ~this.sleeping_bit);
    }
  }

  /**
   * Like waitForData with Atomics.waitAsync, for workers that also run sockets and timers.
   * PITFALL: a pending Atomics.waitAsync does not keep a worker alive. If nothing else (socket,
   * ref'd timer, MessagePort) holds the event loop open, the worker exits while waiting.
   */
  async waitForDataAsync(timeout_ms: number): Promise<boolean> {
    checkTimeout(timeout_ms);
    if (this.hasData()) return true;
    const deadline = deadlineAfter(timeout_ms);
    try {
      for (;;) {
        // Announce again each round: the producer clears the whole word when it wakes sleepers.
        Atomics.or(this.header, H_SLEEPING, this.sleeping_bit);
        const seen = Atomics.load(this.header, H_DATA_SEQ);
        const closed = this.isClosed();
        if (this.hasData()) return true;
        const left_ms = msUntil(deadline);
        if (closed || left_ms <= 0) return false;
        if (!this.announcementStands()) continue;
        this.counters[CC_DATA_WAITS]++;
        const pending = sleepOnAsync(this.header, H_DATA_SEQ, seen, left_ms);
        if (pending !== null) await pending;
      }
    } finally {
      Atomics.and(this.header, H_SLEEPING, ~this.sleeping_bit);
    }
  }

  /**
   * Whether this consumer's SLEEPING bit is still set after DATA_SEQ was read. The producer takes
   * the whole word before bumping DATA_SEQ; if it did so for a publish this consumer had already
   * polled, and before we read DATA_SEQ, sleeping now would miss the next publish (no bit, no
   * notify). So re-announce instead (see waiter.ts).
   */
  private announcementStands(): boolean {
    return (Atomics.load(this.header, H_SLEEPING) & this.sleeping_bit) !== 0;
  }

  /** Gives up this consumer slot so another thread may attach at the same read position. */
  release(): void {
    releaseSlot(this.header, consumerLine(this.consumer_index) + C_CLAIMED);
  }

  /** Validates a frame's length word; returns its size in the ring. */
  private checkFrame(pos: number, len: number, remaining: number): number {
    if (len < 0 || len > this.frame_bytes_max) this.corrupt(`frame length ${len} at ${pos} outside 0..${this.frame_bytes_max}`);
    const size = frameBytes(len);
    if (size > remaining) this.corrupt(`frame of ${size} bytes at ${pos} runs past the written range (${remaining} bytes)`);
    if (pos + size > this.capacity_bytes) this.corrupt(`frame of ${size} bytes at ${pos} crosses the end of the region`);
    return size;
  }

  /**
   * Publishes the new read cursor (the release of the space) and wakes the producer if it waits
   * for space and this consumer reached the cursor it needs (see SPACE_TARGET in layout.ts).
   */
  private releaseSpace(read: number): void {
    Atomics.store(this.header, this.read_index, read | 0);
    this.read_local = read;
    if (Atomics.load(this.header, H_PRODUCER_WAITING) === 0) return;
    if (((read - Atomics.load(this.header, H_SPACE_TARGET)) | 0) < 0) return;
    if (Atomics.compareExchange(this.header, H_PRODUCER_WAITING, 1, 0) === 1) wake(this.header, H_SPACE_SEQ);
  }

  private countBatch(frames: number, bytes: number): void {
    const counters = this.counters;
    counters[CC_FRAMES] += frames;
    counters[CC_BYTES] += bytes;
    if (frames !== 0) counters[CC_BATCHES]++;
  }

  private finishBatch(read: number, frames: number, bytes: number): void {
    this.releaseSpace(read);
    this.countBatch(frames, bytes);
  }

  private corrupt(message: string): never {
    throw new RingCorruptError(`ring consumer ${this.consumer_index}: ${message}`);
  }
}
