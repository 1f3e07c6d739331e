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
 * The arrays copied between last, with their byteOffset and (made on the first word copy) an
 * Int32 view of their buffer. V8 (Node 20) does not inline the byteOffset and buffer getters:
 * each read is a generic property load and a call (~7 and ~11 ns; length costs ~1), and every
 * copy needs the offsets of both ends. A thread copies between a handful of long-lived arrays
 * (an arena segment, a ring, a writer's backing array): an identity compare finds them. Arrays
 * seen once (a socket chunk) take a slot each and push the others out in turn, so the cache
 * stays correct for any mix and costs one getter read per miss. Keeps at most
 * ARRAY_CACHE_SIZE arrays (and their buffers' views) reachable.
 */
const ARRAY_CACHE_SIZE = 8;
const cached_arrays: (Uint8Array | null)[] = new Array<Uint8Array | null>(ARRAY_CACHE_SIZE).fill(null);
const cached_offsets: number[] = new Array<number>(ARRAY_CACHE_SIZE).fill(0);
const cached_buffers: (ArrayBufferLike | null)[] = new Array<ArrayBufferLike | null>(ARRAY_CACHE_SIZE).fill(null);
const cached_words: (Int32Array | null)[] = new Array<Int32Array | null>(ARRAY_CACHE_SIZE).fill(null);
let cache_next = 0;

/** The cache slot of `a` (filled on a miss: its byteOffset read once), never slot `keep` (the
 *  other end of the same copy, -1 for none). */
function slotOf(a: Uint8Array, keep: number): number {
  for (let i = 0; i < ARRAY_CACHE_SIZE; i++) if (cached_arrays[i] === a) return i;
  if (cache_next === keep) cache_next = (cache_next + 1) % ARRAY_CACHE_SIZE;
  const i = cache_next;
  cache_next = (cache_next + 1) % ARRAY_CACHE_SIZE;
  cached_arrays[i] = a;
  cached_offsets[i] = a.byteOffset;
  cached_buffers[i] = null;
  cached_words[i] = null;
  return i;
}

/** The buffer under the array in slot i. */
function bufferAt(i: number): ArrayBufferLike {
  return (cached_buffers[i] ??= cached_arrays[i]!.buffer);
}

/**
 * A view of [from, from + len) of the array in slot i, for a native copy. Built from the cached
 * buffer and offset: a Uint8Array's subarray() reads both getters again, a Buffer's also builds
 * a FastBuffer (measured on Node 20: 13 ns against 27 and 37).
 */
function viewAt(i: number, from: number, len: number): Uint8Array {
  return new Uint8Array(bufferAt(i), cached_offsets[i]! + from, len);
}

/** An Int32 view of the whole buffer under the array in slot i. */
function wordsAt(i: number): Int32Array {
  let words = cached_words[i];
  if (words === null) {
    const buffer = bufferAt(i);
    words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    cached_words[i] = words;
  }
  return words;
}

/**
 * dst[at, at + len) = src[from, from + len) by 32-bit words, for arrays whose absolute positions
 * agree mod 4 (the caller checks): bytes up to the source's next word boundary, words, the tail.
 * Both arrays are larger than V8's on-heap limit (len > LOOP_BYTES_MAX), so .buffer moves nothing.
 */
function copyWords(dst: Uint8Array, d_slot: number, at: number, src: Uint8Array, s_slot: number, from: number, len: number): void {
  const src_abs = cached_offsets[s_slot]! + from;
  let i = 0;
  for (const head = (4 - (src_abs & 3)) & 3; i < head; i++) dst[at + i] = src[from + i];
  const n = (len - i) >>> 2;
  const d32 = wordsAt(d_slot);
  const s32 = wordsAt(s_slot);
  const dw = (cached_offsets[d_slot]! + at + i) >>> 2;
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
  checkRanges(dst, at, src, from, len);
  if (len <= LOOP_BYTES_MAX) {
    for (let i = 0; i < len; i++) dst[at + i] = src[from + i];
    return;
  }
  const d_slot = slotOf(dst, -1);
  const s_slot = slotOf(src, d_slot);
  const skew = (cached_offsets[s_slot]! + from - (cached_offsets[d_slot]! + at)) & WORD_MASK;
  if ((skew & 3) === 0 && len <= WORD_LOOP_BYTES_MAX) {
    copyWords(dst, d_slot, at, src, s_slot, from, len);
    return;
  }
  const view = viewAt(s_slot, from, len);
  if (skew === 0 || at + skew + len > dst.length) {
    dst.set(view, at);
    return;
  }
  dst.set(view, at + skew);
  dst.copyWithin(at, at + skew, at + skew + len);
}

/** Both ranges lie inside their arrays (the views made from cached offsets would not clamp). */
function checkRanges(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  if (!(at >= 0 && from >= 0 && len >= 0 && at + len <= dst.length && from + len <= src.length)) {
    throw new RangeError(`shared_copy: [${from}, ${from + len}) of ${src.length} bytes to [${at}, ${at + len}) of ${dst.length}`);
  }
}

/** Longest copy staged by copyToShared: larger ones (rare: big znode values) go as V8 does them,
 *  so that the staging buffer (one per thread: module state is per worker) stays this small. */
export const STAGED_BYTES_MAX = 64 * 1024;
let staging = new Uint8Array(0);
let staging_buffer: ArrayBufferLike = staging.buffer;

/**
 * dst[at, at + len) = src[from, from + len), where `dst` is shared memory. A local `src` whose
 * address disagrees with the destination's mod 8 is staged in local memory first (two fast
 * copies instead of one byte by byte). A shared `src` is copied as V8 does it: staging would
 * not make its first copy any faster; so is one longer than STAGED_BYTES_MAX.
 */
export function copyToShared(dst: Uint8Array, at: number, src: Uint8Array, from: number, len: number): void {
  checkRanges(dst, at, src, from, len);
  if (len <= LOOP_BYTES_MAX) {
    for (let i = 0; i < len; i++) dst[at + i] = src[from + i];
    return;
  }
  const d_slot = slotOf(dst, -1);
  const s_slot = slotOf(src, d_slot);
  const skew = (cached_offsets[d_slot]! + at - (cached_offsets[s_slot]! + from)) & WORD_MASK;
  if ((skew & 3) === 0 && len <= WORD_LOOP_BYTES_MAX) {
    copyWords(dst, d_slot, at, src, s_slot, from, len);
    return;
  }
  const view = viewAt(s_slot, from, len);
  // src.length > LOOP_BYTES_MAX: an off-heap array, whose .buffer costs no move (see jute.ts).
  if (skew === 0 || len > STAGED_BYTES_MAX || bufferAt(s_slot) instanceof SharedArrayBuffer) {
    dst.set(view, at);
    return;
  }
  // A fresh Uint8Array: its byteOffset is 0.
  if (staging.length < len + SKEW_BYTES_MAX) {
    staging = new Uint8Array(Math.min(STAGED_BYTES_MAX, Math.max(len, 2 * staging.length)) + SKEW_BYTES_MAX);
    staging_buffer = staging.buffer;
  }
  const pos = (cached_offsets[d_slot]! + at) & WORD_MASK;
  staging.set(view, pos);
  dst.set(new Uint8Array(staging_buffer, pos, len), at);
}
