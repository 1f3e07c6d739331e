// recover() for Zab: stopping at a zxid (a read worker reloading the state the commit worker
// published), keeping the logged txns' bytes (Zab's log window), and logs and snapshots whose
// zxids are above 2^32 (epoch 3, counter 1...) or jump from one epoch to the next.

import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { listDataDir, newestSnapshot, segmentName, snapshotName } from '../../src/log/data_dir.js';
import { NODE_LOG_FS } from '../../src/log/log_fs.js';
import { LogWriter } from '../../src/log/log_writer.js';
import { appendRecord, memorySegment, RECORD_HEADER_BYTES, scanSegment } from '../../src/log/segment_format.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { recover, RecoveryError } from '../../src/recovery/recovery.js';
import { decodeTxn } from '../../src/tree/txn_codec.js';
import type { Txn } from '../../src/tree/txn.js';
import { writeLog, writeSnapshotAfter } from '../durability/datadir.js';
import { EPOCH3, history, removeTempDirs, renumber, shift, tempDir, treeOf, zabNumbering } from '../log/zab_fixtures.js';

afterEach(removeTempDirs);

const SEGMENT_BYTES = 2048;
const quiet = { track_sessions: true, warn: () => {} };

/** The bytes GroupCommit writes as a txn's record payload (and the commit stream carries). */
function payloadOf(txn: Txn): Uint8Array {
  const w = new JuteWriter(256);
  const start = appendRecord(w, txn) + RECORD_HEADER_BYTES;
  return w.view_bytes().slice(start, w.length);
}

describe('recover until_zxid', () => {
  it('stops after until_zxid, wherever it falls; tail and truncate only when the log ends there', async () => {
    const A = renumber(history(41, 120), zabNumbering);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    const full = recover({ dir, ...quiet });
    for (const n of [1, 35, 36, 57, 71, 119]) {
      const r = recover({ dir, ...quiet, until_zxid: A[n - 1].header.zxid });
      expect(r.last_zxid).toBe(A[n - 1].header.zxid);
      expect(r.replayed).toBe(n);
      expect(r.tree.digest()).toBe(treeOf(A.slice(0, n)).digest());
      expect(r.tail).toBeNull();
      expect(r.truncate).toBeNull();
    }
    const at_end = recover({ dir, ...quiet, until_zxid: A[119].header.zxid });
    expect(at_end.tail).toEqual(full.tail);
    // A zxid between two txns (here: between epochs) stops after the last txn before it.
    const between = recover({ dir, ...quiet, until_zxid: 5 * 2 ** 32 });
    expect(between.last_zxid).toBe(A[69].header.zxid);
  });

  it('reads no segment that starts after until_zxid', async () => {
    const A = shift(history(42, 120), EPOCH3);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    const segs = listDataDir(dir).segments;
    expect(segs.length).toBeGreaterThanOrEqual(4);
    const all = recover({ dir, ...quiet });
    const early = recover({ dir, ...quiet, until_zxid: segs[1].zxid });
    expect(early.log_bytes_read).toBeLessThan(all.log_bytes_read / 2);
  });

  it('uses the newest snapshot at or before until_zxid, not a newer one', async () => {
    const A = renumber(history(43, 120), zabNumbering);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    writeSnapshotAfter(dir, A, 30);
    writeSnapshotAfter(dir, A, 80);
    const r = recover({ dir, ...quiet, until_zxid: A[49].header.zxid });
    expect(r.snapshot?.zxid).toBe(A[29].header.zxid);
    expect(r.replayed).toBe(20);
    expect(r.tree.digest()).toBe(treeOf(A.slice(0, 50)).digest());
    expect(newestSnapshot(dir)?.zxid).toBe(A[79].header.zxid);
    expect(newestSnapshot(dir, A[49].header.zxid)?.zxid).toBe(A[29].header.zxid);
    expect(newestSnapshot(dir, A[28].header.zxid)).toBeNull();
  });

  it('damage after until_zxid does not stop a reader that stops before it', async () => {
    const A = shift(history(44, 120), EPOCH3);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    const segs = listDataDir(dir).segments;
    const bytes = readFileSync(segs[2].path);
    bytes[40] ^= 0xff; // the first record of the third segment: damage in the middle of the log
    writeFileSync(segs[2].path, bytes);
    expect(() => recover({ dir, ...quiet })).toThrow(RecoveryError);
    const r = recover({ dir, ...quiet, until_zxid: segs[2].zxid - 1 });
    expect(r.last_zxid).toBe(segs[2].zxid - 1);
    // Stopping inside the damaged segment before the damage is fine too, after it is not.
    expect(() => recover({ dir, ...quiet, until_zxid: segs[2].zxid })).toThrow(RecoveryError);
  });

  it('rejects an until_zxid that is not a zxid', () => {
    expect(() => recover({ dir: tempDir(), ...quiet, until_zxid: -1 })).toThrow(RangeError);
  });
});

