// The checker's entry point: a history in, a verdict out. Pure (no IO; the clock is injectable).
//
// 1. Linearizability, per partition (model + key): writes, definite failures, ops with unknown
//    outcomes, and reads that followed a sync (their interval starts when the sync was sent:
//    ZooKeeper's sync promises the read sees every write completed before that). Plain reads
//    join only with `linearizable_reads` (true of a standalone Apache ZooKeeper, not of an
//    ensemble or of waitfree's read workers: stale reads are allowed by design).
// 2. The zxid checks (zk_checks.ts) over the whole history.
//
// Verdict: invalid if anything is violated; else unknown if some partition ran out of budget;
// else valid.

import type { History, ModelName, OpRecord } from './history.js';
import type { Model, ModelFactory, OpSemantics } from './model.js';
import { lockModel } from './models/lock.js';
import { MULTI_SEMANTICS, multiModel } from './models/multi.js';
import { queueModel } from './models/queue.js';
import { REGISTER_SEMANTICS, registerModel } from './models/register.js';
import { searchLinearization, type SearchFailure } from './wgl.js';
import { checkFifo, checkReads, checkWatchOrder, checkWriteOrder, checkZxidMonotone, ViolationSink, type Violation } from './zk_checks.js';

export type Verdict = 'valid' | 'invalid' | 'unknown';

export interface CheckOptions {
  /** Total time for the linearizability search (shared fairly among partitions). */
  readonly time_budget_ms: number;
  /** Memo bound per partition (estimated bytes). */
  readonly memo_bytes_max: number;
  /** Put plain reads into the search too (strict: only for a single server answering in order). */
  readonly linearizable_reads: boolean;
  /** Violations kept per check (all are counted). */
  readonly violations_kept_max: number;
  readonly now: () => number;
}

export const CHECK_DEFAULTS: CheckOptions = {
  time_budget_ms: 60_000,
  memo_bytes_max: 512 * 2 ** 20,
  linearizable_reads: false,
  violations_kept_max: 20,
  now: () => performance.now(),
};

export interface PartitionReport {
  readonly model: ModelName;
  readonly key: string;
  readonly ops: number;
  readonly result: 'ok' | 'illegal' | 'unknown';
  readonly reason?: string;
  readonly failure?: SearchFailure;
  readonly elapsed_ms: number;
}

export interface CheckReport {
  readonly verdict: Verdict;
  readonly partitions: readonly PartitionReport[];
  /** Kept violations (linearizability failures first). */
  readonly violations: readonly Violation[];
  /** All violations, including those not kept. */
  readonly violation_count: number;
  readonly counts: { readonly ops: number; readonly ok: number; readonly fail: number; readonly unknown: number; readonly events: number; readonly faults: number };
}

const FACTORIES: Readonly<Record<ModelName, ModelFactory>> = {
  register: () => registerModel() as Model<unknown>,
  multi: () => multiModel() as Model<unknown>,
  queue: (ops) => queueModel(ops) as Model<unknown>,
  lock: () => lockModel() as Model<unknown>,
};

const NO_READS_NO_DATA: OpSemantics = {
  isRead: (op) => op.f === 'list',
  writeEffects: () => [],
  readView: () => null,
  valuesWritten: () => [],
  mayDelete: () => [],
};

export function semanticsOf(model: ModelName): OpSemantics {
  if (model === 'register') return REGISTER_SEMANTICS;
  if (model === 'multi') return MULTI_SEMANTICS;
  return NO_READS_NO_DATA;
}

/** Ops the search needs: reads only when they saw something and may be checked for it. */
function searched(op: OpRecord, opts: CheckOptions): boolean {
  if (!semanticsOf(op.model).isRead(op)) return true;
  if (op.outcome !== 'ok') return false;
  return op.sync_ms !== null || opts.linearizable_reads;
}

function callTime(op: OpRecord): number {
  return semanticsOf(op.model).isRead(op) && op.sync_ms !== null ? Math.min(op.sync_ms, op.invoke_ms) : op.invoke_ms;
}

