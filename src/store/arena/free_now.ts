// Freeing a large transient buffer when its user is done with it, not when V8 next collects.
//
// Why: recovery needs a few big buffers for a short time (the snapshot file: ~180 MiB for 1M
// znodes of 100 B; per-node arrays of 4-8 bytes a node). An ArrayBuffer's memory is freed only
// when V8 collects the object, and after recovery the commit worker's heap is small and quiet,
// so that collection may not come for minutes: measured, a restarted server kept the whole
// snapshot file in its RSS (508 MiB instead of 329 MiB with 1M znodes).
//
// How: the buffer is transferred into a MessageChannel whose receiving port never starts, and
// both ports are closed. The transfer moves the memory out of the JS object at once (the buffer
// is detached: every view of it reads as empty); closing the channel discards the queued
// message, and with it the memory, when the ports' close completes (the thread's next
// event-loop turn, not a GC). A buffer that cannot be transferred (a slice of Node's Buffer
// pool: never the case for the buffers given here, which are whole allocations) is left to GC.
//
// Measured alternatives: a resizable ArrayBuffer shrunk to 0 also frees at once, but V8 11
// reads typed arrays over resizable buffers ~1.5x slower, and the loader's shared helpers
// (copyBytes) would turn polymorphic for the commit worker's whole life: +12 % load time.

import { MessageChannel } from 'node:worker_threads';

/** Frees `buffer` now (at this thread's next event-loop turn); the caller must hold no view of it. */
export function freeNow(buffer: ArrayBufferLike): void {
  if (buffer.byteLength === 0 || !(buffer instanceof ArrayBuffer)) return;
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(null, [buffer]);
  } catch {
    // Not transferable: the GC frees it as before.
  }
  port1.close();
  port2.close();
}
