// Validates the load generator against independent clients on the same Apache ZooKeeper server:
//  1. Apache ZooKeeper's own C `load_gen` (one session, N async requests per phase, 6-byte
//     values) vs our generator at the same settings (1 session, N in flight, 6-byte values);
//  2. node-zookeeper-client vs our generator at the paper-like multi-session settings.
// Rounds alternate which client goes first; medians are reported with min..max.

import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchZooKeeper, REPO_ROOT, type LaunchedServer } from '../../dist/check/launch.js';
import { ownsKeys, type ClientPlan } from './client_loop.js';
import { parseConnectString } from './connect_string.js';
import { runLoad } from './driver.js';
import { fmtInt } from './format.js';
import { createKeySpace, removeKeySpace } from './key_space.js';
import { median, parseLoadGenLog, type LoadGenPhase } from './load_gen_log.js';
import type { LoadResult } from './load_result.js';
import { factsLine, machineFacts, type MachineFacts } from './machine.js';
import { mdTable } from './markdown.js';
import { replaceSection } from './md_sections.js';
import { loadNodeZookeeperClient, runReference } from './nzk_reference.js';
import { processCpuSeconds } from './proc_cpu.js';
import { Progress } from './progress.js';

export const LOAD_GEN_PATH = '/usr/lib/zookeeper/bin/load_gen';

interface ValidateOptions {
  readonly command: string;
  readonly ops: number;
  readonly rounds: number;
  readonly seconds: number;
  readonly multi_clients: number;
  readonly multi_window: number;
  readonly record: boolean;
  readonly pin: boolean;
}

export const VALIDATE_USAGE = `usage: node bench/validate.mjs [--ops N] [--rounds N] [--seconds S] [--clients N] [--outstanding N] [--pin] [--record]
The load generator checked against Apache ZooKeeper's C load_gen and node-zookeeper-client on one
ZooKeeper server (--pin: server and clients on separate CPUs; --record: write BENCHMARKS.md's section).`;

/** Options, or null after --help. Throws on an unknown option or a bad number. */
function parseValidateArgs(argv: readonly string[]): ValidateOptions | null {
  const { values: v } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      ops: { type: 'string' }, rounds: { type: 'string' }, seconds: { type: 'string' },
      clients: { type: 'string' }, outstanding: { type: 'string' }, record: { type: 'boolean' }, pin: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help === true) return null;
  const n = (s: string | undefined, d: number): number => {
    if (s === undefined) return d;
    const x = Number(s);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`expected a number > 0, got ${s}`);
    return x;
  };
  return {
    command: `node bench/validate.mjs ${argv.join(' ')}`.trim(),
    ops: n(v.ops, 10_000),
    rounds: n(v.rounds, 4),
    seconds: n(v.seconds, 12),
    multi_clients: n(v.clients, 8),
    multi_window: n(v.outstanding, 100),
    record: v.record === true,
    pin: v.pin === true,
  };
}

/** Runs load_gen for `seconds`, stops it by PID; its log (stderr) and its CPU seconds. */
function runLoadGen(connect: string, path: string, ops: number, seconds: number): Promise<{ log: string; cpu_s: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(LOAD_GEN_PATH, [connect, path, String(ops)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    let cpu_s: number | null = null;
    child.stderr.on('data', (b: Buffer) => (log += b.toString('utf8')));
    child.once('error', reject);
    const timer = setTimeout(() => {
      cpu_s = child.pid === undefined ? null : processCpuSeconds(child.pid);
      child.kill('SIGTERM');
    }, seconds * 1000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve({ log, cpu_s });
    });
  });
}

/** Per-phase rates (ops/s) of each client, plus CPU per request of client and server. */
interface Samples {
  loadgen: Record<LoadGenPhase, number[]>;
  ours: Record<LoadGenPhase, number[]>;
  loadgen_client_us: number[];
  ours_client_us: number[];
  loadgen_server_us: number[];
  ours_server_us: number[];
  nzk_multi: number[];
  nzk_cores: number[];
  nzk_us: number[];
  ours_multi: number[];
  ours_multi_cores: number[];
  ours_multi_us: number[];
}

