// copyFromShared copies out of a SharedArrayBuffer at any pair of alignments: the bytes asked
// for land exactly, nothing before the destination offset changes, and without room for its
// scratch it still copies (the plain way). copyToShared copies into one, from local or shared
// memory, and changes nothing around the destination range.

import { describe, expect, it } from 'vitest';
import { copyFromShared, copyToShared, SKEW_BYTES_MAX, STAGED_BYTES_MAX } from '../../src/memory/shared_copy.js';

function sharedPattern(bytes: number): Uint8Array {
  const u8 = new Uint8Array(new SharedArrayBuffer(bytes));
  for (let i = 0; i < bytes; i++) u8[i] = (i * 7 + 3) & 0xff;
  return u8;
}

describe('copyFromShared', () => {
  it('copies exactly, for every source and destination alignment and around the loop bound', () => {
    const src = sharedPattern(4096);
    for (const len of [0, 1, 7, 63, 64, 65, 100, 200, 255, 256, 257, 1100]) {
      for (let from = 0; from < 8; from++) {
        for (let at = 0; at < 8; at++) {
          const dst = new Uint8Array(1200 + 16).fill(0xee);
          copyFromShared(dst, at + 8, src, from + 100, len);
          expect(dst.subarray(at + 8, at + 8 + len), `len ${len} from ${from} at ${at}`).toEqual(src.subarray(from + 100, from + 100 + len));
          expect(dst.subarray(0, at + 8).every((b) => b === 0xee), 'bytes before the destination').toBe(true);
        }
      }
    }
  });

  it('uses at most SKEW_BYTES_MAX bytes past the copy as scratch', () => {
    const src = sharedPattern(2048);
    for (let from = 0; from < 8; from++) {
      const dst = new Uint8Array(2048).fill(0xee);
      copyFromShared(dst, 16, src, from, 500);
      expect(dst.subarray(16 + 500 + SKEW_BYTES_MAX).every((b) => b === 0xee)).toBe(true);
    }
  });

  it('copies into a destination with no room past the data, and from a view with its own offset', () => {
    const src = sharedPattern(4096).subarray(3, 3000);
    for (const len of [500, 200]) {
      for (let from = 0; from < 8; from++) {
        const dst = new Uint8Array(new ArrayBuffer(600), 5, len);
        copyFromShared(dst, 0, src, from, len);
        expect(dst).toEqual(src.subarray(from, from + len));
      }
    }
  });

  it('copies right between more buffers than it keeps word views of, in turn', () => {
    const sources = Array.from({ length: 7 }, (_, i) => sharedPattern(512 + 4 * i));
    const targets = Array.from({ length: 7 }, () => new Uint8Array(512));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < sources.length; i++) {
        const j = (i * 3 + round) % targets.length;
        targets[j].fill(0);
        copyFromShared(targets[j], 4 * round, sources[i], 8 + 4 * i, 160);
        expect(targets[j].subarray(4 * round, 4 * round + 160)).toEqual(sources[i].subarray(8 + 4 * i, 8 + 4 * i + 160));
      }
    }
  });
});

function localPattern(bytes: number): Uint8Array {
  const u8 = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) u8[i] = (i * 13 + 5) & 0xff;
  return u8;
}

describe('copyToShared', () => {
  it('copies exactly from local and from shared memory, for every pair of alignments and around the bounds', () => {
    for (const src of [localPattern(STAGED_BYTES_MAX + 200), sharedPattern(STAGED_BYTES_MAX + 200)]) {
      for (const len of [0, 1, 63, 64, 65, 100, 255, 256, 257, 1100, STAGED_BYTES_MAX, STAGED_BYTES_MAX + 1]) {
        for (let from = 0; from < 8; from++) {
          for (let at = 0; at < 8; at++) {
            const dst = new Uint8Array(new SharedArrayBuffer(STAGED_BYTES_MAX + 64)).fill(0xee);
            copyToShared(dst, at + 8, src, from + 100, len);
            const label = `len ${len} from ${from} at ${at} (${src.buffer instanceof SharedArrayBuffer ? 'shared' : 'local'})`;
            expect(Buffer.compare(dst.subarray(at + 8, at + 8 + len), src.subarray(from + 100, from + 100 + len)), label).toBe(0);
            expect(dst.subarray(0, at + 8).every((b) => b === 0xee), `bytes before: ${label}`).toBe(true);
            expect(dst.subarray(at + 8 + len).every((b) => b === 0xee), `bytes after: ${label}`).toBe(true);
          }
        }
      }
    }
  });

  it('copies into a view with its own offset, from a view with its own offset', () => {
    const src = localPattern(4096).subarray(3, 3000);
    for (const len of [500, 200]) {
      for (let from = 0; from < 8; from++) {
        const dst = new Uint8Array(new SharedArrayBuffer(600), 5, len);
        copyToShared(dst, 0, src, from, len);
        expect(dst).toEqual(src.subarray(from, from + len));
      }
    }
  });
});

describe('copies among many views, each with its own byteOffset', () => {
  // shared_copy keeps the byteOffset of the arrays it copied between last, by identity; a copy
  // whose two ends are both new must not let one evict the other's entry.
  it('lands every byte where a plain copy would, whatever the order the views come in', () => {
    let seed = 12345;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const shared_buf = new SharedArrayBuffer(64 * 1024);
    const local_buf = new ArrayBuffer(64 * 1024);
    const shared = Array.from({ length: 20 }, (_, i) => new Uint8Array(shared_buf, i * 3000 + (i % 8), 2048));
    const local = Array.from({ length: 20 }, (_, i) => new Uint8Array(local_buf, i * 3000 + ((i * 5) % 8), 2048));
    for (const v of [...shared, ...local]) for (let k = 0; k < v.length; k++) v[k] = next(256);
    for (let round = 0; round < 3000; round++) {
      const s = shared[next(shared.length)]!;
      const l = local[next(local.length)]!;
      const len = 65 + next(1100);
      const from = next(2048 - len);
      const at = next(2048 - len - SKEW_BYTES_MAX);
      const [src, dst] = round % 2 === 0 ? [s, l] : [l, s];
      const expected = Array.from(src.subarray(from, from + len));
      const before = dst[at - 1];
      if (round % 2 === 0) copyFromShared(dst, at, src, from, len);
      else copyToShared(dst, at, src, from, len);
      expect(Array.from(dst.subarray(at, at + len)), `round ${round}`).toEqual(expected);
      if (at > 0) expect(dst[at - 1]).toBe(before);
    }
  });
});

describe('ranges outside an array', () => {
  it('are refused, not clamped or read past the view into the rest of its buffer', () => {
    const sab = new SharedArrayBuffer(4096);
    const shared = new Uint8Array(sab, 1024, 1024);
    const local = new Uint8Array(new ArrayBuffer(4096), 1024, 1024);
    for (const len of [10, 100, 600]) {
      expect(() => copyFromShared(local, 0, shared, 1024 - len + 1, len)).toThrow(RangeError);
      expect(() => copyFromShared(local, 1024 - len + 1, shared, 0, len)).toThrow(RangeError);
      expect(() => copyToShared(shared, 0, local, 1024 - len + 1, len)).toThrow(RangeError);
      expect(() => copyToShared(shared, 1024 - len + 1, local, 0, len)).toThrow(RangeError);
      expect(() => copyToShared(shared, -1, local, 0, len)).toThrow(RangeError);
    }
  });
});
