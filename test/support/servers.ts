// Launchers for the servers the interop suites run against: waitfree (`node bin/waitfree.js
// server`) and Apache ZooKeeper 3.8 from Debian (ZooKeeperServerMain on Java 17). Both go through
// the same interface so every suite can run against either one.
//
// Invariants: every server is a child process we spawned (never detached), found again only by
// its PID; stop() kills exactly that PID and removes exactly the temp dir we created.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fourLetter as fourLetterWord } from '../../src/check/four_letter.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild } from '../../src/check/launch.js';
import { serverEnv } from '../../src/server/huge_pages.js';

export type ServerKind = 'waitfree' | 'zookeeper';

export interface ServerOptions {
  tickTime_ms?: number;
  minSessionTimeout_ms?: number;
  maxSessionTimeout_ms?: number;
  /** `user:base64(sha1(user:pw))`; clients authenticated as `super:pw` bypass ACLs. */
  superDigest?: string;
  /** TTL nodes need this (default true here, as the suites exercise createTTL). */
  extendedTypesEnabled?: boolean;
  /** Container/TTL reaper period; default 1000 ms so tests see reaping quickly. */
  containerCheckInterval_ms?: number;
  /** How long to wait for the server to accept sessions. */
  startTimeout_ms?: number;
  /** SASL DIGEST-MD5 users (name -> password): a JAAS file with their Server section, and the
   *  SASL provider named in zoo.cfg (ZooKeeper knows the sasl ACL scheme only then). */
  saslUsers?: Readonly<Record<string, string>>;
  /** zookeeper.enforceQuota (zoo.cfg `enforceQuota`, which ZooKeeper turns into that property). */
  enforceQuota?: boolean;
  /** A secure client port (TLS) beside the plain one, with the test/fixtures/tls key store
   *  (server.p12) and trust store (ca.pem), the x509 provider named as ZooKeeper needs it, and
   *  this certificate subject as the x509 super user. ZooKeeper serves it with its Netty factory.
   *  portUnification: the plain client port takes TLS clients too (client.portUnification). */
  tls?: { readonly clientAuth?: 'NEED' | 'WANT' | 'NONE'; readonly superUser?: string; readonly portUnification?: boolean };
  /** The admin HTTP server on a free loopback port (RunningServer.adminPort); off by default, so
   *  that parallel servers never compete for 8080. ZooKeeper's needs Jetty (ADMIN_JARS). */
  admin?: boolean;
}

/** The TLS fixtures (test/fixtures/tls/make.sh); their stores' password. */
export const TLS_FIXTURES = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
export const TLS_STORE_PASSWORD = 'changeit';

