// Reading a segment file in bounded chunks (segment_file.ts): windows are exact, the buffer is
// reused (so what a scan decodes must be copies), a record larger than a chunk still reads, and
// a file that turns out shorter than it was is an error, not a silent end of the log.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JuteWriter } from '../../src/protocol/jute.js';
import { FileSegmentBytes, NODE_SEGMENT_READ_FS, SegmentFileError, withSegmentFile, type SegmentReadFs } from '../../src/log/segment_file.js';
import { appendRecord, encodeSegmentHeader, scanSegment, SEGMENT_HEADER_BYTES } from '../../src/log/segment_format.js';
import { txnFromBytes } from '../../src/tree/txn_codec.js';
import type { Txn } from '../../src/tree/txn.js';
import { Harness } from '../tree/harness.js';
import { Workload } from '../durability/workload.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes a segment file: header, records of `txns`, zeros up to `size`. */
function segmentFile(txns: readonly Txn[], size: number): { path: string; end: number } {
  const dir = mkdtempSync(join(tmpdir(), 'waitfree-segfile-'));
  dirs.push(dir);
  const w = new JuteWriter(4096);
  for (const t of txns) appendRecord(w, t);
  const bytes = new Uint8Array(size);
  bytes.set(encodeSegmentHeader(txns[0].header.zxid, 1234), 0);
  bytes.set(w.view_bytes(), SEGMENT_HEADER_BYTES);
  const path = join(dir, 'log.0000000000000001');
  writeFileSync(path, bytes);
  return { path, end: SEGMENT_HEADER_BYTES + w.length };
}

describe('segment file reader', () => {
  it('windows hold exactly the bytes asked for, clamped at the end of the file', () => {
    const w = new Workload(3);
    w.run(5);
    const { path } = segmentFile(w.txns, 10_000);
    withSegmentFile(
      NODE_SEGMENT_READ_FS,
      path,
      (src) => {
        expect(src.size_bytes).toBe(10_000);
        expect(src.window(0, 4)).toEqual(new Uint8Array([0x57, 0x46, 0x4c, 0x47])); // "WFLG"
        expect(src.window(3000, 2048)).toHaveLength(2048); // straddles the 1 KiB chunks
        expect(src.window(9_990, 100)).toHaveLength(10);
        expect(src.window(10_000, 8)).toHaveLength(0);
      },
      1024,
    );
  });

  it('a scan through a small reused buffer returns every txn intact (decoded values are copies)', () => {
    const w = new Workload(4);
    w.run(400);
    const { path, end } = segmentFile(w.txns, 256 * 1024);
    const seen: Txn[] = [];
    const { result, bytes_read } = withSegmentFile(
      NODE_SEGMENT_READ_FS,
      path,
      (src) => scanSegment(src, 1, (payload) => seen.push(txnFromBytes(payload)), { zero_run_bytes: 4096 }),
      4096,
    );
    expect(result.end).toEqual({ kind: 'clean', offset: end });
    expect(seen).toEqual(w.txns); // compared after the buffer was refilled many times
    expect(bytes_read).toBeLessThan(end + 3 * 4096 + 4096);
  });

  it('a record larger than the read chunk is read whole', () => {
    const h = new Harness();
    h.create('/big');
    const data = new Uint8Array(100_000).map((_, i) => i & 0xff);
    h.commit({ kind: 'setData', path: '/big', data, version: 1 });
    h.create('/after');
    const { path } = segmentFile(h.log, 200_000);
    const seen: Txn[] = [];
    withSegmentFile(NODE_SEGMENT_READ_FS, path, (src) => scanSegment(src, 1, (payload) => seen.push(txnFromBytes(payload)), { zero_run_bytes: 4096 }), 4096);
    expect(seen).toEqual(h.log);
  });

  it('a file that ends before the size it had when opened is an error, not the end of the log', () => {
    const w = new Workload(5);
    w.run(50);
    const { path } = segmentFile(w.txns, 64 * 1024);
    const shrunk: SegmentReadFs = { ...NODE_SEGMENT_READ_FS, read: (fd, into, offset, length, position) => (position >= 8192 ? 0 : NODE_SEGMENT_READ_FS.read(fd, into, offset, Math.min(length, 8192 - position), position)) };
    const fd = shrunk.openRead(path);
    try {
      const src = new FileSegmentBytes(shrunk, fd, path, shrunk.sizeBytes(fd), 4096);
      expect(() => scanSegment(src, 1, () => {}, { zero_run_bytes: 32 * 1024 })).toThrow(SegmentFileError);
    } finally {
      shrunk.close(fd);
    }
  });

  it('a zero run shorter than a record header is refused', () => {
    const w = new Workload(6);
    w.run(3);
    const { path } = segmentFile(w.txns, 4096);
    expect(() => withSegmentFile(NODE_SEGMENT_READ_FS, path, (src) => scanSegment(src, 1, () => {}, { zero_run_bytes: 4 }))).toThrow(/zero_run_bytes/);
  });
});
