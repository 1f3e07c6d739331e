// Fast leader election (ZooKeeper's FastLeaderElection) as a pure state machine.
//
// A LOOKING replica proposes a vote (leader sid, that leader's last zxid, its current epoch)
// and tells every voter. Votes are totally ordered by (peer epoch, zxid, sid); a replica adopts
// any vote that beats its own and re-announces it. Rounds are numbered by the election epoch
// (logicalclock): a notification of a later round resets the collected votes; one of an earlier
// round gets our vote back so the sender catches up.
//
// A replica concludes when either
// - a quorum of voters in the current round agrees with its vote, and no better vote arrives
//   within finalize_ticks (ZooKeeper's finalizeWait) — or at once when every voter it can reach
//   has voted so (no better vote can still come: the others' connections are known down, e.g.
//   the dead leader's; waiting would only add finalizeWait to every failover); or
// - a quorum of voters report FOLLOWING/LEADING for the same leader and that leader itself
//   reports LEADING (a replica that joins late learns the established leader this way).
//
// When nothing arrives, the replica re-sends its vote after notify_ticks, doubling the
// interval up to notify_ticks_max (ZooKeeper's maxNotificationInterval): the back-off is
// bounded so a healed partition is noticed within notify_ticks_max ticks.
//
// Observers take part as listeners: their votes never count and nobody votes for them.

import type { Notification, ServerState } from './messages.js';
import type { Quorums } from './quorum.js';
import { compareZxid, zxidEq, type Zxid } from './zxid.js';

export interface Vote {
  readonly leader: number;
  readonly zxid: Zxid;
  readonly peer_epoch: number;
}

export interface ElectionConfig {
  /** Ticks to wait for a better vote once a quorum agrees (0 = decide at once). */
  readonly finalize_ticks: number;
  /** First re-send interval while no decision is made. */
  readonly notify_ticks_min: number;
  /** Bound of the doubling re-send interval. */
  readonly notify_ticks_max: number;
}

export interface Decision {
  readonly vote: Vote;
  readonly election_epoch: number;
}

export interface ElectionOutput {
  readonly sends: { to: number; msg: Notification }[];
  decided: Decision | null;
}

interface Seen {
  readonly vote: Vote;
  readonly election_epoch: number;
  readonly state: ServerState;
}

/** True if `a` beats `b`: ZooKeeper's totalOrderPredicate. Only candidates (voters of the newest
 *  membership: membership.ts) can be leaders. */
export function voteBeats(a: Vote, b: Vote, qv: Quorums): boolean {
  if (!qv.isCandidate(a.leader)) return false;
  if (!qv.isCandidate(b.leader)) return true;
  if (a.peer_epoch !== b.peer_epoch) return a.peer_epoch > b.peer_epoch;
  const c = compareZxid(a.zxid, b.zxid);
  if (c !== 0) return c > 0;
  return a.leader > b.leader;
}

export function voteEq(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.peer_epoch === b.peer_epoch && zxidEq(a.zxid, b.zxid);
}

/**
 * ZooKeeper's Vote.equals: votes of LOOKING replicas must match entirely; reports of settled
 * replicas (FOLLOWING/LEADING) match on (leader, peer epoch) only, because members of one
 * ensemble may have settled on that leader in different rounds with different zxids
 * (ZOOKEEPER-1805); every member reports the epoch it accepted from that leader (see
 * `Election.settleEpoch`), and each epoch has at most one leader.
 */
function sameVote(a: Seen, b: Seen): boolean {
  if (a.state === 'LOOKING' || b.state === 'LOOKING') return voteEq(a.vote, b.vote);
  return a.vote.leader === b.vote.leader && a.vote.peer_epoch === b.vote.peer_epoch;
}

export function voteOf(n: Notification): Vote {
  return { leader: n.leader, zxid: n.zxid, peer_epoch: n.peer_epoch };
}

export function checkElectionConfig(c: ElectionConfig): void {
  if (!Number.isInteger(c.finalize_ticks) || c.finalize_ticks < 0) throw new Error('election: finalize_ticks must be >= 0');
  if (!Number.isInteger(c.notify_ticks_min) || c.notify_ticks_min < 1) throw new Error('election: notify_ticks_min must be >= 1');
  if (!Number.isInteger(c.notify_ticks_max) || c.notify_ticks_max < c.notify_ticks_min) {
    throw new Error('election: notify_ticks_max must be >= notify_ticks_min');
  }
}

