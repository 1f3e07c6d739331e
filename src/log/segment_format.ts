// The txn log's on-disk format (one segment file), pure: bytes in, facts out.
//
//   segment = header (32 B) | record* | zeros (preallocated, never written yet)
//   header  = "WFLG" | u32 version | u64 first_zxid | u64 created_ms | u32 0 | u32 crc32c(bytes 0..28)
//   record  = u32 crc32c(bytes 4..8+len) | u32 len | payload (len bytes: one txn, txn_codec.ts)
//
// All integers big-endian. The checksum covers the length too, so a flipped length bit is caught.
// A record header of 8 zero bytes followed by a run of zeros marks the end of the written part
// (the preallocated zeros); scanSegment says why that run need not reach the end of the file.
// Invariants of a well-formed segment: the first record's zxid is first_zxid and each next
// record's zxid follows the previous one (isNextZxid: one more, or the first txn of a later Zab
// epoch); after the last record there are only zeros.

import { int32At, type JuteWriter } from '../protocol/jute.js';
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
  w.setUint32At(start, crc32c(w.range(start + 4, w.length)));
  return start;
}

/**
 * Whether a txn at `zxid` may come right after the txn at `prev` in a log. zxid = epoch * 2^32 +
 * counter; a Zab leader numbers its txns (epoch, 1), (epoch, 2), ... so within an epoch the next
 * txn is prev + 1, and the first txn of a later epoch has counter 1 (epochs without txns leave no
 * trace). Standalone is epoch 0 (a counter past 2^32 - 1 is still prev + 1). Anything else is a
 * gap: txns are missing. `prev` 0 is the empty history.
 */
export function isNextZxid(prev: number, zxid: number): boolean {
  if (zxid === prev + 1) return true;
  return Number.isSafeInteger(zxid) && zxid % U32 === 1 && Math.floor(zxid / U32) > Math.floor(prev / U32);
}

/** The zxid of the txn in a record payload starting at `payload_start`. */
export function payloadZxid(view: DataView, payload_start: number): number {
  return view.getInt32(payload_start + PAYLOAD_ZXID_OFFSET) * U32 + view.getUint32(payload_start + PAYLOAD_ZXID_OFFSET + 4);
}


/** True when bytes[start, end) are all zero. */
export function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let at = start; at < end; at += ZERO_CHUNK.length) {
    const n = Math.min(ZERO_CHUNK.length, end - at);
    if (Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset + at, n), ZERO_CHUNK.subarray(0, n)) !== 0) return false;
  }
  return true;
}
const ZERO_CHUNK = Buffer.alloc(64 * 1024);

// ---- reading a segment without holding all of it ----

/**
 * Random access to a segment's bytes, one window at a time, so a scan never needs the whole
 * (preallocated, mostly zero) file in memory. segment_file.ts reads a file in bounded chunks;
 * memorySegment() wraps bytes already in memory (tests, tools).
 */
export interface SegmentBytes {
  readonly size_bytes: number;
  /**
   * Bytes [offset, offset + length) clamped to the end of the segment: exactly
   * min(length, size_bytes - offset) bytes, index 0 being `offset`. Valid only until the next
   * call (a file reader reuses its buffer): copy what must outlive it.
   */
  window(offset: number, length: number): Uint8Array;
}

