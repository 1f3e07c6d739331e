import { describe, it, expect } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { sessionPasswd, passwdEquals } from '../../src/session/passwd.js';

const SECRET = new Uint8Array(32).fill(0x5a);

describe('sessionPasswd', () => {
  it('is 16 bytes of HMAC-SHA256(secret, id as a big-endian long)', () => {
    const id = 0x018b_cfe5_6800_0001n;
    const id_bytes = Buffer.alloc(8);
    id_bytes.writeBigInt64BE(id);
    const want = createHmac('sha256', SECRET).update(id_bytes).digest().subarray(0, 16);
    const got = sessionPasswd(id, SECRET);
    expect(got.length).toBe(16);
    expect(Buffer.from(got).equals(want)).toBe(true);
  });

  it('is reproducible from the secret (another replica derives the same)', () => {
    const copy = Uint8Array.from(SECRET);
    expect(sessionPasswd(42n, SECRET)).toEqual(sessionPasswd(42n, copy));
  });

  it('differs between ids and between secrets', () => {
    const seen = new Set<string>();
    for (const id of [1n, 2n, 3n, -1n, 0x7fff_ffff_ffff_ffffn, -0x8000_0000_0000_0000n]) {
      seen.add(Buffer.from(sessionPasswd(id, SECRET)).toString('hex'));
    }
    expect(seen.size).toBe(6);
    const other = Uint8Array.from(randomBytes(32));
    expect(passwdEquals(sessionPasswd(1n, SECRET), sessionPasswd(1n, other))).toBe(false);
  });

  it('refuses a short secret and ids outside a long', () => {
    expect(() => sessionPasswd(1n, new Uint8Array(8))).toThrow();
    expect(() => sessionPasswd(1n << 64n, SECRET)).toThrow();
  });
});

describe('passwdEquals', () => {
  it('compares contents', () => {
    const a = sessionPasswd(7n, SECRET);
    expect(passwdEquals(a, Uint8Array.from(a))).toBe(true);
    const b = Uint8Array.from(a);
    b[15] ^= 1;
    expect(passwdEquals(a, b)).toBe(false);
    expect(passwdEquals(a, a.subarray(0, 15))).toBe(false);
    expect(passwdEquals(new Uint8Array(16), new Uint8Array(16))).toBe(true);
  });
});
