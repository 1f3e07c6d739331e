// Removing a suffix of the txn log durably (Zab TRUNC: a learner drops txns the new leader's
// history does not hold; they were never committed).
//
// Segment i holds zxids [first_i, first_{i+1} - 1]. Cutting after zxid Z means: every segment
// whose first zxid is > Z goes, and the last remaining segment is shortened (ftruncate) at the
// offset of its first record > Z. recovery.ts then finds the end of the log there: a segment's
// written part ends at a record boundary followed by zeros *or the end of the file*
// (segment_format.ts scanSegment), and LogWriter.open re-extends the file with zeros before it
// appends, so the end-of-log rule stays true for every later batch.
//
// Crash safety (the order is the argument):
// 1. later segments are unlinked newest first, then the directory is fsynced: a crash part-way
//    leaves a contiguous prefix of the old log, never a gap;
// 2. only then is the segment holding Z + 1 shortened and fdatasynced. ftruncate is one metadata
//    change: after a crash the file is either whole (the old log up to that segment's end) or cut.
// Cutting first and unlinking after would not do: a crash in between leaves a log with a hole
// (segment k ends at Z, segment k+1 starts after Z + 1), which recovery rightly refuses.
// Zero-filling instead of ftruncate would not do either: a torn zero-fill can leave old, valid
// records behind zeros, which recovery takes for damage in the middle of the log.
// Either way a crash before the end leaves the state as it was before the truncation, or a
// prefix of it; the caller (Zab) re-syncs after a restart and asks again.

import { listDataDir, type NamedFile } from './data_dir.js';
import type { LogFs } from './log_fs.js';
import { decodeSegmentHeader, RECORD_HEADER_BYTES, scanSegment, SEGMENT_HEADER_BYTES, ZERO_RUN_BYTES_DEFAULT } from './segment_format.js';
import { NODE_SEGMENT_READ_FS, withSegmentFile, type SegmentReadFs } from './segment_file.js';

export interface CutOptions {
  /** false = waitfree.fsync none: no fdatasync or directory fsync (experiments only). */
  fsync: boolean;
  /** The zero run that ends a segment's written part: zeroRunBytesFor(config) (default ZERO_RUN_BYTES_DEFAULT). */
  zero_run_bytes?: number;
  /** How segment files are read (default node:fs). */
  read_fs?: SegmentReadFs;
}

export interface TruncateOptions extends CutOptions {
  /** dataDir, where the snapshots are (default: log_dir). Pass it when dataLogDir is separate. */
  snapshot_dir?: string;
}

/** What a cut did (for logs and tests). */
export interface CutResult {
  /** Segment files unlinked, newest first. */
  removed: string[];
  /** The segment shortened and its new length, or null when none needed it. */
  shortened: { path: string; length: number } | null;
}

/** What a cut will do; computed by reading only (nothing changes until it is applied). */
interface CutPlan {
  /** Segments to unlink, newest first. */
  remove: NamedFile[];
  shorten: { path: string; length: number } | null;
}

function assertZxid(zxid: number, what: string): void {
  if (!Number.isSafeInteger(zxid) || zxid < 0) throw new RangeError(`${what}: not a zxid: ${zxid}`);
}

const hex = (zxid: number): string => `0x${zxid.toString(16)}`;

/**
 * Durably removes every logged txn with a zxid > `zxid` from the log in `log_dir`. The log must
 * not be open for writing (close the LogWriter first; open a new one from recover() after).
 * Afterwards recover() ends at `zxid` (if the log held it) and a LogWriter opened from its tail
 * appends right after it.
 *
 * Throws, changing nothing, when `zxid` is below the newest snapshot (a snapshot holds committed
 * state only, and Zab never truncates committed state; the error names both zxids), or when the
 * log is damaged or has a gap before `zxid` (cutting after it would silently turn lost
 * acknowledged txns into the new end of the log). Without a snapshot the log is the whole
 * history (under Zab it starts at (epoch, 1), far above 1), so any zxid >= 0 is a valid cut.
 */
export async function truncateLogAfter(fs: LogFs, log_dir: string, zxid: number, opts: TruncateOptions): Promise<CutResult> {
  assertZxid(zxid, 'truncateLogAfter');
  const listing = listDataDir(opts.snapshot_dir ?? log_dir, log_dir);
  const snapshot = listing.snapshots[listing.snapshots.length - 1];
  if (snapshot !== undefined && zxid < snapshot.zxid) {
    throw new Error(
      `cannot truncate the log after zxid ${hex(zxid)}: the newest snapshot ${snapshot.path} holds state up to ${hex(snapshot.zxid)}, ` +
        `which is committed (a truncation may only remove txns after ${hex(snapshot.zxid)})`,
    );
  }
  return applyCut(fs, log_dir, planCut(listing.segments, zxid, opts, 'strict'), opts.fsync);
}

