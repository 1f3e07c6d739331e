// Runs one load point: spreads the clients over worker threads (and over the ensemble's
// endpoints), starts them together, samples throughput over time, takes the server's and its own
// CPU from the kernel at the window's edges, and merges the threads' histograms. Bounded in
// time: a run that does not finish by its deadline is aborted and its threads terminated.

import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { formatConnectString, type Endpoint } from './connect_string.js';
import type { ClientPlan } from './client_loop.js';
import { LatencyHistogram, mergeEncoded } from './histogram.js';
import type { KindResult, LoadResult, TimelinePoint } from './load_result.js';
import { OP_KINDS, type OpKind } from './mix.js';
import { cpuBetween, processCpuSeconds, snapshotCpu, type CpuSnapshot, type ThreadUse } from './proc_cpu.js';
import type { ThreadDone, ThreadInit, ThreadToDriver } from './thread_protocol.js';
import { bucketCount, mergeBuckets } from './timeline_buckets.js';

export interface LoadOptions {
  readonly endpoints: readonly Endpoint[];
  readonly plan: ClientPlan;
  readonly clients: number;
  readonly threads: number;
  readonly warmup_ms: number;
  readonly measure_ms: number;
  readonly sample_ms: number;
  readonly session_timeout_ms: number;
  readonly seed: number;
  /** PIDs whose CPU is the server's (empty: µs/op not reported). */
  readonly server_pids: readonly number[];
  /** Shown in the progress line. */
  readonly label: string;
  /** Receives the progress line about once a second; null = quiet. */
  readonly progress: ((line: string) => void) | null;
  /** A client whose session breaks opens a new one on the next endpoint (Figure 8). Default false. */
  readonly reconnect?: boolean;
  /** Completions counted in buckets of this width over the whole run (Figure 8); 0/absent = none. */
  readonly bucket_ms?: number;
  /**
   * Runs alongside the load, started right after "go" with go's epoch time (the buckets' zero);
   * the point ends only after both the load and this have finished, and fails if this throws.
   */
  readonly during?: (t0_epoch_ms: number) => Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
/** After warm-up + measurement: drain (10 s in the thread) + closing sessions + slack. */
const FINISH_SLACK_MS = 20_000;
const PROGRESS_MS = 1_000;

const THREAD_SCRIPT = new URL('./load_thread.js', import.meta.url);

export function splitClients(clients: number, threads: number, endpoints: readonly Endpoint[]): ThreadInitParts[] {
  const parts: ThreadInitParts[] = Array.from({ length: threads }, () => ({ endpoints: [], indexes: [] }));
  for (let c = 0; c < clients; c++) {
    const part = parts[c % threads]!;
    part.endpoints.push(endpoints[c % endpoints.length]!);
    part.indexes.push(c);
  }
  return parts.filter((p) => p.indexes.length > 0);
}

export interface ThreadInitParts {
  endpoints: Endpoint[];
  indexes: number[];
}

function checkOptions(o: LoadOptions): void {
  if (o.endpoints.length === 0) throw new Error('no endpoint');
  if (!(o.clients >= 1 && o.threads >= 1)) throw new Error('clients and threads must be >= 1');
  if (!(o.plan.outstanding_max >= 1)) throw new Error('outstanding must be >= 1');
  if (o.plan.mode === 'open' && !(o.plan.rate_per_s > 0)) throw new Error('open loop needs a rate > 0');
  if (!(o.measure_ms > 0 && o.warmup_ms >= 0 && o.sample_ms > 0)) throw new Error('bad durations');
}

/** Collects what the threads send; resolves when all are done, rejects on the first failure. */
class ThreadGroup {
  readonly workers: Worker[] = [];
  private readonly ready = new Set<number>();
  readonly done: ThreadDone[] = [];
  /** Per sample seq: ops summed over threads, max p99. */
  readonly samples = new Map<number, { ops: number; p99_us: number; threads: number }>();
  private on_ready: () => void = () => {};
  private on_done: () => void = () => {};
  private on_fail: (e: Error) => void = () => {};

  constructor(inits: readonly ThreadInit[]) {
    for (const init of inits) {
      const w = new Worker(THREAD_SCRIPT, { workerData: init });
      w.on('message', (m: ThreadToDriver) => this.onMessage(m));
      w.on('error', (e) => this.on_fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.on_fail(new Error(`load thread ${init.thread_index} exited with code ${code}`));
      });
      this.workers.push(w);
    }
  }

