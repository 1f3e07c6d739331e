// `--launch ensemble:N`: N waitfree replicas on 127.0.0.1, started as ZooKeeper members are
// (`node bin/waitfree.js server --config zoo.cfg`, server.N lines, dataDir/myid, initLimit,
// syncLimit, tickTime), with every replica-to-replica link through a fault proxy (peer_links.ts)
// so the partition-peers nemesis can cut them.
//
// Each member gets its own zoo.cfg: its own server.N line holds its real quorum port (it binds
// it); every other member's line holds the port of the proxy this member dials to reach it.
// Election ports are real and distinct (waitfree carries elections on the quorum port, but the
// line format needs one). A member is ready when `srvr` answers with a Mode line (leader,
// follower, observer); the target is ready when every member is.
//
// Invariants: every port in one member's config is distinct (client, quorum, election of all
// members, proxies); processes are ServerNodes addressed by PID; stop() stops them, closes the
// proxies and removes exactly the temp dir it was given.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverEnv } from '../server/huge_pages.js';
import { freePort, REPO_ROOT } from './launch.js';
import { commonCfg, type LaunchSettings } from './launch_cfg.js';
import { PeerLinks } from './peer_links.js';
import { keepLogs, ServerNode } from './server_node.js';
import type { Target } from './targets.js';

/** The ensemble sizes --launch accepts (odd: every size tolerates (N-1)/2 failures). */
export const WAITFREE_ENSEMBLE_SIZES: readonly number[] = [3, 5];
/** A follower waits initLimit ticks to sync with a new leader (large: a recovery may send a snapshot). */
export const INIT_LIMIT_TICKS = 10;
/**
 * A member hears from its leader within syncLimit ticks or leaves it. Small, so a peer partition
 * of a few seconds makes the isolated side give up and the majority elect.
 */
export const SYNC_LIMIT_TICKS = 2;
/** freePort can hand a port out twice (it is freed at once): bounded tries per port. */
const PORT_TRIES_MAX = 50;

export interface MemberPorts {
  readonly client: number;
  /** The real quorum port this member binds (peer traffic, elections included). */
  readonly quorum: number;
  readonly election: number;
}

/** The port member `from` dials to reach member `to` (from != to): a proxy's. */
export type PeerPortOf = (from: number, to: number) => number;

/** Picks 3 distinct free ports per member, none in `taken` (which gains them). */
export async function pickMemberPorts(size: number, taken: Set<number> = new Set()): Promise<MemberPorts[]> {
  const one = async (): Promise<number> => {
    for (let i = 0; i < PORT_TRIES_MAX; i++) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
    throw new Error(`no distinct free port in ${PORT_TRIES_MAX} tries`);
  };
  const out: MemberPorts[] = [];
  for (let i = 0; i < size; i++) out.push({ client: await one(), quorum: await one(), election: await one() });
  return out;
}

/** The server.N lines of member `index` (sid index + 1): its own line real, the others through proxies. */
export function serverLines(index: number, ports: readonly MemberPorts[], peer_port: PeerPortOf): string[] {
  return ports.map((p, j) => `server.${j + 1}=127.0.0.1:${j === index ? p.quorum : peer_port(index, j)}:${p.election}`);
}

/** Every member's server line with its real addresses and client part (Target.member_lines). */
export function memberLines(ports: readonly MemberPorts[]): string[] {
  return ports.map((p, j) => `server.${j + 1}=127.0.0.1:${p.quorum}:${p.election}:participant;127.0.0.1:${p.client}`);
}

/** Member `index`'s whole zoo.cfg. */
export function memberCfgText(index: number, ports: readonly MemberPorts[], peer_port: PeerPortOf, data_dir: string, s: LaunchSettings): string {
  const me = ports[index];
  if (me === undefined) throw new Error(`ensemble config: member index ${index} is not in 0..${ports.length - 1}`);
  return (
    [
      `# waitfree check: ensemble member r${index + 1} (server.${index + 1}); the other members' quorum ports are fault proxies.`,
      ...commonCfg(me.client, data_dir, s),
      // one read worker: N replicas share this machine's cores
      'waitfree.readWorkers=1',
      // the server follows data/fault.fsync_delay_us, which the slow-disk nemesis writes
      'waitfree.log.fsyncDelayUs=-1',
      `initLimit=${INIT_LIMIT_TICKS}`,
      `syncLimit=${SYNC_LIMIT_TICKS}`,
      ...serverLines(index, ports, peer_port),
    ].join('\n') + '\n'
  );
}

function memberNode(index: number, root: string, ports: readonly MemberPorts[], links: PeerLinks, s: LaunchSettings): ServerNode {
  const name = `r${index + 1}`;
  const dir = join(root, name);
  const data_dir = join(dir, 'data');
  mkdirSync(data_dir, { recursive: true });
  writeFileSync(join(data_dir, 'myid'), `${index + 1}\n`);
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(cfg, memberCfgText(index, ports, (f, t) => links.portOf(f, t), data_dir, s));
  return new ServerNode({
    name,
    command: process.execPath,
    args: [join(REPO_ROOT, 'bin', 'waitfree.js'), 'server', '--config', cfg],
    env: serverEnv(),
    cwd: dir,
    port: ports[index]!.client,
    fault_dir: data_dir,
    ready_by: 'srvr-mode',
  });
}

async function respawn(node: ServerNode, s: LaunchSettings): Promise<boolean> {
  if (!node.alive()) node.spawn();
  return node.waitReady(s.start_timeout_ms);
}

/** Starts the ensemble in `root` (which stop() removes); throws with every member's output if it does not come up. */
export async function launchWaitfreeEnsemble(size: number, s: LaunchSettings, root: string): Promise<Target> {
  if (!WAITFREE_ENSEMBLE_SIZES.includes(size)) throw new Error(`ensemble:${size}: sizes are ${WAITFREE_ENSEMBLE_SIZES.join(', ')}`);
  const taken = new Set<number>();
  const ports = await pickMemberPorts(size, taken);
  const links = await PeerLinks.start(
    ports.map((p) => p.quorum),
    taken,
  );
  const nodes = ports.map((_, i) => memberNode(i, root, ports, links, s));
  for (const n of nodes) n.spawn();
  const ready = await Promise.all(nodes.map((n) => n.waitReady(s.start_timeout_ms)));
  const target: Target = {
    description: `waitfree ensemble of ${size}, replica links through fault proxies (${nodes.map((n) => `${n.name} pid ${n.pid} port ${n.port}`).join(', ')})`,
    connect_string: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    nodes,
    peers: { links, sync_timeout_ms: SYNC_LIMIT_TICKS * s.tick_time_ms },
    member_lines: memberLines(ports),
    restart: (n) => respawn(n, s),
    stop: async (keep_logs_in) => {
      await Promise.all(nodes.map((n) => n.stop()));
      await links.close();
      if (keep_logs_in !== undefined) await keepLogs(nodes, keep_logs_in);
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (!ready.every((r) => r)) {
    const state = (n: ServerNode, i: number): string => (ready[i] ? 'ready' : n.alive() ? `no Mode in srvr within ${s.start_timeout_ms} ms` : 'exited');
    const out = nodes.map((n, i) => `--- ${n.name} (${state(n, i)}) ---\n${n.output()}`).join('\n');
    await target.stop();
    throw new Error(`the waitfree ensemble of ${size} did not start; outputs:\n${out}`);
  }
  return target;
}
