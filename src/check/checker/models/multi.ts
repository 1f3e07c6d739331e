// Several znodes checked together, for multi (transactions): a multi couples the znodes it
// touches, so they form one partition whose state maps path -> register.
//
// Ops: the register ops on input.path (create, write, delete, read, end), and
//   txn {ops: [{kind: 'check'|'set', path, version, value?}]}
//       -> ok {versions?: [new version per op, null for check]}
//        | fail (error of the first failing op) with output {index}: ops before it would have
//          succeeded, that op's precondition does not hold; nothing is applied.

import type { Json, JsonObject, OpRecord } from '../history.js';
import type { Model, OpSemantics, ReadView, WriteEffect } from '../model.js';
import {
  ABSENT,
  describeRegister,
  hashRegister,
  numField,
  registerEffects,
  registerMayDelete,
  registerReadView,
  registerValues,
  stepRegister,
  strField,
  type RegState,
} from './register.js';

export type MultiState = ReadonlyMap<string, RegState>;

export interface TxnSubOp {
  readonly kind: 'check' | 'set';
  readonly path: string;
  readonly version: number;
  readonly value: string | null;
}

/** The sub-ops of a txn op, as recorded (malformed entries make the op impossible: null). */
export function txnOps(op: OpRecord): TxnSubOp[] | null {
  const raw = op.input['ops'];
  if (!Array.isArray(raw)) return null;
  const out: TxnSubOp[] = [];
  for (const r of raw as Json[]) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return null;
    const o = r as JsonObject;
    const kind = o['kind'];
    const path = strField(o, 'path');
    if ((kind !== 'check' && kind !== 'set') || path === null) return null;
    out.push({ kind, path, version: numField(o, 'version') ?? -1, value: strField(o, 'value') });
  }
  return out;
}

function get(s: MultiState, path: string): RegState {
  return s.get(path) ?? ABSENT;
}

function holds(r: RegState, sub: TxnSubOp): boolean {
  return r.exists && (sub.version === -1 || r.version === sub.version);
}

/** Applies every sub-op (all preconditions hold; paths in one txn are distinct). */
function applyAll(s: MultiState, subs: readonly TxnSubOp[]): Map<string, RegState> {
  const next = new Map(s);
  for (const sub of subs) {
    if (sub.kind !== 'set') continue;
    const r = get(s, sub.path);
    next.set(sub.path, { exists: true, value: sub.value, version: r.version + 1 });
  }
  return next;
}

function versionsMatch(s: MultiState, subs: readonly TxnSubOp[], op: OpRecord): boolean {
  const got = op.output?.['versions'];
  if (!Array.isArray(got)) return true;
  return subs.every((sub, i) => sub.kind !== 'set' || got[i] === null || got[i] === get(s, sub.path).version + 1);
}

/** A failed txn: the first sub-op whose precondition fails is the recorded one (when recorded). */
function failsAsRecorded(s: MultiState, subs: readonly TxnSubOp[], op: OpRecord): boolean {
  const first = subs.findIndex((sub) => !holds(get(s, sub.path), sub));
  if (first === -1) return false;
  const index = numField(op.output, 'index');
  if (index !== null && index !== first) return false;
  const r = get(s, subs[first]!.path);
  if (op.error === 'NONODE') return !r.exists;
  if (op.error === 'BADVERSION') return r.exists;
  return true;
}

/** A failure whose error says nothing about the state (THROTTLEDOP, ...): nothing was applied. */
function stateless(op: OpRecord): boolean {
  return op.error !== 'NONODE' && op.error !== 'BADVERSION';
}

function stepTxn(s: MultiState, op: OpRecord): MultiState | null {
  const subs = txnOps(op);
  if (subs === null) return null;
  const all_hold = subs.every((sub) => holds(get(s, sub.path), sub));
  if (op.outcome === 'unknown') return all_hold ? applyAll(s, subs) : s;
  if (op.outcome === 'ok') return all_hold && versionsMatch(s, subs, op) ? applyAll(s, subs) : null;
  return stateless(op) || failsAsRecorded(s, subs, op) ? s : null;
}

function stepMulti(s: MultiState, op: OpRecord): MultiState | null {
  if (op.f === 'txn') return stepTxn(s, op);
  const path = strField(op.input, 'path');
  if (path === null) return null;
  const before = get(s, path);
  const after = stepRegister(before, op);
  if (after === null) return null;
  if (after === before) return s;
  const next = new Map(s);
  next.set(path, after);
  return next;
}

function hashMulti(s: MultiState): string {
  return [...s.keys()]
    .sort()
    .map((k) => `${k}=${hashRegister(get(s, k))}`)
    .join('|');
}

export function multiModel(): Model<MultiState> {
  return {
    name: 'multi',
    init: () => new Map(),
    step: stepMulti,
    hash: hashMulti,
    describe: (s) =>
      [...s.keys()]
        .sort()
        .map((k) => `${k}: ${describeRegister(get(s, k))}`)
        .join('; '),
  };
}

function txnEffects(op: OpRecord): readonly WriteEffect[] {
  const subs = txnOps(op);
  if (op.outcome !== 'ok' || subs === null) return [];
  const versions = op.output?.['versions'];
  return subs
    .map((sub, i) => ({ sub, version: Array.isArray(versions) && typeof versions[i] === 'number' ? (versions[i] as number) : null }))
    .filter((x) => x.sub.kind === 'set')
    .map((x) => ({ path: x.sub.path, value: x.sub.value, version: x.version }));
}

export const MULTI_SEMANTICS: OpSemantics = {
  isRead: (op) => op.f === 'read',
  writeEffects(op: OpRecord): readonly WriteEffect[] {
    if (op.f === 'txn') return txnEffects(op);
    const path = strField(op.input, 'path');
    return path === null ? [] : registerEffects(op, path);
  },
  readView(op: OpRecord): ReadView | null {
    const path = strField(op.input, 'path');
    return path === null ? null : registerReadView(op, path);
  },
  valuesWritten(op: OpRecord): readonly { path: string; value: string }[] {
    if (op.f !== 'txn') {
      const path = strField(op.input, 'path');
      return path === null ? [] : registerValues(op, path);
    }
    if (op.outcome === 'fail') return [];
    const out: { path: string; value: string }[] = [];
    for (const sub of txnOps(op) ?? []) if (sub.kind === 'set' && sub.value !== null) out.push({ path: sub.path, value: sub.value });
    return out;
  },
  mayDelete(op: OpRecord): readonly string[] {
    const path = strField(op.input, 'path');
    return path === null ? [] : registerMayDelete(op, path);
  },
};
