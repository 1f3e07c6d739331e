import { describe, expect, it } from 'vitest';
import { EMPTY_SUMMARY } from '../../bench/src/histogram.js';
import { baseline, dipAfter, failureScript, phases, type SeriesPoint } from '../../bench/src/failure_timeline.js';
import { failoverMs, lastCommitBeforeMs, spread, type WriteRecord } from '../../bench/src/failover_time.js';
import type { FailoverSample } from '../../bench/src/failover_run.js';
import type { LoadResult } from '../../bench/src/load_result.js';
import { Recorder } from '../../bench/src/recorder.js';
import { fullReport, sectionId, workloadPlot } from '../../bench/src/report_md.js';
import { parseRunArgs } from '../../bench/src/run_cli.js';
import type { RunRecord } from '../../bench/src/run_record.js';
import { runTag } from '../../bench/src/runner.js';
import { lineChartSvg } from '../../bench/src/svg_chart.js';
import { bucketCount, mergeBuckets, opsPerSecond, TimelineBuckets, type BucketCounts } from '../../bench/src/timeline_buckets.js';
import { fig8Point, SHORT } from '../../bench/src/workloads.js';

describe('timeline buckets (Figure 8)', () => {
  it('counts each completion in the bucket of its completion time, reads and writes apart', () => {
    const b = new TimelineBuckets(100, 1_000_000, 5);
    b.record('read', 1_000_000, 0); // first instant of bucket 0
    b.record('read', 1_000_099.9, 0);
    b.record('write', 1_000_100, -101); // first instant of bucket 1, an error reply
    b.record('write', 1_000_450, 0);
    const c = b.counts();
    expect(c.reads).toEqual([2, 0, 0, 0, 0]);
    expect(c.writes).toEqual([0, 1, 0, 0, 1]);
    expect(c.errors).toEqual([0, 1, 0, 0, 0]);
    expect(c.late).toBe(0);
  });

  it('never grows: completions before the start or past the last bucket are counted as late', () => {
    const b = new TimelineBuckets(100, 5_000, 3);
    b.record('read', 4_999, 0);
    b.record('read', 5_300, 0);
    expect(b.counts().late).toBe(2);
    expect(b.counts().reads).toHaveLength(3);
    expect(() => new TimelineBuckets(0, 0, 3)).toThrow(/bucket_ms/);
    expect(() => new TimelineBuckets(100, 0, 1e9)).toThrow(/buckets/);
    expect(bucketCount(30_000, 100)).toBe(301);
  });

  it('threads merge by summing bucket by bucket; ops/s scale by the bucket width', () => {
    const a: BucketCounts = { bucket_ms: 100, reads: [1, 2], writes: [0, 1], errors: [0, 0], late: 1 };
    const b: BucketCounts = { bucket_ms: 100, reads: [3, 0], writes: [1, 1], errors: [1, 0], late: 0 };
    const m = mergeBuckets([a, b])!;
    expect(m).toEqual({ bucket_ms: 100, reads: [4, 2], writes: [1, 2], errors: [1, 0], late: 1 });
    expect(opsPerSecond(m)).toEqual([{ t_s: 0, ops_per_s: 50 }, { t_s: 0.1, ops_per_s: 40 }]);
    expect(() => mergeBuckets([a, { ...b, bucket_ms: 250 }])).toThrow(/differ/);
  });

  it('the recorder feeds the buckets on the shared epoch clock (performance.timeOrigin + now)', () => {
    const r = new Recorder(new Set(['read', 'write']));
    const t0 = performance.timeOrigin + 1_000;
    r.buckets = new TimelineBuckets(100, t0, 10);
    r.record('read', 1, 1_050, 0); // 50 ms after t0
    r.record('write', 1, 1_250, 0);
    expect(r.buckets.counts().reads[0]).toBe(1);
    expect(r.buckets.counts().writes[2]).toBe(1);
  });
});

function series(values: number[], bucket_s = 0.1): SeriesPoint[] {
  return values.map((ops_per_s, i) => ({ t_s: Math.round(i * bucket_s * 1000) / 1000, ops_per_s }));
}

