// The tree, the log and the commit stream number txns with a JS number (epoch * 2^32 + counter,
// exact up to 2^53, so epochs below 2^21); the Zab core with an explicit (epoch, counter) pair.
// These two functions are the only crossing between the two.

import { makeZxid, type Zxid } from '../zab/zxid.js';

const EPOCH_UNIT = 0x1_0000_0000;
const EPOCH_NUMBER_MAX = 2 ** 21 - 1;

export function zxidOfNumber(n: number): Zxid {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`zxid ${n} is not a non-negative safe integer`);
  const epoch = Math.floor(n / EPOCH_UNIT);
  return makeZxid(epoch, n - epoch * EPOCH_UNIT);
}

export function numberOfZxid(z: Zxid): number {
  if (z.epoch > EPOCH_NUMBER_MAX) throw new Error(`zxid epoch ${z.epoch} above ${EPOCH_NUMBER_MAX}: not representable in this replica`);
  return z.epoch * EPOCH_UNIT + z.counter;
}
