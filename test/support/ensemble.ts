// A real ensemble for tests: N waitfree server processes on 127.0.0.1, each with its own zoo.cfg,
// dataDir and myid (written by src/config/ensemble_layout.ts, as `waitfree ensemble` writes them),
// on ports picked free just before (bind port 0, close: another process may take one meanwhile;
// we accept that small race). Members can be killed and restarted; `waitFor` polls each member's
// `srvr` answer until a predicate holds.
//
// Invariants: every process is a child we spawned (never detached), found again only by its PID;
// stop() signals exactly those PIDs and removes the directory only if it created it. Children
// still running when the test process exits are SIGKILLed.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fourLetter } from '../../src/check/four_letter.js';
import {
  checkExtraCfg,
  planLayout,
  writeLayout,
  type EnsembleLayout,
  type LayoutMember,
  type MemberPorts,
} from '../../src/config/ensemble_layout.js';
import type { MemberRole } from '../../src/config/server_line.js';
import { freePort, REPO_ROOT } from '../../src/check/launch.js';
import { serverEnv } from '../../src/server/huge_pages.js';

export interface EnsembleOptions {
  /** Participants (voters). */
  readonly replicas: number;
  readonly observers?: number;
  /** Root of r1, r2, ...; default a fresh temp dir, removed by stop(). A given dir is kept. */
  readonly dir?: string;
  /** zoo.cfg lines (KEY=VALUE) appended to every member's config; not server.N, dataDir, ports, peerType. */
  readonly extra_cfg?: readonly string[];
  /** Each member's admin HTTP server on a port of its own (EnsembleMemberHandle.admin_port); off by default. */
  readonly admin?: boolean;
}

export interface EnsembleMemberHandle {
  readonly sid: number;
  readonly role: MemberRole;
  readonly client_port: number;
  readonly quorum_port: number;
  readonly election_port: number;
  /** Its admin HTTP server's port (EnsembleOptions.admin); null when off. */
  readonly admin_port: number | null;
  /** The current process's PID (a restart changes it); -1 if it never started. */
  readonly pid: number;
  readonly dataDir: string;
  readonly cfgPath: string;
  alive(): boolean;
  /** The tail of this member's stdout + stderr, across restarts. */
  output(): string;
}

/** Each member's `srvr` answer by sid; null = no answer (not listening, closed, timed out). */
export type SrvrAnswers = ReadonlyMap<number, string | null>;

export interface Ensemble {
  readonly connectString: string;
  readonly dir: string;
  readonly members: readonly EnsembleMemberHandle[];
  member(sid: number): EnsembleMemberHandle;
  /** `srvr` on one member's client port. */
  srvr(sid: number, timeout_ms?: number): Promise<string | null>;
  /** Signals one member by PID; for SIGKILL/SIGTERM/SIGINT also waits until it has exited. */
  kill(sid: number, signal?: NodeJS.Signals): Promise<void>;
  /** Stops the member if it runs (SIGTERM, then SIGKILL), then starts it again on its files. */
  restart(sid: number): Promise<void>;
  /** Stops every member by PID; removes the directory if this helper created it. */
  stop(): Promise<void>;
  /** Polls every member's `srvr` until `predicate` holds; throws after `timeout_ms` with the last answers. */
  waitFor(predicate: (answers: SrvrAnswers) => boolean, timeout_ms: number): Promise<SrvrAnswers>;
}

const STOP_GRACE_MS = 5_000;
const EXIT_WAIT_MS = 10_000;
const POLL_INTERVAL_MS = 100;
const SRVR_TIMEOUT_MS = 1_000;
const SRVR_TIMEOUT_MS_MIN = 250;
const OUTPUT_TAIL_CHARS = 16 * 1024;
/** freePort may hand out a port twice (it is released at once); retries per port are bounded. */
const PORT_TRIES_MAX = 50;

/** `count` sets of client/quorum/election ports, all distinct and free a moment ago. Admin off. */
export async function allocatePorts(count: number, admin = false): Promise<MemberPorts[]> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (let i = 0; i < PORT_TRIES_MAX; i++) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
    throw new Error(`allocatePorts: no new free port after ${PORT_TRIES_MAX} tries`);
  };
  const out: MemberPorts[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ client_port: await next(), quorum_port: await next(), election_port: await next(), admin_port: admin ? await next() : null });
  }
  return out;
}

/** Picks ports and writes every member's files; starts nothing. */
export async function planEnsemble(o: EnsembleOptions): Promise<{ layout: EnsembleLayout; created_dir: boolean }> {
  const observers = o.observers ?? 0;
  const ports = await allocatePorts(o.replicas + observers, o.admin === true);
  const extra = o.extra_cfg === undefined || o.extra_cfg.length === 0 ? null : { text: o.extra_cfg.join('\n') + '\n', source: 'extra_cfg' };
  if (extra !== null) checkExtraCfg(extra.text, extra.source);
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'waitfree-ensemble-test-'));
  const layout = planLayout(dir, o.replicas, observers, ports);
  writeLayout(layout, extra);
  return { layout, created_dir: o.dir === undefined };
}

