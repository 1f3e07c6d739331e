// `waitfree check` against ensembles: the waitfree ensemble target's configs (each member binds
// its own real quorum port and reaches every other member through a fault proxy; waitfree's own
// config loader accepts them), the replica links those proxies form (isolating one member cuts
// exactly its links, both ways, and healing restores them), --nemesis-target (leader / follower
// found by srvr's Mode, polling through an election, falling back to random), and real runs:
// Apache ZooKeeper 3 with the leader killed, and a waitfree ensemble under partition-peers.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHistory } from '../../src/check/checker/history.js';
import { parseCheckArgs, runCheckCommand } from '../../src/check/cli.js';
import { LAUNCH_DEFAULTS } from '../../src/check/launch_cfg.js';
import { applicableKinds, runNemesis } from '../../src/check/nemesis.js';
import { candidatesFor, modeOf, pickNode, type SrvrOf } from '../../src/check/nemesis_target.js';
import { PeerLinks } from '../../src/check/peer_links.js';
import { Recorder } from '../../src/check/recorder.js';
import { ServerNode } from '../../src/check/server_node.js';
import type { Target } from '../../src/check/targets.js';
import { memberCfgText, pickMemberPorts, serverLines, type MemberPorts } from '../../src/check/waitfree_ensemble.js';
import { loadConfig } from '../../src/config/load.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const LEADER = 'Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: leader\nNode count: 5\n';
const FOLLOWER = 'Zookeeper version: 3.8.0\nMode: follower\nNode count: 5\n';
const ELECTING = 'This ZooKeeper instance is not currently serving requests\n';

const dir = mkdtempSync(join(tmpdir(), 'ensemble-target-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** server.N lines of a cfg text, by sid: [host, quorum port, election port]. */
function linesOf(text: string): Map<number, [string, number, number]> {
  const out = new Map<number, [string, number, number]>();
  for (const m of text.matchAll(/^server\.(\d+)=([^:]+):(\d+):(\d+)$/gm)) out.set(Number(m[1]), [m[2]!, Number(m[3]), Number(m[4])]);
  return out;
}

describe('waitfree ensemble configs', () => {
  const ports: MemberPorts[] = [
    { client: 3001, quorum: 3002, election: 3003 },
    { client: 3011, quorum: 3012, election: 3013 },
    { client: 3021, quorum: 3022, election: 3023 },
  ];
  /** A distinct fake proxy port per ordered pair. */
  const proxyPort = (from: number, to: number): number => 4000 + 10 * from + to;

  it("each member's own line holds its real quorum port; every other member's, the proxy it dials", () => {
    for (let i = 0; i < 3; i++) {
      const text = memberCfgText(i, ports, proxyPort, '/data', LAUNCH_DEFAULTS);
      const lines = linesOf(text);
      expect([...lines.keys()]).toEqual([1, 2, 3]);
      for (let j = 0; j < 3; j++) {
        const [host, quorum, election] = lines.get(j + 1)!;
        expect(host).toBe('127.0.0.1');
        expect(quorum).toBe(i === j ? ports[j]!.quorum : proxyPort(i, j));
        expect(election).toBe(ports[j]!.election);
      }
      expect(text).toContain(`clientPort=${ports[i]!.client}\n`);
      expect(text).toMatch(/^initLimit=\d+$/m);
      expect(text).toMatch(/^syncLimit=\d+$/m);
      expect(text).toContain(`tickTime=${LAUNCH_DEFAULTS.tick_time_ms}\n`);
      // every port one member's config names is distinct (each is bound once, by one process)
      const named = [ports[i]!.client, ...[...lines.values()].flatMap(([, q, e]) => [q, e])];
      expect(new Set(named).size).toBe(named.length);
    }
  });

  it('an unknown member index is refused, naming it', () => {
    expect(() => memberCfgText(3, ports, proxyPort, '/data', LAUNCH_DEFAULTS)).toThrow(/member index 3 is not in 0..2/);
  });

  it("waitfree's config loader reads each generated config as that member of the ensemble", () => {
    for (let i = 0; i < 3; i++) {
      const data_dir = join(dir, `load-r${i + 1}`);
      mkdirSync(data_dir, { recursive: true });
      writeFileSync(join(data_dir, 'myid'), `${i + 1}\n`);
      const cfg = join(data_dir, 'zoo.cfg');
      writeFileSync(cfg, memberCfgText(i, ports, proxyPort, data_dir, LAUNCH_DEFAULTS));
      const { config } = loadConfig({ file: cfg });
      expect(config.ensemble?.my_sid).toBe(i + 1);
      expect(config.client_port).toBe(ports[i]!.client);
      const quorum = config.ensemble!.members.map((m) => m.quorum_port);
      expect(quorum).toEqual([0, 1, 2].map((j) => (j === i ? ports[j]!.quorum : proxyPort(i, j))));
    }
  });

  it('picked member ports are distinct over the whole ensemble', async () => {
    const picked = await pickMemberPorts(5);
    const all = picked.flatMap((p) => [p.client, p.quorum, p.election]);
    expect(new Set(all).size).toBe(15);
  });
});

/** A TCP server on 127.0.0.1 answering each chunk with `<name>:<chunk>`. */
async function echoServer(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (b) => s.write(`${name}:${b.toString()}`));
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

/** Sends `text` to the port and returns what comes back within timeout_ms ('' if nothing). */
function exchange(port: number, text: string, timeout_ms: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(text));
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, timeout_ms);
    s.on('data', (b) => {
      got += b.toString();
      if (got.length >= text.length) done();
    });
    s.on('error', done);
  });
}

