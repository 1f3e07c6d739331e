// ZabCore driven by hand (harness.ts): elections, discovery, sync and broadcast as effect
// sequences, and the core's answers to stale, duplicate and impossible messages.

import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/zab/effects.js';
import type { PeerMessage } from '../../src/zab/messages.js';
import { makeZxid as z, type Zxid } from '../../src/zab/zxid.js';
import { EMPTY, Harness } from './harness.js';

const txn = (n: number): Uint8Array => new Uint8Array([n]);
const log = (...zs: Zxid[]) => zs.map((x, i) => ({ zxid: x, txn: txn(i) }));
const types = (effects: Effect[]): string[] => effects.map((e) => (e.type === 'send' ? `send ${e.to} ${e.msg.type}` : e.type));
const msg = (from: number, m: PeerMessage) => ({ type: 'message' as const, from, msg: m });

function before(lines: string[], a: string, b: string): boolean {
  const i = lines.findIndex((l) => l.startsWith(a));
  const j = lines.findIndex((l) => l.startsWith(b));
  if (i < 0 || j < 0) throw new Error(`missing ${i < 0 ? a : b} in\n${lines.join('\n')}`);
  return i < j;
}

/** Three voters brought to broadcast (r3 leads: highest sid, equal histories). */
function ensemble(over = {}): Harness {
  const h = new Harness([1, 2, 3], [], { election: { finalize_ticks: 1, notify_ticks_min: 2, notify_ticks_max: 8 }, ...over });
  h.startAll();
  h.settle();
  for (const sid of [1, 2, 3]) expect(h.core(sid).serving, `r${sid} serving`).toBe(true);
  expect(h.core(3).state).toBe('LEADING');
  return h;
}

