#!/usr/bin/env node
// Start-up of an empty standalone server, from spawn until it grants a session, the CPU its
// process has used by then and its RSS then: waitfree with its worker bundles (dist/bundle/), waitfree loading the
// workers' modules (a copy of the package without dist/bundle/), and Apache ZooKeeper 3.8, in
// turns. `node bench/startup.mjs --help`.
//
// The modules variant runs from a temp copy of bin/, dist/ (minus bundle/), native-free/ and
// package.json, node_modules linked: the checkout's build is not touched. Each round starts every
// system once on a fresh data dir, waits for a session (probed every 5 ms), reads the process's
// CPU (/proc/PID/stat, all threads), and stops it by its PID.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCli } from './lib/cli_args.mjs';
import { REPO_ROOT, requireBuilt } from './lib/require_built.mjs';
import { sleep, terminate } from './lib/server_restart.mjs';

const USAGE = `usage: node bench/startup.mjs [--rounds N] [--systems waitfree,waitfree-modules,zookeeper] [--read-workers N]
  --rounds N        starts of each system, in turns (default 7)
  --systems         which to start (default all three; zookeeper needs Debian's zookeeper package)
  --read-workers N  waitfree's read workers (default 1)`;

const { values, atLeast, systems } = parseCli(USAGE, {
  rounds: { type: 'string', default: '7' },
  systems: { type: 'string', default: 'waitfree,waitfree-modules,zookeeper' },
  'read-workers': { type: 'string', default: '1' },
});
const { apacheZkAvailable, freePort, handshakeOk, SLF4J_SIMPLE_JAR, ZK_JAR } = await import(requireBuilt('check/launch.js'));

const ROUNDS = atLeast('rounds', 1);
const READ_WORKERS = atLeast('read-workers', 1);
const PROBE_MS = 5;
const START_TIMEOUT_MS = 60_000;
const CLK_TCK = 100;
const chosen = systems('systems', ['waitfree', 'waitfree-modules', 'zookeeper'], (s) => s !== 'zookeeper' || apacheZkAvailable());

const scratch = mkdtempSync(join(tmpdir(), 'waitfree-startup-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** A copy of the package whose workers load their modules (no dist/bundle/). */
function modulesCopy() {
  const root = join(scratch, 'modules-pkg');
  mkdirSync(root);
  for (const d of ['bin', 'dist', 'native-free']) cpSync(join(REPO_ROOT, d), join(root, d), { recursive: true });
  rmSync(join(root, 'dist', 'bundle'), { recursive: true, force: true });
  cpSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  return root;
}

const roots = { waitfree: REPO_ROOT, 'waitfree-modules': chosen.includes('waitfree-modules') ? modulesCopy() : null };

function command(system, port, dir) {
  const cfg = join(dir, 'server.cfg');
  const lines = [`clientPort=${port}`, 'clientPortAddress=127.0.0.1', `dataDir=${join(dir, 'data')}`, 'admin.enableServer=false'];
  if (system !== 'zookeeper') lines.push(`waitfree.readWorkers=${READ_WORKERS}`);
  writeFileSync(cfg, [...lines, ''].join('\n'));
  if (system === 'zookeeper') {
    return ['java', ['-Xms1024m', '-Xmx1024m', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', [ZK_JAR, SLF4J_SIMPLE_JAR].join(':'), 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg]];
  }
  return [process.execPath, [join(roots[system], 'bin', 'waitfree.js'), 'server', '--config', cfg]];
}

function rssMiB(pid) {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}

function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the whole line; here, after "pid (comm) ", 12 and 13.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

async function startOnce(system) {
  const port = await freePort();
  const dir = mkdtempSync(join(scratch, `${system}-`));
  const [cmd, args] = command(system, port, dir);
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b) => (err = (err + b).slice(-4000)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  try {
    for (;;) {
      if (!alive()) throw new Error(`${system} exited during start-up:\n${err}`);
      if (performance.now() - t0 > START_TIMEOUT_MS) throw new Error(`${system}: no session within ${START_TIMEOUT_MS} ms`);
      if (await handshakeOk(port, 1_000)) break;
      await sleep(PROBE_MS);
    }
    return { start_ms: performance.now() - t0, cpu_ms: cpuMs(child.pid), rss_mib: rssMiB(child.pid) };
  } finally {
    await terminate(child.pid, alive, 10_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = Object.fromEntries(chosen.map((s) => [s, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const s of chosen) results[s].push(await startOnce(s));
}
console.log(`waitfree with ${READ_WORKERS} read worker(s)\n`);
console.log(`| system | start: spawn -> session granted (median of ${ROUNDS}) | CPU used by then (median) | RSS then (median) |`);
console.log('|---|---:|---:|---:|');
for (const s of chosen) {
  const rs = results[s];
  console.log(`| ${s} | ${median(rs.map((x) => x.start_ms)).toFixed(0)} ms | ${median(rs.map((x) => x.cpu_ms)).toFixed(0)} ms | ${median(rs.map((x) => x.rss_mib)).toFixed(1)} MiB |`);
}
if (existsSync('/proc/loadavg')) console.log(`\nload average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
