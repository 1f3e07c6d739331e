// Recovery from damaged data directories (issue 3's corruption tests): truncated tail, flipped
// bits in the tail, flipped bits in the middle, missing snapshot, snapshot newer than the log,
// damaged snapshot, missing log segment. Every acknowledged txn comes back or the start stops
// with a clear error; nothing is invented.

import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listDataDir } from '../../src/log/data_dir.js';
import { NODE_LOG_FS } from '../../src/log/log_fs.js';
import { LogWriter } from '../../src/log/log_writer.js';
import { recover, RecoveryError, type Recovered } from '../../src/recovery/recovery.js';
import { appendRecord, SEGMENT_HEADER_BYTES, ZERO_RUN_BYTES_DEFAULT } from '../../src/log/segment_format.js';
import { NODE_SEGMENT_READ_FS, SEGMENT_READ_CHUNK_BYTES, type SegmentReadFs } from '../../src/log/segment_file.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import type { Txn } from '../../src/tree/txn.js';
import { sessionsAfter, treeAfter, writeLog, writeSnapshotAfter } from './datadir.js';
import { Workload } from './workload.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Fixture {
  dir: string;
  txns: readonly Txn[];
  w: Workload;
}

/** 300+ txns in 8 KiB segments, snapshots after 100 and 200 txns. */
async function fixture(seed = 21, snapshots: number[] = [100, 200]): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'waitfree-recovery-'));
  dirs.push(dir);
  const w = new Workload(seed);
  w.run(300);
  await writeLog(dir, w.txns, 8192, 7);
  for (const n of snapshots) writeSnapshotAfter(dir, w.txns, n);
  return { dir, txns: w.txns, w };
}

function run(dir: string, read_fs?: SegmentReadFs): { state: Recovered; warnings: string[] } {
  const warnings: string[] = [];
  const state = recover({ dir, track_sessions: true, warn: (m) => warnings.push(m), read_fs });
  return { state, warnings };
}

/** node:fs for segment reads, counting the bytes read. */
function countingReadFs(): SegmentReadFs & { bytes_read: number } {
  const fs = {
    ...NODE_SEGMENT_READ_FS,
    bytes_read: 0,
    read(fd: number, into: Uint8Array, offset: number, length: number, position: number): number {
      const n = NODE_SEGMENT_READ_FS.read(fd, into, offset, length, position);
      fs.bytes_read += n;
      return n;
    },
  };
  return fs;
}

const SEGMENT_64_MIB = 64 << 20;
/** What reading a few records and the zero run after them may cost: the run plus one read chunk each side. */
const FEW_RECORDS_READ_BYTES_MAX = ZERO_RUN_BYTES_DEFAULT + 2 * SEGMENT_READ_CHUNK_BYTES;

/** A few txns (a session, some writes) in one preallocated 64 MiB segment, as a fresh replica leaves it. */
async function fewTxnsIn64MiB(seed: number): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'waitfree-recovery-'));
  dirs.push(dir);
  const w = new Workload(seed);
  w.run(4);
  await writeLog(dir, w.txns, SEGMENT_64_MIB, 2);
  return { dir, txns: w.txns, w };
}

function expectState(state: Recovered, txns: readonly Txn[], count: number): void {
  expect(state.last_zxid).toBe(txns[count - 1].header.zxid);
  expect(state.tree.digest()).toBe(treeAfter(txns, count).digest());
  expect(state.sessions).toEqual(sessionsAfter(txns, count));
}

function lastSegment(dir: string): string {
  const segs = listDataDir(dir).segments;
  return segs[segs.length - 1].path;
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] ^= 0x20;
  writeFileSync(path, bytes);
}

/** Appends txns with a writer opened the way the commit worker opens it after recovery. */
async function appendAfter(dir: string, state: Recovered, txns: readonly Txn[]): Promise<void> {
  const writer = await LogWriter.open(NODE_LOG_FS, { dir, segment_bytes: 8192, fsync: false, now_ms: Date.now }, state.tail);
  const w = new JuteWriter(4096);
  for (const t of txns) appendRecord(w, t);
  await writer.append(w.view_bytes(), 0, w.length, txns[0].header.zxid);
  await writer.close();
}

