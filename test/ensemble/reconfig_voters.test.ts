// Dynamic reconfiguration of the voters (reconfigEnabled=true) in a running ensemble of real
// processes over real TCP: an observer becomes a voter, a voter leaves, the leader removes itself;
// writes go on through each change, the quorum that decides afterwards is the new one (a failure
// the old membership would not survive is survived, and the other way round), and a restarted
// member comes back with the membership the reconfig made; and a leader SIGKILLed while a change
// of a server's role is in flight leaves members that agree on one membership and serve in its
// roles, whatever the client was told. The protocol's rules are tested in
// test/zab/reconfig.test.ts and under faults in test/sim/zab_sim.test.ts.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ZooKeeperClient } from '../../src/client/index.js';
import { startEnsemble, type Ensemble, type SrvrAnswers } from '../support/ensemble.js';
import { modeOf } from '../support/ensemble_roles.js';
import { newestSnapshot } from '../../src/log/data_dir.js';
import { MembershipFile } from '../../src/log/membership_file.js';

const SETTLE_MS = 60_000;
const TEST_MS = 240_000;
const SUPER_DIGEST = `super:${createHash('sha1').update('super:test').digest('base64')}`;
const CFG = ['reconfigEnabled=true', `DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`];

function configOf(data: Uint8Array): string[] {
  return new TextDecoder().decode(data).split('\n');
}

/** sid -> role of the server lines of a /zookeeper/config text. */
function rolesOf(lines: readonly string[]): Record<number, string> {
  const out: Record<number, string> = {};
  for (const l of lines) {
    const m = /^server\.(\d+)=[^;]*:(participant|observer)(;|$)/.exec(l);
    if (m !== null) out[Number(m[1])] = m[2]!;
  }
  return out;
}

/** The one member answering as leader among `sids`, else undefined. */
function leaderAmong(a: SrvrAnswers, sids: readonly number[]): number | undefined {
  const l = sids.filter((s) => modeOf(a.get(s)) === 'leader');
  return l.length === 1 ? l[0] : undefined;
}

/** Exactly one leader among `voters`, every voter serves, and nobody else answers as a voter. */
function votersServe(a: SrvrAnswers, voters: readonly number[]): boolean {
  return leaderAmong(a, voters) !== undefined && voters.every((s) => ['leader', 'follower'].includes(modeOf(a.get(s)) ?? ''));
}

