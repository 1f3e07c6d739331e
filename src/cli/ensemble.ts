// `waitfree ensemble`: writes a local ensemble's files (src/config/ensemble_layout.ts), starts one
// `node bin/waitfree.js server --config rN/zoo.cfg` child per member, prefixes each child's output
// lines with `[rN] `, prints the connect string, and stops every child on SIGINT/SIGTERM.
//
// Invariants: each child is found again only by its PID (SIGTERM, then SIGKILL after
// STOP_GRACE_MS); a child that exits while we are not stopping is reported by name and stops the
// others (exit 1). It does not wait for the ensemble to serve: it starts processes and says so.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/config_error.js';
import {
  checkExtraCfg,
  checkMemberCounts,
  planLayout,
  portsFromBase,
  writeLayout,
  type EnsembleLayout,
  type LayoutMember,
} from '../config/ensemble_layout.js';
import { loadConfig } from '../config/load.js';
import { serverEnv } from '../server/huge_pages.js';
import type { EnsembleOptions } from './args.js';
import type { StopSignal } from './main.js';

/** bin/waitfree.js, found from this module (src/cli or dist/cli), never from the working directory. */
export const WAITFREE_BIN = fileURLToPath(new URL('../../bin/waitfree.js', import.meta.url));

const STOP_GRACE_MS = 5_000;
/** A child's partial output line is passed on once it reaches this size (memory stays bounded). */
const PARTIAL_LINE_CHARS_MAX = 64 * 1024;

export interface EnsembleDeps {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Calls `handler` on every SIGINT/SIGTERM until the returned function is called. */
  onSignal(handler: (signal: StopSignal) => void): () => void;
}

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

export async function runEnsemble(options: EnsembleOptions, deps: EnsembleDeps): Promise<number> {
  let layout: EnsembleLayout;
  try {
    layout = prepare(options, deps);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    deps.stderr(`waitfree ensemble: ${e.message}\n`);
    return EXIT_USAGE;
  }
  deps.stdout(planText(layout));
  if (options.dry_run) {
    deps.stdout(`connect string: ${layout.connect_string}\ndry run: files written, nothing started\n`);
    return EXIT_OK;
  }
  return supervise(layout, deps);
}

/** Plans, writes and checks the files: every member's zoo.cfg must load as its server will load it. */
function prepare(options: EnsembleOptions, deps: EnsembleDeps): EnsembleLayout {
  checkMemberCounts(options.replicas, options.observers);
  const count = options.replicas + options.observers;
  const ports = portsFromBase(options.base_port, count);
  const extra = options.config_file === undefined ? null : readExtra(options.config_file);
  const layout = withFsErrors(options.data_dir ?? tmpdir(), () => {
    const root = options.data_dir ?? mkdtempSync(join(tmpdir(), 'waitfree-ensemble-'));
    const planned = planLayout(root, options.replicas, options.observers, ports);
    writeLayout(planned, extra);
    return planned;
  });
  for (const m of layout.members) {
    const { warnings } = loadConfig({ file: m.cfg_path });
    // A started member prints its own warnings (prefixed); a dry run has only these.
    if (options.dry_run) for (const w of warnings) deps.stderr(`waitfree ensemble: ${m.name}: warning: ${w}\n`);
  }
  return layout;
}

/** File system failures (EACCES, ENOSPC, ...) become ConfigErrors naming the directory. */
function withFsErrors<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof ConfigError || code === undefined) throw e;
    throw new ConfigError(`cannot write the ensemble's files under ${where}: ${code} (${(e as Error).message})`);
  }
}

function readExtra(path: string): { text: string; source: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  checkExtraCfg(text, path);
  return { text, source: path };
}

function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** What was written and where everything listens (the connect string follows separately). */
export function planText(layout: EnsembleLayout): string {
  const lines = [`waitfree ensemble: ${counted(layout.replicas, 'participant')} + ${counted(layout.observers, 'observer')} in ${layout.root}`];
  for (const m of layout.members) {
    const p = m.ports;
    const admin = p.admin_port === null ? 'admin off' : `admin ${p.admin_port}`;
    lines.push(`  ${m.name}  server.${m.sid}  ${m.role.padEnd(11)}  client ${p.client_port}  quorum ${p.quorum_port}  election ${p.election_port}  ${admin}  ${m.cfg_path}`);
  }
  return lines.join('\n') + '\n';
}

