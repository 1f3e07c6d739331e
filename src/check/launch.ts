// Launchers for loopback servers (the servers `waitfree check --launch` tests; benchmarks and
// tests use them too): waitfree (`node bin/waitfree.js server`) and Apache ZooKeeper 3.8 from
// Debian (ZooKeeperServerMain on the system Java), with configurations equal in spirit: same
// throttle, same connection limit, same fsync policy where waitfree has one, same heap budget,
// data dirs of the same kind (fresh dirs under one root).
//
// Invariants: every server is a child process we spawned (not detached), found again only by its
// PID; stop() signals exactly that PID and removes exactly the directory we created. Under
// setpriv the kernel kills the server if this process dies first.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_KEYS, type KeySpec } from '../config/server_config.js';
import { serverEnv } from '../server/huge_pages.js';
import { JuteWriter, decodeConnectResponse, encodeConnectRequest } from '../protocol/index.js';

export type ServerKind = 'waitfree' | 'zookeeper';
export type FsyncPolicy = 'always' | 'none';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ZK_JAR = '/usr/share/java/zookeeper.jar';
export const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';

const STOP_GRACE_MS = 5_000;
const POLL_MS = 100;
const OUTPUT_TAIL_CHARS = 16 * 1024;

export interface LaunchOptions {
  /** 0 = a free port chosen here. */
  readonly port?: number;
  /** Parent of the server's fresh temp dir (both systems use the same root). Default os.tmpdir(). */
  readonly data_root?: string;
  /** JVM -Xms/-Xmx, or V8 --max-old-space-size per isolate, in MiB. */
  readonly heap_mb?: number;
  readonly fsync?: FsyncPolicy;
  /** Requests in process before the server stops reading (the paper's servers: 2,000). */
  readonly global_outstanding_limit?: number;
  readonly tick_time_ms?: number;
  /** waitfree only. */
  readonly read_workers?: number;
  /** waitfree only: the checkout whose bin/waitfree.js (and its build) runs; default this one.
   *  Benchmarks compare two builds this way (`--systems waitfree,waitfree@../base`). */
  readonly waitfree_root?: string;
  /** ZooKeeper only: extra JVM options before the main class (e.g. -XX:+UseTransparentHugePages). */
  readonly jvm_args?: readonly string[];
  /** ZooKeeper only: jars added to its class path (its Netty TLS port needs netty's resolver and codec). */
  readonly class_path_extra?: readonly string[];
  /** Extra zoo.cfg lines (KEY=VALUE) for this server. */
  readonly extra_config?: readonly string[];
  readonly start_timeout_ms?: number;
}

export interface LaunchedServer {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly port: number;
  readonly connect: string;
  readonly dir: string;
  /** What the server does about fsync, in words (stated in every result). */
  readonly fsync_policy: string;
  readonly heap: string;
  /** The command line and config, for the record. */
  readonly command: string;
  /** The environment it was started with (a restart uses it again). */
  readonly env: NodeJS.ProcessEnv;
  readonly config_text: string;
  output(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

export function apacheZkAvailable(): boolean {
  return existsSync(ZK_JAR) && existsSync(SLF4J_SIMPLE_JAR) && onPath('java');
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, cmd)));
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (bound, then released). Another process may
 * take it before the caller binds it: callers that start a server on it retry with a new port
 * when the bind fails (see startServerProcess in test/durability).
 *
 * Drawn below the kernel's ephemeral range (net.ipv4.ip_local_port_range), as servers' ports are
 * in practice: a port from that range (what binding port 0 gives) can be handed out again as the
 * local port of any outgoing connection on the host while its server is down, and that
 * connection then holds it: a killed server could not listen on its port again (seen: a replica
 * restarted by `waitfree check` refused to start, EADDRINUSE on its quorum port).
 */
