// Installing a snapshot received from the Zab leader (SNAP sync): the replica's state and log are
// replaced by the leader's committed state at zxid Z.
//
// Steps, in this order (each one durable before the next):
// 1. verify the bytes completely (header, every record, counts, checksum, header zxid == Z):
//    a bad snapshot throws with nothing changed on disk;
// 2. write them as snapshot.<Z>.tmp + fdatasync (a .tmp is never read, and removed at start);
// 3. cut the log after Z (truncate_log.ts, unlink + ftruncate, directory fsync);
// 4. unlink every snapshot newer than Z, directory fsync;
// 5. rename the .tmp to snapshot.<Z>, directory fsync: from here recovery yields exactly Z;
// 6. unlink every log segment and log.spare, directory fsync: the log restarts at Z + 1.
// Why 3 and 4 come before 5: recovery replays the log on top of the newest snapshot. With the
// snapshot in place but old txns > Z still logged (this replica's own, possibly divergent,
// history), a crash would replay them onto the leader's state; with a newer snapshot left, a
// crash would start from it instead of Z. A crash before 5 leaves the replica's own state (or a
// prefix of it, up to Z): the same kind of state a crash before the SNAP arrived would have left,
// and Zab syncs it again after the restart. After 5 the leftovers of 6 are txns <= Z, which
// recovery skips (the snapshot covers them).

import { join } from 'node:path';
import { listDataDir, SPARE_SEGMENT, snapshotName, snapshotTmpName } from '../log/data_dir.js';
import type { LogFs } from '../log/log_fs.js';
import { applyCut, planCut, type CutOptions } from '../log/truncate_log.js';
import { decodeSnapshot, SnapshotFormatError, type SnapshotInfo } from './snapshot_format.js';

export type InstallOptions = CutOptions;

const hex = (zxid: number): string => `0x${zxid.toString(16)}`;


/**
 * Checks that `bytes` is a whole, undamaged snapshot file at `zxid`: header, every record and the
 * end record's counts, the checksum. Walks every record (the same checks as a full decode, no
 * node objects built): a checksum alone would pass a leader's encoding bug, which would then fail
 * only in the middle of a reload.
 */
export function verifySnapshotBytes(bytes: Uint8Array, zxid: number): SnapshotInfo {
  let info: SnapshotInfo;
  try {
    info = decodeSnapshot(bytes, { nodeBytes: () => {}, session: () => {} });
  } catch (e) {
    const why = e instanceof SnapshotFormatError ? e.message : String(e);
    throw new Error(`the snapshot received for zxid ${hex(zxid)} (${bytes.length} bytes) is not valid: ${why}`);
  }
  if (info.zxid !== zxid) {
    throw new Error(`the snapshot received for zxid ${hex(zxid)} holds zxid ${hex(info.zxid)} in its header`);
  }
  return info;
}

/**
 * Replaces this replica's state by the snapshot `bytes` at `zxid` (steps above). `dir` is dataDir
 * (snapshots), `log_dir` dataLogDir (segments; may be the same). The log must not be open for
 * writing. Afterwards recover() yields exactly the snapshot's state with last_zxid == zxid and
 * tail null, so the next LogWriter appends zxid + 1... into a new segment.
 */
export async function installSnapshot(fs: LogFs, dir: string, log_dir: string, zxid: number, bytes: Uint8Array, opts: InstallOptions): Promise<SnapshotInfo> {
  if (!Number.isSafeInteger(zxid) || zxid < 0) throw new RangeError(`installSnapshot: not a zxid: ${zxid}`);
  const info = verifySnapshotBytes(bytes, zxid);
  const tmp = join(dir, snapshotTmpName(zxid));
  await writeDurably(fs, tmp, bytes, opts.fsync);

  const before = listDataDir(dir, log_dir);
  await applyCut(fs, log_dir, planCut(before.segments, zxid, opts, 'superseded'), opts.fsync);

  const newer = before.snapshots.filter((s) => s.zxid > zxid).reverse();
  for (const s of newer) await fs.unlink(s.path);
  if (newer.length > 0 && opts.fsync) await fs.fsyncDir(dir);

  await fs.rename(tmp, join(dir, snapshotName(zxid)));
  if (opts.fsync) await fs.fsyncDir(dir);

  const after = listDataDir(dir, log_dir);
  for (let i = after.segments.length - 1; i >= 0; i--) await fs.unlink(after.segments[i].path);
  if (after.has_spare) await fs.unlink(join(log_dir, SPARE_SEGMENT));
  if ((after.segments.length > 0 || after.has_spare) && opts.fsync) await fs.fsyncDir(log_dir);
  return info;
}

/** Writes `bytes` as a new file at `path` and fdatasyncs it; on failure removes what it wrote. */
async function writeDurably(fs: LogFs, path: string, bytes: Uint8Array, fsync: boolean): Promise<void> {
  const fd = await fs.open(path, 'w', 0o644);
  try {
    await fs.write(fd, bytes, 0, bytes.length, 0);
    if (fsync) await fs.fdatasync(fd);
  } catch (e) {
    await fs.close(fd).catch(() => {});
    await fs.unlink(path).catch(() => {});
    throw e;
  }
  await fs.close(fd);
}
