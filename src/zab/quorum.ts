// Majority quorums over the voting members of one membership (a configuration: zoo.cfg's, or
// a reconfig's). Observers never count: they receive committed txns but neither vote in
// elections nor acknowledge proposals. Immutable: a reconfig makes a new one (membership.ts).
//
// Invariant: any two sets that each contain a quorum intersect in at least one voter (a strict
// majority of the same voter set), which is what Zab's safety rests on.

/** What election and the leader ask of the membership(s) in force (QuorumVerifier for one,
 *  Memberships while a reconfig is in flight: quorums of every one of them). */
import type { AnnouncedMembership } from './messages.js';

export interface Quorums {
  /** Voters (of any membership in force), in configuration order. */
  readonly voters: readonly number[];
  isVoter(sid: number): boolean;
  /** May lead: a voter of the newest membership (the one every other gives way to). */
  isCandidate(sid: number): boolean;
  isMember(sid: number): boolean;
  /** True if `sids` hold a majority of the voters of every membership in force. */
  containsQuorum(sids: Iterable<number>): boolean;
  /** True if `sids` hold a majority of the committed membership's voters: enough to follow. */
  followQuorum(sids: Iterable<number>): boolean;
  /** The committed membership to tell peers in election notifications (null: none to tell). */
  announced(): AnnouncedMembership | null;
}

export class QuorumVerifier implements Quorums {
  private readonly voter_set: ReadonlySet<number>;
  private readonly observer_set: ReadonlySet<number>;
  /** Smallest number of voters that is a majority. */
  readonly quorum_size: number;
  readonly observers: readonly number[];

  constructor(
    readonly voters: readonly number[],
    observers: readonly number[] = [],
  ) {
    if (voters.length === 0) throw new Error('QuorumVerifier: no voters');
    this.voter_set = new Set(voters);
    if (this.voter_set.size !== voters.length) throw new Error('QuorumVerifier: duplicate voter sid');
    for (const sid of voters) checkSid(sid);
    this.quorum_size = Math.floor(voters.length / 2) + 1;
    const set = new Set(observers);
    if (set.size !== observers.length) throw new Error('QuorumVerifier: duplicate observer sid');
    for (const o of observers) {
      checkSid(o);
      if (this.voter_set.has(o)) throw new Error(`QuorumVerifier: sid ${o} is both voter and observer`);
    }
    this.observers = [...observers];
    this.observer_set = set;
  }

  /** Same voters and observers (in any order). */
  sameAs(other: QuorumVerifier): boolean {
    if (other.voters.length !== this.voters.length || other.observers.length !== this.observers.length) return false;
    return other.voters.every((s) => this.voter_set.has(s)) && other.observers.every((s) => this.observer_set.has(s));
  }

  isVoter(sid: number): boolean {
    return this.voter_set.has(sid);
  }

  isCandidate(sid: number): boolean {
    return this.voter_set.has(sid);
  }

  announced(): AnnouncedMembership | null {
    return null;
  }

  followQuorum(sids: Iterable<number>): boolean {
    return this.containsQuorum(sids);
  }

  isObserver(sid: number): boolean {
    return this.observer_set.has(sid);
  }

  isMember(sid: number): boolean {
    return this.voter_set.has(sid) || this.observer_set.has(sid);
  }

  /** Every member but `self` (voters first, then observers), in configuration order. */
  peersOf(self: number): number[] {
    return [...this.voters, ...this.observers].filter((s) => s !== self);
  }

  /** True if the voters among `sids` are a majority of all voters (non-voters and repeats ignored). */
  containsQuorum(sids: Iterable<number>): boolean {
    const seen = new Set<number>();
    for (const s of sids) if (this.voter_set.has(s)) seen.add(s);
    return seen.size >= this.quorum_size;
  }
}

function checkSid(sid: number): void {
  if (!Number.isInteger(sid) || sid < 0 || sid > 0xffff_ffff) throw new Error(`QuorumVerifier: bad sid ${sid}`);
}