/**
 * The cut that removes every txn > zxid. 'strict': the txns up to zxid must all be there (throws
 * otherwise). 'superseded': the txns up to zxid no longer matter (a snapshot at zxid replaces
 * them, snapshot_install.ts), so a segment that cannot be cut cleanly is removed whole.
 */
export function planCut(segments: readonly NamedFile[], zxid: number, opts: CutOptions, mode: 'strict' | 'superseded'): CutPlan {
  const remove = segments.filter((s) => s.zxid > zxid).reverse();
  const holder = segments.filter((s) => s.zxid <= zxid).pop();
  if (holder === undefined) return { remove, shorten: null };
  const is_last = remove.length === 0;
  const found = findCut(holder, zxid, opts);
  if (found.kind === 'cut') return { remove, shorten: { path: holder.path, length: found.offset } };
  if (found.kind === 'ends_at_zxid') return { remove, shorten: null };
  // The segment's good records end before zxid (damage, or a log that simply ends earlier).
  if (mode === 'superseded') return { remove: [...remove, holder], shorten: null };
  if (is_last) return { remove, shorten: null }; // nothing after zxid; a torn tail stays for recovery to cut
  throw new Error(
    `cannot truncate the log after zxid ${hex(zxid)}: ${holder.path} ${found.why}, yet later segments exist ` +
      `(the log is damaged or has a gap; refusing to drop acknowledged txns)`,
  );
}

type Found =
  | { kind: 'cut'; offset: number }
  /** The good records end exactly at zxid, nothing written follows them. */
  | { kind: 'ends_at_zxid' }
  | { kind: 'short'; why: string };

/** Thrown from the scan's visitor to stop at the first record past zxid (control flow only). */
class StopAt {
  constructor(readonly offset: number) {}
}

/** Where to cut `file` (whose first zxid is <= zxid) so that its last record is zxid. */
function findCut(file: NamedFile, zxid: number, opts: CutOptions): Found {
  const read_fs = opts.read_fs ?? NODE_SEGMENT_READ_FS;
  const { result } = withSegmentFile(read_fs, file.path, (src): Found => {
    const header = decodeSegmentHeader(src.window(0, SEGMENT_HEADER_BYTES));
    if (!header.ok) return { kind: 'short', why: `has no valid header (${header.reason})` };
    if (header.first_zxid !== file.zxid) return { kind: 'short', why: `starts at ${hex(header.first_zxid)}, not at the zxid in its name` };
    try {
      const scan = scanSegment(
        src,
        header.first_zxid,
        (_payload, z, payload_offset) => {
          if (z > zxid) throw new StopAt(payload_offset - RECORD_HEADER_BYTES);
        },
        { zero_run_bytes: opts.zero_run_bytes ?? ZERO_RUN_BYTES_DEFAULT },
      );
      if (scan.last_zxid < zxid) {
        const how = scan.end.kind === 'bad' ? `is damaged at offset ${scan.end.offset} (${scan.end.reason})` : 'ends';
        return { kind: 'short', why: `${how} after zxid ${hex(scan.last_zxid)}` };
      }
      // last_zxid === zxid: a torn record after it is cut too (it would be, at the next open).
      return scan.end.kind === 'bad' ? { kind: 'cut', offset: scan.end.offset } : { kind: 'ends_at_zxid' };
    } catch (e) {
      if (e instanceof StopAt) return { kind: 'cut', offset: e.offset };
      throw e;
    }
  });
  return result;
}

/** Executes a plan in the crash-safe order argued at the top of this file. */
export async function applyCut(fs: LogFs, log_dir: string, plan: CutPlan, fsync: boolean): Promise<CutResult> {
  for (const s of plan.remove) await fs.unlink(s.path);
  if (plan.remove.length > 0 && fsync) await fs.fsyncDir(log_dir);
  if (plan.shorten !== null) {
    const fd = await fs.open(plan.shorten.path, 'r+');
    try {
      await fs.ftruncate(fd, plan.shorten.length);
      if (fsync) await fs.fdatasync(fd);
    } finally {
      await fs.close(fd);
    }
  }
  return { removed: plan.remove.map((s) => s.path), shortened: plan.shorten };
}
