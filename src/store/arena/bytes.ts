// Byte copies between arena segments and local buffers without a view allocation for short
// ranges (subarray() allocates; most copies here are under a hundred bytes).

// 96 covers the 68-byte stat the bulk loader copies per node: at 48, a profile of a 1M-znode
// snapshot load spent a third of its self time in copyBytes' subarray() allocations.
const LOOP_MAX = 96;

export function copyBytes(dst: Uint8Array, dst_off: number, src: Uint8Array, src_off: number, len: number): void {
  if (dst === src) {
    dst.copyWithin(dst_off, src_off, src_off + len);
  } else if (len <= LOOP_MAX) {
    for (let i = 0; i < len; i++) dst[dst_off + i] = src[src_off + i];
  } else {
    // A whole array (a value as decoded) needs no view.
    dst.set(src_off === 0 && len === src.length ? src : src.subarray(src_off, src_off + len), dst_off);
  }
}

const TWO_32 = 0x1_0000_0000;

/** Writes a safe integer as a big-endian int64. */
export function setI64(dv: DataView, off: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  dv.setInt32(off, hi);
  dv.setUint32(off + 4, value - hi * TWO_32);
}

/** Reads a big-endian int64 as a number (exact within the safe integer range). */
export function getI64(dv: DataView, off: number): number {
  return dv.getInt32(off) * TWO_32 + dv.getUint32(off + 4);
}