describe('reconfig of the voters in a running ensemble', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('an observer becomes a voter and a voter leaves: writes go on, the new quorum decides, restarts keep it', async () => {
    e = await startEnsemble({ replicas: 3, observers: 1, extra_cfg: CFG });
    const ens = e;
    const observer = ens.members.find((m) => m.role === 'observer')!;
    const first = ens.members.filter((m) => m.role !== 'observer').map((m) => m.sid);
    const started = await ens.waitFor((a) => votersServe(a, first) && modeOf(a.get(observer.sid)) === 'observer', SETTLE_MS);
    // The reconfigs go through the leader, whose role none of them changes: a server whose role
    // changes leaves it and closes its clients' connections (as ZooKeeper does), which could
    // take the answer with it.
    const leader = leaderAmong(started, first)!;
    const admin = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(leader).client_port}`, { sessionTimeout_ms: 15_000, auth: [{ scheme: 'digest', auth: 'super:test' }] });
    // A follower of the first three leaves later; the other clients talk to the two that stay.
    const gone = first.find((s) => s !== leader)!;
    const stay = first.filter((s) => s !== gone).map((s) => `127.0.0.1:${ens.member(s).client_port}`);
    const user = await ZooKeeperClient.connect(stay.join(','), { sessionTimeout_ms: 15_000 });
    try {
      await admin.create('/before', 'a');
      const line = configOf((await admin.getData('/zookeeper/config')).data!).find((l) => l.startsWith(`server.${observer.sid}=`))!;

      // The observer becomes a participant: four voters.
      const promoted = await admin.reconfig({ joining: line.replace(':observer;', ':participant;') });
      expect(rolesOf(configOf(promoted.data))).toEqual(Object.fromEntries([...first, observer.sid].map((s) => [s, 'participant'])));
      const four = [...first, observer.sid];
      await ens.waitFor((a) => votersServe(a, four), SETTLE_MS);
      const on_promoted = await ZooKeeperClient.connect(`127.0.0.1:${observer.client_port}`, { sessionTimeout_ms: 15_000 });
      try {
        await on_promoted.create('/via-promoted', 'b');
        expect((await on_promoted.getData('/before')).data?.toString()).toBe('a');
      } finally {
        await on_promoted.close().catch(() => undefined);
      }

      // The follower leaves: three voters again, one of them the promoted one.
      const left = await admin.reconfig({ leaving: String(gone), from_config: promoted.stat.mzxid });
      const three = four.filter((s) => s !== gone);
      expect(Object.keys(rolesOf(configOf(left.data))).map(Number).sort()).toEqual([...three].sort());
      // The member that left serves no more (the others refuse it); the rest do.
      await ens.waitFor((a) => votersServe(a, three) && modeOf(a.get(gone)) === null, SETTLE_MS);
      // It left because it applied the COMMIT of its removal (which its clients' answers need),
      // not because its leader's link closed first.
      expect(ens.member(gone).output()).toMatch(/a reconfig committed: this server is now not a member/);
      await user.create('/after-leave', 'c');
      // Each member applied it durably: a restart knows it committed, not in flight.
      for (const s of three) await waitForMembershipFile(ens.member(s).dataDir, Number(left.stat.mzxid));

      // The new quorum decides: with the one that left stopped for good and one of the three
      // killed, two of three voters still commit (under the first membership, two of the four
      // live ones would have been the first three minus two: no quorum).
      await ens.kill(gone, 'SIGKILL');
      const victim = three.find((s) => s !== observer.sid)!;
      await ens.kill(victim, 'SIGKILL');
      const two = three.filter((s) => s !== victim);
      await ens.waitFor((a) => votersServe(a, two), SETTLE_MS);
      await user.waitForState(['connected'], { timeout_ms: 30_000 });
      await user.setData('/after-leave', 'd');

      // The killed voter restarts: the membership comes back from its log and snapshot (zoo.cfg
      // still names the first four), it rejoins as a voter and catches up.
      await ens.restart(victim);
      // It knows the membership committed from its membership file (its snapshot is older).
      await waitForOutput(ens, victim, `membership of version 0x${Number(left.stat.mzxid).toString(16)} from`, 1);
      await ens.waitFor((a) => votersServe(a, three), SETTLE_MS);
      const on_victim = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(victim).client_port}`, { sessionTimeout_ms: 15_000 });
      try {
        await on_victim.sync('/');
        expect((await on_victim.getData('/after-leave')).data?.toString()).toBe('d');
        expect(configOf((await on_victim.getData('/zookeeper/config')).data!)).toEqual(configOf(left.data));
      } finally {
        await on_victim.close().catch(() => undefined);
      }
    } finally {
      await admin.close().catch(() => undefined);
      await user.close().catch(() => undefined);
    }
  }, TEST_MS);

  it('the leader removes itself: the others elect a new leader and go on; it stops serving', async () => {
    e = await startEnsemble({ replicas: 3, extra_cfg: CFG });
    const ens = e;
    const all = ens.members.map((m) => m.sid);
    const answers = await ens.waitFor((a) => votersServe(a, all), SETTLE_MS);
    const leader = leaderAmong(answers, all)!;
    const rest = all.filter((s) => s !== leader);
    const hosts = rest.map((s) => `127.0.0.1:${ens.member(s).client_port}`).join(',');
    const admin = await ZooKeeperClient.connect(hosts, { sessionTimeout_ms: 15_000, auth: [{ scheme: 'digest', auth: 'super:test' }] });
    try {
      await admin.create('/x', '1');
      // The answer normally arrives; under load the member answering may leave its role (its
      // leader is gone) first, and the client sees CONNECTIONLOSS, as ZooKeeper allows: the config
      // it then reads says what happened.
      const out = await admin.reconfig({ leaving: String(leader) }).catch((err: { code?: string }) => {
        if (err.code !== 'CONNECTIONLOSS') throw err;
        return null;
      });
      await ens.waitFor((a) => votersServe(a, rest) && modeOf(a.get(leader)) === null, SETTLE_MS);
      await admin.waitForState(['connected'], { timeout_ms: 30_000 });
      await admin.sync('/');
      const config = out?.data ?? (await admin.getData('/zookeeper/config')).data!;
      expect(Object.keys(rolesOf(configOf(config))).map(Number).sort()).toEqual([...rest].sort());
      await admin.setData('/x', '2');
      await admin.sync('/');
      expect((await admin.getData('/x')).data?.toString()).toBe('2');
    } finally {
      await admin.close().catch(() => undefined);
    }
  }, TEST_MS);

  it('a server none of the voters was configured with joins as a voter: reconfig -add, then start it; it counts', async () => {
    e = await startEnsemble({ replicas: 3, observers: 1, extra_cfg: CFG });
    const ens = e;
    const fresh = ens.members.find((m) => m.role === 'observer')!;
    const first = ens.members.filter((m) => m.role !== 'observer').map((m) => m.sid);
    // The voters forget the fourth member (their zoo.cfg loses its line, they restart on it);
    // its own zoo.cfg makes it a participant: how an operator brings up a new server.
    await ens.kill(fresh.sid, 'SIGTERM');
    const key = `server.${fresh.sid}=`;
    let line = '';
    for (const sid of first) {
      const lines = readFileSync(ens.member(sid).cfgPath, 'utf8').split('\n');
      line = lines.find((l) => l.startsWith(key)) ?? line;
      writeFileSync(ens.member(sid).cfgPath, lines.filter((l) => !l.startsWith(key)).join('\n'));
      await ens.restart(sid);
    }
    const own = readFileSync(fresh.cfgPath, 'utf8').split('\n');
    writeFileSync(fresh.cfgPath, own.filter((l) => !l.startsWith('peerType=')).map((l) => (l.startsWith(key) ? l.replace(':observer;', ':participant;') : l)).join('\n'));
    const answers = await ens.waitFor((a) => votersServe(a, first), SETTLE_MS);
    const leader = leaderAmong(answers, first)!;
    const admin = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(leader).client_port}`, { sessionTimeout_ms: 15_000, auth: [{ scheme: 'digest', auth: 'super:test' }] });
    try {
      await admin.create('/grown', 'a');
      const joined = await admin.reconfig({ joining: line.replace(':observer;', ':participant;') });
      expect(rolesOf(configOf(joined.data))[fresh.sid]).toBe('participant');
      await ens.restart(fresh.sid);
      const four = [...first, fresh.sid];
      await ens.waitFor((a) => votersServe(a, four), SETTLE_MS);
      // Four voters, a quorum is three: with one of the first followers gone, a write commits
      // only with the new voter's ACK.
      await ens.kill(first.find((s) => s !== leader)!, 'SIGKILL');
      await admin.setData('/grown', 'b');
      const on_fresh = await ZooKeeperClient.connect(`127.0.0.1:${fresh.client_port}`, { sessionTimeout_ms: 15_000 });
      try {
        await on_fresh.sync('/');
        expect((await on_fresh.getData('/grown')).data?.toString()).toBe('b');
      } finally {
        await on_fresh.close().catch(() => undefined);
      }
    } finally {
      await admin.close().catch(() => undefined);
    }
  }, TEST_MS);

  it('servers removed by a reconfig and restarted on their zoo.cfg stay out, though they are a quorum of it; one taken back serves', async () => {
    // standaloneEnabled=false lets the voters shrink to one; snapCount=2 makes a snapshot of every
    // logged txn, so the removed servers come to restart with the reconfig that removed them in
    // their snapshot, not in their log (where, in flight, it already kept them from electing).
    e = await startEnsemble({ replicas: 3, extra_cfg: [...CFG, 'standaloneEnabled=false', 'snapCount=2'] });
    const ens = e;
    const all = ens.members.map((m) => m.sid);
    const leader = leaderAmong(await ens.waitFor((a) => votersServe(a, all), SETTLE_MS), all)!;
    const removed = all.filter((s) => s !== leader);
    const admin = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(leader).client_port}`, { sessionTimeout_ms: 15_000, auth: [{ scheme: 'digest', auth: 'super:test' }] });
    try {
      await admin.create('/before', 'a');
      const shrunk = await admin.reconfig({ leaving: removed.join(',') });
      expect(Object.keys(rolesOf(configOf(shrunk.data))).map(Number)).toEqual([leader]);
      await ens.waitFor((a) => modeOf(a.get(leader)) === 'standalone' || modeOf(a.get(leader)) === 'leader', SETTLE_MS);
      await ens.waitFor((a) => removed.every((s) => modeOf(a.get(s)) === null), SETTLE_MS);
      await admin.setData('/before', 'b');
      // Restarted, each knows its removal (its membership file) and snapshots what its log holds
      // after its newest snapshot, if it had not yet; restarted once more (after it has started:
      // it says so), each holds the reconfig in its snapshot too, as committed state.
      for (const sid of removed) await ens.restart(sid);
      for (const sid of removed) await waitForOutput(ens, sid, 'a reconfig removed it', 1);
      for (const sid of removed) await waitForSnapshotAtLeast(ens.member(sid).dataDir, Number(shrunk.stat.mzxid));
      for (const sid of removed) await ens.restart(sid);
      // Two of zoo.cfg's three voters: with zoo.cfg's membership they would elect a leader and
      // serve the history they have ('a'). They take no part: once started (they say so), they
      // stay out for longer than an election takes.
      for (const sid of removed) await waitForOutput(ens, sid, 'a reconfig removed it', 2);
      await new Promise((r) => setTimeout(r, 3_000));
      for (const sid of removed) expect(modeOf(await ens.srvr(sid)), `server ${sid}`).toBeNull();
      // One is added back (as an observer: as a voter it would have to be synced with the leader
      // first, ZooKeeper's NEWCONFIGNOQUORUM): it learns the membership from the members and
      // serves the new history.
      const back = removed[0]!;
      const line = readFileSync(ens.member(leader).cfgPath, 'utf8').split('\n').find((l) => l.startsWith(`server.${back}=`))!;
      const as_observer = line.replace(/^(server\.\d+=[^;]*?)(:participant)?;/, '$1:observer;').replace(/;(\d+)$/, ';127.0.0.1:$1');
      const grown = await admin.reconfig({ joining: as_observer });
      expect(rolesOf(configOf(grown.data))[back]).toBe('observer');
      await ens.waitFor((a) => modeOf(a.get(back)) === 'observer', SETTLE_MS);
      const on_back = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(back).client_port}`, { sessionTimeout_ms: 15_000 });
      try {
        await on_back.sync('/');
        expect((await on_back.getData('/before')).data?.toString()).toBe('b');
      } finally {
        await on_back.close().catch(() => undefined);
      }
    } finally {
      await admin.close().catch(() => undefined);
    }
  }, TEST_MS);

  it('the leader crashes while a change is in flight: whether it committed or not, the members agree on one membership and serve in its roles', async () => {
    e = await startEnsemble({ replicas: 3, observers: 1, extra_cfg: CFG });
    const ens = e;
    const fourth = ens.members.find((m) => m.role === 'observer')!;
    const all = ens.members.map((m) => m.sid);
    const voters0 = all.filter((s) => s !== fourth.sid);
    await ens.waitFor((a) => votersServe(a, voters0), SETTLE_MS);
    const outcomes: string[] = [];
    // The kill comes 0..10 ms after the request: before the leader has it, while it is in
    // flight (logged by some, not committed), or after it committed.
    const delays_ms = [0, 2, 4, 6, 8, 10];
    for (const delay_ms of delays_ms) {
      // The members agree on the membership in force (after any change), and serve in its roles.
      const config = await agreedConfig(ens, all);
      const roles = rolesOf(config);
      const voters = all.filter((s) => roles[s] === 'participant');
      const leader = leaderAmong(await ens.waitFor((a) => votersServe(a, voters), SETTLE_MS), voters)!;
      const via = voters.find((s) => s !== leader)!;
      const admin = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(via).client_port}`, { sessionTimeout_ms: 15_000, auth: [{ scheme: 'digest', auth: 'super:test' }] });
      try {
        // Flip the fourth server's role, and SIGKILL the leader while the change is in flight.
        const line = config.find((l) => l.startsWith(`server.${fourth.sid}=`))!;
        const flipped = roles[fourth.sid] === 'observer' ? line.replace(':observer;', ':participant;') : line.replace(':participant;', ':observer;');
        const change = admin.reconfig({ joining: flipped }).then(
          () => 'committed',
          (err: { code?: string }) => err.code ?? String(err),
        );
        await new Promise((r) => setTimeout(r, delay_ms));
        await ens.kill(leader, 'SIGKILL');
        outcomes.push(await change);
      } finally {
        await admin.close().catch(() => undefined);
      }
      await ens.restart(leader);
    }
    const config = await agreedConfig(ens, all);
    const roles = rolesOf(config);
    const voters = all.filter((s) => roles[s] === 'participant');
    const fourth_mode = (a: SrvrAnswers): string | null => modeOf(a.get(fourth.sid));
    await ens.waitFor((a) => votersServe(a, voters) && (roles[fourth.sid] === 'observer' ? fourth_mode(a) === 'observer' : voters.includes(fourth.sid)), SETTLE_MS);
    // Each outcome is one a client may see: the change committed, or the connection was lost.
    for (const o of outcomes) expect(['committed', 'CONNECTIONLOSS']).toContain(o);
  }, TEST_MS * 2);
});

