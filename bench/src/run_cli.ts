// `node bench/run.mjs` (npm run bench): the benchmark set against waitfree and, when installed,
// Apache ZooKeeper, side by side. Short by default (a few minutes); --full for the real thing.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { apacheZkAvailable, REPO_ROOT, waitfreeFsyncKey, type FsyncPolicy } from '../../dist/check/launch.js';
import { runBenchmarks, type RunnerOptions, type SystemSpec } from './runner.js';
import { ENSEMBLE_ONLY, FULL, SHORT, WORKLOADS, type Scale, type WorkloadName } from './workloads.js';

export const RUN_USAGE = `usage: node bench/run.mjs [options]      (npm run bench -- [options])
  --full                 the full set (paper-sized: 250 clients, 20 s points, 3 repeats); default: short
  --workloads LIST       ${WORKLOADS.join(',')}   [all]
  --systems LIST         waitfree, zookeeper, zookeeper+fsync, zookeeper+nofsync, waitfree+fsync ...
                         a variant with its own config: 'waitfree[waitfree.commit.batchTxnsMax=1;k=v]'
                         another checkout's build (built there): 'waitfree@../base' (A/B of two commits)
                         [waitfree,zookeeper when Apache ZooKeeper is installed]
  --fsync always|none    fsync policy of systems without +fsync/+nofsync  [always once waitfree has a
                         durable log; none while it has none, so both systems match]
  --reads LIST           % reads of the Figure 5 points, e.g. 0,50,100
  --clients N --outstanding N --duration S --warmup S --repeats N   override the scale
  --server-warmup S      unmeasured load on each fresh server first  [3; full 15]
  --threads N            load-generator threads                     [min(2, cores)]
  --heap-mb N            server heap budget (JVM -Xmx, V8 old space)  [1024]
  --read-workers N       waitfree read workers                      [waitfree's default]
  --value-bytes N --keys N                                          [1024, 1000]
  --waitfree-config K=V  extra waitfree config line (repeatable); --zookeeper-config K=V likewise
  --ensemble N           replicas per system: 1 (standalone) or an odd 3..9; each an own process
                         on this host, clients spread over all members     [1]
                         fig8 and failover need 3 or more (they kill replicas)
  --fig8-duration S      length of the Figure 8 run (failures at 15/32/52/69%)  [30; full 40]
  --failover-repeats N   leader kills per system and quorum timing       [5; full 10]
  --out DIR              CSV, SVG, summary-<workloads>.md, run-<workloads>.json  [bench/results]
  --data-root DIR        parent of the servers' fresh data dirs     [os tmpdir]
  --record               also write the tables into BENCHMARKS.md
  --seed N`;

