// Drives test/support/ensemble_kazoo_failover.py (kazoo, the Python client) as a child process:
// it prints one JSON line per phase on stdout; between "locked" and "done" the driver does the
// failover (`between`) and then writes `leader-killed` on its stdin.
//
// Invariants: the child is found again only by its PID and is SIGKILLed if it has not exited when
// the run ends (success, failure or timeout); every wait is bounded by `timeout_ms`.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Debian's python3 (kazoo is installed for it; other pythons on PATH may lack it). */
export const PYTHON = '/usr/bin/python3';
export const KAZOO_FILES = [PYTHON, '/usr/lib/python3/dist-packages/kazoo/client.py'] as const;
const SCRIPT = fileURLToPath(new URL('./ensemble_kazoo_failover.py', import.meta.url));
const STDERR_TAIL_CHARS = 4_000;

/** One phase line of the script: `phase` is 'locked', 'done' or 'error'. */
export type KazooPhase = { readonly phase: string } & Readonly<Record<string, unknown>>;

export interface KazooFailoverRun {
  readonly locked: KazooPhase;
  readonly done: KazooPhase;
}

/**
 * Runs the script against `connect_string`; calls `between(locked)` once the lock is held and,
 * once it resolves, lets the script go on. Rejects with the script's output on an 'error' phase,
 * an early exit or a timeout.
 */
export async function runKazooFailover(
  connect_string: string,
  between: (locked: KazooPhase) => Promise<void>,
  timeout_ms: number,
): Promise<KazooFailoverRun> {
  const child = spawn(PYTHON, [SCRIPT, connect_string], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  const phases: KazooPhase[] = [];
  let wake: () => void = () => undefined;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (;;) {
      const nl = stdout.indexOf('\n');
      if (nl < 0) break;
      const line = stdout.slice(0, nl).trim();
      stdout = stdout.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        phases.push(JSON.parse(line) as KazooPhase);
      } catch {
        phases.push({ phase: 'error', error: `unparsable line ${JSON.stringify(line)}`, trace: '' });
      }
    }
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL_CHARS);
  });
  child.on('exit', () => {
    exited = true;
    wake();
  });
  const deadline = Date.now() + timeout_ms;
  const describe = (): string => `\n--- phases ---\n${JSON.stringify(phases)}\n--- stderr tail ---\n${stderr}`;

  const next = async (want: string): Promise<KazooPhase> => {
    for (;;) {
      const p = phases.shift();
      if (p !== undefined) {
        if (p.phase === 'error') throw new Error(`kazoo script failed: ${String(p['error'])}\n${String(p['trace'])}${describe()}`);
        if (p.phase !== want) throw new Error(`kazoo script: expected phase ${want}, got ${JSON.stringify(p)}${describe()}`);
        return p;
      }
      if (exited) throw new Error(`kazoo script exited (code ${child.exitCode}) before phase ${want}${describe()}`);
      const left_ms = deadline - Date.now();
      if (left_ms <= 0) throw new Error(`kazoo script: no phase ${want} within ${timeout_ms} ms${describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left_ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };

  try {
    const locked = await next('locked');
    await between(locked);
    child.stdin.write('leader-killed\n');
    const done = await next('done');
    return { locked, done };
  } finally {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // ESRCH: it exited meanwhile.
      }
    }
  }
}