  private onMessage(m: ThreadToDriver): void {
    if (m.type === 'ready') {
      this.ready.add(m.thread_index);
      if (this.ready.size === this.workers.length) this.on_ready();
    } else if (m.type === 'sample') {
      const s = this.samples.get(m.seq) ?? { ops: 0, p99_us: 0, threads: 0 };
      s.ops += m.sample.ops;
      s.p99_us = Math.max(s.p99_us, m.sample.p99_us);
      s.threads++;
      this.samples.set(m.seq, s);
    } else if (m.type === 'done') {
      this.done.push(m);
      if (this.done.length === this.workers.length) this.on_done();
    } else {
      this.on_fail(new Error(`load thread ${m.thread_index}: ${m.message}`));
    }
  }

  /** Resolves when every thread reached `what`, rejects on failure or after `timeout_ms`. */
  wait(what: 'ready' | 'done', timeout_ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load threads not ${what} after ${timeout_ms} ms`)), timeout_ms);
      const ok = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.on_fail = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      if (what === 'ready') this.on_ready = ok;
      else this.on_done = ok;
    });
  }

  go(warmup_ms: number, measure_ms: number, t0_epoch_ms: number): void {
    for (const w of this.workers) w.postMessage({ type: 'go', warmup_ms, measure_ms, t0_epoch_ms });
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

interface WindowCpu {
  server: Map<number, CpuSnapshot>;
  loadgen_s: number;
}

function takeWindowCpu(server_pids: readonly number[]): WindowCpu {
  return { server: snapshotCpu(server_pids), loadgen_s: loadgenCpuSeconds() };
}

function loadgenCpuSeconds(): number {
  const proc = processCpuSeconds(process.pid);
  if (proc !== null) return proc;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  checkOptions(o);
  const parts = splitClients(o.clients, Math.min(o.threads, o.clients), o.endpoints);
  const inits: ThreadInit[] = parts.map((p, i) => ({
    thread_index: i,
    client_endpoints: p.endpoints,
    client_indexes: p.indexes,
    plan: o.plan,
    seed: o.seed,
    session_timeout_ms: o.session_timeout_ms,
    sample_ms: o.sample_ms,
    all_endpoints: o.endpoints,
    reconnect: o.reconnect === true,
    bucket_ms: o.bucket_ms ?? 0,
    bucket_count: (o.bucket_ms ?? 0) > 0 ? bucketCount(o.warmup_ms + o.measure_ms, o.bucket_ms!) : 0,
  }));
  const group = new ThreadGroup(inits);
  try {
    await group.wait('ready', READY_TIMEOUT_MS);
    return await measure(o, group, inits.length);
  } finally {
    await group.terminate();
  }
}

async function measure(o: LoadOptions, group: ThreadGroup, threads: number): Promise<LoadResult> {
  const loadavg_start = loadavg();
  const edges: WindowCpu[] = [];
  const t0 = performance.now();
  const done = group.wait('done', o.warmup_ms + o.measure_ms + FINISH_SLACK_MS);
  const t0_epoch_ms = performance.timeOrigin + performance.now();
  group.go(o.warmup_ms, o.measure_ms, t0_epoch_ms);
  // Started now, awaited after the load: a failure here must not leave the load threads running.
  const during = o.during === undefined ? null : o.during(t0_epoch_ms).then(() => null, (e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  const timers = [
    setTimeout(() => edges.push(takeWindowCpu(o.server_pids)), o.warmup_ms),
    setTimeout(() => edges.push(takeWindowCpu(o.server_pids)), o.warmup_ms + o.measure_ms),
  ];
  const progress = o.progress === null ? null : setInterval(() => o.progress!(progressLine(o, group, t0)), PROGRESS_MS);
  try {
    await done;
  } finally {
    for (const t of timers) clearTimeout(t);
    if (progress !== null) clearInterval(progress);
  }
  const during_error = during === null ? null : await during;
  if (during_error !== null) throw during_error;
  if (edges.length !== 2) throw new Error('the run ended before its measurement window closed');
  return summarize(o, group, threads, edges[0]!, edges[1]!, loadavg_start);
}

function progressLine(o: LoadOptions, group: ThreadGroup, t0: number): string {
  const elapsed_s = (performance.now() - t0) / 1000;
  const total_s = (o.warmup_ms + o.measure_ms) / 1000;
  const phase = elapsed_s * 1000 < o.warmup_ms ? 'warm-up' : elapsed_s * 1000 < o.warmup_ms + o.measure_ms ? 'measuring' : 'draining';
  const recent = latestSamples(group, Math.max(1, Math.round(PROGRESS_MS / o.sample_ms)));
  const rate = recent === null ? '-' : Math.round(recent.ops_per_s(o.sample_ms)).toLocaleString('en-US');
  const p99 = recent === null ? '-' : `${(recent.p99_us / 1000).toFixed(1)} ms`;
  return `${o.label}  ${phase} ${Math.min(elapsed_s, total_s).toFixed(0)}/${total_s.toFixed(0)} s  ${rate} ops/s  p99 ${p99}`;
}

function latestSamples(group: ThreadGroup, n: number): { ops_per_s: (sample_ms: number) => number; p99_us: number } | null {
  const seqs = [...group.samples.keys()].sort((a, b) => a - b).slice(-n);
  if (seqs.length === 0) return null;
  const rows = seqs.map((s) => group.samples.get(s)!);
  const ops = rows.reduce((a, r) => a + r.ops, 0);
  const p99_us = Math.max(...rows.map((r) => r.p99_us));
  return { ops_per_s: (sample_ms) => (ops * 1000) / (sample_ms * rows.length), p99_us };
}

function timeline(group: ThreadGroup, sample_ms: number): TimelinePoint[] {
  return [...group.samples.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([seq, s]) => ({ t_s: ((seq + 1) * sample_ms) / 1000, ops_per_s: (s.ops * 1000) / sample_ms, p99_us: s.p99_us }));
}

function summarize(
  o: LoadOptions,
  group: ThreadGroup,
  threads: number,
  start: WindowCpu,
  end: WindowCpu,
  loadavg_start: number[],
): LoadResult {
  const measure_s = o.measure_ms / 1000;
  const counted: OpKind[] = o.plan.mode === 'create_sync' ? ['create'] : o.plan.mode === 'phases' ? [...OP_KINDS] : ['read', 'write'];
  const by_kind = kindResults(group.done, measure_s);
  const ops = counted.reduce((n, k) => n + by_kind[k].count, 0);
  const requests = OP_KINDS.reduce((n, k) => n + by_kind[k].count, 0);
  const merged = mergeEncoded(group.done.flatMap((d) => counted.map((k) => d.histograms[k])));
  const latency = merged.summary();
  const server = cpuBetween(start.server, end.server);
  const loadgen_cpu_s = end.loadgen_s - start.loadgen_s;
  return {
    connect: formatConnectString(o.endpoints),
    mode: o.plan.mode,
    read_pct: Math.round(o.plan.read_fraction * 1000) / 10,
    clients: o.clients,
    outstanding_max: o.plan.outstanding_max,
    threads,
    value_bytes: o.plan.value_bytes,
    key_count: o.plan.key_count,
    offered_per_s: o.plan.mode === 'open' ? o.plan.rate_per_s * o.clients : 0,
    warmup_s: o.warmup_ms / 1000,
    measure_s,
    ops,
    ops_per_s: ops / measure_s,
    requests,
    by_kind,
    latency,
    latency_encoded: merged.encode(),
    errors: OP_KINDS.reduce((n, k) => n + by_kind[k].errors, 0),
    error_codes: errorCodes(group.done),
    dropped: group.done.reduce((n, d) => n + d.dropped, 0),
    server_cpu_s: server?.total_s ?? null,
    server_us_per_request: server === null || requests === 0 ? null : (server.total_s * 1e6) / requests,
    server_threads: server?.by_thread.filter((t: ThreadUse) => t.cpu_s > 0) ?? [],
    loadgen_cpu_s,
    loadgen_us_per_request: requests === 0 ? 0 : (loadgen_cpu_s * 1e6) / requests,
    loadavg_start,
    loadavg_end: loadavg(),
    timeline: timeline(group, o.sample_ms),
    buckets: o.bucket_ms !== undefined && o.bucket_ms > 0 ? mergeBuckets(group.done.map((d) => d.buckets).filter((b) => b !== null)) : null,
    reconnects: group.done.reduce((n, d) => n + d.reconnects, 0),
    lost: group.done.reduce((n, d) => n + d.lost, 0),
    phases: group.done
      .flatMap((d) => d.phases)
      .filter((p) => p.start_ms >= o.warmup_ms && p.end_ms <= o.warmup_ms + o.measure_ms)
      .sort((a, b) => a.start_ms - b.start_ms),
  };
}

function kindResults(done: readonly ThreadDone[], measure_s: number): Record<OpKind, KindResult> {
  const out = {} as Record<OpKind, KindResult>;
  for (const k of OP_KINDS) {
    const count = done.reduce((n, d) => n + d.totals[k].count, 0);
    const errors = done.reduce((n, d) => n + d.totals[k].errors, 0);
    const h: LatencyHistogram = mergeEncoded(done.map((d) => d.histograms[k]));
    out[k] = { count, errors, per_s: count / measure_s, latency: h.summary() };
  }
  return out;
}

function errorCodes(done: readonly ThreadDone[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of done) for (const [code, n] of d.error_codes) out[String(code)] = (out[String(code)] ?? 0) + n;
  return out;
}
