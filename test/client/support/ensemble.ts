// A 3-server ensemble on loopback, for client tests where the server side must really move: a
// client's server dies and the client carries its session to another member. Two kinds behind
// one interface: Apache ZooKeeper 3.8 (Debian jars, QuorumPeerMain; startEnsemble) and waitfree
// (startWaitfreeEnsemble, over test/support/ensemble.ts). Each member has its own temp dir
// (zoo.cfg, dataDir with myid).
//
// Invariants: every member is a child process we spawned (never detached) and is found again
// only by its PID; kill()/stop() signal exactly that PID; stopAll() removes exactly the temp dirs
// we created. With setpriv available, a member dies with the test process (parent-death signal).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEnsemble as startWaitfreeProcesses } from '../../support/ensemble.js';
import { fourLetter, freePort, sleep, SLF4J_SIMPLE_JAR, ZK_JAR } from '../../support/servers.js';

export interface EnsembleMember {
  id: number;
  clientPort: number;
  connectString: string;
  pid: number;
  alive(): boolean;
  /** SIGKILL: the process dies at once, as in a crash. */
  kill(): Promise<void>;
  /** Starts a killed member again with the same config and data dir. */
  restart(): void | Promise<void>;
  /** Mode from `srvr`: 'leader', 'follower', or null when not serving. */
  mode(): Promise<string | null>;
  output(): string;
}

export interface Ensemble {
  members: EnsembleMember[];
  /** All members' client addresses, comma-separated. */
  connectString: string;
  leader(): Promise<EnsembleMember>;
  followers(): Promise<EnsembleMember[]>;
  stopAll(): Promise<void>;
}

export interface EnsembleOptions {
  size?: number;
  /** reconfigEnabled, the super user `super:test` (digest), and server lines with client addresses
   *  (what /zookeeper/config then shows, and Curator's EnsembleTracker reads). */
  reconfig?: boolean;
  tickTime_ms?: number;
  maxSessionTimeout_ms?: number;
  startTimeout_ms?: number;
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;
const OUTPUT_TAIL_CHARS = 8 * 1024;

interface Ports {
  client: number;
  quorum: number;
  election: number;
}

/** The digest of `super:test`, as DigestAuthenticationProvider.superDigest takes it. */
export const SUPER_TEST_DIGEST = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=';

function memberConfig(id: number, dir: string, all: Ports[], o: Required<Omit<EnsembleOptions, 'size' | 'startTimeout_ms'>>): string {
  const lines = [
    `tickTime=${o.tickTime_ms}`,
    'initLimit=50',
    'syncLimit=20',
    `dataDir=${join(dir, 'data')}`,
    `clientPort=${all[id - 1]!.client}`,
    'clientPortAddress=127.0.0.1',
    `maxSessionTimeout=${o.maxSessionTimeout_ms}`,
    'maxClientCnxns=0',
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
    ...(o.reconfig ? ['reconfigEnabled=true'] : []),
    ...all.map((p, i) => `server.${i + 1}=127.0.0.1:${p.quorum}:${p.election}${o.reconfig ? `;127.0.0.1:${p.client}` : ''}`),
  ];
  return lines.join('\n') + '\n';
}

function spawnJava(dir: string, cfg: string, reconfig: boolean): ChildProcess {
  const args = [
    ...(reconfig ? [`-Dzookeeper.DigestAuthenticationProvider.superDigest=${SUPER_TEST_DIGEST}`] : []),
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-Dzookeeper.forceSync=no',
    '-cp',
    `${ZK_JAR}:${SLF4J_SIMPLE_JAR}`,
    'org.apache.zookeeper.server.quorum.QuorumPeerMain',
    cfg,
  ];
  const [command, argv] = SETPRIV === null ? ['java', args] : [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', 'java', ...args]];
  return spawn(command, argv, { cwd: dir, detached: false, stdio: ['ignore', 'pipe', 'pipe'] });
}

function launchMember(id: number, dir: string, cfg: string, port: number, reconfig: boolean): EnsembleMember {
  let tail = '';
  const keep = (b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  let child!: ChildProcess;
  let exited!: Promise<void>;
  const start = (): void => {
    child = spawnJava(dir, cfg, reconfig);
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const c = child;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  };
  start();
  const alive = () => child.exitCode === null && child.signalCode === null;
  const member: EnsembleMember = {
    id,
    clientPort: port,
    connectString: `127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    alive,
    async kill() {
      if (alive() && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      await exited;
    },
    restart() {
      if (alive()) throw new Error(`server ${id} is still running`);
      start();
      member.pid = child.pid ?? -1;
    },
    async mode() {
      if (!alive()) return null;
      const text = await fourLetter(port, 'srvr', 2_000).catch(() => '');
      return /Mode: (\w+)/.exec(text)?.[1] ?? null;
    },
    output: () => tail,
  };
  return member;
}

async function allocatePorts(n: number): Promise<Ports[]> {
  const ports: Ports[] = [];
  for (let i = 0; i < n; i++) ports.push({ client: await freePort(), quorum: await freePort(), election: await freePort() });
  return ports;
}

export async function startEnsemble(opts: EnsembleOptions = {}): Promise<Ensemble> {
  const size = opts.size ?? 3;
  const cfg = { tickTime_ms: opts.tickTime_ms ?? 200, maxSessionTimeout_ms: opts.maxSessionTimeout_ms ?? 30_000, reconfig: opts.reconfig ?? false };
  const root = mkdtempSync(join(tmpdir(), 'zk-ensemble-test-'));
  const ports = await allocatePorts(size);
  const members: EnsembleMember[] = [];
  for (let id = 1; id <= size; id++) {
    const dir = join(root, `server${id}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'myid'), `${id}\n`);
    const cfg_path = join(dir, 'zoo.cfg');
    writeFileSync(cfg_path, memberConfig(id, dir, ports, cfg));
    members.push(launchMember(id, dir, cfg_path, ports[id - 1]!.client, cfg.reconfig));
  }
  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.kill()));
    rmSync(root, { recursive: true, force: true });
  };
  return serving(members, members.map((m) => m.connectString).join(','), stopAll, opts.startTimeout_ms ?? 90_000);
}

