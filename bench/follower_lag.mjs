#!/usr/bin/env node
// Follower lag after a write: how often a read at a follower, sent the moment the leader has
// answered a create, does not see it yet, and how long until it does. ZooKeeper promises no
// more than "a follower may lag" (sync() exists for this), but clients' test suites (e.g.
// go-zookeeper's TestBasicCluster: create at one member, getData at another, no sync) assume
// the lag is short. waitfree and Apache ZooKeeper 3.8 ensembles of 3, alternating round by round
// in one run, with fsync on commit on every replica.
//
//   npm run build && node bench/follower_lag.mjs [--rounds 3] [--writes 2000] [--warmup 3000] [--seconds 30]
//       [--systems waitfree,zookeeper] [--data-root DIR] [--waitfree-config KEY=VALUE ...]
//       [--writer leader|follower] [--idle-ms 0]
//
// A fresh ensemble's first write, as go-zookeeper's TestBasicCluster makes it (connect, 5 s idle,
// create at one member, getData at another): --warmup 0 --writes 1 --idle-ms 5000 --rounds 20.
//
// Per round and system: launch the ensemble (bench/src/ensemble_launch.ts), one session at the
// leader (the writer) and one at each follower (the readers), or with --writer follower the
// writer at one follower (its writes are forwarded) and the reader at the other. --warmup writes
// and reads first, not measured; then --idle-ms of nothing; then per write, bounded by --writes
// and --seconds: create /lag-nI; when its reply arrives, exists(/lag-nI) at a reader
// (alternating when there are two).
// A NONODE is a miss; the reader then polls exists until the node shows (at most POLLS_MAX
// times), and the time from the create's reply to the first exists that
// saw it is the miss's lag. Prints the median over rounds of the miss fraction and of the lag's
// p50 / max, and the create's p50 latency.

import { parseCli } from './lib/cli_args.mjs';
import { requireBench, requireBuilt } from './lib/require_built.mjs';

const { launchEnsemble, DEFAULT_TIMING } = await import(requireBench('ensemble_launch.js'));
const { BenchSession } = await import(requireBench('session.js'));
const { processCpuSeconds } = await import(requireBench('proc_cpu.js'));
const { apacheZkAvailable } = await import(requireBuilt('check/launch.js'));
const { Op, Err, Perms } = await import(requireBuilt('protocol/index.js'));

const USAGE = `usage: node bench/follower_lag.mjs [--rounds 3] [--writes 2000] [--warmup 3000] [--seconds 30]
    [--systems waitfree,zookeeper] [--data-root DIR] [--waitfree-config KEY=VALUE ...] [--writer leader|follower]
    [--idle-ms 0]
How often, and for how long, a read at a follower misses a write the leader has just answered
(ensembles of 3, alternating round by round).`;

const { values, fail, atLeast, systems: systemsOf } = parseCli(USAGE, {
  rounds: { type: 'string', default: '3' },
  writes: { type: 'string', default: '2000' },
  warmup: { type: 'string', default: '3000' },
  seconds: { type: 'string', default: '30' },
  systems: { type: 'string', default: 'waitfree,zookeeper' },
  'data-root': { type: 'string' },
  'waitfree-config': { type: 'string', multiple: true, default: [] },
  writer: { type: 'string', default: 'leader' },
  'idle-ms': { type: 'string', default: '0' },
});
const rounds = atLeast('rounds', 1);
const writes_max = atLeast('writes', 1);
const warmup_writes = atLeast('warmup', 0);
const seconds_max = atLeast('seconds', 1);
const idle_ms = atLeast('idle-ms', 0);
if (values.writer !== 'leader' && values.writer !== 'follower') fail(`--writer must be leader or follower, not ${values.writer}`);
const systems = systemsOf('systems', ['waitfree', 'zookeeper'], (x) => x === 'waitfree' || apacheZkAvailable());
const OPEN_ACL = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
/** A miss is polled at most this many times (each one round trip to the follower). */
const POLLS_MAX = 10_000;
const SESSION_TIMEOUT_MS = 10_000;

function endpointOf(member) {
  return { host: '127.0.0.1', port: member.port };
}

