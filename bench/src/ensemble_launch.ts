// Ensembles for the benchmark runner: N replicas of waitfree (`node bin/waitfree.js server
// --config rN/zoo.cfg`, files written by src/config/ensemble_layout.ts as `waitfree ensemble`
// writes them) or of Apache ZooKeeper (QuorumPeerMain from the Debian jars), on 127.0.0.1, with
// the standalone launcher's settings (src/check/launch.ts: throttle, connection limit, fsync
// policy, heap) plus the quorum timing (tickTime, initLimit, syncLimit), the same for both.
//
// Invariants: every member is a ServerNode (src/check/server_node.ts) we spawned, addressed only
// by its PID; kill() is SIGKILL of that PID; stop() stops every member and removes exactly the
// temp dir created here. A member is serving when its `srvr` answers with a Mode line.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fourLetter } from '../../dist/check/four_letter.js';
import { ServerNode } from '../../dist/check/server_node.js';
import { serverEnv } from '../../dist/server/huge_pages.js';
import { pickMemberPorts, type MemberPorts as CheckPorts } from '../../dist/check/waitfree_ensemble.js';
import { checkExtraCfg, planLayout, writeLayout, type MemberPorts } from '../../dist/config/ensemble_layout.js';
import { apacheZkAvailable, REPO_ROOT, SLF4J_SIMPLE_JAR, waitfreeBin, waitfreeFsyncKey, ZK_JAR, type FsyncPolicy, type ServerKind } from '../../dist/check/launch.js';

/** ZooKeeper's quorum timing: every limit is in ticks. */
export interface QuorumTiming {
  readonly tick_ms: number;
  readonly init_limit: number;
  readonly sync_limit: number;
}

/** ZooKeeper's defaults of the sample zoo.cfg (and of ensemble_layout.ts). */
export const DEFAULT_TIMING: QuorumTiming = { tick_ms: 2000, init_limit: 10, sync_limit: 5 };

export interface EnsembleLaunchOptions {
  readonly replicas: number;
  readonly fsync: FsyncPolicy;
  readonly heap_mb: number;
  readonly read_workers: number | undefined;
  readonly data_root: string | undefined;
  readonly timing: QuorumTiming;
  readonly extra_config: readonly string[];
  /** waitfree only: another checkout whose build runs; null = this one. */
  readonly waitfree_root?: string | null;
  readonly global_outstanding_limit?: number;
  readonly start_timeout_ms?: number;
  /** ZooKeeper only: more jars on its class path (Netty's resolver and codec, which its TLS needs). */
  readonly class_path_extra?: readonly string[];
}

export type MemberMode = 'leader' | 'follower' | 'observer' | 'standalone';

export interface BenchMember {
  readonly sid: number;
  readonly port: number;
  /** The current process's PID; null when it never started. */
  pid(): number | null;
  alive(): boolean;
  /** Mode from `srvr`; null when it does not answer with one (down, electing, syncing). */
  mode(timeout_ms?: number): Promise<MemberMode | null>;
  /** SIGKILL, as a crash; resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts a killed member again on its config and data; resolves once it serves (else throws). */
  restart(timeout_ms?: number): Promise<void>;
}

