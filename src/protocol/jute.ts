// Jute binary encoding (Apache ZooKeeper's BinaryInputArchive / BinaryOutputArchive):
// big-endian ints and longs, int32-length-prefixed strings, buffers and vectors, -1 = null.
//
// Two long flavours: `long` is a bigint (session ids, ephemeralOwner markers use all 64 bits);
// `long53` is a JS number for zxids, times and TTLs, checked to be a safe integer on both ends.

import { copyFromShared, SKEW_BYTES_MAX } from '../memory/shared_copy.js';
import { JuteError } from './jute_error.js';
import { utf8Lenient } from './utf8.js';

export { JuteError } from './jute_error.js';

const utf8_encoder = new TextEncoder();

/**
 * V8 keeps typed arrays of up to this many bytes on the JS heap (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP).
 * subarray() (or .buffer) of such an array first moves its contents into a new off-heap backing
 * store (~1 us), while slice() of up to this many bytes makes another small on-heap array (~50
 * ns). So a field of at most this many bytes is copied out with slice(), never viewed.
 */
const ON_HEAP_BYTES_MAX = 64;

/** bytes[start, end) as its own array or a view: whichever is cheaper (see ON_HEAP_BYTES_MAX). */
function rangeOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return end - start <= ON_HEAP_BYTES_MAX ? bytes.slice(start, end) : bytes.subarray(start, end);
}

/**
 * Copies of buffer fields between ON_HEAP_BYTES_MAX and this many bytes are carved from a shared
 * off-heap chunk when a reader asks for it (JuteReader.buffers_pooled). slice() of such a field
 * allocates an ArrayBuffer of its own: ~650 ns, and external memory the GC must account for
 * (measured: 0.8 us of the commit worker's ~8 us per 100-byte setData). A carved copy costs
 * ~90 ns. The price: a chunk lives as long as its longest-lived copy, so only readers whose
 * values die soon pool (the commit worker's requests: their data is applied and dropped).
 *
 * A chunk is 64 KiB, not zero-filled (Buffer.allocUnsafeSlow: a view only ever shows bytes a
 * copy wrote). At 1 KiB per write, `new Uint8Array(16 KiB)` cost the commit worker ~2.8 µs per
 * chunk, 0.18 µs per write (CPU profile at 32 x 100 writes); micro: 90-117 ns per KiB for
 * zeroed 16 KiB chunks, 17 ns per KiB for these.
 */
const POOLED_BYTES_MAX = 1024;
const POOL_CHUNK_BYTES = 64 * 1024;
let pool_chunk = new Uint8Array(0);
let pool_used = 0;

/** A copy of bytes[start, end) carved from the current chunk (ON_HEAP_BYTES_MAX < length <= POOLED_BYTES_MAX). */
function pooledCopy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  // Room for copyFromShared's scratch past the copy: the source is a ring (shared memory), and
  // the copy lands 8-aligned whatever its address, so the tree's copy of it runs at word speed too.
  if (pool_used + n + SKEW_BYTES_MAX > pool_chunk.length) {
    pool_chunk = new Uint8Array(Buffer.allocUnsafeSlow(POOL_CHUNK_BYTES).buffer, 0, POOL_CHUNK_BYTES);
    pool_used = 0;
  }
  copyFromShared(pool_chunk, pool_used, bytes, start, n);
  const out = pool_chunk.subarray(pool_used, pool_used + n);
  pool_used += (n + 7) & ~7;
  return out;
}

/**
 * Strings up to this many UTF-16 units are tried as ASCII by a loop (paths, schemes, ids):
 * encodeInto needs a view of the destination, one allocation per string (measured: ~10 % of the
 * commit worker's garbage at 32 x 100 setData, three strings per write).
 */
const ASCII_LOOP_CHARS_MAX = 256;

/** Writes s into out[at..] if it is all ASCII and returns its length; -1 (out partly written) otherwise. */
function writeAscii(s: string, out: Uint8Array, at: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    out[at + i] = c;
  }
  return n;
}

/** Big-endian int32 at bytes[at] (the caller checked the bounds): no DataView (see JuteReader). */
export function int32At(b: Uint8Array, at: number): number {
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}

/**
 * Reads jute fields from a byte range. Every read is bounds-checked; a violation throws JuteError.
 *
 * Ints are assembled from bytes, not read through a DataView: a DataView needs `bytes.buffer`,
 * and for a small typed array V8 keeps on the JS heap (<= 64 bytes: a request frame's copy, as
 * most requests are) reading `.buffer` moves its contents off the heap into a new backing store:
 * ~0.7 us, most of what decoding a getData cost (measured: 10-17 % of a read worker's CPU). Only
 * readLong (a bigint: session ids, ephemeral owners) makes a DataView, on first use.
 */
