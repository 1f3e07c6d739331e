// Real waitfree ensembles on loopback (one process per replica, started from the zoo.cfg files
// `waitfree ensemble` writes): Zab election, sync and broadcast seen from outside, through the
// project's client. What a user relies on:
// - exactly one leader; a write through any member is seen by every member after a sync;
// - kill -9 of the leader, then of a follower, under write load from several clients: writes go
//   on after the election and not one acknowledged write is lost;
// - a replica that comes back catches up: by DIFF after a short outage, by SNAP after a long one
//   (its position has left the leader's committed log), and the replicas end equal.

import { afterEach, describe, expect, it } from 'vitest';
import { ZooKeeperClient } from '../../src/client/index.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { leaderSid as leaderOf, modeOf, serving } from '../support/ensemble_roles.js';
import { startWriteLoad } from '../support/write_load.js';

const SETTLE_MS = 60_000;
const TEST_MS = 240_000;

/** Children of `path` as one member sees them after a sync (a client bound to that member). */
async function childrenAt(e: Ensemble, sid: number, path: string): Promise<Set<string>> {
  const m = e.member(sid);
  const c = await ZooKeeperClient.connect(`127.0.0.1:${m.client_port}`, { sessionTimeout_ms: 10_000 }).catch((err: unknown) => {
    // Say why: a member that died (and what it printed last) is the usual story.
    throw new Error(`server.${sid} (${m.alive() ? 'alive' : 'dead'}) took no session: ${String(err)}\n--- its output (tail) ---\n${m.output().slice(-3000)}`);
  });
  try {
    await c.sync(path);
    return new Set(await c.getChildren(path));
  } finally {
    await c.close();
  }
}

/** The last `sync by X` a member logged (the mode of its latest sync with a leader). */
function lastSyncMode(e: Ensemble, sid: number): string | null {
  const all = [...e.member(sid).output().matchAll(/sync by (DIFF|TRUNC|SNAP)/g)];
  return all.at(-1)?.[1] ?? null;
}

async function expectNoAcknowledgedWriteLost(e: Ensemble, root: string, acknowledged: readonly string[]): Promise<void> {
  for (const m of e.members) {
    const seen = await childrenAt(e, m.sid, root);
    const lost = acknowledged.filter((p) => !seen.has(p.slice(root.length + 1)));
    expect(lost, `server.${m.sid} lacks acknowledged writes`).toEqual([]);
  }
}

describe('a 3-replica waitfree ensemble', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('elects one leader; a write through any member is seen by every member after sync, ephemerals go with their session', async () => {
    e = await startEnsemble({ replicas: 3 });
    const ens = e;
    await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    const clients = await Promise.all(
      e.members.map((m) => ZooKeeperClient.connect(`127.0.0.1:${m.client_port}`, { sessionTimeout_ms: 10_000 })),
    );
    try {
      for (const [i, c] of clients.entries()) await c.create(`/via-${i}`, `data-${i}`);
      await clients[0]!.create('/eph', null, { mode: 'ephemeral' });
      for (const c of clients) {
        await c.sync('/');
        expect((await c.getChildren('/')).sort()).toEqual(['eph', 'via-0', 'via-1', 'via-2', 'zookeeper']);
        expect((await c.getData('/via-2')).data?.toString()).toBe('data-2');
        expect((await c.exists('/eph'))?.ephemeralOwner).toBe(clients[0]!.sessionId);
      }
      // A conditional write decided by the leader: exactly one of two racing setData wins.
      const racing = await Promise.allSettled([clients[1]!.setData('/via-0', 'a', 0), clients[2]!.setData('/via-0', 'b', 0)]);
      expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      await clients[0]!.close();
      await clients[1]!.sync('/');
      expect(await clients[1]!.exists('/eph')).toBeNull();
      const a = await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
      expect(ens.members.map((m) => modeOf(a.get(m.sid))).sort()).toEqual(['follower', 'follower', 'leader']);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    }
  }, TEST_MS);

  it('kill -9 of the leader, then of a follower, under write load: writes go on, no acknowledged write is lost', async () => {
    e = await startEnsemble({ replicas: 3 });
    const ens = e;
    await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    const load = await startWriteLoad({ connectString: e.connectString, root: '/load', clients: 4, writes_max: 5_000, duration_ms_max: 90_000 });
    try {
      await load.reach(200, 30_000);
      const old_leader = await leaderOf(ens, SETTLE_MS);
      await ens.kill(old_leader, 'SIGKILL');
      const at_kill = load.acknowledged.length;
      await load.reach(at_kill + 200, 45_000); // a new leader was elected and commits
      const new_leader = await leaderOf(ens, SETTLE_MS);
      expect(new_leader).not.toBe(old_leader);

      await ens.restart(old_leader);
      await ens.waitFor(serving(ens), SETTLE_MS);
      expect(lastSyncMode(ens, old_leader)).toMatch(/^(DIFF|TRUNC|SNAP)$/);

      const follower = ens.members.find((m) => m.sid !== new_leader && m.alive())!.sid;
      await ens.kill(follower, 'SIGKILL');
      const at_second_kill = load.acknowledged.length;
      await load.reach(at_second_kill + 200, 45_000);
      await ens.restart(follower);
      await load.reach(load.acknowledged.length + 100, 45_000);
    } finally {
      await load.stop();
    }
    expect(load.errors).toEqual([]);
    await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
    await expectNoAcknowledgedWriteLost(ens, '/load', load.acknowledged);
  }, TEST_MS);

  it('a replica back from a short outage syncs by DIFF, from a long one by SNAP, and ends equal', async () => {
    // snapCount small: the leader snapshots (and purges old logs) several times during the outage.
    e = await startEnsemble({ replicas: 3, extra_cfg: ['snapCount=100'] });
    const ens = e;
    const leader = await leaderOf(ens, SETTLE_MS);
    const follower = ens.members.find((m) => m.sid !== leader)!.sid;
    const writer = await ZooKeeperClient.connect(`127.0.0.1:${ens.member(leader).client_port}`, { sessionTimeout_ms: 10_000 });
    try {
      await writer.create('/sync');
      await ens.kill(follower, 'SIGKILL');
      for (let i = 0; i < 50; i++) await writer.create(`/sync/short-${i}`);
      await ens.restart(follower);
      await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
      expect(lastSyncMode(ens, follower)).toBe('DIFF');

      await ens.kill(follower, 'SIGKILL');
      // More than the leader's committed log (500 txns) holds: DIFF is no longer possible.
      for (let i = 0; i < 800; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => writer.create(`/sync/long-${i + j}`)));
      }
      await ens.restart(follower);
      await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
      expect(lastSyncMode(ens, follower)).toBe('SNAP');
      const seen = await childrenAt(ens, follower, '/sync');
      expect(seen.size).toBe(850);

      // It keeps following after the snapshot: a new write reaches it.
      await writer.create('/sync/after');
      expect((await childrenAt(ens, follower, '/sync')).has('after')).toBe(true);
      // And it recovers the installed snapshot from its own disk.
      await ens.restart(follower);
      await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
      expect((await childrenAt(ens, follower, '/sync')).size).toBe(851);
    } finally {
      await writer.close();
    }
  }, TEST_MS);
});

