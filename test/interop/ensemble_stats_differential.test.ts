// What an ensemble's leader, followers and observers say about themselves, side by side with a
// ZooKeeper 3.8 ensemble's (3 voters and an observer each, one session on each leader): the
// four-letter words' lines (srvr's Mode and the leader's proposal sizes, mntr's learner gauges,
// conf's quorum keys and membership), compared once the values that differ by nature are
// placeholders (test/support/four_letter_shape.ts), and the admin API's answers (leader,
// voting_view, zabstate, observers, server_stats, monitor...: the same fields, the same role facts).
//
// How these fail: a leader-only line or field missing or extra, a follower answering a leader's
// gauges, conf's membership or voting_view in another shape.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerNode } from '../../src/check/server_node.js';
import { pickMemberPorts } from '../../src/check/waitfree_ensemble.js';
import { freePort, SLF4J_SIMPLE_JAR, ZK_JAR } from '../../src/check/launch.js';
import { Op } from '../../src/protocol/opcodes.js';
import { startEnsemble, srvrAt, type Ensemble } from '../support/ensemble.js';
import { modeOf, serving } from '../support/ensemble_roles.js';
import { ADMIN_JARS, fourLetter } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';
import { WireClient } from '../support/wire_client.js';
import { keysOf, shape } from '../support/four_letter_shape.js';

const START_MS = 60_000;
const zk_missing = missingTools([...APACHE_ZK_FILES, ...ADMIN_JARS], true);
toolPresenceTest("Apache ZooKeeper 3.8 (Debian) and its admin server's jars", zk_missing);

/** Four ZooKeeper 3.8 members (QuorumPeerMain: three voters, an observer), client and admin ports on loopback. */
async function startZooKeeper(root: string): Promise<{ ports: number[]; admin: Map<number, number>; nodes: ServerNode[] }> {
  const ports = await pickMemberPorts(4);
  const admin = new Map<number, number>();
  for (const p of ports) admin.set(p.client, await freePort());
  // Three voters and an observer (server.4).
  const servers = ports.map((q, j) => `server.${j + 1}=127.0.0.1:${q.quorum}:${q.election}${j === 3 ? ':observer' : ''};127.0.0.1:${q.client}`);
  const nodes = ports.map((p, i) => {
    const dir = join(root, `zk${i + 1}`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'myid'), `${i + 1}\n`);
    const cfg = join(dir, 'zoo.cfg');
    const lines = [
      `dataDir=${join(dir, 'data')}`,
      'tickTime=500',
      'initLimit=20',
      'syncLimit=10',
      'admin.enableServer=true',
      'admin.serverAddress=127.0.0.1',
      `admin.serverPort=${admin.get(p.client)}`,
      '4lw.commands.whitelist=*',
      ...(i === 3 ? ['peerType=observer'] : []),
      ...servers,
    ];
    writeFileSync(cfg, lines.join('\n') + '\n');
    const cp = [ZK_JAR, SLF4J_SIMPLE_JAR, ...ADMIN_JARS].join(':');
    const args = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Dreadonlymode.enabled=true', '-cp', cp, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg];
    return new ServerNode({ name: `zk${i + 1}`, command: 'java', args, cwd: dir, port: p.client, ready_by: 'srvr-mode' });
  });
  for (const n of nodes) n.spawn();
  const ready = await Promise.all(nodes.map((n) => n.waitReady(START_MS)));
  if (!ready.every((r) => r)) throw new Error(`ZooKeeper did not start:\n${nodes.map((n) => n.output()).join('\n')}`);
  return { ports: ports.map((p) => p.client), admin, nodes };
}

type Json = Record<string, unknown>;

async function adminJson(port: number, command: string): Promise<Json> {
  const r = await fetch(`http://127.0.0.1:${port}/commands/${command}`);
  expect(r.status, `${port} ${command}`).toBe(200);
  return (await r.json()) as Json;
}

