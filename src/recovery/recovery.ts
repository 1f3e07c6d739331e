// Recovery at start: the newest valid snapshot, then every logged txn after it. Read-only: the
// one repair it may call for (cutting a torn tail) is returned, and the commit worker applies it
// before it appends. The state is rebuilt into a RecoveryTarget: a heap DataTree (recover(), for
// tools, tests and a Zab reload) or the replica's shared tree (recovery_arena.ts, at start).
//
// Rules:
// - snapshots are tried newest first; a damaged one is skipped with a warning;
// - the log must hold every txn after the snapshot's, contiguously (within an epoch each zxid
//   is one more; a later epoch starts at counter 1: segment_format.ts isNextZxid); a gap is fatal;
// - a damaged record at the tail of the last segment (nothing valid after it) is a torn write
//   of an unacknowledged batch: it is reported for truncation, with its offset;
// - a damaged record anywhere else is fatal, with the file and offset: silently dropping
//   acknowledged txns is worse than not starting.
// - the written part of a segment ends at a record boundary followed by a long run of zeros
//   (segment_format.ts scanSegment argues why); segments are read in bounded chunks, so a
//   preallocated 64 MiB segment holding a few txns costs a few MiB of reading, not 64.
// - with until_zxid (a read worker reloading exactly the state the commit worker published),
//   only snapshots at or before it are used and replay stops after it; what follows it in the
//   log (more txns, a torn tail, damage) is not looked at, and tail/truncate are null unless the
//   log ends exactly there.

import { DataTree } from '../tree/data_tree.js';
import { TxnBulkDecoder } from '../tree/txn_codec.js';
import type { Txn } from '../tree/txn.js';
import { loadSnapshot, type SessionTable } from '../snapshot/snapshot_reader.js';
import type { SnapshotInfo } from '../snapshot/snapshot_format.js';
import { listDataDir, type NamedFile } from '../log/data_dir.js';
import type { LogTail } from '../log/log_writer.js';
import { decodeSegmentHeader, isNextZxid, RECORD_HEADER_BYTES, scanSegment, SEGMENT_HEADER_BYTES, ZERO_RUN_BYTES_DEFAULT, type SegmentBytes } from '../log/segment_format.js';
import { NODE_SEGMENT_READ_FS, SegmentFileError, withSegmentFile, type SegmentReadFs } from '../log/segment_file.js';

/** The callers pass zeroRunBytesFor(config) as zero_run_bytes. */
export { zeroRunBytesFor } from '../log/segment_format.js';

export class RecoveryError extends Error {
  /** `options.cause`: the error it reports (a reload looks for a full arena there). */
  constructor(message: string, options?: ErrorOptions) {
    super(`recovery failed: ${message}`, options);
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
  /**
   * A run of this many zero bytes after the last record ends a segment's written part (default
   * ZERO_RUN_BYTES_DEFAULT; zeroRunBytesFor() derives it from the batch and request bounds).
   */
  zero_run_bytes?: number;
  /** How segment files are read (default: node:fs); tests count bytes with it. */
  read_fs?: SegmentReadFs;
  /** Stop after this zxid: the state recovered is the state at it (default: the end of the log). */
  until_zxid?: number;
  /** Keep every replayed txn's record payload in Recovered.entries (Zab's in-memory log window). */
  keep_entries?: boolean;
}

/** One logged txn as the commit stream and Zab carry it: the record payload (txn_codec.ts encoding). */
export interface RecoveredEntry {
  zxid: number;
  /** A copy of its own (never a view of a read buffer, which would pin a whole chunk). */
  bytes: Uint8Array;
}

/** Where recovery rebuilds the tree. */
export interface RecoveryTarget {
  /** Replaces the tree by the snapshot file's (sessions filled when given). Throws when the file
   *  is unusable; then the target must still be able to load another one. */
  loadSnapshot(path: string, sessions: SessionTable | null): SnapshotInfo;
  /** No usable snapshot: the tree a fresh ZooKeeper starts with. */
  loadEmpty(): void;
  /** Applies one logged txn (zxid order). */
  apply(txn: Txn): void;
  /**
   * apply() copies every byte field it keeps (data) before it returns, so a txn's data may be a
   * view of the log's read buffer (no copy per txn). Default false: fields are copies.
   */
  readonly copies_data?: boolean;
}

/** Everything recovery finds besides the tree. */
export interface RecoveredLog {
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
  /** Bytes of log segments read (a preallocated segment is read up to its end of records plus a zero run). */
  log_bytes_read: number;
  /** With keep_entries: every txn replayed from the log (after the snapshot), in zxid order. */
  entries?: RecoveredEntry[];
}

export interface Recovered extends RecoveredLog {
  tree: DataTree;
}

/** Thrown by the replay visitor at the first txn past until_zxid (control flow only). */
class PastUntil {}

export function recover(opts: RecoveryOptions): Recovered {
  const target = new HeapTarget();
  const state = recoverInto(target, opts);
  return { ...state, tree: target.tree };
}

/** A heap DataTree as the recovery target. */
class HeapTarget implements RecoveryTarget {
  tree = new DataTree();