describe('ZabCore: the phases as effect sequences', () => {
  it('elects, discovers, syncs and broadcasts; each epoch is durable before the message that relies on it', () => {
    const h = ensemble();
    const l = h.lines;
    expect(before(l, 'r3: epochs a=1 c=0', 'r3: send 1 LEADERINFO')).toBe(true);
    expect(before(l, 'r1: epochs a=1 c=0', 'r1: send 3 ACKEPOCH')).toBe(true);
    expect(before(l, 'r3: epochs a=1 c=1', 'r3: send 1 NEWLEADER')).toBe(true);
    expect(before(l, 'r1: epochs a=1 c=1', 'r1: send 3 ACK ')).toBe(true);
    const mark = h.lines.length;
    h.step(3, { type: 'propose', txn: txn(7) });
    h.deliverAll();
    const after = h.since(mark);
    expect(after).toContain('r3: append 1:1');
    expect(after).toContain('r1: append 1:1');
    for (const sid of [1, 2, 3]) expect(after).toContain(`r${sid}: commit 1:1`);
    // The leader commits only after a follower's durable ACK (its own persisted counts as one).
    expect(before(after, 'r3: send 1 PROPOSAL', 'r3: commit 1:1')).toBe(true);
    expect(after.some((x) => /^r3: send \d COMMIT 1:1/.test(x))).toBe(true);
  });

  it('a follower acknowledges NEWLEADER only once the synced txns are durable', () => {
    const leader_init = { accepted_epoch: 1, current_epoch: 1, log_base: z(0, 0), log: log(z(1, 1), z(1, 2)), committed: z(0, 0) };
    const h = new Harness([1, 2, 3], [], {}, { 3: leader_init });
    h.auto_persist = false;
    h.startAll();
    h.deliverAll((m) => m.to === 2 || m.from === 2); // r2 stays out: r1 and r3 are the quorum
    const r1 = h.core(1);
    expect(r1.window.last()).toEqual(z(1, 2)); // DIFF + 2 proposals + NEWLEADER arrived
    expect(h.lines.some((x) => x.startsWith('r1: send 3 ACK '))).toBe(false);
    h.step(1, { type: 'persisted', zxid: z(1, 1) });
    expect(h.lines.some((x) => x.startsWith('r1: send 3 ACK '))).toBe(false);
    const effects = h.step(1, { type: 'persisted', zxid: z(1, 2) });
    expect(types(effects)).toEqual(['persist_epochs', 'send 3 ACK']);
    h.deliverAll((m) => m.to === 2 || m.from === 2);
    // H = {1:1, 1:2} is committed by the establishment, everywhere it was synced.
    expect(h.lines).toContain('r3: commit 1:2');
    expect(h.lines).toContain('r1: commit 1:2');
    expect(r1.serving).toBe(true);
  });

  it('a new leader persists currentEpoch only once its own log is durable (no epoch over a shorter log)', () => {
    const h = ensemble();
    h.auto_persist = false;
    h.step(3, { type: 'propose', txn: txn(7) });
    h.deliverAll((m) => m.to === 3); // r1, r2 append 1:1 (nothing durable, no ACK); then r3 is gone
    for (const sid of [1, 2]) h.step(sid, { type: 'peer_reset', peer: 3 });
    const mark = h.lines.length;
    for (let i = 0; i < 40 && h.core(2).state !== 'LEADING'; i++) {
      h.deliverAll((m) => m.to === 3 || m.from === 3);
      h.tickAll(1);
    }
    h.deliverAll((m) => m.to === 3 || m.from === 3);
    expect(h.core(2).state).toBe('LEADING');
    expect(h.core(2).window.last()).toEqual(z(1, 1));
    // The epoch quorum is there (r1 acknowledged epoch 2), but r2's 1:1 is not durable yet.
    expect(h.since(mark)).toContain('r2: epochs a=2 c=1');
    expect(h.since(mark).some((x) => x.startsWith('r2: epochs a=2 c=2'))).toBe(false);
    expect(h.since(mark).some((x) => /^r2: send 1 NEWLEADER/.test(x))).toBe(false);
    const effects = h.step(2, { type: 'persisted', zxid: z(1, 1) });
    expect(types(effects)[0]).toBe('persist_epochs');
    expect(types(effects)).toContain('send 1 NEWLEADER');
    expect(before(h.since(mark), 'r2: epochs a=2 c=2', 'r2: send 1 NEWLEADER')).toBe(true);
  });

  it('only fresh ACKEPOCHs count toward the epoch quorum (no two leaders of one epoch)', () => {
    for (const fresh of [false, true]) {
      const h = new Harness([1, 2, 3]);
      h.step(1, { type: 'start' });
      h.inflight.length = 0;
      // r2 votes for r1: a quorum, r1 leads.
      h.step(1, msg(2, { type: 'NOTIFICATION', state: 'LOOKING', leader: 1, zxid: z(0, 0), election_epoch: 1, peer_epoch: 0, config: null }));
      expect(h.core(1).state).toBe('LEADING');
      h.step(1, msg(2, { type: 'FOLLOWERINFO', sid: 2, accepted_epoch: 0, protocol_version: 0x10000 }));
      expect(h.core(1).accepted_epoch).toBe(1);
      // r2 had already accepted epoch 1 (from another would-be leader): a stale promise.
      const effects = h.step(1, msg(2, { type: 'ACKEPOCH', current_epoch: 0, last_zxid: z(0, 0), fresh }));
      expect(h.core(1).phase).toBe(fresh ? 'sync' : 'discovery');
      expect(types(effects).includes('send 2 NEWLEADER')).toBe(fresh);
    }
  });

  it('a voter that promised a later epoch makes the leader step down until an epoch above it is chosen', () => {
    // r1 accepted epoch 5 in a discovery that failed; r2 and r3 establish epoch 1 without it.
    const h = new Harness([1, 2, 3], [], { election: { finalize_ticks: 1, notify_ticks_min: 2, notify_ticks_max: 8 } }, { 1: { ...EMPTY, accepted_epoch: 5 } });
    h.step(2, { type: 'start' });
    h.step(3, { type: 'start' });
    for (let i = 0; i < 5; i++) (h.deliverAll((m) => m.to === 1), h.tickAll(1));
    expect(h.core(3).serving && h.core(3).current_epoch === 1).toBe(true);
    h.step(1, { type: 'start' });
    h.settle(400);
    const leader = h.core(h.core(1).leaderSid ?? 0);
    expect(leader.current_epoch).toBeGreaterThan(5);
    expect(h.lines.some((x) => x === 'r3: role LOOKING election')).toBe(true);
  });
});