describe('failure timeline statistics', () => {
  it('the script kills a follower, restarts it, then the leader, in order, inside the run', () => {
    const s = failureScript(30_000);
    expect(s.map((e) => e.action)).toEqual(['kill_follower', 'restart_follower', 'kill_leader', 'restart_leader']);
    expect(s.every((e, i) => e.at_ms > 0 && e.at_ms < 30_000 && (i === 0 || e.at_ms > s[i - 1]!.at_ms))).toBe(true);
    expect(() => failureScript(5_000)).toThrow(/10 s/);
  });

  it('a leader kill: lowest bucket, time under half and at zero, recovery to 90%', () => {
    // 1,000 ops/s steady; the kill at 1.0 s; 3 buckets at 0, one at 400, then back to 950.
    const s = series([1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 0, 0, 0, 400, 950, 1000, 1000]);
    const base = baseline(s, 0, 1.0)!;
    expect(base).toBe(1000);
    const d = dipAfter(s, 100, 1.0, 1.7, base);
    expect(d.min_ops_per_s).toBe(0);
    expect(d.zero_ms).toBe(300);
    expect(d.below_half_ms).toBe(400);
    expect(d.recovered_after_ms).toBe(400);
  });

  it('no recovery inside the window is reported as such, not as zero', () => {
    const s = series([1000, 1000, 0, 0, 0]);
    expect(dipAfter(s, 100, 0.2, 0.5, 1000).recovered_after_ms).toBeNull();
  });

  it('phases are cut at every event and averaged', () => {
    const s = series([10, 10, 20, 20, 30], 1);
    const p = phases(s, [{ at_s: 2 }, { at_s: 4 }], 5);
    expect(p.map((x) => x.mean_ops_per_s)).toEqual([10, 20, 30]);
  });
});

describe('failover time', () => {
  const w = (sent_ms: number, done_ms: number, err = 0): WriteRecord => ({ sent_ms, done_ms, err });

  it('is the first committed write sent at or after the kill, not a late answer to an earlier one', () => {
    const writes = [w(90, 95), w(99, 400), w(101, 150, -4), w(150, 700), w(160, 650), w(170, 900, -7)];
    // 99 -> 400 was sent before the kill at 100; 160 -> 650 is the first commit sent after it.
    expect(failoverMs(writes, 100)).toBe(550);
    expect(lastCommitBeforeMs(writes, 100)).toBe(5);
  });

  it('none committed: null, never a number', () => {
    expect(failoverMs([w(150, 200, -4)], 100)).toBeNull();
    expect(lastCommitBeforeMs([], 100)).toBeNull();
  });

  it('spread: median of an even count is the mean of the middle two', () => {
    expect(spread([400, 100, 300, 200])).toEqual({ n: 4, median: 250, min: 100, max: 400 });
    expect(spread([])).toBeNull();
  });
});

function fig8Result(buckets: BucketCounts, ops_per_s: number): LoadResult {
  const kind = { count: 0, errors: 0, per_s: 0, latency: EMPTY_SUMMARY };
  return {
    connect: '127.0.0.1:1', mode: 'closed', read_pct: 70, clients: 32, outstanding_max: 100, threads: 2, value_bytes: 1024,
    key_count: 1000, offered_per_s: 0, warmup_s: 0, measure_s: 2, ops: ops_per_s * 2, ops_per_s, requests: ops_per_s * 2,
    by_kind: { read: kind, write: kind, create: kind, delete: kind }, latency: EMPTY_SUMMARY, latency_encoded: '',
    errors: 0, error_codes: {}, dropped: 0, server_cpu_s: null, server_us_per_request: null, server_threads: [],
    loadgen_cpu_s: 0, loadgen_us_per_request: 0, loadavg_start: [1, 1, 1], loadavg_end: [1, 1, 1], timeline: [], phases: [],
    buckets, reconnects: 40, lost: 4000,
  };
}

function ensembleRecord(): RunRecord {
  const sys = (id: string) => ({ id, kind: id as 'waitfree' | 'zookeeper', fsync_policy: 'fsync', heap: '512m', config_text: 'a=1', command: 'x' });
  const flat = (v: number, n: number) => new Array<number>(n).fill(v);
  // 20 buckets of 100 ms: steady, the leader killed at 1.0 s, 2 (waitfree) or 5 (ZooKeeper) empty buckets.
  const wf: BucketCounts = { bucket_ms: 100, reads: [...flat(700, 10), 0, 0, ...flat(700, 8), 5], writes: [...flat(300, 10), 0, 0, ...flat(300, 8), 1], errors: flat(0, 21), late: 0 };
  const zk: BucketCounts = { bucket_ms: 100, reads: [...flat(350, 10), ...flat(0, 5), ...flat(350, 5), 2], writes: [...flat(150, 10), ...flat(0, 5), ...flat(150, 5), 0], errors: flat(0, 21), late: 0 };
  const point = fig8Point(SHORT, { value_bytes: 1024, key_count: 1000 });
  const events = [
    { action: 'kill_follower' as const, at_s: 0.3, sid: 1, serving_at_s: null },
    { action: 'restart_follower' as const, at_s: 0.6, sid: 1, serving_at_s: 0.9 },
    { action: 'kill_leader' as const, at_s: 1.0, sid: 3, serving_at_s: null },
    { action: 'restart_leader' as const, at_s: 1.6, sid: 3, serving_at_s: 1.9 },
  ];
  const failover: FailoverSample[] = [100, 300, 200].flatMap((v, repeat) => [
    { system: 'waitfree', timing: 'tight', tick_ms: 200, repeat, killed_sid: 1, new_leader_sid: 2, failover_ms: v, last_commit_before_ms: 1, writes_per_s_before: 900 },
    { system: 'zookeeper', timing: 'tight', tick_ms: 200, repeat, killed_sid: 1, new_leader_sid: 2, failover_ms: v * 2, last_commit_before_ms: 1, writes_per_s_before: 900 },
  ]);
  return {
    command: 'node bench/run.mjs --ensemble 3 --workloads fig8,failover', machine: { cores: 2, cpu_model: 'cpu', memory_gib: 24, node: 'v20', java: 'java 17', kernel: '6', loadavg: [1, 1, 1], date: 'd' },
    scale: SHORT, ensemble: 3, loadgen_threads: 2, systems: [sys('waitfree'), sys('zookeeper')], notes: [], finished: '2026-01-01T00:00:00Z',
    runs: [
      { workload: 'fig8', point_index: 0, point, system: 'waitfree', repeat: 0, result: fig8Result(wf, 900), events },
      { workload: 'fig8', point_index: 0, point, system: 'zookeeper', repeat: 0, result: fig8Result(zk, 400), events },
    ],
    failover,
  };
}

