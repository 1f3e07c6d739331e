// What `waitfree check` runs against: servers it launches (waitfree standalone, a waitfree
// ensemble of 3 or 5 (waitfree_ensemble.ts), Apache ZooKeeper standalone or a 3-server ensemble),
// each in a fresh temp dir with its own data dir, or servers already running (--connect: nothing
// to crash, so the nemesis is limited to none).
//
// Invariants: every process is a ServerNode we spawned, addressed by PID; stop() stops exactly
// those and removes exactly the temp dir created here. Launched servers listen on 127.0.0.1 only.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverEnv } from '../server/huge_pages.js';
import { apacheZkAvailable, freePort, REPO_ROOT, SLF4J_SIMPLE_JAR, ZK_JAR } from './launch.js';
import { commonCfg, LAUNCH_DEFAULTS, type LaunchSettings } from './launch_cfg.js';
import type { PeerLinks } from './peer_links.js';
import { keepLogs, ServerNode } from './server_node.js';
import { launchWaitfreeEnsemble, memberLines, pickMemberPorts } from './waitfree_ensemble.js';

export { LAUNCH_DEFAULTS, type LaunchSettings } from './launch_cfg.js';

export type LaunchKind = 'standalone' | 'ensemble:3' | 'ensemble:5' | 'zookeeper' | 'zookeeper:3';
export const LAUNCH_KINDS: readonly LaunchKind[] = ['standalone', 'ensemble:3', 'ensemble:5', 'zookeeper', 'zookeeper:3'];

export type TargetSpec = { readonly kind: 'connect'; readonly hosts: string } | { readonly kind: 'launch'; readonly launch: LaunchKind };

export interface Target {
  readonly description: string;
  /** Every server's client address, comma-separated. */
  readonly connect_string: string;
  /** Processes a nemesis may crash or pause (empty with --connect). */
  readonly nodes: readonly ServerNode[];
  /** The replica-to-replica links, when they pass through fault proxies (waitfree ensembles); else null. */
  readonly peers: PeerFaults | null;
  /**
   * Each launched ensemble member's server line with its real addresses, as a reconfig names it
   * (`server.N=127.0.0.1:quorum:election:participant;127.0.0.1:client`, index N - 1); absent
   * for a single server or servers not ours.
   */
  readonly member_lines?: readonly string[];
  /** Starts a killed node again (same config and data dir); false if it was not ready in time. */
  restart(node: ServerNode): Promise<boolean>;
  /** Stops every process we started and removes our temp dir; with `keep_logs_in`, each
   *  server's output (every restart of it) is copied there first, as `<name>.log`. */
  stop(keep_logs_in?: string): Promise<void>;
}

export interface PeerFaults {
  readonly links: PeerLinks;
  /** How long a replica cut from its leader takes to notice (syncLimit x tickTime). */
  readonly sync_timeout_ms: number;
}

/** Attempts with a fresh port when a server fails to start (another process took the free port). */
const START_ATTEMPTS_MAX = 3;

const JAVA_ARGS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', `${ZK_JAR}:${SLF4J_SIMPLE_JAR}`];

function waitfreeNode(dir: string, port: number, s: LaunchSettings): ServerNode {
  const cfg = join(dir, 'waitfree.cfg');
  // fsyncDelayUs=-1: the server follows data/fault.fsync_delay_us, which the slow-disk nemesis writes.
  writeFileSync(cfg, [...commonCfg(port, join(dir, 'data'), s), 'waitfree.readWorkers=2', 'waitfree.log.fsyncDelayUs=-1'].join('\n') + '\n');
  return new ServerNode({ name: 'waitfree', command: process.execPath, args: [join(REPO_ROOT, 'bin', 'waitfree.js'), 'server', '--config', cfg], env: serverEnv(), cwd: dir, port, fault_dir: join(dir, 'data') });
}

function zkStandaloneNode(dir: string, port: number, s: LaunchSettings): ServerNode {
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(cfg, commonCfg(port, join(dir, 'data'), s).join('\n') + '\n');
  return new ServerNode({ name: 'zookeeper', command: 'java', args: [...JAVA_ARGS, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], cwd: dir, port });
}

