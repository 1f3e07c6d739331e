// Scripted scenarios on the deterministic simulator: each one steers the ensemble into a
// known situation (crash, partition, lag) and checks what a user would notice (writes
// acknowledged or not, who leads, how a replica was synced), while the simulator's invariant
// checker watches every apply and acknowledgement (invariants.ts).

import { describe, expect, it } from 'vitest';
import { zxidEq, zxidLt, type Zxid } from '../../src/zab/zxid.js';
import { digestOf } from './app.js';
import { Simulation, type SimClient, type SimOptions, type SimReplica } from './simulation.js';

function sim(over: Partial<SimOptions> = {}): Simulation {
  return new Simulation({ seed: 42, clients: 0, ...over, zab: { committed_log_max: 100, ...over.zab } });
}

function settled(s: Simulation): boolean {
  const l = s.leader();
  if (l === null) return false;
  for (const r of s.replicas.values()) if (r.up && !r.serving) return false;
  return true;
}

function mustRun(s: Simulation, what: string, pred: () => boolean, ms = 3000): void {
  if (!s.runUntil(pred, ms)) throw new Error(`scenario: ${what} did not happen within ${ms} ms (t=${s.now})\n${s.lines.slice(-40).join('\n')}`);
}

function leaderOf(s: Simulation): SimReplica {
  const l = s.leader();
  if (l === null) throw new Error('no leader');
  return l;
}

/**
 * Writes `n` values through replica `via`, one at a time, each acknowledged: a write that is
 * rejected or whose outcome becomes unknown (the replica stopped serving) is written again, as
 * a client would, once `via` serves.
 */
function writeAcked(s: Simulation, c: SimClient, via: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const before = c.acked;
    for (let attempt = 0; c.acked === before; attempt++) {
      if (attempt >= 10) throw new Error(`scenario: write ${i} via r${via} never acknowledged`);
      mustRun(s, `r${via} serves`, () => s.replica(via).serving);
      const seq = s.submit(c, s.replica(via));
      mustRun(s, `write ${i} via r${via} settled`, () => !c.pending.has(seq));
    }
  }
}

/** Every up replica serves and applied the leader's last commit, with equal digests. */
function converge(s: Simulation): void {
  mustRun(s, 'convergence', () => {
    const l = s.leader();
    if (l === null || l.core === null) return false;
    const w = l.core.window;
    if (!zxidEq(w.committed, w.last())) return false;
    return [...s.replicas.values()].every((r) => r.serving && zxidEq(r.app.zxid, w.committed));
  });
  const states = [...s.replicas.values()].map((r) => ({ sid: r.sid, zxid: r.app.zxid, digest: digestOf(r.app), ids: r.app.ids }));
  s.checker.checkConverged(states);
}

const followers = (s: Simulation): SimReplica[] => [...s.replicas.values()].filter((r) => r.up && r.core?.state === 'FOLLOWING');