const PHASES: readonly LoadGenPhase[] = ['create', 'write', 'read', 'delete'];

function emptySamples(): Samples {
  const per = (): Record<LoadGenPhase, number[]> => ({ create: [], write: [], read: [], delete: [] });
  return {
    loadgen: per(), ours: per(), loadgen_client_us: [], ours_client_us: [], loadgen_server_us: [], ours_server_us: [],
    nzk_multi: [], nzk_cores: [], nzk_us: [], ours_multi: [], ours_multi_cores: [], ours_multi_us: [],
  };
}

async function oursAt(server: LaunchedServer, plan: ClientPlan, clients: number, seconds: number, label: string, progress: Progress): Promise<LoadResult> {
  const endpoints = parseConnectString(server.connect);
  await createKeySpace(endpoints[0]!, plan.root, ownsKeys(plan.mode) ? 0 : plan.key_count, plan.value_bytes);
  try {
    return await runLoad({
      endpoints, plan, clients, threads: 1, warmup_ms: 1_000, measure_ms: seconds * 1000, sample_ms: 250,
      session_timeout_ms: 30_000, seed: 1, server_pids: [server.pid], label, progress: progress.show,
    });
  } finally {
    progress.done();
    await removeKeySpace(endpoints[0]!, plan.root);
  }
}

/** load_gen's settings: one session, all `ops` requests of a phase in flight, 6-byte values. */
function phasesPlan(o: ValidateOptions, root: string): ClientPlan {
  return { mode: 'phases', read_fraction: 0, outstanding_max: o.ops, value_bytes: 6, key_count: o.ops, root, rate_per_s: 0 };
}

async function loadGenRound(o: ValidateOptions, server: LaunchedServer, r: number, s: Samples, progress: Progress): Promise<void> {
  progress.note(`[validate round ${r + 1}] load_gen ${o.ops} requests per phase, ${o.seconds} s`);
  const server_before = processCpuSeconds(server.pid);
  const run = await runLoadGen(server.connect, `/lg-${r}`, o.ops, o.seconds);
  const server_after = processCpuSeconds(server.pid);
  const all = parseLoadGenLog(run.log, o.ops);
  // Every completed phase answered o.ops requests; the unfinished last one is left out, so these
  // slightly overstate CPU per request.
  const requests = all.length * o.ops;
  if (run.cpu_s !== null && requests > 0) s.loadgen_client_us.push((run.cpu_s * 1e6) / requests);
  if (server_before !== null && server_after !== null && requests > 0) s.loadgen_server_us.push(((server_after - server_before) * 1e6) / requests);
  for (const p of all) if (p.cycle > 0) s.loadgen[p.phase].push(p.ops_per_s);
}

async function oursRound(o: ValidateOptions, server: LaunchedServer, r: number, s: Samples, progress: Progress): Promise<void> {
  const res = await oursAt(server, phasesPlan(o, `/val-${r}`), 1, o.seconds - 2, `[validate round ${r + 1}] ours, load_gen's phases`, progress);
  for (const p of res.phases) s.ours[p.kind as LoadGenPhase].push((p.count * 1000) / (p.end_ms - p.start_ms));
  s.ours_client_us.push(res.loadgen_us_per_request);
  if (res.server_us_per_request !== null) s.ours_server_us.push(res.server_us_per_request);
}

