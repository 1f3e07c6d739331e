import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareZxid,
  makeZxid,
  nextZxid,
  zxidFromBigInt,
  zxidFromNumber,
  zxidToBigInt,
  zxidToNumber,
  zxidToString,
  COUNTER_MAX,
} from '../../src/zab/zxid.js';
import { bounded } from '../support/fc_bounds.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const zxidArb = fc.record({ epoch: u32, counter: u32 });

describe('zxid', () => {
  it('orders exactly like ZooKeeper\'s u64 (epoch << 32 | counter)', () => {
    fc.assert(
      fc.property(zxidArb, zxidArb, (a, b) => {
        const ua = zxidToBigInt(a);
        const ub = zxidToBigInt(b);
        expect(Math.sign(compareZxid(a, b))).toBe(ua < ub ? -1 : ua > ub ? 1 : 0);
        expect(zxidFromBigInt(ua)).toEqual(a);
      }),
      bounded(),
    );
  });

  it('numbers the first txn of an epoch (e, 1), then counts up', () => {
    expect(nextZxid(makeZxid(3, 17), 5)).toEqual(makeZxid(5, 1));
    expect(nextZxid(makeZxid(5, 1), 5)).toEqual(makeZxid(5, 2));
    expect(nextZxid(makeZxid(0, 0), 1)).toEqual(makeZxid(1, 1));
  });

  it('reports counter exhaustion (null): the leader must start a new epoch', () => {
    expect(nextZxid(makeZxid(2, COUNTER_MAX), 2)).toBeNull();
    expect(nextZxid(makeZxid(2, 9), 2, 10)).toEqual(makeZxid(2, 10));
    expect(nextZxid(makeZxid(2, 10), 2, 10)).toBeNull();
    // A new epoch starts over, whatever the previous counter.
    expect(nextZxid(makeZxid(2, COUNTER_MAX), 3)).toEqual(makeZxid(3, 1));
  });

  it('asserts its inputs: out-of-range halves, a last zxid from a later epoch', () => {
    expect(() => makeZxid(-1, 0)).toThrow(/epoch/);
    expect(() => makeZxid(0, 2 ** 32)).toThrow(/counter/);
    expect(() => makeZxid(1.5, 0)).toThrow(/epoch/);
    expect(() => nextZxid(makeZxid(4, 1), 3)).toThrow(/after epoch/);
  });

  it('converts to a safe-integer number while epoch < 2^21, and refuses beyond', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 21 - 1 }), u32, (epoch, counter) => {
        const z = makeZxid(epoch, counter);
        expect(zxidToNumber(z)).toBe(Number(zxidToBigInt(z)));
        expect(zxidFromNumber(zxidToNumber(z))).toEqual(z);
      }),
      bounded(),
    );
    expect(() => zxidToNumber(makeZxid(2 ** 21, 0))).toThrow(/safe integer/);
  });

  it('prints as ZooKeeper logs do (hex halves)', () => {
    expect(zxidToString(makeZxid(3, 26))).toBe('3:1a');
  });
});
