// Terse construction of histories for the checker's tests.

import type { EventRecord, History, JsonObject, ModelName, OpRecord, Outcome } from '../../src/check/checker/history.js';

export interface OpSpec {
  id: number;
  session?: number;
  model?: ModelName;
  key?: string;
  f: string;
  input?: JsonObject;
  /** ok output; for 'fail' give error. */
  output?: JsonObject | null;
  outcome?: Outcome;
  error?: string;
  /** [invoke, complete]; complete null = unknown outcome. */
  at: [number, number | null];
  sync_ms?: number;
  zxid?: number;
  invoke_seq?: number;
  reply_seq?: number;
}

export function op(s: OpSpec): OpRecord {
  const outcome: Outcome = s.outcome ?? (s.at[1] === null ? 'unknown' : s.error !== undefined ? 'fail' : 'ok');
  return {
    type: 'op',
    id: s.id,
    session: s.session ?? s.id,
    process: `p${s.session ?? s.id}`,
    model: s.model ?? 'register',
    key: s.key ?? '/r',
    f: s.f,
    input: s.input ?? {},
    outcome,
    output: s.output ?? (outcome === 'ok' ? {} : null),
    error: s.error ?? (outcome === 'unknown' ? 'CONNECTIONLOSS' : null),
    invoke_ms: s.at[0],
    complete_ms: s.at[1],
    sync_ms: s.sync_ms ?? null,
    zxid: s.zxid ?? null,
    invoke_seq: s.invoke_seq ?? s.at[0] * 10,
    reply_seq: s.reply_seq ?? (s.at[1] === null ? null : s.at[1] * 10),
  };
}

export function event(e: Omit<EventRecord, 'type'>): EventRecord {
  return { type: 'event', ...e };
}

export function history(ops: readonly OpRecord[], events: readonly EventRecord[] = []): History {
  const end_ms = Math.max(0, ...ops.map((o) => o.complete_ms ?? o.invoke_ms));
  return { meta: null, ops, events, faults: [], end_ms };
}

/** Register shorthands. */
export const reg = {
  create: (id: number, at: [number, number | null], value: string, more: Partial<OpSpec> = {}) => op({ id, f: 'create', input: { value }, at, ...more }),
  write: (id: number, at: [number, number | null], value: string, version: number, out: number | null, more: Partial<OpSpec> = {}) =>
    op({ id, f: 'write', input: { value, version }, output: out === null ? undefined : { version: out }, at, ...more }),
  read: (id: number, at: [number, number], value: string | null, version: number | null, more: Partial<OpSpec> & { mzxid?: number } = {}) => {
    const { mzxid, ...rest } = more;
    const seen: JsonObject = value === null ? { exists: false } : { exists: true, value, version: version ?? 0 };
    if (mzxid !== undefined) seen['mzxid'] = mzxid;
    return op({ id, f: 'read', output: seen, at, ...rest });
  },
};
