// `waitfree check`: records a history under faults and checks it, or re-checks a saved history.
// Exit codes: 0 valid, 1 invalid, 2 unknown or error (including usage errors).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CHECK_DEFAULTS, checkHistory, type CheckReport } from './checker/check.js';
import { formatHistory, parseHistory, type History } from './checker/history.js';
import { NEMESIS_ALL, NEMESIS_KINDS, type NemesisKind } from './nemesis.js';
import { NEMESIS_TARGET_POLICIES, type NemesisTargetPolicy } from './nemesis_target.js';
import { reportText } from './report.js';
import { recordRun } from './run.js';
import { checkServerConfig } from './launch_cfg.js';
import { LAUNCH_KINDS, type LaunchKind, type TargetSpec } from './targets.js';
import { renderTimeline } from './timeline_svg.js';
import { WORKLOAD_NAMES, type WorkloadName } from './workloads/common.js';

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNKNOWN = 2;

export interface CheckIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const CHECK_USAGE = `Usage:
  waitfree check (--connect HOSTS | --launch KIND) [--workload W[,W...]]
                 [--nemesis N[,N...]] [--nemesis-target T] [--time S] [--seed N] [--out DIR] [options]
  waitfree check --history FILE [--out DIR]

Records client operations against a ZooKeeper-compatible server under faults, then checks the
history: linearizability per znode/queue/lock (Wing-Gong/Lowe search) plus ZooKeeper's session
promises (zxids monotone, FIFO replies, reads not older than the session saw, watch events before
newer replies). Prints the verdict; writes history.jsonl and timeline.svg to --out.
Exit code: 0 valid, 1 invalid, 2 unknown or error.

  --connect HOSTS        Check servers already running (host:port,...). No faults are injected.
  --launch KIND          Start the servers: standalone (waitfree), ensemble:3 or ensemble:5
                         (waitfree ensemble; replica links through fault proxies), zookeeper
                         (Apache ZooKeeper standalone), zookeeper:3 (Apache ZooKeeper ensemble of 3).
  --history FILE         Re-check a recorded history (JSON lines) instead of running.
  --workload W           register, queue, lock, ephemeral, multi or all (default register).
  --nemesis N            none, kill, pause, partition, slow-disk, disk-fault, partition-peers,
                         reconfig or all (default none; all = every one but reconfig, and
                         combines: all,reconfig).
                         partition: cut clients from a server. slow-disk: windows of slow txn log
                         syncs (waitfree only). disk-fault: windows where a server's txn log
                         syncs fail (EIO), then it restarts (waitfree only). partition-peers: cut
                         a replica off from the other replicas (waitfree ensembles only; not with
                         reconfig). reconfig: a voter becomes an observer, or a member is removed,
                         then it is put back (ensembles; the servers get reconfigEnabled and a
                         super user); runs beside the other faults, so changes overlap them.
  --nemesis-target T     Which server a fault hits: random (default), leader or follower (found
                         by srvr's Mode; with one server both mean it). Not reconfig's: random.
  --time S               Seconds of load (default 30; 1..86400).
  --seed N               Seed of the workloads' and the nemesis' choices (default random).
  --out DIR              Where to write history.jsonl, timeline.svg and each launched server's
                         output, <name>.log (default a new temp dir).
  --faults-max N         Most faults injected (default 50).
  --check-budget S       Seconds the linearizability search may take before answering unknown
                         (default 60).
  --memo-mb N            Memory (MiB, estimated) the search's memo may use per partition
                         before answering unknown (default 512).
  --strict-reads         Check plain reads for linearizability too (true of one standalone
                         Apache ZooKeeper; not promised by ZooKeeper in general).
  --session-timeout-ms N Session timeout of the workload clients (default 10000).
  --request-timeout-ms N A request unanswered this long counts as unknown (default 5000).
  --ops-max N            Stop recording at this many ops (default 500000).
  --server-config K=V    A zoo.cfg line for every server --launch starts (repeat for more), after
                         the launcher's own, e.g. sslQuorum=true and the ssl.quorum.* stores to
                         check an ensemble on quorum TLS. Not the keys the launcher sets per
                         server (ports, dataDir, server.N).
`;

