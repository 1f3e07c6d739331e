// Memory layout of one ring: a single SharedArrayBuffer = header lines + power-of-two data region.
//
//   [line 0: geometry, written once]   [line 1: write cursor]   [line 2: wake-up words]
//   [line 3: producer counters]        [line 4+i: consumer i: read cursor, claim, counters]
//   [data region: capacity_bytes, frames of (u32 length | payload | pad to 8)]
//
// A line is 64 bytes (16 Int32 words) so the producer's hot word and each consumer's hot word sit
// on different cache lines (no false sharing between threads).
//
// Cursors are byte positions counted from the ring's creation, kept as uint32 that wrap at 2^32.
// Because capacity_bytes divides 2^32 and every cursor distance is <= capacity_bytes (< 2^31),
// `(a - b) >>> 0` is always the true distance and `cursor & (capacity_bytes - 1)` the data offset.

export const LINE_WORDS = 16;
export const LINE_BYTES = LINE_WORDS * 4;

export const RING_MAGIC = 0x52494e47; // 'RING'
export const RING_VERSION = 1;

export const CAPACITY_BYTES_MIN = 4 * 1024;
export const CAPACITY_BYTES_MAX = 1024 * 1024 * 1024;
/** One bit per consumer in the SLEEPING word. */
export const CONSUMERS_MAX = 32;

/** Line 0: geometry, written once by createRingBuffer before the SAB is shared, read-only after. */
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_CAPACITY_BYTES = 2;
export const H_FRAME_BYTES_MAX = 3;
export const H_CONSUMERS = 4;
export const H_DATA_OFFSET_BYTES = 5;
/** 1 while a RingProducer is attached (claimed by CAS, so two producers cannot attach by mistake). */
export const H_PRODUCER_CLAIMED = 6;
/** 1 once the producer called close(): no more frames will come; consumers drain and stop. */
export const H_CLOSED = 7;

/**
 * Line 1: the write cursor. Written only by the producer (Atomics.store in flush), read by everyone.
 * Invariants: for every consumer i, 0 <= (WRITE_CURSOR - READ_CURSOR[i]) >>> 0 <= capacity_bytes;
 * every byte in [READ_CURSOR[i], WRITE_CURSOR) belongs to a complete, committed frame (or a skip
 * marker); WRITE_CURSOR is a multiple of 8. The store is the release that publishes the frames.
 */
export const H_WRITE_CURSOR = 1 * LINE_WORDS + 0;

/**
 * Line 2: wake-up words (Dekker-style handshake, every access is a seq-cst Atomics op).
 * - SLEEPING: bit i set = consumer i announced it is (about to be) waiting for data. A consumer
 *   sets its bit (Atomics.or) before its final emptiness check and clears it (Atomics.and) when
 *   done. The producer loads it once per flush; only if non-zero does it take the whole word
 *   (Atomics.exchange to 0) and notify, so one sleep costs one notify however many flushes follow.
 *   A consumer sleeps only if its bit is still set after reading DATA_SEQ (see waiter.ts).
 * - DATA_SEQ: the word consumers Atomics.wait on. The producer increments it (then notifies) when
 *   it took a non-zero SLEEPING word, and on close. A consumer reads DATA_SEQ after announcing and
 *   before its final emptiness check, so a publish it missed always changes DATA_SEQ under it.
 * - PRODUCER_WAITING: 1 while the producer announced it waits for space. Consumers load it once
 *   per poll that released space; the consumer that wakes the producer takes it (CAS 1 -> 0).
 *   The producer sleeps only if it still reads 1 after reading SPACE_SEQ (else it re-announces):
 *   with several consumers one taker's progress may not be enough (see waiter.ts).
 * - SPACE_SEQ: the word the producer waits on; consumers increment it (then notify) after
 *   releasing space while PRODUCER_WAITING is 1 and their read cursor reached SPACE_TARGET.
 * - SPACE_TARGET: the read cursor every consumer must reach for the awaited frame to fit, stored
 *   by the producer before it sets PRODUCER_WAITING. A consumer still short of it cannot make the
 *   frame fit (the slowest cursor is <= its own), so it does not wake the producer for nothing.
 */
export const H_SLEEPING = 2 * LINE_WORDS + 0;
export const H_DATA_SEQ = 2 * LINE_WORDS + 1;
export const H_PRODUCER_WAITING = 2 * LINE_WORDS + 2;
export const H_SPACE_SEQ = 2 * LINE_WORDS + 3;
export const H_SPACE_TARGET = 2 * LINE_WORDS + 4;

/** Line 3: producer counters, Float64 slots written only by the producer (counters.ts). */
export const PRODUCER_COUNTERS_OFFSET_BYTES = 3 * LINE_BYTES;
export const PRODUCER_COUNTER_NAMES = ['frames', 'bytes', 'notifies', 'full_rejects', 'space_waits'] as const;
export const PC_FRAMES = 0;
export const PC_BYTES = 1;
export const PC_NOTIFIES = 2;
export const PC_FULL_REJECTS = 3;
export const PC_SPACE_WAITS = 4;

/**
 * Line 4+i: consumer i.
 * - READ_CURSOR: written only by consumer i (Atomics.store at the end of a poll batch), read by the
 *   producer to bound its free space. Invariant: READ_CURSOR only moves forward, never past
 *   WRITE_CURSOR, and always sits on a frame boundary. The store is the release that hands the
 *   bytes back to the producer; a consumer never touches bytes before its READ_CURSOR again.
 * - CLAIMED: 1 while a RingConsumer for index i is attached.
 * - counters (from byte 8 of the line): Float64 slots written only by consumer i (counters.ts).
 */
