import { describe, it, expect } from 'vitest';
import { firstSessionId, nextSessionId, sessionIdHex, LONG_MIN } from '../../src/session/session_id.js';
import { negotiateTimeout, defaultTimeoutBounds } from '../../src/session/negotiate.js';

describe('firstSessionId: ((now << 24) >>> 8) | (server << 56) on a Java long', () => {
  // By hand: 1_700_000_000_000 = 0x18B_CFE5_6800 (41 bits). << 24 = 0x1_8BCF_E568_0000_0000;
  // a long keeps the low 64 bits: 0x8BCF_E568_0000_0000; >>> 8 (zero fill) = 0x008B_CFE5_6800_0000.
  it('now = 1_700_000_000_000, server 1', () => {
    expect(firstSessionId(1_700_000_000_000, 1)).toBe(0x018b_cfe5_6800_0000n);
  });
  it('now = 1_700_000_000_000, server 200: top bit set, so the id is negative', () => {
    // 0xC88B_CFE5_6800_0000 as a signed long = -0x3774_301A_9800_0000.
    expect(firstSessionId(1_700_000_000_000, 200)).toBe(-0x3774_301a_9800_0000n);
  });
  it('now = 1, server 0: 1 << 16', () => {
    expect(firstSessionId(1, 0)).toBe(0x1_0000n);
  });
  it('time bits above bit 39 are shifted out, as in Java', () => {
    expect(firstSessionId(2 ** 40 + 5, 0)).toBe(0x5_0000n);
    expect(firstSessionId(2 ** 40 + 5, 3)).toBe(0x0300_0000_0005_0000n);
  });
  it('never returns 0 (means "new session")', () => {
    expect(firstSessionId(0, 0)).toBe(1n);
    expect(firstSessionId(2 ** 40, 0)).toBe(1n);
  });
  it('refuses server ids that would collide with the TTL marker, and bad times', () => {
    expect(() => firstSessionId(1, 255)).toThrow();
    expect(() => firstSessionId(1, -1)).toThrow();
    expect(() => firstSessionId(-1, 1)).toThrow();
    expect(() => firstSessionId(1.5, 1)).toThrow();
    expect(firstSessionId(1, 254)).toBe(-0x0200_0000_0000_0000n + 0x1_0000n);
  });
});

describe('nextSessionId', () => {
  it('increments', () => {
    expect(nextSessionId(0x018b_cfe5_6800_0000n)).toBe(0x018b_cfe5_6800_0001n);
  });
  it('wraps like a long and skips Long.MIN_VALUE (the container marker)', () => {
    expect(nextSessionId(0x7fff_ffff_ffff_ffffn)).toBe(LONG_MIN + 1n);
    expect(LONG_MIN).toBe(-0x8000_0000_0000_0000n);
  });
  it('skips 0', () => {
    expect(nextSessionId(-1n)).toBe(1n);
  });
  it('refuses values outside a long', () => {
    expect(() => nextSessionId(1n << 63n)).toThrow();
  });
});

describe('sessionIdHex', () => {
  it('prints unsigned hex like Long.toHexString', () => {
    expect(sessionIdHex(0x018b_cfe5_6800_0000n)).toBe('0x18bcfe568000000');
    expect(sessionIdHex(-1n)).toBe('0xffffffffffffffff');
  });
});

describe('negotiateTimeout', () => {
  const { min_ms, max_ms } = defaultTimeoutBounds(2000);
  it('defaults to 2 and 20 ticks', () => {
    expect([min_ms, max_ms]).toEqual([4000, 40_000]);
  });
  it('clamps into [min, max]', () => {
    expect(negotiateTimeout(30_000, min_ms, max_ms)).toBe(30_000);
    expect(negotiateTimeout(1000, min_ms, max_ms)).toBe(4000);
    expect(negotiateTimeout(0, min_ms, max_ms)).toBe(4000);
    expect(negotiateTimeout(-5, min_ms, max_ms)).toBe(4000);
    expect(negotiateTimeout(2 ** 31 - 1, min_ms, max_ms)).toBe(40_000);
    expect(negotiateTimeout(4000, min_ms, max_ms)).toBe(4000);
    expect(negotiateTimeout(40_000, min_ms, max_ms)).toBe(40_000);
  });
  it('refuses inverted bounds', () => {
    expect(() => negotiateTimeout(5000, 6000, 5000)).toThrow();
  });
});
