// Stop a launched server WITHOUT removing its data dir, and start it again on that dir.
//
// Why here: src/check/launch.ts stop() always removes the dir it created, and its launcher
// always makes a fresh dir, so a restart on the same data (tree_scale.mjs) cannot go through it.
// This re-runs the exact command launch.ts recorded (`server.command`) with the same cwd and the
// same setpriv --pdeathsig wrapper, so the restarted server is the one that was measured.
//
// Invariants: only processes spawned here (or the launched server, by its PID) are signalled;
// every wait is bounded; a child still running when this process exits is SIGKILLed by PID.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;
const OUTPUT_TAIL_CHARS = 16 * 1024;
const POLL_MS = 50;

const live = new Set();
process.on('exit', () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) signal(c.pid, 'SIGKILL');
});

export function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone.
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM to `pid`, waits until `alive()` is false (at most grace_ms), then SIGKILL (and waits
 * again, bounded). Returns { stop_ms, clean } (clean = it exited on SIGTERM within the grace).
 */
export async function terminate(pid, alive, grace_ms) {
  const t0 = performance.now();
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + grace_ms;
  while (alive() && Date.now() < deadline) await sleep(POLL_MS);
  const clean = !alive();
  if (!clean) {
    signal(pid, 'SIGKILL');
    const kill_deadline = Date.now() + 10_000;
    while (alive() && Date.now() < kill_deadline) await sleep(POLL_MS);
    if (alive()) throw new Error(`server PID ${pid} survived SIGKILL for 10 s`);
  }
  return { stop_ms: performance.now() - t0, clean };
}

/** argv of a command line launch.ts recorded (joined by single spaces). */
function splitCommand(command) {
  const argv = command.split(' ');
  // A path with a space would have been split: refuse rather than run something else.
  for (const a of argv) if (a === '') throw new Error(`cannot re-run recorded command (empty argument): ${command}`);
  return argv;
}

/**
 * Starts the recorded command of `server` (a LaunchedServer already stopped, dir kept) again.
 * Returns { pid, t_spawn_ms, alive(), output(), stop(grace_ms) }; t_spawn_ms is
 * performance.now() just before spawn.
 */
export function respawn(server) {
  if (server.alive()) throw new Error(`${server.kind} PID ${server.pid} is still running; stop it first`);
  const [cmd, ...args] = splitCommand(server.command);
  const [command, argv] = SETPRIV === null ? [cmd, args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', cmd, ...args]];
  const t_spawn_ms = performance.now();
  const child = spawn(command, argv, { cwd: server.dir, env: server.env, detached: false, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not spawn ${cmd}`);
  live.add(child);
  child.once('exit', () => live.delete(child));
  let tail = '';
  const keep = (b) => {
    tail = (tail + b.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const alive = () => child.exitCode === null && child.signalCode === null;
  return { pid: child.pid, t_spawn_ms, alive, output: () => tail, stop: (grace_ms) => terminate(child.pid, alive, grace_ms) };
}

/** VmRSS and VmHWM (peak) of a process in MiB from /proc/PID/status, or nulls. */
export function memoryMiB(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(s);
      return m === null ? null : Number(m[1]) / 1024;
    };
    return { rss_mib: kb('VmRSS'), hwm_mib: kb('VmHWM') };
  } catch {
    return { rss_mib: null, hwm_mib: null };
  }
}

/** Bytes of regular files under `dir` (bounded depth: data dirs are shallow). */
export function dirBytes(dir, depth_max = 6) {
  if (depth_max < 0) return 0;
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p, depth_max - 1);
    else if (e.isFile()) {
      try {
        total += statSync(p).size;
      } catch {
        // Removed meanwhile (a log segment rolled).
      }
    }
  }
  return total;
}
