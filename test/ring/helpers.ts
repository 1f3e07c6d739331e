// Shared helpers for the ring tests.
import type { RingConsumer } from '../../src/ring/ring.js';

/** Deterministic payload for frame number `i` of `len` bytes. */
export function payload(i: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let j = 0; j < len; j++) out[j] = (i * 131 + j * 7 + 1) & 0xff;
  return out;
}

/** Polls everything available and returns copies of the frames. */
export function drain(consumer: RingConsumer, max_frames = 0x7fffffff): Uint8Array[] {
  const frames: Uint8Array[] = [];
  consumer.poll((bytes, start, end) => frames.push(bytes.slice(start, end)), max_frames);
  return frames;
}