/** Spawns a single server, retrying on a new port if it does not come up. */
async function launchSingle(make: (dir: string, port: number) => ServerNode, s: LaunchSettings, root: string): Promise<ServerNode> {
  let last = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS_MAX; attempt++) {
    const dir = join(root, `attempt${attempt}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    const node = make(dir, await freePort());
    node.spawn();
    if (await node.waitReady(s.start_timeout_ms)) return node;
    last = node.output();
    await node.stop();
  }
  throw new Error(`the server did not start (${START_ATTEMPTS_MAX} attempts); its output:\n${last}`);
}

function singleTarget(description: string, node: ServerNode, root: string, s: LaunchSettings): Target {
  return {
    description,
    connect_string: `127.0.0.1:${node.port}`,
    nodes: [node],
    peers: null,
    restart: (n) => respawn(n, s),
    stop: async (keep_logs_in) => {
      await node.stop();
      if (keep_logs_in !== undefined) await keepLogs([node], keep_logs_in);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function respawn(node: ServerNode, s: LaunchSettings): Promise<boolean> {
  if (!node.alive()) node.spawn();
  return node.waitReady(s.start_timeout_ms);
}

async function launchEnsemble(size: number, s: LaunchSettings, root: string): Promise<Target> {
  // distinct: freePort frees each port at once and may hand it out again
  const ports = await pickMemberPorts(size);
  const nodes = ports.map((p, i) => {
    const dir = join(root, `zk${i + 1}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'myid'), `${i + 1}\n`);
    const servers = ports.map((q, j) => `server.${j + 1}=127.0.0.1:${q.quorum}:${q.election}`);
    const cfg = join(dir, 'zoo.cfg');
    writeFileSync(cfg, [...commonCfg(p.client, join(dir, 'data'), s), 'initLimit=20', 'syncLimit=10', ...servers].join('\n') + '\n');
    return new ServerNode({ name: `zk${i + 1}`, command: 'java', args: [...JAVA_ARGS, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], cwd: dir, port: p.client });
  });
  for (const n of nodes) n.spawn();
  const ready = await Promise.all(nodes.map((n) => n.waitReady(s.start_timeout_ms)));
  const target: Target = {
    description: `Apache ZooKeeper ensemble of ${size} (${nodes.map((n) => `${n.name} pid ${n.pid} port ${n.port}`).join(', ')})`,
    connect_string: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    nodes,
    peers: null,
    member_lines: memberLines(ports),
    restart: (n) => respawn(n, s),
    stop: async (keep_logs_in) => {
      await Promise.all(nodes.map((n) => n.stop()));
      if (keep_logs_in !== undefined) await keepLogs(nodes, keep_logs_in);
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (!ready.every((r) => r)) {
    const out = nodes.map((n) => `--- ${n.name} ---\n${n.output()}`).join('\n');
    await target.stop();
    throw new Error(`the ensemble did not start; outputs:\n${out}`);
  }
  return target;
}

export async function openTarget(spec: TargetSpec, s: LaunchSettings = LAUNCH_DEFAULTS): Promise<Target> {
  if (spec.kind === 'connect') {
    return { description: `servers at ${spec.hosts}`, connect_string: spec.hosts, nodes: [], peers: null, restart: async () => false, stop: async () => undefined };
  }
  const apache = spec.launch === 'zookeeper' || spec.launch === 'zookeeper:3';
  if (apache && !apacheZkAvailable()) throw new Error(`Apache ZooKeeper is not installed (${ZK_JAR}, ${SLF4J_SIMPLE_JAR}, java)`);
  const root = mkdtempSync(join(tmpdir(), 'waitfree-check-'));
  try {
    if (spec.launch === 'zookeeper:3') return await launchEnsemble(3, s, root);
    if (spec.launch === 'ensemble:3') return await launchWaitfreeEnsemble(3, s, root);
    if (spec.launch === 'ensemble:5') return await launchWaitfreeEnsemble(5, s, root);
    const make = spec.launch === 'standalone' ? (d: string, p: number) => waitfreeNode(d, p, s) : (d: string, p: number) => zkStandaloneNode(d, p, s);
    const node = await launchSingle(make, s, root);
    const what = spec.launch === 'standalone' ? 'waitfree standalone' : 'Apache ZooKeeper standalone';
    return singleTarget(`${what} (pid ${node.pid}, 127.0.0.1:${node.port})`, node, root, s);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}
