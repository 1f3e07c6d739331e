import { describe, expect, it } from 'vitest';
import { EMPTY_SUMMARY } from '../../bench/src/histogram.js';
import type { LoadResult } from '../../bench/src/load_result.js';
import { fullReport, workloadRows } from '../../bench/src/report_md.js';
import { parseSystem } from '../../bench/src/run_cli.js';
import { pointsCsv } from '../../bench/src/run_csv.js';
import { medianRun, type PointRun, type RunRecord } from '../../bench/src/run_record.js';
import { readMixPoints, SHORT } from '../../bench/src/workloads.js';

function result(ops_per_s: number, us: number): LoadResult {
  const kind = { count: 0, errors: 0, per_s: 0, latency: EMPTY_SUMMARY };
  return {
    connect: '127.0.0.1:1', mode: 'closed', read_pct: 0, clients: 1, outstanding_max: 1, threads: 1, value_bytes: 1024,
    key_count: 10, offered_per_s: 0, warmup_s: 1, measure_s: 1, ops: ops_per_s, ops_per_s, requests: ops_per_s,
    by_kind: { read: kind, write: kind, create: kind, delete: kind },
    latency: { count: 1, mean_us: 100, p50_us: 100, p99_us: 900, p999_us: 1000, max_us: 1000 },
    latency_encoded: '',
    errors: 0, error_codes: {}, dropped: 0, server_cpu_s: 1, server_us_per_request: us, server_threads: [],
    loadgen_cpu_s: 0.2, loadgen_us_per_request: 1, loadavg_start: [1, 1, 1], loadavg_end: [1, 1, 1], timeline: [], phases: [],
  };
}

const points = readMixPoints([0, 50, 100], SHORT, { value_bytes: 1024, key_count: 10 });

function run(point_index: number, system: string, repeat: number, ops: number, us = 10): PointRun {
  return { workload: 'fig5', point_index, point: points[point_index]!, system, repeat, result: result(ops, us) };
}

function record(runs: PointRun[], ids = ['waitfree', 'zookeeper']): RunRecord {
  const sys = (id: string) => ({ id, kind: id.startsWith('waitfree') ? ('waitfree' as const) : ('zookeeper' as const), fsync_policy: 'none', heap: '1g', config_text: 'a=1', command: 'x' });
  return {
    command: 'node bench/run.mjs --workloads fig5', machine: { cores: 2, cpu_model: 'cpu', memory_gib: 24, node: 'v20', java: 'java 17', kernel: '6', loadavg: [1, 1, 1], date: 'd' },
    scale: SHORT, ensemble: 1, loadgen_threads: 2, systems: ids.map(sys), runs, notes: [], finished: '2026-01-01T00:00:00Z',
  };
}

describe('run summaries', () => {
  it('takes the median repeat, not the best one', () => {
    expect(medianRun([run(0, 'w', 0, 300), run(0, 'w', 1, 100), run(0, 'w', 2, 200)]).repeat).toBe(2);
  });

  it('Table 1 is the 0% and 100% rows of Figure 5 when Figure 5 ran', () => {
    const rec = record([run(0, 'waitfree', 0, 10), run(1, 'waitfree', 0, 20), run(2, 'waitfree', 0, 30)]);
    expect(workloadRows(rec, 'table1').map((r) => r.x)).toEqual([0, 100]);
  });

  it('states waitfree/ZooKeeper ratios for throughput and CPU per request', () => {
    const rec = record([run(0, 'waitfree', 0, 60_000, 20), run(0, 'zookeeper', 0, 15_000, 100)]);
    const md = fullReport(rec, new Map([['fig5', 'bench/results/fig5.svg']]));
    const rows = md.split('\n').filter((l) => l.startsWith('| reads 0%'));
    expect(rows[0]).toBe('| reads 0% | 60,000 | 15,000 | 4.00× |');
    expect(rows[1]).toContain('| reads 0% | 20.0 | 100.0 | 0.20× |');
    expect(md).toContain('![Throughput vs % reads (paper Figure 5)](bench/results/fig5.svg)');
    expect(md).toContain('Command: `node bench/run.mjs --workloads fig5`');
  });

  it('knob variants are series of their own, each with its ratio to ZooKeeper', () => {
    const v = 'waitfree[waitfree.commit.batchTxnsMax=1]';
    expect(parseSystem(v, 'always')).toEqual({ id: v, kind: 'waitfree', fsync: 'always', extra_config: ['waitfree.commit.batchTxnsMax=1'], waitfree_root: null });
    // Another checkout's build, with the other parts still allowed after it.
    expect(parseSystem('waitfree@../base', 'always')).toEqual({ id: 'waitfree@../base', kind: 'waitfree', fsync: 'always', extra_config: [], waitfree_root: '../base' });
    expect(parseSystem('waitfree@/tmp/b+nofsync[k=1]', 'always')).toMatchObject({ fsync: 'none', extra_config: ['k=1'], waitfree_root: '/tmp/b' });
    expect(() => parseSystem('zookeeper@/opt/zk', 'always')).toThrow(/another waitfree checkout/);
    expect(parseSystem('zookeeper+nofsync[a.b=1; c=2]', 'always')).toMatchObject({ kind: 'zookeeper', fsync: 'none', extra_config: ['a.b=1', 'c=2'] });
    expect(() => parseSystem('waitfree[oops]', 'always')).toThrow(/not key=value/);
    expect(() => parseSystem('etcd', 'always')).toThrow(/unknown system/);
    const rec = record([run(0, 'waitfree', 0, 40_000), run(0, v, 0, 10_000), run(0, 'zookeeper', 0, 20_000)], ['waitfree', v, 'zookeeper']);
    const row = fullReport(rec, new Map()).split('\n').find((l) => l.startsWith('| reads 0%'));
    expect(row).toBe('| reads 0% | 40,000 | 10,000 | 20,000 | 2.00× | 0.50× |');
  });

  it('the CSV has one row per measured point and repeat', () => {
    const csv = pointsCsv([run(0, 'waitfree', 0, 1), run(0, 'zookeeper', 0, 2), run(1, 'waitfree', 1, 3)], 'fig5');
    expect(csv.trim().split('\n')).toHaveLength(4);
  });
});
