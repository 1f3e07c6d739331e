// Big-endian helpers shared by the on-disk formats (log segments, snapshots, the liveness file).
// 64-bit fields hold safe integers (zxids, wall-clock ms): written as two u32 halves, so no BigInt
// on these paths.

const U32 = 0x1_0000_0000;

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A non-negative safe integer from 8 big-endian bytes. */
export function getU64(view: DataView, at: number): number {
  return view.getUint32(at) * U32 + view.getUint32(at + 4);
}

export function setU64(view: DataView, at: number, v: number): void {
  view.setUint32(at, Math.floor(v / U32));
  view.setUint32(at + 4, v % U32);
}
