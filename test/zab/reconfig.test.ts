// Reconfiguration of the voters in the Zab core (src/zab/membership.ts): scripted interactions
// on hand-driven cores. A reconfig txn here is 'R' + JSON {voters, observers}; every other txn is
// an ordinary write.

import { describe, expect, it } from 'vitest';
import type { MembershipSpec } from '../../src/zab/membership.js';
import type { ZabConfig } from '../../src/zab/config.js';
import { makeZxid, zxidLt, zxidToString, ZXID_ZERO } from '../../src/zab/zxid.js';
import { EMPTY, Harness } from './harness.js';
import type { ZabInit } from '../../src/zab/zab_core.js';

const R = 0x52;

function reconfigTxn(voters: number[], observers: number[] = []): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ voters, observers }));
  return new Uint8Array([R, ...json]);
}

function membershipOf(txn: Uint8Array): MembershipSpec | null {
  if (txn[0] !== R) return null;
  return JSON.parse(new TextDecoder().decode(txn.subarray(1))) as MembershipSpec;
}

const OVER: Partial<ZabConfig> = { membership_of: membershipOf };
const write = (n: number) => new Uint8Array([1, n]);

function leaderOf(h: Harness): number {
  const l = [...h.cores.entries()].filter(([, c]) => c.state === 'LEADING');
  expect(l).toHaveLength(1);
  return l[0][0];
}