  loadSnapshot(path: string, sessions: SessionTable | null): SnapshotInfo {
    const tree = new DataTree();
    const info = loadSnapshot(path, tree, sessions);
    this.tree = tree;
    return info;
  }

  loadEmpty(): void {
    this.tree = new DataTree();
  }

  apply(txn: Txn): void {
    this.tree.apply(txn);
  }
}

/** Recovery into any target: the newest usable snapshot, then the log after it. */
export function recoverInto(target: RecoveryTarget, opts: RecoveryOptions): RecoveredLog {
  const until = opts.until_zxid ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(until) || until < 0) throw new RangeError(`recover: until_zxid is not a zxid: ${opts.until_zxid}`);
  const listing = listDataDir(opts.dir, opts.log_dir ?? opts.dir);
  const sessions: SessionTable = new Map();
  const usable = listing.snapshots.filter((s) => s.zxid <= until);
  const snapshot = loadNewestSnapshot(target, usable, opts, sessions);
  const state: RecoveredLog = {
    sessions,
    session_last_txn_ms: new Map(),
    last_time_ms: snapshot?.created_ms ?? 0,
    snapshot,
    last_zxid: snapshot?.zxid ?? 0,
    replayed: 0,
    tail: null,
    truncate: null,
    log_bytes_read: 0,
  };
  if (opts.keep_entries === true) state.entries = [];
  replayLog(target, listing.segments, state, opts, until);
  return state;
}

function loadNewestSnapshot(
  target: RecoveryTarget,
  snapshots: readonly NamedFile[],
  opts: RecoveryOptions,
  sessions: SessionTable,
): RecoveredLog['snapshot'] {
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const file = snapshots[i];
    sessions.clear();
    try {
      const info = target.loadSnapshot(file.path, opts.track_sessions ? sessions : null);
      if (info.zxid !== file.zxid) throw new Error(`holds zxid 0x${info.zxid.toString(16)}, its name says 0x${file.zxid.toString(16)}`);
      return { path: file.path, zxid: info.zxid, created_ms: info.created_ms };
    } catch (e) {
      if (e instanceof RecoveryError) throw e;
      opts.warn(`snapshot ${file.path} is unusable (${e instanceof Error ? e.message : String(e)}); trying an older one`);
    }
  }
  sessions.clear();
  target.loadEmpty();
  return null;
}

/** Segments that can hold txns after `after_zxid` (a segment ends where the next one starts). */
function segmentsAfter(segments: readonly NamedFile[], after_zxid: number): NamedFile[] {
  return segments.filter((s, i) => i === segments.length - 1 || segments[i + 1].zxid > after_zxid + 1);
}

function replayLog(target: RecoveryTarget, segments: readonly NamedFile[], state: RecoveredLog, opts: RecoveryOptions, until: number): void {
  const wanted = segmentsAfter(segments, state.last_zxid);
  for (let i = 0; i < wanted.length; i++) {
    // A segment starting after until holds nothing wanted, nor does any after it.
    if (wanted[i].zxid > until) return;
    const is_last = i === wanted.length - 1;
    if (!replaySegment(target, wanted[i], is_last, state, opts, until)) return;
  }
}

