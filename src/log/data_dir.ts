// The files of a replica's data directory and their names. Everything durable lives here:
//
//   log.<first zxid, 16 hex>       txn log segments (segment_format.ts), contiguous zxids
//   log.spare                      the next segment, zero-filled ahead of time (no header yet)
//   snapshot.<zxid, 16 hex>        snapshots (snapshot_format.ts), the tree + sessions at zxid
//   snapshot.<zxid>.tmp            a snapshot being written (never read; removed at start)
//   secret                         the session-password key (32 random bytes, mode 0600)
//   sessions.live                  what each session had left of its timeout (session/liveness_file.ts)
//   epochs                         Zab's acceptedEpoch and currentEpoch (epoch_file.ts), ensembles only
//   membership                     the last membership a reconfig applied here made (membership_file.ts)
//   lock                           the running server's PID (dir_lock.ts)
//
// The log files (log.*) live in dataLogDir instead when it is set; the rest stays in dataDir.
//
// Names sort by zxid because the hex is fixed-width.

import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const SPARE_SEGMENT = 'log.spare';
export const SECRET_FILE = 'secret';
const SECRET_BYTES = 32;

const SEGMENT_RE = /^log\.([0-9a-f]{16})$/;
const SNAPSHOT_RE = /^snapshot\.([0-9a-f]{16})$/;
const TMP_RE = /^snapshot\.[0-9a-f]{16}\.tmp$/;

function hex16(zxid: number): string {
  if (!Number.isSafeInteger(zxid) || zxid < 0) throw new RangeError(`not a zxid: ${zxid}`);
  return zxid.toString(16).padStart(16, '0');
}

export function segmentName(first_zxid: number): string {
  return `log.${hex16(first_zxid)}`;
}

export function snapshotName(zxid: number): string {
  return `snapshot.${hex16(zxid)}`;
}

export function snapshotTmpName(zxid: number): string {
  return `${snapshotName(zxid)}.tmp`;
}

export interface NamedFile {
  name: string;
  path: string;
  /** The zxid in the name: a segment's first zxid, a snapshot's zxid. */
  zxid: number;
}

export interface DirListing {
  /** Ascending by zxid. */
  segments: NamedFile[];
  /** Ascending by zxid. */
  snapshots: NamedFile[];
  /** Leftovers of interrupted snapshot writes. */
  tmp_snapshots: string[];
  has_spare: boolean;
}

function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []; // a fresh replica
    throw e;
  }
}

/**
 * The zxid in a file name. Names are written from safe integers only (hex16), so a larger one is
 * not ours: parsing it would round, and the file would be read under a zxid it does not hold.
 */
function zxidOfName(dir: string, name: string, hex: string): number {
  const zxid = Number.parseInt(hex, 16);
  if (!Number.isSafeInteger(zxid)) throw new RangeError(`${join(dir, name)}: zxid 0x${hex} is beyond 2^53, not written by waitfree`);
  return zxid;
}

function snapshotsIn(dir: string, out: DirListing): void {
  for (const name of namesIn(dir)) {
    const snap = SNAPSHOT_RE.exec(name);
    if (snap) out.snapshots.push({ name, path: join(dir, name), zxid: zxidOfName(dir, name, snap[1]) });
    else if (TMP_RE.test(name)) out.tmp_snapshots.push(join(dir, name));
  }
  out.snapshots.sort((a, b) => a.zxid - b.zxid);
}

/** Snapshots are looked for in `dir`, log segments in `log_dir` (dataLogDir; default: dir). */
export function listDataDir(dir: string, log_dir: string = dir): DirListing {
  const out: DirListing = { segments: [], snapshots: [], tmp_snapshots: [], has_spare: false };
  snapshotsIn(dir, out);
  for (const name of namesIn(log_dir)) {
    const seg = SEGMENT_RE.exec(name);
    if (seg) out.segments.push({ name, path: join(log_dir, name), zxid: zxidOfName(log_dir, name, seg[1]) });
    else if (name === SPARE_SEGMENT) out.has_spare = true;
  }
  out.segments.sort((a, b) => a.zxid - b.zxid);
  return out;
}

/**
 * The snapshot file in `dir` with the highest zxid <= at_most_zxid, by name (its content is not
 * checked here: recovery does that when it loads it), or null when there is none.
 */
export function newestSnapshot(dir: string, at_most_zxid: number = Number.MAX_SAFE_INTEGER): NamedFile | null {
  const out: DirListing = { segments: [], snapshots: [], tmp_snapshots: [], has_spare: false };
  snapshotsIn(dir, out);
  for (let i = out.snapshots.length - 1; i >= 0; i--) if (out.snapshots[i].zxid <= at_most_zxid) return out.snapshots[i];
  return null;
}

/**
 * Replaces `dir/name` with `bytes` so that a crash leaves the old content or the new, never a mix:
 * written to name.tmp, fdatasynced, renamed over, directory fsynced (the syncs only with `fsync`).
 */
export function replaceFileSync(dir: string, name: string, bytes: Uint8Array, fsync: boolean, mode = 0o644): void {
  const path = join(dir, name);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
    if (fsync) fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (fsync) fsyncDirSync(dir);
}

/** Makes a rename or a new file in `dir` durable (the directory entry itself). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/**
 * The session-password secret: created once (random, written to a temp file, fsynced, renamed,
 * directory fsynced; mode 0600), then read on every start, so session passwords handed out before
 * a restart stay valid after it.
 */
export function loadOrCreateSecret(dir: string): Uint8Array {
  const path = join(dir, SECRET_FILE);
  try {
    const bytes = readFileSync(path);
    if (bytes.length !== SECRET_BYTES) throw new Error(`${path}: expected ${SECRET_BYTES} bytes, found ${bytes.length}`);
    return new Uint8Array(bytes);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const secret = new Uint8Array(randomBytes(SECRET_BYTES));
  replaceFileSync(dir, SECRET_FILE, secret, true, 0o600);
  return secret;
}
