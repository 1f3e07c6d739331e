import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRC32C_IMPL, crc32c, crc32cJs } from '../../src/log/crc32c.js';
import { bounded } from '../support/fc_bounds.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('uses the native implementation here (prebuilt @node-rs/crc32 for linux-x64)', () => {
    expect(CRC32C_IMPL).toBe('native');
  });

  it('computes the standard check values (CRC-32C, not CRC-32/IEEE)', () => {
    expect(crc32c(bytes('123456789'))).toBe(0xe3069283);
    expect(crc32cJs(bytes('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('native and JS twins agree, and both chain: crc(b, crc(a)) = crc(a ++ b)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), (a, b) => {
        const ab = new Uint8Array([...a, ...b]);
        const whole = crc32c(ab);
        expect(crc32cJs(ab)).toBe(whole);
        expect(crc32c(b, crc32c(a))).toBe(whole);
        expect(crc32cJs(b, crc32cJs(a))).toBe(whole);
      }),
      bounded(),
    );
  });

  it('detects every single-bit flip in a record-sized buffer', () => {
    const buf = new Uint8Array(200).map((_, i) => (i * 31) & 0xff);
    const good = crc32c(buf);
    for (let bit = 0; bit < buf.length * 8; bit++) {
      buf[bit >> 3] ^= 1 << (bit & 7);
      expect(crc32c(buf)).not.toBe(good);
      buf[bit >> 3] ^= 1 << (bit & 7);
    }
  });
});