describe('Zab scenarios (deterministic simulation)', () => {
  it('leader crash during broadcast: a new leader takes over, no acknowledged write is lost', () => {
    const s = sim({ voters: 3, zab: { in_flight_max: 8 } });
    s.start();
    mustRun(s, 'first leader', () => settled(s));
    const old = leaderOf(s);
    const f = followers(s)[0];
    const c = s.addClient(f.sid); // keeps writing through a follower
    mustRun(s, '20 writes acknowledged', () => c.acked >= 20);
    mustRun(s, 'proposals in flight at the leader', () => (old.core?.window.uncommittedCount() ?? 0) > 0);
    const acked_before = c.acked;
    s.crash(old.sid);
    mustRun(s, 'a new leader', () => s.leader() !== null && s.leader() !== old);
    const nu = leaderOf(s);
    expect(nu.role?.epoch).toBeGreaterThan(old.role?.epoch ?? 0);
    mustRun(s, 'writes continue', () => c.acked >= acked_before + 20);
    c.stopped = true;
    s.restart(old.sid);
    converge(s); // includes: every acknowledged write is on every replica
    expect(s.replica(old.sid).core?.state).toBe('FOLLOWING');
  });

  it('a follower (the old leader) with an uncommitted suffix is told to TRUNC it', () => {
    const s = sim({ voters: 3 });
    s.start();
    mustRun(s, 'first leader', () => settled(s));
    const old = leaderOf(s);
    const writer = s.scriptedClient(old.sid);
    writeAcked(s, writer, old.sid, 5);
    // The leader's proposals stop reaching anyone; its clients' writes land only in its own log.
    for (const r of s.replicas.values()) if (r !== old) s.net.block(old.sid, r.sid, true);
    for (let i = 0; i < 3; i++) s.submit(writer, old);
    const committed: Zxid = old.core!.window.committed;
    mustRun(s, 'the old leader logged its suffix', () => zxidLt(committed, old.lastZxid()) && old.core!.window.uncommittedCount() === 3);
    mustRun(s, 'the others elect a new leader', () => s.leader() !== null && s.leader() !== old);
    for (const r of s.replicas.values()) if (r !== old) s.net.block(old.sid, r.sid, false);
    mustRun(s, 'the old leader rejoins as a follower', () => old.serving && old.core?.state === 'FOLLOWING');
    expect(old.sync_heads.at(-1)).toBe('TRUNC');
    expect(writer.acked).toBe(5); // the three writes of the lost suffix were never acknowledged
    converge(s);
    expect(old.app.ids.length).toBe(5);
  });

  it('a far-behind follower (older than the leader\'s committed log) gets a SNAP', () => {
    const s = sim({ voters: 3, zab: { committed_log_max: 5 } });
    s.start();
    mustRun(s, 'first leader', () => settled(s));
    const l = leaderOf(s);
    const f = followers(s)[0];
    s.crash(f.sid);
    writeAcked(s, s.scriptedClient(l.sid), l.sid, 30);
    s.restart(f.sid);
    mustRun(s, 'the follower serves again', () => f.serving);
    expect(f.sync_heads.at(-1)).toBe('SNAP');
    converge(s);
    expect(f.app.ids.length).toBe(30);
  });

  it('a partitioned old leader cannot commit; the majority side elects a leader and commits', () => {
    const s = sim({ voters: 5 });
    s.start();
    mustRun(s, 'first leader', () => settled(s));
    const old = leaderOf(s);
    const buddy = followers(s)[0];
    const minority = [old.sid, buddy.sid];
    const majority = [...s.replicas.keys()].filter((x) => !minority.includes(x));
    const w_old = s.scriptedClient(old.sid);
    writeAcked(s, w_old, old.sid, 3);
    for (const a of minority) for (const b of majority) (s.net.block(a, b, true), s.net.block(b, a, true));
    const committed_at_cut = old.core!.window.committed;
    for (let i = 0; i < 2; i++) s.submit(w_old, old);
    const w_new = s.scriptedClient(majority[0]);
    mustRun(s, 'a leader on the majority side', () => majority.some((x) => s.replica(x).leading));
    writeAcked(s, w_new, majority[0], 3);
    // The old leader never committed past the cut, and none of its clients' new writes was acknowledged.
    expect(zxidEq(old.app.zxid, committed_at_cut)).toBe(true);
    expect(w_old.acked).toBe(3);
    for (const a of minority) for (const b of majority) (s.net.block(a, b, false), s.net.block(b, a, false));
    converge(s);
    expect(old.core?.state).toBe('FOLLOWING');
  });

  it('a restarted follower catches up by DIFF', () => {
    const s = sim({ voters: 3 });
    s.start();
    mustRun(s, 'first leader', () => settled(s));
    const l = leaderOf(s);
    const f = followers(s)[0];
    const c = s.scriptedClient(l.sid);
    writeAcked(s, c, l.sid, 4);
    s.crash(f.sid);
    writeAcked(s, c, l.sid, 6);
    s.restart(f.sid);
    mustRun(s, 'the follower serves again', () => f.serving);
    expect(f.sync_heads.at(-1)).toBe('DIFF');
    converge(s);
    expect(f.app.ids.length).toBe(10);
  });

  it('a replica that starts late learns the established leader (no new election, same epoch)', () => {
    const s = sim({ voters: 3 });
    s.start([3]);
    mustRun(s, 'a leader of two', () => settled(s));
    const l = leaderOf(s);
    const epoch = l.role?.epoch;
    writeAcked(s, s.scriptedClient(l.sid), l.sid, 3);
    s.restart(3);
    mustRun(s, 'r3 serves', () => s.replica(3).serving);
    expect(s.replica(3).core?.leaderSid).toBe(l.sid);
    expect(leaderOf(s).role?.epoch).toBe(epoch);
    converge(s);
  });

  it('zxid counter exhaustion forces a new epoch; writes continue in it', () => {
    const s = sim({ voters: 3, zab: { counter_max: 8 } });
    s.start();
    mustRun(s, 'first leader', () => settled(s));
    const c = s.scriptedClient(leaderOf(s).sid);
    const epochs = new Set<number>();
    for (let i = 0; i < 20; i++) {
      mustRun(s, 'a serving leader', () => settled(s));
      const l = leaderOf(s);
      epochs.add(l.role?.epoch ?? 0);
      writeAcked(s, c, l.sid, 1);
    }
    expect(epochs.size).toBeGreaterThanOrEqual(3);
    converge(s);
    for (const r of s.replicas.values()) expect(r.app.zxid.counter).toBeLessThanOrEqual(8);
  });

  it('observers receive every committed txn (INFORM) but never make a quorum', () => {
    const s = sim({ voters: 3, observers: 2 });
    s.start();
    mustRun(s, 'first leader', () => settled(s));
    const l = leaderOf(s);
    const c = s.scriptedClient(4); // writes through an observer are forwarded to the leader
    writeAcked(s, c, 4, 5);
    converge(s);
    expect(s.replica(4).app.ids.length).toBe(5);
    expect(s.replica(5).core?.state).toBe('OBSERVING');
    // Two voters down: the leader and two observers are not a quorum.
    for (const f of followers(s)) s.crash(f.sid);
    const w = s.scriptedClient(l.sid);
    mustRun(s, 'the leader steps down', () => !l.leading);
    s.runFor(500);
    expect(s.leader()).toBeNull();
    expect(w.acked).toBe(0);
  });
});
