// Property tests of the checker: histories generated from a sequential register model with random
// overlapping intervals around each op's linearization point must be valid; each mutation below
// turns one into a history that cannot be linearized (or breaks a zxid promise) and must be
// invalid. The generator keeps what the mutations rely on: values are unique, versions grow by
// one per applied write, zxids follow the linearization order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHistory } from '../../src/check/checker/check.js';
import type { History, OpRecord } from '../../src/check/checker/history.js';
import { bounded } from '../support/fc_bounds.js';
import { history, op } from './history_builder.js';

type Kind = 'cas' | 'blind' | 'sync_read' | 'plain_read';

interface Plan {
  key: number;
  kind: Kind;
  before: number;
  after: number;
  unknown: boolean;
  applied: boolean;
  version_guess: number;
  lag: number;
}

const KEYS = ['/k0', '/k1', '/k2'];
const STEP_MS = 10;

const planArb = fc.record({
  key: fc.nat(KEYS.length - 1),
  kind: fc.constantFrom<Kind>('cas', 'cas', 'blind', 'sync_read', 'plain_read'),
  before: fc.nat(25),
  after: fc.nat(25),
  unknown: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))).chain((b) => (b ? fc.boolean() : fc.constant(false))),
  applied: fc.boolean(),
  version_guess: fc.nat(3),
  lag: fc.nat(4),
});

interface Snapshot {
  value: string;
  version: number;
  mzxid: number;
}

/** Builds a linearizable history: op i takes effect at STEP_MS * (i + 1), inside its interval. */
function generate(plans: readonly Plan[]): History {
  const ops: OpRecord[] = [];
  let zxid = 0;
  let id = 0;
  // past[k][j]: key k's state after j of its changes (for plain reads that lag behind).
  const past: Snapshot[][] = KEYS.map(() => []);
  KEYS.forEach((k, ki) => {
    zxid++;
    past[ki]!.push({ value: `${k}-init`, version: 0, mzxid: zxid });
    ops.push(op({ id: id++, key: k, f: 'create', input: { value: `${k}-init` }, at: [-5, 0], zxid, invoke_seq: id, reply_seq: 1000 + id }));
  });
  plans.forEach((p, i) => {
    const t = STEP_MS * (i + 1);
    const at: [number, number | null] = [t - p.before, p.unknown ? null : t + p.after];
    const key = KEYS[p.key]!;
    const states = past[p.key]!;
    const now = states[states.length - 1]!;
    const seqs = { invoke_seq: at[0] * 100, reply_seq: at[1] === null ? undefined : at[1] * 100 + 1 };
    const base = { id: id++, key, at, ...seqs };
    if (p.kind === 'cas' || p.kind === 'blind') {
      const value = `${key}-w${i}`;
      const expected = p.kind === 'blind' ? -1 : p.version_guess === 0 ? now.version + 1 : now.version;
      const matches = expected === -1 || expected === now.version;
      if (p.unknown) {
        if (matches && p.applied) states.push({ value, version: now.version + 1, mzxid: ++zxid });
        ops.push(op({ ...base, f: 'write', input: { value, version: expected } }));
      } else if (matches) {
        states.push({ value, version: now.version + 1, mzxid: ++zxid });
        ops.push(op({ ...base, f: 'write', input: { value, version: expected }, output: { version: now.version + 1, mzxid: zxid }, zxid }));
      } else {
        ops.push(op({ ...base, f: 'write', input: { value, version: expected }, error: 'BADVERSION', zxid: zxid }));
      }
      return;
    }
    if (p.unknown) return void ops.push(op({ ...base, f: 'read' }));
    const seen = p.kind === 'sync_read' ? now : states[Math.max(0, states.length - 1 - p.lag)]!;
    // A lagging plain read claims the zxid of the state it saw, as a server behind would.
    const claimed = p.kind === 'sync_read' ? zxid : seen.mzxid;
    const output = { exists: true, value: seen.value, version: seen.version, mzxid: seen.mzxid };
    ops.push(op({ ...base, f: 'read', output, zxid: claimed, ...(p.kind === 'sync_read' ? { sync_ms: at[0] } : {}) }));
  });
  return history(ops);
}

const historyArb = fc.array(planArb, { minLength: 1, maxLength: 40 }).map(generate);

function replace(h: History, id: number, patch: Partial<OpRecord>): History {
  return history(h.ops.map((o) => (o.id === id ? { ...o, ...patch } : o)));
}

const isOkWrite = (o: OpRecord) => o.outcome === 'ok' && (o.f === 'write' || o.f === 'create');
const versionOf = (o: OpRecord) => (o.f === 'create' ? 0 : (o.output?.['version'] as number));
const isSyncRead = (o: OpRecord) => o.f === 'read' && o.outcome === 'ok' && o.sync_ms !== null;