async function multiRound(o: ValidateOptions, server: LaunchedServer, r: number, s: Samples, progress: Progress): Promise<void> {
  const zk = loadNodeZookeeperClient();
  const secs = Math.max(3, Math.round(o.seconds / 2));
  const plan: ClientPlan = { mode: 'closed', read_fraction: 0.5, outstanding_max: o.multi_window, value_bytes: 1024, key_count: 1000, root: `/valm-${r}`, rate_per_s: 0 };
  const ours = await oursAt(server, plan, o.multi_clients, secs, `[validate round ${r + 1}] ours ${o.multi_clients} x ${o.multi_window}`, progress);
  s.ours_multi.push(ours.ops_per_s);
  s.ours_multi_cores.push(ours.loadgen_cpu_s / ours.measure_s);
  if (ours.server_us_per_request !== null) s.ours_multi_us.push(ours.server_us_per_request);
  if (zk === null) return;
  const endpoints = parseConnectString(server.connect);
  await createKeySpace(endpoints[0]!, plan.root, plan.key_count, plan.value_bytes);
  progress.note(`[validate round ${r + 1}] node-zookeeper-client ${o.multi_clients} x ${o.multi_window}, ${secs} s`);
  const ref = await runReference(zk, { connect: server.connect, clients: o.multi_clients, window: o.multi_window, read_fraction: 0.5, value_bytes: 1024, key_count: 1000, root: plan.root, warmup_ms: 1_000, measure_ms: secs * 1000, server_pid: server.pid });
  await removeKeySpace(endpoints[0]!, plan.root);
  s.nzk_multi.push(ref.ops_per_s);
  s.nzk_cores.push(ref.client_cores);
  if (ref.server_us_per_request !== null) s.nzk_us.push(ref.server_us_per_request);
}

/**
 * On 2+ cores: the server on CPU 0, every client (this process's threads, load_gen as its child)
 * on CPU 1, so a client's own CPU cost does not eat into the server's share and each client
 * gets the same server. Returns what was done, for the record.
 */
function pinCpus(server_pid: number): string {
  if (availableParallelism() < 2 || spawnSync('taskset', ['-V']).status !== 0) return 'no CPU pinning (needs taskset and 2 cores)';
  const a = spawnSync('taskset', ['-a', '-p', '0x1', String(server_pid)]);
  const b = spawnSync('taskset', ['-a', '-p', '0x2', String(process.pid)]);
  if (a.status !== 0 || b.status !== 0) return 'CPU pinning failed; clients and server share both cores';
  return 'server pinned to CPU 0, clients (ours, load_gen, node-zookeeper-client) to CPU 1 with taskset';
}

function spread(xs: readonly number[]): string {
  if (xs.length === 0) return 'n/a';
  return `${fmtInt(median(xs))} (${fmtInt(Math.min(...xs))}..${fmtInt(Math.max(...xs))}, n=${xs.length})`;
}

function fmtUsList(xs: readonly number[]): string {
  return xs.length === 0 ? 'n/a' : `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}..${Math.max(...xs).toFixed(1)})`;
}

function ratio(a: readonly number[], b: readonly number[]): string {
  return a.length === 0 || b.length === 0 ? 'n/a' : `${(median(a) / median(b)).toFixed(2)}`;
}

