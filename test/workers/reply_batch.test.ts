// The net worker's reply batch: every connection gets exactly its replies, in order, in one
// socket write (or one writev) per poll; and no byte a socket still holds is ever overwritten
// by a later poll, however the arenas are reused.

import { describe, expect, it } from 'vitest';
import { REPLY_ARENA_BYTES, ReplyBatch, type ReplySink } from '../../src/workers/net/reply_batch.js';

/** A socket stand-in: records what it was given; `keeps` makes it hold writes unsent. */
class Sink implements ReplySink {
  writableLength = 0;
  /** One entry per write syscall the socket would make (corked writes are one writev). */
  readonly syscalls: Uint8Array[][] = [];
  private corked: Uint8Array[] | null = null;
  constructor(private readonly keeps = false) {}

  write(data: Uint8Array): boolean {
    // A socket that sends at once is done with the bytes (the kernel copied them); one that
    // keeps them reads them later, when they are sent: record the Buffer itself.
    const held = this.keeps ? data : new Uint8Array(data);
    if (this.corked !== null) this.corked.push(held);
    else this.syscalls.push([held]);
    if (this.keeps) this.writableLength += data.length;
    return true;
  }
  cork(): void {
    this.corked = [];
  }
  uncork(): void {
    if (this.corked !== null && this.corked.length > 0) this.syscalls.push(this.corked);
    this.corked = null;
  }
  /** Everything written, as the peer reads it (held Buffers as they are now). */
  received(): Buffer {
    return Buffer.concat(this.syscalls.flat());
  }
}

/** A ring stand-in: replies sit in shared memory at odd offsets, and are overwritten after use. */
class Ring {
  private readonly u8 = new Uint8Array(new SharedArrayBuffer(8 * 1024 * 1024));
  private at = 0;
  put(reply: Uint8Array): [Uint8Array, number, number] {
    if (this.at + reply.length + 16 > this.u8.length) this.at = 0;
    const start = this.at + 5;
    this.u8.set(reply, start);
    this.at = start + reply.length;
    return [this.u8, start, start + reply.length];
  }
  scribble(): void {
    this.u8.fill(0xaa);
  }
}

/** Reply n of a connection: bytes that differ from every other reply's. */
function reply(conn: number, n: number, bytes = 40): Uint8Array {
  const r = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) r[i] = (conn * 31 + n * 7 + i) & 0xff;
  return r;
}
/** The bytes of these replies, one after the other. */
const replies = (...list: Uint8Array[]): Buffer => Buffer.concat(list);

function poll(batch: ReplyBatch<number>, ring: Ring, sinks: Map<number, Sink>, order: [conn: number, n: number, bytes?: number][]): void {
  for (const [conn, n, bytes] of order) batch.add(conn, ...ring.put(reply(conn, n, bytes)));
  ring.scribble();
  for (const conn of batch.connections()) batch.writeTo(conn, sinks.get(conn)!, sinks.get(conn)!.writableLength > 0);
  expect(batch.size).toBe(0);
}

describe('ReplyBatch', () => {
  it('gives each connection its replies in order, one write per poll (a writev when they are not contiguous)', () => {
    const batch = new ReplyBatch<number>();
    const ring = new Ring();
    const sinks = new Map([1, 2, 3].map((c) => [c, new Sink()]));
    poll(batch, ring, sinks, [[1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [3, 0], [1, 3], [3, 1], [2, 2]]);
    expect(sinks.get(1)!.received()).toEqual(replies(reply(1, 0), reply(1, 1), reply(1, 2), reply(1, 3)));
    expect(sinks.get(2)!.received()).toEqual(replies(reply(2, 0), reply(2, 1), reply(2, 2)));
    expect(sinks.get(3)!.received()).toEqual(replies(reply(3, 0), reply(3, 1)));
    for (const s of sinks.values()) expect(s.syscalls.length).toBe(1);
    expect(sinks.get(1)!.syscalls[0].length).toBe(2); // runs [0..2] and [3]: one writev of two parts
  });

  it('keeps order around replies large enough for a buffer of their own and across arenas', () => {
    const batch = new ReplyBatch<number>();
    const ring = new Ring();
    const sink = new Sink();
    const big = REPLY_ARENA_BYTES / 2;
    const order: [number, number, number][] = [[1, 0, 10], [1, 1, big], [1, 2, 10]];
    // Replies below the own-buffer size filling several arenas, then some above it.
    for (let n = 3; n < 60; n++) order.push([1, n, n % 10 === 0 ? 100_000 : 10_000]);
    poll(batch, ring, new Map([[1, sink]]), order);
    expect(sink.received().equals(replies(...order.map(([c, n, b]) => reply(c, n, b))))).toBe(true);
    expect(sink.syscalls.length).toBe(1);
  });

  it('reuses its arena poll after poll when every write went out whole', () => {
    const batch = new ReplyBatch<number>();
    const ring = new Ring();
    const sink = new Sink();
    const sinks = new Map([[1, sink]]);
    for (let p = 0; p < 50; p++) poll(batch, ring, sinks, [[1, 2 * p], [1, 2 * p + 1]]);
    expect(batch.arenas_allocated).toBe(1);
    expect(sink.received()).toEqual(replies(...Array.from({ length: 100 }, (_, n) => reply(1, n))));
  });

  it.each([
    ['contiguous', (p: number): [number, number][] => [[1, p], [1, p + 100], [2, p], [2, p + 100]]],
    ['interleaved', (p: number): [number, number][] => [[1, p], [2, p], [1, p + 100], [2, p + 100]]],
  ])('never overwrites bytes a socket still holds (%s replies): held arenas are not reused, queued writes get copies', (_, order) => {
    const batch = new ReplyBatch<number>();
    const ring = new Ring();
    const slow = new Sink(true); // the kernel takes nothing: every write stays queued
    const fast = new Sink();
    const sinks = new Map([[1, slow], [2, fast]]);
    const expected_slow: Uint8Array[] = [];
    for (let p = 0; p < 30; p++) {
      poll(batch, ring, sinks, order(p));
      expected_slow.push(reply(1, p), reply(1, p + 100));
    }
    expect(slow.received()).toEqual(replies(...expected_slow));
    expect(fast.received()).toEqual(replies(...Array.from({ length: 30 }, (_, p) => [reply(2, p), reply(2, p + 100)]).flat()));
    // Only the first poll's write to the slow socket was a view (it found the socket idle).
    expect(batch.arenas_allocated).toBe(2);
  });

  it('drops what a gone connection received', () => {
    const batch = new ReplyBatch<number>();
    const ring = new Ring();
    batch.add(7, ...ring.put(reply(7, 0)));
    expect(batch.has(7)).toBe(true);
    batch.drop(7);
    expect(batch.size).toBe(0);
    expect(batch.writeTo(7, new Sink(), false)).toBe(0);
  });
});
