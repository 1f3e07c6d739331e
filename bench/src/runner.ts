// The benchmark runner: starts each system on loopback (fresh data dir, equal-in-spirit config),
// runs every point of every selected workload against each, alternating the order point by
// point, and writes CSV, SVG, a markdown summary, and (with --record) BENCHMARKS.md sections.
// It installs nothing: without Apache ZooKeeper it runs waitfree alone and says so.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT, type FsyncPolicy, type ServerKind } from '../../dist/check/launch.js';
import type { QuorumTiming } from './ensemble_launch.js';
import { runFailover, type FailoverSample } from './failover_run.js';
import { runFig8 } from './fig8_run.js';
import type { LoadResult } from './load_result.js';
import { machineFacts } from './machine.js';
import { replaceSection } from './md_sections.js';
import { runPoint as runPointOn } from './point.js';
import { Progress } from './progress.js';
import { fullReport, runHeader, sectionId, workloadPlot, workloadSection } from './report_md.js';
import { bucketsCsv, failoverCsv, pointsCsv, timelineCsv } from './run_csv.js';
import type { PointRun, RunRecord, SystemInfo } from './run_record.js';
import { fmtInt } from './format.js';
import { launchTarget, systemInfo, type Target } from './targets.js';
import {
  batchingPoints, ENSEMBLE_ONLY, FAILOVER_TIMINGS, fig8Point, latencyPoints, latencyProbe, readMixPoints, serverWarmup, table2Points,
  type PlanDefaults, type PointSpec, type Scale, type WorkloadName,
} from './workloads.js';

export interface SystemSpec {
  readonly id: string;
  readonly kind: ServerKind;
  readonly fsync: FsyncPolicy;
  /** Config lines of this system only (after --waitfree-config / --zookeeper-config). */
  readonly extra_config: readonly string[];
  /** waitfree only: another checkout whose build runs (`waitfree@DIR`); null = this one. */
  readonly waitfree_root: string | null;
}

export interface RunnerOptions {
  readonly command: string;
  readonly workloads: readonly WorkloadName[];
  readonly scale: Scale;
  readonly systems: readonly SystemSpec[];
  readonly ensemble: number;
  readonly loadgen_threads: number;
  readonly heap_mb: number;
  readonly read_workers: number | undefined;
  readonly defaults: PlanDefaults;
  readonly out_dir: string;
  readonly data_root: string | undefined;
  /** Update BENCHMARKS.md's generated sections. */
  readonly record: boolean;
  readonly waitfree_config: readonly string[];
  readonly zookeeper_config: readonly string[];
  readonly notes: readonly string[];
  readonly seed: number;
}

const PAUSE_BETWEEN_POINTS_MS = 300;
const RUN_JSON_THREADS_MAX = 12;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Servers = Map<string, Target>;

async function startServers(o: RunnerOptions, progress: Progress, timing?: QuorumTiming): Promise<Servers> {
  const servers: Servers = new Map();
  try {
    for (const s of o.systems) {
      progress.note(`starting ${s.id}${o.ensemble > 1 ? ` (ensemble of ${o.ensemble})` : ''} ...`);
      const extra = [...(s.kind === 'waitfree' ? o.waitfree_config : o.zookeeper_config), ...s.extra_config];
      servers.set(s.id, await launchTarget(s.kind, { replicas: o.ensemble, fsync: s.fsync, heap_mb: o.heap_mb, read_workers: o.read_workers, data_root: o.data_root, extra_config: extra, timing, waitfree_root: s.waitfree_root }));
    }
  } catch (e) {
    await stopServers(servers);
    throw e;
  }
  return servers;
}

async function stopServers(servers: Servers): Promise<void> {
  for (const s of servers.values()) await s.stop();
}

