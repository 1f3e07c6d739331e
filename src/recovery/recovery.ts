// Recovery at start: the newest valid snapshot, then every logged txn after it. Read-only: the
// one repair it may call for (cutting a torn tail) is returned, and the commit worker applies it
// before it appends. Shards run the same function to build their own copy of the tree, so every
// thread of the replica starts from the same state.
//
// Rules:
// - snapshots are tried newest first; a damaged one is skipped with a warning;
// - the log must hold every zxid after the snapshot's, contiguously; a gap is fatal;
// - a damaged record at the tail of the last segment (nothing valid after it) is a torn write
//   of an unacknowledged batch: it is reported for truncation, with its offset;
// - a damaged record anywhere else is fatal, with the file and offset: silently dropping
//   acknowledged txns is worse than not starting.

import { readFileSync } from 'node:fs';
import { JuteReader } from '../protocol/jute.js';
import { DataTree } from '../tree/data_tree.js';
import { decodeTxn } from '../tree/txn_codec.js';
import type { Txn } from '../tree/txn.js';
import { loadSnapshot, type SessionTable } from '../snapshot/snapshot_reader.js';
import { listDataDir, type NamedFile } from '../log/data_dir.js';
import type { LogTail } from '../log/log_writer.js';
import { decodeSegmentHeader, scanSegment } from '../log/segment_format.js';

export class RecoveryError extends Error {
  constructor(message: string) {
    super(`recovery failed: ${message}`);
  }
}

export interface RecoveryOptions {
  /** dataDir (snapshots). */
  dir: string;
  /** dataLogDir (log segments); default: dir. */
  log_dir?: string;
  /** Keep the session table (the commit worker); shards only need the tree. */
  track_sessions: boolean;
  warn(message: string): void;
}

export interface Recovered {
  tree: DataTree;
  sessions: SessionTable;
  /** Each recovered session's last txn in the replayed log (a touch), wall clock; commit worker only. */
  session_last_txn_ms: Map<bigint, number>;
  /** The latest wall time the snapshot and replayed txns hold (0 when empty). */
  last_time_ms: number;
  snapshot: { path: string; zxid: number; created_ms: number } | null;
  /** The zxid of the last txn recovered (snapshot or log). */
  last_zxid: number;
  /** Log txns replayed on top of the snapshot. */
  replayed: number;
  /** Where appending resumes; null: the next append starts a new segment at last_zxid + 1. */
  tail: LogTail | null;
  /** A torn tail to cut before appending (also reported through warn). */
  truncate: { path: string; offset: number; reason: string } | null;
}

export function recover(opts: RecoveryOptions): Recovered {
  const listing = listDataDir(opts.dir, opts.log_dir ?? opts.dir);
  const sessions: SessionTable = new Map();
  const { tree, snapshot } = loadNewestSnapshot(listing.snapshots, opts, sessions);
  const state: Recovered = {
    tree,
    sessions,
    session_last_txn_ms: new Map(),
    last_time_ms: snapshot?.created_ms ?? 0,
    snapshot,
    last_zxid: tree.last_zxid,
    replayed: 0,
    tail: null,
    truncate: null,
  };
  replayLog(listing.segments, state, opts);
  return state;
}

function loadNewestSnapshot(
  snapshots: readonly NamedFile[],
  opts: RecoveryOptions,
  sessions: SessionTable,
): { tree: DataTree; snapshot: Recovered['snapshot'] } {
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const file = snapshots[i];
    const tree = new DataTree();
    sessions.clear();
    try {
      const info = loadSnapshot(file.path, tree, opts.track_sessions ? sessions : null);
      if (info.zxid !== file.zxid) throw new Error(`holds zxid 0x${info.zxid.toString(16)}, its name says 0x${file.zxid.toString(16)}`);
      return { tree, snapshot: { path: file.path, zxid: info.zxid, created_ms: info.created_ms } };
    } catch (e) {
      opts.warn(`snapshot ${file.path} is unusable (${e instanceof Error ? e.message : String(e)}); trying an older one`);
    }
  }
  sessions.clear();
  return { tree: new DataTree(), snapshot: null };
}

/** Segments that can hold txns after `after_zxid` (a segment ends where the next one starts). */
function segmentsAfter(segments: readonly NamedFile[], after_zxid: number): NamedFile[] {
  return segments.filter((s, i) => i === segments.length - 1 || segments[i + 1].zxid > after_zxid + 1);
}

