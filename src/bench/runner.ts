// The benchmark runner: starts each system on loopback (fresh data dir, equal-in-spirit config),
// runs every point of every selected workload against each, alternating the order point by
// point, and writes CSV, SVG, a markdown summary, and (with --record) BENCHMARKS.md sections.
// It installs nothing: without Apache ZooKeeper it runs waitfree alone and says so.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { launchServer, REPO_ROOT, type FsyncPolicy, type LaunchedServer, type ServerKind } from '../testing/launch.js';
import { parseConnectString } from './connect_string.js';
import { ownsKeys } from './client_loop.js';
import { runLoad } from './driver.js';
import { createKeySpace, removeKeySpace } from './key_space.js';
import type { LoadResult } from './load_result.js';
import { machineFacts } from './machine.js';
import { replaceSection } from './md_sections.js';
import { Progress } from './progress.js';
import { fullReport, runHeader, workloadPlot, workloadSection } from './report_md.js';
import { pointsCsv, timelineCsv } from './run_csv.js';
import type { PointRun, RunRecord, SystemInfo } from './run_record.js';
import { fmtInt } from './format.js';
import {
  batchingPoints, latencyPoints, latencyProbe, readMixPoints, serverWarmup, table2Points,
  type PlanDefaults, type PointSpec, type Scale, type WorkloadName,
} from './workloads.js';

export interface SystemSpec {
  readonly id: string;
  readonly kind: ServerKind;
  readonly fsync: FsyncPolicy;
  /** Config lines of this system only (after --waitfree-config / --zookeeper-config). */
  readonly extra_config: readonly string[];
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

type Servers = Map<string, LaunchedServer>;

async function startServers(o: RunnerOptions, progress: Progress): Promise<Servers> {
  const servers: Servers = new Map();
  try {
    for (const s of o.systems) {
      progress.note(`starting ${s.id} ...`);
      const extra = [...(s.kind === 'waitfree' ? o.waitfree_config : o.zookeeper_config), ...s.extra_config];
      servers.set(s.id, await launchServer(s.kind, { fsync: s.fsync, heap_mb: o.heap_mb, read_workers: o.read_workers, data_root: o.data_root, extra_config: extra }));
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

function systemInfo(spec: SystemSpec, s: LaunchedServer): SystemInfo {
  return { id: spec.id, kind: spec.kind, fsync_policy: s.fsync_policy, heap: s.heap, config_text: s.config_text, command: s.command };
}

/** Runs one point against one server: key space, load, cleanup. */
async function runPoint(
  o: RunnerOptions,
  server: LaunchedServer,
  point: PointSpec,
  root: string,
  label: string,
  progress: Progress,
  window: { warmup_ms: number; measure_ms: number } = o.scale,
): Promise<LoadResult> {
  if (!server.alive()) throw new Error(`${server.kind} (pid ${server.pid}) is no longer running:\n${server.output()}`);
  const endpoints = parseConnectString(server.connect);
  const plan = { ...point.plan, root };
  await createKeySpace(endpoints[0]!, root, ownsKeys(plan.mode) ? 0 : plan.key_count, plan.value_bytes);
  try {
    return await runLoad({
      endpoints, plan, clients: point.clients, threads: o.loadgen_threads, warmup_ms: window.warmup_ms, measure_ms: window.measure_ms,
      sample_ms: 250, session_timeout_ms: 30_000, seed: o.seed, server_pids: [server.pid], label, progress: progress.show,
    });
  } finally {
    progress.done();
    await removeKeySpace(endpoints[0]!, root);
  }
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
  return [];
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

async function runWorkload(o: RunnerOptions, w: WorkloadName, progress: Progress, runs: PointRun[], infos: Map<string, SystemInfo>): Promise<void> {
  const points = pointsFor(o, w, o.workloads);
  if (w !== 'latency' && points.length === 0) return;
  const servers = await startServers(o, progress);
  try {
    for (const spec of o.systems) infos.set(spec.id, systemInfo(spec, servers.get(spec.id)!));
    await warmServers(o, servers, progress);
    for (let rep = 0; rep < o.scale.repeats; rep++) {
      if (w === 'latency') await runLatency(o, servers, rep, progress, runs);
      else await runPoints(o, w, points, servers, rep, progress, runs);
    }
  } finally {
    await stopServers(servers);
  }
}

export async function runBenchmarks(o: RunnerOptions): Promise<RunRecord> {
  if (o.ensemble !== 1) throw new Error(`ensemble size ${o.ensemble}: only 1 (standalone) until waitfree has replication`);
  const machine = machineFacts();
  const progress = new Progress();
  const runs: PointRun[] = [];
  const infos = new Map<string, SystemInfo>();
  for (const w of o.workloads) await runWorkload(o, w, progress, runs, infos);
  const rec: RunRecord = {
    command: o.command, machine, scale: o.scale, ensemble: o.ensemble, loadgen_threads: o.loadgen_threads,
    systems: o.systems.map((s) => infos.get(s.id)).filter((s): s is SystemInfo => s !== undefined),
    runs, notes: [...o.notes], finished: new Date().toISOString(),
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
  const workloads = new Set<WorkloadName>(rec.runs.map((r) => r.workload));
  if (workloads.has('fig5')) workloads.add('table1');
  for (const w of workloads) {
    const svg = workloadPlot(rec, w);
    if (svg !== null) {
      writeFileSync(join(o.out_dir, `${w}.svg`), svg);
      plots.set(w, relative(REPO_ROOT, join(o.out_dir, `${w}.svg`)));
    }
    if (rec.runs.some((r) => r.workload === w)) {
      writeFileSync(join(o.out_dir, `${w}.csv`), pointsCsv(rec.runs, w));
      writeFileSync(join(o.out_dir, `${w}-timeline.csv`), timelineCsv(rec.runs, w));
    }
  }
  // Named by the workloads measured, so a run of other workloads leaves this one's record alone.
  const tag = runTag(rec);
  writeFileSync(join(o.out_dir, `run-${tag}.json`), `${JSON.stringify(rec, compactResult, 1)}\n`);
  const summary_plots = new Map([...plots].map(([w, p]) => [w, relative(o.out_dir, join(REPO_ROOT, p))]));
  writeFileSync(join(o.out_dir, `summary-${tag}.md`), fullReport(rec, summary_plots));
  if (o.record) recordInBenchmarksMd(rec, plots, workloads);
}

/** "fig5", "table2-batching-latency": the workloads of a run, in run order. */
export function runTag(rec: RunRecord): string {
  return [...new Set(rec.runs.map((r) => r.workload))].join('-');
}

/**
 * Replaces the sections of the workloads this run measured; each section carries the run that
 * produced it (command, machine, systems), so sections recorded by different runs stay honest.
 */
function recordInBenchmarksMd(rec: RunRecord, plots: ReadonlyMap<WorkloadName, string>, workloads: ReadonlySet<WorkloadName>): void {
  const path = join(REPO_ROOT, 'BENCHMARKS.md');
  let doc = readFileSync(path, 'utf8');
  const run = `<details><summary>The run: <code>${escapeHtml(rec.command)}</code> (${rec.finished.slice(0, 10)}, record: bench/results/run-${runTag(rec)}.json)</summary>\n\n${runHeader(rec)}\n</details>\n`;
  for (const w of workloads) doc = replaceSection(doc, `macro-${w}`, `${workloadSection(rec, w, plots.get(w) ?? null)}\n${run}`);
  writeFileSync(path, doc);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