export const C_READ_CURSOR = 0;
export const C_CLAIMED = 1;
export const CONSUMER_COUNTER_NAMES = ['frames', 'bytes', 'batches', 'data_waits'] as const;
export const CC_FRAMES = 0;
export const CC_BYTES = 1;
export const CC_BATCHES = 2;
export const CC_DATA_WAITS = 3;

/** Header word index of consumer i's line. */
export function consumerLine(consumer_index: number): number {
  return (4 + consumer_index) * LINE_WORDS;
}

export function consumerCountersOffsetBytes(consumer_index: number): number {
  return consumerLine(consumer_index) * 4 + 8;
}

export interface RingOptions {
  /** Size of the data region; power of two in [4 KiB, 1 GiB]. */
  capacity_bytes: number;
  /** Largest payload accepted in one frame. Default and maximum: capacity_bytes / 2 - 4. */
  frame_bytes_max?: number;
  /** Number of consumers (broadcast: each sees every frame). Default 1, at most 64. */
  consumers?: number;
}

/** The geometry every attached side reads back (and checks) from line 0. */
export interface RingGeometry {
  capacity_bytes: number;
  frame_bytes_max: number;
  consumers: number;
  data_offset_bytes: number;
}

/**
 * Largest payload such that a whole frame is at most capacity/2 bytes. That bound is what makes a
 * skip marker safe: an empty ring can always take any legal frame, whatever the wrap position
 * (if the frame does not fit in the tail, the tail is < half, so the head is > half >= frame).
 */
export function frameBytesMaxFor(capacity_bytes: number): number {
  return capacity_bytes / 2 - 4;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function checkOptions(options: RingOptions): RingGeometry {
  const capacity_bytes = options.capacity_bytes;
  if (!isPowerOfTwo(capacity_bytes) || capacity_bytes < CAPACITY_BYTES_MIN || capacity_bytes > CAPACITY_BYTES_MAX) {
    throw new RangeError(
      `ring: capacity_bytes must be a power of two in [${CAPACITY_BYTES_MIN}, ${CAPACITY_BYTES_MAX}], got ${capacity_bytes}`,
    );
  }
  const limit = frameBytesMaxFor(capacity_bytes);
  const frame_bytes_max = options.frame_bytes_max ?? limit;
  if (!Number.isInteger(frame_bytes_max) || frame_bytes_max < 1 || frame_bytes_max > limit) {
    throw new RangeError(`ring: frame_bytes_max must be an integer in [1, ${limit}] for this capacity, got ${frame_bytes_max}`);
  }
  const consumers = options.consumers ?? 1;
  if (!Number.isInteger(consumers) || consumers < 1 || consumers > CONSUMERS_MAX) {
    throw new RangeError(`ring: consumers must be an integer in [1, ${CONSUMERS_MAX}], got ${consumers}`);
  }
  return { capacity_bytes, frame_bytes_max, consumers, data_offset_bytes: (4 + consumers) * LINE_BYTES };
}

/** Allocates and initialises a ring. Call on the owning thread, then postMessage the SAB. */
export function createRingBuffer(options: RingOptions): SharedArrayBuffer {
  const g = checkOptions(options);
  const sab = new SharedArrayBuffer(g.data_offset_bytes + g.capacity_bytes);
  const header = new Int32Array(sab, 0, g.data_offset_bytes / 4);
  header[H_VERSION] = RING_VERSION;
  header[H_CAPACITY_BYTES] = g.capacity_bytes;
  header[H_FRAME_BYTES_MAX] = g.frame_bytes_max;
  header[H_CONSUMERS] = g.consumers;
  header[H_DATA_OFFSET_BYTES] = g.data_offset_bytes;
  Atomics.store(header, H_MAGIC, RING_MAGIC); // last: a reader that sees the magic sees the rest
  return sab;
}

/** Reads line 0 back and checks it is a ring this code understands. */
export function readGeometry(sab: SharedArrayBuffer): RingGeometry {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < LINE_BYTES) {
    throw new TypeError('ring: expected the SharedArrayBuffer returned by createRingBuffer');
  }
  const line0 = new Int32Array(sab, 0, LINE_WORDS);
  if (Atomics.load(line0, H_MAGIC) !== RING_MAGIC || line0[H_VERSION] !== RING_VERSION) {
    throw new TypeError('ring: SharedArrayBuffer is not an initialised ring (bad magic or version)');
  }
  const g: RingGeometry = {
    capacity_bytes: line0[H_CAPACITY_BYTES],
    frame_bytes_max: line0[H_FRAME_BYTES_MAX],
    consumers: line0[H_CONSUMERS],
    data_offset_bytes: line0[H_DATA_OFFSET_BYTES],
  };
  const expected = checkOptions(g);
  if (expected.data_offset_bytes !== g.data_offset_bytes || sab.byteLength !== g.data_offset_bytes + g.capacity_bytes) {
    throw new TypeError('ring: header geometry does not match the SharedArrayBuffer size');
  }
  return g;
}

/** Header words as Int32Array (every cross-thread access to them goes through Atomics). */
export function headerView(sab: SharedArrayBuffer, g: RingGeometry): Int32Array {
  return new Int32Array(sab, 0, g.data_offset_bytes / 4);
}
