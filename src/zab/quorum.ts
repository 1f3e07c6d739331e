// Majority quorums over the voting members. Observers never count: they receive committed
// txns but neither vote in elections nor acknowledge proposals.
//
// Invariant: any two sets that each contain a quorum intersect in at least one voter (a strict
// majority of the same voter set), which is what Zab's safety rests on.

export class QuorumVerifier {
  private readonly voter_set: ReadonlySet<number>;
  private observer_set: ReadonlySet<number>;
  /** Smallest number of voters that is a majority. */
  readonly quorum_size: number;

  private observer_list: readonly number[];

  constructor(
    readonly voters: readonly number[],
    observers: readonly number[] = [],
  ) {
    if (voters.length === 0) throw new Error('QuorumVerifier: no voters');
    this.voter_set = new Set(voters);
    if (this.voter_set.size !== voters.length) throw new Error('QuorumVerifier: duplicate voter sid');
    for (const sid of voters) checkSid(sid);
    this.quorum_size = Math.floor(voters.length / 2) + 1;
    this.observer_list = [];
    this.observer_set = new Set();
    this.setObservers(observers);
  }

  get observers(): readonly number[] {
    return this.observer_list;
  }

  /** Replaces the observers (a committed reconfig). The voters, and so every quorum, stay. */
  setObservers(observers: readonly number[]): void {
    const set = new Set(observers);
    if (set.size !== observers.length) throw new Error('QuorumVerifier: duplicate observer sid');
    for (const o of observers) {
      checkSid(o);
      if (this.voter_set.has(o)) throw new Error(`QuorumVerifier: sid ${o} is both voter and observer`);
    }
    this.observer_list = [...observers];
    this.observer_set = set;
  }

  isVoter(sid: number): boolean {
    return this.voter_set.has(sid);
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