describe('ZabCore: bounds, forwarding, timeouts', () => {
  it('keeps at most in_flight_max proposals outstanding, queues pending_max more, rejects the rest', () => {
    const h = new Harness([1], [], { in_flight_max: 2, pending_max: 1 });
    h.auto_persist = false;
    h.step(1, { type: 'start' });
    expect(h.core(1).serving).toBe(true); // a single voter is its own quorum
    const outs = [1, 2, 3, 4].map((n) => types(h.step(1, { type: 'propose', txn: txn(n) })));
    expect(outs).toEqual([['append'], ['append'], [], ['write_rejected']]);
    const after = h.step(1, { type: 'persisted', zxid: z(1, 1) });
    expect(types(after)).toEqual(['commit', 'append']);
    expect(h.core(1).window.last()).toEqual(z(1, 3));
  });

  it('a leader that steps down with proposals queued behind in_flight_max logs them as unsent proposals, never rejects them', () => {
    // Its driver logged every txn it proposed (prep logs as it proposes): the window must hold
    // them too, or they would stay on disk past the zxid this replica votes with.
    const h = ensemble({ in_flight_max: 1, sync_limit_ticks: 4, ping_ticks: 1 });
    h.auto_persist = false;
    const out = [7, 8, 9].flatMap((n) => h.step(3, { type: 'propose', txn: txn(n) }));
    expect(out.filter((e) => e.type === 'append')).toHaveLength(1);
    // The driver logged all three (the disk is ahead of the window), and they are durable.
    h.step(3, { type: 'persisted', zxid: z(1, 3) });
    expect(h.core(3).window.persisted).toEqual(z(1, 1));
    h.inflight.length = 0; // the followers are gone
    const left: Effect[] = [];
    for (let t = 0; t < 6 && h.core(3).state === 'LEADING'; t++) left.push(...h.step(3, { type: 'tick' }));
    expect(h.core(3).state).toBe('LOOKING');
    expect(types(left)).not.toContain('write_rejected');
    expect(left.filter((e) => e.type === 'append').flatMap((e) => (e.type === 'append' ? e.entries.map((x) => x.zxid) : []))).toEqual([z(1, 2), z(1, 3)]);
    expect(h.core(3).window.last()).toEqual(z(1, 3));
    // Durable as reported before they entered the window: no later report would say so again
    // (a leader elected again would wait for its own log forever).
    expect(h.core(3).window.persisted).toEqual(z(1, 3));
  });

  it('zxid counter exhaustion: the leader steps down and the next epoch numbers from 1', () => {
    const h = new Harness([1], [], { counter_max: 2 });
    h.step(1, { type: 'start' });
    h.step(1, { type: 'propose', txn: txn(1) });
    h.step(1, { type: 'propose', txn: txn(2) });
    const out = h.step(1, { type: 'propose', txn: txn(3) });
    expect(out.some((e) => e.type === 'write_rejected')).toBe(true);
    expect(h.core(1).current_epoch).toBe(2); // re-elected at once (single voter), new epoch
    h.step(1, { type: 'propose', txn: txn(4) });
    expect(h.core(1).window.last()).toEqual(z(2, 1));
  });

  it('a follower forwards writes to the leader (REQUEST); a replica not serving rejects them', () => {
    const fresh = new Harness([1, 2, 3]);
    fresh.step(1, { type: 'start' });
    expect(types(fresh.step(1, { type: 'propose', txn: txn(1) }))).toEqual(['write_rejected']);
    const h = ensemble();
    expect(types(h.step(1, { type: 'propose', txn: txn(9) }))).toEqual(['send 3 REQUEST']);
    h.deliverAll();
    expect(h.lines).toContain('r1: commit 1:1');
  });

  it('a leader that hears from no follower for syncLimit steps down; so does a follower without its leader', () => {
    const h = ensemble({ sync_limit_ticks: 4, ping_ticks: 1 });
    for (let t = 0; t < 5; t++) {
      h.tickAll(1);
      h.inflight.length = 0; // the network is gone
    }
    for (const sid of [1, 2, 3]) expect(h.core(sid).state, `r${sid}`).toBe('LOOKING');
  });

  it('a follower whose connection to the leader reset looks for a leader without closing it again', () => {
    const h = ensemble();
    const out = h.step(1, { type: 'peer_reset', peer: 3 });
    expect(h.core(1).state).toBe('LOOKING');
    expect(types(out)).not.toContain('disconnect');
    expect(types(out)).toContain('send 2 NOTIFICATION');
  });

  it("a follower whose leader is electing in a later round than the one it chose it in looks again (no initLimit wait)", () => {
    const h = ensemble();
    const r1 = h.core(1);
    const looking = (round: number, from: number): PeerMessage => ({ type: 'NOTIFICATION', state: 'LOOKING', leader: from, zxid: r1.window.last(), election_epoch: round, peer_epoch: 1, config: null });
    // The first election was round 1. The leader electing in round 1 (a late copy of its vote)
    // or another voter in round 2 change nothing: r1 answers whom it follows.
    expect(types(h.step(1, msg(3, looking(1, 3))))).toEqual(['send 3 NOTIFICATION']);
    expect(types(h.step(1, msg(2, looking(2, 2))))).toEqual(['send 2 NOTIFICATION']);
    expect(r1.state).toBe('FOLLOWING');
    // The leader in round 2: it left the round r1 followed it in.
    const out = h.step(1, msg(3, looking(2, 3)));
    expect(r1.state).toBe('LOOKING');
    expect(types(out)).toContain('role');
  });

  it('a leader halted by a disk fault leaves for good; the others elect a leader among themselves and commit', () => {
    const h = ensemble();
    const out = h.step(3, { type: 'halt', reason: 'disk fault' });
    expect(types(out)).toEqual(['disconnect', 'disconnect', 'role']);
    expect(h.core(3).state).toBe('LOOKING');
    expect(h.core(3).halted).toBe('disk fault');
    h.inflight.length = 0;
    for (const sid of [1, 2]) h.step(sid, { type: 'peer_reset', peer: 3 }); // the driver closed the links
    const mark = h.lines.length;
    for (let i = 0; i < 40 && !(h.core(2).serving && h.core(1).serving); i++) {
      h.deliverAll(); // r3 gets every notification, and answers none
      h.tickAll(1);
    }
    h.deliverAll();
    expect(h.core(2).state).toBe('LEADING');
    expect(h.core(1).state).toBe('FOLLOWING');
    expect(types(h.step(3, { type: 'propose', txn: txn(5) }))).toEqual(['write_rejected']);
    h.step(2, { type: 'propose', txn: txn(6) });
    h.deliverAll();
    expect(h.lines).toContain('r1: commit 2:1');
    expect(h.since(mark).filter((l) => l.startsWith('r3:') && !l.includes('write_rejected'))).toEqual([]);
    expect(h.core(3).state).toBe('LOOKING');
  });

  it('a follower halted by a disk fault acknowledges nothing more; the leader commits with the other follower', () => {
    const h = ensemble();
    h.step(1, { type: 'halt', reason: 'disk fault' });
    expect(h.core(1).serving).toBe(false);
    const mark = h.lines.length;
    h.step(3, { type: 'propose', txn: txn(7) });
    h.deliverAll();
    h.tickAll(3);
    h.deliverAll();
    expect(h.since(mark).filter((l) => l.startsWith('r1:'))).toEqual([]);
    expect(h.lines).toContain('r2: commit 1:1');
    expect(h.core(1).window.last()).toEqual(z(0, 0));
  });

  it('observers get INFORM (never PROPOSAL) and never count for commit', () => {
    const h = new Harness([1], [2]);
    h.startAll();
    h.deliverAll();
    expect(h.core(2).state).toBe('OBSERVING');
    expect(h.core(2).serving).toBe(true);
    const mark = h.lines.length;
    h.step(2, { type: 'propose', txn: txn(5) }); // forwarded like a follower's
    h.deliverAll();
    const after = h.since(mark);
    expect(after).toContain('r1: send 2 INFORM 1:1 1B');
    expect(after.some((x) => x.startsWith('r1: send 2 PROPOSAL'))).toBe(false);
    expect(after).toContain('r2: commit 1:1');
  });
});