describe('replica links through fault proxies', () => {
  it('isolating a member cuts exactly its links, both directions; healing restores them', async () => {
    const members = await Promise.all(['m0', 'm1', 'm2'].map(echoServer));
    const links = await PeerLinks.start(
      members.map((m) => m.port),
      new Set(members.map((m) => m.port)),
    );
    try {
      expect(await exchange(links.portOf(2, 0), 'hi', 2_000)).toBe('m0:hi');
      const proxy_ports = [links.portOf(0, 1), links.portOf(0, 2), links.portOf(1, 0), links.portOf(1, 2), links.portOf(2, 0), links.portOf(2, 1)];
      expect(new Set(proxy_ports).size).toBe(6);
      expect(proxy_ports.some((p) => members.some((m) => m.port === p))).toBe(false);

      expect(links.isolate(1)).toBe(4);
      expect(links.cutLinks()).toEqual(['0->1', '1->0', '1->2', '2->1']);
      expect(await exchange(links.portOf(2, 1), 'x', 500)).toBe('');
      expect(await exchange(links.portOf(1, 0), 'y', 500)).toBe('');
      // the link between the two others still works
      expect(await exchange(links.portOf(2, 0), 'z', 2_000)).toBe('m0:z');

      links.heal();
      expect(links.cutLinks()).toEqual([]);
      expect(await exchange(links.portOf(2, 1), 'back', 2_000)).toBe('m1:back');
      expect(() => links.isolate(3)).toThrow(/member index 3 is not in 0..2/);
    } finally {
      await links.close();
      await Promise.all(members.map((m) => m.close()));
    }
  });
});

