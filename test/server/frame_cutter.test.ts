// The net worker's frame cutter, without a server: any split of a valid stream yields the same
// frames; a length outside 0..jute.maxbuffer stops the stream with a reason (and nothing after
// it is emitted); a four-letter word is recognised however its 4 bytes are split, and a real
// frame whose length prefix is split is not mistaken for one; a frame trickled in small pieces
// costs memory traffic linear in its size.
//
// How these fail: a cutter that judges the first word from fewer than 4 bytes (`r` + `uok` read
// as a frame length and the connection closed), one that loses or duplicates bytes at chunk
// edges, one that re-copies the pending bytes on every chunk (16 MB in 256-byte writes is
// quadratic), or one that emits frames past a malformed length.

import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { wordToInt } from '../../src/admin/four_letter.js';
import { FrameCutter } from '../../src/workers/net/frame_cutter.js';
import { bounded } from '../support/fc_bounds.js';

const FRAME_BYTES_MAX = 200_000;

function frame(payload: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + payload.length);
  b.writeInt32BE(payload.length, 0);
  b.set(payload, 4);
  return b;
}

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

/** Pushes every chunk; payloads are copied out (they are only valid during the call). */
function cut(cutter: FrameCutter, chunks: Buffer[]): { frames: Buffer[]; error: string | null } {
  const frames: Buffer[] = [];
  for (const c of chunks) {
    const error = cutter.push(c, (b, s, e) => frames.push(Buffer.from(b.subarray(s, e))));
    if (error !== null) return { frames, error };
  }
  return { frames, error: null };
}

const payloadArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  // Larger than the assembly buffer's starting size, so its growth is exercised too.
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 150_000 }).map((n) => patterned(n)) },
);

/** n bytes that differ from their neighbours (a lost or repeated byte shows). */
function patterned(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + n) & 0xff;
  return b;
}

/** Same frames, compared bytewise (deep equality on big buffers is slow). */
function expectSameFrames(got: Buffer[], want: Uint8Array[]): void {
  expect(got.map((f) => f.length)).toEqual(want.map((p) => p.length));
  got.forEach((f, i) => expect(f.equals(want[i]), `frame ${i}`).toBe(true));
}
const cutsArb = fc.array(fc.nat(), { maxLength: 40 });
const ruok = wordToInt('ruok');
const isRuok = (w: number): boolean => w === ruok;