export function memorySegment(bytes: Uint8Array): SegmentBytes {
  return {
    size_bytes: bytes.length,
    window: (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

/**
 * The end of the written part of a segment: a run of this many zero bytes (default). Why a run of
 * zeros ends the log, and why this length, is argued at scanSegment. It must exceed the largest
 * batch the writer writes at once plus the largest zero-filled field of one record; with the
 * defaults (batches of 1 MiB plus one txn, jute.maxbuffer 1 MiB) that is about 3 MiB.
 * zeroRunBytesFor() derives it from other settings.
 */
export const ZERO_RUN_BYTES_DEFAULT = 4 << 20;

/** The zero run that ends a segment's written part for these settings (never below the default). */
export function zeroRunBytesFor(settings: { commit_batch_bytes_max: number; jute_max_buffer_bytes: number }): number {
  // A batch is sealed once it reaches commit_batch_bytes_max, so it can exceed it by one txn;
  // a txn record is at most about one request (jute.maxbuffer) plus its own framing.
  const record_bytes_max = settings.jute_max_buffer_bytes + 64 * 1024;
  return Math.max(ZERO_RUN_BYTES_DEFAULT, settings.commit_batch_bytes_max + 2 * record_bytes_max);
}

/** Bytes read per window when walking zeros or searching for records. */
const SCAN_WINDOW_BYTES = 64 * 1024;

/**
 * The window scanSegment checks records in (a record that does not fit one takes the general
 * path). Small next to a reader's chunk (segment_file.ts reads 1 MiB at a time; tests 4 KiB),
 * so asking for it rarely makes the reader refill, and never grow, its buffer.
 */
const RECORD_WINDOW_BYTES = 4096;

/** True when bytes [from, min(to, size)) of the segment are all zero; reads window by window. */
function zeroRange(src: SegmentBytes, from: number, to: number): boolean {
  const end = Math.min(to, src.size_bytes);
  for (let at = from; at < end; at += SCAN_WINDOW_BYTES) {
    const win = src.window(at, Math.min(SCAN_WINDOW_BYTES, end - at));
    if (!allZero(win, 0, win.length)) return false;
  }
  return true;
}

export type RecordCheck =
  | { ok: true; len: number; zxid: number; /** The payload, valid until the next read of `src`. */ payload: Uint8Array }
  | { ok: false; reason: string };

/** Validates the record at `at` whose zxid must be `expected_zxid`. */
export function checkRecord(src: SegmentBytes, at: number, expected_zxid: number): RecordCheck {
  return readRecord(src, at, null, expected_zxid, true);
}

/** Validates the record at `at`, which comes right after the txn at `prev_zxid` (isNextZxid). */
export function checkRecordAfter(src: SegmentBytes, at: number, prev_zxid: number): RecordCheck {
  return readRecord(src, at, null, prev_zxid, false);
}

/** Big-endian u32 at bytes[at] (the caller checked the bounds): no DataView per record. */
function u32At(b: Uint8Array, at: number): number {
  return int32At(b, at) >>> 0;
}

/** The zxid of the record starting at bytes[at] (its header and the txn's zxid field in bounds). */
function recordZxidAt(b: Uint8Array, at: number): number {
  const z = at + RECORD_HEADER_BYTES + PAYLOAD_ZXID_OFFSET;
  return (u32At(b, z) | 0) * U32 + u32At(b, z + 4);
}

/**
 * Checks length, checksum, txn format, and the zxid: `zxid_arg` exactly when `exact`, else one
 * that may follow the txn at `zxid_arg` (isNextZxid). `head`: the record's first 8 bytes when
 * the caller already has them (else read here).
 */
function readRecord(src: SegmentBytes, at: number, head: Uint8Array | null, zxid_arg: number, exact: boolean): RecordCheck {
  const left = src.size_bytes - at;
  if (left < RECORD_HEADER_BYTES) return { ok: false, reason: `${left} bytes left, a record header needs ${RECORD_HEADER_BYTES}` };
  const len = u32At(head ?? src.window(at, RECORD_HEADER_BYTES), 4);
  if (len < RECORD_PAYLOAD_MIN || len > RECORD_PAYLOAD_MAX) return { ok: false, reason: `implausible record length ${len}` };
  if (len > left - RECORD_HEADER_BYTES) return { ok: false, reason: `record length ${len} runs past the end of the file` };
  const record = src.window(at, RECORD_HEADER_BYTES + len);
  if (u32At(record, 0) !== crc32c(record.subarray(4))) return { ok: false, reason: 'checksum mismatch' };
  if (record[RECORD_HEADER_BYTES] !== TXN_FORMAT_VERSION) return { ok: false, reason: 'unknown txn format version' };
  const zxid = recordZxidAt(record, 0);
  if (exact ? zxid !== zxid_arg : !isNextZxid(zxid_arg, zxid)) {
    const reason = exact
      ? `zxid 0x${zxid.toString(16)} where 0x${zxid_arg.toString(16)} was expected`
      : `zxid 0x${zxid.toString(16)} cannot follow 0x${zxid_arg.toString(16)} (expected 0x${(zxid_arg + 1).toString(16)} or the first txn of a later epoch)`;
    return { ok: false, reason };
  }
  return { ok: true, len, zxid, payload: record.subarray(RECORD_HEADER_BYTES) };
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
      /**
       * With no valid record after it: the end of the damaged bytes. [offset, dirty_end) may hold
       * non-zero bytes; from dirty_end on there is a zero run (or the end of the file). Zeroing
       * that range is enough to make the tail clean again.
       */
      dirty_end: number;
    };

export interface SegmentScan {
  end: ScanEnd;
  /** zxid of the last good record (first_zxid - 1 when none). */
  last_zxid: number;
  records: number;
}

export interface ScanOptions {
  /** A run of this many zero bytes ends the written part (ZERO_RUN_BYTES_DEFAULT; see scanSegment). */
  zero_run_bytes?: number;
}

/**
 * Walks the records of a segment (header already checked), calling `visit` with each payload
 * (a view valid only during the call: decode copies; `visit` must not read `src`, whose window
 * the scan keeps across records). Stops at the clean end or at the first bad record, which it
 * reports with whether a valid record follows it.
 *
 * Where the written part ends, without reading the whole preallocated file. The writer
 * (log_writer.ts) zero-fills a segment before its first record and then writes batches
 * contiguously, each starting where the last one ended, at most one batch in flight, and
 * acknowledges a batch only once all of it is durable. So the file is: records of acknowledged
 * batches | at most one batch being written (possibly torn: any subset of its pages landed) |
 * zeros that were never written. Hence:
 * - A record header is never zero (its length is at least RECORD_PAYLOAD_MIN), and inside the
 *   records a run of zeros is at most one zero-filled field of one txn. Inside the one torn batch
 *   a run of unwritten zeros is shorter than the batch. A zero run of `zero_run_bytes` (larger
 *   than both) therefore lies after everything ever written: nothing acknowledged can follow it.
 * - So the clean end is a record boundary followed by `zero_run_bytes` of zeros (or zeros up to
 *   the end of the file): only that much of the preallocated tail is read, not all of it.
 * - A zero header followed by non-zero bytes within that run is damage (a zeroed header, a lost
 *   sector) and goes the way of any bad record: searched past, up to the same kind of zero run,
 *   for a valid record that would make it fatal.
 * What this does not see: damage that zeroes `zero_run_bytes` or more starting exactly at a record
 * boundary, with acknowledged records after it. Telling that apart from the end of the log would
 * mean reading every segment to its end at every start, for every thread.
 */
export function scanSegment(
  src: SegmentBytes,
  first_zxid: number,
  visit: (payload: Uint8Array, zxid: number, payload_offset: number) => void,
  opts: ScanOptions = {},
): SegmentScan {
  const zero_run_bytes = opts.zero_run_bytes ?? ZERO_RUN_BYTES_DEFAULT;
  // Shorter than a record header, a zero run could not tell a zeroed header from the end.
  if (!Number.isSafeInteger(zero_run_bytes) || zero_run_bytes < RECORD_HEADER_BYTES) {
    throw new RangeError(`zero_run_bytes must be an integer >= ${RECORD_HEADER_BYTES}, got ${zero_run_bytes}`);
  }
  let at = SEGMENT_HEADER_BYTES;
  // The last good record's zxid; the first record must be exactly first_zxid (the header says so).
  let last = first_zxid - 1;
  let records = 0;
  // Fast path: records wholly inside one window of the file are checked in place (no window,
  // DataView or result object per record). Anything else (the end, damage, a record crossing
  // the window) takes the general path below, which gives the same verdicts.
  let win: Uint8Array | null = null;
  let win_at = 0;
  for (;;) {
    // A window starting at this record when the current one does not hold all of it.
    if (win === null || at - win_at + RECORD_HEADER_BYTES > win.length || at - win_at + RECORD_HEADER_BYTES + u32At(win, at - win_at + 4) > win.length) {
      win = src.window(at, RECORD_WINDOW_BYTES);
      win_at = at;
    }
    const rel = at - win_at;
    if (rel + RECORD_HEADER_BYTES <= win.length) {
      const len = u32At(win, rel + 4);
      const end = rel + RECORD_HEADER_BYTES + len;
      if (len >= RECORD_PAYLOAD_MIN && end <= win.length && win[rel + RECORD_HEADER_BYTES] === TXN_FORMAT_VERSION && u32At(win, rel) === crc32c(win.subarray(rel + 4, end))) {
        const zxid = recordZxidAt(win, rel);
        if (records === 0 ? zxid === first_zxid : isNextZxid(last, zxid)) {
          visit(win.subarray(rel + RECORD_HEADER_BYTES, end), zxid, at + RECORD_HEADER_BYTES);
          at += RECORD_HEADER_BYTES + len;
          last = zxid;
          records++;
          continue;
        }
      }
    }
    win = null; // the general path moves the reader's buffer
    const head = src.window(at, RECORD_HEADER_BYTES);
    const zero_head = zeroHeader(head);
    if (zero_head && zeroRange(src, at, at + zero_run_bytes)) return { end: { kind: 'clean', offset: at }, last_zxid: last, records };
    // The header window is still valid: zeroRange read nothing when the header is not zero.
    const check = readRecord(src, at, zero_head ? null : head, records === 0 ? first_zxid : last, records === 0);
    if (!check.ok) {
      const reason = zero_head ? 'zero record header with non-zero bytes after it' : check.reason;
      const { valid_after, dirty_end } = findValidRecord(src, at + 1, last, zero_run_bytes);
      return { end: { kind: 'bad', offset: at, reason, valid_after, dirty_end }, last_zxid: last, records };
    }
    visit(check.payload, check.zxid, at + RECORD_HEADER_BYTES);
    at += RECORD_HEADER_BYTES + check.len;
    last = check.zxid;
    records++;
  }
}

/** True when a record header (or what is left of the file, if shorter) is all zero; no allocation. */
function zeroHeader(head: Uint8Array): boolean {
  for (let i = 0; i < head.length; i++) if (head[i] !== 0) return false;
  return true;
}

const CANDIDATE_BYTES_MIN = RECORD_HEADER_BYTES + RECORD_PAYLOAD_MIN;

/**
 * The first offset >= from holding a record that passes its checksum and carries a zxid that a
 * txn after `last_zxid` can have (the txns that follow a damaged one), or null when there is none
 * before a run of `zero_run_bytes` zeros (the end of the written part, see scanSegment) or the end
 * of the file; then also where the non-zero bytes end (the zero run's start, or the end of the file).
 * Runs only when a segment is damaged; the zxid filter makes the expensive checksum rare.
 *
 * At most `fit` records fit after `from`, so a txn written after the damaged one is either in
 * last_zxid's epoch, at most `fit` above it, or in a later epoch with a counter of at most `fit`
 * (a later epoch starts at counter 1, isNextZxid).
 */
function findValidRecord(src: SegmentBytes, from: number, last_zxid: number, zero_run_bytes: number): { valid_after: number | null; dirty_end: number } {
  const size = src.size_bytes;
  const fit = Math.ceil((size - from) / CANDIDATE_BYTES_MIN) + 1;
  const zxid_min = last_zxid + 1;
  const zxid_max = zxid_min + fit;
  let zeros = 0; // zero bytes in a row just before `at`
  let at = from;
  while (at + CANDIDATE_BYTES_MIN <= size) {
    const win = src.window(at, SCAN_WINDOW_BYTES);
    const view = viewOf(win);
    const last = win.length - CANDIDATE_BYTES_MIN; // >= 0 by the loop condition
    let i = 0;
    let candidate = -1;
    let candidate_zxid = 0;
    for (; i <= last; i++) {
      if (win[i] === 0) {
        // The run started `zeros` bytes ago, at at + i + 1 - zeros.
        if (++zeros >= zero_run_bytes) return { valid_after: null, dirty_end: at + i + 1 - zeros };
      } else zeros = 0;
      if (win[i + RECORD_HEADER_BYTES] !== TXN_FORMAT_VERSION) continue;
      const len = view.getUint32(i + 4);
      if (len < RECORD_PAYLOAD_MIN || len > size - (at + i) - RECORD_HEADER_BYTES) continue;
      const zxid = payloadZxid(view, i + RECORD_HEADER_BYTES);
      if (zxid < zxid_min || !Number.isSafeInteger(zxid) || (zxid > zxid_max && zxid % U32 > fit)) continue;
      candidate = i;
      candidate_zxid = zxid;
      break;
    }
    if (candidate < 0) {
      at += i;
      continue;
    }
    // checkRecord moves the window; the scan resumes at the byte after the candidate.
    if (checkRecord(src, at + candidate, candidate_zxid).ok) return { valid_after: at + candidate, dirty_end: size };
    at += candidate + 1;
  }
  // The last few bytes (too short for a record) were not looked at: count them as dirty.
  return { valid_after: null, dirty_end: size };
}