describe('ZabCore: observers changed by a reconfig', () => {
  it('the leader drops a removed observer on its next tick (no disconnect: the driver closes the link after what was sent), ignores it after, and takes a new one', () => {
    const h = new Harness([1, 2, 3], [4]);
    h.startAll();
    h.settle();
    const leader = [1, 2, 3].find((sid) => h.core(sid).state === 'LEADING')!;
    expect(h.core(4).state).toBe('OBSERVING');
    const mark = h.lines.length;
    const membership = (counter: number, observers: number[]) => ({ type: 'membership' as const, version: z(1, counter), voters: [1, 2, 3], observers });
    for (const sid of [1, 2, 3]) h.step(sid, membership(5, []));
    expect(h.core(leader).learnerHandlers.has(4)).toBe(true);
    h.step(leader, { type: 'tick' });
    expect(h.core(leader).learnerHandlers.has(4)).toBe(false);
    expect(h.since(mark)).not.toContain(`r${leader}: disconnect 4`);
    expect(h.core(leader).qv.isMember(4)).toBe(false);
    // Its messages are not heard any more.
    expect(h.step(leader, { type: 'message', from: 4, msg: { type: 'OBSERVERINFO', sid: 4, accepted_epoch: 1, protocol_version: 0x10000 } })).toEqual([]);
    // An older membership changes nothing.
    for (const sid of [1, 2, 3]) h.step(sid, membership(4, [4]));
    expect(h.core(leader).qv.isMember(4)).toBe(false);
    // Added back: it is heard again (the leader answers its OBSERVERINFO).
    for (const sid of [1, 2, 3]) h.step(sid, membership(6, [4]));
    const answer = h.step(leader, { type: 'message', from: 4, msg: { type: 'OBSERVERINFO', sid: 4, accepted_epoch: 1, protocol_version: 0x10000 } });
    expect(answer.some((e) => e.type === 'send' && e.to === 4)).toBe(true);
    // The observer told it was removed leaves its role.
    h.step(4, membership(5, []));
    expect(h.core(4).state).toBe('LOOKING');
  });
});

