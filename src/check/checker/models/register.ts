// A znode as a compare-and-set register: getData / setData with an expected version / create /
// delete, plus "end" (the owning session closed or expired: an ephemeral node goes away).
// Values are unique per write in the workloads, which keeps the search narrow: a read can match
// only one write.
//
// Ops (f, input -> ok output; definite failures by error code; any other error the server answered
// means "not applied" and is accepted in any state):
//   create {value}                -> {} | fail NODEEXISTS
//   write  {value, version}       -> {version, mzxid} | fail BADVERSION, NONODE   (version -1: any)
//   delete {version}              -> {} | fail BADVERSION, NONODE
//   read   {}                     -> {exists, value?, version?, mzxid?}   (NONODE = exists false)
//   end    {}                     -> {} (ephemeral removed with its session; never fails)

import type { JsonObject, OpRecord } from '../history.js';
import type { Model, OpSemantics, ReadView, WriteEffect } from '../model.js';

export interface RegState {
  readonly exists: boolean;
  readonly value: string | null;
  /** Data version (Stat.version); meaningful only while exists. */
  readonly version: number;
}

export const ABSENT: RegState = { exists: false, value: null, version: 0 };

function field(o: JsonObject | null, k: string): unknown {
  return o === null ? undefined : o[k];
}

export function strField(o: JsonObject | null, k: string): string | null {
  const v = field(o, k);
  return typeof v === 'string' ? v : null;
}

export function numField(o: JsonObject | null, k: string): number | null {
  const v = field(o, k);
  return typeof v === 'number' ? v : null;
}

function versionMatches(s: RegState, expected: number): boolean {
  return s.exists && (expected === -1 || s.version === expected);
}

function stepCreate(s: RegState, op: OpRecord): RegState | null {
  const created: RegState = { exists: true, value: strField(op.input, 'value'), version: 0 };
  if (op.outcome === 'ok') return s.exists ? null : created;
  if (op.outcome === 'unknown') return s.exists ? s : created;
  if (op.error === 'NODEEXISTS') return s.exists ? s : null;
  return s;
}

function stepWrite(s: RegState, op: OpRecord): RegState | null {
  const expected = numField(op.input, 'version') ?? -1;
  const written: RegState = { exists: true, value: strField(op.input, 'value'), version: s.version + 1 };
  if (op.outcome === 'unknown') return versionMatches(s, expected) ? written : s;
  if (op.outcome === 'ok') {
    if (!versionMatches(s, expected)) return null;
    const got = numField(op.output, 'version');
    return got === null || got === written.version ? written : null;
  }
  return failedPrecondition(s, expected, op.error);
}

/**
 * BADVERSION: the node exists at another version; NONODE: it does not exist. Any other error the
 * server answered (NOTREADONLY, THROTTLEDOP, ...) says the op was not applied, whatever the state.
 */
function failedPrecondition(s: RegState, expected: number, error: string | null): RegState | null {
  if (error === 'NONODE') return s.exists ? null : s;
  if (error === 'BADVERSION') return s.exists && expected !== -1 && s.version !== expected ? s : null;
  return s;
}

function stepDelete(s: RegState, op: OpRecord): RegState | null {
  const expected = numField(op.input, 'version') ?? -1;
  if (op.outcome === 'unknown') return versionMatches(s, expected) ? ABSENT : s;
  if (op.outcome === 'ok') return versionMatches(s, expected) ? ABSENT : null;
  return failedPrecondition(s, expected, op.error);
}

function stepRead(s: RegState, op: OpRecord): RegState | null {
  if (op.outcome !== 'ok') return s;
  const exists = field(op.output, 'exists') === true;
  if (!exists) return s.exists ? null : s;
  if (!s.exists || s.value !== strField(op.output, 'value')) return null;
  const version = numField(op.output, 'version');
  return version === null || version === s.version ? s : null;
}

/** One register's transition; shared with the multi model. */
export function stepRegister(s: RegState, op: OpRecord): RegState | null {
  switch (op.f) {
    case 'create':
      return stepCreate(s, op);
    case 'write':
      return stepWrite(s, op);
    case 'delete':
      return stepDelete(s, op);
    case 'read':
      return stepRead(s, op);
    case 'end':
      return ABSENT;
    default:
      return null;
  }
}

export function hashRegister(s: RegState): string {
  return s.exists ? `${s.version}:${s.value ?? ''}` : '-';
}

export function describeRegister(s: RegState): string {
  return s.exists ? `value ${JSON.stringify(s.value)} at version ${s.version}` : 'absent';
}

export function registerModel(): Model<RegState> {
  return {
    name: 'register',
    init: () => ABSENT,
    step: stepRegister,
    hash: hashRegister,
    describe: describeRegister,
  };
}

export const REGISTER_SEMANTICS: OpSemantics = {
  isRead: (op) => op.f === 'read',
  writeEffects(op: OpRecord): readonly WriteEffect[] {
    return registerEffects(op, op.key);
  },
  readView(op: OpRecord): ReadView | null {
    return registerReadView(op, op.key);
  },
  valuesWritten: (op) => registerValues(op, op.key),
  mayDelete: (op) => registerMayDelete(op, op.key),
};

/** The value a create or write may have stored (not for definite failures). */
export function registerValues(op: OpRecord, path: string): readonly { path: string; value: string }[] {
  const value = strField(op.input, 'value');
  if (op.outcome === 'fail' || value === null || (op.f !== 'create' && op.f !== 'write')) return [];
  return [{ path, value }];
}

/** A delete the zxid checks cannot place: its zxid is unknown (unknown outcome, or a session end). */
export function registerMayDelete(op: OpRecord, path: string): readonly string[] {
  return op.outcome !== 'fail' && op.zxid === null && (op.f === 'delete' || op.f === 'end') ? [path] : [];
}

/** The change an ok single-znode op made (for the zxid checks). */
export function registerEffects(op: OpRecord, path: string): readonly WriteEffect[] {
  if (op.outcome !== 'ok') return [];
  switch (op.f) {
    case 'create':
      return [{ path, value: strField(op.input, 'value'), version: 0 }];
    case 'write':
      return [{ path, value: strField(op.input, 'value'), version: numField(op.output, 'version') }];
    case 'delete':
    case 'end':
      return [{ path, value: null, version: null }];
    default:
      return [];
  }
}

export function registerReadView(op: OpRecord, path: string): ReadView | null {
  if (op.f !== 'read' || op.outcome !== 'ok') return null;
  const exists = field(op.output, 'exists') === true;
  return {
    path,
    exists,
    value: exists ? strField(op.output, 'value') : null,
    version: exists ? numField(op.output, 'version') : null,
    mzxid: exists ? numField(op.output, 'mzxid') : null,
  };
}