/** Partitions in a stable order, smallest first (cheap ones are not starved by a large one). */
export function partitions(ops: readonly OpRecord[], opts: CheckOptions): { model: ModelName; key: string; ops: OpRecord[] }[] {
  const by = new Map<string, { model: ModelName; key: string; ops: OpRecord[] }>();
  for (const op of ops) {
    if (!searched(op, opts)) continue;
    const k = `${op.model}\u0000${op.key}`;
    const p = by.get(k) ?? { model: op.model, key: op.key, ops: [] };
    p.ops.push(op);
    by.set(k, p);
  }
  return [...by.values()].sort((a, b) => a.ops.length - b.ops.length || (a.key < b.key ? -1 : 1));
}

function checkPartitions(ops: readonly OpRecord[], opts: CheckOptions): PartitionReport[] {
  const parts = partitions(ops, opts);
  const deadline = opts.now() + opts.time_budget_ms;
  return parts.map((p, i) => {
    const started = opts.now();
    // Fair share of what is left: a partition that finishes early leaves its time to the rest.
    const share_ms = (deadline - started) / (parts.length - i);
    const model = FACTORIES[p.model](p.ops);
    const ops = model.negligible === undefined ? p.ops : p.ops.filter((o) => !model.negligible!(o));
    const r = searchLinearization(ops, model, { deadline_ms: started + Math.max(0, share_ms), memo_bytes_max: opts.memo_bytes_max, now: opts.now }, callTime);
    const base = { model: p.model, key: p.key, ops: p.ops.length, elapsed_ms: opts.now() - started };
    if (r.result === 'ok') return { ...base, result: 'ok' };
    if (r.result === 'unknown') return { ...base, result: 'unknown', reason: r.reason };
    return { ...base, result: 'illegal', failure: r.failure };
  });
}

function linearizabilityViolation(p: PartitionReport): Violation {
  const f = p.failure!;
  return {
    check: 'linearizability',
    ops: [f.stuck_op, ...f.prefix.slice(-3)],
    message: `${p.model} ${p.key}: no linearization; the deepest attempt placed ${f.depth} ops (last: ${f.prefix.join(', ') || 'none'}), state ${f.state}, and op ${f.stuck_op} could not be placed (candidates: ${f.candidates.join(', ')})`,
  };
}

export function checkHistory(history: History, overrides: Partial<CheckOptions> = {}): CheckReport {
  const opts: CheckOptions = { ...CHECK_DEFAULTS, ...overrides };
  const parts = checkPartitions(history.ops, opts);
  const sink = new ViolationSink(opts.violations_kept_max);
  for (const p of parts) if (p.result === 'illegal') sink.add(linearizabilityViolation(p));
  const checks: ((s: ViolationSink) => void)[] = [
    (s) => checkZxidMonotone(history.ops, s),
    (s) => checkFifo(history.ops, s),
    (s) => checkReads(history.ops, semanticsOf, s),
    (s) => checkWatchOrder(history.ops, history.events, s),
    (s) => checkWriteOrder(history.ops, semanticsOf, s),
  ];
  const per_check = checks.map(() => new ViolationSink(opts.violations_kept_max));
  checks.forEach((c, i) => c(per_check[i]!));
  const violations = [...sink.kept, ...per_check.flatMap((s) => s.kept)];
  const violation_count = sink.count + per_check.reduce((n, s) => n + s.count, 0);
  const verdict: Verdict = violation_count > 0 ? 'invalid' : parts.some((p) => p.result === 'unknown') ? 'unknown' : 'valid';
  const count = (o: string) => history.ops.filter((op) => op.outcome === o).length;
  return {
    verdict,
    partitions: parts,
    violations,
    violation_count,
    counts: { ops: history.ops.length, ok: count('ok'), fail: count('fail'), unknown: count('unknown'), events: history.events.length, faults: history.faults.length },
  };
}