export interface RunningServer {
  kind: ServerKind;
  port: number;
  /** The secure client port (ServerOptions.tls); -1 without one. */
  securePort: number;
  pid: number;
  dataDir: string;
  connectString: string;
  /** The admin HTTP server's port (ServerOptions.admin); -1 when it is off. */
  adminPort: number;
  /** Output of the process so far (tail), for error messages. */
  output(): string;
  /** False once the process has exited. */
  alive(): boolean;
  stop(): Promise<void>;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const ZK_JAR = '/usr/share/java/zookeeper.jar';
export const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';
/** What TLS over Netty needs besides the netty jars zookeeper.jar's Class-Path lists (Debian). */
export const NETTY_TLS_JARS = ['/usr/share/java/netty-resolver.jar', '/usr/share/java/netty-codec.jar'];
/** What ZooKeeper's admin server (Jetty, Jackson) needs on the class path: Debian's
 *  libzookeeper-java depends on these packages, zookeeper.jar's Class-Path does not name them. */
export const ADMIN_JARS = [
  'servlet-api',
  'jetty9-server',
  'jetty9-servlet',
  'jetty9-http',
  'jetty9-io',
  'jetty9-util',
  'jetty9-security',
  'jackson-annotations',
  'jackson-core',
  'jackson-databind',
].map((name) => `/usr/share/java/${name}.jar`);
export const ZKCLI_PATH = '/usr/share/zookeeper/bin/zkCli.sh';
export const CLI_MT_PATH = '/usr/lib/zookeeper/bin/cli_mt';

const OUTPUT_TAIL_BYTES = 16 * 1024;
const START_TIMEOUT_MS_DEFAULT = 60_000;
const POLL_INTERVAL_MS = 100;

/** Apache ZooKeeper can be launched: the Debian jars are installed and `java` is on PATH. */
export function apacheZkAvailable(): boolean {
  return existsSync(ZK_JAR) && existsSync(SLF4J_SIMPLE_JAR) && onPath('java');
}

function onPath(cmd: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((d) => d !== '' && existsSync(join(d, cmd)));
}

/** Finds a free TCP port on 127.0.0.1 (the one in src/check/launch.ts). */
export { freePort };

/** Sends a four-letter word and returns everything the server writes before closing (the
 *  product's own, from `waitfree check`). */
export function fourLetter(port: number, cmd: string, timeout_ms = 5_000): Promise<string> {
  if (cmd.length !== 4) throw new Error(`four-letter word must be 4 chars: ${cmd}`);
  return fourLetterWord(port, cmd, timeout_ms);
}

/**
 * Opens a session with a raw ConnectRequest and closes it again (closeSession). Resolves true
 * when the server answered with a live session (timeOut > 0).
 */
export function sessionHandshake(port: number, timeout_ms = 5_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) {
        // closeSession: RequestHeader{xid 1, type -11}, no body. The server closes afterwards.
        const close = Buffer.alloc(12);
        close.writeInt32BE(8, 0);
        close.writeInt32BE(1, 4);
        close.writeInt32BE(-11, 8);
        sock.end(close);
        setTimeout(() => sock.destroy(), 1_000).unref();
      } else {
        sock.destroy();
      }
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeout_ms);
    sock.on('connect', () => sock.write(connectRequestFrame(30_000)));
    sock.on('data', (b) => {
      got = Buffer.concat([got, b]);
      if (got.length < 4) return;
      const len = got.readInt32BE(0);
      if (got.length < 4 + len) return;
      // ConnectResponse: int protocolVersion; int timeOut; long sessionId; buffer passwd; bool.
      finish(len >= 8 && got.readInt32BE(8) > 0);
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}

function connectRequestFrame(timeout_ms: number): Buffer {
  // int protocolVersion, long lastZxidSeen, int timeOut, long sessionId, buffer passwd(16), bool.
  const body = Buffer.alloc(4 + 8 + 4 + 8 + 4 + 16 + 1);
  let o = 0;
  o = body.writeInt32BE(0, o);
  o = body.writeBigInt64BE(0n, o);
  o = body.writeInt32BE(timeout_ms, o);
  o = body.writeBigInt64BE(0n, o);
  o = body.writeInt32BE(16, o);
  o += 16;
  body.writeUInt8(0, o);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

/** Keeps the last OUTPUT_TAIL_BYTES of a child's stdout + stderr. */
class OutputTail {
  private text = '';
  append(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    if (this.text.length > OUTPUT_TAIL_BYTES) this.text = this.text.slice(-OUTPUT_TAIL_BYTES);
  }
  toString(): string {
    return this.text;
  }
}

// Children still running, killed if the test process exits without stopping them.
const live_children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live_children) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

interface LaunchSpec {
  kind: ServerKind;
  command: string;
  args: string[];
  port: number;
  securePort: number;
  adminPort: number;
  dir: string;
  dataDir: string;
  startTimeout_ms: number;
}

/** The admin server's zoo.cfg lines (the same keys for both systems): off, or on loopback at a port. */
function adminCfgLines(port: number): string[] {
  if (port === -1) return ['admin.enableServer=false'];
  return ['admin.enableServer=true', 'admin.serverAddress=127.0.0.1', `admin.serverPort=${port}`];
}

function zooCfgLines(o: ServerOptions): string[] {
  const lines = [`tickTime=${o.tickTime_ms ?? 2000}`, '4lw.commands.whitelist=*'];
  if (o.minSessionTimeout_ms !== undefined) lines.push(`minSessionTimeout=${o.minSessionTimeout_ms}`);
  if (o.maxSessionTimeout_ms !== undefined) lines.push(`maxSessionTimeout=${o.maxSessionTimeout_ms}`);
  if (o.saslUsers !== undefined) lines.push('authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider');
  if (o.enforceQuota !== undefined) lines.push(`enforceQuota=${o.enforceQuota}`);
  return lines;
}

/** The zoo.cfg lines of ServerOptions.tls, the same for both kinds (ZooKeeper turns the ssl.*
 *  and X509AuthenticationProvider.* lines into zookeeper.* properties, which it reads). */
function tlsCfgLines(o: ServerOptions, secure_port: number): string[] {
  if (o.tls === undefined) return [];
  const lines = [
    `secureClientPort=${secure_port}`,
    `ssl.keyStore.location=${join(TLS_FIXTURES, 'server.p12')}`,
    `ssl.keyStore.password=${TLS_STORE_PASSWORD}`,
    `ssl.trustStore.location=${join(TLS_FIXTURES, 'ca.pem')}`,
    `ssl.clientAuth=${o.tls.clientAuth ?? 'NEED'}`,
    'authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider',
  ];
  if (o.tls.superUser !== undefined) lines.push(`X509AuthenticationProvider.superUser=${o.tls.superUser}`);
  if (o.tls.portUnification === true) lines.push('client.portUnification=true');
  return lines;
}

/** Writes `dir/jaas.conf` with the Server section for `users`; its path, or null without users.
 *  (ZooKeeper reads it from the property java.security.auth.login.config; waitfree takes the
 *  same name as a zoo.cfg line.) */
function writeServerJaas(dir: string, users: Readonly<Record<string, string>> | undefined): string | null {
  if (users === undefined) return null;
  const options = Object.entries(users).map(([user, password]) => `    user_${user}="${password}"`);
  const path = join(dir, 'jaas.conf');
  writeFileSync(path, `Server {\n    org.apache.zookeeper.server.auth.DigestLoginModule required\n${options.join('\n')};\n};\n`);
  return path;
}

export async function startWaitfree(opts: ServerOptions = {}): Promise<RunningServer> {
  const bin = join(REPO_ROOT, 'bin', 'waitfree.js');
  if (!existsSync(bin)) throw new Error(`waitfree launcher missing: ${bin}`);
  const port = await freePort();
  const securePort = opts.tls === undefined ? -1 : await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'waitfree-test-'));
  const dataDir = join(dir, 'data');
  const cfg = [...zooCfgLines(opts), ...tlsCfgLines(opts, securePort)];
  if (opts.superDigest !== undefined) cfg.push(`superDigest=${opts.superDigest}`);
  cfg.push(`zookeeper.extendedTypesEnabled=${opts.extendedTypesEnabled ?? true}`);
  cfg.push(`znode.container.checkIntervalMs=${opts.containerCheckInterval_ms ?? 1000}`);
  // Parallel test servers must not compete for the admin port (8080).
  const adminPort = opts.admin === true ? await freePort() : -1;
  cfg.push(...adminCfgLines(adminPort));
  const jaas = writeServerJaas(dir, opts.saslUsers);
  if (jaas !== null) cfg.push(`java.security.auth.login.config=${jaas}`);
  const cfgPath = join(dir, 'waitfree.cfg');
  writeFileSync(cfgPath, cfg.join('\n') + '\n');
  const args = [bin, 'server', '--port', String(port), '--data-dir', dataDir, '--config', cfgPath];
  return launch({
    kind: 'waitfree',
    command: process.execPath,
    args,
    port,
    securePort,
    adminPort,
    dir,
    dataDir,
    startTimeout_ms: opts.startTimeout_ms ?? START_TIMEOUT_MS_DEFAULT,
  });
}

