// A waitfree server as a child process on a data dir the test owns, so it can be killed with
// SIGKILL (by PID, never by name) and started again on the same directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverEnv } from '../../src/server/huge_pages.js';
import { freePort } from '../support/servers.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'waitfree.js');
// setpriv sets a parent-death signal: if the test process dies, the server dies too.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

export interface ServerProcess {
  port: number;
  pid: number;
  /** stdout + stderr so far. */
  output(): string;
  exited(): boolean;
  kill9(): Promise<void>;
  /** SIGTERM and wait (a clean stop). */
  stop(): Promise<void>;
}

/**
 * Starts `node bin/waitfree.js server --port P --data-dir D -c cfg` and waits until it listens.
 * `cfg` holds extra zoo.cfg lines. Rejects with the server's output if it exits or stalls.
 */
export async function startServerProcess(data_dir: string, cfg_path: string, cfg_lines: string[], start_timeout_ms = 30_000): Promise<ServerProcess> {
  // freePort() only says the port was free a moment ago: if another process bound it first, the
  // server exits with "cannot listen"; try again on a new port (bounded).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(data_dir, cfg_path, cfg_lines, start_timeout_ms);
    } catch (e) {
      if (attempt >= 3 || !/cannot listen|EADDRINUSE/.test(String(e))) throw e;
    }
  }
}

async function startOnce(data_dir: string, cfg_path: string, cfg_lines: string[], start_timeout_ms: number): Promise<ServerProcess> {
  writeFileSync(cfg_path, cfg_lines.join('\n') + '\n');
  const port = await freePort();
  const args = [BIN, 'server', '--port', String(port), '--data-dir', data_dir, '-c', cfg_path];
  const [command, argv] = SETPRIV === null ? [process.execPath, args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...args]];
  const child: ChildProcess = spawn(command, argv, { cwd: REPO_ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within ${start_timeout_ms} ms:\n${out}`)), start_timeout_ms);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('waitfree listening on')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited during start-up:\n${out}`));
    });
  });
  await listening;
  const pid = child.pid!;
  return {
    port,
    pid,
    output: () => out,
    exited: () => exited,
    async kill9() {
      if (!exited) process.kill(pid, 'SIGKILL');
      await exit;
    },
    async stop() {
      if (!exited) process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => !exited && process.kill(pid, 'SIGKILL'), 10_000);
      await exit;
      clearTimeout(t);
    },
  };
}

/** Runs a server that is expected to refuse to start; resolves with its exit output. */
export function failedStartOutput(data_dir: string, timeout_ms = 30_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'server', '--port', '0', '--data-dir', data_dir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server neither started nor failed within ${timeout_ms} ms:\n${out}`));
    }, timeout_ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output: out });
    });
  });
}