export class Election {
  /** The election round; survives decisions (answers to late LOOKING peers carry it). */
  logicalclock = 0;
  /** Our current proposal; after a decision, the decided vote. */
  vote: Vote;
  looking = false;
  private self_vote: Vote;
  /** Votes of the current round (LOOKING, or FOLLOWING/LEADING of the same round). */
  private readonly recvset = new Map<number, Seen>();
  /** FOLLOWING/LEADING reports of any round: how a late replica finds the leader. */
  private readonly outofelection = new Map<number, Seen>();
  /** Tick at which we decide if no better vote came; null when not finalizing. */
  private finalize_at: number | null = null;
  /** Voters whose connection reset and who sent nothing since (kept across rounds). */
  private readonly down = new Set<number>();
  private notify_interval = 0;
  private next_notify_at = 0;

  constructor(
    readonly self: number,
    private readonly qv: Quorums,
    private readonly cfg: ElectionConfig,
  ) {
    checkElectionConfig(cfg);
    this.self_vote = { leader: self, zxid: { epoch: 0, counter: 0 }, peer_epoch: 0 };
    this.vote = this.self_vote;
  }

  /** Starts a new round proposing ourselves with our history summary. */
  start(now: number, self_vote: Vote): ElectionOutput {
    if (self_vote.leader !== this.self) throw new Error('election: a round starts with a vote for ourselves');
    this.looking = true;
    this.logicalclock += 1;
    this.self_vote = self_vote;
    this.recvset.clear();
    this.outofelection.clear();
    this.finalize_at = null;
    this.notify_interval = this.cfg.notify_ticks_min;
    this.next_notify_at = now + this.notify_interval;
    const out: ElectionOutput = { sends: [], decided: null };
    this.propose(self_vote, out);
    // A single-voter ensemble (or one where we alone are a quorum) needs nobody else.
    this.checkRoundQuorum(now, out);
    return out;
  }

  /** Our current vote as a notification, for announcements and for answers. */
  notification(state: ServerState): Notification {
    const v = this.vote;
    return { type: 'NOTIFICATION', state, leader: v.leader, zxid: v.zxid, election_epoch: this.logicalclock, peer_epoch: v.peer_epoch, config: this.qv.announced() };
  }

  onNotification(now: number, from: number, n: Notification): ElectionOutput {
    const out: ElectionOutput = { sends: [], decided: null };
    if (!this.looking || from === this.self || !this.qv.isMember(from)) return out;
    if (!this.qv.isVoter(from)) {
      // A non-voter's vote never counts; answer so it learns ours (ZooKeeper does the same).
      if (n.state === 'LOOKING') out.sends.push({ to: from, msg: this.notification('LOOKING') });
      return out;
    }
    if (n.state === 'LOOKING') this.onLooking(now, from, n, out);
    else if (n.state === 'FOLLOWING' || n.state === 'LEADING') this.onSettled(from, n, out);
    // OBSERVING reports from a voter sid cannot happen with a consistent config: ignored.
    return out;
  }

  onTick(now: number): ElectionOutput {
    const out: ElectionOutput = { sends: [], decided: null };
    if (!this.looking) return out;
    if (this.finalize_at !== null && now >= this.finalize_at) {
      this.decide(this.vote, this.logicalclock, out);
      return out;
    }
    if (now >= this.next_notify_at) {
      this.sendAll(out);
      this.notify_interval = Math.min(this.notify_interval * 2, this.cfg.notify_ticks_max);
      this.next_notify_at = now + this.notify_interval;
    }
    return out;
  }

  /**
   * Once a settled replica knows the epoch of its leader (a learner accepted LEADERINFO, the
   * leader chose it), its reported vote carries that epoch (ZooKeeper's updateElectionVote), so
   * all members of the ensemble report the same (leader, epoch) to a replica that joins late.
   */
  settleEpoch(epoch: number): void {
    if (this.looking) throw new Error('election: settleEpoch while looking');
    this.vote = { ...this.vote, peer_epoch: epoch };
  }

  /** The connection with `sid` reset: it cannot vote until it sends something again. */
  peerDown(sid: number): void {
    if (sid !== this.self) this.down.add(sid);
  }

  /** A message arrived from `sid`: it is reachable. */
  peerUp(sid: number): void {
    this.down.delete(sid);
  }

  /** The re-send interval now in force (for tests and `zabstate`). */
  get notify_interval_ticks(): number {
    return this.notify_interval;
  }

