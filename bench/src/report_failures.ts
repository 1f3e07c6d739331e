// The markdown and SVG of the failure workloads: Figure 8 (throughput over time with the
// failures marked) and failover time (leader SIGKILL to the first committed write).

import { fmtInt, fmtRatio } from './format.js';
import { baseline, dipAfter, EVENT_LABELS, phases, type TimelineEvent } from './failure_timeline.js';
import { spread } from './failover_time.js';
import type { FailoverSample } from './failover_run.js';
import { mdTable, type Align } from './markdown.js';
import type { PointRun, RunRecord } from './run_record.js';
import { lineChartSvg, type Mark, type Series } from './svg_chart.js';
import { opsPerSecond } from './timeline_buckets.js';
import { WORKLOAD_SPECS } from './workloads.js';

/** After a kill, the dip is looked for in this window (or up to the next event). */
const DIP_WINDOW_S = 5;
/** The baseline: the steady seconds before the first event, after the first second (clients connecting). */
const BASELINE_SKIP_S = 1;

function right(header: readonly string[]): Align[] {
  return header.map((_, i) => (i === 0 ? 'left' : 'right'));
}

/** Figure 8's run of each system: the median repeat by overall throughput. */
function fig8Runs(rec: RunRecord): PointRun[] {
  const out: PointRun[] = [];
  for (const s of rec.systems) {
    const rs = rec.runs.filter((r) => r.workload === 'fig8' && r.system === s.id && r.result.buckets);
    if (rs.length === 0) continue;
    const sorted = [...rs].sort((a, b) => a.result.ops_per_s - b.result.ops_per_s);
    out.push(sorted[Math.floor((sorted.length - 1) / 2)]!);
  }
  return out;
}

interface Fig8Row {
  readonly run: PointRun;
  readonly base: number | null;
  readonly phase_means: (number | null)[];
  readonly leader_dip: ReturnType<typeof dipAfter> | null;
  readonly follower_dip: ReturnType<typeof dipAfter> | null;
}

function fig8Row(run: PointRun): Fig8Row {
  const b = run.result.buckets!;
  const series = opsPerSecond(b);
  const events = [...(run.events ?? [])].sort((x, y) => x.at_s - y.at_s);
  const end_s = run.result.measure_s;
  const first = events[0]?.at_s ?? end_s;
  const base = baseline(series, Math.min(BASELINE_SKIP_S, first / 2), first);
  const next = (e: TimelineEvent): number => Math.min(e.at_s + DIP_WINDOW_S, events.find((x) => x.at_s > e.at_s)?.at_s ?? end_s);
  const dip = (action: TimelineEvent['action']) => {
    const e = events.find((x) => x.action === action);
    return e === undefined || base === null ? null : dipAfter(series, b.bucket_ms, e.at_s, next(e), base);
  };
  return { run, base, phase_means: phases(series, events, end_s).map((p) => p.mean_ops_per_s), leader_dip: dip('kill_leader'), follower_dip: dip('kill_follower') };
}

const n = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : fmtInt(v));
const ms = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${fmtInt(v)} ms`);

function eventsLine(run: PointRun): string {
  const parts = (run.events ?? []).map((e) => {
    const serving = e.serving_at_s === null ? '' : ` (serving again at ${e.serving_at_s.toFixed(1)} s)`;
    return `${EVENT_LABELS[e.action]} r${e.sid} at ${e.at_s.toFixed(1)} s${serving}`;
  });
  return `- ${run.system}: ${parts.join('; ')}; ${run.result.reconnects ?? 0} client reconnects, ${fmtInt(run.result.lost ?? 0)} requests lost with broken sessions, ${fmtInt(run.result.errors)} error replies.`;
}

export function fig8Section(rec: RunRecord, title: string, plot_path: string | null): string {
  const rows = fig8Runs(rec).map(fig8Row);
  if (rows.length === 0) return '';
  const spec = WORKLOAD_SPECS.fig8;
  const b = rows[0]!.run.result.buckets!;
  const parts = [`### ${title}`, '', `Paper: ${spec.paper}.`, ''];
  parts.push(`Here: ensembles of ${rec.ensemble}, ${rows[0]!.run.point.clients} sessions × ${rows[0]!.run.point.plan.outstanding_max} in flight, ${rec.scale.fig8_read_pct}% reads, ${rows[0]!.run.result.measure_s} s, throughput in ${b.bucket_ms} ms buckets by completion time; clients whose server dies reconnect to the next member (a new session).`, '');
  if (plot_path !== null) parts.push(`![${spec.title}](${plot_path})`, '');
  const phase_names = ['before', 'follower down', 'follower back', 'leader down', 'after'];
  const header1 = ['system', 'baseline ops/s', ...phase_names.map((p) => `mean ops/s: ${p}`)];
  parts.push(mdTable(header1, rows.map((r) => [r.run.system, n(r.base), ...phase_names.map((_, i) => n(r.phase_means[i]))]), right(header1)), '');
  const header2 = ['system', 'follower kill: lowest bucket', 'leader kill: lowest bucket', 'time < 50% of baseline', 'time at 0', 'back to 90% after'];
  parts.push(
    mdTable(
      header2,
      rows.map((r) => [r.run.system, n(r.follower_dip?.min_ops_per_s), n(r.leader_dip?.min_ops_per_s), ms(r.leader_dip?.below_half_ms), ms(r.leader_dip?.zero_ms), ms(r.leader_dip?.recovered_after_ms)]),
      right(header2),
    ),
    '',
  );
  const ours = rows.find((r) => r.run.system.startsWith('waitfree'));
  const theirs = rows.find((r) => r.run.system.startsWith('zookeeper'));
  if (ours !== undefined && theirs !== undefined) parts.push(`${ours.run.system} / ${theirs.run.system}: baseline ${fmtRatio(ours.base, theirs.base)}, whole run ${fmtRatio(ours.run.result.ops_per_s, theirs.run.result.ops_per_s)}.`, '');
  parts.push(...rows.map((r) => eventsLine(r.run)), '');
  return parts.join('\n');
}