async function probe(ensemble) {
  const leader = await ensemble.leader();
  const followers = ensemble.members.filter((m) => m !== leader);
  // --writer follower: the write is forwarded by one follower, the read goes to the other.
  const writes_at = values.writer === 'leader' ? leader : followers[0];
  const reads_at = values.writer === 'leader' ? followers : followers.slice(1);
  const writer = await BenchSession.open(endpointOf(writes_at), SESSION_TIMEOUT_MS);
  const readers = await Promise.all(reads_at.map((m) => BenchSession.open(endpointOf(m), SESSION_TIMEOUT_MS)));
  // Unmeasured writes first: both servers compile their hot paths (V8, the JIT) under load.
  for (let i = 0; i < warmup_writes; i++) {
    const c = await writer.request(Op.create, { path: `/lag-w${i}`, data: new Uint8Array(0), acl: OPEN_ACL, flags: 0 }, 'CreateResponse');
    if (c.header.err !== 0) throw new Error(`create /lag-w${i}: error ${c.header.err}`);
    await readers[i % readers.length].request(Op.exists, { path: `/lag-w${i}`, watch: false }, 'ExistsResponse');
  }
  // Every thread of every member asleep, as after a client's connect and a pause.
  if (idle_ms > 0) await new Promise((resolve) => setTimeout(resolve, idle_ms));
  const lags_us = [];
  const creates_us = [];
  let writes = 0;
  const cpu_s = () => ensemble.pids().reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
  const cpu_start_s = cpu_s();
  const deadline = performance.now() + seconds_max * 1000;
  while (writes < writes_max && performance.now() < deadline) {
    const path = `/lag-n${writes}`;
    const t0 = performance.now();
    const c = await writer.request(Op.create, { path, data: new Uint8Array(0), acl: OPEN_ACL, flags: 0 }, 'CreateResponse');
    const t1 = performance.now();
    if (c.header.err !== 0) throw new Error(`create ${path}: error ${c.header.err}`);
    creates_us.push((t1 - t0) * 1000);
    const reader = readers[writes % readers.length];
    writes += 1;
    let r = await reader.request(Op.exists, { path, watch: false }, 'ExistsResponse');
    if (r.header.err === 0) continue;
    if (r.header.err !== Err.NONODE) throw new Error(`exists ${path}: error ${r.header.err}`);
    let polls = 0;
    while (r.header.err === Err.NONODE && polls < POLLS_MAX) {
      r = await reader.request(Op.exists, { path, watch: false }, 'ExistsResponse');
      polls += 1;
    }
    if (r.header.err !== 0) throw new Error(`exists ${path}: still error ${r.header.err} after ${polls} polls`);
    lags_us.push((performance.now() - t1) * 1000);
  }
  const cpu_us_per_write = ((cpu_s() - cpu_start_s) * 1e6) / writes;
  await Promise.all([writer, ...readers].map((s) => s.close()));
  return { writes, misses: lags_us.length, lags_us, create_p50_us: quantile(creates_us, 0.5), cpu_us_per_write };
}

function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function median(xs) {
  return quantile(xs, 0.5);
}

const results = new Map(systems.map((s) => [s, []]));
for (let round = 1; round <= rounds; round++) {
  for (const system of systems) {
    const ensemble = await launchEnsemble(system, {
      replicas: 3, fsync: 'always', heap_mb: 512, read_workers: undefined, data_root: values['data-root'],
      timing: DEFAULT_TIMING, extra_config: system === 'waitfree' ? values['waitfree-config'] : [],
    });
    try {
      const r = await probe(ensemble);
      results.get(system).push(r);
      const lag = r.misses === 0 ? '-' : `lag p50 ${quantile(r.lags_us, 0.5).toFixed(0)} us, max ${Math.max(...r.lags_us).toFixed(0)} us`;
      process.stderr.write(`round ${round} ${system}: ${r.misses}/${r.writes} reads at a follower missed the create; ${lag}; create p50 ${r.create_p50_us.toFixed(0)} us; server CPU ${r.cpu_us_per_write.toFixed(0)} us per write and read (3 replicas)\n`);
    } finally {
      await ensemble.stop();
    }
  }
}

console.log('| system | writes per round | misses (median of rounds) | misses / writes (all rounds) | miss lag p50 (us) | miss lag max (us) | create p50 (us) | server CPU per write + read (us, 3 replicas) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [system, rs] of results) {
  const fraction = median(rs.map((r) => r.misses / r.writes));
  const lag_p50 = median(rs.map((r) => quantile(r.lags_us, 0.5)).filter((x) => !Number.isNaN(x)));
  const lag_max = Math.max(0, ...rs.flatMap((r) => r.lags_us));
  const misses_all = rs.reduce((n, r) => n + r.misses, 0);
  const writes_all = rs.reduce((n, r) => n + r.writes, 0);
  console.log(`| ${system} | ${median(rs.map((r) => r.writes))} | ${(fraction * 100).toFixed(2)} % | ${misses_all} / ${writes_all} | ${Number.isNaN(lag_p50) ? '-' : lag_p50.toFixed(0)} | ${lag_max.toFixed(0)} | ${median(rs.map((r) => r.create_p50_us)).toFixed(0)} | ${median(rs.map((r) => r.cpu_us_per_write)).toFixed(0)} |`);
}