  private onLooking(now: number, from: number, n: Notification, out: ElectionOutput): void {
    const nv = voteOf(n);
    if (n.election_epoch > this.logicalclock) {
      this.logicalclock = n.election_epoch;
      this.recvset.clear();
      this.propose(voteBeats(nv, this.self_vote, this.qv) ? nv : this.self_vote, out);
    } else if (n.election_epoch < this.logicalclock) {
      out.sends.push({ to: from, msg: this.notification('LOOKING') });
      return;
    } else if (voteBeats(nv, this.vote, this.qv)) {
      this.propose(nv, out);
    }
    this.recvset.set(from, { vote: nv, election_epoch: n.election_epoch, state: 'LOOKING' });
    this.checkRoundQuorum(now, out);
  }

  private onSettled(from: number, n: Notification, out: ElectionOutput): void {
    const seen: Seen = { vote: voteOf(n), election_epoch: n.election_epoch, state: n.state };
    if (n.election_epoch === this.logicalclock) {
      this.recvset.set(from, seen);
      if (this.agrees(this.recvset, seen, true) && this.checkLeader(this.outofelectionWith(from, seen), seen)) {
        this.decide(seen.vote, this.logicalclock, out);
        return;
      }
    }
    this.outofelection.set(from, seen);
    if (this.agrees(this.outofelection, seen, false) && this.checkLeader(this.outofelection, seen)) {
      this.logicalclock = n.election_epoch;
      this.decide(seen.vote, n.election_epoch, out);
    }
  }

  private outofelectionWith(from: number, seen: Seen): Map<number, Seen> {
    const m = new Map(this.outofelection);
    m.set(from, seen);
    return m;
  }

  /**
   * ZooKeeper's checkLeader: following someone else needs that leader's own LEADING report
   * (a quorum of stale FOLLOWING reports about a dead leader must not be enough); following
   * ourselves needs the report to be of our current round.
   */
  private checkLeader(votes: Map<number, Seen>, seen: Seen): boolean {
    if (seen.vote.leader !== this.self) return votes.get(seen.vote.leader)?.state === 'LEADING';
    return seen.election_epoch === this.logicalclock;
  }

  /**
   * A quorum of voters in `votes` holds `target`. In the current round our own proposal counts
   * too (`with_self`); among the FOLLOWING/LEADING reports of other rounds it does not: a late
   * replica joins only a leader that a quorum of others follows. Leading needs a quorum of every
   * membership in force (a reconfig in flight: membership.ts); following, one of the committed
   * membership: the leader's own quorums are what make it one, and a reconfig in flight in our
   * log may be one the leader is about to truncate (it would keep us out forever).
   */
  private agrees(votes: Map<number, Seen>, target: Seen, with_self: boolean): boolean {
    const sids: number[] = [];
    for (const [sid, s] of votes) if (sameVote(s, target)) sids.push(sid);
    if (with_self && sameVote({ vote: this.vote, election_epoch: this.logicalclock, state: 'LOOKING' }, target)) sids.push(this.self);
    return target.vote.leader === this.self ? this.qv.containsQuorum(sids) : this.qv.followQuorum(sids);
  }

  private checkRoundQuorum(now: number, out: ElectionOutput): void {
    // Our vote names a non-candidate only while we are one ourselves (nobody else proposes one):
    // a replica a reconfig took out of the voters, whose old peers still vote for it.
    if (!this.qv.isCandidate(this.vote.leader) || !this.agrees(this.recvset, { vote: this.vote, election_epoch: this.logicalclock, state: 'LOOKING' }, true)) {
      this.finalize_at = null;
      return;
    }
    if (this.cfg.finalize_ticks === 0 || this.everyReachableVoterAgrees()) this.decide(this.vote, this.logicalclock, out);
    else if (this.finalize_at === null) this.finalize_at = now + this.cfg.finalize_ticks;
  }

  /** Every voter but those known down has a vote of this round equal to ours. */
  private everyReachableVoterAgrees(): boolean {
    const mine: Seen = { vote: this.vote, election_epoch: this.logicalclock, state: 'LOOKING' };
    for (const sid of this.qv.voters) {
      if (sid === this.self || this.down.has(sid)) continue;
      const s = this.recvset.get(sid);
      if (s === undefined || !sameVote(s, mine)) return false;
    }
    return true;
  }

  /** Adopts `v` and announces it; a changed vote cancels a pending finalize. */
  private propose(v: Vote, out: ElectionOutput): void {
    if (!voteEq(v, this.vote)) this.finalize_at = null;
    this.vote = v;
    this.sendAll(out);
  }

  private sendAll(out: ElectionOutput): void {
    const msg = this.notification('LOOKING');
    for (const to of this.qv.voters) if (to !== this.self) out.sends.push({ to, msg });
  }

  private decide(v: Vote, election_epoch: number, out: ElectionOutput): void {
    this.looking = false;
    this.finalize_at = null;
    this.vote = v;
    out.decided = { vote: v, election_epoch };
  }
}