export function fig8Plot(rec: RunRecord): string | null {
  const runs = fig8Runs(rec);
  if (runs.length === 0) return null;
  const series: Series[] = runs.map((r) => ({
    name: r.system,
    style: rec.systems.findIndex((s) => s.id === r.system),
    // The bucket past the run's end holds only the drain's stragglers.
    points: opsPerSecond(r.result.buckets!)
      .filter((p) => p.t_s < r.result.measure_s)
      .map((p) => ({ x: p.t_s, y: p.ops_per_s })),
  }));
  // The script's times are the same for every system; the first run's actual times are marked.
  const marks: Mark[] = (runs[0]!.events ?? []).map((e) => ({ x: e.at_s, label: EVENT_LABELS[e.action] }));
  const b = runs[0]!.result.buckets!;
  return lineChartSvg({
    title: `${WORKLOAD_SPECS.fig8.title}, ensembles of ${rec.ensemble}`,
    subtitle: `${rec.machine.cores} cores, ${rec.machine.cpu_model}; ${rec.scale.fig8_read_pct}% reads; ${b.bucket_ms} ms buckets; ${rec.finished.slice(0, 10)}`,
    x_label: 'time (s)',
    y_label: 'operations per second',
    series,
    marks,
    point_markers: false,
  });
}

export function failoverSection(rec: RunRecord, title: string): string {
  const samples: readonly FailoverSample[] = rec.failover ?? [];
  if (samples.length === 0) return '';
  const timings = [...new Set(samples.map((s) => s.timing))];
  const systems = rec.systems.map((s) => s.id).filter((id) => samples.some((s) => s.system === id));
  const header = ['quorum timing', 'system', 'repeats', 'median', 'min', 'max', 'every repeat (ms)', 'timed out'];
  const body: string[][] = [];
  const ratios: string[] = [];
  for (const t of timings) {
    const med = new Map<string, number | null>();
    for (const sys of systems) {
      const mine = samples.filter((s) => s.timing === t && s.system === sys);
      const values = mine.map((s) => s.failover_ms).filter((v): v is number => v !== null);
      const sp = spread(values);
      med.set(sys, sp?.median ?? null);
      body.push([t, sys, String(mine.length), ms(sp?.median), ms(sp?.min), ms(sp?.max), values.map((v) => fmtInt(v)).join(', '), String(mine.length - values.length)]);
    }
    const ours = systems.find((s) => s.startsWith('waitfree'));
    const theirs = systems.find((s) => s.startsWith('zookeeper'));
    if (ours !== undefined && theirs !== undefined) ratios.push(`${t}: ${ours} / ${theirs} median ${fmtRatio(med.get(ours) ?? null, med.get(theirs) ?? null)}`);
  }
  return [
    `### ${title}`,
    '',
    `Paper: ${WORKLOAD_SPECS.failover.paper}.`,
    '',
    `Here: ensembles of ${rec.ensemble}; one writer per member, each keeping one 1 KiB setData in flight and moving to the next member when its session breaks or a write goes unanswered for 5 s; each repeat SIGKILLs the current leader and measures, on the clock of the process that sent the signal, the time to the first committed write sent after it; then the old leader is restarted and rejoins before the next repeat.`,
    '',
    mdTable(header, body, right(header)),
    '',
    ...(ratios.length === 0 ? [] : [`Ratios (lower is faster): ${ratios.join('; ')}.`, '']),
  ].join('\n');
}
