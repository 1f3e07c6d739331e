// Linearizability of one partition: the Wing-Gong search with Lowe's memo, as in Porcupine's
// checkSingle, written iteratively (an explicit stack; no recursion however long the history).
//
// Entries: every op contributes a call (at its start) and a return (at its completion, +infinity
// when the outcome is unknown), sorted by time; at equal times calls come first, so intervals
// are closed and ops that touch are concurrent. The search walks a doubly linked list of the
// entries not yet linearized. At a call it tries to linearize that op now (model.step); at a
// return it has found an op that had to be linearized before this point and was not, so it
// backtracks. Memo: a (set of linearized ops, state) pair seen before leads to the same future,
// so it is skipped.
//
// Memo key, exact and small: the list holds exactly the ops not linearized. Let r be the first
// return in the list and c1..ck the calls before it. Every call before r that is not among
// c1..ck is linearized; no call after r is (it could only have been reached by a scan passing r,
// whose op is not linearized). So (r, c1..ck) determines the linearized set, and k is the number
// of pending ops (concurrency plus ops with unknown outcomes), not the length of the history.
//
// Invariants: the list holds exactly the entries of the ops not on the stack, in time order; the list's first return entry belongs to an op not
// linearized, so the walk from the head always reaches a return before running off the end.

import type { OpRecord } from './history.js';
import type { Model } from './model.js';

export interface SearchLimits {
  /** Give up (unknown) after this long. */
  readonly deadline_ms: number;
  /** Give up (unknown) once the memo's estimated size reaches this (keys + per-entry overhead). */
  readonly memo_bytes_max: number;
  /** Clock, injectable for tests. */
  readonly now: () => number;
}

export type SearchResult =
  | { readonly result: 'ok'; readonly order: readonly number[] }
  | { readonly result: 'illegal'; readonly failure: SearchFailure }
  | { readonly result: 'unknown'; readonly reason: string };

/** Where the deepest attempt got stuck: useful to a person reading the report. */
export interface SearchFailure {
  /** Ids of the last ops linearized on the deepest path (at most PREFIX_KEPT). */
  readonly prefix: readonly number[];
  /** How many ops that path linearized. */
  readonly depth: number;
  /** The op that could not be linearized there (its return came first). */
  readonly stuck_op: number;
  /** The ops that were candidates at that point (called before stuck_op returned, not linearized). */
  readonly candidates: readonly number[];
  readonly state: string;
}

const PREFIX_KEPT = 12;
const CANDIDATES_KEPT = 12;
/** Look at the clock every this many steps. */
const CLOCK_EVERY = 1024;
const NIL = -1;
/** Estimated bytes per memo entry besides its key's characters (string header, Set slot). */
const MEMO_ENTRY_OVERHEAD_BYTES = 64;

interface Entries {
  /** For entry e: op index, and whether it is the call. */
  readonly op_of: Int32Array;
  readonly is_call: Uint8Array;
  /** For a call entry: its return entry. */
  readonly match: Int32Array;
}

/** Sorted call/return entries. */
function buildEntries(ops: readonly OpRecord[], start: (op: OpRecord) => number): Entries {
  const n = ops.length;
  const order: { op: number; call: boolean; t: number }[] = [];
  ops.forEach((op, i) => {
    order.push({ op: i, call: true, t: start(op) });
    order.push({ op: i, call: false, t: op.complete_ms ?? Number.POSITIVE_INFINITY });
  });
  // Calls before returns at equal times (closed intervals); then by op index, for determinism.
  order.sort((a, b) => a.t - b.t || (a.call === b.call ? 0 : a.call ? -1 : 1) || a.op - b.op);
  const op_of = new Int32Array(2 * n);
  const is_call = new Uint8Array(2 * n);
  const match = new Int32Array(2 * n).fill(NIL);
  const ret_at = new Int32Array(n);
  order.forEach((e, i) => {
    op_of[i] = e.op;
    is_call[i] = e.call ? 1 : 0;
    if (!e.call) ret_at[e.op] = i;
  });
  for (let i = 0; i < 2 * n; i++) if (is_call[i] === 1) match[i] = ret_at[op_of[i]!]!;
  return { op_of, is_call, match };
}

