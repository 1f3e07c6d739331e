// Frame format in the data region: [u32 length][payload][zero..7 pad bytes], starting 8-aligned.
//
// Wrap-around uses a skip marker, not a split copy: when a frame does not fit in the bytes left
// before the end of the region, the producer writes SKIP_MARKER in the length word there and
// starts the frame at offset 0. Readers therefore always get one contiguous view of a frame
// (zero-copy `poll` handler, no reassembly buffer). The cost is the wasted tail, at most one frame;
// frame_bytes_max <= capacity/2 - 4 keeps an empty ring able to take any legal frame.

/** Bytes of the length word in front of each payload. */
export const FRAME_HEADER_BYTES = 4;
/** Frames start on 8-byte boundaries. */
export const FRAME_ALIGN_BYTES = 8;
/** Length word meaning "nothing more before the end of the region; continue at offset 0". */
export const SKIP_MARKER = -1;

/** Bytes a payload of `len_bytes` occupies in the ring (length word + payload + pad to 8). */
export function frameBytes(len_bytes: number): number {
  return (len_bytes + FRAME_HEADER_BYTES + FRAME_ALIGN_BYTES - 1) & ~(FRAME_ALIGN_BYTES - 1);
}

/**
 * A frame header read from the ring is impossible (length out of bounds, frame crossing the
 * written range or the end of the region). Only a bug or foreign writes to the SAB cause this.
 */
export class RingCorruptError extends Error {
  override readonly name = 'RingCorruptError';
}