function replayLog(segments: readonly NamedFile[], state: Recovered, opts: RecoveryOptions): void {
  const wanted = segmentsAfter(segments, state.last_zxid);
  for (let i = 0; i < wanted.length; i++) {
    const is_last = i === wanted.length - 1;
    replaySegment(wanted[i], is_last, state, opts);
  }
}

function replaySegment(file: NamedFile, is_last: boolean, state: Recovered, opts: RecoveryOptions): void {
  // A plain Uint8Array: decoded data must be copies (Buffer#slice would pin the whole file).
  const file_bytes = readFileSync(file.path);
  const bytes = new Uint8Array(file_bytes.buffer, file_bytes.byteOffset, file_bytes.byteLength);
  const header = decodeSegmentHeader(bytes);
  if (!header.ok) {
    if (is_last && header.blank) {
      opts.warn(`log segment ${file.path} was never written (blank header); ignoring it`);
      return;
    }
    throw new RecoveryError(`log segment ${file.path}: ${header.reason}`);
  }
  if (header.first_zxid !== file.zxid) {
    throw new RecoveryError(`log segment ${file.path} starts at zxid 0x${header.first_zxid.toString(16)}, its name says otherwise`);
  }
  const scan = scanSegment(bytes, header.first_zxid, (start, end, zxid) => {
    if (zxid <= state.last_zxid) return;
    if (zxid !== state.last_zxid + 1) {
      throw new RecoveryError(
        `the log is missing txns 0x${(state.last_zxid + 1).toString(16)}..0x${(zxid - 1).toString(16)} (next found in ${file.path})`,
      );
    }
    applyTxn(state, decodeRecord(bytes, start, end, file.path), file.path, opts.track_sessions);
  });
  if (scan.end.kind === 'bad') {
    const { offset, reason, valid_after } = scan.end;
    if (!is_last || valid_after !== null) {
      const why = valid_after !== null ? `a valid record follows at offset ${valid_after}` : 'later log segments exist';
      throw new RecoveryError(`corrupt record in ${file.path} at offset ${offset} (${reason}; ${why}): refusing to drop acknowledged txns`);
    }
    opts.warn(`log segment ${file.path}: torn tail at offset ${offset} (${reason}); truncating ${bytes.length - offset} bytes`);
    state.truncate = { path: file.path, offset, reason };
  }
  // Append to this segment only if its records end exactly where the recovered state does.
  if (is_last && scan.last_zxid === state.last_zxid) {
    state.tail = { path: file.path, first_zxid: header.first_zxid, end_offset: scan.end.offset, torn: scan.end.kind === 'bad' };
  }
  if (is_last && scan.last_zxid < state.last_zxid && scan.records > 0) {
    opts.warn(
      `the newest snapshot (zxid 0x${state.last_zxid.toString(16)}) is newer than the log (last txn 0x${scan.last_zxid.toString(16)}); starting from the snapshot`,
    );
  }
}

function decodeRecord(bytes: Uint8Array, start: number, end: number, path: string): Txn {
  try {
    const r = new JuteReader(bytes, start, end);
    const txn = decodeTxn(r);
    r.expectEnd();
    return txn;
  } catch (e) {
    throw new RecoveryError(`${path}: a record at offset ${start - 8} passes its checksum but does not decode (${String(e)})`);
  }
}

function applyTxn(state: Recovered, txn: Txn, path: string, track_sessions: boolean): void {
  try {
    state.tree.apply(txn);
  } catch (e) {
    throw new RecoveryError(`${path}: replaying txn 0x${txn.header.zxid.toString(16)} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { session_id, time_ms } = txn.header;
  const op = txn.op;
  if (op.kind === 'createSession') state.sessions.set(session_id, { timeout_ms: op.timeout_ms, passwd: op.passwd });
  else if (op.kind === 'closeSession') {
    state.sessions.delete(session_id);
    state.session_last_txn_ms.delete(session_id);
  }
  if (track_sessions && state.sessions.has(session_id)) state.session_last_txn_ms.set(session_id, time_ms);
  if (time_ms > state.last_time_ms) state.last_time_ms = time_ms;
  state.last_zxid = txn.header.zxid;
  state.replayed++;
}