export class JuteReader {
  private view: DataView | null = null;
  /** Next byte to read, absolute index into `bytes`. Invariant: start <= offset <= end. */
  offset: number;
  readonly end: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
    /** Largest length accepted for a single string/buffer/vector field. */
    readonly field_bytes_max = 0x7fffffff,
  ) {
    if (start < 0 || end > bytes.length || start > end) throw new JuteError(`bad range ${start}..${end}`);
    this.offset = start;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.end) {
      throw new JuteError(`truncated: need ${n} bytes at ${this.offset}, have ${this.end - this.offset}`);
    }
  }


  readInt(): number {
    this.need(4);
    const v = int32At(this.bytes, this.offset);
    this.offset += 4;
    return v;
  }

  readLong(): bigint {
    this.need(8);
    const b = this.bytes;
    this.view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
    const v = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return v;
  }

  readLong53(): number {
    this.need(8);
    const hi = int32At(this.bytes, this.offset);
    const lo = int32At(this.bytes, this.offset + 4) >>> 0;
    this.offset += 8;
    const v = hi * 0x1_0000_0000 + lo;
    if (!Number.isSafeInteger(v)) throw new JuteError(`long out of safe range at ${this.offset - 8}`);
    return v;
  }

  readBool(): boolean {
    this.need(1);
    const b = this.bytes[this.offset++];
    return b !== 0;
  }

  private readLength(what: string): number {
    const len = this.readInt();
    if (len < -1) throw new JuteError(`negative ${what} length ${len}`);
    if (len > this.field_bytes_max) throw new JuteError(`${what} length ${len} exceeds ${this.field_bytes_max}`);
    return len;
  }

  /** Returns null for the jute null string (length -1). */
  readUString(): string | null {
    const len = this.readLength('string');
    if (len === -1) return null;
    this.need(len);
    const s = utf8Lenient.decode(rangeOf(this.bytes, this.offset, this.offset + len));
    this.offset += len;
    return s;
  }

  /** Like readUString but a null string is an error (paths, schemes). */
  readString(): string {
    const s = this.readUString();
    if (s === null) throw new JuteError('unexpected null string');
    return s;
  }

  /**
   * Buffers as views of `bytes` instead of copies: only for a reader over bytes the caller owns
   * and keeps unchanged for as long as the decoded values live (never a ring's memory).
   */
  buffers_as_views = false;

  /**
   * Copies of mid-sized buffers share off-heap chunks (see POOLED_BYTES_MAX): only for a reader
   * whose decoded values are dropped soon, as a chunk lives as long as any copy carved from it.
   */
  buffers_pooled = false;

  /** Returns a copy (the frame's memory may be reused by a ring; see buffers_as_views); null for length -1. */
  readBuffer(): Uint8Array | null {
    const len = this.readLength('buffer');
    if (len === -1) return null;
    this.need(len);
    const start = this.offset;
    this.offset += len;
    // A short buffer is copied even as a "view": the copy is as cheap and frees nothing early.
    if (this.buffers_as_views) return rangeOf(this.bytes, start, start + len);
    if (this.buffers_pooled && len > ON_HEAP_BYTES_MAX && len <= POOLED_BYTES_MAX) return pooledCopy(this.bytes, start, start + len);
    return this.bytes.slice(start, start + len);
  }

  /** Steps over a buffer or string field (its length prefix and bytes) without reading it. */
  skipBuffer(): void {
    const len = this.readLength('buffer');
    if (len === -1) return;
    this.need(len);
    this.offset += len;
  }

  readVector<T>(read_element: (r: JuteReader) => T): T[] | null {
    const count = this.readLength('vector');
    if (count === -1) return null;
    // Every element takes at least one byte, so a count larger than what is left is malformed.
    if (count > this.remaining()) throw new JuteError(`vector count ${count} exceeds remaining bytes`);
    const out: T[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = read_element(this);
    return out;
  }

  /** Asserts the whole range was consumed (trailing garbage is malformed). */
  expectEnd(): void {
    if (this.offset !== this.end) throw new JuteError(`${this.end - this.offset} trailing bytes`);
  }
}

const WORD_BYTES = 8;

/** A zeroed array of `bytes` whose first byte sits at `align_bytes` mod 8 in its ArrayBuffer
 *  (ArrayBuffers start 8-aligned or better). */
function allocAligned(bytes: number, align_bytes: number): Uint8Array {
  if (align_bytes === 0) return new Uint8Array(bytes);
  return new Uint8Array(new ArrayBuffer(bytes + align_bytes), align_bytes, bytes);
}

/** A JuteWriter reached its bytes_max: what was being written does not fit the bound. */
export class JuteOverflowError extends RangeError {
  constructor(
    readonly needed_bytes: number,
    readonly bytes_max: number,
  ) {
    super(`jute: ${needed_bytes} bytes needed, the bound is ${bytes_max}`);
  }
}

