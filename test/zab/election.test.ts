// Fast leader election, scripted (etcd-raft interaction style): deliver chosen notifications,
// check the votes sent and the decisions.

import { describe, expect, it } from 'vitest';
import { Election, voteBeats, type ElectionConfig, type ElectionOutput, type Vote } from '../../src/zab/election.js';
import type { Notification } from '../../src/zab/messages.js';
import { QuorumVerifier } from '../../src/zab/quorum.js';
import { makeZxid as z } from '../../src/zab/zxid.js';

const cfg: ElectionConfig = { finalize_ticks: 2, notify_ticks_min: 2, notify_ticks_max: 16 };
const qv3 = new QuorumVerifier([1, 2, 3]);

interface Msg {
  from: number;
  to: number;
  msg: Notification;
}

/** Elections of several replicas and the notifications between them (delivered on demand). */
class Script {
  readonly e = new Map<number, Election>();
  readonly inflight: Msg[] = [];
  readonly decided = new Map<number, number>();
  now = 0;

  constructor(qv: QuorumVerifier, c: ElectionConfig = cfg) {
    for (const sid of [...qv.voters, ...qv.observers]) this.e.set(sid, new Election(sid, qv, c));
  }

  out(from: number, o: ElectionOutput): void {
    for (const s of o.sends) this.inflight.push({ from, to: s.to, msg: s.msg });
    if (o.decided !== null) this.decided.set(from, o.decided.vote.leader);
  }

  start(sid: number, zxid = z(1, 1), peer_epoch = 1): void {
    this.out(sid, this.get(sid).start(this.now, { leader: sid, zxid, peer_epoch }));
  }

  get(sid: number): Election {
    const e = this.e.get(sid);
    if (e === undefined) throw new Error(`no ${sid}`);
    return e;
  }

  /** Delivers every in-flight message (and those they cause) except those `drop` refuses. */
  deliverAll(drop: (m: Msg) => boolean = () => false): void {
    for (let i = 0; this.inflight.length > 0; i++) {
      if (i > 10_000) throw new Error('no quiescence');
      const m = this.inflight.shift() as Msg;
      if (drop(m)) continue;
      this.out(m.to, this.get(m.to).onNotification(this.now, m.from, m.msg));
    }
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.now += 1;
      for (const [sid, e] of this.e) this.out(sid, e.onTick(this.now));
    }
  }
}

const v = (leader: number, zxid = z(1, 1), peer_epoch = 1): Vote => ({ leader, zxid, peer_epoch });

