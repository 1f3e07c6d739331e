// Starts `node bin/waitfree.js server` as a child process with a module preloaded into every
// thread (`node --import`; worker threads inherit the option), so a test can inject a fault into
// the server's own code without editing it: see containment_decoder_fault.mjs.
//
// Invariants: the server is a child we spawned (never detached), stopped by its PID only
// (stopChild: SIGTERM, then SIGKILL); stop() removes exactly the temp dir created here.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, freePort, handshakeOk, stopChild } from '../../src/check/launch.js';

const START_TIMEOUT_MS = 30_000;
const POLL_MS = 100;
const OUTPUT_CHARS_MAX = 256 * 1024;

// Children still running when this process exits (a test that failed before stop()) are killed.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) {
    if (c.pid === undefined || c.exitCode !== null) continue;
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface PreloadedServer {
  readonly port: number;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far (the last OUTPUT_CHARS_MAX). */
  output(): string;
  /** The exit code once it exited, else null. */
  exitCode(): number | null;
  alive(): boolean;
  stop(): Promise<void>;
}

/** `preload` is a path relative to the repository root; `cfg` are extra zoo.cfg lines. */
export async function startWaitfreePreloaded(preload: string, cfg: readonly string[]): Promise<PreloadedServer> {
  const bin = join(REPO_ROOT, 'bin', 'waitfree.js');
  const preload_path = join(REPO_ROOT, preload);
  if (!existsSync(preload_path)) throw new Error(`preload module missing: ${preload_path}`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'waitfree-containment-'));
  const cfg_path = join(dir, 'waitfree.cfg');
  writeFileSync(cfg_path, ['admin.enableServer=false', '4lw.commands.whitelist=*', ...cfg].join('\n') + '\n');
  const args = ['--import', pathToFileURL(preload_path).href, bin, 'server', '--port', String(port), '--data-dir', join(dir, 'data'), '--config', cfg_path];
  const child = spawn(process.execPath, args, { cwd: dir, detached: false, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const keep = (b: Buffer): void => {
    text = (text + b.toString('utf8')).slice(-OUTPUT_CHARS_MAX);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  live.add(child);
  void exited.then(() => live.delete(child));
  const server: PreloadedServer = {
    port,
    pid: child.pid ?? -1,
    output: () => text,
    exitCode: () => child.exitCode,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopChild(child, exited, dir),
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (!server.alive()) {
      await server.stop();
      throw new Error(`waitfree (preload ${preload}) exited at start:\n${text}`);
    }
    if (await handshakeOk(port, 2_000)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`waitfree (preload ${preload}) accepted no session within ${START_TIMEOUT_MS} ms:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
