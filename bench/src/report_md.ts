// The markdown report of a run (BENCHMARKS.md sections and results/summary.md) and the SVG plots:
// one table and one plot per workload, one line per system, ratios against Apache ZooKeeper.

import { fmtFixed, fmtInt, fmtRatio, fmtUs } from './format.js';
import { cores, type LoadResult } from './load_result.js';
import { factsLine } from './machine.js';
import { mdTable, type Align } from './markdown.js';
import { failoverSection, fig8Plot, fig8Section } from './report_failures.js';
import { threadList } from './report_text.js';
import { medianTable, type PointRun, type RunRecord } from './run_record.js';
import { lineChartSvg, type Series } from './svg_chart.js';
import { WORKLOAD_SPECS, type WorkloadName } from './workloads.js';

/** Rows of one workload: x label, then the median run per system. */
interface Row {
  readonly label: string;
  readonly x: number;
  readonly by_system: ReadonlyMap<string, LoadResult>;
}

/** Table 1 is the extremes of Figure 5 when Figure 5 ran; otherwise its own runs. */
function sourceWorkload(rec: RunRecord, w: WorkloadName): WorkloadName {
  return w === 'table1' && rec.runs.some((r) => r.workload === 'fig5') ? 'fig5' : w;
}

export function workloadRows(rec: RunRecord, w: WorkloadName): Row[] {
  const table = medianTable(rec.runs, sourceWorkload(rec, w));
  const rows: Row[] = [];
  for (const by_system of table.values()) {
    const any = [...by_system.values()][0]!;
    if (w === 'table1' && any.point.x !== 0 && any.point.x !== 100) continue;
    rows.push({ label: any.point.label, x: any.point.x, by_system: new Map([...by_system].map(([s, r]) => [s, r.result])) });
  }
  return rows;
}

function systemsOf(rec: RunRecord): string[] {
  return rec.systems.map((s) => s.id);
}

/**
 * The ratio pairs reported: every waitfree series against every ZooKeeper series; without
 * ZooKeeper, the first waitfree series against the other ones (e.g. knob variants).
 */
function ratioPairs(rec: RunRecord): [string, string][] {
  const ids = systemsOf(rec);
  const ours = ids.filter((id) => id.startsWith('waitfree'));
  const theirs = ids.filter((id) => id.startsWith('zookeeper'));
  if (theirs.length > 0) return ours.flatMap((a) => theirs.map((b): [string, string] => [a, b]));
  return ours.length === 0 ? [] : ours.slice(1).map((b): [string, string] => [ours[0], b]);
}

function rightAligned(header: readonly string[]): Align[] {
  return header.map((_, i) => (i === 0 ? 'left' : 'right'));
}

/** Throughput per system and waitfree's ratio to each other system. */
function throughputTable(rec: RunRecord, w: WorkloadName, rows: readonly Row[]): string {
  const ids = systemsOf(rec);
  const pairs = ratioPairs(rec);
  const unit = w === 'table2' ? 'creates/s' : 'ops/s';
  const header = [WORKLOAD_SPECS[w].x_label, ...ids.map((s) => `${s} ${unit}`), ...pairs.map(([a, b]) => `${a} / ${b}`)];
  const body = rows.map((row) => {
    const get = (s: string): LoadResult | undefined => row.by_system.get(s);
    return [
      row.label,
      ...ids.map((s) => (get(s) === undefined ? '-' : fmtInt(get(s)!.ops_per_s))),
      ...pairs.map(([a, b]) => fmtRatio(get(a)?.ops_per_s ?? null, get(b)?.ops_per_s ?? null)),
    ];
  });
  return mdTable(header, body, rightAligned(header));
}