/** The list of entries not yet linearized; HEAD is a sentinel before the first entry. */
class EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly head: number;

  constructor(count: number) {
    this.head = count;
    this.next = new Int32Array(count + 1);
    this.prev = new Int32Array(count + 1);
    for (let i = 0; i < count; i++) {
      this.next[i] = i + 1 < count ? i + 1 : NIL;
      this.prev[i] = i === 0 ? this.head : i - 1;
    }
    this.next[this.head] = count > 0 ? 0 : NIL;
    this.prev[this.head] = NIL;
  }

  private unlink(e: number): void {
    const p = this.prev[e]!;
    const n = this.next[e]!;
    this.next[p] = n;
    if (n !== NIL) this.prev[n] = p;
  }

  private relink(e: number): void {
    const p = this.prev[e]!;
    const n = this.next[e]!;
    this.next[p] = e;
    if (n !== NIL) this.prev[n] = e;
  }

  /** Removes a call entry and its return (the op is linearized). */
  lift(call: number, ret: number): void {
    this.unlink(call);
    this.unlink(ret);
  }

  /** Undoes lift(call, ret): reinserted in reverse order, so the neighbours are right again. */
  unlift(call: number, ret: number): void {
    this.relink(ret);
    this.relink(call);
  }
}

/**
 * Checks one partition. `start(op)` gives the op's call time (a read after a sync starts when
 * the sync was sent).
 */
export function searchLinearization<S>(ops: readonly OpRecord[], model: Model<S>, limits: SearchLimits, start: (op: OpRecord) => number): SearchResult {
  const n = ops.length;
  const entries = buildEntries(ops, start);
  const list = new EntryList(2 * n);
  const memo = new Set<string>();
  const stack_entry: number[] = [];
  const stack_state: S[] = [];
  let state = model.init();
  let entry = list.next[list.head]!;
  let steps = 0;
  let failure: SearchFailure | null = null;
  let memo_bytes = 0;

  while (list.next[list.head] !== NIL) {
    if (++steps % CLOCK_EVERY === 0 && limits.now() > limits.deadline_ms) return { result: 'unknown', reason: `time budget spent after ${steps} steps (${n} ops)` };
    const i = entries.op_of[entry]!;
    if (entries.is_call[entry] === 1) {
      const next_state = model.step(state, ops[i]!);
      if (next_state !== null) {
        list.lift(entry, entries.match[entry]!);
        const key = memoKey(list, entries, model.hash(next_state));
        if (!memo.has(key)) {
          memo_bytes += key.length + MEMO_ENTRY_OVERHEAD_BYTES;
          if (memo_bytes > limits.memo_bytes_max) return { result: 'unknown', reason: `memo bound reached (${memo.size} entries, ~${Math.round(limits.memo_bytes_max / 2 ** 20)} MiB; ${n} ops)` };
          memo.add(key);
          stack_entry.push(entry);
          stack_state.push(state);
          state = next_state;
          entry = list.next[list.head]!;
          continue;
        }
        list.unlift(entry, entries.match[entry]!);
      }
      entry = list.next[entry]!;
      continue;
    }
    // A return: op i had to be linearized before anything after it; backtrack.
    if (failure === null || stack_entry.length > failure.depth) failure = describeFailure(ops, entries, list, stack_entry, i, model.describe(state));
    const top = stack_entry.pop();
    if (top === undefined) return { result: 'illegal', failure };
    state = stack_state.pop()!;
    list.unlift(top, entries.match[top]!);
    entry = list.next[top]!;
  }
  return { result: 'ok', order: stack_entry.map((e) => ops[entries.op_of[e]!]!.id) };
}

/** (first return, pending calls before it, state): see the header. */
function memoKey(list: EntryList, entries: Entries, state_hash: string): string {
  let key = '';
  let e = list.next[list.head]!;
  for (; e !== NIL && entries.is_call[e] === 1; e = list.next[e]!) key += `${e},`;
  return `${e}|${key}\u0000${state_hash}`;
}

function describeFailure(ops: readonly OpRecord[], entries: Entries, list: EntryList, stack: readonly number[], stuck: number, state: string): SearchFailure {
  const candidates: number[] = [];
  for (let e = list.next[list.head]!; e !== NIL && candidates.length < CANDIDATES_KEPT; e = list.next[e]!) {
    if (entries.is_call[e] === 1) candidates.push(ops[entries.op_of[e]!]!.id);
    else if (entries.op_of[e] === stuck) break;
  }
  return {
    prefix: stack.slice(-PREFIX_KEPT).map((e) => ops[entries.op_of[e]!]!.id),
    depth: stack.length,
    stuck_op: ops[stuck]!.id,
    candidates,
    state,
  };
}
