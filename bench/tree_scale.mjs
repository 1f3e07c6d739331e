#!/usr/bin/env node
// A large tree, waitfree and Apache ZooKeeper 3.8 side by side in one run (issue 12): memory
// with N znodes (live and after a restart), the restart itself, and getData at N keys vs 1k keys.
//
//   npm run build && node bench/tree_scale.mjs [--znodes 1000000] [--value-bytes 100]
//       [--systems waitfree,zookeeper] [--heap-mb 4096] [--read-seconds 8] [--warmup-seconds 2]
//       [--clients 32] [--outstanding 100] [--threads 2] [--read-workers W] [--fsync always|none]
//       [--server-warmup-seconds 5] [--tail-rate 50000] [--read-rounds 2] [--data-root DIR] [--waitfree-config K=V ...]
//       [--json] [--out FILE.md]
//
// Per system, one after the other (the order of --systems), only one server alive at a time:
//  1. start on a fresh data dir (src/check/launch.ts: the same launcher, config and heap
//     budget as bench/run.mjs); create 1k znodes under /ts-small, then N under /ts-big (value
//     --value-bytes), pipelined over CREATE_SESSIONS sessions x CREATE_LANES requests in flight;
//     the keys are the load generator's own (keyPath), so its read load reads exactly them;
//  2. 2 s settle, then VmRSS of the server process (/proc/PID/status);
//  3. an unmeasured server warm-up (--server-warmup-seconds of the same getData load over the 1k
//     keys: a fresh JVM would otherwise pay its JIT inside the first measured point, as
//     bench/run.mjs warms every fresh server); then 100 % getData, closed loop
//     (bench/src/driver.ts, as bench/loadgen.mjs) over the N keys and over the 1k keys:
//     throughput, latency, server CPU per read (/proc, every thread); then the tail at equal
//     offered load: open loop at --tail-rate getData/s in total (below both systems' capacity at
//     N keys), over the N keys and over the 1k keys. Each pair is measured in --read-rounds
//     rounds of --read-seconds / rounds per key space, in the order N, 1k, 1k, N, N, 1k, ...
//     (ABBA), their counts, CPU and latency histograms merged: the ratio of the two key spaces
//     is what the run is for, and a host whose speed drifts within the run (a VM) would bias
//     it towards whichever went first. In a closed loop at saturation the tail
//     follows the throughput (Little's law: a slower point queues longer), so only the same
//     offered rate shows whether the tail itself grows with the tree (GC pauses, misses);
//  4. SIGTERM by PID (data dir kept), restart the same command on the same dir, and time spawn ->
//     the first getData of the last created znode that answers OK; check /ts-big has N children;
//     VmRSS 2 s later; SIGTERM; remove the dir.
// Every wait is bounded (deadlines below); servers listen on 127.0.0.1 only.

import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { dirBytes, memoryMiB, respawn, sleep, terminate } from './lib/server_restart.mjs';
import { requireBench, requireBuilt } from './lib/require_built.mjs';

const { launchServer, apacheZkAvailable } = await import(requireBuilt('check/launch.js'));
const { runLoad } = await import(requireBench('driver.js'));
const { BenchSession } = await import(requireBench('session.js'));
const { keyPath } = await import(requireBench('mix.js'));
const { machineFacts, factsLine } = await import(requireBench('machine.js'));
const { mdTable } = await import(requireBench('markdown.js'));
const { mergeEncoded } = await import(requireBench('histogram.js'));
const { Op, Err, Perms } = await import(requireBuilt('protocol/index.js'));

const ROOT_BIG = '/ts-big';
const ROOT_SMALL = '/ts-small';
const SMALL_KEYS = 1000;
/** keyPath pads keys to 7 digits: beyond that paths change length (and the mix's key order). */
const ZNODES_MAX = 9_999_999;
const CREATE_SESSIONS = 4;
const CREATE_LANES = 128; // per session: 512 creates in flight, under globalOutstandingLimit 2000
const SETTLE_MS = 2_000;
const STOP_GRACE_MS = 120_000;
const PROBE_CONNECT_TIMEOUT_MS = 2_000;
const PROBE_REQUEST_TIMEOUT_MS = 10_000;
const PROBE_GAP_MS = 20;
const PROGRESS_EVERY_MS = 5_000;
const OPEN_ACL = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

