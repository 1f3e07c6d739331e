// The txn log's on-disk format (one segment file), pure: bytes in, facts out.
//
//   segment = header (32 B) | record* | zeros (preallocated, never written yet)
//   header  = "WFLG" | u32 version | u64 first_zxid | u64 created_ms | u32 0 | u32 crc32c(bytes 0..28)
//   record  = u32 crc32c(bytes 4..8+len) | u32 len | payload (len bytes: one txn, txn_codec.ts)
//
// All integers big-endian. The checksum covers the length too, so a flipped length bit is caught.
// A record header of 8 zero bytes marks the end of the written part (the preallocated zeros).
// Invariants of a well-formed segment: the first record's zxid is first_zxid and each next
// record's zxid is one more; after the last record there are only zeros.

import type { JuteWriter } from '../protocol/jute.js';
import { encodeTxn, TXN_FORMAT_VERSION } from '../tree/txn_codec.js';
import type { Txn } from '../tree/txn.js';
import { getU64, setU64, viewOf } from './binary.js';
import { crc32c } from './crc32c.js';

export const SEGMENT_MAGIC = 0x57464c47; // "WFLG"
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 8;
/** Smallest txn encoding: version byte, session, cxid, zxid, time, op tag, a 4-byte field. */
export const RECORD_PAYLOAD_MIN = 1 + 8 + 4 + 8 + 8 + 1 + 4;
/** Sanity bound on one record (a txn is at most about one jute.maxbuffer request). */
export const RECORD_PAYLOAD_MAX = 1 << 30;
/** Where the zxid sits in a txn payload (after version byte, session id, cxid). */
const PAYLOAD_ZXID_OFFSET = 1 + 8 + 4;

const U32 = 0x1_0000_0000;


export function encodeSegmentHeader(first_zxid: number, created_ms: number): Uint8Array {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = viewOf(bytes);
  view.setUint32(0, SEGMENT_MAGIC);
  view.setUint32(4, SEGMENT_VERSION);
  setU64(view, 8, first_zxid);
  setU64(view, 16, created_ms);
  view.setUint32(28, crc32c(bytes.subarray(0, 28)));
  return bytes;
}

export type SegmentHeader =
  | { ok: true; first_zxid: number; created_ms: number }
  | { ok: false; reason: string; /** The header area is all zeros (a segment never written). */ blank: boolean };

export function decodeSegmentHeader(bytes: Uint8Array): SegmentHeader {
  if (bytes.length < SEGMENT_HEADER_BYTES) {
    return { ok: false, reason: `file shorter than the ${SEGMENT_HEADER_BYTES}-byte header`, blank: allZero(bytes, 0, bytes.length) };
  }
  const view = viewOf(bytes);
  if (allZero(bytes, 0, SEGMENT_HEADER_BYTES)) return { ok: false, reason: 'blank header', blank: true };
  if (view.getUint32(0) !== SEGMENT_MAGIC) return { ok: false, reason: 'not a waitfree log segment (bad magic)', blank: false };
  if (view.getUint32(28) !== crc32c(bytes.subarray(0, 28))) return { ok: false, reason: 'header checksum mismatch', blank: false };
  const version = view.getUint32(4);
  if (version !== SEGMENT_VERSION) {
    return { ok: false, reason: `format version ${version}; this waitfree reads version ${SEGMENT_VERSION}`, blank: false };
  }
  return { ok: true, first_zxid: getU64(view, 8), created_ms: getU64(view, 16) };
}

/**
 * Appends one txn as a record. Returns the record's start; its payload (the txn encoding the
 * commit stream carries too) is [start + RECORD_HEADER_BYTES, w.length).
 */
export function appendRecord(w: JuteWriter, txn: Txn): number {
  const start = w.length;
  w.writeInt(0); // crc, patched below
  const len_at = w.beginFrame();
  encodeTxn(txn, w);
  w.finishFrame(len_at);
  const bytes = w.view_bytes();
  const crc = crc32c(bytes.subarray(start + 4, w.length));
  viewOf(bytes).setUint32(start, crc);
  return start;
}

/** The zxid of the txn in a record payload starting at `payload_start`. */
export function payloadZxid(view: DataView, payload_start: number): number {
  return view.getInt32(payload_start + PAYLOAD_ZXID_OFFSET) * U32 + view.getUint32(payload_start + PAYLOAD_ZXID_OFFSET + 4);
}

/** True when bytes[start, end) are all zero. */
export function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  const CHUNK = 64 * 1024;
  const zeros = ZERO_CHUNK;
  for (let at = start; at < end; at += CHUNK) {
    const n = Math.min(CHUNK, end - at);
    if (Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset + at, n), zeros.subarray(0, n)) !== 0) return false;
  }
  return true;
}
const ZERO_CHUNK = Buffer.alloc(64 * 1024);

