import { describe, expect, it } from 'vitest';
import { HeadReader, HeadWriter } from '../../src/workers/link.js';

// zxids cross the threads as i64 fields written from numbers (HeadWriter.i64n): the bytes must be
// those of the BigInt layout (any reader may use i64), and a value outside the safe integers must
// never be read back as a nearby number.

describe('link head i64n', () => {
  const values = [0, 1, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001_0203, Number.MAX_SAFE_INTEGER, -1, -0x1_0000_0000, Number.MIN_SAFE_INTEGER];

  it('writes the bytes i64 writes, and reads back what it wrote', () => {
    for (const v of values) {
      const a = new HeadWriter().begin(7).i64n(v);
      const b = new HeadWriter().begin(7).i64(BigInt(v));
      expect([...a.view_bytes()], `${v}`).toEqual([...b.view_bytes()]);
      const r = new HeadReader().reset(a.view_bytes(), 0, a.length);
      expect(r.u8()).toBe(7);
      expect(r.i64n()).toBe(v);
    }
  });

  it('refuses what is not a safe integer, both ways', () => {
    expect(() => new HeadWriter().i64n(2 ** 53)).toThrow(RangeError);
    expect(() => new HeadWriter().i64n(1.5)).toThrow(RangeError);
    const w = new HeadWriter().begin(0).i64(2n ** 53n + 1n);
    const r = new HeadReader().reset(w.view_bytes(), 0, w.length);
    r.u8();
    expect(() => r.i64n()).toThrow(/not a safe integer/);
    const truncated = new HeadReader().reset(new Uint8Array(4), 0, 4);
    expect(() => truncated.i64n()).toThrow(/truncated/);
  });
});
