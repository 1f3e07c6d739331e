// SharedArrayBuffer rings of variable-length frames linking the threads of a replica.
//
//   owning thread:  const sab = Ring.create({ capacity_bytes: 1 << 20, consumers: 2 });
//                   worker.postMessage({ sab });            // to every side
//   producer:       const p = Ring.attachProducer(sab);
//                   p.tryWrite(bytes) || await p.waitForSpaceAsync(bytes.length, 1000); ... p.flush();
//   consumer i:     const c = Ring.attachConsumer(sab, i);
//                   c.poll(handler, 256) || c.waitForData(1000);     // or await waitForDataAsync
//   anyone:         Ring.stats(sab)
//
// Single producer, one or more consumers; every consumer sees every frame (broadcast) and the
// producer's free space is bounded by the slowest one. See layout.ts for the memory layout and
// invariants, frame.ts for the frame format, waiter.ts for the sleep/wake protocol.
// PITFALL: a pending Atomics.waitAsync does not keep a worker alive (see waiter.ts).

import type { AttachOptions } from './claim.js';
import { RingConsumer } from './consumer.js';
import { createRingBuffer } from './layout.js';
import { RingProducer } from './producer.js';
import { readRingStats } from './stats.js';

export type { AttachOptions } from './claim.js';
export { type FrameHandler, RingConsumer } from './consumer.js';
export { frameBytes, RingCorruptError } from './frame.js';
export { CAPACITY_BYTES_MAX, CAPACITY_BYTES_MIN, CONSUMERS_MAX, createRingBuffer, frameBytesMaxFor, type RingOptions } from './layout.js';
export { RingProducer } from './producer.js';
export { readRingStats, type RingConsumerStats, type RingProducerStats, type RingStats } from './stats.js';

export const Ring = {
  create: createRingBuffer,
  attachProducer: (sab: SharedArrayBuffer, options?: AttachOptions): RingProducer => RingProducer.attach(sab, options),
  attachConsumer: (sab: SharedArrayBuffer, consumer_index: number, options?: AttachOptions): RingConsumer =>
    RingConsumer.attach(sab, consumer_index, options),
  stats: readRingStats,
} as const;
