// A session shard's metric block: per opcode, requests answered, requests answered with an
// error, and the latency histogram (from the request's arrival at the shard to its reply being
// queued to the net worker); plus watch events sent. Written only by the shard's thread.

import { OPCODE_TABLE } from '../protocol/opcodes.js';
import { addHistogram, emptyHistogram, histogramSlots, LATENCY_MS, observe, type HistogramSnapshot } from './histogram.js';
import { blockView, createBlock, SlotLayout } from './slots.js';

/** Dense index per opcode; unknown opcodes share the last index. */
const OP_NAMES: readonly string[] = [...OPCODE_TABLE.map((o) => o.name), 'unknown'];
const OP_INDEX = new Map<number, number>(OPCODE_TABLE.map((o, i) => [o.code, i]));
const UNKNOWN_OP = OP_NAMES.length - 1;
const OPS = OP_NAMES.length;
const HIST = histogramSlots(LATENCY_MS);

const L = new SlotLayout();
const REQUESTS = L.array(OPS);
const ERRORS = L.array(OPS);
const LATENCY = L.array(OPS * HIST);
const EVENTS = L.scalar();
const COMMIT_WAITS = L.scalar();
const COMMIT_WAIT_TIMEOUTS = L.scalar();
const SLOTS = L.slots;

export function createShardMetricsBlock(): SharedArrayBuffer {
  return createBlock(SLOTS);
}

export function opIndex(opcode: number): number {
  return OP_INDEX.get(opcode) ?? UNKNOWN_OP;
}

/** The shard's writer. */
export class ShardMetrics {
  private readonly v: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    this.v = blockView(sab, SLOTS, 'shard');
  }

  /** One request answered (err = its reply's error code) after `latency_ms`. */
  request(opcode: number, latency_ms: number, err: number): void {
    const i = opIndex(opcode);
    this.v[REQUESTS + i]++;
    if (err !== 0) this.v[ERRORS + i]++;
    observe(this.v, LATENCY + i * HIST, LATENCY_MS, latency_ms);
  }

  watchEvent(): void {
    this.v[EVENTS]++;
  }

  /** Client frames began to wait for a known commit (workers/shard/commit_wait.ts). */
  commitWait(): void {
    this.v[COMMIT_WAITS]++;
  }

  /** A wait for a known commit ended by its bound, not by the commit. */
  commitWaitTimeout(): void {
    this.v[COMMIT_WAIT_TIMEOUTS]++;
  }
}

export interface OpTotals {
  readonly op: string;
  requests: number;
  errors: number;
  readonly latency_ms: HistogramSnapshot;
}

export interface ShardTotals {
  /** Only ops seen at least once, in OPCODE_TABLE order. */
  readonly ops: OpTotals[];
  watch_events: number;
  commit_waits: number;
  commit_wait_timeouts: number;
}

/** Reader: every shard's block summed. */
export function sumShardMetrics(sabs: readonly SharedArrayBuffer[]): ShardTotals {
  const ops: OpTotals[] = OP_NAMES.map((op) => ({ op, requests: 0, errors: 0, latency_ms: emptyHistogram(LATENCY_MS) }));
  let watch_events = 0;
  let commit_waits = 0;
  let commit_wait_timeouts = 0;
  for (const sab of sabs) {
    const v = blockView(sab, SLOTS, 'shard');
    for (let i = 0; i < OPS; i++) {
      ops[i].requests += v[REQUESTS + i];
      ops[i].errors += v[ERRORS + i];
      addHistogram(ops[i].latency_ms, v, LATENCY + i * HIST);
    }
    watch_events += v[EVENTS];
    commit_waits += v[COMMIT_WAITS];
    commit_wait_timeouts += v[COMMIT_WAIT_TIMEOUTS];
  }
  return { ops: ops.filter((o) => o.requests > 0), watch_events, commit_waits, commit_wait_timeouts };
}
