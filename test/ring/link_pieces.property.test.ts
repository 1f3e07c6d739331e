// Links carry messages of any size (up to LINK_MESSAGE_BYTES_MAX): a message over the ring's frame
// bound is written as consecutive pieces and put back together by the reader. Property: whatever
// mix of small and large messages a writer sends through a small ring, with the reader draining at
// arbitrary moments (so pieces wait in the overflow queue), every reader (broadcast: each consumer
// reassembles on its own) receives exactly the sent messages, whole, in order.
//
// How this fails: a piece lost, duplicated or reordered, a small frame slipping between the pieces
// of a large one, or a message over the frame bound rejected (RangeError, the old behaviour).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/ring/ring.js';
import { Doorbell } from '../../src/workers/doorbell.js';
import { HeadWriter, LinkReader, LinkWriter } from '../../src/workers/link.js';
import { LINK_PIECE } from '../../src/workers/link_kinds.js';
import { bounded } from '../support/fc_bounds.js';
import { payload } from './helpers.js';

const CAPACITY_BYTES = 4096; // frames of at most 2044 bytes

function collect(reader: LinkReader, into: Uint8Array[], max_frames: number): number {
  return reader.poll((bytes, start, end) => into.push(bytes.slice(start, end)), max_frames);
}

describe('link pieces', () => {
  it('every reader receives every message whole and in order, whatever the sizes and drain timing', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ len: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 2_000, max: 40_000 })), drain: fc.nat(8) }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 1, max: 3 }),
        (messages, consumers) => {
          const sab = Ring.create({ capacity_bytes: CAPACITY_BYTES, consumers });
          const writer = new LinkWriter(Ring.attachProducer(sab), [new Doorbell()]);
          const readers = Array.from({ length: consumers }, (_, i) => new LinkReader(Ring.attachConsumer(sab, i)));
          const got: Uint8Array[][] = readers.map(() => []);
          const head = new HeadWriter();
          const sent: Uint8Array[] = [];
          messages.forEach((m, i) => {
            const body = payload(i, m.len);
            head.begin(7).u32(i);
            writer.send(head, body);
            sent.push(Uint8Array.from([...head.view_bytes(), ...body]));
            writer.flush();
            // Readers take a few frames now and then; the writer drains its overflow after.
            readers.forEach((r, k) => collect(r, got[k], m.drain));
            writer.drain();
          });
          for (let turns = 0; turns < 10_000 && !writer.drain(); turns++) readers.forEach((r, k) => collect(r, got[k], 64));
          readers.forEach((r, k) => collect(r, got[k], 1 << 20));
          expect(writer.blocked).toBe(false);
          for (const g of got) {
            expect(g.length).toBe(sent.length);
            g.forEach((m, i) => expect(Buffer.from(m).equals(Buffer.from(sent[i]))).toBe(true));
          }
        },
      ),
      bounded({ numRuns: 200 }),
    );
  });

  it('sends a message over the frame bound as pieces, and a message within it as one frame', () => {
    const sab = Ring.create({ capacity_bytes: 1 << 16, consumers: 1 });
    const writer = new LinkWriter(Ring.attachProducer(sab), []);
    const consumer = Ring.attachConsumer(sab, 0);
    const head = new HeadWriter();
    writer.send(head.begin(9).u32(1), payload(1, 100));
    writer.send(head.begin(9).u32(2), payload(2, 100_000));
    writer.flush();
    const kinds: number[] = [];
    do consumer.poll((bytes, start) => kinds.push(bytes[start]), 1000);
    while (!writer.drain() || consumer.hasData());
    expect(kinds[0]).toBe(9);
    expect(kinds.length).toBeGreaterThan(2);
    expect(kinds.slice(1).every((k) => k === LINK_PIECE)).toBe(true);
    expect(writer.pieces_sent_messages).toBe(1);
  });

  it('a frame between the pieces of a message is a broken invariant, reported loudly', () => {
    const sab = Ring.create({ capacity_bytes: 4096, consumers: 1 });
    const producer = Ring.attachProducer(sab);
    const reader = new LinkReader(Ring.attachConsumer(sab, 0));
    const first = Uint8Array.from([LINK_PIECE, 1, 0, 0, 0x10, 0, 1, 2, 3]);
    producer.tryWrite(first);
    producer.tryWrite(Uint8Array.from([5, 1, 2]));
    producer.flush();
    expect(() => reader.poll(() => {}, 10)).toThrow(/came between the pieces/);
  });
});
