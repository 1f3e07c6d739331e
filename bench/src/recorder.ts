// What one load-generator thread measured: per-kind counts and latency histograms inside the
// measurement window, plus per-interval throughput for the timeline (warm-up included, flagged
// by time). A completion counts toward the window iff it finished inside [start, end).

import { LatencyHistogram, type LatencySummary } from './histogram.js';
import type { TimelineBuckets } from './timeline_buckets.js';
import { OP_KINDS, type OpKind } from './mix.js';

export interface KindTotals {
  count: number;
  errors: number;
}

export interface IntervalSample {
  /** Completions (counted kinds) in this interval. */
  readonly ops: number;
  readonly errors: number;
  /** p99 of this interval's counted completions, µs (0 when none). */
  readonly p99_us: number;
}

export class Recorder {
  readonly window_hist: Record<OpKind, LatencyHistogram>;
  readonly totals: Record<OpKind, KindTotals>;
  /** err code -> count, inside the window. */
  readonly error_codes = new Map<number, number>();
  private interval_ops = 0;
  private interval_errors = 0;
  private readonly interval_hist = LatencyHistogram.create();
  private window_start_ms = Number.POSITIVE_INFINITY;
  private window_end_ms = Number.POSITIVE_INFINITY;
  /** Fixed-width buckets by completion time (Figure 8); null = not asked for. */
  buckets: TimelineBuckets | null = null;

  constructor(
    /** Kinds that count as "ops" (throughput, timeline); others are only tallied. */
    private readonly counted: ReadonlySet<OpKind>,
  ) {
    this.window_hist = Object.fromEntries(OP_KINDS.map((k) => [k, LatencyHistogram.create()])) as Record<OpKind, LatencyHistogram>;
    this.totals = Object.fromEntries(OP_KINDS.map((k) => [k, { count: 0, errors: 0 }])) as Record<OpKind, KindTotals>;
  }

  setWindow(start_ms: number, end_ms: number): void {
    if (!(start_ms <= end_ms)) throw new Error(`bad window ${start_ms}..${end_ms}`);
    this.window_start_ms = start_ms;
    this.window_end_ms = end_ms;
  }

  record(kind: OpKind, latency_ms: number, t_done_ms: number, err: number): void {
    const latency_us = latency_ms * 1000;
    if (this.counted.has(kind)) {
      this.interval_ops++;
      if (err !== 0) this.interval_errors++;
      this.interval_hist.record(latency_us);
      // t_done_ms is this thread's performance.now(); the buckets count in epoch ms, shared by all threads.
      if (this.buckets !== null && (kind === 'read' || kind === 'write')) this.buckets.record(kind, performance.timeOrigin + t_done_ms, err);
    }
    if (t_done_ms < this.window_start_ms || t_done_ms >= this.window_end_ms) return;
    const t = this.totals[kind];
    t.count++;
    if (err !== 0) {
      t.errors++;
      this.error_codes.set(err, (this.error_codes.get(err) ?? 0) + 1);
    }
    this.window_hist[kind].record(latency_us);
  }

  /** The interval since the previous call; resets the interval counters. */
  takeInterval(): IntervalSample {
    const sample = { ops: this.interval_ops, errors: this.interval_errors, p99_us: this.interval_hist.percentile(99) };
    this.interval_ops = 0;
    this.interval_errors = 0;
    this.interval_hist.reset();
    return sample;
  }

  summary(kind: OpKind): LatencySummary {
    return this.window_hist[kind].summary();
  }
}
