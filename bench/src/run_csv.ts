// CSV exports of a run: one row per measured point and repeat, and the throughput timeline.

import { toCsv, type CsvValue } from './csv.js';
import { cores } from './load_result.js';
import type { FailoverSample } from './failover_run.js';
import type { PointRun } from './run_record.js';
import type { WorkloadName } from './workloads.js';

const POINT_HEADER = [
  'workload', 'point', 'x', 'system', 'repeat', 'mode', 'read_pct', 'clients', 'outstanding', 'value_bytes',
  'offered_per_s', 'measure_s', 'ops', 'ops_per_s', 'reads_per_s', 'writes_per_s', 'creates_per_s', 'deletes_per_s',
  'errors', 'dropped', 'p50_us', 'p99_us', 'p999_us', 'max_us', 'mean_us',
  'server_cpu_s', 'server_cores', 'server_us_per_request', 'loadgen_cpu_s', 'loadgen_cores', 'loadavg_1m_start', 'loadavg_1m_end',
] as const;

function pointRow(r: PointRun): CsvValue[] {
  const x = r.result;
  return [
    r.workload, r.point.label, r.point.x, r.system, r.repeat, x.mode, x.read_pct, x.clients, x.outstanding_max, x.value_bytes,
    x.offered_per_s, x.measure_s, x.ops, x.ops_per_s, x.by_kind.read.per_s, x.by_kind.write.per_s, x.by_kind.create.per_s, x.by_kind.delete.per_s,
    x.errors, x.dropped, x.latency.p50_us, x.latency.p99_us, x.latency.p999_us, x.latency.max_us, x.latency.mean_us,
    x.server_cpu_s, cores(x.server_cpu_s, x.measure_s), x.server_us_per_request, x.loadgen_cpu_s, cores(x.loadgen_cpu_s, x.measure_s),
    x.loadavg_start[0] ?? null, x.loadavg_end[0] ?? null,
  ];
}

export function pointsCsv(runs: readonly PointRun[], workload: WorkloadName): string {
  return toCsv(POINT_HEADER, runs.filter((r) => r.workload === workload).map(pointRow));
}

export function timelineCsv(runs: readonly PointRun[], workload: WorkloadName): string {
  const rows: CsvValue[][] = [];
  for (const r of runs) {
    if (r.workload !== workload) continue;
    for (const t of r.result.timeline) rows.push([r.point.label, r.system, r.repeat, t.t_s, t.t_s > r.result.warmup_s ? 'measure' : 'warmup', t.ops_per_s, t.p99_us]);
  }
  return toCsv(['point', 'system', 'repeat', 't_s', 'phase', 'ops_per_s', 'p99_us_max_thread'], rows);
}

/** Figure 8: one row per system, repeat and bucket (completions by completion time). */
export function bucketsCsv(runs: readonly PointRun[], workload: WorkloadName): string {
  const rows: CsvValue[][] = [];
  for (const r of runs) {
    const b = r.result.buckets;
    if (r.workload !== workload || b === undefined || b === null) continue;
    for (let i = 0; i < b.reads.length; i++) {
      const t_s = (i * b.bucket_ms) / 1000;
      rows.push([r.system, r.repeat, t_s, ((b.reads[i]! + b.writes[i]!) * 1000) / b.bucket_ms, b.reads[i]!, b.writes[i]!, b.errors[i]!]);
    }
  }
  return toCsv(['system', 'repeat', 't_s', 'ops_per_s', 'reads', 'writes', 'errors'], rows);
}

export function failoverCsv(samples: readonly FailoverSample[]): string {
  const rows: CsvValue[][] = samples.map((f) => [f.system, f.timing, f.tick_ms, f.repeat, f.killed_sid, f.new_leader_sid, f.failover_ms, f.last_commit_before_ms, f.writes_per_s_before]);
  return toCsv(['system', 'timing', 'tick_ms', 'repeat', 'killed_sid', 'new_leader_sid', 'failover_ms', 'last_commit_before_ms', 'writes_per_s_before'], rows);
}