function num(v: string | undefined, what: string, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${what} ${v}: expected a number >= ${min}`);
  return n;
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * `waitfree`, `zookeeper+nofsync`, `waitfree[waitfree.commit.batchTxnsMax=1;waitfree.commit.batchWaitUs=500]`,
 * `waitfree@../base`: a kind, for waitfree optionally another checkout's build (`@DIR`: its
 * bin/waitfree.js; two builds measured side by side, alternating point by point like any two
 * systems), an optional fsync policy, and optional config lines for this system only (a variant:
 * the same server with other knobs, measured as its own series).
 */
export function parseSystem(id: string, fsync: FsyncPolicy): SystemSpec {
  const m = /^(waitfree|zookeeper)(?:@([^+[\]]+))?(?:\+(fsync|nofsync))?(?:\[([^\]]*)\])?$/.exec(id);
  if (m === null) {
    throw new Error(`--systems: unknown system ${JSON.stringify(id)} (waitfree or zookeeper, optional @DIR for another waitfree build, optional +fsync / +nofsync, optional [key=value;...])`);
  }
  if (m[2] !== undefined && m[1] !== 'waitfree') throw new Error(`--systems ${id}: @DIR names another waitfree checkout; ZooKeeper is the installed one`);
  const policy: FsyncPolicy = m[3] === 'fsync' ? 'always' : m[3] === 'nofsync' ? 'none' : fsync;
  const extra_config = (m[4] ?? '').split(';').map((l) => l.trim()).filter((l) => l !== '');
  for (const line of extra_config) {
    if (!/^[\w.]+=\S/.test(line)) throw new Error(`--systems ${id}: ${JSON.stringify(line)} is not key=value`);
  }
  return { id, kind: m[1] as SystemSpec['kind'], fsync: policy, extra_config, waitfree_root: m[2] ?? null };
}

function parseWorkloads(v: string[] | undefined): WorkloadName[] {
  if (v === undefined) return [...WORKLOADS];
  return v.map((w) => {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`--workloads: unknown ${w} (${WORKLOADS.join(', ')})`);
    return w as WorkloadName;
  });
}

function scaleWith(base: Scale, v: Record<string, string | boolean | string[] | undefined>): Scale {
  const s = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const reads = list(s('reads'))?.map((r) => num(r, 'reads')!);
  return {
    ...base,
    clients: num(s('clients'), 'clients', 1) ?? base.clients,
    outstanding: num(s('outstanding'), 'outstanding', 1) ?? base.outstanding,
    measure_ms: (num(s('duration'), 'duration') ?? base.measure_ms / 1000) * 1000,
    warmup_ms: (num(s('warmup'), 'warmup') ?? base.warmup_ms / 1000) * 1000,
    repeats: num(s('repeats'), 'repeats', 1) ?? base.repeats,
    server_warmup_ms: (num(s('server-warmup'), 'server-warmup') ?? base.server_warmup_ms / 1000) * 1000,
    fig5_read_pcts: reads ?? base.fig5_read_pcts,
    fig8_duration_ms: (num(s('fig8-duration'), 'fig8-duration', 10) ?? base.fig8_duration_ms / 1000) * 1000,
    failover_repeats: num(s('failover-repeats'), 'failover-repeats', 1) ?? base.failover_repeats,
  };
}

function ensembleSize(v: string | undefined): number {
  const n = num(v, 'ensemble', 1) ?? 1;
  if (!(n === 1 || (Number.isInteger(n) && n >= 3 && n <= 9 && n % 2 === 1))) throw new Error(`--ensemble ${v}: 1 (standalone) or an odd 3..9`);
  return n;
}

export function parseRunArgs(argv: readonly string[]): RunnerOptions {
  const { values: v } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      full: { type: 'boolean' }, workloads: { type: 'string' }, systems: { type: 'string' }, fsync: { type: 'string' },
      reads: { type: 'string' }, clients: { type: 'string' }, outstanding: { type: 'string' }, duration: { type: 'string' },
      warmup: { type: 'string' }, 'server-warmup': { type: 'string' }, repeats: { type: 'string' }, threads: { type: 'string' }, 'heap-mb': { type: 'string' },
      'read-workers': { type: 'string' }, 'value-bytes': { type: 'string' }, keys: { type: 'string' },
      'waitfree-config': { type: 'string', multiple: true }, 'zookeeper-config': { type: 'string', multiple: true },
      ensemble: { type: 'string' }, 'fig8-duration': { type: 'string' }, 'failover-repeats': { type: 'string' }, out: { type: 'string' }, 'data-root': { type: 'string' }, record: { type: 'boolean' },
      seed: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) throw new Error(RUN_USAGE);
  const asked = list(v.workloads) ?? [];
  const needs_ensemble = ENSEMBLE_ONLY.filter((w) => asked.includes(w));
  if (needs_ensemble.length > 0 && ensembleSize(v.ensemble) < 3) throw new Error(`--workloads ${needs_ensemble.join(',')}: kills replicas, needs --ensemble 3 or more`);
  const notes: string[] = [];
  const fsync_default: FsyncPolicy = waitfreeFsyncKey() === null ? 'none' : 'always';
  const fsync = (v.fsync ?? fsync_default) as FsyncPolicy;
  if (fsync !== 'always' && fsync !== 'none') throw new Error(`--fsync ${v.fsync}: expected always or none`);
  if (waitfreeFsyncKey() === null) notes.push('waitfree has no durable log yet: it keeps everything in memory and fsyncs nothing; "zookeeper" runs with forceSync=no to match, "zookeeper+fsync" (when listed) with its default forceSync=yes.');
  let system_ids = list(v.systems) ?? ['waitfree', 'zookeeper'];
  if (v.systems === undefined && !apacheZkAvailable()) {
    system_ids = ['waitfree'];
    notes.push('Apache ZooKeeper is not installed here (apt-get install zookeeper): waitfree ran alone.');
  }
  return {
    command: `node bench/run.mjs ${argv.join(' ')}`.trim(),
    workloads: parseWorkloads(list(v.workloads)),
    scale: scaleWith(v.full ? FULL : SHORT, v),
    systems: system_ids.map((id) => parseSystem(id, fsync)),
    ensemble: ensembleSize(v.ensemble),
    loadgen_threads: num(v.threads, 'threads', 1) ?? Math.min(2, availableParallelism()),
    heap_mb: num(v['heap-mb'], 'heap-mb', 64) ?? 1024,
    read_workers: num(v['read-workers'], 'read-workers', 1),
    defaults: { value_bytes: num(v['value-bytes'], 'value-bytes') ?? 1024, key_count: num(v.keys, 'keys', 1) ?? 1000 },
    out_dir: v.out ?? join(REPO_ROOT, 'bench', 'results'),
    data_root: v['data-root'],
    record: v.record === true,
    waitfree_config: v['waitfree-config'] ?? [],
    zookeeper_config: v['zookeeper-config'] ?? [],
    notes,
    seed: num(v.seed, 'seed') ?? 1,
  };
}

export async function runMain(argv: readonly string[]): Promise<number> {
  let o: RunnerOptions;
  try {
    o = parseRunArgs(argv);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const rec = await runBenchmarks(o);
  process.stdout.write(`wrote ${o.out_dir}/ (summary-*.md, CSV, SVG, run-*.json)${o.record ? ' and BENCHMARKS.md' : ''}; ${rec.runs.length} points measured${(rec.failover ?? []).length > 0 ? `, ${rec.failover!.length} failovers` : ''}\n`);
  return 0;
}
