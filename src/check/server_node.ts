// One server process the check tool started and may crash, restart, pause and resume: waitfree
// (`node bin/waitfree.js server --config FILE`) or Apache ZooKeeper (java ... zoo.cfg). Restarts
// reuse the same config and data dir, so a restart is a crash recovery.
//
// Invariants: the process is a child we spawned (not detached), addressed only by its PID; with
// setpriv it dies with us (parent-death signal). A paused process is continued before SIGTERM
// (SIGKILL takes it as it is), so no stopped process is left behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { handshakeOk } from './launch.js';
import { fourLetter } from './four_letter.js';

const OUTPUT_TAIL_CHARS = 16 * 1024;
const STOP_GRACE_MS = 5_000;
const READY_POLL_MS = 100;
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

export interface NodeSpec {
  /** For reports: "waitfree", "zk1", ... */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The client port on 127.0.0.1 (readiness is probed there: see ready_by). */
  readonly port: number;
  /**
   * waitfree only: the data dir its fault files go in (the server runs with
   * waitfree.log.fsyncDelayUs=-1, so it follows fault.fsync_delay_us there). Absent: no slow disk.
   */
  readonly fault_dir?: string;
  /**
   * How readiness is seen: 'handshake' (default; a session handshake succeeds) or 'srvr-mode'
   * (`srvr` answers with a Mode line: an ensemble member that has joined a leader).
   */
  readonly ready_by?: 'handshake' | 'srvr-mode';
  /** The process's environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** True when `srvr` on the port answers with a Mode line (leader, follower, observer, standalone). */
export async function srvrModeOk(port: number, timeout_ms: number): Promise<boolean> {
  const text = await fourLetter(port, 'srvr', timeout_ms).catch(() => '');
  return /^Mode: \w+/m.test(text);
}

export class ServerNode {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private tail = '';
  /** Appended to by every spawn (a restart continues the same file). */
  private log: WriteStream | null = null;
  private paused = false;
  /** Every PID this node has had (for the record). */
  readonly pids: number[] = [];

  constructor(readonly spec: NodeSpec) {}

  get name(): string {
    return this.spec.name;
  }
  get port(): number {
    return this.spec.port;
  }
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.tail;
  }

  /** Every byte the process printed, across restarts (in its directory, `<name>.log`). */
  get log_path(): string {
    return join(this.spec.cwd, `${this.spec.name}.log`);
  }

  /** Spawns the process (it must not be running). Does not wait for readiness. */
  spawn(): void {
    if (this.alive()) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const [command, args] = SETPRIV === null ? [this.spec.command, [...this.spec.args]] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', this.spec.command, ...this.spec.args]];
    const child = spawn(command, args, { cwd: this.spec.cwd, env: this.spec.env ?? process.env, detached: false, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.log === null) {
      // The log is a convenience: a failure to write it must not stop the run.
      this.log = createWriteStream(this.log_path, { flags: 'a' });
      this.log.on('error', (e) => process.stderr.write(`waitfree check: ${this.name}'s log ${this.log_path}: ${e.message}\n`));
    }
    const log = this.log;
    const keep = (b: Buffer): void => {
      this.tail = (this.tail + b.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
      // Output may trail the exit (pipes drain after it): once closed, the log takes no more.
      if (!log.writableEnded) log.write(b);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (e) => {
        keep(Buffer.from(`spawn failed: ${e.message}\n`));
        resolve();
      });
    });
    this.child = child;
    this.paused = false;
    if (child.pid !== undefined) this.pids.push(child.pid);
  }

  /** Waits until the server is ready (spec.ready_by); false if the process died or time ran out. */
  async waitReady(timeout_ms: number): Promise<boolean> {
    const deadline = performance.now() + timeout_ms;
    const probe = this.spec.ready_by === 'srvr-mode' ? srvrModeOk : handshakeOk;
    while (performance.now() < deadline) {
      if (!this.alive()) return false;
      if (await probe(this.port, Math.min(2_000, Math.max(100, deadline - performance.now())))) return true;
      await sleep(READY_POLL_MS);
    }
    return false;
  }

  /** SIGKILL (a paused process dies paused), then waits for the exit. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.paused) this.signal('SIGCONT');
  }

  /** Flushes and closes the log file (after stop(); a later spawn opens it again). */
  async closeLog(): Promise<void> {
    const log = this.log;
    if (log === null) return;
    this.log = null;
    await new Promise<void>((resolve) => log.end(resolve));
  }

  /** SIGTERM (continued first if paused), then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    if (!this.alive()) return;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timed_out = await Promise.race([this.exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_GRACE_MS)))]);
    clearTimeout(timer);
    if (timed_out) await this.kill();
  }

  /**
   * SIGKILL reaches a stopped process as it is (continuing it first would let it run a moment and
   * serve what it had buffered: a crash must not). SIGTERM needs it continued to be handled.
   */
  private signal(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || !this.alive()) return;
    if (sig === 'SIGTERM' && this.paused) this.send(pid, 'SIGCONT');
    if (sig === 'SIGKILL' || sig === 'SIGTERM' || sig === 'SIGCONT') this.paused = false;
    this.send(pid, sig);
  }

  private send(pid: number, sig: NodeJS.Signals): void {
    try {
      process.kill(pid, sig);
    } catch {
      // ESRCH: it exited meanwhile.
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Copies each stopped node's log into `dir` as `<name>.log` (the check's output directory). */
export async function keepLogs(nodes: readonly ServerNode[], dir: string): Promise<void> {
  for (const n of nodes) {
    await n.closeLog();
    try {
      if (existsSync(n.log_path)) copyFileSync(n.log_path, join(dir, `${n.name}.log`));
    } catch (e) {
      process.stderr.write(`waitfree check: cannot keep ${n.name}'s log in ${dir}: ${(e as Error).message}\n`);
    }
  }
}