describe('ZabCore: reconfiguring the voters', () => {
  it('an observer becomes a voter: it rejoins as a follower and counts in the new quorum', () => {
    const h = new Harness([1, 2, 3], [4], OVER);
    h.startAll();
    h.settle();
    const leader = leaderOf(h);
    h.step(leader, { type: 'propose', txn: reconfigTxn([1, 2, 3, 4]) });
    h.deliverAll();
    for (const sid of [1, 2, 3, 4]) expect(h.core(sid).qv.voters, `r${sid}`).toEqual([1, 2, 3, 4]);
    h.tickAll(1);
    h.settle();
    expect(h.core(4).state).toBe('FOLLOWING');
    const l = leaderOf(h);
    expect(h.core(l).learnerHandlers.get(4)?.observer).toBe(false);
    // Four voters: a quorum is three. With one voter cut off a write commits; with two, not.
    const others = [1, 2, 3, 4].filter((s) => s !== l);
    const commits = (cut: Set<number>, n: number): boolean => {
      const before = h.core(l).window.committed;
      h.step(l, { type: 'propose', txn: write(n) });
      h.deliverAll((m) => cut.has(m.to) || cut.has(m.from));
      return zxidToString(h.core(l).window.committed) !== zxidToString(before);
    };
    expect(commits(new Set(others.slice(2)), 1)).toBe(true);
    expect(commits(new Set(others.slice(1)), 2)).toBe(false);
  });

  it('while a reconfig is in flight, it and every txn after it need a quorum of the new voters too', () => {
    // Voters 1,2,3 -> voters 1,4,5 (4 and 5 observers: they never ACK). The old quorum has it
    // durably, the new one cannot: nothing from the reconfig on commits, what came before does.
    const h = new Harness([1, 2, 3], [4, 5], OVER);
    h.startAll();
    h.settle();
    const leader = leaderOf(h);
    expect(leader).not.toBe(1); // (the highest sid wins the first election)
    const core = h.core(leader);
    h.step(leader, { type: 'propose', txn: write(1) });
    h.step(leader, { type: 'propose', txn: reconfigTxn([leader, 4, 5], [1, 2, 3].filter((s) => s !== leader)) });
    h.step(leader, { type: 'propose', txn: write(2) });
    h.deliverAll();
    const [w1, rc, w2] = core.window.after(ZXID_ZERO).slice(-3).map((e) => e.zxid);
    expect(zxidToString(core.window.committed)).toBe(zxidToString(w1));
    expect(core.views.pending.map((p) => zxidToString(p.zxid))).toEqual([zxidToString(rc)]);
    expect(core.qv.voters).toEqual([1, 2, 3]);
    // The followers hold it too (durably: they ACKed): an election among the old voters alone
    // can no longer be won by a replica that has it.
    for (const sid of [1, 2, 3]) expect(h.core(sid).window.last()).toEqual(w2);
  });

  it('the leader leaves the voters: once committed it steps down and the new voters elect a leader', () => {
    const h = new Harness([1, 2, 3], [], OVER);
    h.startAll();
    h.settle();
    const leader = leaderOf(h);
    const rest = [1, 2, 3].filter((s) => s !== leader);
    h.step(leader, { type: 'propose', txn: reconfigTxn(rest, [leader]) });
    h.deliverAll();
    for (const sid of [1, 2, 3]) expect(h.core(sid).qv.voters, `r${sid}`).toEqual(rest);
    // It steps down on its next tick (the COMMIT leaves first), proposing nothing meanwhile: a
    // write it takes then is queued, and enters its log as a proposal never sent when it leaves
    // (its driver logged it already: log and window must agree). The new leader truncates it.
    expect(h.core(leader).state).toBe('LEADING');
    const last = h.core(leader).window.last();
    expect(h.step(leader, { type: 'propose', txn: write(6) })).toEqual([]);
    expect(h.step(leader, { type: 'tick' }).map((e) => e.type)).toContain('append');
    expect(h.core(leader).state).not.toBe('LEADING');
    expect(zxidLt(last, h.core(leader).window.last())).toBe(true);
    expect(h.inflight.some((m) => m.from === leader && m.msg.type === 'PROPOSAL')).toBe(false);
    h.settle();
    const next = leaderOf(h);
    expect(rest).toContain(next);
    expect(h.core(leader).state).toBe('OBSERVING');
    const before = h.core(next).window.committed;
    h.step(next, { type: 'propose', txn: write(7) });
    h.deliverAll();
    expect(h.core(next).window.committed).not.toEqual(before);
    expect(h.core(leader).window.committed).toEqual(h.core(next).window.committed);
    // The deposed leader's unsent proposal was truncated by the new leader's sync.
    expect(h.core(leader).window.last()).toEqual(h.core(next).window.last());
  });

  it('a voter removed from the ensemble steps down and is no longer heard', () => {
    const h = new Harness([1, 2, 3, 4], [], OVER);
    h.startAll();
    h.settle();
    const leader = leaderOf(h);
    const gone = [1, 2, 3, 4].find((s) => s !== leader)!;
    const rest = [1, 2, 3, 4].filter((s) => s !== gone);
    h.step(leader, { type: 'propose', txn: reconfigTxn(rest) });
    h.deliverAll();
    h.tickAll(2);
    h.deliverAll();
    expect(h.core(gone).state).toBe('LOOKING');
    expect(h.core(leader).learnerHandlers.has(gone)).toBe(false);
    for (const sid of rest) expect(h.core(sid).serving, `r${sid}`).toBe(true);
    // Its votes reach nobody who listens: it stays out.
    h.tickAll(30);
    h.deliverAll();
    expect(h.core(gone).state).toBe('LOOKING');
  });

  it('a replica restarted with a reconfig in its log elects only with quorums of both memberships', () => {
    // r1 logged (not known committed) a reconfig 1,2,3 -> 1,4,5. With r1 and r2 up, the old
    // voters have a quorum, the new do not: no leader. r4 comes up: both have one.
    const rc = reconfigTxn([1, 4, 5]);
    const logged = { ...EMPTY, accepted_epoch: 1, current_epoch: 1, log: [{ zxid: makeZxid(1, 1), txn: rc }] };
    const h = new Harness([], [], OVER);
    h.addCore(1, [1, 2, 3], [], OVER, logged);
    h.addCore(2, [1, 2, 3], [], OVER, { ...EMPTY, accepted_epoch: 1, current_epoch: 1 });
    expect(h.core(1).views.pending).toHaveLength(1);
    expect(h.core(1).views.voters).toEqual([1, 2, 3, 4, 5]);
    h.step(1, { type: 'start' });
    h.step(2, { type: 'start' });
    const states = new Set<string>();
    for (let i = 0; i < 30; i++) {
      h.deliverAll((m) => m.to > 3 || m.to === 3);
      h.tickAll(1);
      states.add(`r1 ${h.core(1).state}`).add(`r2 ${h.core(2).state}`);
    }
    // r2 votes for r1 (its log is longer): a quorum of the old voters, not of the new. r2 may
    // try to follow it (following needs the committed membership's quorum only); nobody leads.
    expect(states.has('r1 LEADING') || states.has('r2 LEADING')).toBe(false);
    expect(h.core(1).state).toBe('LOOKING');
    // r4 starts with the new membership as its own (an operator adding it).
    h.addCore(4, [1, 4, 5], [], OVER);
    h.step(4, { type: 'start' });
    for (let i = 0; i < 60 && !(h.core(1).serving && h.core(4).serving); i++) {
      h.deliverAll((m) => m.to === 3 || m.to === 5);
      h.tickAll(1);
    }
    expect(h.core(1).state).toBe('LEADING');
    expect(h.core(4).state).toBe('FOLLOWING');
    // Establishing the epoch committed the reconfig: the new membership is active on both.
    expect(h.core(1).qv.voters).toEqual([1, 4, 5]);
    expect(h.core(4).qv.voters).toEqual([1, 4, 5]);
  });
});