describe('--nemesis-target', () => {
  /** A fake srvr: answers[poll][index] per call round; counts the rounds. */
  function scripted(rounds: readonly (readonly (string | null)[])[]): SrvrOf & { rounds(): number } {
    let calls = 0;
    const width = rounds[0]!.length;
    const f = (i: number): Promise<string | null> => {
      const round = Math.min(Math.floor(calls++ / width), rounds.length - 1);
      const a = rounds[round]![i]!;
      return a === 'throw' ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(a);
    };
    return Object.assign(f, { rounds: () => Math.ceil(calls / width) });
  }
  const noWait = async (): Promise<boolean> => false;
  const search = { polls_max: 5, poll_gap_ms: 1 };

  it('reads the Mode line of srvr answers', () => {
    expect(modeOf(LEADER)).toBe('leader');
    expect(modeOf(FOLLOWER)).toBe('follower');
    expect(modeOf('Mode: standalone\n')).toBe('standalone');
    expect(modeOf(ELECTING)).toBeNull();
    expect(modeOf(null)).toBeNull();
    expect(candidatesFor('leader', ['follower', 'standalone', null])).toEqual([1]);
    expect(candidatesFor('follower', ['follower', 'leader', 'observer', 'follower'])).toEqual([0, 3]);
  });

  it('leader: the server whose srvr says leader, whatever the draw', async () => {
    for (const r of [0, 0.5, 0.99]) {
      const p = await pickNode('leader', 3, r, scripted([[FOLLOWER, FOLLOWER, LEADER]]), noWait, search);
      expect(p).toMatchObject({ index: 2, mode: 'leader', why: 'leader' });
    }
  });

  it('follower: one of the followers, chosen by the draw', async () => {
    const s = scripted([[FOLLOWER, LEADER, FOLLOWER]]);
    expect((await pickNode('follower', 3, 0.1, s, noWait, search))!.index).toBe(0);
    expect((await pickNode('follower', 3, 0.9, s, noWait, search))!.index).toBe(2);
  });

  it('polls through an election (not serving, no answer) until a leader shows up', async () => {
    const s = scripted([
      [ELECTING, 'throw', ELECTING],
      [ELECTING, null, ELECTING],
      [FOLLOWER, LEADER, FOLLOWER],
    ]);
    const p = await pickNode('leader', 3, 0.3, s, noWait, search);
    expect(p).toMatchObject({ index: 1, why: 'leader' });
    expect(s.rounds()).toBe(3);
  });

  it('no leader within the bound: falls back to the random draw and says so', async () => {
    const s = scripted([[ELECTING, ELECTING, null]]);
    const p = (await pickNode('leader', 3, 0.5, s, noWait, search))!;
    expect(p.index).toBe(1);
    expect(p.why).toBe('no leader found (modes: not serving, not serving, not serving): random');
    expect(s.rounds()).toBe(search.polls_max);
  });

  it('stops looking (no fault) when the run stops', async () => {
    const s = scripted([[ELECTING, ELECTING, ELECTING]]);
    expect(await pickNode('leader', 3, 0.5, s, async () => true, search)).toBeNull();
    expect(s.rounds()).toBe(1);
  });

  it('one server is both the leader and the follower; random asks nobody', async () => {
    const s = scripted([[null]]);
    expect(await pickNode('follower', 1, 0.7, s, noWait, search)).toMatchObject({ index: 0 });
    expect(await pickNode('leader', 1, 0.7, s, noWait, search)).toMatchObject({ index: 0 });
    expect(await pickNode('random', 4, 0.7, s, noWait, search)).toMatchObject({ index: 2, why: 'random' });
    expect(s.rounds()).toBe(0);
  });

  it('the option is parsed and checked', () => {
    const p = parseCheckArgs(['--launch', 'zookeeper:3', '--nemesis', 'kill', '--nemesis-target', 'leader']);
    expect(p !== 'help' && p.nemesis_target).toBe('leader');
    const d = parseCheckArgs(['--launch', 'ensemble:5']);
    expect(d !== 'help' && d.nemesis_target).toBe('random');
    expect(d !== 'help' && d.target).toEqual({ kind: 'launch', launch: 'ensemble:5' });
    expect(() => parseCheckArgs(['--launch', 'standalone', '--nemesis-target', 'boss'])).toThrow('--nemesis-target: one of random, leader, follower (got "boss")');
  });
});