/** Appends jute fields to a growable buffer. */
export class JuteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far. Invariant: 0 <= length <= buf.length. */
  length = 0;

  constructor(
    initial_bytes = 256,
    /** Writing past this many bytes throws JuteOverflowError instead of growing (a reply that
     *  would be larger than the server sends is refused before it is built, not after). */
    readonly bytes_max = Number.POSITIVE_INFINITY,
    /**
     * The address of the first written byte, mod 8 (0..7). V8 copies between a SharedArrayBuffer
     * and other memory word by word only when both ends have the same address mod 8, byte by
     * byte otherwise (measured: ~4x slower for 1 KB). A writer whose output is copied to a known
     * offset in a ring frame is given that offset's alignment.
     */
    readonly align_bytes = 0,
  ) {
    if (!Number.isInteger(align_bytes) || align_bytes < 0 || align_bytes >= WORD_BYTES) {
      throw new RangeError(`jute: align_bytes ${align_bytes} is not in 0..${WORD_BYTES - 1}`);
    }
    this.buf = allocAligned(initial_bytes, align_bytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  private ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    if (need > this.bytes_max) throw new JuteOverflowError(need, this.bytes_max);
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    if (size > this.bytes_max) size = Math.max(need, this.bytes_max);
    const next = allocAligned(size, this.align_bytes);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  writeInt(v: number): this {
    if (!Number.isInteger(v) || v < -0x8000_0000 || v > 0x7fff_ffff) throw new JuteError(`int out of range: ${v}`);
    this.ensure(4);
    this.view.setInt32(this.length, v);
    this.length += 4;
    return this;
  }

  writeLong(v: bigint): this {
    this.ensure(8);
    // setBigInt64 wraps modulo 2^64 itself (ToBigInt64); BigInt.asIntN made a BigInt per call.
    this.view.setBigInt64(this.length, v);
    this.length += 8;
    return this;
  }

  writeLong53(v: number): this {
    if (!Number.isSafeInteger(v)) throw new JuteError(`long53 not a safe integer: ${v}`);
    this.ensure(8);
    const hi = Math.floor(v / 0x1_0000_0000);
    const lo = v - hi * 0x1_0000_0000;
    this.view.setInt32(this.length, hi);
    this.view.setUint32(this.length + 4, lo);
    this.length += 8;
    return this;
  }

  writeBool(v: boolean): this {
    this.ensure(1);
    this.buf[this.length++] = v ? 1 : 0;
    return this;
  }

  /** One raw byte (0..255). */
  writeByte(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v;
    return this;
  }

  writeUString(s: string | null): this {
    if (s === null) return this.writeInt(-1);
    // Worst case 3 bytes per UTF-16 unit.
    this.ensure(4 + s.length * 3);
    const at = this.length + 4;
    const written = s.length <= ASCII_LOOP_CHARS_MAX ? writeAscii(s, this.buf, at) : -1;
    const n = written >= 0 ? written : utf8_encoder.encodeInto(s, this.buf.subarray(at)).written;
    this.view.setInt32(this.length, n);
    this.length = at + n;
    return this;
  }

  writeBuffer(b: Uint8Array | null): this {
    if (b === null) return this.writeInt(-1);
    this.ensure(4 + b.length);
    this.view.setInt32(this.length, b.length);
    this.buf.set(b, this.length + 4);
    this.length += 4 + b.length;
    return this;
  }

  writeVector<T>(items: readonly T[] | null, write_element: (w: JuteWriter, item: T) => void): this {
    if (items === null) return this.writeInt(-1);
    this.writeInt(items.length);
    for (const item of items) write_element(this, item);
    return this;
  }

  /** Appends `n` bytes that `fill` writes at buf[off, off + n) (a copy straight from elsewhere,
   *  e.g. a znode's data out of the shared tree, without an intermediate array). `fill` may use
   *  whatever room `buf` has past off + n as scratch: nothing has been written there. */
  writeFilled(n: number, fill: (buf: Uint8Array, off: number) => void): this {
    this.ensure(n);
    fill(this.buf, this.length);
    this.length += n;
    return this;
  }

  /** writeFilled through the buffer's DataView: `fill` writes bytes [off, off + n) of `view`
   *  (e.g. fields a word at a time). */
  writeFilledView(n: number, fill: (view: DataView, off: number) => void): this {
    this.ensure(n);
    fill(this.view, this.length);
    this.length += n;
    return this;
  }

  /** Appends bytes as they are (no length prefix): already-encoded fields. */
  writeRaw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Reserves 4 bytes for a frame length prefix; finishFrame fills them in. */
  beginFrame(): number {
    const at = this.length;
    this.writeInt(0);
    return at;
  }

  finishFrame(at: number): void {
    this.view.setInt32(at, this.length - at - 4);
  }

  /** Overwrites 4 written bytes at `at` (a checksum patched in after what it covers). */
  setUint32At(at: number, v: number): void {
    if (at < 0 || at + 4 > this.length) throw new RangeError(`jute: patch at ${at} outside the ${this.length} bytes written`);
    this.view.setUint32(at, v);
  }

  /** A view of written bytes [start, end) (valid until the next write). */
  range(start: number, end: number): Uint8Array {
    return this.buf.subarray(start, end);
  }

  /** A view of the written bytes (valid until the next write). */
  view_bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** The backing array: its bytes [0, length) are the ones written. For a copy out of them
   *  without a view per frame; valid until the next write (which may replace it). */
  get backing(): Uint8Array {
    return this.buf;
  }

  /** A copy of the written bytes. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}