export async function startApacheZk(opts: ServerOptions = {}): Promise<RunningServer> {
  if (!apacheZkAvailable()) throw new Error(`Apache ZooKeeper not installed (${ZK_JAR})`);
  const port = await freePort();
  const securePort = opts.tls === undefined ? -1 : await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'zookeeper-test-'));
  const dataDir = join(dir, 'data');
  const cfg = [...zooCfgLines(opts), ...tlsCfgLines(opts, securePort)];
  // ZooKeeper serves TLS only with its Netty connection factory (netty is on zookeeper.jar's
  // Class-Path in Debian's package).
  if (opts.tls !== undefined) cfg.push('serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory');
  cfg.push(`dataDir=${dataDir}`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1');
  const adminPort = opts.admin === true ? await freePort() : -1;
  const missing = adminPort === -1 ? [] : ADMIN_JARS.filter((j) => !existsSync(j));
  if (missing.length > 0) throw new Error(`ZooKeeper's admin server needs ${missing.join(', ')} (Debian's libjetty9-java, libjackson2-*-java)`);
  cfg.push('maxClientCnxns=0', ...adminCfgLines(adminPort));
  const cfgPath = join(dir, 'zoo.cfg');
  writeFileSync(cfgPath, cfg.join('\n') + '\n');
  const props = [
    '-Xmx512m',
    '-XX:+UseSerialGC',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    `-Dzookeeper.extendedTypesEnabled=${opts.extendedTypesEnabled ?? true}`,
    `-Dznode.container.checkIntervalMs=${opts.containerCheckInterval_ms ?? 1000}`,
    // Tests need no durability across power loss; fsync on a shared 2-core box only adds noise.
    '-Dzookeeper.forceSync=no',
  ];
  if (opts.superDigest !== undefined) {
    props.push(`-Dzookeeper.DigestAuthenticationProvider.superDigest=${opts.superDigest}`);
  }
  const jaas = writeServerJaas(dir, opts.saslUsers);
  if (jaas !== null) props.push(`-Djava.security.auth.login.config=${jaas}`);
  const args = [
    ...props,
    '-cp',
    [ZK_JAR, SLF4J_SIMPLE_JAR, ...(opts.tls === undefined ? [] : NETTY_TLS_JARS), ...(adminPort === -1 ? [] : ADMIN_JARS)].join(':'),
    'org.apache.zookeeper.server.ZooKeeperServerMain',
    cfgPath,
  ];
  return launch({
    kind: 'zookeeper',
    command: 'java',
    args,
    port,
    securePort,
    adminPort,
    dir,
    dataDir,
    startTimeout_ms: opts.startTimeout_ms ?? START_TIMEOUT_MS_DEFAULT,
  });
}

