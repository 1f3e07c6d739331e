// reconfig against Apache ZooKeeper 3.8 and waitfree, side by side: a 3-member ensemble of each
// with reconfigEnabled and a super user, the same kazoo requests (test/support/reconfig_cases.py:
// who may, which error comes first, a stale version, malformed ids and server strings, too few
// voters, observers added and removed, voters none of which is synced, a follower that leaves,
// comes back, becomes an observer and a voter again), and the outcomes must be equal. The config
// texts differ in their ports only, so the script prints what they say about roles, not the texts.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerNode } from '../../src/check/server_node.js';
import { pickMemberPorts } from '../../src/check/waitfree_ensemble.js';
import { srvrAt, startEnsemble, type Ensemble } from '../support/ensemble.js';
import { KAZOO_FILES } from '../support/ensemble_kazoo.js';
import { modeOf, serving } from '../support/ensemble_roles.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';
import { REPO_ROOT, SLF4J_SIMPLE_JAR, ZK_JAR } from '../../src/check/launch.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(REPO_ROOT, 'test', 'support', 'reconfig_cases.py');
const SUPER_DIGEST = `super:${createHash('sha1').update('super:test').digest('base64')}`;
const START_MS = 60_000;
const SCRIPT_MS = 60_000;
const TEST_MS = 240_000;

const missing = missingTools([...APACHE_ZK_FILES, '/usr/bin/java', ...KAZOO_FILES], true);
toolPresenceTest('Apache ZooKeeper 3.8 and kazoo (apt-get install -y zookeeper python3-kazoo)', missing);

function runCases(hosts: string, taken_port: number, follower: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, hosts, String(taken_port), String(follower)], { timeout: SCRIPT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr.slice(-3000)}`));
      else resolve(stdout.trim().split('\n'));
    });
  });
}

/** Three ZooKeeper 3.8 members (QuorumPeerMain) with reconfigEnabled and the super digest. */
async function startZooKeeper(root: string): Promise<{ hosts: string; quorum1: number; nodes: ServerNode[] }> {
  const ports = await pickMemberPorts(3);
  const servers = ports.map((q, j) => `server.${j + 1}=127.0.0.1:${q.quorum}:${q.election};127.0.0.1:${q.client}`);
  const nodes = ports.map((p, i) => {
    const dir = join(root, `zk${i + 1}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'myid'), `${i + 1}\n`);
    const cfg = join(dir, 'zoo.cfg');
    const lines = [`dataDir=${join(dir, 'data')}`, 'tickTime=500', 'initLimit=20', 'syncLimit=10', 'admin.enableServer=false', '4lw.commands.whitelist=*', 'reconfigEnabled=true', ...servers];
    writeFileSync(cfg, lines.join('\n') + '\n');
    const args = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dzookeeper.DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`, '-cp', `${ZK_JAR}:${SLF4J_SIMPLE_JAR}`, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg];
    return new ServerNode({ name: `zk${i + 1}`, command: 'java', args, cwd: dir, port: p.client, ready_by: 'srvr-mode' });
  });
  for (const n of nodes) n.spawn();
  const ready = await Promise.all(nodes.map((n) => n.waitReady(START_MS)));
  if (!ready.every((r) => r)) throw new Error(`ZooKeeper did not start:\n${nodes.map((n) => n.output()).join('\n')}`);
  return { hosts: ports.map((p) => `127.0.0.1:${p.client}`).join(','), quorum1: ports[0]!.quorum, nodes };
}

/** The id (1-based position in `client_ports`) of a member that answers `srvr` as a follower. */
async function followerOf(client_ports: readonly number[]): Promise<number> {
  for (let i = 0; i < client_ports.length; i++) if (modeOf(await srvrAt(client_ports[i]!)) === 'follower') return i + 1;
  throw new Error('no follower answers srvr');
}

describe.skipIf(missing.length > 0)('reconfig: waitfree answers as Apache ZooKeeper 3.8', () => {
  const root = mkdtempSync(join(tmpdir(), 'waitfree-reconfig-diff-'));
  let zk: ServerNode[] = [];
  let wf: Ensemble | null = null;
  afterAll(async () => {
    await Promise.all(zk.map((n) => n.stop()));
    await wf?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('the same outcome for every request, in the same order', async () => {
    const z = await startZooKeeper(root);
    zk = z.nodes;
    const on_zookeeper = await runCases(z.hosts, z.quorum1, await followerOf(z.hosts.split(',').map((h) => Number(h.split(':')[1]))));
    await Promise.all(zk.map((n) => n.stop()));
    zk = [];

    wf = await startEnsemble({ replicas: 3, extra_cfg: ['reconfigEnabled=true', `DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`] });
    await wf.waitFor(serving(wf), START_MS);
    const on_waitfree = await runCases(wf.connectString, wf.member(1).quorum_port, await followerOf(wf.members.map((m) => m.client_port)));

    // Sanity: the run did what it says (errors and successes both present).
    expect(on_zookeeper).toContain('user-joins-observer NoAuthError');
    expect(on_zookeeper).toContain('admin-leaves-observer OK server.102 stat.version -1 version-is-mzxid True');
    expect(on_zookeeper.some((l) => l.startsWith('admin-observer-to-voter OK voters server.1,server.2,server.3'))).toBe(true);
    expect(on_waitfree).toEqual(on_zookeeper);
  }, TEST_MS);
});
