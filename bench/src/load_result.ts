// The result of one load-generator run point: what was offered, what came back, and what it cost.

import type { LatencySummary } from './histogram.js';
import type { LoopMode, PhaseRecord } from './client_loop.js';
import type { OpKind } from './mix.js';
import type { ThreadUse } from './proc_cpu.js';
import type { BucketCounts } from './timeline_buckets.js';

export interface KindResult {
  readonly count: number;
  readonly errors: number;
  readonly per_s: number;
  readonly latency: LatencySummary;
}

export interface TimelinePoint {
  /** Seconds since "go" (end of the interval); warm-up points have t_s <= warmup_s. */
  readonly t_s: number;
  readonly ops_per_s: number;
  /** Highest per-thread p99 of the interval, µs (an upper bound of the interval's p99). */
  readonly p99_us: number;
}

export interface LoadResult {
  readonly connect: string;
  readonly mode: LoopMode;
  readonly read_pct: number;
  readonly clients: number;
  readonly outstanding_max: number;
  readonly threads: number;
  readonly value_bytes: number;
  readonly key_count: number;
  /** Open loop: offered requests/s over all clients; otherwise 0. */
  readonly offered_per_s: number;
  readonly warmup_s: number;
  readonly measure_s: number;
  /** Completed ops of the counted kinds (reads + writes; Table 2: creates) in the window. */
  readonly ops: number;
  readonly ops_per_s: number;
  /** Every request answered in the window (Table 2: creates + deletes). */
  readonly requests: number;
  readonly by_kind: Record<OpKind, KindResult>;
  /** Latency of the counted kinds together. */
  readonly latency: LatencySummary;
  /** The same histogram, encoded (LatencyHistogram.encode): runs of one point can be merged. */
  readonly latency_encoded: string;
  readonly errors: number;
  readonly error_codes: Readonly<Record<string, number>>;
  /** Open loop: requests not sent because the backlog was full. */
  readonly dropped: number;
  /** Server processes' CPU seconds in the window (null: no PID known or not Linux). */
  readonly server_cpu_s: number | null;
  readonly server_us_per_request: number | null;
  readonly server_threads: readonly ThreadUse[];
  /** The load generator's own CPU (all its threads) in the window. */
  readonly loadgen_cpu_s: number;
  readonly loadgen_us_per_request: number;
  readonly loadavg_start: readonly number[];
  readonly loadavg_end: readonly number[];
  readonly timeline: readonly TimelinePoint[];
  /** 'phases' mode: the phases completed inside the window (times in ms since "go"). */
  readonly phases: readonly PhaseRecord[];
  /** Completions in fixed buckets over warm-up + measurement (Figure 8); null when not asked for. Absent in older records. */
  readonly buckets?: BucketCounts | null;
  /** Reconnect mode: sessions opened again after a break, and requests lost with broken ones. */
  readonly reconnects?: number;
  readonly lost?: number;
}

/** Cores busy on average: CPU seconds over wall seconds. */
export function cores(cpu_s: number | null, wall_s: number): number | null {
  return cpu_s === null || wall_s <= 0 ? null : cpu_s / wall_s;
}