describe('ZabCore: a follower demoted to observer', () => {
  it('is sent a COMMIT for a proposal it already holds past the commit point when it synced', () => {
    const h = new Harness([1, 2, 3], [], OVER);
    h.startAll();
    h.settle();
    const leader = leaderOf(h);
    const [demoted, other] = [1, 2, 3].filter((s) => s !== leader);
    // The reconfig (demoted -> observer) and a write right after it.
    h.step(leader, { type: 'propose', txn: reconfigTxn([leader, other], [demoted]) });
    h.step(leader, { type: 'propose', txn: write(1) });
    const [rc, w] = h.core(leader).window.after(ZXID_ZERO).slice(-2).map((e) => e.zxid);
    const to = (sid: number, type: string) => (m: { to: number; msg: { type: string } }) => m.to === sid && m.msg.type === type;
    // `demoted` gets and acknowledges both; `other` only the reconfig (its ACK of the write waits).
    h.deliver(to(demoted, 'PROPOSAL'));
    h.deliver(to(demoted, 'PROPOSAL'));
    h.deliver(to(other, 'PROPOSAL'));
    h.deliver((m) => m.to === leader && m.from === other && m.msg.type === 'ACK');
    h.deliverAll((m) => (m.to === other && m.msg.type === 'PROPOSAL') || (m.from === other && m.msg.type === 'ACK'));
    // The reconfig committed (old quorum: leader + demoted; new: leader + other), the write not.
    expect(h.core(leader).window.committed).toEqual(rc);
    expect(h.core(demoted).window.last()).toEqual(w);
    expect(h.core(demoted).qv.isObserver(demoted)).toBe(true);
    // It rejoins as an observer holding the write; then `other` acknowledges it.
    for (let i = 0; i < 40 && h.core(demoted).state !== 'OBSERVING'; i++) {
      h.tickAll(1);
      h.deliverAll((m) => m.to === other && m.msg.type === 'PROPOSAL');
    }
    expect(h.core(demoted).state).toBe('OBSERVING');
    expect(h.core(demoted).window.committed).toEqual(rc);
    h.step(other, { type: 'message', from: leader, msg: { type: 'PROPOSAL', zxid: w, txn: write(1) } });
    h.deliverAll();
    expect(h.core(leader).window.committed).toEqual(w);
    expect(h.core(demoted).window.committed).toEqual(w);
  });
});

describe('ZabCore: a leader restarted right after a reconfig committed', () => {
  it('its first election does not leave the other voter following a round it has left (no initLimit stall)', () => {
    // Voters 1,2,3 -> voters 1,3 and observer 2, committed everywhere; then the leader, r3, is
    // SIGKILLed and restarts. Its log holds the reconfig but not that it committed (no
    // snapshot since), so it starts under voters {1,2,3} with {1,3} in flight, and learns the
    // committed membership from r1's first notification: it starts a new round under it. r1 had
    // already counted r3's vote of the round before and followed it; it must not wait initLimit
    // for a leader that is electing in a newer round.
    const h = new Harness([1, 2, 3], [], { ...OVER, init_limit_ticks: 20 });
    h.startAll();
    h.settle();
    expect(leaderOf(h)).toBe(3);
    h.step(3, { type: 'propose', txn: reconfigTxn([1, 3], [2]) });
    h.deliverAll();
    for (const sid of [1, 2, 3]) expect(h.core(sid).qv.voters, `r${sid}`).toEqual([1, 3]);
    h.tickAll(1);
    h.settle();
    const r3 = h.core(3);
    const entries = Array.from({ length: r3.window.length }, (_, i) => r3.window.at(i));
    const restarted = { accepted_epoch: r3.accepted_epoch, current_epoch: r3.current_epoch, log_base: ZXID_ZERO, log: entries, committed: ZXID_ZERO };
    h.inflight.length = 0;
    h.addCore(3, [1, 2, 3], [], { ...OVER, init_limit_ticks: 20 }, restarted);
    expect(h.core(3).views.pending).toHaveLength(1);
    h.step(1, { type: 'peer_reset', peer: 3 });
    h.step(2, { type: 'peer_reset', peer: 3 });
    h.step(3, { type: 'start' });
    let ticks = 0;
    const rounds_per_step: number[][] = [];
    for (; ticks < 40 && !(h.core(1).serving && h.core(3).serving); ticks++) {
      while (h.inflight.length > 0) {
        const to = h.inflight[0]!.to;
        const out = h.deliver();
        if (to !== 3) continue;
        const rounds = out.flatMap((e) => (e.type === 'send' && e.msg.type === 'NOTIFICATION' ? [e.msg.election_epoch] : []));
        rounds_per_step.push([...new Set(rounds)]);
      }
      h.tickAll(1);
    }
    // r3 never announces a vote in a round it leaves within the same step.
    for (const rounds of rounds_per_step) expect(rounds.length, JSON.stringify(rounds_per_step)).toBeLessThanOrEqual(1);
    expect(h.core(3).state).toBe('LEADING');
    expect(h.core(1).state).toBe('FOLLOWING');
    // An election and a sync take a few ticks; initLimit is 20.
    expect(ticks, h.lines.filter((l) => l.includes('role')).join('\n')).toBeLessThan(10);
  });
});

