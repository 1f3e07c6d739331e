// The peer stream cutter: the same frames however the stream is split, large frames assembled
// from 64 KiB pieces, and lengths outside 1..frame_bytes_max refused.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ZabFrameCutter } from '../../src/replication/zab_frame_cutter.js';
import { decodeMessage, encodeMessage, messageSummary, type PeerMessage } from '../../src/zab/messages.js';

function cutAll(cutter: ZabFrameCutter, pieces: readonly Buffer[]): { msgs: PeerMessage[]; problem: string | null } {
  const msgs: PeerMessage[] = [];
  for (const piece of pieces) {
    const problem = cutter.push(piece, (frame) => {
      msgs.push(decodeMessage(frame));
      return true;
    });
    if (problem !== null) return { msgs, problem };
  }
  return { msgs, problem: null };
}

function split(bytes: Buffer, piece_bytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += piece_bytes) out.push(bytes.subarray(at, at + piece_bytes));
  return out;
}

/** Messages as comparable text: byte fields as a length and a hash, not element by element. */
function summary(msgs: readonly PeerMessage[]): string[] {
  return msgs.map((m) => {
    const bytes = m.type === 'SNAP' ? m.snapshot : m.type === 'PROPOSAL' ? m.txn : m.type === 'PING' ? m.data : null;
    const digest = bytes === null ? '' : ` ${bytes.length}B ${createHash('sha256').update(bytes).digest('hex')}`;
    return `${messageSummary(m)}${digest}`;
  });
}

function streamOf(snapshot_bytes: number): { msgs: PeerMessage[]; bytes: Buffer } {
  const snapshot = new Uint8Array(snapshot_bytes);
  for (let i = 0; i < snapshot.length; i++) snapshot[i] = (i * 31) & 0xff;
  const msgs: PeerMessage[] = [
    { type: 'PING', data: new Uint8Array(0) },
    { type: 'PROPOSAL', zxid: { epoch: 2, counter: 9 }, txn: Uint8Array.from([1, 2, 3]) },
    { type: 'SNAP', zxid: { epoch: 2, counter: 9 }, snapshot },
    { type: 'ACK', zxid: { epoch: 2, counter: 9 } },
  ];
  return { msgs, bytes: Buffer.concat(msgs.map((m) => encodeMessage(m))) };
}

describe('ZabFrameCutter', () => {
  const small = streamOf(100 * 1024);
  const large = streamOf(3 * 1024 * 1024);
  const stream = small.bytes;

  it('gives the same messages for every way of splitting the stream', () => {
    const cases: [typeof small, number][] = [
      [small, 1],
      [small, 3],
      [small, 5],
      [large, 4096],
      [large, 64 * 1024],
      [large, 1024 * 1024 + 7],
      [large, large.bytes.length],
    ];
    for (const [s, piece_bytes] of cases) {
      const got = cutAll(new ZabFrameCutter(64 * 1024 * 1024), split(s.bytes, piece_bytes));
      expect(got.problem).toBeNull();
      expect(summary(got.msgs), `pieces of ${piece_bytes} B`).toEqual(summary(s.msgs));
    }
  });

  it('hands out plain Uint8Array copies that do not pin the read buffers', () => {
    const got = cutAll(new ZabFrameCutter(64 * 1024 * 1024), [stream]).msgs[1];
    expect(got.type === 'PROPOSAL' && got.txn.constructor === Uint8Array && got.txn.buffer.byteLength === 3).toBe(true);
  });

  it('stops cutting when the sink returns false', () => {
    const cutter = new ZabFrameCutter(64 * 1024 * 1024);
    let seen = 0;
    expect(cutter.push(stream, () => ++seen < 2)).toBeNull();
    expect(seen).toBe(2);
    expect(cutter.push(stream, () => ++seen > 0)).toBeNull();
    expect(seen).toBe(2); // spent
  });

  it('refuses a body length of 0 or over frame_bytes_max, even split across pieces', () => {
    const over = Buffer.from([0, 1, 0, 1]); // 65537
    expect(cutAll(new ZabFrameCutter(65536), [over.subarray(0, 1), over.subarray(1)]).problem).toMatch(/65537 outside 1\.\.65536/);
    expect(cutAll(new ZabFrameCutter(65536), [Buffer.alloc(4)]).problem).toMatch(/body length 0/);
  });
});