describe('recover keep_entries', () => {
  it('keeps every replayed txn after the snapshot as its record payload bytes, each in a buffer of its own', async () => {
    const A = renumber(history(45, 120), zabNumbering);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    writeSnapshotAfter(dir, A, 40);
    const r = recover({ dir, ...quiet, keep_entries: true });
    const entries = r.entries!;
    expect(entries.map((e) => e.zxid)).toEqual(A.slice(40).map((t) => t.header.zxid));
    for (let i = 0; i < entries.length; i++) {
      const { bytes } = entries[i];
      expect(bytes).toEqual(payloadOf(A[40 + i]));
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength).toBe(bytes.length); // a copy: no read chunk is kept alive
      const back = decodeTxn(new JuteReader(bytes));
      expect(back.header.zxid).toBe(A[40 + i].header.zxid);
    }
    expect(recover({ dir, ...quiet }).entries).toBeUndefined();
    const until = recover({ dir, ...quiet, keep_entries: true, until_zxid: A[59].header.zxid });
    expect(until.entries!.map((e) => e.zxid)).toEqual(A.slice(40, 60).map((t) => t.header.zxid));
  });
});

describe('zxids above 2^32', () => {
  it('a log of (epoch 3, counter 1..N) rolls into segments named by 16 hex digits and recovers; so does a snapshot at such a zxid', async () => {
    const A = shift(history(46, 300), EPOCH3);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    const segs = listDataDir(dir).segments;
    expect(segs.length).toBeGreaterThan(5);
    expect(segs[0].name).toBe('log.0000000300000001');
    expect(segs.every((s) => s.zxid > EPOCH3 && s.name === segmentName(s.zxid))).toBe(true);
    const r = recover({ dir, ...quiet });
    expect(r.last_zxid).toBe(EPOCH3 + 300);
    expect(r.tree.digest()).toBe(treeOf(A).digest());
    expect(r.tree.get('/d')?.czxid).toBe(EPOCH3 + 2);

    const path = writeSnapshotAfter(dir, A, 200);
    expect(path.endsWith(snapshotName(EPOCH3 + 200))).toBe(true);
    expect(path.endsWith('snapshot.00000003000000c8')).toBe(true);
    const r2 = recover({ dir, ...quiet });
    expect(r2.snapshot?.zxid).toBe(EPOCH3 + 200);
    expect(r2.replayed).toBe(100);
    expect(r2.tree.digest()).toBe(treeOf(A).digest());

    // Appending from the recovered tail goes on with (3, 301)...
    const more = shift(history(46, 320), EPOCH3).slice(300);
    const writer = await LogWriter.open(NODE_LOG_FS, { dir, segment_bytes: SEGMENT_BYTES, fsync: true, now_ms: Date.now }, r2.tail);
    const w = new JuteWriter(4096);
    for (const t of more) appendRecord(w, t);
    await writer.append(w.view_bytes(), 0, w.length, more[0].header.zxid);
    await writer.close();
    expect(recover({ dir, ...quiet }).last_zxid).toBe(EPOCH3 + 320);
  });

  it('a log whose txns move from epoch to epoch (3 -> 4 -> 7) recovers, inside a segment and across segments', async () => {
    for (const segment_bytes of [SEGMENT_BYTES, 1 << 20]) {
      const A = renumber(history(47, 120), zabNumbering);
      const dir = tempDir();
      await writeLog(dir, A, segment_bytes);
      const r = recover({ dir, ...quiet });
      expect(r.last_zxid).toBe(7 * 2 ** 32 + 50);
      expect(r.tree.digest()).toBe(treeOf(A).digest());
      // The records of one segment carry the epoch change inside it.
      const one = listDataDir(dir).segments;
      if (segment_bytes > SEGMENT_BYTES) {
        expect(one.length).toBe(1);
        const zxids: number[] = [];
        scanSegment(memorySegment(readFileSync(one[0].path)), A[0].header.zxid, (_p, z) => zxids.push(z));
        expect(zxids).toEqual(A.map((t) => t.header.zxid));
      }
    }
  });

  it('a file name whose zxid is beyond 2^53 (not written by waitfree) stops the listing, naming the file', () => {
    const dir = tempDir();
    writeFileSync(`${dir}/log.ffffffffffffffff`, '');
    expect(() => listDataDir(dir)).toThrow(/log\.ffffffffffffffff.*beyond 2\^53/);
    expect(() => recover({ dir, ...quiet })).toThrow(/beyond 2\^53/);
  });

  it('a fresh Zab replica: no snapshot, a log starting at (1, 1), recovers from the empty history', async () => {
    const A = shift(history(48, 30), 2 ** 32);
    const dir = tempDir();
    await writeLog(dir, A, SEGMENT_BYTES);
    const r = recover({ dir, ...quiet });
    expect(r.last_zxid).toBe(2 ** 32 + 30);
    expect(r.tree.digest()).toBe(treeOf(A).digest());
  });
});