class UsageError extends Error {}

interface Parsed {
  readonly target: TargetSpec | null;
  readonly history_file: string | null;
  readonly workloads: WorkloadName[];
  readonly nemesis: NemesisKind[];
  readonly nemesis_target: NemesisTargetPolicy;
  readonly time_s: number;
  readonly seed: number;
  readonly out_dir: string | null;
  readonly faults_max: number;
  readonly check_budget_s: number;
  readonly memo_mb: number;
  readonly strict_reads: boolean;
  readonly session_timeout_ms: number;
  readonly request_timeout_ms: number;
  readonly ops_max: number;
  readonly server_config: readonly string[];
}

function intOption(v: unknown, name: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${String(v)})`);
  return n;
}

/** A comma-separated list of `valid` items and 'all' (`all_means`, default every valid one), or
 *  `none` alone: `--nemesis all,reconfig` is every fault but reconfig, and reconfig. */
function listOption<T extends string>(v: unknown, name: string, all: readonly T[], none: string | null, def: T[], all_means: readonly T[] = all): T[] {
  if (v === undefined) return def;
  const items = String(v).split(',').map((s) => s.trim());
  if (none !== null && items.length === 1 && items[0] === none) return [];
  const expanded: string[] = items.flatMap((i): readonly string[] => (i === 'all' ? all_means : [i]));
  for (const i of expanded) {
    if (all.includes(i as T)) continue;
    const alone = none !== null && i === none ? ` (${none} stands alone)` : '';
    throw new UsageError(`--${name}: unknown ${JSON.stringify(i)}${alone} (one of ${[...(none === null ? [] : [none]), ...all, 'all'].join(', ')})`);
  }
  return [...new Set(expanded as T[])];
}

function targetOf(values: Record<string, unknown>): TargetSpec | null {
  const connect = values['connect'];
  const launch = values['launch'];
  if (connect !== undefined && launch !== undefined) throw new UsageError('give --connect or --launch, not both');
  if (typeof connect === 'string') return { kind: 'connect', hosts: connect };
  if (launch === undefined) return null;
  if (!LAUNCH_KINDS.includes(launch as LaunchKind)) throw new UsageError(`--launch: one of ${LAUNCH_KINDS.join(', ')} (got ${JSON.stringify(launch)})`);
  return { kind: 'launch', launch: launch as LaunchKind };
}

function targetPolicyOf(v: unknown): NemesisTargetPolicy {
  if (v === undefined) return 'random';
  if (!NEMESIS_TARGET_POLICIES.includes(v as NemesisTargetPolicy)) throw new UsageError(`--nemesis-target: one of ${NEMESIS_TARGET_POLICIES.join(', ')} (got ${JSON.stringify(v)})`);
  return v as NemesisTargetPolicy;
}

export function parseCheckArgs(argv: readonly string[]): Parsed | 'help' {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        connect: { type: 'string' },
        launch: { type: 'string' },
        history: { type: 'string' },
        workload: { type: 'string' },
        nemesis: { type: 'string' },
        'nemesis-target': { type: 'string' },
        time: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        'faults-max': { type: 'string' },
        'check-budget': { type: 'string' },
        'memo-mb': { type: 'string' },
        'strict-reads': { type: 'boolean' },
        'session-timeout-ms': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'ops-max': { type: 'string' },
        'server-config': { type: 'string', multiple: true },
      },
    }).values;
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values['help'] === true) return 'help';
  const target = targetOf(values);
  const history_file = typeof values['history'] === 'string' ? values['history'] : null;
  if ((target === null) === (history_file === null)) throw new UsageError('give one of --connect HOSTS, --launch KIND or --history FILE');
  const nemesis = listOption<NemesisKind>(values['nemesis'], 'nemesis', NEMESIS_KINDS, 'none', [], NEMESIS_ALL);
  if (target?.kind === 'connect' && nemesis.length > 0) throw new UsageError('--connect: the servers are not ours to crash; only --nemesis none');
  const server_config = (values['server-config'] as string[] | undefined) ?? [];
  if (server_config.length > 0 && target?.kind !== 'launch') throw new UsageError('--server-config: only with --launch (the servers it starts)');
  try {
    checkServerConfig(server_config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return {
    target,
    nemesis_target: targetPolicyOf(values['nemesis-target']),
    history_file,
    workloads: listOption<WorkloadName>(values['workload'], 'workload', WORKLOAD_NAMES, null, ['register']),
    nemesis,
    time_s: intOption(values['time'], 'time', 30, 1, 86_400),
    seed: intOption(values['seed'], 'seed', Math.floor(Math.random() * 0xffffffff), 0, 0xffffffff),
    out_dir: typeof values['out'] === 'string' ? values['out'] : null,
    faults_max: intOption(values['faults-max'], 'faults-max', 50, 0, 100_000),
    check_budget_s: intOption(values['check-budget'], 'check-budget', 60, 1, 86_400),
    memo_mb: intOption(values['memo-mb'], 'memo-mb', CHECK_DEFAULTS.memo_bytes_max / 2 ** 20, 1, 1_048_576),
    strict_reads: values['strict-reads'] === true,
    session_timeout_ms: intOption(values['session-timeout-ms'], 'session-timeout-ms', 10_000, 1_000, 600_000),
    request_timeout_ms: intOption(values['request-timeout-ms'], 'request-timeout-ms', 5_000, 100, 600_000),
    ops_max: intOption(values['ops-max'], 'ops-max', 500_000, 100, 100_000_000),
    server_config,
  };
}

function outDir(p: Parsed): string {
  const dir = p.out_dir ?? join(tmpdir(), `waitfree-check-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  return resolve(dir);
}

