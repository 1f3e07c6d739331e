// The benchmark set as data: the paper's Figure 5 and Tables 1-2, write throughput vs pipelining
// depth (the batching the server sees), and latency vs offered load (open loop). A scale (short
// or full) sets the durations, repeats and point lists; every point is a load-generator plan.

import type { ClientPlan, LoopMode } from './client_loop.js';

export const WORKLOADS = ['fig5', 'table1', 'table2', 'batching', 'latency', 'fig8', 'failover'] as const;
/** Workloads that kill replicas: they need an ensemble (--ensemble 3 or more). */
export const ENSEMBLE_ONLY: readonly WorkloadName[] = ['fig8', 'failover'];
export type WorkloadName = (typeof WORKLOADS)[number];

export interface Scale {
  readonly name: 'short' | 'full';
  /** Per point: load before the measurement window opens. */
  readonly warmup_ms: number;
  readonly measure_ms: number;
  /** Per freshly started server: unmeasured mixed load so both JITs (HotSpot, V8) are warm. */
  readonly server_warmup_ms: number;
  readonly repeats: number;
  /** Sessions of the saturation workloads (the paper: 250). */
  readonly clients: number;
  /** Requests in flight per session (the paper: 100). */
  readonly outstanding: number;
  readonly fig5_read_pcts: readonly number[];
  readonly table2_workers: readonly number[];
  readonly batching_clients: number;
  readonly batching_outstanding: readonly number[];
  /** Offered load as fractions of the larger closed-loop maximum of the systems. */
  readonly latency_fractions: readonly number[];
  readonly latency_read_pct: number;
  readonly latency_clients: number;
  /** Figure 8: one run of this length with the failure script (failure_timeline.ts). */
  readonly fig8_duration_ms: number;
  readonly fig8_read_pct: number;
  readonly fig8_bucket_ms: number;
  /** Leader kills per system and quorum timing. */
  readonly failover_repeats: number;
}

export const SHORT: Scale = {
  name: 'short',
  warmup_ms: 1_500,
  measure_ms: 4_000,
  server_warmup_ms: 3_000,
  repeats: 1,
  clients: 32,
  outstanding: 100,
  fig5_read_pcts: [0, 25, 50, 75, 90, 100],
  table2_workers: [1, 10, 20],
  batching_clients: 16,
  batching_outstanding: [1, 8, 64, 256],
  latency_fractions: [0.2, 0.5, 0.8, 0.95],
  latency_read_pct: 90,
  latency_clients: 32,
  fig8_duration_ms: 30_000,
  fig8_read_pct: 70,
  fig8_bucket_ms: 100,
  failover_repeats: 5,
};

export const FULL: Scale = {
  name: 'full',
  warmup_ms: 5_000,
  measure_ms: 20_000,
  server_warmup_ms: 15_000,
  repeats: 3,
  clients: 250,
  outstanding: 100,
  fig5_read_pcts: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
  table2_workers: [1, 10, 20],
  batching_clients: 16,
  batching_outstanding: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1000],
  latency_fractions: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0],
  latency_read_pct: 90,
  latency_clients: 50,
  fig8_duration_ms: 40_000,
  fig8_read_pct: 70,
  fig8_bucket_ms: 100,
  failover_repeats: 10,
};

export interface PointSpec {
  /** Human label, e.g. "reads 50%". */
  readonly label: string;
  /** The x value of plots and tables (percent reads, workers, in-flight, offered ops/s). */
  readonly x: number;
  readonly clients: number;
  readonly plan: Omit<ClientPlan, 'root'>;
}

export interface WorkloadSpec {
  readonly name: WorkloadName;
  readonly title: string;
  readonly x_label: string;
  /** What the paper did, for the record. */
  readonly paper: string;
}