export interface LaunchedEnsemble {
  readonly kind: ServerKind;
  readonly connect: string;
  readonly members: readonly BenchMember[];
  readonly fsync_policy: string;
  readonly heap: string;
  readonly command: string;
  /** Member 1's config (the others differ only in ports and dirs). */
  readonly config_text: string;
  /** PIDs of the members running now (their CPU is the server's). */
  pids(): number[];
  alive(): boolean;
  output(): string;
  /** The member that says "Mode: leader"; throws naming every member's mode when there is none. */
  leader(timeout_ms?: number): Promise<BenchMember>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;
const SRVR_TIMEOUT_MS = 1_000;
const LEADER_POLL_MS = 100;
const MODES: readonly MemberMode[] = ['leader', 'follower', 'observer', 'standalone'];

function commonLines(o: EnsembleLaunchOptions): string[] {
  return [
    `tickTime=${o.timing.tick_ms}`,
    `initLimit=${o.timing.init_limit}`,
    `syncLimit=${o.timing.sync_limit}`,
    'maxClientCnxns=0',
    `globalOutstandingLimit=${o.global_outstanding_limit ?? 2000}`,
    '4lw.commands.whitelist=*',
  ];
}

function checkOptions(o: EnsembleLaunchOptions): void {
  if (!Number.isInteger(o.replicas) || o.replicas < 3 || o.replicas > 9) throw new Error(`ensemble of ${o.replicas}: 3..9 replicas (use the standalone launcher for 1)`);
  const t = o.timing;
  if (!(t.tick_ms >= 10 && t.init_limit >= 1 && t.sync_limit >= 1)) throw new Error(`quorum timing ${JSON.stringify(t)}: tick_ms >= 10, limits >= 1`);
}

async function modeOf(port: number, timeout_ms: number): Promise<MemberMode | null> {
  const text = await fourLetter(port, 'srvr', timeout_ms).catch(() => '');
  const m = /^Mode: (\w+)/m.exec(text)?.[1];
  return MODES.find((x) => x === m) ?? null;
}

function member(sid: number, node: ServerNode, start_timeout_ms: number): BenchMember {
  return {
    sid,
    port: node.port,
    pid: () => node.pid,
    alive: () => node.alive(),
    mode: (timeout_ms = SRVR_TIMEOUT_MS) => (node.alive() ? modeOf(node.port, timeout_ms) : Promise.resolve(null)),
    kill: () => node.kill(),
    restart: async (timeout_ms = start_timeout_ms) => {
      if (node.alive()) throw new Error(`${node.name} (pid ${node.pid}) is still running`);
      node.spawn();
      if (!(await node.waitReady(timeout_ms))) throw new Error(`${node.name} did not serve again within ${timeout_ms} ms:\n${node.output()}`);
    },
  };
}

function waitfreeNodes(o: EnsembleLaunchOptions, root: string, ports: readonly CheckPorts[]): { nodes: ServerNode[]; cfg_text: string } {
  const fsync_key = waitfreeFsyncKey();
  const extra = [...commonLines(o), 'admin.enableServer=false'];
  if (fsync_key !== null) extra.push(`${fsync_key.name}=${o.fsync === 'always' ? 'always' : 'none'}`);
  if (o.read_workers !== undefined) extra.push(`waitfree.readWorkers=${o.read_workers}`);
  extra.push(...o.extra_config);
  const text = extra.join('\n') + '\n';
  checkExtraCfg(text, 'bench config');
  const layout_ports: MemberPorts[] = ports.map((p) => ({ client_port: p.client, quorum_port: p.quorum, election_port: p.election, admin_port: null }));
  const layout = planLayout(root, o.replicas, 0, layout_ports);
  writeLayout(layout, { text, source: 'bench config' });
  const bin = waitfreeBin(o.waitfree_root ?? undefined);
  const nodes = layout.members.map(
    (m) =>
      new ServerNode({
        name: `waitfree r${m.sid}`,
        command: process.execPath,
        args: [`--max-old-space-size=${o.heap_mb}`, bin, 'server', '--config', m.cfg_path],
        env: serverEnv(),
        cwd: m.dir,
        port: m.ports.client_port,
        ready_by: 'srvr-mode',
      }),
  );
  // For the record: member 1's whole file as the server reads it (server.N lines included).
  const cfg_text = readFileSync(layout.members[0]!.cfg_path, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).join('\n');
  return { nodes, cfg_text };
}

function zookeeperNodes(o: EnsembleLaunchOptions, root: string, ports: readonly CheckPorts[]): { nodes: ServerNode[]; cfg_text: string } {
  const force = o.fsync === 'always' ? 'yes' : 'no';
  const servers = ports.map((q, j) => `server.${j + 1}=127.0.0.1:${q.quorum}:${q.election}`);
  let first = '';
  const nodes = ports.map((p, i) => {
    const dir = join(root, `zk${i + 1}`);
    const data = join(dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'myid'), `${i + 1}\n`);
    const cfg = [...commonLines(o), `dataDir=${data}`, `clientPort=${p.client}`, 'clientPortAddress=127.0.0.1', 'admin.enableServer=false', `forceSync=${force}`, ...o.extra_config, ...servers];
    const cfg_path = join(dir, 'zoo.cfg');
    writeFileSync(cfg_path, cfg.join('\n') + '\n');
    if (i === 0) first = cfg.join('\n');
    const args = [
      `-Xms${o.heap_mb}m`,
      `-Xmx${o.heap_mb}m`,
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      `-Dzookeeper.forceSync=${force}`,
      `-Dzookeeper.globalOutstandingLimit=${o.global_outstanding_limit ?? 2000}`,
      '-cp',
      [ZK_JAR, SLF4J_SIMPLE_JAR, ...(o.class_path_extra ?? [])].join(':'),
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      cfg_path,
    ];
    return new ServerNode({ name: `zookeeper zk${i + 1}`, command: 'java', args, cwd: dir, port: p.client, ready_by: 'srvr-mode' });
  });
  return { nodes, cfg_text: first };
}

