// Search keys: a byte range (e.g. the path inside a request frame) read as a B+tree key without
// copying it: one byte position may be replaced ("patched"), which turns a path into its key
// (last '/' -> 0x00) or a path into a children / descendants prefix (P + 0x00, P + '/').

const EMPTY = new Uint8Array(0);
const SLASH = 0x2f;

/** Compare results. PREFIX: the search key is a proper prefix of the stored key (so it is less). */
export const CMP_LESS = -1;
export const CMP_PREFIX = -2;
export const CMP_EQUAL = 0;
export const CMP_GREATER = 1;

export class SearchKey {
  buf: Uint8Array = EMPTY;
  off = 0;
  len = 0;
  /** Index (0 .. len-1) whose byte is patch_byte instead of buf[off + index]; -1: none. */
  patch_at = -1;
  patch_byte = 0;

  /** The raw bytes as the key. */
  setRaw(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.patch_at = -1;
    return this;
  }

  /**
   * The znode key of the path in buf[off, off + len): its last '/' reads as 0x00. Returns false
   * (key unusable) when the range holds no '/' at all.
   */
  setPath(buf: Uint8Array, off: number, len: number): boolean {
    let i = len - 1;
    while (i >= 0 && buf[off + i] !== SLASH) i--;
    if (i < 0) return false;
    this.setRaw(buf, off, len);
    this.patch_at = i;
    this.patch_byte = 0;
    return true;
  }

  /**
   * Prefix of the keys of P's children: P + 0x00, or 0x00 alone for "/" (which is also the
   * root's own key: callers skip it). `path_len` must be >= 1.
   */
  setChildrenPrefix(buf: Uint8Array, off: number, path_len: number): void {
    this.setRaw(buf, off, path_len === 1 ? 1 : path_len + 1);
    this.patch_at = path_len === 1 ? 0 : path_len;
    this.patch_byte = 0;
  }

  /** Prefix P + '/' (keys of P's grandchildren and deeper). P must not be "/". */
  setDeepPrefix(buf: Uint8Array, off: number, path_len: number): void {
    this.setRaw(buf, off, path_len + 1);
    this.patch_at = path_len;
    this.patch_byte = SLASH;
  }

  byteAt(i: number): number {
    return i === this.patch_at ? this.patch_byte : this.buf[this.off + i];
  }
}

/**
 * Compares search key `k` with the stored key s[soff, soff + slen). The loop is split around
 * the patched byte, with every field read once: this is the innermost loop of every lookup
 * (measured 11 ns for 14 bytes, against 60-190 ns for a per-byte patch test reading k's fields).
 */
export function compareKey(k: SearchKey, s: Uint8Array, soff: number, slen: number): number {
  const klen = k.len;
  const n = klen < slen ? klen : slen;
  const buf = k.buf;
  const off = k.off;
  const patch = k.patch_at;
  const m = patch >= 0 && patch < n ? patch : n;
  for (let i = 0; i < m; i++) {
    const a = buf[off + i];
    const b = s[soff + i];
    if (a !== b) return a < b ? -1 : 1;
  }
  if (m < n) {
    const a = k.patch_byte;
    const b = s[soff + m];
    if (a !== b) return a < b ? -1 : 1;
    for (let i = m + 1; i < n; i++) {
      const x = buf[off + i];
      const y = s[soff + i];
      if (x !== y) return x < y ? -1 : 1;
    }
  }
  if (klen === slen) return 0;
  return klen < slen ? -2 : 1;
}

/** Compares two plain byte ranges (writer: order checks, separators). */
export function compareBytes(a: Uint8Array, aoff: number, alen: number, b: Uint8Array, boff: number, blen: number): number {
  const n = alen < blen ? alen : blen;
  for (let i = 0; i < n; i++) {
    const x = a[aoff + i];
    const y = b[boff + i];
    if (x !== y) return x < y ? -1 : 1;
  }
  return alen === blen ? 0 : alen < blen ? -1 : 1;
}

/** Key bytes [pos, pos + 4) as a big-endian u32, 0-padded past the key's end (slot heads). */
export function headOf(u8: Uint8Array, off: number, len: number, pos: number): number {
  const b0 = pos < len ? u8[off + pos] : 0;
  const b1 = pos + 1 < len ? u8[off + pos + 1] : 0;
  const b2 = pos + 2 < len ? u8[off + pos + 2] : 0;
  const b3 = pos + 3 < len ? u8[off + pos + 3] : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/** The search key's head at pos (same encoding as headOf). */
export function searchHead(k: SearchKey, pos: number): number {
  const n = k.len;
  const patch = k.patch_at;
  if (pos + 4 <= n && (patch < pos || patch >= pos + 4)) {
    // The common case (the patched byte, a path's last '/', lies in the page's common prefix).
    const b = k.buf;
    const at = k.off + pos;
    return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  }
  const b0 = pos < n ? k.byteAt(pos) : 0;
  const b1 = pos + 1 < n ? k.byteAt(pos + 1) : 0;
  const b2 = pos + 2 < n ? k.byteAt(pos + 2) : 0;
  const b3 = pos + 3 < n ? k.byteAt(pos + 3) : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/**
 * Compares the first `n` bytes of search key k with s[soff, soff + n): -1 / 1 at the first
 * differing byte, -2 when k ends before n bytes (all equal so far), 0 when all n are equal.
 */
export function comparePrefix(k: SearchKey, s: Uint8Array, soff: number, n: number): number {
  const m = k.len < n ? k.len : n;
  const buf = k.buf;
  const off = k.off;
  const patch = k.patch_at;
  const cut = patch >= 0 && patch < m ? patch : m;
  for (let i = 0; i < cut; i++) {
    const a = buf[off + i];
    const b = s[soff + i];
    if (a !== b) return a < b ? -1 : 1;
  }
  if (cut < m) {
    const a = k.patch_byte;
    const b = s[soff + cut];
    if (a !== b) return a < b ? -1 : 1;
    for (let i = cut + 1; i < m; i++) {
      const x = buf[off + i];
      const y = s[soff + i];
      if (x !== y) return x < y ? -1 : 1;
    }
  }
  return k.len < n ? -2 : 0;
}
