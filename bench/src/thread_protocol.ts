// Messages between the driver (main thread) and its load-generator threads. Plain data only
// (structured clone); histograms travel as HdrHistogram compressed base64.

import type { Endpoint } from './connect_string.js';
import type { ClientPlan, PhaseRecord } from './client_loop.js';
import type { IntervalSample, KindTotals } from './recorder.js';
import type { OpKind } from './mix.js';
import type { BucketCounts } from './timeline_buckets.js';

export interface ThreadInit {
  readonly thread_index: number;
  /** One endpoint per client of this thread (the driver spreads clients over the ensemble). */
  readonly client_endpoints: readonly Endpoint[];
  /** Global index of each client (seeds, create_sync node names). */
  readonly client_indexes: readonly number[];
  readonly plan: ClientPlan;
  readonly seed: number;
  readonly session_timeout_ms: number;
  readonly sample_ms: number;
  /** Every endpoint of the ensemble: with `reconnect`, a client whose session breaks moves on to the next. */
  readonly all_endpoints: readonly Endpoint[];
  readonly reconnect: boolean;
  /** Fixed-width completion buckets (Figure 8): width and count; 0 = none. */
  readonly bucket_ms: number;
  readonly bucket_count: number;
}

export type DriverToThread =
  | { readonly type: 'go'; readonly warmup_ms: number; readonly measure_ms: number; /** Epoch ms of bucket 0. */ readonly t0_epoch_ms: number }
  | { readonly type: 'abort' };

export interface ThreadDone {
  readonly type: 'done';
  readonly thread_index: number;
  readonly totals: Record<OpKind, KindTotals>;
  readonly histograms: Record<OpKind, string>;
  readonly error_codes: readonly (readonly [number, number])[];
  readonly dropped: number;
  /** Requests still unanswered when the drain deadline passed (should be 0). */
  readonly undrained: number;
  /** 'phases' mode: every completed phase, times relative to "go" (ms). */
  readonly phases: readonly PhaseRecord[];
  /** With bucket_ms > 0: this thread's completions by bucket. */
  readonly buckets: BucketCounts | null;
  /** Sessions opened again after a break (reconnect mode), and requests lost with the broken ones. */
  readonly reconnects: number;
  readonly lost: number;
}

export type ThreadToDriver =
  | { readonly type: 'ready'; readonly thread_index: number }
  | { readonly type: 'sample'; readonly thread_index: number; readonly seq: number; readonly sample: IntervalSample }
  | ThreadDone
  | { readonly type: 'failed'; readonly thread_index: number; readonly message: string };
