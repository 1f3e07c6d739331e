// The session liveness file's format, pure: bytes in, facts out.
//
// Why the file exists: touches (pings, requests) are not txns, so the log alone cannot say how
// long a session had been silent when the replica died. The commit worker rewrites this small
// file every tick in which some session's expiry moved; recovery reads it to give each session
// what was left of its timeout (resume.ts) instead of a fresh one.
//
//   file   = header (24 B) | entry* | u32 crc32c(everything before)
//   header = "WFSL" | u32 version | u64 written_ms (wall clock) | u32 count | u32 0
//   entry  = u64 session_id | u32 remaining_ms (time left before expiry at written_ms)
//
// All integers big-endian. The length must be exactly header + count * entry + crc.

import { getU64, setU64, viewOf } from '../log/binary.js';
import { crc32c } from '../log/crc32c.js';

export const LIVENESS_MAGIC = 0x5746534c; // "WFSL"
export const LIVENESS_VERSION = 1;
export const LIVENESS_HEADER_BYTES = 24;
export const LIVENESS_ENTRY_BYTES = 12;
const CRC_BYTES = 4;
const U32 = 0x1_0000_0000;

export interface LivenessEntry {
  session_id: bigint;
  remaining_ms: number;
}

export interface Liveness {
  /** Wall-clock time the table was taken at. */
  written_ms: number;
  entries: LivenessEntry[];
}

export class LivenessFormatError extends Error {}

export function encodeLiveness(l: Liveness): Uint8Array {
  const count = l.entries.length;
  const bytes = new Uint8Array(LIVENESS_HEADER_BYTES + count * LIVENESS_ENTRY_BYTES + CRC_BYTES);
  const v = viewOf(bytes);
  v.setUint32(0, LIVENESS_MAGIC);
  v.setUint32(4, LIVENESS_VERSION);
  setU64(v, 8, l.written_ms);
  v.setUint32(16, count);
  let at = LIVENESS_HEADER_BYTES;
  for (const e of l.entries) {
    if (!(Number.isInteger(e.remaining_ms) && e.remaining_ms >= 0 && e.remaining_ms < U32)) {
      throw new RangeError(`remaining_ms out of range: ${e.remaining_ms}`);
    }
    v.setBigInt64(at, e.session_id);
    v.setUint32(at + 8, e.remaining_ms);
    at += LIVENESS_ENTRY_BYTES;
  }
  v.setUint32(at, crc32c(bytes.subarray(0, at)));
  return bytes;
}

/** Decodes and verifies a whole file; throws LivenessFormatError naming what is wrong. */
export function decodeLiveness(bytes: Uint8Array): Liveness {
  if (bytes.length < LIVENESS_HEADER_BYTES + CRC_BYTES) throw new LivenessFormatError(`file too short (${bytes.length} bytes)`);
  const v = viewOf(bytes);
  if (v.getUint32(0) !== LIVENESS_MAGIC) throw new LivenessFormatError('not a waitfree liveness file (bad magic)');
  const version = v.getUint32(4);
  if (version !== LIVENESS_VERSION) throw new LivenessFormatError(`format version ${version}; this waitfree reads ${LIVENESS_VERSION}`);
  const count = v.getUint32(16);
  const body_end = LIVENESS_HEADER_BYTES + count * LIVENESS_ENTRY_BYTES;
  if (bytes.length !== body_end + CRC_BYTES) {
    throw new LivenessFormatError(`length ${bytes.length} does not fit ${count} entries (${body_end + CRC_BYTES} bytes)`);
  }
  if (v.getUint32(body_end) !== crc32c(bytes.subarray(0, body_end))) throw new LivenessFormatError('checksum mismatch');
  const entries: LivenessEntry[] = [];
  for (let at = LIVENESS_HEADER_BYTES; at < body_end; at += LIVENESS_ENTRY_BYTES) {
    entries.push({ session_id: v.getBigInt64(at), remaining_ms: v.getUint32(at + 8) });
  }
  return { written_ms: getU64(v, 8), entries };
}
