import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/ring/ring.js';
import { bounded } from '../support/fc_bounds.js';
import { payload } from './helpers.js';

// Random interleavings of writes (random sizes, sometimes flushed) and polls (random consumer,
// random batch limit) against a 4 KiB ring: every consumer must read back exactly the stream of
// accepted frames, see only flushed frames, and a write may be refused only while the ring holds
// data some consumer has not read.

type Command =
  | { kind: 'write'; len: number; flush: boolean }
  | { kind: 'poll'; consumer: number; max_frames: number };

const CAPACITY_BYTES = 4096;
const FRAME_BYTES_MAX = CAPACITY_BYTES / 2 - 4;

const command = (consumers: number): fc.Arbitrary<Command> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('write' as const),
        len: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: FRAME_BYTES_MAX })),
        flush: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('poll' as const),
        consumer: fc.integer({ min: 0, max: consumers - 1 }),
        max_frames: fc.integer({ min: 1, max: 8 }),
      }),
    },
  );

const scenario = fc.integer({ min: 1, max: 3 }).chain((consumers) =>
  fc.record({ consumers: fc.constant(consumers), commands: fc.array(command(consumers), { maxLength: 300 }) }),
);

function run({ consumers, commands }: { consumers: number; commands: Command[] }): void {
  const sab = Ring.create({ capacity_bytes: CAPACITY_BYTES, consumers });
  const producer = Ring.attachProducer(sab);
  const readers = Array.from({ length: consumers }, (_, i) => Ring.attachConsumer(sab, i));
  const accepted: Uint8Array[] = []; // every frame the producer accepted, in order
  let published = 0; // how many of them were flushed
  const next = new Array<number>(consumers).fill(0); // next frame index per consumer
  const check = (i: number) => (bytes: Uint8Array, start: number, end: number) => {
    expect(next[i]).toBeLessThan(published);
    expect(Buffer.from(bytes.subarray(start, end)).equals(accepted[next[i]])).toBe(true);
    next[i]++;
  };
  const handlers = readers.map((_, i) => check(i));

  for (const c of commands) {
    if (c.kind === 'write') {
      const frame = payload(accepted.length, c.len);
      if (producer.tryWrite(frame)) accepted.push(frame);
      else expect(Math.min(...next)).toBeLessThan(accepted.length); // refused only if something is held
      if (c.flush) {
        producer.flush();
        published = accepted.length;
      }
    } else {
      const before = next[c.consumer];
      const n = readers[c.consumer].poll(handlers[c.consumer], c.max_frames);
      expect(n).toBe(next[c.consumer] - before);
      expect(n).toBe(Math.min(c.max_frames, published - before));
    }
  }
  producer.flush();
  published = accepted.length;
  readers.forEach((r, i) => r.poll(handlers[i]));
  expect(next).toEqual(new Array(consumers).fill(accepted.length));
  // Drained ring: any legal frame fits, wherever the cursor stands.
  expect(producer.tryWrite(payload(0, FRAME_BYTES_MAX))).toBe(true);
  producer.flush();
  expect(Ring.stats(sab).producer.frames).toBe(accepted.length + 1);
}

describe('ring property: random interleavings reproduce the byte stream', () => {
  it('holds for 1-3 consumers', () => {
    fc.assert(fc.property(scenario, (s) => run(s)), bounded({ numRuns: 150 }));
  });
});