/** `srvr` on 127.0.0.1:port: the answer, or null when there is none. */
export async function srvrAt(port: number, timeout_ms = SRVR_TIMEOUT_MS): Promise<string | null> {
  try {
    const text = await fourLetter(port, 'srvr', timeout_ms);
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

/** Polls `srvr` on every (sid, port) until `predicate` holds or `timeout_ms` passes (then throws). */
export async function pollSrvr(
  ports: ReadonlyMap<number, number>,
  predicate: (answers: SrvrAnswers) => boolean,
  timeout_ms: number,
  describe: () => string = () => '',
): Promise<SrvrAnswers> {
  const deadline = Date.now() + timeout_ms;
  let answers: SrvrAnswers = new Map();
  for (;;) {
    // A round near the deadline still gives each member a fair chance to answer (it may overrun
    // the deadline by up to SRVR_TIMEOUT_MS_MIN), so the last answers reported are real ones.
    const left = Math.max(SRVR_TIMEOUT_MS_MIN, Math.min(SRVR_TIMEOUT_MS, deadline - Date.now()));
    const entries = await Promise.all([...ports].map(async ([sid, port]) => [sid, await srvrAt(port, left)] as const));
    answers = new Map(entries);
    if (predicate(answers)) return answers;
    if (Date.now() >= deadline) break;
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
  }
  const shown = [...answers].map(([sid, a]) => `server.${sid}: ${a === null ? 'no answer' : JSON.stringify(a.split('\n').slice(0, 8).join(' | '))}`);
  throw new Error(`ensemble: condition not met after ${timeout_ms} ms; last srvr answers:\n${shown.join('\n')}${describe()}`);
}

// Children still running, killed if the test process exits without stopping them.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) signalPid(c.pid, 'SIGKILL');
});

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already exited.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One member: its files (fixed) and its current process (replaced by restart). */
class MemberProcess implements EnsembleMemberHandle {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private tail = '';

  constructor(private readonly m: LayoutMember) {}

  get sid(): number {
    return this.m.sid;
  }
  get role(): MemberRole {
    return this.m.role;
  }
  get client_port(): number {
    return this.m.ports.client_port;
  }
  get quorum_port(): number {
    return this.m.ports.quorum_port;
  }
  get election_port(): number {
    return this.m.ports.election_port;
  }

  get admin_port(): number | null {
    return this.m.ports.admin_port;
  }
  get pid(): number {
    return this.child?.pid ?? -1;
  }
  get dataDir(): string {
    return this.m.data_dir;
  }
  get cfgPath(): string {
    return this.m.cfg_path;
  }

  alive(): boolean {
    const c = this.child;
    return c !== null && c.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  output(): string {
    return this.tail;
  }

  private keep(text: string): void {
    this.tail = (this.tail + text).slice(-OUTPUT_TAIL_CHARS);
  }

  start(): void {
    if (this.alive()) throw new Error(`server.${this.sid} is already running (pid ${this.pid})`);
    const args = [join(REPO_ROOT, 'bin', 'waitfree.js'), 'server', '--config', this.m.cfg_path];
    const [command, argv] = SETPRIV === null ? [process.execPath, args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...args]];
    const child = spawn(command, argv, { cwd: this.m.dir, env: serverEnv(), detached: false, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.tail !== '') this.keep(`--- server.${this.sid} started again ---\n`);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.keep(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.keep(d));
    child.once('error', (e) => this.keep(`spawn error: ${e.message}\n`));
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    live.add(child);
    void this.exited.then(() => live.delete(child));
    this.child = child;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive()) signalPid(this.pid, sig);
  }

  /** Waits for the current process to exit; throws after `timeout_ms`. */
  async waitExit(timeout_ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeout_ms)));
    const r = await Promise.race([this.exited.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    if (r === 'timeout') throw new Error(`server.${this.sid} (pid ${this.pid}) did not exit within ${timeout_ms} ms`);
  }

  /** SIGTERM (and SIGCONT, in case it is paused), then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    if (!this.alive()) return;
    this.signal('SIGTERM');
    this.signal('SIGCONT');
    try {
      await this.waitExit(STOP_GRACE_MS);
    } catch {
      this.signal('SIGKILL');
      await this.waitExit(EXIT_WAIT_MS);
    }
  }
}

const TERMINATING: ReadonlySet<NodeJS.Signals> = new Set(['SIGKILL', 'SIGTERM', 'SIGINT']);

/**
 * Writes the files and starts every member. Does not wait for the ensemble to serve: use
 * waitFor (e.g. one member's srvr says "Mode: leader" and the others "Mode: follower").
 */
export async function startEnsemble(o: EnsembleOptions): Promise<Ensemble> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` before starting an ensemble');
  const { layout, created_dir } = await planEnsemble(o);
  const members = layout.members.map((m) => new MemberProcess(m));
  const bySid = (sid: number): MemberProcess => {
    const m = members.find((x) => x.sid === sid);
    if (m === undefined) throw new Error(`no server.${sid} in this ensemble (sids ${members.map((x) => x.sid).join(', ')})`);
    return m;
  };
  for (const m of members) m.start();
  const ports = new Map(members.map((m) => [m.sid, m.client_port]));
  const outputs = (): string => members.map((m) => `\n--- server.${m.sid} (pid ${m.pid}, ${m.alive() ? 'running' : 'exited'}) ---\n${m.output()}`).join('');
  return {
    connectString: layout.connect_string,
    dir: layout.root,
    members,
    member: bySid,
    srvr: (sid, timeout_ms = SRVR_TIMEOUT_MS) => srvrAt(bySid(sid).client_port, timeout_ms),
    kill: async (sid, signal = 'SIGKILL') => {
      const m = bySid(sid);
      m.signal(signal);
      if (TERMINATING.has(signal)) await m.waitExit(EXIT_WAIT_MS);
    },
    restart: async (sid) => {
      const m = bySid(sid);
      await m.stop();
      m.start();
    },
    stop: async () => {
      await Promise.all(members.map((m) => m.stop()));
      if (created_dir) rmSync(layout.root, { recursive: true, force: true });
    },
    waitFor: (predicate, timeout_ms) => pollSrvr(ports, predicate, timeout_ms, outputs),
  };
}