/** What each request cost the server (the figure that carries over to bigger hosts). */
function costTable(rec: RunRecord, w: WorkloadName, rows: readonly Row[]): string {
  const ids = systemsOf(rec);
  const pairs = ratioPairs(rec);
  const header = [
    WORKLOAD_SPECS[w].x_label,
    ...ids.map((s) => `${s} server µs/req`),
    ...pairs.map(([a, b]) => `${a} / ${b}`),
    ...ids.map((s) => `${s} server cores`),
    'load-gen cores',
  ];
  const body = rows.map((row) => {
    const get = (s: string): LoadResult | undefined => row.by_system.get(s);
    return [
      row.label,
      ...ids.map((s) => fmtFixed(get(s)?.server_us_per_request ?? null, 1)),
      ...pairs.map(([a, b]) => fmtRatio(get(a)?.server_us_per_request ?? null, get(b)?.server_us_per_request ?? null)),
      ...ids.map((s) => fmtFixed(cores(get(s)?.server_cpu_s ?? null, get(s)?.measure_s ?? 0), 2)),
      ids.map((s) => fmtFixed(cores(get(s)?.loadgen_cpu_s ?? null, get(s)?.measure_s ?? 0), 2)).join(' / '),
    ];
  });
  return mdTable(header, body, rightAligned(header));
}

/** Latency percentiles per system (closed loop: mostly queueing behind the requests in flight). */
function percentileTable(rec: RunRecord, w: WorkloadName, rows: readonly Row[]): string {
  const ids = systemsOf(rec);
  const header = [WORKLOAD_SPECS[w].x_label, ...ids.map((s) => `${s} p50 / p99 / p99.9 / max`)];
  const body = rows.map((row) => [row.label, ...ids.map((s) => latencyCell(row.by_system.get(s)))]);
  return mdTable(header, body, rightAligned(header));
}

function latencyCell(r: LoadResult | undefined): string {
  if (r === undefined) return '-';
  const l = r.latency;
  return `${fmtUs(l.p50_us)} / ${fmtUs(l.p99_us)} / ${fmtUs(l.p999_us)} / ${fmtUs(l.max_us)}`;
}

function latencyTable(rec: RunRecord, rows: readonly Row[]): string {
  const ids = systemsOf(rec);
  const header = ['offered ops/s', ...ids.map((s) => `${s} achieved`), ...ids.map((s) => `${s} p50 / p99 / p99.9`), ...ids.map((s) => `${s} dropped`)];
  const body = rows.map((row) => [
    fmtInt(row.x),
    ...ids.map((s) => (row.by_system.get(s) === undefined ? '-' : fmtInt(row.by_system.get(s)!.ops_per_s))),
    ...ids.map((s) => {
      const r = row.by_system.get(s);
      return r === undefined ? '-' : `${fmtUs(r.latency.p50_us)} / ${fmtUs(r.latency.p99_us)} / ${fmtUs(r.latency.p999_us)}`;
    }),
    ...ids.map((s) => fmtInt(row.by_system.get(s)?.dropped ?? 0)),
  ]);
  return mdTable(header, body, rightAligned(header));
}

/** Busiest server threads at the first and last row (what limits each system). */
function threadNotes(rec: RunRecord, rows: readonly Row[]): string {
  const lines: string[] = [];
  for (const row of [rows[0], rows[rows.length - 1]]) {
    if (row === undefined) continue;
    for (const s of systemsOf(rec)) {
      const r = row.by_system.get(s);
      if (r === undefined || r.server_threads.length === 0) continue;
      lines.push(`- ${row.label}, ${s}: server ${fmtFixed(cores(r.server_cpu_s, r.measure_s), 2)} cores; busiest threads (CPU s over ${r.measure_s} s): ${threadList(r, 6)}`);
    }
  }
  return lines.join('\n');
}

/** The section (and file) name of a workload: ensemble runs carry their size ("fig5-e3"). */
export function sectionId(rec: RunRecord, w: WorkloadName): string {
  return rec.ensemble > 1 ? `${w}-e${rec.ensemble}` : w;
}

function sectionTitle(rec: RunRecord, w: WorkloadName): string {
  const t = WORKLOAD_SPECS[w].title;
  return rec.ensemble > 1 ? `${t}, ensembles of ${rec.ensemble}` : t;
}

