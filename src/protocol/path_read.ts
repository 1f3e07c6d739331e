// A getData or exists request read in place, without objects: the request of nearly every read
// a replica serves, and the only one its allocation-free read paths take (the net worker's fast
// read, a shard's read at the head of an empty FIFO). Anything else, or anything unusual about
// it, is left to the general decoder (messages.ts), which has every rule and every error.
//
// Frame (without its length prefix): xid i32 | opcode i32 | path ustring (i32 length + UTF-8) |
// watch bool (one byte). Taken here only when:
// - the opcode is getData or exists and the frame ends right after the watch byte;
// - the watch byte is 0 or 1 (Java reads any non-zero byte as true: the decoder's to judge);
// - the path is "plain": printable ASCII, valid by ZooKeeper's rules (paths.ts). For such a path
//   the UTF-8 bytes are the UTF-16 units one for one, so the byte checks below are exactly
//   validatePath's; any other path goes to the decoder.

import { Op } from './opcodes.js';
import { int32At } from './jute.js';

const SLASH = 0x2f;
const DOT = 0x2e;
/** Printable ASCII: validatePath forbids U+0001-U+001F and U+007F-U+009F, and NUL. */
const PRINTABLE_MIN = 0x20;
const PRINTABLE_MAX = 0x7e;
/** xid + opcode + path length. */
const HEAD_BYTES = 12;

export class PathReadFrame {
  xid = 0;
  opcode = 0;
  /** The path's bytes: buf[path_off, path_off + path_len) of the frame read last. */
  path_off = 0;
  path_len = 0;
  watch = false;

  /**
   * Reads the frame in payload[off, end); false when it is not a getData / exists this class
   * takes (see above). Reads only within the range and never throws.
   */
  read(payload: Uint8Array, off: number, end: number): boolean {
    if (end - off < HEAD_BYTES + 2) return false;
    const opcode = int32At(payload, off + 4);
    if (opcode !== Op.getData && opcode !== Op.exists) return false;
    const path_len = int32At(payload, off + 8);
    const path_off = off + HEAD_BYTES;
    if (path_len < 1 || path_off + path_len + 1 !== end) return false;
    const watch = payload[path_off + path_len];
    if (watch > 1 || !isPlainValidPath(payload, path_off, path_len)) return false;
    this.xid = int32At(payload, off);
    this.opcode = opcode;
    this.path_off = path_off;
    this.path_len = path_len;
    this.watch = watch === 1;
    return true;
  }
}

/**
 * Whether buf[off, off + len) is a printable-ASCII path that validatePath accepts: starts with
 * '/', no trailing '/' (but "/"), no empty segment, no "." or ".." segment. False says nothing
 * about a path with other bytes.
 */
export function isPlainValidPath(buf: Uint8Array, off: number, len: number): boolean {
  if (len < 1 || buf[off] !== SLASH) return false;
  if (len === 1) return true;
  const end = off + len;
  if (buf[end - 1] === SLASH) return false;
  // The byte before each position (starts as the leading '/'); a segment starts after a '/'.
  for (let i = off + 1; i < end; i++) {
    const c = buf[i];
    if (c < PRINTABLE_MIN || c > PRINTABLE_MAX) return false;
    const prev = buf[i - 1];
    if (c === SLASH) {
      if (prev === SLASH) return false;
      continue;
    }
    if (c !== DOT || prev !== SLASH) continue;
    // A segment starting with '.': "." or ".." alone is a relative path.
    const next = i + 1 < end ? buf[i + 1] : SLASH;
    if (next === SLASH) return false;
    if (next === DOT && (i + 2 === end || buf[i + 2] === SLASH)) return false;
  }
  return true;
}