describe('ensemble reports', () => {
  it('ensemble runs are named by their size, so they never replace the standalone sections or files', () => {
    const rec = ensembleRecord();
    expect(sectionId(rec, 'fig5')).toBe('fig5-e3');
    expect(sectionId({ ...rec, ensemble: 1 }, 'fig5')).toBe('fig5');
    expect(runTag(rec)).toBe('fig8-failover-e3');
  });

  it('Figure 8: baseline, the leader-kill gap, ratio and the events, per system', () => {
    const md = fullReport(ensembleRecord(), new Map([['fig8', 'fig8-e3.svg']]));
    expect(md).toContain('### Throughput upon failures (paper Figure 8), ensembles of 3');
    const gap = md.split('\n').filter((l) => /^\| (waitfree|zookeeper) \| [\d,]+ \| 0 \|/.test(l));
    // waitfree: 2 empty buckets, back at 1.2 s; ZooKeeper: 5, back at 1.5 s.
    expect(gap[0]).toBe('| waitfree | 10,000 | 0 | 200 ms | 200 ms | 200 ms |');
    expect(gap[1]).toBe('| zookeeper | 5,000 | 0 | 500 ms | 500 ms | 500 ms |');
    expect(md).toContain('waitfree / zookeeper: baseline 2.00×');
    expect(md).toContain('leader killed r3 at 1.0 s; old leader restarted r3 at 1.6 s (serving again at 1.9 s)');
  });

  it('failover: median, min, max per timing and system, and the ratio of medians', () => {
    const md = fullReport(ensembleRecord(), new Map());
    expect(md).toContain('| tight | waitfree | 3 | 200 ms | 100 ms | 300 ms | 100, 300, 200 | 0 |');
    expect(md).toContain('| tight | zookeeper | 3 | 400 ms | 200 ms | 600 ms | 200, 600, 400 | 0 |');
    expect(md).toContain('tight: waitfree / zookeeper median 0.50×');
  });

  it('the Figure 8 plot marks every failure and leaves out the bucket past the end', () => {
    const svg = workloadPlot(ensembleRecord(), 'fig8')!;
    for (const label of ['follower killed', 'follower restarted', 'leader killed', 'old leader restarted']) expect(svg).toContain(`>${label}</text>`);
    const line = /<polyline data-series="waitfree" points="([^"]+)"/.exec(svg)![1]!;
    expect(line.split(' ')).toHaveLength(20);
    const bare = lineChartSvg({ title: 't', x_label: 'x', y_label: 'y', series: [{ name: 's', points: [{ x: 1, y: 1 }, { x: 2, y: 2 }] }], point_markers: false });
    expect(bare.match(/<circle/g)).toHaveLength(1); // the legend's, none on the line
  });
});

describe('--ensemble', () => {
  it('takes 1 or an odd 3..9; workloads that kill replicas need 3 or more', () => {
    expect(parseRunArgs(['--ensemble', '5', '--workloads', 'fig5']).ensemble).toBe(5);
    expect(() => parseRunArgs(['--ensemble', '2'])).toThrow(/odd 3..9/);
    expect(() => parseRunArgs(['--ensemble', '11'])).toThrow(/odd 3..9/);
    expect(() => parseRunArgs(['--workloads', 'fig8'])).toThrow(/needs --ensemble 3/);
    expect(parseRunArgs(['--ensemble', '3', '--workloads', 'failover', '--failover-repeats', '7']).scale.failover_repeats).toBe(7);
  });
});