describe('fast leader election', () => {
  it('orders votes by (peer epoch, zxid, sid); observers cannot win', () => {
    const qv = new QuorumVerifier([1, 2, 3], [4]);
    expect(voteBeats(v(1, z(1, 100), 2), v(3, z(9, 9), 1), qv)).toBe(true); // epoch first
    expect(voteBeats(v(1, z(2, 1)), v(3, z(1, 9)), qv)).toBe(true); // then zxid
    expect(voteBeats(v(3), v(2), qv)).toBe(true); // then sid
    expect(voteBeats(v(2), v(3), qv)).toBe(false);
    expect(voteBeats(v(4, z(9, 9), 9), v(1), qv)).toBe(false); // an observer never
    expect(voteBeats(v(1), v(4, z(9, 9), 9), qv)).toBe(true); // and any voter beats a vote for one
  });

  it('three voters converge on the best history; once every voter agrees they decide without the finalize wait', () => {
    const s = new Script(qv3);
    s.start(1, z(1, 5));
    s.start(2, z(1, 7));
    s.start(3, z(1, 6));
    s.deliverAll();
    expect([...s.decided.entries()].sort()).toEqual([
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
  });

  it('a quorum that agrees waits finalize_ticks while a reachable voter has not voted, and not for one whose connection reset', () => {
    const waiting = new Script(qv3);
    waiting.start(1, z(1, 5));
    waiting.start(2, z(1, 6));
    waiting.deliverAll(); // 3 is silent but not known down: a better vote may still come
    expect(waiting.decided.size).toBe(0);
    waiting.tick(2);
    expect(waiting.decided.get(1)).toBe(2);

    const failover = new Script(qv3);
    failover.get(1).peerDown(3); // the old leader's connections reset
    failover.get(2).peerDown(3);
    failover.start(1, z(1, 5));
    failover.start(2, z(1, 6));
    failover.deliverAll((m) => m.to === 3);
    expect(failover.decided.get(1)).toBe(2); // no tick: decided as soon as the votes agreed
    expect(failover.decided.get(2)).toBe(2);

    const back = new Script(qv3);
    back.get(1).peerDown(3);
    back.get(1).peerUp(3); // 3 sent something since: it is reachable again
    back.start(1, z(1, 5));
    back.start(2, z(1, 6));
    back.deliverAll((m) => m.to === 3 || m.from === 3);
    expect(back.decided.get(1)).toBeUndefined();
  });

  it('a better vote arriving during the finalize wait changes the outcome', () => {
    const s = new Script(qv3);
    s.start(1, z(1, 5));
    s.start(2, z(1, 6));
    s.deliverAll(); // 1 and 2 agree on 2 (a quorum of 3) and start finalizing; 3 is silent
    s.tick(1);
    expect(s.decided.size).toBe(0);
    s.start(3, z(1, 9));
    s.deliverAll();
    s.tick(2);
    expect(s.decided.get(1)).toBe(3);
    expect(s.decided.get(2)).toBe(3);
  });

  it('with finalize_ticks = 0 a quorum decides at once', () => {
    const s = new Script(qv3, { ...cfg, finalize_ticks: 0 });
    s.start(1, z(1, 5));
    s.start(2, z(1, 6));
    s.deliverAll();
    expect(s.decided.get(1)).toBe(2);
    expect(s.decided.get(2)).toBe(2);
  });

  it('re-sends with a doubling interval, bounded by notify_ticks_max', () => {
    const s = new Script(qv3, { finalize_ticks: 1, notify_ticks_min: 2, notify_ticks_max: 8 });
    s.start(1);
    s.inflight.length = 0;
    const sent_at: number[] = [];
    for (let t = 0; t < 60; t++) {
      s.tick(1);
      if (s.inflight.length > 0) sent_at.push(s.now);
      s.inflight.length = 0; // nobody answers
    }
    const gaps = sent_at.map((t, i) => t - (i === 0 ? 0 : sent_at[i - 1]));
    expect(gaps.slice(0, 4)).toEqual([2, 4, 8, 8]);
    expect(Math.max(...gaps)).toBe(8);
    expect(s.get(1).notify_interval_ticks).toBe(8);
  });

  it('a replica of an earlier round gets our vote back and joins our round', () => {
    const s = new Script(qv3);
    s.start(1);
    s.start(1); // round 2 (e.g. a failed first election)
    s.inflight.length = 0;
    s.start(2, z(1, 3)); // round 1
    s.deliverAll((m) => m.to === 3);
    expect(s.get(2).logicalclock).toBe(2);
    expect(s.get(2).vote.leader).toBe(2);
    expect(s.get(1).vote.leader).toBe(2);
  });

  it('a late replica learns the leader from FOLLOWING/LEADING reports, but only with the leader\'s own', () => {
    const s = new Script(qv3);
    s.start(3, z(1, 1));
    s.inflight.length = 0;
    const report = (state: 'FOLLOWING' | 'LEADING'): Notification => ({
      type: 'NOTIFICATION',
      state,
      leader: 1,
      zxid: z(4, 2),
      election_epoch: 7,
      peer_epoch: 5,
      config: null,
    });
    const e3 = s.get(3);
    expect(e3.onNotification(0, 2, report('FOLLOWING')).decided).toBeNull(); // one report, not a quorum
    // Reports of a settled ensemble may differ in zxid and round (ZOOKEEPER-1805): only (leader, epoch) must match.
    expect(e3.onNotification(0, 2, { ...report('FOLLOWING'), zxid: z(3, 9), election_epoch: 6 }).decided).toBeNull();
    const d = e3.onNotification(0, 1, report('LEADING')).decided;
    expect(d?.vote.leader).toBe(1);
    expect(e3.logicalclock).toBe(7);
  });

  it('a quorum of FOLLOWING reports about a leader that does not say LEADING is not enough', () => {
    const qv5 = new QuorumVerifier([1, 2, 3, 4, 5]);
    const s = new Script(qv5);
    s.start(5);
    const e5 = s.get(5);
    const following: Notification = { type: 'NOTIFICATION', state: 'FOLLOWING', leader: 1, zxid: z(2, 2), election_epoch: 3, peer_epoch: 2, config: null };
    for (const from of [2, 3, 4]) expect(e5.onNotification(0, from, following).decided).toBeNull();
    expect(e5.looking).toBe(true);
  });

  it('an observer\'s vote never counts; voters answer it so it learns theirs', () => {
    const qv = new QuorumVerifier([1, 2, 3], [4]);
    const s = new Script(qv, { ...cfg, finalize_ticks: 0 });
    s.start(4, z(9, 9), 9); // the observer has the "best" history, yet cannot win
    s.start(1, z(1, 1));
    s.deliverAll((m) => m.to === 2 || m.to === 3 || m.from === 2 || m.from === 3);
    expect(s.get(1).vote.leader).toBe(1);
    expect(s.get(4).vote.leader).toBe(1);
    expect(s.decided.size).toBe(0); // 1 alone is no quorum, the observer does not make one
    s.start(2, z(1, 1));
    s.deliverAll();
    expect(s.decided.get(1)).toBe(2);
    expect(s.decided.get(2)).toBe(2);
    expect(s.decided.has(4)).toBe(false); // settled voters answer it FOLLOWING/LEADING (the core does that)
  });
});
