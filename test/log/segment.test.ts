// The segment format on its own: records round-trip, the end of the written part is found, and
// damage is told apart by where it is (a torn tail has nothing valid after it).

import { describe, expect, it } from 'vitest';
import { JuteWriter } from '../../src/protocol/jute.js';
import {
  appendRecord,
  decodeSegmentHeader,
  encodeSegmentHeader,
  scanSegment,
  SEGMENT_HEADER_BYTES,
} from '../../src/log/segment_format.js';
import { txnFromBytes } from '../../src/tree/txn_codec.js';
import type { Txn } from '../../src/tree/txn.js';
import { Workload } from '../durability/workload.js';

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

function scan(bytes: Uint8Array, first: number) {
  const seen: Txn[] = [];
  const result = scanSegment(bytes, first, (start, end) => seen.push(txnFromBytes(bytes.subarray(start, end))));
  return { ...result, seen };
}

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
});
