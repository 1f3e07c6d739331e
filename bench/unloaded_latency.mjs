#!/usr/bin/env node
// Unloaded latency (issue 11): one session, one request in flight, waitfree and Apache ZooKeeper
// 3.8 alternating round by round in one run, both with fsync on commit. What one request costs
// when nothing else happens: every thread hop is a wake-up, and for a write the disk sync is
// added. The raw fdatasync p50 of the same file system is measured first (the yardstick: the
// issue's target for a synced write is <= that + 0.1 ms).
//
//   npm run build && node bench/unloaded_latency.mjs [--rounds 3] [--seconds 4] [--warmup 2]
//       [--systems waitfree,zookeeper,floor[,waitfree+spin]] [--spin-us 300] [--data-root DIR]
//
// "floor" is bench/lib/floor_server.mjs: a one-thread Node server with canned replies (a setData
// is one write + fdatasync, then the reply). It is what any ZooKeeper server written in Node
// costs here before doing anything (loopback, event-loop wake-ups, the client): the part of a
// latency no server change removes. "waitfree+spin" is waitfree with waitfree.idleSpinUs=--spin-us
// (its net and commit workers poll instead of sleeping between requests).
//
// Per round and system: start on a fresh data dir (src/check/launch.ts, the launcher
// bench/run.mjs uses), then bench/loadgen.mjs with --clients 1 --outstanding 1 --threads 1 at
// 100 % reads (getData) and at 0 % reads (setData, 1 KiB), --seconds each after --warmup; server
// CPU from /proc. SIGTERM by PID, dir removed. Prints a markdown table: the median over rounds
// of p50 / p99 per system and kind, and the server CPU per request.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeFdatasync } from './durability/fdatasync_probe.mjs';
import { parseCli } from './lib/cli_args.mjs';
import { REPO_ROOT, requireBuilt } from './lib/require_built.mjs';

const { launchServer, apacheZkAvailable } = await import(requireBuilt('check/launch.js'));

const USAGE = `usage: node bench/unloaded_latency.mjs [--rounds 3] [--seconds 4] [--warmup 2]
    [--systems waitfree,zookeeper,floor[,waitfree+spin]] [--spin-us 300] [--data-root DIR]
One session, one request in flight: getData and synced setData p50 / p99 per system, alternating
round by round, next to the file system's raw fdatasync p50.`;
const { values, atLeast, systems: systemsOf } = parseCli(USAGE, {
  rounds: { type: 'string', default: '3' },
  seconds: { type: 'string', default: '4' },
  warmup: { type: 'string', default: '2' },
  systems: { type: 'string', default: 'waitfree,zookeeper,floor' },
  'spin-us': { type: 'string', default: '300' },
  'data-root': { type: 'string' },
});
const rounds = atLeast('rounds', 1);
const seconds = atLeast('seconds', 0.1);
const warmup = atLeast('warmup', 0);
atLeast('spin-us', 0);
const systems = systemsOf('systems', ['waitfree', 'waitfree+spin', 'zookeeper', 'floor'], (x) => x !== 'zookeeper' || apacheZkAvailable());
const spin_config = [`waitfree.idleSpinUs=${Number(values['spin-us'])}`];
const LOADGEN = join(REPO_ROOT, 'bench/loadgen.mjs');
/** Bound on one loadgen run: its window plus generous set-up time. */
const RUN_TIMEOUT_MS = (seconds + warmup + 60) * 1000;

function loadgen(connect, pid, reads, out_dir) {
  const json = join(out_dir, `r${reads}.json`);
  execFileSync(process.execPath, [
    LOADGEN, '--connect', connect, '--reads', String(reads), '--clients', '1', '--outstanding', '1',
    '--threads', '1', '--duration', String(seconds), '--warmup', String(warmup), '--server-pid', String(pid), '--json', json,
  ], { stdio: ['ignore', 'ignore', 'inherit'], timeout: RUN_TIMEOUT_MS });
  const r = JSON.parse(readFileSync(json, 'utf8'));
  return { p50_us: r.latency.p50_us, p99_us: r.latency.p99_us, ops_per_s: r.ops_per_s, server_us: r.server_us_per_request };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (us) => `${(us / 1000).toFixed(3)} ms`;

const probe = probeFdatasync({ dir: values['data-root'] ?? tmpdir(), count: 1000 });
console.log(`fdatasync probe: p50 ${probe.p50_ms} ms, p99 ${probe.p99_ms} ms (${probe.per_second}/s, 4 KiB writes)`);

/** The floor (bench/lib/floor_server.mjs): a one-thread Node server with canned replies. */
async function launchFloor() {
  const dir = mkdtempSync(join(values['data-root'] ?? tmpdir(), 'waitfree-floor-'));
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bench/lib/floor_server.mjs'), '--data-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const lines = createInterface({ input: child.stdout });
  const [line] = await once(lines, 'line');
  clearTimeout(timer);
  const port = Number(/^port (\d+)$/.exec(line)?.[1]);
  if (!Number.isInteger(port)) throw new Error(`floor server: unexpected first line ${JSON.stringify(line)}`);
  return {
    connect: `127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const results = new Map(); // `${system} ${kind}` -> samples
const out_dir = mkdtempSync(join(tmpdir(), 'waitfree-unloaded-'));
try {
  for (let round = 0; round < rounds; round++) {
    for (const system of systems) {
      const server =
        system === 'floor'
          ? await launchFloor()
          : system === 'waitfree+spin'
            ? await launchServer('waitfree', { fsync: 'always', heap_mb: 1024, data_root: values['data-root'], extra_config: spin_config })
            : await launchServer(system, { fsync: 'always', heap_mb: 1024, data_root: values['data-root'] });
      try {
        for (const reads of [100, 0]) {
          const r = loadgen(server.connect, server.pid, reads, out_dir);
          const key = `${system} ${reads === 100 ? 'read' : 'write'}`;
          if (!results.has(key)) results.set(key, []);
          results.get(key).push(r);
          console.log(`round ${round + 1} ${key}: p50 ${ms(r.p50_us)} p99 ${ms(r.p99_us)} (${Math.round(r.ops_per_s)} ops/s, server ${r.server_us?.toFixed(1)} µs/request)`);
        }
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  rmSync(out_dir, { recursive: true, force: true });
}

console.log(`\n| kind | system | p50 | p99 | server CPU per request | p50 vs zookeeper |`);
console.log(`|---|---|---:|---:|---:|---:|`);
for (const kind of ['read', 'write']) {
  const zk = results.get(`zookeeper ${kind}`);
  for (const system of systems) {
    const xs = results.get(`${system} ${kind}`);
    const p50 = median(xs.map((x) => x.p50_us));
    const ratio = zk === undefined ? '' : `${(p50 / median(zk.map((x) => x.p50_us))).toFixed(2)}x`;
    console.log(`| ${kind} | ${system} | ${ms(p50)} | ${ms(median(xs.map((x) => x.p99_us)))} | ${median(xs.map((x) => x.server_us ?? 0)).toFixed(0)} µs | ${ratio} |`);
  }
}
console.log(`\n(median of ${rounds} rounds; fdatasync p50 ${probe.p50_ms} ms on the same file system)`);
