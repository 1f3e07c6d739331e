// Statistics counters in the ring's SAB: Float64 slots (integers exact up to 2^53), one writer each.
//
// The owning side (producer, or consumer i) updates its own slots with plain stores; any thread
// reads them with plain loads. No seqlock and no Atomics: an aligned TypedArray element access is
// tear-free in the ECMAScript memory model ([[NoTear]]), and counters need no ordering with the
// frames (a reader may see a value a few batches old). This keeps the counters off the hot path
// cost: a handful of plain stores per flush/poll, where Atomics stores would cost ~20 ns each.

/** Float64 view of `count` counters at `byte_offset` (8-aligned) in the ring's SAB. */
export function counterView(sab: SharedArrayBuffer, byte_offset: number, count: number): Float64Array {
  if (byte_offset % 8 !== 0) throw new Error(`ring: counter block at ${byte_offset} is not 8-aligned`);
  return new Float64Array(sab, byte_offset, count);
}
