// Zab's durable log operations on real files: TRUNC (truncateLogAfter) and SNAP (installSnapshot),
// each followed by appends and a recovery, with standalone zxids and with Zab's (epochs above
// 2^32, jumps between epochs), and with crashes between their steps (a fault-injecting LogFs).

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listDataDir, segmentName } from '../../src/log/data_dir.js';
import { NODE_LOG_FS } from '../../src/log/log_fs.js';
import { LogWriter, type LogTail } from '../../src/log/log_writer.js';
import { appendRecord, memorySegment, scanSegment, SEGMENT_HEADER_BYTES } from '../../src/log/segment_format.js';
import { truncateLogAfter } from '../../src/log/truncate_log.js';
import { installSnapshot } from '../../src/snapshot/snapshot_install.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { recover, type Recovered } from '../../src/recovery/recovery.js';
import type { Txn } from '../../src/tree/txn.js';
import { sessionsAfter, writeLog, writeSnapshotAfter } from '../durability/datadir.js';
import { faultyFs, fork, hex, history, removeTempDirs, renumber, standaloneNumbering, tempDir, treeOf, zabNumbering } from './zab_fixtures.js';

/** A snapshot file's bytes, as a leader's SNAP carries them. */
function readSnapshotFile(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

afterEach(removeTempDirs);

// Small segments: 120 txns make several of them (each holds a few batches).
const SEGMENT_BYTES = 2048;

function rec(dir: string): Recovered & { warnings: string[] } {
  const warnings: string[] = [];
  return Object.assign(recover({ dir, track_sessions: true, warn: (m) => warnings.push(m) }), { warnings });
}

async function append(dir: string, tail: LogTail | null, txns: readonly Txn[], batch = 7): Promise<void> {
  const writer = await LogWriter.open(NODE_LOG_FS, { dir, segment_bytes: SEGMENT_BYTES, fsync: true, now_ms: () => 1_700_000_000_000 }, tail);
  for (let i = 0; i < txns.length; i += batch) {
    const w = new JuteWriter(4096);
    const part = txns.slice(i, i + batch);
    for (const t of part) appendRecord(w, t);
    await writer.append(w.view_bytes(), 0, w.length, part[0].header.zxid);
  }
  await writer.close();
}

/** Every file in dir with a hash of its bytes: "nothing changed on disk" is equality of two of these. */
function dirState(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  return out;
}

/** 1-based index in `txns` of the txn at `zxid`. */
function indexOf(txns: readonly Txn[], zxid: number): number {
  const i = txns.findIndex((t) => t.header.zxid === zxid);
  expect(i).toBeGreaterThanOrEqual(0);
  return i + 1;
}

const numberings = [
  { name: 'standalone zxids 1, 2, 3...', number: standaloneNumbering },
  { name: 'Zab zxids: epochs 3, 4 and 7, above 2^32', number: zabNumbering },
];

describe.each(numberings)('truncateLogAfter, $name', ({ number }) => {
  const N = 120;
  async function logOf(seed: number): Promise<{ dir: string; raw: Txn[]; A: Txn[] }> {
    const raw = history(seed, N);
    const A = renumber(raw, number);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    expect(listDataDir(dir).segments.length).toBeGreaterThanOrEqual(4);
    return { dir, raw, A };
  }

  it('inside the last segment: recovery ends at the cut, and another history appended after it is what recovers', async () => {
    const { dir, raw, A } = await logOf(1);
    const segs = listDataDir(dir).segments;
    const last = segs[segs.length - 1];
    const first_in_last = indexOf(A, last.zxid);
    expect(first_in_last).toBeLessThan(N - 2);
    const keep = first_in_last + Math.floor((N - first_in_last) / 2);
    const z = A[keep - 1].header.zxid;

    const done = await truncateLogAfter(NODE_LOG_FS, dir, z, { fsync: true });
    expect(done.removed).toEqual([]);
    expect(done.shortened?.path).toBe(last.path);
    const r = rec(dir);
    expect(r.last_zxid).toBe(z);
    expect(r.tree.digest()).toBe(treeOf(A.slice(0, keep)).digest());
    expect(r.tail?.path).toBe(last.path);
    expect(r.truncate).toBeNull();

    // The new leader's history has other txns under the same zxids: none of the old bytes may survive.
    const B = renumber(fork(raw, keep, 40), number);
    await append(dir, r.tail, B.slice(keep));
    const r2 = rec(dir);
    expect(r2.last_zxid).toBe(B[B.length - 1].header.zxid);
    expect(r2.tree.digest()).toBe(treeOf(B).digest());
    expect(r2.tree.get('/fork-39')).toBeDefined();
    expect(r2.warnings).toEqual([]);
  });

  it('in an earlier segment: the later segments are removed, appending continues in that segment and rolls again', async () => {
    const { dir, raw, A } = await logOf(2);
    const segs = listDataDir(dir).segments;
    const keep = indexOf(A, segs[1].zxid) + 1;
    const z = A[keep - 1].header.zxid;

    const done = await truncateLogAfter(NODE_LOG_FS, dir, z, { fsync: true });
    expect(done.removed).toEqual(segs.slice(2).map((s) => s.path).reverse());
    expect(done.shortened?.path).toBe(segs[1].path);
    expect(listDataDir(dir).segments.map((s) => s.name)).toEqual(segs.slice(0, 2).map((s) => s.name));
    const r = rec(dir);
    expect(r.last_zxid).toBe(z);
    expect(r.tree.digest()).toBe(treeOf(A.slice(0, keep)).digest());

    const B = renumber(fork(raw, keep, 90), number);
    await append(dir, r.tail, B.slice(keep));
    expect(listDataDir(dir).segments.length).toBeGreaterThan(3);
    const r2 = rec(dir);
    expect(r2.last_zxid).toBe(B[B.length - 1].header.zxid);
    expect(r2.tree.digest()).toBe(treeOf(B).digest());
  });

  it('at a segment boundary: that segment goes whole, the previous one is left as it was', async () => {
    const { dir, raw, A } = await logOf(3);
    const segs = listDataDir(dir).segments;
    const keep = indexOf(A, segs[2].zxid) - 1;
    const z = A[keep - 1].header.zxid;
    const before = readFileSync(segs[1].path);

    const done = await truncateLogAfter(NODE_LOG_FS, dir, z, { fsync: true });
    expect(done.removed).toEqual(segs.slice(2).map((s) => s.path).reverse());
    expect(done.shortened).toBeNull();
    expect(readFileSync(segs[1].path).equals(before)).toBe(true);
    const r = rec(dir);
    expect(r.last_zxid).toBe(z);
    expect(r.tail?.path).toBe(segs[1].path);

    const B = renumber(fork(raw, keep, 30), number);
    await append(dir, r.tail, B.slice(keep));
    expect(rec(dir).tree.digest()).toBe(treeOf(B).digest());
  });

  it('to the newest snapshot: the snapshot stays, every txn after it goes', async () => {
    const { dir, raw, A } = await logOf(4);
    writeSnapshotAfter(dir, A, 50);
    const z = A[49].header.zxid;

    await truncateLogAfter(NODE_LOG_FS, dir, z, { fsync: true });
    const r = rec(dir);
    expect(r.snapshot?.zxid).toBe(z);
    expect(r.replayed).toBe(0);
    expect(r.last_zxid).toBe(z);

    const B = renumber(fork(raw, 50, 20), number);
    await append(dir, r.tail, B.slice(50));
    const r2 = rec(dir);
    expect(r2.replayed).toBe(20);
    expect(r2.tree.digest()).toBe(treeOf(B).digest());
  });

  it('below the newest snapshot is refused, naming both zxids, and nothing changes on disk', async () => {
    const { dir, A } = await logOf(5);
    writeSnapshotAfter(dir, A, 50);
    const z = A[48].header.zxid;
    const before = dirState(dir);
    await expect(truncateLogAfter(NODE_LOG_FS, dir, z, { fsync: true })).rejects.toThrow(
      new RegExp(`${hex(z)}.*snapshot.*${hex(A[49].header.zxid)}`),
    );
    expect(dirState(dir)).toEqual(before);
  });

  it('with snapshots in dataDir and the log in dataLogDir, the snapshot is found through snapshot_dir', async () => {
    const raw = history(6, N);
    const A = renumber(raw, number);
    const data = tempDir();
    const logs = tempDir();
    await writeLog(logs, A, SEGMENT_BYTES);
    writeSnapshotAfter(data, A, 50);
    await expect(truncateLogAfter(NODE_LOG_FS, logs, A[10].header.zxid, { fsync: true, snapshot_dir: data })).rejects.toThrow(/snapshot/);
    await truncateLogAfter(NODE_LOG_FS, logs, A[59].header.zxid, { fsync: true, snapshot_dir: data });
    const r = recover({ dir: data, log_dir: logs, track_sessions: false, warn: () => {} });
    expect(r.last_zxid).toBe(A[59].header.zxid);
    expect(r.replayed).toBe(10);
  });

  it('at or after the last txn changes nothing', async () => {
    const { dir, A } = await logOf(7);
    const before = dirState(dir);
    const done = await truncateLogAfter(NODE_LOG_FS, dir, A[N - 1].header.zxid, { fsync: true });
    expect(done).toEqual({ removed: [], shortened: null });
    await truncateLogAfter(NODE_LOG_FS, dir, A[N - 1].header.zxid + 5, { fsync: true });
    expect(dirState(dir)).toEqual(before);
    expect(rec(dir).last_zxid).toBe(A[N - 1].header.zxid);
  });

  it('to zxid 0 without a snapshot empties the log; the history is then written again from its first txn', async () => {
    const { dir, A } = await logOf(8);
    const done = await truncateLogAfter(NODE_LOG_FS, dir, 0, { fsync: true });
    expect(done.removed.length).toBeGreaterThanOrEqual(4);
    expect(listDataDir(dir).segments).toEqual([]);
    const r = rec(dir);
    expect(r.last_zxid).toBe(0);
    expect(r.tail).toBeNull();
    await append(dir, null, A);
    expect(listDataDir(dir).segments[0].name).toBe(segmentName(A[0].header.zxid));
    expect(rec(dir).tree.digest()).toBe(treeOf(A).digest());
  });

  it('a torn batch right after the cut point is cut with it (recovery then has nothing to repair)', async () => {
    const { dir, A } = await logOf(9);
    const segs = listDataDir(dir).segments;
    const last = segs[segs.length - 1];
    const clean = rec(dir);
    const end = clean.tail!.end_offset;
    const old = readFileSync(last.path);
    const bytes = Buffer.alloc(Math.max(old.length, end + 100)); // the torn batch may run past a full segment
    old.copy(bytes);
    bytes.fill(0xab, end, end + 100); // a torn write of a batch that was never acknowledged
    writeFileSync(last.path, bytes);
    expect(rec(dir).truncate).not.toBeNull();

    const done = await truncateLogAfter(NODE_LOG_FS, dir, A[N - 1].header.zxid, { fsync: true });
    expect(done.shortened).toEqual({ path: last.path, length: end });
    const r = rec(dir);
    expect(r.truncate).toBeNull();
    expect(r.warnings).toEqual([]);
    expect(r.last_zxid).toBe(A[N - 1].header.zxid);
  });

  it('a damaged record before the cut point, with later segments, is refused: nothing changes on disk', async () => {
    const { dir, A } = await logOf(10);
    const segs = listDataDir(dir).segments;
    const bytes = readFileSync(segs[1].path);
    bytes[SEGMENT_HEADER_BYTES + 30] ^= 0xff; // inside the segment's first record
    writeFileSync(segs[1].path, bytes);
    const z = A[indexOf(A, segs[2].zxid) - 3].header.zxid;
    const before = dirState(dir);
    await expect(truncateLogAfter(NODE_LOG_FS, dir, z, { fsync: true })).rejects.toThrow(/damaged.*refusing to drop acknowledged txns/);
    expect(dirState(dir)).toEqual(before);
  });

  it('a crash after the later segments are gone but before the cut leaves a log that recovers (a prefix of the old one)', async () => {
    const { dir, A } = await logOf(11);
    const segs = listDataDir(dir).segments;
    const keep = indexOf(A, segs[1].zxid) + 1;
    const { fs, calls } = faultyFs((method) => method === 'ftruncate');
    await expect(truncateLogAfter(fs, dir, A[keep - 1].header.zxid, { fsync: true })).rejects.toThrow(/injected crash/);
    // Unlinks newest first, then the directory sync, and only then the cut.
    expect(calls.filter((c) => c === 'unlink').length).toBe(segs.length - 2);
    expect(calls.indexOf('fsyncDir')).toBeGreaterThan(calls.lastIndexOf('unlink'));
    expect(calls.indexOf('ftruncate')).toBeGreaterThan(calls.indexOf('fsyncDir'));
    const r = rec(dir);
    const whole = indexOf(A, segs[2].zxid) - 1; // segment 1 still whole
    expect(r.last_zxid).toBe(A[whole - 1].header.zxid);
    expect(r.tree.digest()).toBe(treeOf(A.slice(0, whole)).digest());
    // Zab asks again after the restart: the retry finishes the job.
    await truncateLogAfter(NODE_LOG_FS, dir, A[keep - 1].header.zxid, { fsync: true });
    expect(rec(dir).last_zxid).toBe(A[keep - 1].header.zxid);
  });
});

describe.each(numberings)('installSnapshot, $name', ({ number }) => {
  /**
   * This replica: its own history A (120 txns; snapshots after 30 and after 100), the leader's
   * history L (the same first 20 txns, then others), and the leader's snapshot after L's 70th txn.
   */
  async function setup(seed: number) {
    const raw = history(seed, 120);
    const A = renumber(raw, number);
    const L = renumber(fork(raw, 20, 80), number);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    writeSnapshotAfter(dir, A, 30);
    writeSnapshotAfter(dir, A, 100);
    const leader = tempDir();
    const snapshot = readSnapshotFile(writeSnapshotAfter(leader, L, 70));
    return { dir, A, L, Lz: L[69].header.zxid, snapshot };
  }

  it("replaces this replica's state by the leader's; the log restarts right after it", async () => {
    const { dir, A, L, Lz, snapshot } = await setup(21);
    const info = await installSnapshot(NODE_LOG_FS, dir, dir, Lz, snapshot, { fsync: true });
    expect(info.zxid).toBe(Lz);

    const listing = listDataDir(dir);
    expect(listing.snapshots.map((s) => s.zxid)).toEqual([A[29].header.zxid, Lz]); // the newer one (after 100) is gone
    expect(listing.segments).toEqual([]);
    expect(listing.has_spare).toBe(false);
    expect(listing.tmp_snapshots).toEqual([]);

    const r = rec(dir);
    expect(r.snapshot?.zxid).toBe(Lz);
    expect(r.last_zxid).toBe(Lz);
    expect(r.replayed).toBe(0);
    expect(r.tail).toBeNull();
    expect(r.tree.digest()).toBe(treeOf(L.slice(0, 70)).digest());
    expect([...r.sessions.keys()].sort()).toEqual([...sessionsAfter(L, 70).keys()].sort());

    await append(dir, r.tail, L.slice(70));
    expect(listDataDir(dir).segments[0].name).toBe(segmentName(L[70].header.zxid));
    const r2 = rec(dir);
    expect(r2.last_zxid).toBe(L[L.length - 1].header.zxid);
    expect(r2.tree.digest()).toBe(treeOf(L).digest());
    expect(r2.warnings).toEqual([]);
  });

  it('with the log in a separate dataLogDir', async () => {
    const raw = history(22, 120);
    const A = renumber(raw, number);
    const L = renumber(fork(raw, 20, 80), number);
    const data = tempDir();
    const logs = tempDir();
    await writeLog(logs, A, SEGMENT_BYTES);
    const snapshot = readSnapshotFile(writeSnapshotAfter(tempDir(), L, 70));
    await installSnapshot(NODE_LOG_FS, data, logs, L[69].header.zxid, snapshot, { fsync: true });
    expect(readdirSync(logs)).toEqual([]);
    const r = recover({ dir: data, log_dir: logs, track_sessions: false, warn: () => {} });
    expect(r.tree.digest()).toBe(treeOf(L.slice(0, 70)).digest());
  });

  it('a damaged snapshot is refused before anything changes on disk', async () => {
    const { dir, Lz, snapshot } = await setup(23);
    const bad = snapshot.slice();
    bad[Math.floor(bad.length / 2)] ^= 0x01;
    const before = dirState(dir);
    await expect(installSnapshot(NODE_LOG_FS, dir, dir, Lz, bad, { fsync: true })).rejects.toThrow(
      new RegExp(`snapshot received for zxid ${hex(Lz)}.*not valid.*checksum`),
    );
    await expect(installSnapshot(NODE_LOG_FS, dir, dir, Lz, snapshot.subarray(0, snapshot.length - 3), { fsync: true })).rejects.toThrow(/not valid/);
    expect(dirState(dir)).toEqual(before);
  });

  it('a snapshot whose header holds another zxid is refused before anything changes on disk', async () => {
    const { dir, Lz, snapshot } = await setup(24);
    const before = dirState(dir);
    await expect(installSnapshot(NODE_LOG_FS, dir, dir, Lz + 1, snapshot, { fsync: true })).rejects.toThrow(
      new RegExp(`for zxid ${hex(Lz + 1)} holds zxid ${hex(Lz)}`),
    );
    expect(dirState(dir)).toEqual(before);
  });

  it('a crash before the snapshot is in place: the .tmp is ignored, no old txn after its zxid survives, a retry completes', async () => {
    const { dir, A, L, Lz, snapshot } = await setup(25);
    const { fs } = faultyFs((method) => method === 'rename');
    await expect(installSnapshot(fs, dir, dir, Lz, snapshot, { fsync: true })).rejects.toThrow(/injected crash/);
    expect(listDataDir(dir).tmp_snapshots.length).toBe(1);
    const r = rec(dir);
    // This replica's own history, cut after Lz (the snapshot after 100 went, the one after 30 stays).
    expect(r.snapshot?.zxid).toBe(A[29].header.zxid);
    expect(r.last_zxid).toBe(Lz);
    expect(r.tree.digest()).toBe(treeOf(A.slice(0, indexOf(A, Lz))).digest());

    await installSnapshot(NODE_LOG_FS, dir, dir, Lz, snapshot, { fsync: true });
    expect(listDataDir(dir).tmp_snapshots).toEqual([]);
    expect(rec(dir).tree.digest()).toBe(treeOf(L.slice(0, 70)).digest());
  });

  it("a crash after the snapshot is in place but before the old log is gone recovers exactly the leader's state", async () => {
    const { dir, L, Lz, snapshot } = await setup(26);
    const { fs } = faultyFs((method, before) => method === 'unlink' && before.includes('rename'));
    await expect(installSnapshot(fs, dir, dir, Lz, snapshot, { fsync: true })).rejects.toThrow(/injected crash/);
    expect(listDataDir(dir).segments.length).toBeGreaterThan(0);
    const r = rec(dir);
    expect(r.snapshot?.zxid).toBe(Lz);
    expect(r.last_zxid).toBe(Lz);
    expect(r.replayed).toBe(0);
    expect(r.tree.digest()).toBe(treeOf(L.slice(0, 70)).digest());
    // Appending from this recovery works too (after the old txns <= Lz, which recovery skips).
    await append(dir, r.tail, L.slice(70));
    expect(rec(dir).tree.digest()).toBe(treeOf(L).digest());
  });
});

describe('segment records across Zab epochs', () => {
  it('damage just before an epoch change, with valid records of the later epoch after it, stops the start (not a torn tail)', async () => {
    // One segment: epoch 5 counters 1..30, then epoch 9 counters 1..30.
    const raw = history(31, 60);
    const A = renumber(raw, (i) => (i <= 30 ? 5 * 2 ** 32 + i : 9 * 2 ** 32 + (i - 30)));
    const dir = tempDir();
    await writeLog(dir, A, 1 << 20, 60);
    const seg = listDataDir(dir).segments[0];
    expect(rec(dir).last_zxid).toBe(9 * 2 ** 32 + 30);

    const bytes = readFileSync(seg.path);
    const offsets = new Map<number, number>();
    scanSegment(memorySegment(bytes), A[0].header.zxid, (_p, zxid, payload_offset) => offsets.set(zxid, payload_offset));
    bytes[offsets.get(5 * 2 ** 32 + 30)! + 3] ^= 0xff; // the last txn of epoch 5
    writeFileSync(seg.path, bytes);
    expect(() => rec(dir)).toThrow(/corrupt record.*a valid record follows/);
  });

  it('a txn missing inside an epoch, or a later epoch not starting at counter 1, is a gap', async () => {
    const raw = history(32, 40);
    for (const zxidOf of [(i: number) => (i <= 20 ? i : i + 1), (i: number) => (i <= 20 ? i : 2 ** 32 + i - 19)]) {
      const dir = tempDir();
      // Two segments, the second starting where the numbering jumps.
      const A = renumber(raw, zxidOf);
      await writeLog(dir, A.slice(0, 20), SEGMENT_BYTES, 20);
      const tail = rec(dir).tail;
      await append(dir, null, A.slice(20));
      expect(tail).not.toBeNull();
      expect(() => rec(dir)).toThrow(/the log is missing txns/);
    }
  });
});