/** Turns a stream of chunks into `[rN] line` lines; `end` passes on an unterminated last line. */
export class LinePrefixer {
  private partial = '';
  constructor(
    private readonly prefix: string,
    private readonly emit: (text: string) => void,
  ) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const cut = text.lastIndexOf('\n');
    this.partial = cut < 0 ? text : text.slice(cut + 1);
    if (cut >= 0) this.emit(this.prefixed(text.slice(0, cut)));
    if (this.partial.length >= PARTIAL_LINE_CHARS_MAX) this.end();
  }

  end(): void {
    if (this.partial === '') return;
    const rest = this.partial;
    this.partial = '';
    this.emit(this.prefixed(rest));
  }

  private prefixed(block: string): string {
    return block.split('\n').map((l) => `${this.prefix}${l}\n`).join('');
  }
}

interface Child {
  readonly member: LayoutMember;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
}

// setpriv (util-linux) asks the kernel to kill a child if this launcher dies without stopping
// it (kill -9): no orphaned replicas holding the ports. It execs in place: the PID stays the server's.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

function startChild(m: LayoutMember, deps: EnsembleDeps): Child {
  const args = [WAITFREE_BIN, 'server', '--config', m.cfg_path];
  const [command, argv] = SETPRIV === null ? [process.execPath, args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...args]];
  // Its own process group: a terminal's Ctrl-C reaches only this launcher, which stops each child
  // once (SIGTERM). Were the children in our group, they would see SIGINT and then our SIGTERM as
  // a second signal, which makes a server exit at once instead of stopping cleanly.
  const child = spawn(command, argv, { cwd: m.dir, env: serverEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new LinePrefixer(`[${m.name}] `, deps.stdout);
  const err = new LinePrefixer(`[${m.name}] `, deps.stderr);
  child.stdout?.setEncoding('utf8').on('data', (d: string) => out.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => err.push(d));
  const exited = new Promise<void>((resolve) => {
    // 'close' follows 'exit' once the pipes are drained: the last lines are out before we report.
    child.once('close', () => {
      out.end();
      err.end();
      resolve();
    });
    child.once('error', (e) => {
      deps.stderr(`waitfree ensemble: ${m.name}: cannot start: ${e.message}\n`);
      resolve();
    });
  });
  return { member: m, process: child, exited };
}

function alive(c: Child): boolean {
  return c.process.exitCode === null && c.process.signalCode === null && c.process.pid !== undefined;
}

function signalPid(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: it exited meanwhile.
  }
}

/** SIGTERM to every live child by PID, SIGKILL to those still alive after STOP_GRACE_MS. */
async function stopAll(children: readonly Child[]): Promise<void> {
  for (const c of children) if (alive(c)) signalPid(c.process.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)));
  await Promise.race([Promise.all(children.map((c) => c.exited)), grace]);
  clearTimeout(timer);
  for (const c of children) if (alive(c)) signalPid(c.process.pid, 'SIGKILL');
  await Promise.all(children.map((c) => c.exited));
}

function exitText(c: Child): string {
  const p = c.process;
  return p.signalCode !== null ? `signal ${p.signalCode}` : `code ${p.exitCode ?? 'unknown'}`;
}

/** Runs until a signal (exit 0) or until every child has exited on its own (exit 1). */
async function supervise(layout: EnsembleLayout, deps: EnsembleDeps): Promise<number> {
  let stopping = false;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const children: Child[] = [];
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    void stopAll(children).then(() => finish(code));
  };
  const dispose = deps.onSignal((s) => {
    if (stopping) {
      deps.stderr(`waitfree ensemble: ${s} again while stopping; killing every member now\n`);
      for (const c of children) if (alive(c)) signalPid(c.process.pid, 'SIGKILL');
      return;
    }
    deps.stderr(`waitfree ensemble: ${s} received, stopping ${children.length} members\n`);
    stop(EXIT_OK);
  });
  for (const m of layout.members) {
    const c = startChild(m, deps);
    children.push(c);
    // A member that dies (a crash, or a kill -9 to try failover) leaves the others running, as
    // in a real ensemble; it can be started again by hand on its files. Only when every member
    // is gone does the command end (exit 1).
    void c.exited.then(() => {
      if (stopping) return;
      const live = children.filter(alive).length;
      deps.stderr(
        `waitfree ensemble: ${m.name} (server.${m.sid}, pid ${c.process.pid ?? 'none'}) exited (${exitText(c)}); ` +
          `${live} of ${children.length} members still run. Start it again with: waitfree server --config ${m.cfg_path}\n`,
      );
      if (live === 0) stop(EXIT_FAILURE);
    });
  }
  const pids = children.map((c) => `${c.member.name}=${c.process.pid ?? 'none'}`).join(' ');
  deps.stdout(`started ${children.length} members (pids ${pids}); not waiting for them to serve\n`);
  deps.stdout(`connect string: ${layout.connect_string}\n`);
  // Signal listeners do not keep Node alive; the children's pipes do, but say it explicitly.
  const keep_alive = setInterval(() => {}, 1 << 30);
  try {
    return await done;
  } finally {
    clearInterval(keep_alive);
    dispose();
  }
}
