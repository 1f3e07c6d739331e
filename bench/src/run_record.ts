// What a benchmark run produced, as one JSON-able record: the command, the machine, each
// system's configuration, and every measured point (all repeats).

import type { FailoverSample } from './failover_run.js';
import type { TimelineEvent } from './failure_timeline.js';
import type { LoadResult } from './load_result.js';
import type { MachineFacts } from './machine.js';
import type { PointSpec, Scale, WorkloadName } from './workloads.js';

export interface SystemInfo {
  /** Series name: "waitfree", "zookeeper", "zookeeper+fsync", ... */
  readonly id: string;
  readonly kind: 'waitfree' | 'zookeeper';
  readonly fsync_policy: string;
  readonly heap: string;
  readonly config_text: string;
  readonly command: string;
}

export interface PointRun {
  readonly workload: WorkloadName;
  readonly point_index: number;
  readonly point: PointSpec;
  readonly system: string;
  readonly repeat: number;
  readonly result: LoadResult;
  /** Figure 8: the failures injected during the point. */
  readonly events?: readonly TimelineEvent[];
}

export interface RunRecord {
  readonly command: string;
  readonly machine: MachineFacts;
  readonly scale: Scale;
  readonly ensemble: number;
  readonly loadgen_threads: number;
  readonly systems: SystemInfo[];
  readonly runs: PointRun[];
  readonly notes: string[];
  readonly finished: string;
  /** The failover workload's repeats (absent in older records). */
  readonly failover?: FailoverSample[];
}

/** The run of the median throughput among repeats of one (workload, point, system). */
export function medianRun(runs: readonly PointRun[]): PointRun {
  if (runs.length === 0) throw new Error('no runs');
  const sorted = [...runs].sort((a, b) => a.result.ops_per_s - b.result.ops_per_s);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Median runs per (point_index, system) of one workload, in point order. */
export function medianTable(runs: readonly PointRun[], workload: WorkloadName): Map<number, Map<string, PointRun>> {
  const groups = new Map<number, Map<string, PointRun[]>>();
  for (const r of runs) {
    if (r.workload !== workload) continue;
    const bySystem = groups.get(r.point_index) ?? new Map<string, PointRun[]>();
    bySystem.set(r.system, [...(bySystem.get(r.system) ?? []), r]);
    groups.set(r.point_index, bySystem);
  }
  const out = new Map<number, Map<string, PointRun>>();
  for (const i of [...groups.keys()].sort((a, b) => a - b)) {
    out.set(i, new Map([...groups.get(i)!.entries()].map(([s, rs]) => [s, medianRun(rs)])));
  }
  return out;
}
