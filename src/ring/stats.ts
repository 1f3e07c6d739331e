// Ring statistics, readable from any thread that holds the SAB (for /metrics and mntr).
// Counters are totals since the ring was created (exact up to 2^53); frames/bytes count published
// frames. Each value is read tear-free, but the snapshot as a whole is not atomic.

import { counterView } from './counters.js';
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
  H_PRODUCER_CLAIMED,
  H_SLEEPING,
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

export interface RingProducerStats {
  attached: boolean;
  /** Frames and payload bytes published (flushed). */
  frames: number;
  bytes: number;
  /** Atomics.notify calls made because a consumer was asleep (wake-ups sent). */
  notifies: number;
  /** tryReserve/tryWrite calls refused because the ring was full. */
  full_rejects: number;
  /** Times the producer went to sleep waiting for space. */
  space_waits: number;
}

export interface RingConsumerStats {
  attached: boolean;
  read_cursor: number;
  /** Published bytes this consumer has not consumed yet (its occupancy). */
  lag_bytes: number;
  frames: number;
  bytes: number;
  /** poll() calls that returned at least one frame. */
  batches: number;
  /** Times this consumer went to sleep waiting for data. */
  data_waits: number;
}

export interface RingStats {
  capacity_bytes: number;
  frame_bytes_max: number;
  closed: boolean;
  write_cursor: number;
  /** Occupancy: bytes held for the slowest consumer (what bounds the producer's free space). */
  used_bytes: number;
  /** Consumers currently announced as sleeping. */
  sleepers: number;
  producer: RingProducerStats;
  consumers: RingConsumerStats[];
}

export function readRingStats(sab: SharedArrayBuffer): RingStats {
  const g = readGeometry(sab);
  const header = headerView(sab, g);
  const write_cursor = Atomics.load(header, H_WRITE_CURSOR) >>> 0;
  const consumers: RingConsumerStats[] = [];
  for (let i = 0; i < g.consumers; i++) consumers.push(readConsumer(sab, header, i, write_cursor));
  const p = counterView(sab, PRODUCER_COUNTERS_OFFSET_BYTES, PRODUCER_COUNTER_NAMES.length);
  return {
    capacity_bytes: g.capacity_bytes,
    frame_bytes_max: g.frame_bytes_max,
    closed: Atomics.load(header, H_CLOSED) !== 0,
    write_cursor,
    used_bytes: Math.max(...consumers.map((c) => c.lag_bytes)),
    sleepers: popcount(Atomics.load(header, H_SLEEPING)),
    producer: {
      attached: Atomics.load(header, H_PRODUCER_CLAIMED) !== 0,
      frames: p[PC_FRAMES],
      bytes: p[PC_BYTES],
      notifies: p[PC_NOTIFIES],
      full_rejects: p[PC_FULL_REJECTS],
      space_waits: p[PC_SPACE_WAITS],
    },
    consumers,
  };
}

function readConsumer(sab: SharedArrayBuffer, header: Int32Array, i: number, write_cursor: number): RingConsumerStats {
  const line = consumerLine(i);
  const c = counterView(sab, consumerCountersOffsetBytes(i), CONSUMER_COUNTER_NAMES.length);
  const read_cursor = Atomics.load(header, line + C_READ_CURSOR) >>> 0;
  return {
    attached: Atomics.load(header, line + C_CLAIMED) !== 0,
    read_cursor,
    // Two independent loads: the reader may have passed the write cursor we loaded; clamp to 0.
    lag_bytes: Math.max(0, (write_cursor - read_cursor) | 0),
    frames: c[CC_FRAMES],
    bytes: c[CC_BYTES],
    batches: c[CC_BATCHES],
    data_waits: c[CC_DATA_WAITS],
  };
}

function popcount(word: number): number {
  let n = 0;
  for (let w = word >>> 0; w !== 0; w >>>= 1) n += w & 1;
  return n;
}
