// The simulated replicas' state machine: a hash chain over committed payloads (two 32-bit
// lanes), plus the list of client write ids applied, so "equal digest at equal zxid" and "no
// acknowledged write is lost" are checkable, plus the membership the last reconfig applied made
// (the real replica's /zookeeper/config). Snapshots are this state, serialized.

import type { MembershipSpec } from '../../src/zab/membership.js';
import { makeZxid, ZXID_ZERO, type Zxid } from '../../src/zab/zxid.js';

/** A membership and the zxid of the reconfig that made it. */
export interface SimMembership extends MembershipSpec {
  readonly version: Zxid;
}

export interface AppState {
  zxid: Zxid;
  h1: number;
  h2: number;
  /** Client write ids, in applied order. */
  ids: number[];
  /** The membership of the last reconfig applied; null: none yet (the initial one). */
  membership: SimMembership | null;
}

export function emptyApp(): AppState {
  return { zxid: ZXID_ZERO, h1: 0x811c9dc5, h2: 0x01000193, ids: [], membership: null };
}

export function cloneApp(a: AppState): AppState {
  return { zxid: a.zxid, h1: a.h1, h2: a.h2, ids: [...a.ids], membership: a.membership };
}

// ---- reconfig writes ----------------------------------------------------------------------

/** The client id of reconfig writes: the two bytes after the write id are the voter and the
 *  observer masks (bit i: sid i + 1). */
export const RECONFIG_CLIENT = 4095;

const maskOf = (sids: readonly number[]): number => sids.reduce((m, s) => m | (1 << (s - 1)), 0);
const sidsOf = (mask: number): number[] => Array.from({ length: 8 }, (_, i) => i + 1).filter((s) => (mask & (1 << (s - 1))) !== 0);

export function encodeReconfig(seq: number, m: MembershipSpec): Uint8Array {
  const b = encodeWrite(RECONFIG_CLIENT, seq, 2);
  b[8] = maskOf(m.voters);
  b[9] = maskOf(m.observers);
  return b;
}

/** ZabConfig.membership_of for the simulated txns. */
export function reconfigSpecOf(txn: Uint8Array): MembershipSpec | null {
  if (txn.length !== 10 || Math.floor(writeIdOf(txn) / 0x10_0000) !== RECONFIG_CLIENT) return null;
  return { voters: sidsOf(txn[8]), observers: sidsOf(txn[9]) };
}

export function digestOf(a: AppState): string {
  return `${a.h1.toString(16)}.${a.h2.toString(16)}`;
}

function mix(h: number, v: number, k: number): number {
  h = Math.imul(h ^ v, k);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Applies one committed txn. */
export function applyTxn(a: AppState, zxid: Zxid, txn: Uint8Array): void {
  let h1 = mix(a.h1, zxid.epoch, 0x01000193);
  let h2 = mix(a.h2, zxid.epoch, 0x85ebca6b);
  h1 = mix(h1, zxid.counter, 0x01000193);
  h2 = mix(h2, zxid.counter, 0x85ebca6b);
  for (let i = 0; i < txn.length; i++) {
    h1 = mix(h1, txn[i], 0x01000193);
    h2 = mix(h2, txn[i], 0xc2b2ae35);
  }
  a.h1 = h1;
  a.h2 = h2;
  a.zxid = zxid;
  a.ids.push(writeIdOf(txn));
  const spec = reconfigSpecOf(txn);
  if (spec !== null) a.membership = { version: zxid, voters: spec.voters, observers: spec.observers };
}

// ---- client writes ----------------------------------------------------------------------

/** Write ids: client << 20 | seq (fits a u32 for < 4096 clients of < 2^20 writes each). */
export function writeId(client: number, seq: number): number {
  return client * 0x10_0000 + seq;
}

export function encodeWrite(client: number, seq: number, filler_bytes: number): Uint8Array {
  const b = new Uint8Array(8 + filler_bytes);
  const v = new DataView(b.buffer);
  v.setUint32(0, client);
  v.setUint32(4, seq);
  for (let i = 0; i < filler_bytes; i++) b[8 + i] = (client * 31 + seq * 7 + i) & 0xff;
  return b;
}

export function writeIdOf(txn: Uint8Array): number {
  if (txn.length < 8) throw new Error('sim: txn too short to be a client write');
  const v = new DataView(txn.buffer, txn.byteOffset, txn.byteLength);
  return writeId(v.getUint32(0), v.getUint32(4));
}

// ---- snapshots --------------------------------------------------------------------------

/** After the ids: the membership's version (epoch, counter) and its voter and observer masks
 *  (all four 0xffffffff when there is none). */
const MEMBERSHIP_BYTES = 16;

export function encodeSnapshot(a: AppState): Uint8Array {
  const b = new Uint8Array(20 + 4 * a.ids.length + MEMBERSHIP_BYTES);
  const v = new DataView(b.buffer);
  const at = 20 + 4 * a.ids.length;
  const m = a.membership;
  v.setUint32(at, m === null ? 0xffff_ffff : m.version.epoch);
  v.setUint32(at + 4, m === null ? 0xffff_ffff : m.version.counter);
  v.setUint32(at + 8, m === null ? 0xffff_ffff : maskOf(m.voters));
  v.setUint32(at + 12, m === null ? 0xffff_ffff : maskOf(m.observers));
  v.setUint32(0, a.zxid.epoch);
  v.setUint32(4, a.zxid.counter);
  v.setUint32(8, a.h1);
  v.setUint32(12, a.h2);
  v.setUint32(16, a.ids.length);
  a.ids.forEach((id, i) => v.setUint32(20 + 4 * i, id));
  return b;
}

export function decodeSnapshot(b: Uint8Array): AppState {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = v.getUint32(16);
  if (b.length !== 20 + 4 * n + MEMBERSHIP_BYTES) throw new Error('sim: bad snapshot length');
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(v.getUint32(20 + 4 * i));
  const at = 20 + 4 * n;
  const membership: SimMembership | null =
    v.getUint32(at + 8) === 0xffff_ffff
      ? null
      : { version: makeZxid(v.getUint32(at), v.getUint32(at + 4)), voters: sidsOf(v.getUint32(at + 8)), observers: sidsOf(v.getUint32(at + 12)) };
  return { zxid: makeZxid(v.getUint32(0), v.getUint32(4)), h1: v.getUint32(8), h2: v.getUint32(12), ids, membership };
}