/** Polls until every member answers `sync` + getData('/zookeeper/config') with the same text. */
/** Waits until member `sid`'s output holds `text` at least `times` times (across restarts). */
async function waitForOutput(ens: Ensemble, sid: number, text: string, times: number): Promise<void> {
  const until = Date.now() + SETTLE_MS;
  while (ens.member(sid).output().split(text).length - 1 < times) {
    if (Date.now() > until) throw new Error(`server ${sid} did not say ${JSON.stringify(text)} ${times} times:\n${ens.member(sid).output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until `dir`'s membership file holds the membership of version `version`. */
async function waitForMembershipFile(dir: string, version: number): Promise<void> {
  const until = Date.now() + SETTLE_MS;
  while (MembershipFile.readSync(dir)?.version !== version) {
    if (Date.now() > until) throw new Error(`${MembershipFile.path(dir)}: not at version 0x${version.toString(16)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until `dir` holds a snapshot at or after `zxid` (they are written in the background). */
async function waitForSnapshotAtLeast(dir: string, zxid: number): Promise<void> {
  const until = Date.now() + SETTLE_MS;
  while ((newestSnapshot(dir)?.zxid ?? -1) < zxid) {
    if (Date.now() > until) throw new Error(`no snapshot at or after 0x${zxid.toString(16)} in ${dir}: ${readdirSync(dir).join(' ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function agreedConfig(ens: Ensemble, sids: readonly number[]): Promise<string[]> {
  const deadline = Date.now() + SETTLE_MS;
  let last = '';
  while (Date.now() < deadline) {
    const texts: string[] = [];
    for (const sid of sids) {
      const c = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(sid).client_port}`, { sessionTimeout_ms: 10_000, connectTimeout_ms: 2_000 }).catch(() => null);
      if (c === null) break;
      try {
        await c.sync('/');
        texts.push(new TextDecoder().decode((await c.getData('/zookeeper/config')).data!));
      } catch {
        break;
      } finally {
        await c.close().catch(() => undefined);
      }
    }
    last = texts.join(' | ');
    if (texts.length === sids.length && texts.every((t) => t === texts[0])) return texts[0]!.split('\n');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the members do not agree on /zookeeper/config: ${last}`);
}
