// The log writer against a real directory (rolls, preallocation, reopening at the tail) and
// against a file system that fails (ENOSPC / EIO at a chosen call).

import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listDataDir } from '../../src/log/data_dir.js';
import { FsyncDelay, NODE_LOG_FS, type LogFs } from '../../src/log/log_fs.js';
import { LogWriter } from '../../src/log/log_writer.js';
import { recover } from '../../src/recovery/recovery.js';
import { appendRecord, decodeSegmentHeader } from '../../src/log/segment_format.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import type { Txn } from '../../src/tree/txn.js';
import { treeAfter, writeLog } from '../durability/datadir.js';
import { Workload } from '../durability/workload.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'waitfree-log-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function batchOf(txns: readonly Txn[]): JuteWriter {
  const w = new JuteWriter(4096);
  for (const t of txns) appendRecord(w, t);
  return w;
}

const quiet = { warn: () => {} };

describe('log writer', () => {
  it('rolls preallocated segments and recovery reads every txn back', async () => {
    const dir = tempDir();
    const w = new Workload(1);
    w.run(400);
    await writeLog(dir, w.txns, 8192, 9);
    const listing = listDataDir(dir);
    expect(listing.segments.length).toBeGreaterThan(3);
    for (const s of listing.segments) {
      expect(statSync(s.path).size).toBeGreaterThanOrEqual(8192); // preallocated
      expect(decodeSegmentHeader(readFileSync(s.path))).toMatchObject({ ok: true, first_zxid: s.zxid });
    }
    const state = recover({ dir, track_sessions: true, ...quiet });
    expect(state.last_zxid).toBe(w.txns.length);
    expect(state.tree.digest()).toBe(w.tree.digest());
    expect(state.tail?.path).toBe(listing.segments[listing.segments.length - 1].path);
  });

  it('reopens at the recovered tail and keeps appending to the same segment', async () => {
    const dir = tempDir();
    const w = new Workload(2);
    w.run(60);
    await writeLog(dir, w.txns.slice(0, 30), 1 << 20);
    const first = recover({ dir, track_sessions: true, ...quiet });
    const writer = await LogWriter.open(NODE_LOG_FS, { dir, segment_bytes: 1 << 20, fsync: true, now_ms: Date.now }, first.tail);
    const rest = w.txns.slice(30);
    const b = batchOf(rest);
    await writer.append(b.view_bytes(), 0, b.length, rest[0].header.zxid);
    await writer.close();
    expect(listDataDir(dir).segments).toHaveLength(1);
    const again = recover({ dir, track_sessions: true, ...quiet });
    expect(again.last_zxid).toBe(w.txns.length);
    expect(again.tree.digest()).toBe(treeAfter(w.txns, w.txns.length).digest());
  });

  it('a torn tail in a full preallocated segment is zeroed in place: no cut, no refill of the segment', async () => {
    const dir = tempDir();
    const segment_bytes = 8 << 20;
    const w = new Workload(6);
    w.run(40);
    const n = w.txns.length;
    await writeLog(dir, w.txns.slice(0, n - 1), segment_bytes, 5);
    const seg = listDataDir(dir).segments[0].path;
    const end = recover({ dir, track_sessions: true, ...quiet }).tail!.end_offset;
    // The last record is damaged and a later page of its (unacknowledged) batch landed too.
    const bytes = readFileSync(seg);
    bytes[end - 3] ^= 0x10;
    bytes.fill(0x5a, end + 4000, end + 4100);
    writeFileSync(seg, bytes);
    const torn = recover({ dir, track_sessions: true, ...quiet });
    expect(torn.tail).toMatchObject({ torn: true, dirty_end: end + 4100 });
    // Count what the writer does to the segment file itself (the spare is prepared alongside).
    const seg_fds = new Set<number>();
    let seg_bytes_written = 0;
    let truncates = 0;
    const counting: LogFs = {
      ...NODE_LOG_FS,
      open: async (path, flags, mode) => {
        const fd = await NODE_LOG_FS.open(path, flags, mode);
        if (path === seg) seg_fds.add(fd);
        return fd;
      },
      write: async (fd, b, start, stop, position) => {
        if (seg_fds.has(fd)) seg_bytes_written += stop - start;
        return NODE_LOG_FS.write(fd, b, start, stop, position);
      },
      ftruncate: async (fd, length) => {
        truncates++;
        return NODE_LOG_FS.ftruncate(fd, length);
      },
    };
    const writer = await LogWriter.open(counting, { dir, segment_bytes, fsync: false, now_ms: Date.now }, torn.tail);
    expect(truncates).toBe(0);
    expect(seg_bytes_written).toBe(end + 4100 - torn.tail!.end_offset);
    const last = w.txns.slice(n - 2);
    const b = batchOf(last);
    await writer.append(b.view_bytes(), 0, b.length, last[0].header.zxid);
    await writer.close();
    expect(statSync(seg).size).toBe(segment_bytes);
    const again = recover({ dir, track_sessions: true, ...quiet });
    expect(again.truncate).toBeNull();
    expect(again.last_zxid).toBe(n);
    expect(again.tree.digest()).toBe(w.tree.digest());
  });

  it('a failed fdatasync rejects that append and every later one (nothing is acknowledged after a fault)', async () => {
    const dir = tempDir();
    let fail_syncs = false;
    const failing: LogFs = {
      ...NODE_LOG_FS,
      fdatasync: async (fd) => {
        if (fail_syncs) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        return NODE_LOG_FS.fdatasync(fd);
      },
    };
    const w = new Workload(3);
    w.run(20);
    const writer = await LogWriter.open(failing, { dir, segment_bytes: 1 << 16, fsync: true, now_ms: Date.now }, null);
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i += 5) {
      const part = w.txns.slice(i, i + 5);
      const b = batchOf(part);
      await writer.append(b.view_bytes(), 0, b.length, part[0].header.zxid).then(
        () => outcomes.push('ok'),
        (e: NodeJS.ErrnoException) => outcomes.push(e.code ?? 'error'),
      );
      fail_syncs = true; // the disk breaks after the first batch; it never comes back
      if (i === 10) fail_syncs = false; // even if it does, the writer stays failed
    }
    await writer.close();
    expect(outcomes).toEqual(['ok', 'EIO', 'EIO', 'EIO']);
    // What was acknowledged is there; the failed batches may or may not be (never acknowledged).
    const state = recover({ dir, track_sessions: true, ...quiet });
    expect(state.last_zxid).toBeGreaterThanOrEqual(5);
  });

  it('with O_DSYNC segments (syncMethod dsync) there is no fdatasync at all, and every txn comes back', async () => {
    const dir = tempDir();
    let syncs = 0;
    const counting: LogFs = {
      ...NODE_LOG_FS,
      fdatasync: async (fd) => {
        syncs++;
        return NODE_LOG_FS.fdatasync(fd);
      },
    };
    const w = new Workload(5);
    w.run(200);
    const writer = await LogWriter.open(counting, { dir, segment_bytes: 8192, fsync: true, sync_method: 'dsync', now_ms: Date.now }, null);
    for (let i = 0; i < w.txns.length; i += 9) {
      const part = w.txns.slice(i, i + 9);
      const b = batchOf(part);
      await writer.append(b.view_bytes(), 0, b.length, part[0].header.zxid);
    }
    await writer.close();
    expect(syncs).toBe(0);
    expect(listDataDir(dir).segments.length).toBeGreaterThan(1); // it rolled
    const state = recover({ dir, track_sessions: true, ...quiet });
    expect(state.last_zxid).toBe(w.txns.length);
    expect(state.tree.digest()).toBe(w.tree.digest());
    // ... while the fdatasync method syncs every batch.
    const dir2 = tempDir();
    const writer2 = await LogWriter.open(counting, { dir: dir2, segment_bytes: 1 << 20, fsync: true, sync_method: 'fdatasync', now_ms: Date.now }, null);
    const before = syncs;
    const b = batchOf(w.txns.slice(0, 5));
    await writer2.append(b.view_bytes(), 0, b.length, 1);
    await writer2.close();
    expect(syncs - before).toBeGreaterThanOrEqual(1);
  });

  it('with O_DSYNC, a failed write rejects that append and every later one', async () => {
    const dir = tempDir();
    let broken = false;
    const failing: LogFs = {
      ...NODE_LOG_FS,
      write: async (fd, bytes, start, end, position) => {
        if (broken) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        return NODE_LOG_FS.write(fd, bytes, start, end, position);
      },
    };
    const w = new Workload(6);
    w.run(10);
    const writer = await LogWriter.open(failing, { dir, segment_bytes: 1 << 16, fsync: true, sync_method: 'dsync', now_ms: Date.now }, null);
    const first = batchOf(w.txns.slice(0, 5));
    await writer.append(first.view_bytes(), 0, first.length, 1);
    broken = true;
    const second = batchOf(w.txns.slice(5));
    await expect(writer.append(second.view_bytes(), 0, second.length, 6)).rejects.toMatchObject({ code: 'EIO' });
    broken = false;
    await expect(writer.append(second.view_bytes(), 0, second.length, 6)).rejects.toMatchObject({ code: 'EIO' });
    await writer.close();
  });

  it('ENOSPC while preparing a segment fails the append that needs it', async () => {
    const dir = tempDir();
    const full: LogFs = {
      ...NODE_LOG_FS,
      write: async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    };
    const w = new Workload(4);
    w.run(5);
    const writer = await LogWriter.open(full, { dir, segment_bytes: 1 << 16, fsync: true, now_ms: Date.now }, null);
    const b = batchOf(w.txns);
    await expect(writer.append(b.view_bytes(), 0, b.length, 1)).rejects.toMatchObject({ code: 'ENOSPC' });
    await writer.close();
    expect(readdirSync(dir).filter((n) => n.startsWith('log.0'))).toEqual([]);
  });

  it('inline appends (on the calling thread) are durable records that recovery reads back; a roll falls back to append()', async () => {
    const dir = tempDir();
    const w = new Workload(7);
    w.run(120);
    const segment_bytes = 8192;
    const writer = await LogWriter.open(NODE_LOG_FS, { dir, segment_bytes, fsync: true, now_ms: Date.now }, null);
    let inline = 0;
    let async_appends = 0;
    for (let i = 0; i < w.txns.length; i += 4) {
      const part = w.txns.slice(i, i + 4);
      const b = batchOf(part);
      if (writer.appendInline(b.view_bytes(), 0, b.length)) inline++;
      else {
        await writer.append(b.view_bytes(), 0, b.length, part[0].header.zxid);
        async_appends++;
      }
    }
    await writer.close();
    // The first batch (no segment yet) and every roll go through append(); the rest inline.
    expect(async_appends).toBe(listDataDir(dir).segments.length);
    expect(inline).toBeGreaterThan(async_appends);
    const state = recover({ dir, track_sessions: true, ...quiet });
    expect(state.last_zxid).toBe(w.txns.length);
    expect(state.tree.digest()).toBe(w.tree.digest());
  });

  it('an inline append that fails breaks the writer: nothing later is acknowledged, inline or not', async () => {
    const dir = tempDir();
    let broken = false;
    const failing: LogFs = {
      ...NODE_LOG_FS,
      fdatasyncSync: (fd) => {
        if (broken) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        NODE_LOG_FS.fdatasyncSync!(fd);
      },
    };
    const w = new Workload(8);
    w.run(15);
    const writer = await LogWriter.open(failing, { dir, segment_bytes: 1 << 16, fsync: true, now_ms: Date.now }, null);
    const first = batchOf(w.txns.slice(0, 5));
    await writer.append(first.view_bytes(), 0, first.length, 1);
    const second = batchOf(w.txns.slice(5, 10));
    expect(writer.appendInline(second.view_bytes(), 0, second.length)).toBe(true);
    broken = true;
    const third = batchOf(w.txns.slice(10));
    expect(() => writer.appendInline(third.view_bytes(), 0, third.length)).toThrow(/EIO/);
    broken = false;
    expect(() => writer.appendInline(third.view_bytes(), 0, third.length)).toThrow(/EIO/);
    await expect(writer.append(third.view_bytes(), 0, third.length, 11)).rejects.toMatchObject({ code: 'EIO' });
    await writer.close();
    expect(recover({ dir, track_sessions: true, ...quiet }).last_zxid).toBeGreaterThanOrEqual(10);
  });

  it('a file system without synchronous calls, or a fault-injection delay, is never used inline', async () => {
    const dir = tempDir();
    const { writeSync: _w, fdatasyncSync: _s, ...async_only } = NODE_LOG_FS;
    const w = new Workload(9);
    w.run(10);
    const writer = await LogWriter.open(async_only, { dir, segment_bytes: 1 << 16, fsync: true, now_ms: Date.now }, null);
    const first = batchOf(w.txns.slice(0, 5));
    await writer.append(first.view_bytes(), 0, first.length, 1);
    const second = batchOf(w.txns.slice(5));
    expect(writer.appendInline(second.view_bytes(), 0, second.length)).toBe(false);
    await writer.close();
    const delayed_dir = tempDir();
    const fsync_delay = FsyncDelay.fromConfig(1_000, delayed_dir, () => {});
    const delayed = await LogWriter.open(NODE_LOG_FS, { dir: delayed_dir, segment_bytes: 1 << 16, fsync: true, fsync_delay, now_ms: Date.now }, null);
    await delayed.append(first.view_bytes(), 0, first.length, 1);
    expect(delayed.appendInline(second.view_bytes(), 0, second.length)).toBe(false);
    await delayed.close();
  });
});