describe('a 3-replica ensemble at its in-flight bound', () => {
  it('takes more writes than waitfree.zab.inFlightMax proposals at once, through the leader and forwarded by followers: all complete, the leader stays responsive', async () => {
    const e = await startEnsemble({ replicas: 3, extra_cfg: ['waitfree.zab.inFlightMax=8'] });
    const clients: ZooKeeperClient[] = [];
    try {
      const leader = await leaderOf(e, SETTLE_MS);
      for (const m of e.members) clients.push(await ZooKeeperClient.connect(`127.0.0.1:${m.client_port}`, { sessionTimeout_ms: 10_000 }));
      await clients[0]!.create('/burst');
      const per_client = 1_000;
      const names = await Promise.all(clients.flatMap((c, i) => Array.from({ length: per_client }, (_, j) => c.create(`/burst/c${i}-${j}`))));
      expect(names).toHaveLength(3 * per_client);
      expect(await e.srvr(leader)).toMatch(/^Mode: leader$/m);
      for (const m of e.members) expect((await childrenAt(e, m.sid, '/burst')).size).toBe(3 * per_client);
      expect(e.member(leader).output()).not.toContain('proposal rejected');
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await e.stop();
    }
  }, TEST_MS);
});

describe('a 5-replica waitfree ensemble', () => {
  it('keeps serving with two replicas down (the leader and a follower), and they rejoin', async () => {
    const e = await startEnsemble({ replicas: 5 });
    try {
      await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
      const load = await startWriteLoad({ connectString: e.connectString, root: '/five', clients: 3, writes_max: 5_000, duration_ms_max: 90_000 });
      try {
        await load.reach(150, 30_000);
        const leader = await leaderOf(e, SETTLE_MS);
        await e.kill(leader, 'SIGKILL');
        const follower = e.members.find((m) => m.alive() && m.sid !== leader)!.sid;
        await e.kill(follower, 'SIGKILL');
        await load.reach(load.acknowledged.length + 150, 45_000);
        await e.restart(leader);
        await e.restart(follower);
        await e.waitFor(serving(e), SETTLE_MS);
        await load.reach(load.acknowledged.length + 50, 45_000);
      } finally {
        await load.stop();
      }
      expect(load.errors).toEqual([]);
      await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
      await expectNoAcknowledgedWriteLost(e, '/five', load.acknowledged);
    } finally {
      await e.stop();
    }
  }, TEST_MS);
});