describe('ZabCore: an observer that a reconfig in flight makes a voter, and that lacks it', () => {
  // Committed: voters 2,3 and observer 1. In flight in the logs of r2 and r3 (never committed):
  // voters 1,2 and observer 3. After a restart of all three, an epoch needs a quorum of both
  // memberships, so r1's promise and its ACK of NEWLEADER; r1 holds only the committed one and
  // follows as an observer (Zab simulator seeds 11039, 14010, 20491: nobody ever led again).
  const rc = reconfigTxn([1, 2], [3]);
  const logged: ZabInit = { ...EMPTY, accepted_epoch: 1, current_epoch: 1, log: [{ zxid: makeZxid(1, 1), txn: rc }] };
  const start = (): Harness => {
    const h = new Harness([], [], OVER);
    h.addCore(1, [2, 3], [1], OVER, { ...EMPTY, accepted_epoch: 1, current_epoch: 1 });
    h.addCore(2, [2, 3], [1], OVER, logged);
    h.addCore(3, [2, 3], [1], OVER, logged);
    h.startAll();
    return h;
  };

  it('counts as a voter at the leader: the epoch is established, the reconfig commits, r1 follows as a voter', () => {
    const h = start();
    expect(h.core(1).views.pending).toHaveLength(0);
    h.settle();
    // The first leader (r3, of the committed voters) established the epoch with r1's help, which
    // committed the reconfig: r3 left the voters and r1, r2 elected a leader among themselves.
    for (const sid of [1, 2, 3]) expect(h.core(sid).qv.voters, `r${sid}`).toEqual([1, 2]);
    expect(h.lines.some((l) => l.startsWith('r3: role LEADING broadcast'))).toBe(true);
    expect(h.lines.some((l) => l.startsWith('r1: role OBSERVING sync'))).toBe(true);
    const leader = leaderOf(h);
    expect([1, 2]).toContain(leader);
    expect(h.core(3).state).toBe('OBSERVING');
    const other = leader === 1 ? 2 : 1;
    expect(h.core(other).state).toBe('FOLLOWING');
    // Two voters: a write commits with both, not without the other.
    const before = h.core(leader).window.committed;
    h.step(leader, { type: 'propose', txn: write(1) });
    h.deliverAll();
    const after = h.core(leader).window.committed;
    expect(zxidLt(before, after)).toBe(true);
    h.step(leader, { type: 'propose', txn: write(2) });
    h.deliverAll((m) => m.to === other || m.from === other);
    expect(h.core(leader).window.committed).toEqual(after);
  });

  it('its ACK of NEWLEADER counts only after a fresh promise in the same session', () => {
    // r1's first session with r3 ends after its promise and before its ACK of NEWLEADER; in the
    // next session it accepts the same epoch again (not fresh: an observer does not refuse an
    // epoch below its promise, so the leader cannot tell a promise to it from one to a later
    // leader). r3 does not establish that epoch; a later election does.
    const h = start();
    let cut = false;
    let leader_epoch = 0;
    for (let i = 0; i < 60 && !cut; i++) {
      h.deliverAll((m) => {
        if (cut || m.from !== 3 || m.to !== 1 || m.msg.type !== 'DIFF') return false;
        cut = true;
        leader_epoch = h.core(3).accepted_epoch;
        return true;
      });
      if (!cut) h.tickAll(1);
    }
    expect(cut).toBe(true);
    // The session breaks: both sides see the reset; the rest of its stream is lost.
    for (let i = h.inflight.length - 1; i >= 0; i--) if (h.inflight[i]!.from === 3 && h.inflight[i]!.to === 1) h.inflight.splice(i, 1);
    const mark = h.lines.length;
    h.step(1, { type: 'peer_reset', peer: 3 });
    h.step(3, { type: 'peer_reset', peer: 1 });
    for (let i = 0; i < 60 && !h.core(1).serving; i++) {
      h.deliverAll();
      h.tickAll(1);
    }
    // r3's leadership of that epoch ends without being established (initLimit); r1 rejoined it.
    const r3_roles = h.since(mark).filter((l) => l.startsWith('r3: role'));
    expect(h.since(mark).filter((l) => l.startsWith('r1: send 3 ACKEPOCH')), 'r1 rejoined r3').toContain('r1: send 3 ACKEPOCH ce=1 last=0:0 (not fresh)');
    expect(r3_roles[0], r3_roles.join('\n')).toBe('r3: role LOOKING election');
    expect(h.core(3).accepted_epoch).toBeGreaterThan(leader_epoch);
    h.settle();
    expect(h.core(1).qv.voters).toEqual([1, 2]);
  });
});