export function workloadSection(rec: RunRecord, w: WorkloadName, plot_path: string | null): string {
  if (w === 'fig8') return fig8Section(rec, sectionTitle(rec, w), plot_path);
  if (w === 'failover') return failoverSection(rec, sectionTitle(rec, w));
  const rows = workloadRows(rec, w);
  if (rows.length === 0) return '';
  const spec = WORKLOAD_SPECS[w];
  const parts = [`### ${sectionTitle(rec, w)}`, '', `Paper: ${spec.paper}.`, ''];
  if (plot_path !== null) parts.push(`![${spec.title}](${plot_path})`, '');
  if (w === 'latency') parts.push(latencyTable(rec, rows), '', costTable(rec, w, rows), '');
  else parts.push(throughputTable(rec, w, rows), '', costTable(rec, w, rows), '', percentileTable(rec, w, rows), '');
  const notes = w === 'table1' ? '' : threadNotes(rec, rows); // Table 1's rows are Figure 5's
  if (notes !== '') parts.push(notes, '');
  return parts.join('\n');
}

export function runHeader(rec: RunRecord): string {
  const sys = rec.systems.map((s) => `- **${s.id}**: ${s.fsync_policy}; heap ${s.heap}; config: \`${s.config_text.replace(/\n/g, '; ')}\``);
  const s = rec.scale;
  return [
    `Command: \`${rec.command}\``,
    '',
    `Machine: ${factsLine(rec.machine)}; finished ${rec.finished}.`,
    '',
    `Load generator: ${rec.loadgen_threads} worker threads on the same host; saturation points use ${s.clients} sessions × ${s.outstanding} requests in flight, 1 KiB values; ${s.warmup_ms / 1000} s warm-up + ${s.measure_ms / 1000} s measured per point, ${s.repeats} repeat(s) (median shown), systems alternating point by point; ensemble size ${rec.ensemble}${rec.ensemble > 1 ? ' (every replica and the load generator on this one host, over loopback; clients spread round robin over all members, so most writes go through a follower to the leader)' : ''}. Server CPU is the server processes' utime+stime from /proc over the measured window, divided by requests answered.`,
    '',
    'Systems:',
    ...sys,
    ...(rec.notes.length === 0 ? [] : ['', ...rec.notes.map((n) => `Note: ${n}`)]),
    '',
  ].join('\n');
}

export function workloadPlot(rec: RunRecord, w: WorkloadName): string | null {
  if (w === 'fig8') return fig8Plot(rec);
  if (w === 'failover') return null;
  const rows = workloadRows(rec, w);
  if (rows.length === 0) return null;
  const spec = WORKLOAD_SPECS[w];
  const ids = systemsOf(rec);
  const seriesOf = (pick: (r: LoadResult) => number, suffix = '', dashed = false): Series[] =>
    ids.map((s, style) => ({
      name: `${s}${suffix}`,
      style,
      dashed,
      points: rows.filter((row) => row.by_system.has(s)).map((row) => ({ x: row.x, y: pick(row.by_system.get(s)!) })),
    }));
  const subtitle = `${rec.machine.cores} cores, ${rec.machine.cpu_model}; ${rec.scale.name} run, ${rec.finished.slice(0, 10)}`;
  if (w === 'latency') {
    const series = [...seriesOf((r) => r.latency.p99_us / 1000, ' p99'), ...seriesOf((r) => r.latency.p50_us / 1000, ' p50', true)];
    return lineChartSvg({ title: sectionTitle(rec, w), subtitle, x_label: spec.x_label, y_label: 'latency (ms, log scale)', series, y_log: true });
  }
  const y_label = w === 'table2' ? 'creates per second' : 'operations per second';
  return lineChartSvg({ title: sectionTitle(rec, w), subtitle, x_label: spec.x_label, y_label, series: seriesOf((r) => r.ops_per_s), x_log: w === 'batching' });
}

export function fullReport(rec: RunRecord, plots: ReadonlyMap<WorkloadName, string>): string {
  const workloads = [...new Set(rec.runs.map((r) => r.workload))];
  if ((rec.failover ?? []).length > 0) workloads.push('failover');
  if (workloads.includes('fig5') && !workloads.includes('table1')) workloads.splice(workloads.indexOf('fig5') + 1, 0, 'table1');
  return [runHeader(rec), ...workloads.map((w) => workloadSection(rec, w, plots.get(w) ?? null))].join('\n');
}

export type { PointRun };
