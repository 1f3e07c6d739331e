// The segment format on its own: records round-trip, the end of the written part is found, and
// damage is told apart by where it is (a torn tail has nothing valid after it).

import { describe, expect, it } from 'vitest';
import { JuteWriter } from '../../src/protocol/jute.js';
import {
  appendRecord,
  decodeSegmentHeader,
  encodeSegmentHeader,
  memorySegment,
  scanSegment,
  SEGMENT_HEADER_BYTES,
  ZERO_RUN_BYTES_DEFAULT,
  zeroRunBytesFor,
  type SegmentBytes,
} from '../../src/log/segment_format.js';
import { FileSegmentBytes, type SegmentReadFs } from '../../src/log/segment_file.js';
import { txnFromBytes } from '../../src/tree/txn_codec.js';
import type { Txn } from '../../src/tree/txn.js';
import { Workload } from '../durability/workload.js';
import { Harness } from '../tree/harness.js';

/** A segment file image: header, records of `txns`, zero padding to `size`. Returns record offsets. */
function segment(txns: readonly Txn[], size = 64 * 1024): { bytes: Uint8Array; offsets: number[]; end: number } {
  const w = new JuteWriter(4096);
  const offsets: number[] = [];
  for (const t of txns) offsets.push(SEGMENT_HEADER_BYTES + appendRecord(w, t));
  const bytes = new Uint8Array(size);
  bytes.set(encodeSegmentHeader(txns[0].header.zxid, 1234), 0);
  bytes.set(w.view_bytes(), SEGMENT_HEADER_BYTES);
  return { bytes, offsets, end: SEGMENT_HEADER_BYTES + w.length };
}

function txns(n: number, seed = 7): Txn[] {
  const w = new Workload(seed);
  w.run(n);
  return [...w.txns];
}

/** A segment in memory that remembers the furthest byte any window reached. */
function tracked(bytes: Uint8Array): SegmentBytes & { furthest: number } {
  const inner = memorySegment(bytes);
  const src = {
    furthest: 0,
    size_bytes: inner.size_bytes,
    window(offset: number, length: number): Uint8Array {
      const win = inner.window(offset, length);
      src.furthest = Math.max(src.furthest, offset + win.length);
      return win;
    },
  };
  return src;
}

function scan(bytes: Uint8Array, first: number, zero_run_bytes?: number) {
  const seen: Txn[] = [];
  const src = tracked(bytes);
  const result = scanSegment(src, first, (payload) => seen.push(txnFromBytes(payload)), { zero_run_bytes });
  return { ...result, seen, furthest: src.furthest };
}

const MiB = 1 << 20;