/** Runs one point against one system: key space, load, cleanup. */
function runPoint(
  o: RunnerOptions,
  server: Target,
  point: PointSpec,
  root: string,
  label: string,
  progress: Progress,
  window: { warmup_ms: number; measure_ms: number } = o.scale,
): Promise<LoadResult> {
  return runPointOn({ loadgen_threads: o.loadgen_threads, seed: o.seed, ...window }, server, point, root, label, progress);
}

/** Every point against every system; the first system alternates point by point. */
async function runPoints(o: RunnerOptions, w: WorkloadName, points: readonly PointSpec[], servers: Servers, repeat: number, progress: Progress, out: PointRun[]): Promise<void> {
  for (let i = 0; i < points.length; i++) {
    const point = points[i]!;
    const order = (i + repeat) % 2 === 0 ? o.systems : [...o.systems].reverse();
    for (const sys of order) {
      const label = `[${w} ${i + 1}/${points.length} rep ${repeat + 1}] ${sys.id} ${point.label}`;
      const result = await runPoint(o, servers.get(sys.id)!, point, `/wfbench-${w}-${i}-${repeat}`, label, progress);
      progress.note(`${label}: ${fmtInt(result.ops_per_s)} ops/s, p99 ${(result.latency.p99_us / 1000).toFixed(1)} ms, server ${result.server_us_per_request?.toFixed(1) ?? 'n/a'} µs/req`);
      out.push({ workload: w, point_index: i, point, system: sys.id, repeat, result });
      await sleep(PAUSE_BETWEEN_POINTS_MS);
    }
  }
}

function pointsFor(o: RunnerOptions, w: WorkloadName, selected: readonly WorkloadName[]): PointSpec[] {
  const s = o.scale;
  if (w === 'fig5') return readMixPoints(s.fig5_read_pcts, s, o.defaults);
  if (w === 'table1') return selected.includes('fig5') ? [] : readMixPoints([0, 100], s, o.defaults);
  if (w === 'table2') return table2Points(s, o.defaults);
  if (w === 'batching') return batchingPoints(s, o.defaults);
  if (w === 'fig8') return o.ensemble >= 3 ? [fig8Point(s, o.defaults)] : [];
  return [];
}

/** Figure 8: one timeline per system and repeat, systems alternating. */
async function runFig8Points(o: RunnerOptions, servers: Servers, repeat: number, progress: Progress, out: PointRun[]): Promise<void> {
  const point = fig8Point(o.scale, o.defaults);
  const order = repeat % 2 === 0 ? o.systems : [...o.systems].reverse();
  for (const sys of order) {
    const label = `[fig8 rep ${repeat + 1}] ${sys.id} ${point.label}`;
    const settings = { loadgen_threads: o.loadgen_threads, seed: o.seed, warmup_ms: 0, measure_ms: o.scale.fig8_duration_ms };
    const { result, events } = await runFig8(settings, servers.get(sys.id)!, point, o.scale.fig8_bucket_ms, `/wfbench-fig8-${repeat}`, label, progress);
    progress.note(`${label}: ${fmtInt(result.ops_per_s)} ops/s over the run, ${result.reconnects ?? 0} reconnects, ${result.lost ?? 0} requests lost with broken sessions`);
    out.push({ workload: 'fig8', point_index: 0, point, system: sys.id, repeat, result, events });
    await sleep(PAUSE_BETWEEN_POINTS_MS);
  }
}

/** Failover time: for each quorum timing, fresh ensembles of every system, leader kills repeated. */
async function runFailoverWorkload(o: RunnerOptions, progress: Progress, infos: Map<string, SystemInfo>, out: FailoverSample[]): Promise<void> {
  for (const t of FAILOVER_TIMINGS) {
    const servers = await startServers(o, progress, t);
    try {
      for (const spec of o.systems) if (!infos.has(spec.id)) infos.set(spec.id, systemInfo(spec.id, servers.get(spec.id)!));
      for (const sys of o.systems) {
        const e = servers.get(sys.id)!.ensemble!;
        const settings = { system: sys.id, timing: t.name, tick_ms: t.tick_ms, repeats: o.scale.failover_repeats, value_bytes: o.defaults.value_bytes, root: '/wfbench-failover' };
        out.push(...(await runFailover(e, settings, progress)));
      }
    } finally {
      await stopServers(servers);
    }
  }
}

