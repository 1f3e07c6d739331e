// Dynamic reconfiguration of observers (reconfigEnabled=true): a running ensemble removes an
// observer and takes it back by `reconfig`, the observer is refused and then served again, and
// the membership a reconfig made survives a restart of the leader (it lives in /zookeeper/config,
// replicated and durable); and an observer the voters' zoo.cfg never named joins once a reconfig
// adds it, and stays through the leader's death. Real processes, real TCP between the replicas.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ZooKeeperClient, type WatchEvent, type ZooKeeperError } from '../../src/client/index.js';
import { startEnsemble, type Ensemble, type SrvrAnswers } from '../support/ensemble.js';
import { modeOf } from '../support/ensemble_roles.js';

const SETTLE_MS = 60_000;
const TEST_MS = 240_000;
const SUPER_DIGEST = `super:${createHash('sha1').update('super:test').digest('base64')}`;

function configOf(data: Uint8Array): string[] {
  return new TextDecoder().decode(data).split('\n');
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as ZooKeeperError).code;
  }
}

describe('reconfig of observers in a running ensemble', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('removes an observer and takes it back; the membership survives a leader restart', async () => {
    e = await startEnsemble({ replicas: 3, observers: 1, extra_cfg: ['reconfigEnabled=true', `DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`] });
    const ens = e;
    const observer = ens.members.find((m) => m.role === 'observer')!;
    const voters = ens.members.filter((m) => m.role !== 'observer');
    const leaderOf = (a: SrvrAnswers): number | undefined => voters.find((v) => modeOf(a.get(v.sid)) === 'leader')?.sid;
    const serving = (a: SrvrAnswers): boolean =>
      leaderOf(a) !== undefined && voters.every((v) => modeOf(a.get(v.sid)) !== null) && modeOf(a.get(observer.sid)) === 'observer';
    await ens.waitFor(serving, SETTLE_MS);

    const voter_hosts = voters.map((v) => `127.0.0.1:${v.client_port}`).join(',');
    const admin = await ZooKeeperClient.connect(voter_hosts, { sessionTimeout_ms: 10_000, auth: [{ scheme: 'digest', auth: 'super:test' }] });
    const user = await ZooKeeperClient.connect(voter_hosts, { sessionTimeout_ms: 10_000 });
    try {
      // getConfig's watch (Curator's EnsembleTracker) fires on a reconfig.
      const config_events: WatchEvent[] = [];
      const before = configOf((await user.getData('/zookeeper/config', { watch: (ev) => config_events.push(ev) })).data!);
      expect(before.at(-1)).toBe('version=0');
      const observer_line = before.find((l) => l.startsWith(`server.${observer.sid}=`))!;
      expect(observer_line).toMatch(/:observer;/);
      await user.create('/a', 'before');

      // Only the super user may reconfigure; new voters none of which is synced with the leader
      // are refused (ZooKeeper's NEWCONFIGNOQUORUM).
      expect(await codeOf(user.reconfig({ leaving: String(observer.sid) }))).toBe('NOAUTH');
      const strangers = 'server.7=127.0.0.1:1:2:participant;127.0.0.1:3,server.8=127.0.0.1:4:5:participant;127.0.0.1:6';
      expect(await codeOf(admin.reconfig({ members: strangers }))).toBe('NEWCONFIGNOQUORUM');

      const removed = await admin.reconfig({ leaving: String(observer.sid) });
      const removed_text = configOf(removed.data);
      expect(removed_text).not.toContain(observer_line);
      expect(removed_text.at(-1)).toBe(`version=${removed.stat.mzxid.toString(16)}`);
      expect(removed.stat.version).toBe(-1);
      await user.sync('/');
      expect(config_events.map((ev) => `${ev.type} ${ev.path}`)).toEqual(['NodeDataChanged /zookeeper/config']);
      // The leader drops the observer and every voter refuses it: it serves no more.
      await ens.waitFor((a) => modeOf(a.get(observer.sid)) === null, SETTLE_MS);
      await user.create('/b', 'while-out');

      const back = await admin.reconfig({ joining: observer_line, from_config: removed.stat.mzxid });
      expect(configOf(back.data)).toContain(observer_line);
      await ens.waitFor(serving, SETTLE_MS);
      const on_observer = await ZooKeeperClient.connect(`127.0.0.1:${observer.client_port}`, { sessionTimeout_ms: 10_000 });
      try {
        await on_observer.sync('/');
        expect((await on_observer.getData('/b')).data?.toString()).toBe('while-out');
        expect(configOf((await on_observer.getData('/zookeeper/config')).data!)).toEqual(configOf(back.data));
      } finally {
        await on_observer.close().catch(() => undefined);
      }
      // A stale from_config is refused.
      expect(await codeOf(admin.reconfig({ leaving: String(observer.sid), from_config: removed.stat.mzxid }))).toBe('BADVERSION');

      // The leader restarts: the membership comes back from its log and snapshot, not zoo.cfg.
      const leader = leaderOf(await ens.waitFor(serving, SETTLE_MS))!;
      await ens.restart(leader);
      await ens.waitFor((a) => serving(a) && modeOf(a.get(leader)) !== null, SETTLE_MS);
      const on_restarted = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(leader).client_port}`, { sessionTimeout_ms: 10_000 });
      try {
        await on_restarted.sync('/');
        expect(configOf((await on_restarted.getData('/zookeeper/config')).data!)).toEqual(configOf(back.data));
      } finally {
        await on_restarted.close().catch(() => undefined);
      }
    } finally {
      await admin.close().catch(() => undefined);
      await user.close().catch(() => undefined);
    }
  }, TEST_MS);

  it('adds an observer the voters were never configured with: it syncs and serves once the reconfig commits', async () => {
    e = await startEnsemble({ replicas: 3, observers: 1, extra_cfg: ['reconfigEnabled=true', `DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`] });
    const ens = e;
    const observer = ens.members.find((m) => m.role === 'observer')!;
    const voters = ens.members.filter((m) => m.role !== 'observer');
    // The voters forget the observer: their zoo.cfg loses its line, and they restart on it.
    await ens.kill(observer.sid, 'SIGTERM');
    const observer_key = `server.${observer.sid}=`;
    let observer_line = '';
    for (const v of voters) {
      const lines = readFileSync(v.cfgPath, 'utf8').split('\n');
      observer_line = lines.find((l) => l.startsWith(observer_key)) ?? observer_line;
      writeFileSync(v.cfgPath, lines.filter((l) => !l.startsWith(observer_key)).join('\n'));
      await ens.restart(v.sid);
    }
    const voters_serving = (a: SrvrAnswers): boolean =>
      voters.filter((v) => modeOf(a.get(v.sid)) === 'leader').length === 1 && voters.every((v) => modeOf(a.get(v.sid)) !== null);
    await ens.waitFor(voters_serving, SETTLE_MS);
    const voter_hosts = voters.map((v) => `127.0.0.1:${v.client_port}`).join(',');
    const admin = await ZooKeeperClient.connect(voter_hosts, { sessionTimeout_ms: 10_000, auth: [{ scheme: 'digest', auth: 'super:test' }] });
    try {
      expect(configOf((await admin.getData('/zookeeper/config')).data!).some((l) => l.startsWith(observer_key))).toBe(false);
      await admin.create('/written-before', 'x');
      // Started before the reconfig, the observer is refused by every voter.
      await ens.restart(observer.sid);
      await new Promise((r) => setTimeout(r, 1500));
      expect(modeOf(await ens.srvr(observer.sid))).toBeNull();
      // joining takes ZooKeeper's spec: host:quorumPort:electionPort:observer;clientHost:clientPort.
      const spec = observer_line.slice(observer_key.length).replace(/;(\d+)$/, ';127.0.0.1:$1');
      const joined = await admin.reconfig({ joining: `${observer_key}${spec}` });
      expect(configOf(joined.data).some((l) => l.startsWith(observer_key) && l.includes(':observer;'))).toBe(true);
      await ens.waitFor((a) => voters_serving(a) && modeOf(a.get(observer.sid)) === 'observer', SETTLE_MS);
      const on_observer = await ZooKeeperClient.connect(`127.0.0.1:${observer.client_port}`, { sessionTimeout_ms: 10_000 });
      try {
        expect((await on_observer.getData('/written-before')).data?.toString()).toBe('x');
        await on_observer.create('/via-observer', 'y');
        // Another session on another member sees it once its member has caught up: sync first,
        // as ZooKeeper requires of a reader that must see another client's write.
        await admin.sync('/via-observer');
        expect((await admin.getData('/via-observer')).data?.toString()).toBe('y');
        // The leader dies: the new one learned the observer from the reconfig txn, not zoo.cfg.
        const leader = await ens.waitFor(voters_serving, SETTLE_MS);
        const leader_sid = voters.find((v) => modeOf(leader.get(v.sid)) === 'leader')!.sid;
        await ens.kill(leader_sid, 'SIGKILL');
        const rest = voters.filter((v) => v.sid !== leader_sid);
        await ens.waitFor(
          (a) => rest.filter((v) => modeOf(a.get(v.sid)) === 'leader').length === 1 && modeOf(a.get(observer.sid)) === 'observer',
          SETTLE_MS,
        );
        await on_observer.waitForState(['connected'], { timeout_ms: 20_000 });
        await on_observer.setData('/via-observer', 'after-failover');
        await on_observer.sync('/');
        expect((await on_observer.getData('/via-observer')).data?.toString()).toBe('after-failover');
      } finally {
        await on_observer.close().catch(() => undefined);
      }
    } finally {
      await admin.close().catch(() => undefined);
    }
  }, TEST_MS);
});