describe('ZabCore: network input it must not trust', () => {
  it('ignores stale, duplicate and misdirected messages (no effects, no throw)', () => {
    const h = ensemble();
    const quiet = (sid: number, from: number, m: PeerMessage): void => expect(types(h.step(sid, msg(from, m))), `${m.type} to r${sid}`).toEqual([]);
    h.step(3, { type: 'propose', txn: txn(1) });
    const proposal = h.inflight.find((m) => m.to === 1)?.msg as PeerMessage;
    h.deliverAll();
    quiet(1, 3, proposal); // a duplicate PROPOSAL
    quiet(1, 2, { type: 'COMMIT', zxid: z(1, 1) }); // from a peer that is not our leader
    quiet(1, 3, { type: 'LEADERINFO', epoch: 9, protocol_version: 0x10000 }); // out of phase
    quiet(1, 3, { type: 'UPTODATE', zxid: z(1, 1) }); // already up to date
    quiet(3, 1, { type: 'ACK', zxid: z(1, 1) }); // an old ACK
    quiet(3, 1, { type: 'FOLLOWERINFO', sid: 1, accepted_epoch: 1, protocol_version: 0x10000 }); // a retry
    quiet(3, 2, { type: 'DIFF', zxid: z(1, 1) }); // leader -> learner type sent to the leader
    quiet(1, 99, { type: 'PING', data: new Uint8Array(0) }); // not a member
    expect(h.core(1).serving && h.core(3).serving).toBe(true);
  });

  it('a TRUNC below the committed point ends the session: protocol_error, disconnect, LOOKING', () => {
    const r1 = { ...EMPTY, accepted_epoch: 1, current_epoch: 1, log: log(z(1, 1), z(1, 2)), committed: z(1, 2) };
    const r3 = { ...EMPTY, accepted_epoch: 1, current_epoch: 1, log: log(z(1, 1), z(1, 2), z(1, 3)) };
    const h = new Harness([1, 2, 3], [], {}, { 1: r1, 3: r3 });
    h.startAll();
    h.deliverAll((m) => m.to === 1 && m.msg.type !== 'NOTIFICATION' && m.msg.type !== 'LEADERINFO');
    expect(h.core(1).state).toBe('FOLLOWING');
    const out = h.step(1, msg(3, { type: 'TRUNC', zxid: z(1, 1) }));
    expect(types(out).slice(0, 3)).toEqual(['protocol_error', 'disconnect', 'role']);
    expect(h.core(1).state).toBe('LOOKING');
    expect(h.core(1).window.last()).toEqual(z(1, 2)); // nothing was cut
  });

  it('a PROPOSAL that conflicts with the log (same position, not a duplicate) ends the session', () => {
    const h = ensemble();
    h.step(3, { type: 'propose', txn: txn(1) });
    h.deliverAll();
    h.step(3, { type: 'propose', txn: txn(2) });
    h.inflight.length = 0;
    const out = h.step(1, msg(3, { type: 'PROPOSAL', zxid: z(1, 3), txn: txn(3) })); // 1:2 skipped
    expect(types(out)[0]).toBe('protocol_error');
    expect(h.core(1).state).toBe('LOOKING');
  });
});