/** Starts the server of the given kind. */
export function startServer(kind: ServerKind, opts: ServerOptions = {}): Promise<RunningServer> {
  return kind === 'waitfree' ? startWaitfree(opts) : startApacheZk(opts);
}

// setpriv (util-linux) sets a parent-death signal: if the test process dies without calling
// stop() (a killed vitest worker), the kernel kills the server too instead of leaking it.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

async function launch(spec: LaunchSpec): Promise<RunningServer> {
  const [command, args] =
    SETPRIV === null ? [spec.command, spec.args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', spec.command, ...spec.args]];
  const child = spawn(command, args, {
    cwd: spec.dir,
    // waitfree as its own launchers start it (the shared tree on huge pages); ZooKeeper as is.
    env: spec.kind === 'waitfree' ? serverEnv() : process.env,
    detached: false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = new OutputTail();
  child.stdout?.on('data', (b: Buffer) => tail.append(b));
  child.stderr?.on('data', (b: Buffer) => tail.append(b));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  live_children.add(child);
  exited.then(() => live_children.delete(child));

  const server: RunningServer = {
    kind: spec.kind,
    port: spec.port,
    securePort: spec.securePort,
    pid: child.pid ?? -1,
    dataDir: spec.dataDir,
    connectString: `127.0.0.1:${spec.port}`,
    adminPort: spec.adminPort,
    output: () => tail.toString(),
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopChild(child, exited, spec.dir),
  };
  try {
    await waitReady(spec, child, spawnError);
  } catch (e) {
    await server.stop();
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${spec.kind} did not start on port ${spec.port}: ${msg}\n--- output ---\n${tail}`);
  }
  return server;
}

async function waitReady(spec: LaunchSpec, child: ChildProcess, spawnError: Promise<Error>): Promise<void> {
  const deadline = Date.now() + spec.startTimeout_ms;
  let failure: Error | null = null;
  void spawnError.then((e) => (failure = e));
  // Phase 1: `ruok` answers `imok`. Phase 2: a session handshake succeeds (ZooKeeper answers
  // ruok slightly before it accepts sessions).
  let phase: 'ruok' | 'session' = 'ruok';
  while (Date.now() < deadline) {
    if (failure !== null) throw failure;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`process exited (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    if (phase === 'ruok') {
      const reply = await fourLetter(spec.port, 'ruok', 2_000).catch(() => '');
      if (reply === 'imok') phase = 'session';
    }
    if (phase === 'session' && (await sessionHandshake(spec.port, 2_000))) return;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`not ready after ${spec.startTimeout_ms} ms (phase ${phase})`);
}


export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeout_ms` passes; throws with `what` on timeout. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeout_ms = 20_000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}`);
}

/** Which servers a suite runs against: both by default; WAITFREE_INTEROP_SERVERS=zookeeper,waitfree. */
export function serverKindsUnderTest(): ServerKind[] {
  const env = process.env.WAITFREE_INTEROP_SERVERS;
  if (env === undefined || env === '') return ['waitfree', 'zookeeper'];
  return env.split(',').map((s) => {
    const k = s.trim();
    if (k !== 'waitfree' && k !== 'zookeeper') throw new Error(`bad WAITFREE_INTEROP_SERVERS entry: ${k}`);
    return k;
  });
}