describe('partition-peers nemesis', () => {
  function fakeTarget(names: readonly string[], peers: Target['peers']): Target {
    const nodes = names.map((name, i) => new ServerNode({ name, command: 'true', args: [], cwd: dir, port: 1 + i, fault_dir: dir }));
    const member_lines = nodes.length > 1 ? nodes.map((n, i) => `server.${i + 1}=127.0.0.1:${100 + i}:${200 + i}:participant;127.0.0.1:${n.port}`) : undefined;
    return { description: 'fake', connect_string: '', nodes, peers, member_lines, restart: async () => true, stop: async () => undefined };
  }

  it('applies only where the replica links pass through proxies (waitfree ensembles)', async () => {
    const links = await PeerLinks.start([1, 2, 3], new Set());
    try {
      expect(applicableKinds(['partition-peers', 'kill'], fakeTarget(['zk1', 'zk2', 'zk3'], null), []).kinds).toEqual(['kill']);
      expect(applicableKinds(['partition-peers'], fakeTarget(['r1', 'r2', 'r3'], { links, sync_timeout_ms: 1 }), []).kinds).toEqual(['partition-peers']);
      // A reconfig makes the replicas dial the addresses of the new config, around the proxies.
      const with_reconfig = applicableKinds(['partition-peers', 'reconfig'], fakeTarget(['r1', 'r2', 'r3'], { links, sync_timeout_ms: 1 }), []);
      expect(with_reconfig.kinds).toEqual(['reconfig']);
      expect(with_reconfig.skipped.join()).toMatch(/partition-peers \(not with reconfig/);
      expect(applicableKinds(['reconfig', 'kill'], fakeTarget(['waitfree'], null), []).kinds).toEqual(['kill']);
    } finally {
      await links.close();
    }
  });

  it('with --nemesis-target leader, cuts the leader off from the others for the window, then heals', async () => {
    const members = await Promise.all(['m0', 'm1', 'm2'].map(echoServer));
    const links = await PeerLinks.start(
      members.map((m) => m.port),
      new Set(),
    );
    const target = fakeTarget(['r1', 'r2', 'r3'], { links, sync_timeout_ms: 5 });
    const rec = new Recorder(100);
    const cut_during_pauses: string[][] = [];
    const logged: string[] = [];
    try {
      const faults = await runNemesis(
        { kinds: ['partition-peers'], faults_max: 1, gap_ms: [0, 0], duration_ms: [10, 10], until_ms: 60_000, target_policy: 'leader', target_search: { polls_max: 3, poll_gap_ms: 0 } },
        {
          rec,
          target,
          proxies: [],
          rng: () => 0.1,
          pause: async (ms) => {
            cut_during_pauses.push(links.cutLinks());
            await new Promise((r) => setTimeout(r, ms));
            return false;
          },
          log: (l) => logged.push(l),
          srvr: async (i) => [FOLLOWER, FOLLOWER, LEADER][i]!,
        },
      );
      expect(faults).toBe(1);
      expect(rec.faults).toHaveLength(1);
      const f = rec.faults[0]!;
      expect(f.kind).toBe('partition-peers');
      expect(f.target).toBe('r3<->{r1,r2}');
      expect(f.detail).toMatch(/^replica links cut for \d+ ms \(leader\); healed 4 proxies$/);
      expect(f.end_ms).not.toBeNull();
      // the window (duration + 2 sync timeouts) was spent with r3's four links cut, and only those
      expect(cut_during_pauses).toContainEqual(['0->2', '1->2', '2->0', '2->1']);
      expect(links.cutLinks()).toEqual([]);
      expect(logged).toContain('nemesis: target r3: leader');
    } finally {
      await links.close();
      await Promise.all(members.map((m) => m.close()));
    }
  });
});

interface CheckRun {
  code: number;
  out: string;
  err: string;
}

async function check(args: readonly string[]): Promise<CheckRun> {
  let out = '';
  let err = '';
  const code = await runCheckCommand(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

const zk_missing = missingTools(APACHE_ZK_FILES, true);

describe('real runs', () => {
  toolPresenceTest('Apache ZooKeeper (for --launch zookeeper:3)', zk_missing);

  // Apache ZooKeeper's sync is not a quorum operation: across a leader change a synced read can
  // be stale (ZOOKEEPER-1675, "not guaranteed currently in case of leader change"), and the
  // register workload checks synced reads for linearizability. So a run that kills its leader
  // may rightly find ZooKeeper invalid (seen once in CI; 0 of 15 runs here). What this test holds the
  // tool to: it drives a real ZooKeeper ensemble, hits its leader, and reaches a verdict (never
  // unknown), with the exit code that verdict has; a violation found is printed, not hidden.
  it.skipIf(zk_missing.length > 0)('zookeeper:3 with the leader killed (--nemesis kill --nemesis-target leader) is checked to a verdict', async () => {
    const out_dir = join(dir, 'zk3');
    const r = await check(['--launch', 'zookeeper:3', '--workload', 'register', '--nemesis', 'kill', '--nemesis-target', 'leader', '--time', '15', '--seed', '11', '--out', out_dir]);
    expect(r.err).toBe('');
    const verdict = /verdict: (valid|invalid)\n/.exec(r.out);
    expect(verdict, r.out).not.toBeNull();
    expect(r.code).toBe(verdict![1] === 'valid' ? 0 : 1);
    if (verdict![1] === 'invalid') console.warn(`Apache ZooKeeper was found invalid under leader kills (see ZOOKEEPER-1675):\n${r.out}`);
    const h = parseHistory(readFileSync(join(out_dir, 'history.jsonl'), 'utf8'));
    const kills = h.faults.filter((f) => f.kind === 'kill');
    expect(kills.length).toBeGreaterThan(0);
    expect(kills.every((f) => f.end_ms !== null)).toBe(true);
    // the first fault found a settled ensemble: it hit the leader (srvr asked again as it struck)
    expect(kills[0]!.detail).toContain('(leader)');
    expect(r.out).toMatch(/nemesis: target zk\d: leader\n/);
  }, 240_000);

  it('ensemble:3 with the leader cut off from the other replicas, and killed, is valid', async () => {
    const out_dir = join(dir, 'wf3');
    const r = await check(['--launch', 'ensemble:3', '--workload', 'register', '--nemesis', 'partition-peers,kill', '--nemesis-target', 'leader', '--time', '20', '--seed', '5', '--out', out_dir]);
    expect(r.err).toBe('');
    expect(r.out, r.out).toMatch(/verdict: valid\n/);
    expect(r.code).toBe(0);
    const h = parseHistory(readFileSync(join(out_dir, 'history.jsonl'), 'utf8'));
    expect(h.faults.length).toBeGreaterThan(0);
    expect(h.faults.every((f) => f.end_ms !== null)).toBe(true);
    expect(h.ops.filter((o) => o.outcome === 'ok').length).toBeGreaterThan(50);
  }, 240_000);
});