/** Latency vs load: a closed-loop probe per system, then the same offered rates for all. */
async function runLatency(o: RunnerOptions, servers: Servers, repeat: number, progress: Progress, out: PointRun[]): Promise<void> {
  const probe = latencyProbe(o.scale, o.defaults);
  let max = 0;
  for (const sys of o.systems) {
    const r = await runPoint(o, servers.get(sys.id)!, probe, `/wfbench-probe-${repeat}`, `[latency probe] ${sys.id}`, progress);
    progress.note(`[latency probe] ${sys.id}: ${fmtInt(r.ops_per_s)} ops/s`);
    max = Math.max(max, r.ops_per_s);
  }
  await runPoints(o, 'latency', latencyPoints(o.scale, o.defaults, max), servers, repeat, progress, out);
}

/** Unmeasured load on every fresh server, so the first point does not pay for JIT compilation. */
async function warmServers(o: RunnerOptions, servers: Servers, progress: Progress): Promise<void> {
  if (o.scale.server_warmup_ms <= 0) return;
  const point = serverWarmup(o.scale, o.defaults);
  for (const sys of o.systems) {
    await runPoint(o, servers.get(sys.id)!, point, '/wfbench-warmup', `[server warm-up] ${sys.id}`, progress, { warmup_ms: 0, measure_ms: o.scale.server_warmup_ms });
  }
}

async function runWorkload(o: RunnerOptions, w: WorkloadName, progress: Progress, runs: PointRun[], infos: Map<string, SystemInfo>, failovers: FailoverSample[]): Promise<void> {
  if (ENSEMBLE_ONLY.includes(w) && o.ensemble < 3) {
    progress.note(`${w}: needs --ensemble 3 or more (it kills replicas); skipped`);
    return;
  }
  if (w === 'failover') return runFailoverWorkload(o, progress, infos, failovers);
  const points = pointsFor(o, w, o.workloads);
  if (w !== 'latency' && points.length === 0) return;
  const servers = await startServers(o, progress);
  try {
    for (const spec of o.systems) infos.set(spec.id, systemInfo(spec.id, servers.get(spec.id)!));
    await warmServers(o, servers, progress);
    for (let rep = 0; rep < o.scale.repeats; rep++) {
      if (w === 'latency') await runLatency(o, servers, rep, progress, runs);
      else if (w === 'fig8') await runFig8Points(o, servers, rep, progress, runs);
      else await runPoints(o, w, points, servers, rep, progress, runs);
    }
  } finally {
    await stopServers(servers);
  }
}

export async function runBenchmarks(o: RunnerOptions): Promise<RunRecord> {
  if (!(o.ensemble === 1 || (o.ensemble >= 3 && o.ensemble <= 9 && o.ensemble % 2 === 1))) throw new Error(`ensemble size ${o.ensemble}: 1 (standalone) or an odd 3..9`);
  const machine = machineFacts();
  const progress = new Progress();
  const runs: PointRun[] = [];
  const failover: FailoverSample[] = [];
  const infos = new Map<string, SystemInfo>();
  for (const w of o.workloads) await runWorkload(o, w, progress, runs, infos, failover);
  const rec: RunRecord = {
    command: o.command, machine, scale: o.scale, ensemble: o.ensemble, loadgen_threads: o.loadgen_threads,
    systems: o.systems.map((s) => infos.get(s.id)).filter((s): s is SystemInfo => s !== undefined),
    runs, notes: [...o.notes], finished: new Date().toISOString(), failover,
  };
  writeOutputs(o, rec);
  return rec;
}