describe('FrameCutter', () => {
  it('any split of a valid stream of frames yields exactly those frames', () => {
    fc.assert(
      fc.property(fc.array(payloadArb, { maxLength: 12 }), cutsArb, (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map(frame));
        const { frames, error } = cut(new FrameCutter(FRAME_BYTES_MAX, isRuok), split(stream, cuts));
        expect(error).toBeNull();
        expectSameFrames(frames, payloads);
      }),
      bounded({ numRuns: 200 }),
    );
  });

  it('byte-by-byte delivery yields the same frames', () => {
    const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(0), patterned(70_000), new Uint8Array([4])];
    const stream = Buffer.concat(payloads.map(frame));
    const chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    const { frames, error } = cut(new FrameCutter(FRAME_BYTES_MAX), chunks);
    expect(error).toBeNull();
    expectSameFrames(frames, payloads);
  });

  it('a length over jute.maxbuffer or negative is rejected, however split; only the frames before it come out', () => {
    const badLen = fc.oneof(fc.integer({ min: FRAME_BYTES_MAX + 1, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 }));
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 5 }), badLen, cutsArb, (before, len, cuts) => {
        const bad = Buffer.alloc(4 + 50, 0xee);
        bad.writeInt32BE(len, 0);
        const stream = Buffer.concat([...before.map(frame), bad, frame(new Uint8Array([7, 7]))]);
        const { frames, error } = cut(new FrameCutter(FRAME_BYTES_MAX), split(stream, cuts));
        expect(error).toBe(`frame length ${len} outside 0..${FRAME_BYTES_MAX} (jute.maxbuffer)`);
        expect(frames).toEqual(before.map((p) => Buffer.from(p)));
      }),
      bounded({ numRuns: 200 }),
    );
  });

  it('the length bound itself is accepted', () => {
    const { frames, error } = cut(new FrameCutter(1000), [frame(new Uint8Array(1000).fill(1))]);
    expect(error).toBeNull();
    expect(frames.map((f) => f.length)).toEqual([1000]);
  });

  it('a four-letter word is recognised however its 4 bytes are split; what follows it is ignored', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), cutsArb, (after, cuts) => {
        const cutter = new FrameCutter(FRAME_BYTES_MAX, isRuok);
        const { frames, error } = cut(cutter, split(Buffer.concat([Buffer.from('ruok'), after]), cuts));
        expect(error).toBeNull();
        expect(frames).toEqual([]);
        expect(cutter.fourLetterWord()).toBe(ruok);
        // Its first 8 bytes are kept as the word's argument (stmk's mask), whatever the split.
        expect([...cutter.wordArgument()]).toEqual([...after.subarray(0, 8)]);
      }),
      bounded({ numRuns: 200 }),
    );
  });

  it('`r` then `uok`: no answer is decided from fewer than 4 bytes', () => {
    const cutter = new FrameCutter(FRAME_BYTES_MAX, isRuok);
    expect(cutter.push(Buffer.from('r'), () => {})).toBeNull();
    expect(cutter.fourLetterWord()).toBeNull();
    expect(cutter.push(Buffer.from('uok'), () => {})).toBeNull();
    expect(cutter.fourLetterWord()).toBe(ruok);
  });

  it('only the first word of a connection can be a four-letter word', () => {
    const cutter = new FrameCutter(FRAME_BYTES_MAX, () => true);
    const first = frame(new Uint8Array([1, 2, 3]));
    // The predicate says yes to anything: the first int32 (3) is taken as a word...
    expect(cut(cutter, [first]).frames).toEqual([]);
    expect(cutter.fourLetterWord()).toBe(3);
    // ...and a cutter whose first word was a frame length never asks again.
    const asked: number[] = [];
    const second = new FrameCutter(FRAME_BYTES_MAX, (w) => (asked.push(w), false));
    const { frames } = cut(second, split(Buffer.concat([first, Buffer.from('ruok')]), [1, 2, 9]));
    expect(frames).toEqual([Buffer.from([1, 2, 3])]);
    expect(asked).toEqual([3]);
    expect(second.fourLetterWord()).toBeNull();
  });
});

describe('FrameCutter memory traffic', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Bytes of every Buffer the cutter allocates or concatenates while `run` runs. */
  function bytesAllocated(run: () => void): number {
    let bytes = 0;
    const count = <T extends (...a: never[]) => Buffer>(name: 'allocUnsafe' | 'alloc' | 'concat' | 'from' | 'copyBytesFrom'): void => {
      const original = Buffer[name] as unknown as T;
      vi.spyOn(Buffer, name).mockImplementation(((...args: never[]) => {
        const b = original.apply(Buffer, args);
        bytes += b.length;
        return b;
      }) as never);
    };
    for (const name of ['allocUnsafe', 'alloc', 'concat', 'from', 'copyBytesFrom'] as const) count(name);
    run();
    vi.restoreAllMocks();
    return bytes;
  }

  it('a 1 MiB frame in 256-byte writes is assembled with O(size) bytes allocated, not O(size^2)', () => {
    const size = 1024 * 1024;
    const stream = frame(new Uint8Array(size).fill(5));
    const chunks = Array.from({ length: Math.ceil(stream.length / 256) }, (_, i) => stream.subarray(i * 256, (i + 1) * 256));
    const cutter = new FrameCutter(2 * size);
    let got = 0;
    const bytes = bytesAllocated(() => {
      for (const c of chunks) expect(cutter.push(c, (p) => (got = p.length))).toBeNull();
    });
    expect(got).toBe(size);
    // Doubling from 64 KiB: 64 + 128 + ... + 1024 KiB < 2 x size. Re-copying the pending bytes
    // on every chunk would allocate about size^2 / 512 = 2 GiB.
    expect(bytes).toBeLessThan(2 * size);
  });

  it('a peer that announces a large frame and sends little of it costs little memory', () => {
    const cutter = new FrameCutter(100 * 1024 * 1024);
    const head = Buffer.alloc(4 + 10);
    head.writeInt32BE(100 * 1024 * 1024, 0);
    const bytes = bytesAllocated(() => expect(cutter.push(head, () => {})).toBeNull());
    expect(bytes).toBeLessThanOrEqual(64 * 1024);
  });
});