/** The Ensemble over started members, once they serve (else stopped, with their output in the error). */
async function serving(members: EnsembleMember[], connectString: string, stopAll: () => Promise<void>, timeout_ms: number): Promise<Ensemble> {
  const ensemble: Ensemble = {
    members,
    connectString,
    async leader() {
      for (const m of members) if ((await m.mode()) === 'leader') return m;
      throw new Error('no leader');
    },
    async followers() {
      const out: EnsembleMember[] = [];
      for (const m of members) if ((await m.mode()) === 'follower') out.push(m);
      return out;
    },
    stopAll,
  };
  try {
    await waitServing(members, timeout_ms);
  } catch (e) {
    const outputs = members.map((m) => `--- server ${m.id} ---\n${m.output()}`).join('\n');
    await ensemble.stopAll();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\n${outputs}`);
  }
  return ensemble;
}

/** The same, as a waitfree ensemble (one `waitfree server` process per replica). */
export async function startWaitfreeEnsemble(opts: EnsembleOptions = {}): Promise<Ensemble> {
  const e = await startWaitfreeProcesses({
    replicas: opts.size ?? 3,
    extra_cfg: [
      `tickTime=${opts.tickTime_ms ?? 200}`,
      `maxSessionTimeout=${opts.maxSessionTimeout_ms ?? 30_000}`,
      ...(opts.reconfig === true ? ['reconfigEnabled=true', `DigestAuthenticationProvider.superDigest=${SUPER_TEST_DIGEST}`] : []),
    ],
  });
  const members: EnsembleMember[] = e.members.map((h) => ({
    id: h.sid,
    clientPort: h.client_port,
    connectString: `127.0.0.1:${h.client_port}`,
    get pid() {
      return h.pid;
    },
    alive: () => h.alive(),
    kill: () => e.kill(h.sid, 'SIGKILL'),
    restart: () => e.restart(h.sid),
    async mode() {
      if (!h.alive()) return null;
      return /Mode: (\w+)/.exec((await e.srvr(h.sid, 2_000)) ?? '')?.[1] ?? null;
    },
    output: () => h.output(),
  }));
  return serving(members, e.connectString, () => e.stop(), opts.startTimeout_ms ?? 60_000);
}

/** Every live member reports leader or follower. */
export async function waitServing(members: readonly EnsembleMember[], timeout_ms: number): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const modes = await Promise.all(members.filter((m) => m.alive()).map((m) => m.mode()));
    if (modes.length > 0 && modes.every((m) => m === 'leader' || m === 'follower') && modes.includes('leader')) return;
    if (members.every((m) => !m.alive())) throw new Error('every ensemble member exited');
    if (Date.now() > deadline) throw new Error(`ensemble not serving after ${timeout_ms} ms (modes: ${modes.join(', ')})`);
    await sleep(200);
  }
}
