// The simulated replicas' state machine: a hash chain over committed payloads (two 32-bit
// lanes), plus the list of client write ids applied, so "equal digest at equal zxid" and "no
// acknowledged write is lost" are checkable. Snapshots are this state, serialized.

import { makeZxid, ZXID_ZERO, type Zxid } from '../../src/zab/zxid.js';

export interface AppState {
  zxid: Zxid;
  h1: number;
  h2: number;
  /** Client write ids, in applied order. */
  ids: number[];
}

export function emptyApp(): AppState {
  return { zxid: ZXID_ZERO, h1: 0x811c9dc5, h2: 0x01000193, ids: [] };
}

export function cloneApp(a: AppState): AppState {
  return { zxid: a.zxid, h1: a.h1, h2: a.h2, ids: [...a.ids] };
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

export function encodeSnapshot(a: AppState): Uint8Array {
  const b = new Uint8Array(20 + 4 * a.ids.length);
  const v = new DataView(b.buffer);
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
  if (b.length !== 20 + 4 * n) throw new Error('sim: bad snapshot length');
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(v.getUint32(20 + 4 * i));
  return { zxid: makeZxid(v.getUint32(0), v.getUint32(4)), h1: v.getUint32(8), h2: v.getUint32(12), ids };
}