function exitCode(r: CheckReport): number {
  return r.verdict === 'valid' ? EXIT_VALID : r.verdict === 'invalid' ? EXIT_INVALID : EXIT_UNKNOWN;
}

async function obtainHistory(p: Parsed, io: CheckIo, dir: string): Promise<History> {
  if (p.history_file !== null) return parseHistory(readFileSync(p.history_file, 'utf8'));
  const aim = p.nemesis.length > 0 && p.nemesis_target !== 'random' ? ` (target ${p.nemesis_target})` : '';
  const what = `workloads ${p.workloads.join(',')}; nemesis ${p.nemesis.join(',') || 'none'}${aim}; ${p.time_s} s; seed ${p.seed}`;
  io.stdout(`waitfree check: ${what}\n`);
  const run = await recordRun({
    target: p.target!,
    workloads: p.workloads,
    nemesis: p.nemesis,
    nemesis_target: p.nemesis_target,
    time_s: p.time_s,
    seed: p.seed,
    faults_max: p.faults_max,
    session_timeout_ms: p.session_timeout_ms,
    request_timeout_ms: p.request_timeout_ms,
    ops_max: p.ops_max,
    server_config: p.server_config,
    log: (line) => io.stdout(`  ${line}\n`),
    server_logs_dir: dir,
  });
  return run.history;
}

export async function runCheckCommand(argv: readonly string[], io: CheckIo): Promise<number> {
  let p: Parsed | 'help';
  try {
    p = parseCheckArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`waitfree check: ${e.message}\n${CHECK_USAGE}`);
    return EXIT_UNKNOWN;
  }
  if (p === 'help') {
    io.stdout(CHECK_USAGE);
    return EXIT_VALID;
  }
  try {
    const dir = outDir(p);
    const history = await obtainHistory(p, io, dir);
    const started = performance.now();
    const report = checkHistory(history, { time_budget_ms: p.check_budget_s * 1000, memo_bytes_max: p.memo_mb * 2 ** 20, linearizable_reads: p.strict_reads });
    const check_ms = performance.now() - started;
    writeFileSync(join(dir, 'history.jsonl'), formatHistory(history));
    writeFileSync(join(dir, 'timeline.svg'), renderTimeline(history, report.violations, report.verdict, history.meta?.target ?? 'waitfree check'));
    io.stdout(reportText(history, report, check_ms));
    io.stdout(`history: ${join(dir, 'history.jsonl')}\ntimeline: ${join(dir, 'timeline.svg')}\n`);
    return exitCode(report);
  } catch (e) {
    io.stderr(`waitfree check: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_UNKNOWN;
  }
}