/** JSON replacer keeping run.json small: timelines live in *-timeline.csv; the busiest threads suffice. */
function compactResult(key: string, value: unknown): unknown {
  if (key === 'timeline') return undefined;
  if (key === 'server_threads' && Array.isArray(value)) return value.slice(0, RUN_JSON_THREADS_MAX);
  return value;
}

function writeOutputs(o: RunnerOptions, rec: RunRecord): void {
  mkdirSync(o.out_dir, { recursive: true });
  const plots = new Map<WorkloadName, string>();
  const workloads = measuredWorkloads(rec);
  for (const w of workloads) {
    // Ensemble runs carry the size in every file name ("fig5-e3"), so they never overwrite standalone ones.
    const name = sectionId(rec, w);
    const svg = workloadPlot(rec, w);
    if (svg !== null) {
      writeFileSync(join(o.out_dir, `${name}.svg`), svg);
      plots.set(w, relative(REPO_ROOT, join(o.out_dir, `${name}.svg`)));
    }
    if (rec.runs.some((r) => r.workload === w)) {
      writeFileSync(join(o.out_dir, `${name}.csv`), pointsCsv(rec.runs, w));
      writeFileSync(join(o.out_dir, `${name}-timeline.csv`), timelineCsv(rec.runs, w));
    }
    if (w === 'fig8') writeFileSync(join(o.out_dir, `${name}-buckets.csv`), bucketsCsv(rec.runs, w));
    if (w === 'failover') writeFileSync(join(o.out_dir, `${name}.csv`), failoverCsv(rec.failover ?? []));
  }
  // Named by the workloads measured, so a run of other workloads leaves this one's record alone.
  const tag = runTag(rec);
  writeFileSync(join(o.out_dir, `run-${tag}.json`), `${JSON.stringify(rec, compactResult, 1)}\n`);
  const summary_plots = new Map([...plots].map(([w, p]) => [w, relative(o.out_dir, join(REPO_ROOT, p))]));
  writeFileSync(join(o.out_dir, `summary-${tag}.md`), fullReport(rec, summary_plots));
  if (o.record) recordInBenchmarksMd(rec, plots, workloads);
}

/** The workloads with results in `rec` (Table 1 whenever Figure 5 ran), in run order. */
function measuredWorkloads(rec: RunRecord): Set<WorkloadName> {
  const workloads = new Set<WorkloadName>(rec.runs.map((r) => r.workload));
  if ((rec.failover ?? []).length > 0) workloads.add('failover');
  if (workloads.has('fig5')) workloads.add('table1');
  return workloads;
}

/** "fig5", "table2-batching-latency", "fig8-failover-e3": the workloads of a run, in run order, and the ensemble size. */
export function runTag(rec: RunRecord): string {
  const ws = [...new Set(rec.runs.map((r) => r.workload))];
  if ((rec.failover ?? []).length > 0) ws.push('failover');
  return `${ws.join('-')}${rec.ensemble > 1 ? `-e${rec.ensemble}` : ''}`;
}

/**
 * Replaces the sections of the workloads this run measured; each section carries the run that
 * produced it (command, machine, systems), so sections recorded by different runs stay honest.
 */
function recordInBenchmarksMd(rec: RunRecord, plots: ReadonlyMap<WorkloadName, string>, workloads: ReadonlySet<WorkloadName>): void {
  const path = join(REPO_ROOT, 'BENCHMARKS.md');
  let doc = readFileSync(path, 'utf8');
  const run = `<details><summary>The run: <code>${escapeHtml(rec.command)}</code> (${rec.finished.slice(0, 10)}, record: bench/results/run-${runTag(rec)}.json)</summary>\n\n${runHeader(rec)}\n</details>\n`;
  for (const w of workloads) doc = replaceSection(doc, `macro-${sectionId(rec, w)}`, `${workloadSection(rec, w, plots.get(w) ?? null)}\n${run}`);
  writeFileSync(path, doc);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