export async function freePort(): Promise<number> {
  const [lo, hi] = serverPortRange();
  for (let i = 0; i < FREE_PORT_TRIES; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${lo}-${hi} after ${FREE_PORT_TRIES} tries`);
}

const FREE_PORT_TRIES = 200;
/** How many ports below the ephemeral range freePort draws from. */
const SERVER_PORTS = 10_000;
const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
/** Linux's default ephemeral range, when the file cannot be read. */
const EPHEMERAL_LOW_DEFAULT = 32_768;

let server_port_range: readonly [number, number] | null = null;

/** The ports freePort draws from: the SERVER_PORTS just below the ephemeral range (at least 1024 up). */
function serverPortRange(): readonly [number, number] {
  if (server_port_range !== null) return server_port_range;
  let low = EPHEMERAL_LOW_DEFAULT;
  try {
    const first = Number(readFileSync(EPHEMERAL_RANGE_FILE, 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 1024 + 1000) low = first;
  } catch {
    // not Linux, or no /proc: the default
  }
  server_port_range = [Math.max(1024, low - SERVER_PORTS), low - 1];
  return server_port_range;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The waitfree config key that controls fsync, once the durable log has one (else null). */
export function waitfreeFsyncKey(): KeySpec | null {
  const matches = (n: string): boolean => /^(zookeeper\.)?forceSync$/i.test(n) || /fsync/i.test(n);
  return CONFIG_KEYS.find((k) => matches(k.name) || k.aliases.some(matches)) ?? null;
}

function waitfreeFsyncLine(fsync: FsyncPolicy): { line: string | null; policy: string } {
  const key = waitfreeFsyncKey();
  if (key === null) return { line: null, policy: 'no durable log yet (in memory): nothing to fsync' };
  const on = fsync === 'always';
  const value = key.type.kind === 'bool' ? String(on) : on ? 'always' : 'none';
  return { line: `${key.name}=${value}`, policy: on ? `fsync on commit (${key.name}=${value})` : `no fsync (${key.name}=${value})` };
}

function commonCfg(o: LaunchOptions, port: number): string[] {
  return [
    `tickTime=${o.tick_time_ms ?? 2000}`,
    `clientPort=${port}`,
    'clientPortAddress=127.0.0.1',
    'maxClientCnxns=0',
    `globalOutstandingLimit=${o.global_outstanding_limit ?? 2000}`,
    '4lw.commands.whitelist=*',
  ];
}

/** bin/waitfree.js of `root` (default: this checkout), checked to exist with a build beside it. */
export function waitfreeBin(root: string = REPO_ROOT): string {
  const bin = join(resolve(root), 'bin', 'waitfree.js');
  if (!existsSync(bin)) throw new Error(`waitfree launcher missing: ${bin}`);
  if (!existsSync(join(resolve(root), 'dist', 'server', 'server.js'))) throw new Error(`${resolve(root)} has no build (dist/): run npm ci && npm run build there`);
  return bin;
}

export async function launchWaitfree(o: LaunchOptions = {}): Promise<LaunchedServer> {
  const bin = waitfreeBin(o.waitfree_root);
  const port = o.port || (await freePort());
  const dir = mkdtempSync(join(o.data_root ?? tmpdir(), 'waitfree-bench-'));
  const fs = waitfreeFsyncLine(o.fsync ?? 'always');
  // No admin HTTP server (as the ZooKeeper launched below): on its default port 8080, two
  // launched servers (or one and anything else on the machine) would fight over the port.
  const cfg = [...commonCfg(o, port), `dataDir=${join(dir, 'data')}`, 'admin.enableServer=false'];
  if (o.read_workers !== undefined) cfg.push(`waitfree.readWorkers=${o.read_workers}`);
  if (fs.line !== null) cfg.push(fs.line);
  cfg.push(...(o.extra_config ?? []));
  const cfg_path = join(dir, 'waitfree.cfg');
  writeFileSync(cfg_path, cfg.join('\n') + '\n');
  const heap_mb = o.heap_mb ?? 1024;
  const args = [`--max-old-space-size=${heap_mb}`, bin, 'server', '--config', cfg_path];
  return launch({ kind: 'waitfree', command: process.execPath, args, env: serverEnv(), port, dir, cfg, o, fsync_policy: fs.policy, heap: `V8 --max-old-space-size=${heap_mb} MiB per isolate` });
}

export async function launchZooKeeper(o: LaunchOptions = {}): Promise<LaunchedServer> {
  if (!apacheZkAvailable()) throw new Error(`Apache ZooKeeper is not installed (${ZK_JAR}; apt-get install zookeeper)`);
  const port = o.port || (await freePort());
  const dir = mkdtempSync(join(o.data_root ?? tmpdir(), 'zookeeper-bench-'));
  const force = (o.fsync ?? 'always') === 'always' ? 'yes' : 'no';
  const cfg = [...commonCfg(o, port), `dataDir=${join(dir, 'data')}`, 'admin.enableServer=false', `forceSync=${force}`, ...(o.extra_config ?? [])];
  const cfg_path = join(dir, 'zoo.cfg');
  writeFileSync(cfg_path, cfg.join('\n') + '\n');
  const heap_mb = o.heap_mb ?? 1024;
  const args = [
    `-Xms${heap_mb}m`,
    `-Xmx${heap_mb}m`,
    ...(o.jvm_args ?? []),
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    `-Dzookeeper.forceSync=${force}`,
    `-Dzookeeper.globalOutstandingLimit=${o.global_outstanding_limit ?? 2000}`,
    '-cp',
    [ZK_JAR, SLF4J_SIMPLE_JAR, ...(o.class_path_extra ?? [])].join(':'),
    'org.apache.zookeeper.server.ZooKeeperServerMain',
    cfg_path,
  ];
  const policy = force === 'yes' ? 'fsync on commit (forceSync=yes, group commit)' : 'txn log written, no fsync (forceSync=no)';
  return launch({ kind: 'zookeeper', command: 'java', args, env: process.env, port, dir, cfg, o, fsync_policy: policy, heap: [`JVM -Xms${heap_mb}m -Xmx${heap_mb}m`, ...(o.jvm_args ?? [])].join(' ') });
}

export function launchServer(kind: ServerKind, o: LaunchOptions = {}): Promise<LaunchedServer> {
  return kind === 'waitfree' ? launchWaitfree(o) : launchZooKeeper(o);
}

interface Spec {
  kind: ServerKind;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  dir: string;
  cfg: string[];
  o: LaunchOptions;
  fsync_policy: string;
  heap: string;
}

// Children still running, killed if this process exits without stopping them.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) if (c.pid !== undefined && c.exitCode === null) signal(c.pid, 'SIGKILL');
});

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

async function launch(spec: Spec): Promise<LaunchedServer> {
  // setpriv execs the server in place, so the PID we get is the server's own.
  const [command, args] = SETPRIV === null ? [spec.command, spec.args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', spec.command, ...spec.args]];
  const child = spawn(command, args, { cwd: spec.dir, env: spec.env, detached: false, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (b: Buffer): void => {
    tail = (tail + b.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  live.add(child);
  void exited.then(() => live.delete(child));
  const server: LaunchedServer = {
    kind: spec.kind,
    pid: child.pid ?? -1,
    port: spec.port,
    connect: `127.0.0.1:${spec.port}`,
    dir: spec.dir,
    fsync_policy: spec.fsync_policy,
    heap: spec.heap,
    command: [spec.command, ...spec.args].join(' '),
    env: spec.env,
    config_text: spec.cfg.join('\n'),
    output: () => tail,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopChild(child, exited, spec.dir),
  };
  try {
    await waitReady(server, spec.o.start_timeout_ms ?? 60_000);
  } catch (e) {
    await server.stop();
    throw new Error(`${spec.kind} did not start on port ${spec.port}: ${e instanceof Error ? e.message : String(e)}\n--- output ---\n${tail}`);
  }
  return server;
}

async function waitReady(server: LaunchedServer, timeout_ms: number): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    if (!server.alive()) throw new Error('process exited');
    if (await handshakeOk(server.port, 2_000)) return;
    await sleep(POLL_MS);
  }
  throw new Error(`no session accepted after ${timeout_ms} ms`);
}

/** closeSession (opcode -11) with xid 1: a request header and no body. */
const CLOSE_SESSION_FRAME = Buffer.from([0, 0, 0, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xf5]);

/**
 * Readiness probe: opens a session (ConnectRequest through the project's codec) and, once it is
 * granted, closes it again (closeSession, waiting for the reply or the server's close), so a probe
 * leaves no session behind to hold server state until its 30 s timeout.
 */
export function handshakeOk(port: number, timeout_ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    /** The session was granted; now waiting for closeSession's reply (or the close). */
    let granted = false;
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(granted), timeout_ms);
    sock.on('connect', () => {
      const w = new JuteWriter(64);
      encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }, w);
      sock.write(w.toBytes());
    });
    sock.on('data', (b: Buffer) => {
      got = Buffer.concat([got, b]);
      if (got.length < 4 || got.length < 4 + got.readInt32BE(0)) return;
      // Any frame after the ConnectResponse is closeSession's reply: the session is gone.
      if (granted) return finish(true);
      const len = got.readInt32BE(0);
      if (decodeConnectResponse(got.subarray(4, 4 + len)).timeOut <= 0) return finish(false);
      granted = true;
      got = got.subarray(4 + len);
      sock.write(CLOSE_SESSION_FRAME);
    });
    sock.on('error', () => finish(granted));
    sock.on('close', () => finish(granted));
  });
}

/** Stops a child by its PID (SIGTERM, then SIGKILL after a grace period) and removes its dir. */
export async function stopChild(child: ChildProcess, exited: Promise<void>, dir: string): Promise<void> {
  const pid = child.pid;
  if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
    signal(pid, 'SIGTERM');
    const timed_out = await Promise.race([exited.then(() => false), sleep(STOP_GRACE_MS).then(() => true)]);
    if (timed_out) {
      signal(pid, 'SIGKILL');
      await exited;
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already exited.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