export const WORKLOAD_SPECS: Record<WorkloadName, WorkloadSpec> = {
  fig5: { name: 'fig5', title: 'Throughput vs % reads (paper Figure 5)', x_label: '% reads', paper: '250 clients, >= 100 outstanding each, 1 KiB getData/setData, saturated' },
  table1: { name: 'table1', title: 'Throughput at the extremes (paper Table 1)', x_label: '% reads', paper: '0% and 100% reads of Figure 5' },
  table2: { name: 'table2', title: 'Create latency benchmark (paper Table 2)', x_label: 'workers', paper: 'each worker: synchronous create (1 KiB) then asynchronous delete, 1/10/20 workers; creates/s' },
  batching: { name: 'batching', title: 'Write throughput vs requests in flight', x_label: 'requests in flight (clients x outstanding)', paper: 'not in the paper: how pipelining feeds the server batches (group commit)' },
  latency: { name: 'latency', title: 'Latency vs offered load (open loop)', x_label: 'offered load (ops/s)', paper: 'not in the paper: fixed-rate load, latency from the scheduled send time' },
  fig8: {
    name: 'fig8', title: 'Throughput upon failures (paper Figure 8)', x_label: 'time (s)',
    paper: '5 servers, 30% writes, saturated; followers and the leader killed and restarted; "less than 200ms to elect a new leader"',
  },
  failover: {
    name: 'failover', title: 'Failover time: leader SIGKILL to the first committed write', x_label: 'quorum timing',
    paper: 'not measured as such in the paper (Figure 8 shows no zero-throughput 6 s sample; "less than 200ms to elect a new leader")',
  },
};

/** Quorum timings of the failover workload: ZooKeeper's sample defaults, and tight ones. */
export const FAILOVER_TIMINGS: readonly { readonly name: string; readonly tick_ms: number; readonly init_limit: number; readonly sync_limit: number }[] = [
  { name: 'default (tickTime 2000, initLimit 10, syncLimit 5)', tick_ms: 2000, init_limit: 10, sync_limit: 5 },
  { name: 'tight (tickTime 200, initLimit 10, syncLimit 5)', tick_ms: 200, init_limit: 10, sync_limit: 5 },
];

export interface PlanDefaults {
  readonly value_bytes: number;
  readonly key_count: number;
}

function plan(mode: LoopMode, read_pct: number, outstanding: number, d: PlanDefaults, rate_per_s = 0): Omit<ClientPlan, 'root'> {
  return { mode, read_fraction: read_pct / 100, outstanding_max: outstanding, value_bytes: d.value_bytes, key_count: d.key_count, rate_per_s };
}

export function readMixPoints(read_pcts: readonly number[], s: Scale, d: PlanDefaults): PointSpec[] {
  return read_pcts.map((r) => ({ label: `reads ${r}%`, x: r, clients: s.clients, plan: plan('closed', r, s.outstanding, d) }));
}

export function table2Points(s: Scale, d: PlanDefaults): PointSpec[] {
  return s.table2_workers.map((w) => ({ label: `${w} workers`, x: w, clients: w, plan: plan('create_sync', 0, 2, d) }));
}

export function batchingPoints(s: Scale, d: PlanDefaults): PointSpec[] {
  return s.batching_outstanding.map((o) => ({
    label: `${s.batching_clients} x ${o} in flight`,
    x: s.batching_clients * o,
    clients: s.batching_clients,
    plan: plan('closed', 0, o, d),
  }));
}

/** Figure 8's load: the saturation settings at the paper's 70% reads, clients reconnecting. */
export function fig8Point(s: Scale, d: PlanDefaults): PointSpec {
  return { label: `reads ${s.fig8_read_pct}%, failures`, x: s.fig8_read_pct, clients: s.clients, plan: plan('closed', s.fig8_read_pct, s.outstanding, d) };
}

/** Unmeasured load on a fresh server: half reads, half writes, the saturation settings. */
export function serverWarmup(s: Scale, d: PlanDefaults): PointSpec {
  return { label: 'server warm-up', x: 0, clients: s.clients, plan: plan('closed', 50, s.outstanding, d) };
}

/** The closed-loop probe that finds each system's maximum at the latency mix. */
export function latencyProbe(s: Scale, d: PlanDefaults): PointSpec {
  return { label: `probe reads ${s.latency_read_pct}%`, x: 0, clients: s.latency_clients, plan: plan('closed', s.latency_read_pct, s.outstanding, d) };
}

/** Open-loop points at fractions of `max_ops_per_s`, the same absolute rates for every system. */
export function latencyPoints(s: Scale, d: PlanDefaults, max_ops_per_s: number): PointSpec[] {
  return s.latency_fractions.map((f) => {
    const rate = Math.max(s.latency_clients, Math.round((max_ops_per_s * f) / 100) * 100);
    return {
      label: `${Math.round(f * 100)}% of max (${rate}/s)`,
      x: rate,
      clients: s.latency_clients,
      plan: plan('open', s.latency_read_pct, s.outstanding, d, rate / s.latency_clients),
    };
  });
}