function report(o: ValidateOptions, server: LaunchedServer, s: Samples, pinning: string, facts: MachineFacts): string {
  const phase_rows = PHASES.map((ph) => [
    `${ph === 'write' ? 'setData' : ph === 'read' ? 'getData' : ph} phase, ops/s`,
    spread(s.loadgen[ph]),
    spread(s.ours[ph]),
    ratio(s.ours[ph], s.loadgen[ph]),
  ]);
  const single = mdTable(
    ['1 session, ' + fmtInt(o.ops) + ' requests per phase in flight, 6 B values', 'load_gen (C client)', 'waitfree load generator', 'ours / load_gen'],
    [
      ...phase_rows,
      ['server CPU per request (µs)', fmtUsList(s.loadgen_server_us), fmtUsList(s.ours_server_us), ratio(s.ours_server_us, s.loadgen_server_us)],
      ['client CPU per request (µs)', fmtUsList(s.loadgen_client_us), fmtUsList(s.ours_client_us), ratio(s.ours_client_us, s.loadgen_client_us)],
    ],
    ['left', 'right', 'right', 'right'],
  );
  const multi = mdTable(
    ['setting', 'node-zookeeper-client ops/s (client cores; server µs/req)', 'waitfree load generator ops/s (client cores; server µs/req)', 'ours / node-zookeeper-client'],
    [[
      `50% getData/setData, ${o.multi_clients} sessions × ${o.multi_window} in flight, 1 KiB`,
      `${spread(s.nzk_multi)} (${median(s.nzk_cores).toFixed(2)}; ${median(s.nzk_us).toFixed(1)})`,
      `${spread(s.ours_multi)} (${median(s.ours_multi_cores).toFixed(2)}; ${median(s.ours_multi_us).toFixed(1)})`,
      ratio(s.ours_multi, s.nzk_multi),
    ]],
    ['left', 'right', 'right', 'right'],
  );
  return [
    '## Load generator validation',
    '',
    `Command: \`${o.command}\``,
    '',
    `Machine: ${factsLine(facts)}. Server: Apache ZooKeeper 3.8 standalone, ${server.fsync_policy}, ${server.heap}. Both clients send the same request stream (\`load_gen HOST PATH ${o.ops}\`: create ${fmtInt(o.ops)} znodes, set them all, get them all, delete them all, each phase fully in flight on one session and drained before the next; our generator's \`--mode phases\`), ${o.seconds} s per client per round, order alternating; each completed phase is one sample (load_gen's first cycle is dropped); the server is warmed first; ${pinning}. Client cores = the client's CPU over the window (1.0 = it is the bottleneck).`,
    '',
    single,
    '',
    multi,
    '',
    'node-zookeeper-client sends every request with its own socket.write on a no-delay socket (one TCP segment and one server read per request), where our generator coalesces the requests of one event-loop turn into one write; the server then pays a read per request, so at the same server the lower figure is the client\'s doing (compare the µs/request), not a disagreement about the server.',
    '',
  ].join('\n');
}

export async function validateMain(argv: readonly string[]): Promise<number> {
  let parsed: ValidateOptions | null;
  try {
    parsed = parseValidateArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${VALIDATE_USAGE}\n`);
    return 2;
  }
  if (parsed === null) {
    process.stdout.write(`${VALIDATE_USAGE}\n`);
    return 0;
  }
  const o = parsed;
  if (!existsSync(LOAD_GEN_PATH)) {
    process.stderr.write(`${LOAD_GEN_PATH} is missing (apt-get install zookeeper-bin)\n`);
    return 2;
  }
  const progress = new Progress();
  const facts = machineFacts(); // before pinning narrows this process to one CPU
  const server = await launchZooKeeper({ fsync: 'none' });
  const pinning = o.pin ? pinCpus(server.pid) : 'no CPU pinning: clients and server share both cores, as in the benchmarks';
  progress.note(`[validate] ${pinning}`);
  const s = emptySamples();
  try {
    // Warm the JVM with our generator (unrecorded), so neither client pays for JIT compilation.
    const warm: ClientPlan = { mode: 'closed', read_fraction: 0.5, outstanding_max: 100, value_bytes: 1024, key_count: 1000, root: '/val-warm', rate_per_s: 0 };
    await oursAt(server, warm, 4, 8, '[validate] server warm-up', progress);
    for (let r = 0; r < o.rounds; r++) {
      if (r % 2 === 0) {
        await loadGenRound(o, server, r, s, progress);
        await oursRound(o, server, r, s, progress);
      } else {
        await oursRound(o, server, r, s, progress);
        await loadGenRound(o, server, r, s, progress);
      }
      await multiRound(o, server, r, s, progress);
    }
    const md = report(o, server, s, pinning, facts);
    process.stdout.write(`${md}\n`);
    mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'results', 'validation.md'), md);
    if (o.record) {
      const path = join(REPO_ROOT, 'BENCHMARKS.md');
      writeFileSync(path, replaceSection(readFileSync(path, 'utf8'), 'validation', md));
    }
  } finally {
    await server.stop();
  }
  return 0;
}