/** Replays one segment; false when replay stopped at until_zxid with more txns after it. */
function replaySegment(target: RecoveryTarget, file: NamedFile, is_last: boolean, state: RecoveredLog, opts: RecoveryOptions, until: number): boolean {
  try {
    const read = withSegmentFile(opts.read_fs ?? NODE_SEGMENT_READ_FS, file.path, (src) => {
      try {
        replaySegmentBytes(target, src, file, is_last, state, opts, until);
        return true;
      } catch (e) {
        if (!(e instanceof PastUntil)) throw e;
        return false;
      }
    });
    state.log_bytes_read += read.bytes_read;
    return read.result;
  } catch (e) {
    if (e instanceof SegmentFileError) throw new RecoveryError(e.message);
    throw e;
  }
}

function replaySegmentBytes(
  target: RecoveryTarget,
  src: SegmentBytes,
  file: NamedFile,
  is_last: boolean,
  state: RecoveredLog,
  opts: RecoveryOptions,
  until: number,
): void {
  const header = decodeSegmentHeader(src.window(0, SEGMENT_HEADER_BYTES));
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
  // The payload is a view of the reader's buffer: decoding copies what the tree keeps (or the
  // target does, copies_data).
  const decoder = new TxnBulkDecoder(target.copies_data === true);
  const visit = (payload: Uint8Array, zxid: number, payload_offset: number): void => {
    if (zxid <= state.last_zxid) return;
    if (zxid > until) throw new PastUntil();
    if (!isNextZxid(state.last_zxid, zxid)) {
      throw new RecoveryError(
        `the log is missing txns 0x${(state.last_zxid + 1).toString(16)}..0x${(zxid - 1).toString(16)} (next found in ${file.path})`,
      );
    }
    applyTxn(target, state, decodeRecord(decoder, payload, payload_offset, file.path), file.path, opts.track_sessions);
    state.entries?.push({ zxid, bytes: payload.slice() });
  };
  const scan = scanSegment(src, header.first_zxid, visit, { zero_run_bytes: opts.zero_run_bytes ?? ZERO_RUN_BYTES_DEFAULT });
  // Damage after until_zxid is not this reader's concern (the state it wants is complete).
  if (scan.end.kind === 'bad' && scan.last_zxid >= until) return;
  if (scan.end.kind === 'bad') {
    const { offset, reason, valid_after } = scan.end;
    if (!is_last || valid_after !== null) {
      const why = valid_after !== null ? `a valid record follows at offset ${valid_after}` : 'later log segments exist';
      throw new RecoveryError(`corrupt record in ${file.path} at offset ${offset} (${reason}; ${why}): refusing to drop acknowledged txns`);
    }
    opts.warn(`log segment ${file.path}: torn tail at offset ${offset} (${reason}); truncating ${src.size_bytes - offset} bytes`);
    state.truncate = { path: file.path, offset, reason };
  }
  // Append to this segment only if its records end exactly where the recovered state does.
  if (is_last && scan.last_zxid === state.last_zxid) {
    const torn = scan.end.kind === 'bad';
    const dirty_end = scan.end.kind === 'bad' ? scan.end.dirty_end : null;
    state.tail = { path: file.path, first_zxid: header.first_zxid, end_offset: scan.end.offset, torn, dirty_end };
  }
  if (is_last && scan.last_zxid < state.last_zxid && scan.records > 0) {
    opts.warn(
      `the newest snapshot (zxid 0x${state.last_zxid.toString(16)}) is newer than the log (last txn 0x${scan.last_zxid.toString(16)}); starting from the snapshot`,
    );
  }
}

function decodeRecord(decoder: TxnBulkDecoder, payload: Uint8Array, payload_offset: number, path: string): Txn {
  try {
    return decoder.decode(payload);
  } catch (e) {
    throw new RecoveryError(`${path}: a record at offset ${payload_offset - RECORD_HEADER_BYTES} passes its checksum but does not decode (${String(e)})`);
  }
}

function applyTxn(target: RecoveryTarget, state: RecoveredLog, txn: Txn, path: string, track_sessions: boolean): void {
  try {
    target.apply(txn);
  } catch (e) {
    throw new RecoveryError(`${path}: replaying txn 0x${txn.header.zxid.toString(16)} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
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