export type RecordCheck = { ok: true; len: number; zxid: number } | { ok: false; reason: string };

/** Validates the record at `at` whose zxid must be `expected_zxid`. */
export function checkRecord(bytes: Uint8Array, view: DataView, at: number, expected_zxid: number): RecordCheck {
  const left = bytes.length - at;
  if (left < RECORD_HEADER_BYTES) return { ok: false, reason: `${left} bytes left, a record header needs ${RECORD_HEADER_BYTES}` };
  const len = view.getUint32(at + 4);
  if (len < RECORD_PAYLOAD_MIN || len > RECORD_PAYLOAD_MAX) return { ok: false, reason: `implausible record length ${len}` };
  if (len > left - RECORD_HEADER_BYTES) return { ok: false, reason: `record length ${len} runs past the end of the file` };
  if (view.getUint32(at) !== crc32c(bytes.subarray(at + 4, at + RECORD_HEADER_BYTES + len))) {
    return { ok: false, reason: 'checksum mismatch' };
  }
  if (bytes[at + RECORD_HEADER_BYTES] !== TXN_FORMAT_VERSION) return { ok: false, reason: 'unknown txn format version' };
  const zxid = payloadZxid(view, at + RECORD_HEADER_BYTES);
  if (zxid !== expected_zxid) return { ok: false, reason: `zxid 0x${zxid.toString(16)} where 0x${expected_zxid.toString(16)} was expected` };
  return { ok: true, len, zxid };
}

/** How the records of a segment end. */
export type ScanEnd =
  | { kind: 'clean'; offset: number }
  | {
      kind: 'bad';
      offset: number;
      reason: string;
      /** Offset of a valid record found after the bad one (so the damage is not at the tail). */
      valid_after: number | null;
    };

export interface SegmentScan {
  end: ScanEnd;
  /** zxid of the last good record (first_zxid - 1 when none). */
  last_zxid: number;
  records: number;
}

/**
 * Walks the records of a segment (header already checked), calling `visit` with each payload's
 * range. Stops at the clean end (zeros up to the end of the file) or at the first bad record,
 * which it reports with whether a valid record follows it.
 */
export function scanSegment(
  bytes: Uint8Array,
  first_zxid: number,
  visit: (payload_start: number, payload_end: number, zxid: number) => void,
): SegmentScan {
  const view = viewOf(bytes);
  let at = SEGMENT_HEADER_BYTES;
  let zxid = first_zxid;
  let records = 0;
  for (;;) {
    const left = bytes.length - at;
    const blank_header = left < RECORD_HEADER_BYTES ? allZero(bytes, at, bytes.length) : view.getUint32(at) === 0 && view.getUint32(at + 4) === 0;
    if (blank_header && allZero(bytes, at, bytes.length)) return { end: { kind: 'clean', offset: at }, last_zxid: zxid - 1, records };
    const check = checkRecord(bytes, view, at, zxid);
    if (!check.ok) {
      const valid_after = findValidRecord(bytes, view, at + 1, zxid);
      return { end: { kind: 'bad', offset: at, reason: check.reason, valid_after }, last_zxid: zxid - 1, records };
    }
    visit(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + check.len, zxid);
    at += RECORD_HEADER_BYTES + check.len;
    zxid++;
    records++;
  }
}

/**
 * The first offset >= from holding a record that passes its checksum and carries a zxid at or
 * after `zxid_min` (the txns that follow a damaged one). Linear in the bytes left; runs only when
 * a segment is damaged. The zxid filter makes the expensive checksum rare.
 */
function findValidRecord(bytes: Uint8Array, view: DataView, from: number, zxid_min: number): number | null {
  const zxid_max = zxid_min + Math.ceil((bytes.length - from) / (RECORD_HEADER_BYTES + RECORD_PAYLOAD_MIN)) + 1;
  const last = bytes.length - RECORD_HEADER_BYTES - RECORD_PAYLOAD_MIN;
  for (let at = from; at <= last; at++) {
    if (bytes[at + RECORD_HEADER_BYTES] !== TXN_FORMAT_VERSION) continue;
    const len = view.getUint32(at + 4);
    if (len < RECORD_PAYLOAD_MIN || len > bytes.length - at - RECORD_HEADER_BYTES) continue;
    const zxid = payloadZxid(view, at + RECORD_HEADER_BYTES);
    if (zxid < zxid_min || zxid > zxid_max) continue;
    if (checkRecord(bytes, view, at, zxid).ok) return at;
  }
  return null;
}
