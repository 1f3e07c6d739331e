// One replica per data directory. Two servers appending to one log would interleave records and
// destroy it, so the supervisor takes `<dir>/lock` before any worker starts and gives it back on
// a clean stop.
//
// The lock is a file created exclusively (O_EXCL) holding the owner's PID. A lock whose PID is
// no longer running is stale (the owner was SIGKILLed or the machine crashed) and is taken over,
// so a crash never needs a human to clean up. A zombie is gone too: a SIGKILLed server whose
// parent has not reaped it yet (an orphan waits for PID 1, which in containers may reap late or
// never) still answers kill(pid, 0), though it holds no file and writes nothing. A holder that
// runs gets HOLDER_EXIT_WAIT_MS to exit (a restart right after a kill or a stop races the old
// process's exit) before the start is refused. Limits: the PID check only sees this PID
// namespace (run replicas sharing a directory in one namespace), and a reused PID makes a stale
// lock look held: the error names the file to remove in that case.

import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'lock';
/** How long a start waits for a live holder of the lock to exit before refusing. */
export const HOLDER_EXIT_WAIT_MS = 2000;
const HOLDER_POLL_MS = 20;

export class DirLockError extends Error {}

/** Locks held by this process: its own PID in a lock file is not stale while listed here. */
const held = new Set<string>();

export interface DirLock {
  readonly path: string;
  release(): void;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
    // EPERM: it exists, owned by someone else.
  }
  return !exited(pid);
}

/** A zombie (Z) or dead (X) process per /proc/PID/stat: it has exited, its parent has not reaped
 *  it. False where /proc cannot tell (another OS): then kill(pid, 0) alone decides. */
function exited(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false;
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses; the state follows the last ')'.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state === 'Z' || state === 'X';
}

/** Waits (blocking: this runs before any worker starts) up to wait_ms for `pid` to exit. */
function awaitExit(pid: number, wait_ms: number): boolean {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (let waited_ms = 0; running(pid); waited_ms += HOLDER_POLL_MS) {
    if (waited_ms >= wait_ms) return false;
    Atomics.wait(cell, 0, 0, HOLDER_POLL_MS);
  }
  return true;
}

function readOwner(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null; // vanished or unreadable: treat as stale
  }
}

function createExclusive(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Takes the lock of `dir` (created if missing) or throws DirLockError naming the holder. */
export function lockDir(dir: string, holder_exit_wait_ms = HOLDER_EXIT_WAIT_MS): DirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) throw new DirLockError(`${dir} is already in use by another server in this process`);
  // Two tries: the second after removing a stale lock (a racing starter may win it; then its
  // PID is live and we refuse).
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createExclusive(path)) {
      held.add(path);
      return {
        path,
        release: () => {
          if (!held.delete(path)) return;
          if (readOwner(path) === process.pid) unlinkSync(path);
        },
      };
    }
    const owner = readOwner(path);
    if (owner !== null && owner !== process.pid && !awaitExit(owner, holder_exit_wait_ms)) {
      throw new DirLockError(
        `${dir} is in use by process ${owner} (lock file ${path}); stop that server first, or remove the lock file if process ${owner} is not a waitfree server`,
      );
    }
    try {
      unlinkSync(path); // stale: its owner is gone
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  throw new DirLockError(`${dir}: another server took the lock (${path}) while this one was starting`);
}
