// Copies between local memory and shared memory (a SharedArrayBuffer: the tree's arena, a ring)
// at the speed of a local copy, whatever the two addresses are.
//
// V8 copies to or from a SharedArrayBuffer with relaxed atomic accesses (base::Relaxed_Memcpy):
// word by word when source and destination have the same address mod 8, byte by byte otherwise.
// Measured on Node 20, 1.1 KB: ~90-100 ns when they agree, ~280-410 ns when they do not, and a
// local memmove (copyWithin, or set between two local arrays) ~30 ns. So a copy whose ends
// disagree takes a detour through local memory at a position that agrees with the shared end:
// - out of shared memory: to the nearest position of the destination that agrees, then moved
//   into place inside the destination (copyFromShared);
// - into shared memory: through a staging buffer, at a position that agrees with the
//   destination (copyToShared).

/** At most 7: the distance between a position and the next one with a given address mod 8. */
export const SKEW_BYTES_MAX = 7;
const WORD_MASK = 7;
/** Up to this many bytes a JS loop is cheaper than a subarray() view and a native copy. */
const LOOP_BYTES_MAX = 64;
/**
 * Up to this many bytes, when source and destination agree mod 4, a loop of 32-bit words beats
 * a subarray() view and a native copy (measured on Node 20, local -> shared: 15 against 46 ns at
 * 100 B, 19 against 43 at 128 B, even at 256 B), and it makes no view: a read's reply is copied
 * twice at this size (tree -> reply, reply -> ring), so the views were a third of a read's
 * garbage.
 */
const WORD_LOOP_BYTES_MAX = 256;

/**
 * Int32 views of the buffers copied between last (a thread copies between a handful: an arena
 * segment, a reply writer, a ring), so that the word loop makes no view per copy. Keeps at most
 * VIEW_CACHE_SIZE buffers reachable.
 */
const VIEW_CACHE_SIZE = 4;
const cached_buffers: (ArrayBufferLike | null)[] = new Array<ArrayBufferLike | null>(VIEW_CACHE_SIZE).fill(null);
const cached_words: Int32Array[] = Array.from({ length: VIEW_CACHE_SIZE }, () => new Int32Array(0));
let cache_next = 0;

function wordsOf(buffer: ArrayBufferLike): Int32Array {
  for (let i = 0; i < VIEW_CACHE_SIZE; i++) if (cached_buffers[i] === buffer) return cached_words[i];
  const words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
  cached_buffers[cache_next] = buffer;
  cached_words[cache_next] = words;
  cache_next = (cache_next + 1) % VIEW_CACHE_SIZE;
  return words;
}

/**
 * dst[at, at + len) = src[from, from + len) by 32-bit words, for arrays whose absolute positions
 * agree mod 4 (the caller checks): bytes up to the source's next word boundary, words, the tail.
 * Both arrays are larger than V8's on-heap limit (len > LOOP_BYTES_MAX), so .buffer moves nothing.
 */
function copyWords(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  const src_abs = src.byteOffset + from;
  let i = 0;
  for (const head = (4 - (src_abs & 3)) & 3; i < head; i++) dst[at + i] = src[from + i];
  const n = (len - i) >>> 2;
  const d32 = wordsOf(dst.buffer);
  const s32 = wordsOf(src.buffer);
  const dw = (dst.byteOffset + at + i) >>> 2;
  const sw = (src_abs + i) >>> 2;
  for (let k = 0; k < n; k++) d32[dw + k] = s32[sw + k];
  for (i += n << 2; i < len; i++) dst[at + i] = src[from + i];
}

/**
 * dst[at, at + len) = src[from, from + len). `dst` is local memory (not shared); when it has
 * room past at + len (up to SKEW_BYTES_MAX bytes, used as scratch: their contents are lost) the
 * copy is done at word speed, else as V8 does it.
 */
export function copyFromShared(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  if (len <= LOOP_BYTES_MAX) {
    for (let i = 0; i < len; i++) dst[at + i] = src[from + i];
    return;
  }
  const skew = (src.byteOffset + from - (dst.byteOffset + at)) & WORD_MASK;
  if ((skew & 3) === 0 && len <= WORD_LOOP_BYTES_MAX) {
    copyWords(dst, at, src, from, len);
    return;
  }
  const view = src.subarray(from, from + len);
  if (skew === 0 || at + skew + len > dst.length) {
    dst.set(view, at);
    return;
  }
  dst.set(view, at + skew);
  dst.copyWithin(at, at + skew, at + skew + len);
}

/** Longest copy staged by copyToShared: larger ones (rare: big znode values) go as V8 does them,
 *  so that the staging buffer (one per thread: module state is per worker) stays this small. */
export const STAGED_BYTES_MAX = 64 * 1024;
let staging = new Uint8Array(0);

/**
 * dst[at, at + len) = src[from, from + len), where `dst` is shared memory. A local `src` whose
 * address disagrees with the destination's mod 8 is staged in local memory first (two fast
 * copies instead of one byte by byte). A shared `src` is copied as V8 does it: staging would
 * not make its first copy any faster; so is one longer than STAGED_BYTES_MAX.
 */
export function copyToShared(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  if (len <= LOOP_BYTES_MAX) {
    for (let i = 0; i < len; i++) dst[at + i] = src[from + i];
    return;
  }
  const skew = (dst.byteOffset + at - (src.byteOffset + from)) & WORD_MASK;
  if ((skew & 3) === 0 && len <= WORD_LOOP_BYTES_MAX) {
    copyWords(dst, at, src, from, len);
    return;
  }
  const view = src.subarray(from, from + len);
  // src.length > LOOP_BYTES_MAX: an off-heap array, whose .buffer costs no move (see jute.ts).
  if (skew === 0 || len > STAGED_BYTES_MAX || src.buffer instanceof SharedArrayBuffer) {
    dst.set(view, at);
    return;
  }
  if (staging.length < len + SKEW_BYTES_MAX) staging = new Uint8Array(Math.min(STAGED_BYTES_MAX, Math.max(len, 2 * staging.length)) + SKEW_BYTES_MAX);
  const pos = (dst.byteOffset + at - staging.byteOffset) & WORD_MASK;
  staging.set(view, pos);
  dst.set(staging.subarray(pos, pos + len), at);
}