describe('recovery', () => {
  it('newest snapshot + the log after it gives the exact state (tree and sessions)', async () => {
    const f = await fixture();
    const { state, warnings } = run(f.dir);
    expectState(state, f.txns, f.txns.length);
    expect(state.snapshot?.zxid).toBe(200);
    expect(state.replayed).toBe(f.txns.length - 200);
    expect(state.truncate).toBeNull();
    expect(warnings).toEqual([]);
  });

  it('truncated tail: the torn last record is cut (logged with its offset) and appending goes on', async () => {
    const f = await fixture();
    const end = run(f.dir).state.tail!.end_offset;
    const seg = lastSegment(f.dir);
    truncateSync(seg, end - 5);
    const { state, warnings } = run(f.dir);
    expectState(state, f.txns, f.txns.length - 1);
    expect(state.truncate?.path).toBe(seg);
    expect(warnings.join('\n')).toMatch(new RegExp(`torn tail at offset ${state.truncate!.offset}`));
    await appendAfter(f.dir, state, f.txns.slice(-1));
    const again = run(f.dir);
    expectState(again.state, f.txns, f.txns.length);
    expect(again.state.truncate).toBeNull();
  });

  it('flipped bits in the tail: the damaged last record is dropped, never half-applied', async () => {
    const f = await fixture();
    const end = run(f.dir).state.tail!.end_offset;
    flipByte(lastSegment(f.dir), end - 3);
    const { state } = run(f.dir);
    expectState(state, f.txns, f.txns.length - 1);
    expect(state.truncate?.reason).toBe('checksum mismatch');
    // The writer cuts the garbage before appending: the next start finds a clean log.
    await appendAfter(f.dir, state, f.txns.slice(-1));
    expectState(run(f.dir).state, f.txns, f.txns.length);
  });

  it('flipped bits in the middle of the log stop the start with the file and offset', async () => {
    const f = await fixture();
    const segs = listDataDir(f.dir).segments;
    // A segment holding txns after the newest snapshot (so it is needed), not the last one.
    const victim = segs.find((s, i) => i < segs.length - 1 && segs[i + 1].zxid > 201)!;
    expect(victim).toBeDefined();
    flipByte(victim.path, SEGMENT_HEADER_BYTES + 40);
    expect(() => run(f.dir)).toThrow(RecoveryError);
    expect(() => run(f.dir)).toThrow(new RegExp(`corrupt record in ${victim.path} at offset ${SEGMENT_HEADER_BYTES}`));
  });

  it('flipped bits in the middle of the last segment, with valid records after them, stop the start too', async () => {
    const f = await fixture();
    flipByte(lastSegment(f.dir), SEGMENT_HEADER_BYTES + 20);
    expect(() => run(f.dir)).toThrow(/a valid record follows at offset \d+/);
  });

  it('missing snapshot: the next older one and a longer replay give the same state', async () => {
    const f = await fixture();
    unlinkSync(join(f.dir, 'snapshot.00000000000000c8'));
    const { state } = run(f.dir);
    expect(state.snapshot?.zxid).toBe(100);
    expectState(state, f.txns, f.txns.length);
    for (const s of listDataDir(f.dir).snapshots) unlinkSync(s.path);
    const none = run(f.dir).state;
    expect(none.snapshot).toBeNull();
    expectState(none, f.txns, f.txns.length);
  });

  it('a damaged newest snapshot is skipped with a warning', async () => {
    const f = await fixture();
    const newest = join(f.dir, 'snapshot.00000000000000c8');
    flipByte(newest, 100);
    const { state, warnings } = run(f.dir);
    expect(state.snapshot?.zxid).toBe(100);
    expectState(state, f.txns, f.txns.length);
    expect(warnings[0]).toMatch(/snapshot .*snapshot\.00000000000000c8 is unusable \(checksum mismatch\)/);
  });

  it('snapshot newer than the log: starts from the snapshot, and new txns go to a new segment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitfree-recovery-'));
    dirs.push(dir);
    const w = new Workload(22);
    w.run(200);
    const n = w.txns.length;
    await writeLog(dir, w.txns.slice(0, n - 30), 8192, 7);
    writeSnapshotAfter(dir, w.txns, n);
    const { state, warnings } = run(dir);
    expectState(state, w.txns, n);
    expect(state.tail).toBeNull();
    expect(warnings.join('\n')).toMatch(/newer than the log/);
    w.run(25);
    await appendAfter(dir, state, w.txns.slice(n));
    expect(listDataDir(dir).segments.at(-1)?.zxid).toBe(n + 1);
    expectState(run(dir).state, w.txns, w.txns.length);
  });

  it('a missing log segment is a gap: the start stops instead of skipping txns', async () => {
    const f = await fixture(23, [100]);
    const segs = listDataDir(f.dir).segments;
    const victim = segs.find((s) => s.zxid > 150)!;
    unlinkSync(victim.path);
    expect(() => run(f.dir)).toThrow(/the log is missing txns/);
  });

  it('without a usable snapshot, a log that no longer starts at zxid 1 cannot be recovered', async () => {
    const f = await fixture(24, [100]);
    unlinkSync(listDataDir(f.dir).segments[0].path);
    unlinkSync(join(f.dir, 'snapshot.0000000000000064'));
    expect(() => run(f.dir)).toThrow(/the log is missing txns 0x1\.\./);
  });

  it('a 64 MiB preallocated segment holding a few txns is recovered by reading a few MiB of it, not all 64', async () => {
    const f = await fewTxnsIn64MiB(25);
    expect(statSync(lastSegment(f.dir)).size).toBe(SEGMENT_64_MIB);
    const fs = countingReadFs();
    const { state, warnings } = run(f.dir, fs);
    expectState(state, f.txns, f.txns.length);
    expect(warnings).toEqual([]);
    expect(state.truncate).toBeNull();
    expect(fs.bytes_read).toBeGreaterThan(0);
    expect(fs.bytes_read).toBe(state.log_bytes_read);
    expect(fs.bytes_read).toBeLessThanOrEqual(FEW_RECORDS_READ_BYTES_MAX);
  });

  it('a torn tail in a 64 MiB segment is found and cut without reading the rest of the file, and appending goes on', async () => {
    const f = await fewTxnsIn64MiB(26);
    const end = run(f.dir).state.tail!.end_offset;
    flipByte(lastSegment(f.dir), end - 3);
    const fs = countingReadFs();
    const { state, warnings } = run(f.dir, fs);
    expectState(state, f.txns, f.txns.length - 1);
    expect(state.truncate?.reason).toBe('checksum mismatch');
    expect(warnings.join('\n')).toMatch(/torn tail at offset \d+/);
    expect(fs.bytes_read).toBeGreaterThan(0);
    expect(fs.bytes_read).toBeLessThanOrEqual(FEW_RECORDS_READ_BYTES_MAX);
    await appendAfter(f.dir, state, f.txns.slice(-1));
    const again = run(f.dir);
    expectState(again.state, f.txns, f.txns.length);
    expect(again.state.truncate).toBeNull();
  });

  it('a zeroed stretch of records in the middle of a 64 MiB segment, valid records after it, still stops the start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitfree-recovery-'));
    dirs.push(dir);
    const w = new Workload(27);
    w.run(60);
    await writeLog(dir, w.txns, SEGMENT_64_MIB, 7);
    const seg = lastSegment(dir);
    // Zero 1 KiB from the first record on: its header too, so the scan sees a zero record header.
    const bytes = readFileSync(seg);
    bytes.fill(0, SEGMENT_HEADER_BYTES, SEGMENT_HEADER_BYTES + 1024);
    writeFileSync(seg, bytes);
    expect(() => run(dir)).toThrow(new RegExp(`corrupt record in ${seg} at offset ${SEGMENT_HEADER_BYTES} \\(zero record header with non-zero bytes after it; a valid record follows`));
  });
});