function policyOf(kind: ServerKind, fsync: FsyncPolicy): string {
  if (kind === 'zookeeper') return fsync === 'always' ? 'fsync on commit (forceSync=yes, group commit) on every replica' : 'txn log written, no fsync (forceSync=no)';
  const key = waitfreeFsyncKey();
  if (key === null) return 'no durable log (in memory)';
  return fsync === 'always' ? `fsync on commit (${key.name}=always) on every replica` : `no fsync (${key.name}=none)`;
}

/** Starts `o.replicas` members of `kind` and waits until each serves with exactly one leader. */
export async function launchEnsemble(kind: ServerKind, o: EnsembleLaunchOptions): Promise<LaunchedEnsemble> {
  checkOptions(o);
  if (kind === 'zookeeper' && !apacheZkAvailable()) throw new Error(`Apache ZooKeeper is not installed (${ZK_JAR}; apt-get install zookeeper)`);
  const root = mkdtempSync(join(o.data_root ?? tmpdir(), `${kind}-ensemble-bench-`));
  const start_timeout_ms = o.start_timeout_ms ?? START_TIMEOUT_MS;
  let built: { nodes: ServerNode[]; cfg_text: string };
  try {
    const ports = await pickMemberPorts(o.replicas);
    built = kind === 'waitfree' ? waitfreeNodes(o, root, ports) : zookeeperNodes(o, root, ports);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const { nodes, cfg_text } = built;
  const members = nodes.map((n, i) => member(i + 1, n, start_timeout_ms));
  const output = (): string => nodes.map((n) => `--- ${n.name} (pid ${n.pid}, ${n.alive() ? 'running' : 'exited'}) ---\n${n.output()}`).join('\n');
  const ensemble: LaunchedEnsemble = {
    kind,
    connect: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    members,
    fsync_policy: policyOf(kind, o.fsync),
    heap: kind === 'zookeeper' ? `JVM -Xms${o.heap_mb}m -Xmx${o.heap_mb}m per replica` : `V8 --max-old-space-size=${o.heap_mb} MiB per isolate per replica`,
    command: [nodes[0]!.spec.command, ...nodes[0]!.spec.args].join(' '),
    config_text: cfg_text,
    pids: () => nodes.filter((n) => n.alive() && n.pid !== null).map((n) => n.pid!),
    alive: () => nodes.every((n) => n.alive()),
    output,
    leader: (timeout_ms = 10_000) => findLeader(members, timeout_ms),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  for (const n of nodes) n.spawn();
  const ready = await Promise.all(nodes.map((n) => n.waitReady(start_timeout_ms)));
  if (!ready.every((r) => r)) {
    const out = output();
    await ensemble.stop();
    throw new Error(`${kind} ensemble of ${o.replicas} did not serve within ${start_timeout_ms} ms:\n${out}`);
  }
  await ensemble.leader(start_timeout_ms).catch(async (e: unknown) => {
    await ensemble.stop();
    throw e;
  });
  return ensemble;
}

/** Polls `srvr` on every live member until exactly one says leader. */
export async function findLeader(members: readonly BenchMember[], timeout_ms: number): Promise<BenchMember> {
  const deadline = performance.now() + timeout_ms;
  let modes: (MemberMode | null)[] = [];
  for (;;) {
    modes = await Promise.all(members.map((m) => m.mode()));
    const leaders = members.filter((_, i) => modes[i] === 'leader');
    if (leaders.length === 1) return leaders[0]!;
    if (performance.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, LEADER_POLL_MS));
  }
  throw new Error(`no single leader after ${timeout_ms} ms (modes: ${members.map((m, i) => `${m.sid}=${modes[i] ?? 'none'}`).join(', ')})`);
}