describe('segment format', () => {
  it('header round-trips and rejects damage, another format version, and blank headers', () => {
    const h = encodeSegmentHeader(0x1234_5678_9a, 42);
    expect(decodeSegmentHeader(h)).toEqual({ ok: true, first_zxid: 0x1234_5678_9a, created_ms: 42 });
    const flipped = h.slice();
    flipped[9] ^= 1;
    expect(decodeSegmentHeader(flipped)).toMatchObject({ ok: false, reason: 'header checksum mismatch' });
    const v2 = h.slice();
    v2[7] = 2;
    expect(decodeSegmentHeader(v2)).toMatchObject({ ok: false, blank: false });
    expect(decodeSegmentHeader(new Uint8Array(32))).toMatchObject({ ok: false, blank: true });
  });

  it('every record comes back in order and the clean end is found after the last one', () => {
    const all = txns(120);
    const { bytes, end } = segment(all);
    const r = scan(bytes, all[0].header.zxid);
    expect(r.seen).toEqual(all);
    expect(r.end).toEqual({ kind: 'clean', offset: end });
    expect(r.last_zxid).toBe(all[all.length - 1].header.zxid);
  });

  it('a file cut inside the last record is a torn tail: nothing valid after it', () => {
    const all = txns(50);
    const { bytes, offsets } = segment(all);
    const last = all.length - 1;
    const cut = bytes.subarray(0, offsets[last] + 11);
    const r = scan(cut, all[0].header.zxid);
    expect(r.seen).toEqual(all.slice(0, last));
    expect(r.end).toMatchObject({ kind: 'bad', offset: offsets[last], valid_after: null });
  });

  it('a flipped bit in the last record is a torn tail', () => {
    const all = txns(50);
    const { bytes, offsets, end } = segment(all);
    bytes[end - 3] ^= 0x10;
    const r = scan(bytes, all[0].header.zxid);
    expect(r.seen).toHaveLength(all.length - 1);
    expect(r.end).toMatchObject({ kind: 'bad', offset: offsets[all.length - 1], reason: 'checksum mismatch', valid_after: null });
  });

  it('a flipped bit in a middle record is found with the valid record after it', () => {
    const all = txns(50);
    const { bytes, offsets } = segment(all);
    bytes[offsets[20] + 15] ^= 0x01;
    const r = scan(bytes, all[0].header.zxid);
    expect(r.seen).toHaveLength(20);
    expect(r.end).toMatchObject({ kind: 'bad', offset: offsets[20], valid_after: offsets[21] });
  });

  it('a flipped bit in a middle record length is still found with the valid record after it', () => {
    const all = txns(50);
    const { bytes, offsets } = segment(all);
    bytes[offsets[30] + 6] ^= 0x40; // length field
    const r = scan(bytes, all[0].header.zxid);
    expect(r.end).toMatchObject({ kind: 'bad', offset: offsets[30], valid_after: offsets[31] });
  });

  it('records of many sizes, across scan windows and a small read buffer: every damaged record is found where it is', () => {
    const h = new Harness();
    h.create('/s');
    // Sizes from a few bytes to past the 4 KiB window scanSegment checks records in.
    for (let i = 0; i < 40; i++) h.commit({ kind: 'setData', path: '/s', data: new Uint8Array((i * 797) % 9000).fill(i + 1), version: i + 1 });
    const all = h.log;
    const first = all[0].header.zxid;
    const { bytes, offsets, end } = segment(all, 256 * 1024);
    offsets.push(end);
    // A reader over a 4 KiB buffer it refills, as segment_file.ts reads a file.
    const chunked = (b: Uint8Array): SegmentBytes => {
      const fs: SegmentReadFs = {
        openRead: () => 0,
        sizeBytes: () => b.length,
        read: (_fd, into, offset, length, position) => {
          const n = Math.max(0, Math.min(length, b.length - position));
          into.set(b.subarray(position, position + n), offset);
          return n;
        },
        close: () => {},
      };
      return new FileSegmentBytes(fs, 0, 'mem', b.length, 4096);
    };
    for (const src of [memorySegment(bytes), chunked(bytes)]) {
      const seen: Txn[] = [];
      expect(scanSegment(src, first, (p) => seen.push(txnFromBytes(p)), { zero_run_bytes: 16 * 1024 }).end).toEqual({ kind: 'clean', offset: end });
      expect(seen).toEqual(all);
    }
    for (let k = 0; k < all.length; k++) {
      const damaged = bytes.slice();
      const payload = offsets[k] + 8;
      damaged[payload + ((k * 131) % (offsets[k + 1] - payload))] ^= 0x04;
      for (const src of [memorySegment(damaged), chunked(damaged)]) {
        const seen: number[] = [];
        const r = scanSegment(src, first, (_p, zxid) => seen.push(zxid), { zero_run_bytes: 16 * 1024 });
        expect(r.end, `record ${k}`).toMatchObject({ kind: 'bad', offset: offsets[k], reason: 'checksum mismatch', valid_after: k + 1 < all.length ? offsets[k + 1] : null });
        expect(seen).toEqual(all.slice(0, k).map((t) => t.header.zxid));
      }
    }
  });

  it('a zeroed record header in the middle is not taken for the end of the log', () => {
    const all = txns(50);
    const { bytes, offsets } = segment(all);
    bytes.fill(0, offsets[10], offsets[10] + 8);
    const r = scan(bytes, all[0].header.zxid);
    expect(r.end).toMatchObject({ kind: 'bad', offset: offsets[10], valid_after: offsets[11] });
  });

  it('a record whose zxid breaks the sequence is bad', () => {
    const all = txns(10);
    const { bytes } = segment(all);
    const r = scan(bytes, all[0].header.zxid + 1);
    expect(r.seen).toHaveLength(0);
    expect(r.end).toMatchObject({ kind: 'bad', offset: SEGMENT_HEADER_BYTES });
  });

  // ---- where the written part ends (scanSegment): a zero run, not the end of the file ----

  it('a 64 MiB preallocated segment with a few records ends after them plus one zero run, not at the end of the file', () => {
    const all = txns(5);
    const { bytes, end } = segment(all, 64 * MiB);
    const r = scan(bytes, all[0].header.zxid);
    expect(r.seen).toEqual(all);
    expect(r.end).toEqual({ kind: 'clean', offset: end });
    expect(r.furthest).toBeLessThanOrEqual(end + ZERO_RUN_BYTES_DEFAULT);
    expect(r.furthest).toBeLessThan(bytes.length / 8);
  });

  it('garbage after a full zero run lies past anything ever written: the log ends cleanly before the zeros', () => {
    const all = txns(20);
    const zero_run = 64 * 1024;
    const { bytes, end } = segment(all, 1 * MiB);
    bytes.fill(0xa5, end + zero_run + 10, end + zero_run + 400);
    const r = scan(bytes, all[0].header.zxid, zero_run);
    expect(r.seen).toEqual(all);
    expect(r.end).toEqual({ kind: 'clean', offset: end });
  });

  it('garbage after zeros shorter than the zero run is a torn tail, found without reading the rest of the file', () => {
    const all = txns(20);
    const zero_run = 64 * 1024;
    const { bytes, end } = segment(all, 8 * MiB);
    bytes.fill(0xa5, end + 1000, end + 1400);
    const r = scan(bytes, all[0].header.zxid, zero_run);
    expect(r.seen).toEqual(all);
    expect(r.end).toMatchObject({ kind: 'bad', offset: end, reason: 'zero record header with non-zero bytes after it', valid_after: null });
    expect(r.furthest).toBeLessThan(end + 1400 + zero_run + 64 * 1024);
  });

  it('a torn last record followed by zeros: the search for valid records stops at the zero run', () => {
    const all = txns(30);
    const zero_run = 64 * 1024;
    const { bytes, offsets, end } = segment(all, 8 * MiB);
    const last = offsets[all.length - 1];
    bytes.fill(0, last + 12, end); // the record's tail never landed
    const r = scan(bytes, all[0].header.zxid, zero_run);
    expect(r.seen).toEqual(all.slice(0, -1));
    expect(r.end).toMatchObject({ kind: 'bad', offset: last, reason: 'checksum mismatch', valid_after: null });
    expect(r.furthest).toBeLessThan(end + zero_run + 64 * 1024);
  });

  it('whole records zeroed in the middle (a lost sector) are damage, not the end: the valid records after them are found', () => {
    const all = txns(50);
    const { bytes, offsets } = segment(all);
    bytes.fill(0, offsets[10], offsets[13]);
    const r = scan(bytes, all[0].header.zxid);
    expect(r.seen).toHaveLength(10);
    expect(r.end).toMatchObject({ kind: 'bad', offset: offsets[10], valid_after: offsets[13] });
  });

  it('zeros inside a damaged record (a zero-filled value shorter than the zero run) do not end the search', () => {
    const h = new Harness();
    h.create('/z');
    h.commit({ kind: 'setData', path: '/z', data: new Uint8Array(48 * 1024), version: 1 });
    for (let i = 0; i < 5; i++) h.create(`/after${i}`);
    const all = h.log;
    const { bytes, offsets } = segment(all, 1 * MiB);
    bytes[offsets[1] + 4] ^= 0x01; // the setData record's length: its checksum fails
    const r = scan(bytes, all[0].header.zxid, 64 * 1024);
    expect(r.seen).toHaveLength(1);
    expect(r.end).toMatchObject({ kind: 'bad', offset: offsets[1], valid_after: offsets[2] });
  });

  it('the zero run covers the largest batch plus a txn for the configured bounds', () => {
    expect(zeroRunBytesFor({ commit_batch_bytes_max: MiB, jute_max_buffer_bytes: 0xfffff })).toBe(ZERO_RUN_BYTES_DEFAULT);
    const big = { commit_batch_bytes_max: 16 * MiB, jute_max_buffer_bytes: 4 * MiB };
    expect(zeroRunBytesFor(big)).toBeGreaterThan(big.commit_batch_bytes_max + 2 * big.jute_max_buffer_bytes);
  });
});