const USAGE = `usage: node bench/tree_scale.mjs [--znodes N] [--value-bytes B] [--systems waitfree,zookeeper]
  [--heap-mb MiB] [--read-seconds S] [--warmup-seconds S] [--clients N] [--outstanding N] [--threads N]
  [--read-workers W] [--fsync always|none] [--create-timeout-s S] [--restart-timeout-s S]
  [--server-warmup-seconds S] [--tail-rate OPS_PER_S] [--read-rounds R] [--data-root DIR] [--zookeeper-jvm-arg ARG ...] [--waitfree-config K=V ...] [--json] [--out FILE.md]`;

function options(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      znodes: { type: 'string' }, 'value-bytes': { type: 'string' }, systems: { type: 'string' }, 'heap-mb': { type: 'string' },
      'read-seconds': { type: 'string' }, 'warmup-seconds': { type: 'string' }, 'server-warmup-seconds': { type: 'string' }, clients: { type: 'string' },
      outstanding: { type: 'string' }, threads: { type: 'string' }, 'read-workers': { type: 'string' }, fsync: { type: 'string' },
      'create-timeout-s': { type: 'string' }, 'restart-timeout-s': { type: 'string' }, 'data-root': { type: 'string' }, 'tail-rate': { type: 'string' }, 'read-rounds': { type: 'string' },
      'zookeeper-jvm-arg': { type: 'string', multiple: true },
      'waitfree-config': { type: 'string', multiple: true },
      json: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name, dflt, min, max = Number.MAX_SAFE_INTEGER) => {
    const v = values[name];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} ${v}: expected an integer in ${min}..${max}`);
    return n;
  };
  const systems = (values.systems ?? 'waitfree,zookeeper').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const s of systems) if (s !== 'waitfree' && s !== 'zookeeper') throw new Error(`--systems: unknown system ${JSON.stringify(s)} (waitfree or zookeeper)`);
  if (systems.length === 0) throw new Error('--systems: empty');
  const fsync = values.fsync ?? 'always';
  if (fsync !== 'always' && fsync !== 'none') throw new Error(`--fsync ${fsync}: expected always or none`);
  const znodes = int('znodes', 1_000_000, 1, ZNODES_MAX);
  return {
    znodes,
    value_bytes: int('value-bytes', 100, 0, 1024 * 1024),
    systems,
    heap_mb: int('heap-mb', 4096, 64),
    read_s: int('read-seconds', 8, 1, 3600),
    read_rounds: int('read-rounds', 2, 1, 100),
    warmup_s: int('warmup-seconds', 2, 0, 600),
    server_warmup_s: int('server-warmup-seconds', 5, 0, 600),
    clients: int('clients', 32, 1, 10_000),
    outstanding: int('outstanding', 100, 1, 10_000),
    threads: int('threads', Math.min(2, availableParallelism()), 1, 64),
    read_workers: values['read-workers'] === undefined ? undefined : int('read-workers', 1, 1, 64),
    tail_rate_per_s: int('tail-rate', 50_000, 0),
    fsync,
    // Generous: the default run creates 1M znodes per system on 2 shared cores.
    create_timeout_ms: int('create-timeout-s', 1800, 1) * 1000,
    restart_timeout_ms: int('restart-timeout-s', 900, 1) * 1000,
    data_root: values['data-root'],
    zookeeper_jvm_args: values['zookeeper-jvm-arg'] ?? [],
    waitfree_config: values['waitfree-config'] ?? [],
    json: values.json === true,
    out: values.out ?? null,
    command: `node bench/tree_scale.mjs ${argv.join(' ')}`.trim(),
  };
}

function log(line) {
  process.stderr.write(`[tree_scale ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function check(err, allowed, what) {
  if (err !== 0 && !allowed.includes(err)) throw new Error(`${what}: server answered error ${err}`);
}

/**
 * Creates `root` and keyPath(root, 0..count-1), values of value_bytes, over CREATE_SESSIONS
 * sessions with CREATE_LANES requests in flight each. Fails at the deadline (sessions aborted, so
 * no request waits forever). Returns the wall time in ms.
 */
async function createKeys(endpoint, root, count, value_bytes, deadline_ms, label) {
  const value = new Uint8Array(value_bytes).fill(0x78);
  const sessions = [];
  const watchdog = setTimeout(() => {
    for (const s of sessions) s.abort(`creating ${root}: deadline passed`);
  }, Math.max(1, deadline_ms - Date.now()));
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  const progress = setInterval(() => log(`${label}: ${done.toLocaleString('en-US')} / ${count.toLocaleString('en-US')} created`), PROGRESS_EVERY_MS);
  try {
    for (let i = 0; i < CREATE_SESSIONS; i++) sessions.push(await BenchSession.open(endpoint, 30_000));
    const r = await sessions[0].request(Op.create, { path: root, data: new Uint8Array(0), acl: OPEN_ACL, flags: 0 }, 'CreateResponse');
    check(r.header.err, [], `create ${root}`);
    const lane = async (s) => {
      while (next < count) {
        if (Date.now() > deadline_ms) throw new Error(`creating ${root}: deadline passed at ${done} of ${count}`);
        const path = keyPath(root, next++);
        const c = await s.request(Op.create, { path, data: value, acl: OPEN_ACL, flags: 0 }, 'CreateResponse');
        check(c.header.err, [], `create ${path}`);
        done++;
      }
    };
    await Promise.all(sessions.flatMap((s) => Array.from({ length: CREATE_LANES }, () => lane(s))));
    return performance.now() - t0;
  } finally {
    clearTimeout(watchdog);
    clearInterval(progress);
    await Promise.all(sessions.map((s) => s.close()));
  }
}

/** `p` or a rejection after timeout_ms (the caller aborts whatever `p` waits on). */
function within(p, timeout_ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${timeout_ms} ms`)), timeout_ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Polls (connect + getData of `path`) until it answers OK; returns performance.now() of that
 * answer. A server still loading refuses or closes connections: that is a retry, not a failure.
 */
async function awaitServed(endpoint, path, alive, deadline_ms) {
  let attempts = 0;
  let last_error = 'none';
  while (Date.now() < deadline_ms) {
    if (!alive()) throw new Error(`server exited before serving ${path} (last probe error: ${last_error})`);
    attempts++;
    let s = null;
    try {
      s = await BenchSession.open(endpoint, 30_000, PROBE_CONNECT_TIMEOUT_MS);
      const r = await within(s.request(Op.getData, { path, watch: false }, 'GetDataResponse'), PROBE_REQUEST_TIMEOUT_MS, `getData ${path}`);
      if (r.header.err === 0) {
        const t = performance.now();
        await s.close();
        return { t_ms: t, attempts };
      }
      last_error = `getData ${path}: error ${r.header.err}`;
    } catch (e) {
      last_error = e instanceof Error ? e.message : String(e);
    }
    if (s !== null) s.abort('probe done');
    await sleep(PROBE_GAP_MS);
  }
  throw new Error(`${path} not served within the restart timeout (${attempts} probes; last: ${last_error})`);
}

/** numChildren of `path` (the restarted server must hold all N). */
async function childCount(endpoint, path) {
  const s = await BenchSession.open(endpoint, 30_000);
  try {
    const r = await within(s.request(Op.exists, { path, watch: false }, 'ExistsResponse'), PROBE_REQUEST_TIMEOUT_MS, `exists ${path}`);
    check(r.header.err, [], `exists ${path}`);
    return r.body.stat.numChildren;
  } finally {
    await s.close();
  }
}

/** rate_per_s 0: closed loop (o.outstanding in flight per session); else open loop at that total
 *  offered rate, spread over the sessions (at most o.outstanding in flight each). */
async function readLoad(o, endpoint, pid, root, key_count, label, measure_s = o.read_s, rate_per_s = 0) {
  const load = rate_per_s > 0 ? `open loop at ${rate_per_s.toLocaleString('en-US')} getData/s offered` : `${o.outstanding} in flight`;
  log(`${label}: ${o.clients} sessions, ${load}, 100 % getData over ${key_count.toLocaleString('en-US')} keys, ${o.warmup_s} s warm-up + ${measure_s} s`);
  const mode = rate_per_s > 0 ? 'open' : 'closed';
  const r = await runLoad({
    endpoints: [endpoint],
    plan: { mode, read_fraction: 1, outstanding_max: o.outstanding, value_bytes: o.value_bytes, key_count, root, rate_per_s: rate_per_s / o.clients },
    clients: o.clients,
    threads: o.threads,
    warmup_ms: o.warmup_s * 1000,
    measure_ms: measure_s * 1000,
    sample_ms: 250,
    session_timeout_ms: 30_000,
    seed: 1,
    server_pids: [pid],
    label,
    progress: null,
  });
  // A read of a missing key is an error reply: the key space must be whole.
  if (r.errors > 0) throw new Error(`${label}: ${r.errors} error replies (${JSON.stringify(r.error_codes)})`);
  return {
    ops_per_s: r.ops_per_s,
    ops: r.ops,
    measure_s: r.measure_s,
    latency_us: r.latency,
    latency_encoded: r.latency_encoded,
    server_us_per_read: r.server_us_per_request,
    server_cpu_s: r.server_cpu_s,
    loadgen_cpu_s: r.loadgen_cpu_s,
    busiest_threads: r.server_threads.slice(0, 6).map((t) => ({ name: t.name, cpu_s: Number(t.cpu_s.toFixed(2)) })),
    loadavg_start: r.loadavg_start,
  };
}

/**
 * The same read load over the N keys and over the 1k keys, in o.read_rounds rounds each of
 * read_s / rounds, ordered N, 1k, 1k, N, ... (see the file comment); returns [N keys, 1k keys],
 * each merged over its rounds.
 */
async function pairedReads(o, endpoint, pid, label, rate_per_s) {
  const window_s = Math.max(1, Math.round(o.read_s / o.read_rounds));
  const big = [];
  const small = [];
  for (let round = 0; round < o.read_rounds; round++) {
    const order = round % 2 === 0 ? [true, false] : [false, true];
    for (const is_big of order) {
      const [root, keys, into] = is_big ? [ROOT_BIG, o.znodes, big] : [ROOT_SMALL, SMALL_KEYS, small];
      const w = await readLoad(o, endpoint, pid, root, keys, `${label} over ${root} (round ${round + 1}/${o.read_rounds})`, window_s, rate_per_s);
      // Each window's own rate: how much the host drifted within the run.
      log(`  -> ${fmtInt(w.ops_per_s)} getData/s, p99.9 ${fmtMs(w.latency_us.p999_us)}, server ${fmtUs(w.server_us_per_read)} per read`);
      into.push(w);
    }
  }
  return [mergeWindows(big), mergeWindows(small)];
}

/** One point from several windows of the same load: sums, and the merged latency histogram. */
function mergeWindows(ws) {
  const ops = ws.reduce((n, w) => n + w.ops, 0);
  const measure_s = ws.reduce((n, w) => n + w.measure_s, 0);
  const cpu = ws.every((w) => w.server_cpu_s !== null) ? ws.reduce((n, w) => n + w.server_cpu_s, 0) : null;
  return {
    ops_per_s: ops / measure_s,
    ops,
    measure_s,
    window_ops_per_s: ws.map((w) => Math.round(w.ops_per_s)),
    latency_us: mergeEncoded(ws.map((w) => w.latency_encoded)).summary(),
    server_us_per_read: cpu === null || ops === 0 ? null : (cpu * 1e6) / ops,
    server_cpu_s: cpu,
    loadgen_cpu_s: ws.reduce((n, w) => n + w.loadgen_cpu_s, 0),
    busiest_threads: ws[0].busiest_threads,
    loadavg_start: ws[0].loadavg_start,
  };
}

async function runSystem(kind, o) {
  log(`${kind}: starting on a fresh data dir (heap ${o.heap_mb} MiB, fsync ${o.fsync})`);
  const server = await launchServer(kind, { fsync: o.fsync, heap_mb: o.heap_mb, read_workers: kind === 'waitfree' ? o.read_workers : undefined, jvm_args: kind === 'zookeeper' ? o.zookeeper_jvm_args : undefined, extra_config: kind === 'waitfree' ? o.waitfree_config : undefined, data_root: o.data_root });
  const endpoint = { host: '127.0.0.1', port: server.port };
  const out = { kind, command: server.command, config_text: server.config_text, heap: server.heap, fsync_policy: server.fsync_policy };
  let restarted = null;
  try {
    out.memory_at_start = memoryMiB(server.pid);
    const create_deadline = Date.now() + o.create_timeout_ms;
    await createKeys(endpoint, ROOT_SMALL, SMALL_KEYS, o.value_bytes, create_deadline, `${kind} ${ROOT_SMALL}`);
    const create_ms = await createKeys(endpoint, ROOT_BIG, o.znodes, o.value_bytes, create_deadline, `${kind} ${ROOT_BIG}`);
    out.create = { znodes: o.znodes, ms: Math.round(create_ms), per_s: o.znodes / (create_ms / 1000) };
    log(`${kind}: ${o.znodes.toLocaleString('en-US')} znodes in ${(create_ms / 1000).toFixed(1)} s`);
    await sleep(SETTLE_MS);
    out.memory_live = memoryMiB(server.pid);
    log(`${kind}: RSS live ${fmtMiB(out.memory_live.rss_mib)}`);
    if (o.server_warmup_s > 0) await readLoad(o, endpoint, server.pid, ROOT_SMALL, SMALL_KEYS, `${kind} server warm-up (not measured)`, o.server_warmup_s);
    [out.read_big, out.read_small] = await pairedReads(o, endpoint, server.pid, `${kind} getData`, 0);
    if (o.tail_rate_per_s > 0) [out.tail_big, out.tail_small] = await pairedReads(o, endpoint, server.pid, `${kind} tail`, o.tail_rate_per_s);
    out.memory_after_reads = memoryMiB(server.pid);
    out.stop = await terminate(server.pid, () => server.alive(), STOP_GRACE_MS);
    out.data_dir_bytes = dirBytes(server.dir);
    log(`${kind}: stopped in ${(out.stop.stop_ms / 1000).toFixed(1)} s (${out.stop.clean ? 'SIGTERM' : 'needed SIGKILL'}); data dir ${fmtMiB(out.data_dir_bytes / 2 ** 20)}; restarting`);
    restarted = respawn(server);
    const last = keyPath(ROOT_BIG, o.znodes - 1);
    const served = await awaitServed(endpoint, last, restarted.alive, Date.now() + o.restart_timeout_ms);
    out.restart = { ms: Math.round(served.t_ms - restarted.t_spawn_ms), probes: served.attempts, pid: restarted.pid };
    const children = await childCount(endpoint, ROOT_BIG);
    if (children !== o.znodes) throw new Error(`${kind} restarted with ${children} children under ${ROOT_BIG}, expected ${o.znodes}`);
    await sleep(SETTLE_MS);
    out.memory_restarted = memoryMiB(restarted.pid);
    log(`${kind}: restart served ${last} after ${(out.restart.ms / 1000).toFixed(2)} s; RSS ${fmtMiB(out.memory_restarted.rss_mib)}`);
    out.restart_stop = await restarted.stop(STOP_GRACE_MS);
    restarted = null;
    return out;
  } catch (e) {
    const tail = (restarted?.output() ?? server.output()).slice(-4000);
    throw new Error(`${kind}: ${e instanceof Error ? e.message : String(e)}\n--- server output (tail) ---\n${tail}`);
  } finally {
    if (restarted !== null) await restarted.stop(5_000).catch(() => undefined);
    // Only the dir is left to remove when the process is gone (launch.ts stop()).
    await server.stop();
  }
}

function fmtMiB(v) {
  return v === null || v === undefined ? 'n/a' : `${Math.round(v).toLocaleString('en-US')} MiB`;
}
const fmtInt = (v) => (v === null || v === undefined ? 'n/a' : Math.round(v).toLocaleString('en-US'));
const fmtMs = (us) => (us === null || us === undefined ? 'n/a' : `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`);
const fmtS = (ms) => (ms === null || ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const fmtUs = (us) => (us === null || us === undefined ? 'n/a' : `${us.toFixed(1)} µs`);
const ratio = (a, b) => (a === null || b === null || a === undefined || b === undefined || b === 0 ? '' : `${(a / b).toFixed(2)}x`);

/** The issue's table: one row per measure, one column per system, waitfree / ZooKeeper last. */
function table(o, results) {
  const by = Object.fromEntries(results.map((r) => [r.kind, r]));
  const w = by.waitfree;
  const z = by.zookeeper;
  const n = o.znodes.toLocaleString('en-US');
  const rows = [];
  const row = (label, get, fmt, with_ratio = true) => {
    const a = w === undefined ? null : get(w);
    const b = z === undefined ? null : get(z);
    rows.push([label, w === undefined ? '-' : fmt(a), z === undefined ? '-' : fmt(b), with_ratio ? ratio(a, b) : '']);
  };
  const lat = (r) => `${fmtMs(r.latency_us.p50_us)} / ${fmtMs(r.latency_us.p99_us)} / ${fmtMs(r.latency_us.p999_us)}`;
  row(`RSS after writing ${n} znodes of ${o.value_bytes} B (live, ${SETTLE_MS / 1000} s settle)`, (r) => r.memory_live.rss_mib, fmtMiB);
  row(`RSS after a restart with ${n} znodes (${SETTLE_MS / 1000} s after served)`, (r) => r.memory_restarted.rss_mib, fmtMiB);
  row('peak RSS of the restarted process (VmHWM)', (r) => r.memory_restarted.hwm_mib, fmtMiB);
  row(`restart: spawn -> getData of the last created znode answers`, (r) => r.restart.ms, fmtS);
  row(`getData throughput at ${n} keys (ops/s)`, (r) => r.read_big.ops_per_s, fmtInt);
  row(`getData throughput at 1k keys (ops/s)`, (r) => r.read_small.ops_per_s, fmtInt);
  row(`throughput at ${n} keys / at 1k keys`, (r) => r.read_big.ops_per_s / r.read_small.ops_per_s, (v) => (v === null ? 'n/a' : `${v.toFixed(2)}x`), false);
  row(`getData p99.9 at ${n} keys`, (r) => r.read_big.latency_us.p999_us, fmtMs);
  row(`getData p99.9 at 1k keys`, (r) => r.read_small.latency_us.p999_us, fmtMs);
  row(`getData p50 / p99 / p99.9 at ${n} keys`, (r) => r, (r) => (r === null ? 'n/a' : lat(r.read_big)), false);
  row(`getData p50 / p99 / p99.9 at 1k keys`, (r) => r, (r) => (r === null ? 'n/a' : lat(r.read_small)), false);
  if (o.tail_rate_per_s > 0) {
    const rate = o.tail_rate_per_s.toLocaleString('en-US');
    row(`open loop, ${rate} getData/s offered: p50 / p99 / p99.9 at ${n} keys`, (r) => r, (r) => (r === null ? 'n/a' : lat(r.tail_big)), false);
    row(`open loop, ${rate} getData/s offered: p50 / p99 / p99.9 at 1k keys`, (r) => r, (r) => (r === null ? 'n/a' : lat(r.tail_small)), false);
    row(`open loop, ${rate} getData/s offered: p99.9 at ${n} keys / at 1k keys`, (r) => r.tail_big.latency_us.p999_us / r.tail_small.latency_us.p999_us, (v) => (v === null ? 'n/a' : `${v.toFixed(2)}x`), false);
    row(`open loop, ${rate} getData/s offered: throughput achieved at ${n} / 1k keys`, (r) => r, (r) => (r === null ? 'n/a' : `${fmtInt(r.tail_big.ops_per_s)} / ${fmtInt(r.tail_small.ops_per_s)}`), false);
  }
  row(`server CPU per read at ${n} keys`, (r) => r.read_big.server_us_per_read, fmtUs);
  row(`server CPU per read at 1k keys`, (r) => r.read_small.server_us_per_read, fmtUs);
  row(`create ${n} znodes (${CREATE_SESSIONS} sessions x ${CREATE_LANES} in flight), creates/s`, (r) => r.create.per_s, fmtInt);
  row('data dir before the restart (file sizes, preallocated log included)', (r) => r.data_dir_bytes / 2 ** 20, fmtMiB);
  row('clean stop (SIGTERM -> exit)', (r) => r.stop.stop_ms, (v) => fmtS(v));
  return mdTable(['measure', 'waitfree', 'Apache ZooKeeper', 'waitfree / ZooKeeper'], rows, ['left', 'right', 'right', 'right']);
}

function markdown(o, facts, results, tbl) {
  const lines = [
    `### A large tree: ${o.znodes.toLocaleString('en-US')} znodes, waitfree and Apache ZooKeeper 3.8 (${facts.date.slice(0, 10)})`,
    '',
    `    npm run build && ${o.command}`,
    '',
    `Machine: ${factsLine(facts)}.`,
    `Read load: ${o.clients} sessions x ${o.outstanding} in flight, 100 % getData of uniformly random keys, ${o.threads} load-generator thread(s) on the same machine, ${o.warmup_s} s warm-up + ${o.read_s} s measured per point (in ${o.read_rounds} round(s) per key space, ordered N, 1k, 1k, N, ...), after ${o.server_warmup_s} s of unmeasured reads on each fresh server; server CPU from /proc (every thread). ${o.tail_rate_per_s > 0 ? `The open-loop rows: the same sessions at ${o.tail_rate_per_s.toLocaleString('en-US')} getData/s offered in total (latency from each request's scheduled send time). ` : ''}One server alive at a time, systems in the order ${o.systems.join(', ')}.`,
    '',
    tbl,
    '',
  ];
  for (const r of results) {
    lines.push(`- **${r.kind}**: ${r.fsync_policy}; heap ${r.heap}; config: \`${r.config_text.split('\n').join('; ')}\``);
    lines.push(`  - load average at the N-key read start ${r.read_big.loadavg_start.map((l) => l.toFixed(2)).join(' ')}; busiest threads at N keys (CPU s): ${r.read_big.busiest_threads.map((t) => `${t.name} ${t.cpu_s}`).join(', ')}`);
    lines.push(`  - getData/s per round, in the order measured: at N keys ${r.read_big.window_ops_per_s.map(fmtInt).join(', ')}; at 1k keys ${r.read_small.window_ops_per_s.map(fmtInt).join(', ')}`);
    lines.push(`  - stop: ${r.stop.clean ? 'clean on SIGTERM' : 'SIGKILL after the grace period'}; restart probes: ${r.restart.probes}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  let o;
  try {
    o = options(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  if (o.systems.includes('zookeeper') && !apacheZkAvailable()) {
    process.stderr.write('Apache ZooKeeper is not installed (Debian package zookeeper, /usr/share/java/zookeeper.jar)\n');
    return 1;
  }
  const facts = machineFacts();
  log(`${o.command}\n  ${factsLine(facts)}`);
  const results = [];
  for (const kind of o.systems) results.push(await runSystem(kind, o));
  const tbl = table(o, results);
  if (o.json) process.stdout.write(`${JSON.stringify({ command: o.command, options: o, machine: facts, results }, null, 2)}\n`);
  else process.stdout.write(`${o.command}\n\n${tbl}\n`);
  if (o.out !== null) {
    writeFileSync(o.out, markdown(o, facts, results, tbl));
    log(`wrote ${o.out}`);
  }
  return 0;
}

process.exitCode = await main();