/** Mutations: each returns an invalid history, or null when this history offers no place for it. */
const MUTATIONS: Record<string, (h: History, pick: number) => History | null> = {
  // A read returns a value nobody wrote.
  unwritten(h, pick) {
    const reads = h.ops.filter((o) => o.f === 'read' && o.outcome === 'ok');
    if (reads.length === 0) return null;
    const r = reads[pick % reads.length]!;
    return replace(h, r.id, { output: { ...r.output, value: 'never-written' } });
  },
  // The write a sync read saw is moved to after the read completed.
  future(h, pick) {
    const reads = h.ops.filter(isSyncRead);
    if (reads.length === 0) return null;
    const r = reads[pick % reads.length]!;
    const w = h.ops.find((o) => o.key === r.key && o.input['value'] === r.output!['value'])!;
    const end = r.complete_ms!;
    return replace(h, w.id, { invoke_ms: end + 1, complete_ms: w.complete_ms === null ? null : end + 2 });
  },
  // A sync read moved after every op, although a definite later version superseded what it saw.
  stale_after_sync(h, pick) {
    const reads = h.ops.filter((r) => isSyncRead(r) && h.ops.some((w) => w.key === r.key && isOkWrite(w) && versionOf(w) > (r.output!['version'] as number)));
    if (reads.length === 0) return null;
    const r = reads[pick % reads.length]!;
    const end = h.end_ms + 100;
    return replace(h, r.id, { sync_ms: end, invoke_ms: end, complete_ms: end + 1, zxid: null, reply_seq: null });
  },
  // A write that took effect is recorded as BADVERSION, with a definite op after it on its key.
  flip_badversion(h, pick) {
    const keys_with_unknown = new Set(h.ops.filter((o) => o.outcome === 'unknown' && o.f === 'write').map((o) => o.key));
    const later = (w: OpRecord) => h.ops.some((o) => o.key === w.key && o.id > w.id && (isOkWrite(o) || isSyncRead(o)));
    const writes = h.ops.filter((w) => w.f === 'write' && w.outcome === 'ok' && !keys_with_unknown.has(w.key) && later(w));
    if (writes.length === 0) return null;
    const w = writes[pick % writes.length]!;
    return replace(h, w.id, { outcome: 'fail', error: 'BADVERSION', output: null });
  },
  // Two writes ordered in real time (and by version) swap their intervals.
  swap_completions(h, pick) {
    const writes = h.ops.filter((o) => o.f === 'write' && isOkWrite(o));
    const pairs: [OpRecord, OpRecord][] = [];
    for (const a of writes) for (const b of writes) if (a.key === b.key && a.complete_ms! < b.invoke_ms && versionOf(a) < versionOf(b)) pairs.push([a, b]);
    if (pairs.length === 0) return null;
    const [a, b] = pairs[pick % pairs.length]!;
    const swapped = history(
      h.ops.map((o) => {
        if (o.id === a.id) return { ...o, invoke_ms: b.invoke_ms, complete_ms: b.complete_ms, invoke_seq: b.invoke_seq, reply_seq: b.reply_seq };
        if (o.id === b.id) return { ...o, invoke_ms: a.invoke_ms, complete_ms: a.complete_ms, invoke_seq: a.invoke_seq, reply_seq: a.reply_seq };
        return o;
      }),
    );
    return swapped;
  },
};

describe('checker properties', () => {
  it('histories generated from the sequential model are valid', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const r = checkHistory(h, { time_budget_ms: 10_000 });
        expect(r.violations).toEqual([]);
        expect(r.verdict).toBe('valid');
      }),
      bounded({ numRuns: 300 }),
    );
  });

  for (const [name, mutate] of Object.entries(MUTATIONS)) {
    it(`mutation "${name}" makes them invalid`, () => {
      let applied = 0;
      fc.assert(
        fc.property(historyArb, fc.nat(1000), (h, pick) => {
          const bad = mutate(h, pick);
          fc.pre(bad !== null);
          applied++;
          const r = checkHistory(bad!, { time_budget_ms: 10_000 });
          expect(r.verdict).toBe('invalid');
          // All but "unwritten" (a plain read is not searched) must be found by the search itself.
          if (name !== 'unwritten') expect(r.partitions.some((p) => p.result === 'illegal')).toBe(true);
        }),
        bounded({ numRuns: 200 }),
      );
      // the generator offers the mutation a place often enough for the property to mean something
      expect(applied).toBeGreaterThan(50);
    });
  }
});