const jsonKeys = (o: unknown): string[] => Object.keys(o as Json).sort();

interface Roles {
  readonly leader: number;
  readonly follower: number;
  readonly observer: number;
}

/** Client ports of the leader, of a follower and of the observer (srvr's Mode). */
async function rolesOf(ports: readonly number[]): Promise<Roles> {
  for (let i = 0; i < 50; i++) {
    const modes = await Promise.all(ports.map(async (p) => modeOf(await srvrAt(p))));
    const leader = ports[modes.indexOf('leader')];
    const follower = ports[modes.indexOf('follower')];
    const observer = ports[modes.indexOf('observer')];
    if (leader !== undefined && follower !== undefined && observer !== undefined) return { leader, follower, observer };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no leader, follower and observer answer srvr');
}

describe.skipIf(zk_missing.length > 0)("an ensemble's four-letter words side by side with ZooKeeper 3.8's", () => {
  const root = mkdtempSync(join(tmpdir(), 'waitfree-4lw-ensemble-'));
  let zk_nodes: ServerNode[] = [];
  let zk_ports: number[] = [];
  let wf: Ensemble | null = null;
  const roles = new Map<'waitfree' | 'zookeeper', Roles>();
  /** Admin port by client port, both systems. */
  const admin_of = new Map<number, number>();
  const clients: WireClient[] = [];

  beforeAll(async () => {
    const [z, w] = await Promise.all([startZooKeeper(root), startEnsemble({ replicas: 3, observers: 1, admin: true, extra_cfg: ['readonlymode.enabled=true', 'tickTime=500', 'initLimit=20', 'syncLimit=10'] })]);
    zk_nodes = z.nodes;
    zk_ports = z.ports;
    wf = w;
    for (const [client, admin] of z.admin) admin_of.set(client, admin);
    for (const m of w.members) admin_of.set(m.client_port, m.admin_port!);
    await wf.waitFor(serving(wf), START_MS);
    roles.set('zookeeper', await rolesOf(z.ports));
    roles.set('waitfree', await rolesOf(wf.members.map((m) => m.client_port)));
    // One session on each leader, with a write (proposal sizes) and a watch.
    for (const r of roles.values()) {
      const { client, outcome } = await WireClient.connect(r.leader);
      expect(outcome.kind).toBe('connected');
      clients.push(client);
      expect((await client.request(Op.create, { path: '/fle', data: new Uint8Array(10), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 })).err).toBe(0);
      expect((await client.request(Op.getData, { path: '/fle', watch: true })).err).toBe(0);
    }
  }, 2 * START_MS);
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(zk_nodes.map((n) => n.stop()));
    await wf?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const ask = async (role: keyof Roles, word: string): Promise<[string, string]> =>
    Promise.all([fourLetter(roles.get('waitfree')![role], word), fourLetter(roles.get('zookeeper')![role], word)]);

  for (const role of ['leader', 'follower', 'observer'] as const) {
    for (const word of ['srvr', 'stat', 'cons', 'wchs', 'isro', 'dump', 'wchc', 'wchp', 'dirs', 'gtmk']) {
      it(`${role} ${word}: ZooKeeper's lines`, async () => {
        const [ours, theirs] = await ask(role, word);
        expect(shape(ours), `waitfree:\n${ours}\nzookeeper:\n${theirs}`).toEqual(shape(theirs));
      });
    }

    it(`${role} mntr: ZooKeeper's role lines; every name one of ZooKeeper's`, async () => {
      const [ours, theirs] = await ask(role, 'mntr');
      const mine = keysOf(ours, '\t').filter((k) => !k.startsWith('zk_waitfree_'));
      const zks = keysOf(theirs, '\t');
      expect(mine.filter((k) => !zks.includes(k)), 'names ZooKeeper does not print').toEqual([]);
      const role_keys = ['zk_learners', 'zk_synced_followers', 'zk_synced_non_voting_followers', 'zk_synced_observers', 'zk_pending_syncs', 'zk_last_proposal_size', 'zk_max_proposal_size', 'zk_min_proposal_size', 'zk_peer_state', 'zk_quorum_size'];
      expect(mine.filter((k) => role_keys.includes(k)), `waitfree:\n${ours}`).toEqual(zks.filter((k) => role_keys.includes(k)));
      expect(ours).toMatch(new RegExp(`^zk_server_state\\t${role}$`, 'm'));
    });

    it(`${role} admin API: the same fields as ZooKeeper's, the same role facts`, async () => {
      const ours_port = admin_of.get(roles.get('waitfree')![role])!;
      const theirs_port = admin_of.get(roles.get('zookeeper')![role])!;
      const both = (command: string) => Promise.all([adminJson(ours_port, command), adminJson(theirs_port, command)]);
      for (const command of ['leader', 'zabstate', 'observers', 'is_read_only', 'server_stats', 'stats', 'watch_summary', 'dirs', 'last_snapshot', 'voting_view']) {
        const [ours, theirs] = await both(command);
        const why = `${role} ${command}: ${JSON.stringify(ours)} vs ${JSON.stringify(theirs)}`;
        // zabstate: waitfree adds peer_state (mntr's line) to ZooKeeper's fields.
        if (command === 'zabstate') expect(jsonKeys(ours), why).toEqual(expect.arrayContaining(jsonKeys(theirs)));
        else expect(jsonKeys(ours), why).toEqual(jsonKeys(theirs));
      }
      const [lead_ours, lead_theirs] = await both('leader');
      expect(lead_ours['is_leader']).toBe(role === 'leader');
      expect(lead_theirs['is_leader']).toBe(role === 'leader');
      const [zab_ours, zab_theirs] = await both('zabstate');
      expect({ voting: zab_ours['voting'], zabstate: zab_ours['zabstate'] }).toEqual({ voting: zab_theirs['voting'], zabstate: zab_theirs['zabstate'] });
      const [srvr_ours, srvr_theirs] = await both('server_stats');
      expect(jsonKeys(srvr_ours['server_stats'])).toEqual(jsonKeys(srvr_theirs['server_stats']));
      expect(srvr_ours['server_stats']).toMatchObject({ server_state: role });
      const [vv_ours, vv_theirs] = await both('voting_view');
      // The same members; each one's text is 3.9's "addr:quorum:election:type;client" here, where
      // 3.8.0 serializes the QuorumServer object.
      expect(jsonKeys(vv_ours['current_config'])).toEqual(jsonKeys(vv_theirs['current_config']));
      // The leader's session expiry buckets; a learner's tracker has none.
      const [dump_ours, dump_theirs] = await both('dump');
      const buckets = (d: Json) => Object.keys(d['expiry_time_to_session_ids'] as Json).length;
      expect(buckets(dump_ours) > 0, `${JSON.stringify(dump_ours)} vs ${JSON.stringify(dump_theirs)}`).toBe(buckets(dump_theirs) > 0);
      expect(buckets(dump_ours) > 0).toBe(role === 'leader');
      const [mon_ours, mon_theirs] = await both('monitor');
      const extra = jsonKeys(mon_ours).filter((k) => !k.startsWith('waitfree_') && !jsonKeys(mon_theirs).includes(k));
      expect(extra, 'monitor names ZooKeeper does not answer').toEqual([]);
    });

    it(`${role} conf: ZooKeeper's keys, and its membership lines`, async () => {
      const [ours, theirs] = await ask(role, 'conf');
      expect(keysOf(ours, '=')).toEqual(expect.arrayContaining(keysOf(theirs, '=')));
      // The same settings on both sides (tickTime, initLimit, syncLimit, the rest defaults) give
      // the same values; ports, paths, sizes and ids differ by nature.
      const values = (t: string) => new Map(t.split('\n').filter((l) => l.includes('=') && !l.startsWith('server.')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      const mine = values(ours);
      const differing = [...values(theirs)]
        .filter(([k]) => !/port|Port|dataDir|dataLogDir|Size|serverId|version/.test(k))
        .filter(([k, v]) => mine.get(k) !== v)
        .map(([k, v]) => `${k}: ${mine.get(k)} (ZooKeeper ${v})`);
      expect(differing, `waitfree:\n${ours}\nzookeeper:\n${theirs}`).toEqual([]);
      const membership = (t: string) => shape(t.slice(t.indexOf('membership:')));
      expect(membership(ours), `waitfree:\n${ours}\nzookeeper:\n${theirs}`).toEqual(membership(theirs));
    });
  }
  // Last: it stops the leader and a follower of each ensemble (readonlymode.enabled on both).
  it("read-only mode: the last voter, cut off from its quorum, says what ZooKeeper's says", async () => {
    const w = wf!;
    const wf_roles = roles.get('waitfree')!;
    const zk_roles = roles.get('zookeeper')!;
    // The voter left: neither the leader nor the follower the tests above used.
    const zk_voters = zk_ports.slice(0, 3);
    const zk_last = zk_voters.find((p) => p !== zk_roles.leader && p !== zk_roles.follower)!;
    const wf_voters = w.members.filter((m) => m.role === 'participant');
    const wf_last = wf_voters.find((m) => m.client_port !== wf_roles.leader && m.client_port !== wf_roles.follower)!;
    await Promise.all([
      ...zk_nodes.filter((_, i) => zk_ports[i] === zk_roles.leader || zk_ports[i] === zk_roles.follower).map((n) => n.stop()),
      ...wf_voters.filter((m) => m !== wf_last).map((m) => w.kill(m.sid, 'SIGKILL')),
    ]);
    const readOnly = async (port: number): Promise<boolean> => {
      for (let i = 0; i < 200; i++) {
        if ((await fourLetter(port, 'isro').catch(() => '')) === 'ro') return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    expect(await readOnly(zk_last), 'ZooKeeper read-only').toBe(true);
    expect(await readOnly(wf_last.client_port), 'waitfree read-only').toBe(true);
    for (const word of ['srvr', 'isro', 'wchs']) {
      const [ours, theirs] = await Promise.all([fourLetter(wf_last.client_port, word), fourLetter(zk_last, word)]);
      expect(shape(ours), `${word} waitfree:\n${ours}\nzookeeper:\n${theirs}`).toEqual(shape(theirs));
    }
    const [ours, theirs] = await Promise.all([fourLetter(wf_last.client_port, 'mntr'), fourLetter(zk_last, 'mntr')]);
    expect(ours).toMatch(/^zk_server_state\tread-only$/m);
    expect(theirs).toMatch(/^zk_server_state\tread-only$/m);
    const zks = keysOf(theirs, '\t');
    expect(keysOf(ours, '\t').filter((k) => !k.startsWith('zk_waitfree_') && !zks.includes(k)), 'names ZooKeeper does not print').toEqual([]);
    // The admin API of a read-only member.
    const both = (command: string) => Promise.all([adminJson(admin_of.get(wf_last.client_port)!, command), adminJson(admin_of.get(zk_last)!, command)]);
    const [isro_ours, isro_theirs] = await both('is_read_only');
    expect(isro_ours).toEqual(isro_theirs);
    expect(isro_ours['read_only']).toBe(true);
    const [srvr_ours, srvr_theirs] = await both('server_stats');
    expect(jsonKeys(srvr_ours)).toEqual(jsonKeys(srvr_theirs));
    expect({ read_only: srvr_ours['read_only'], state: (srvr_ours['server_stats'] as Json)['server_state'] }).toEqual({
      read_only: srvr_theirs['read_only'],
      state: (srvr_theirs['server_stats'] as Json)['server_state'],
    });
  }, 60_000);
});