describe('ZabCore: a server a committed reconfig removed, restarted', () => {
  it('starts as a non-member of that membership: it never leads nor follows, though zoo.cfg would give its peers a quorum', () => {
    // zoo.cfg: voters 1..5. Committed at 1:5 (in the snapshots of 3, 4, 5): voters 1, 2. Servers
    // 3, 4 and 5 restart with that membership; 1 and 2 are down.
    const h = new Harness([], [], OVER);
    const removed_at = makeZxid(1, 5);
    const init: ZabInit = { ...EMPTY, accepted_epoch: 1, current_epoch: 1, log_base: removed_at, committed: removed_at, membership_version: removed_at };
    for (const sid of [3, 4, 5]) h.addCore(sid, [1, 2], [], OVER, init);
    h.startAll();
    for (let i = 0; i < 60; i++) {
      h.deliverAll();
      h.tickAll(1);
    }
    for (const sid of [3, 4, 5]) expect(h.core(sid).state, `r${sid}`).toBe('LOOKING');
    // Its configured membership must have it unless a reconfig made that membership.
    expect(() => new Harness([], [], OVER).addCore(3, [1, 2], [], OVER, EMPTY)).toThrow(/neither a voter nor an observer/);
  });
});

describe('ZabCore: what a restarted replica knows committed', () => {
  it('a reconfig before a later epoch\'s first txn in its log is committed: its membership is active at once', () => {
    // zoo.cfg: voters 1,2,3. The log: the reconfig to voters 1,2 at 1:1, then txns of epoch 2
    // (epoch 2 was established, so its initial history, the reconfig included, committed).
    const rc = reconfigTxn([1, 2], [3]);
    const log = [{ zxid: makeZxid(1, 1), txn: rc }, { zxid: makeZxid(2, 1), txn: write(1) }];
    const h = new Harness([], [], OVER);
    const core = h.addCore(1, [1, 2, 3], [], OVER, { ...EMPTY, accepted_epoch: 2, current_epoch: 2, log });
    expect(core.qv.voters).toEqual([1, 2]);
    expect(core.views.pending).toHaveLength(0);
    expect(core.window.committed).toEqual(makeZxid(1, 1));
    // The driver is told first thing, so that its state holds it (a SNAP is made from it).
    expect(h.step(1, { type: 'start' })[0]).toEqual({ type: 'commit', to: makeZxid(1, 1) });
    // Within one epoch nothing is proven: the reconfig stays in flight.
    const same = h.addCore(2, [1, 2, 3], [], OVER, { ...EMPTY, accepted_epoch: 1, current_epoch: 1, log: [{ zxid: makeZxid(1, 1), txn: rc }, { zxid: makeZxid(1, 2), txn: write(1) }] });
    expect(same.qv.voters).toEqual([1, 2, 3]);
    expect(same.views.pending).toHaveLength(1);
  });
});

describe('ZabCore: the leader\'s synced voters', () => {
  it('leave out a follower a committed reconfig removed, before the tick that drops it', () => {
    const h = new Harness([1, 2, 3], [], OVER);
    h.startAll();
    h.settle();
    const leader = leaderOf(h);
    const [gone, kept] = [1, 2, 3].filter((s) => s !== leader);
    expect(h.core(leader).syncedVoters().sort()).toEqual([1, 2, 3]);
    h.step(leader, { type: 'propose', txn: reconfigTxn([leader, kept!]) });
    h.deliverAll();
    expect(h.core(leader).qv.voters).toEqual([leader, kept]);
    // Its session is still there (dropped on the next tick), synced; it no longer counts.
    expect(h.core(leader).learnerHandlers.get(gone!)?.stage).toBe('synced');
    expect(h.core(leader).syncedVoters().sort()).toEqual([leader, kept].sort());
  });
});
