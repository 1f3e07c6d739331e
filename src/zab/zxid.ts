// zxid = epoch << 32 | counter, as an explicit value type.
//
// A zxid names one txn: the epoch of the leader that proposed it and that leader's counter.
// Both halves are u32. JavaScript numbers cannot hold a full u64 exactly, so the pair is kept
// as two numbers and compared lexicographically (epoch first), which is the same order as the
// u64. Counter 0 never names a txn: (e, 0) is "before every txn of epoch e" (ZooKeeper's
// makeZxid(epoch, 0)), and the leader of epoch e numbers its proposals (e, 1), (e, 2), ...
// When the counter would pass its maximum the leader cannot number another txn in its epoch:
// it must give up leadership so that a new election starts a new epoch (ZooKeeper does the
// same: "zxid lower 32 bits have rolled over, forcing re-election").

export interface Zxid {
  readonly epoch: number;
  readonly counter: number;
}

export const U32_MAX = 0xffff_ffff;
/** The largest counter a zxid can carry on the wire. Config may lower it (tests). */
export const COUNTER_MAX = U32_MAX;
export const EPOCH_MAX = U32_MAX;

/** The zxid before every txn: an empty history. */
export const ZXID_ZERO: Zxid = Object.freeze({ epoch: 0, counter: 0 });

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

export function isZxid(z: Zxid): boolean {
  return isU32(z.epoch) && isU32(z.counter);
}

/** Makes a zxid; both halves must be u32 (an assertion: callers pass validated numbers). */
export function makeZxid(epoch: number, counter: number): Zxid {
  if (!isU32(epoch)) throw new Error(`zxid epoch out of range: ${epoch}`);
  if (!isU32(counter)) throw new Error(`zxid counter out of range: ${counter}`);
  return { epoch, counter };
}

export function compareZxid(a: Zxid, b: Zxid): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return 0;
}

export function zxidEq(a: Zxid, b: Zxid): boolean {
  return a.epoch === b.epoch && a.counter === b.counter;
}

export function zxidLt(a: Zxid, b: Zxid): boolean {
  return compareZxid(a, b) < 0;
}

export function zxidLe(a: Zxid, b: Zxid): boolean {
  return compareZxid(a, b) <= 0;
}

export function zxidMax(a: Zxid, b: Zxid): Zxid {
  return compareZxid(a, b) >= 0 ? a : b;
}

export function zxidMin(a: Zxid, b: Zxid): Zxid {
  return compareZxid(a, b) <= 0 ? a : b;
}

/**
 * The zxid a leader of `epoch` gives the txn after `last`, or null when its counter is
 * exhausted (the leader must start a new epoch). `last` is the leader's last logged zxid: of
 * an earlier epoch right after the election (the first proposal is then (epoch, 1)), or of
 * `epoch` itself. `counter_max` defaults to the wire maximum; tests lower it.
 */
export function nextZxid(last: Zxid, epoch: number, counter_max: number = COUNTER_MAX): Zxid | null {
  if (last.epoch > epoch) throw new Error(`nextZxid: last ${zxidToString(last)} is after epoch ${epoch}`);
  if (counter_max < 1 || counter_max > COUNTER_MAX) throw new Error(`nextZxid: bad counter_max ${counter_max}`);
  if (last.epoch < epoch) return makeZxid(epoch, 1);
  if (last.counter >= counter_max) return null;
  return makeZxid(epoch, last.counter + 1);
}

/** "epoch:counter" in hex, as ZooKeeper's logs print the two halves (e.g. "3:1a"). */
export function zxidToString(z: Zxid): string {
  return `${z.epoch.toString(16)}:${z.counter.toString(16)}`;
}

/** The u64 value (ZooKeeper's long zxid), for interop with jute records. */
export function zxidToBigInt(z: Zxid): bigint {
  return (BigInt(z.epoch) << 32n) | BigInt(z.counter);
}

export function zxidFromBigInt(v: bigint): Zxid {
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new Error(`zxid out of range: ${v}`);
  return makeZxid(Number(v >> 32n), Number(v & 0xffff_ffffn));
}

/**
 * The zxid as one safe-integer number (epoch * 2^32 + counter), for maps and for the parts of
 * waitfree that carry zxids as numbers. Exact while epoch < 2^21, which the assertion checks.
 */
export function zxidToNumber(z: Zxid): number {
  if (z.epoch >= 2 ** 21) throw new Error(`zxidToNumber: epoch ${z.epoch} does not fit a safe integer`);
  return z.epoch * 0x1_0000_0000 + z.counter;
}

export function zxidFromNumber(n: number): Zxid {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`zxidFromNumber: ${n}`);
  return makeZxid(Math.floor(n / 0x1_0000_0000), n % 0x1_0000_0000);
}
