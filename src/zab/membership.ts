// The memberships in force at one replica during a reconfig (Shraer et al., "Dynamic
// Reconfiguration of Primary/Backup Clusters", as ZooKeeper 3.5+ does it): the committed one
// (`active`) and those proposed in this replica's log and not known committed (`pending`, in zxid
// order, usually none or one).
//
// Rules (each is what keeps two quorums from deciding apart while the voters change):
// - a txn at or after a pending reconfig commits only on a quorum of the active membership AND
//   of every pending one up to it (Leader.advanceCommit); a txn before it needs the active
//   quorum alone;
// - election, discovery and the establishment of an epoch need a quorum of every membership in
//   force (containsQuorum): a replica that holds a proposed reconfig cannot be elected, nor
//   establish, by the old voters alone, and one that lacks it is outvoted by an old quorum, which
//   holds a replica that acknowledged it (the reconfig itself committed on an old quorum); the
//   leader counts a learner by these memberships, whatever role the learner declared (it may
//   lack the reconfig that makes it a voter: Leader.holdsHistoryAsVoter);
// - a pending membership becomes active when the commit point reaches its zxid (commitThrough),
//   or when the driver reports a newer committed one (a snapshot installed: setActive);
// - a truncated log takes its pending memberships with it (dropAfter).
//
// Where a replica's own role changes (voter <-> observer, removed, added), the core leaves its
// role and elects again under the new membership (zab_core.ts).

import type { AnnouncedMembership } from './messages.js';
import { QuorumVerifier, type Quorums } from './quorum.js';
import { zxidEq, zxidLe, zxidLt, zxidToString, ZXID_ZERO, type Zxid } from './zxid.js';

/** A membership as a reconfig txn names it. */
export interface MembershipSpec {
  readonly voters: readonly number[];
  readonly observers: readonly number[];
}

export interface PendingMembership {
  /** The reconfig txn's zxid (the membership's version). */
  readonly zxid: Zxid;
  readonly qv: QuorumVerifier;
}

export class Memberships implements Quorums {
  private pending_list: PendingMembership[] = [];
  private voter_list: readonly number[] = [];

  constructor(
    public active: QuorumVerifier,
    /** Zxid of the reconfig that made `active` (ZXID_ZERO: zoo.cfg's). */
    public active_version: Zxid = ZXID_ZERO,
  ) {
    this.refresh();
  }

  get pending(): readonly PendingMembership[] {
    return this.pending_list;
  }

  /** Voters of every membership in force, active's first. */
  get voters(): readonly number[] {
    return this.voter_list;
  }

  isVoter(sid: number): boolean {
    if (this.active.isVoter(sid)) return true;
    for (const p of this.pending_list) if (p.qv.isVoter(sid)) return true;
    return false;
  }

  /**
   * Only a voter of the committed membership may lead (ZooKeeper's totalOrderPredicate): every
   * elector agrees on it whether or not it holds the reconfig in flight, so their votes can meet.
   * A leader elected while a reconfig that removes it is in flight commits it (its initial
   * history holds it) and then steps down. Electors that missed a commit learn it from the
   * memberships announced in notifications (announced, setActive).
   */
  isCandidate(sid: number): boolean {
    return this.active.isVoter(sid);
  }

  announced(): AnnouncedMembership {
    return { version: this.active_version, voters: this.active.voters, observers: this.active.observers };
  }

  isMember(sid: number): boolean {
    if (this.active.isMember(sid)) return true;
    for (const p of this.pending_list) if (p.qv.isMember(sid)) return true;
    return false;
  }

  containsQuorum(sids: Iterable<number>): boolean {
    const list = [...sids];
    if (!this.active.containsQuorum(list)) return false;
    for (const p of this.pending_list) if (!p.qv.containsQuorum(list)) return false;
    return true;
  }

  followQuorum(sids: Iterable<number>): boolean {
    return this.active.containsQuorum(sids);
  }

  /** A reconfig txn entered the log at `z` (appended, not known committed). */
  propose(z: Zxid, qv: QuorumVerifier): void {
    const last = this.pending_list.length > 0 ? this.pending_list[this.pending_list.length - 1].zxid : this.active_version;
    if (!zxidLt(last, z)) throw new Error(`Memberships: reconfig at ${zxidToString(z)} not after ${zxidToString(last)}`);
    this.pending_list.push({ zxid: z, qv });
    this.refresh();
  }

  /** The commit point reached `z`: pending memberships up to it become active. True if one did. */
  commitThrough(z: Zxid): boolean {
    let changed = false;
    while (this.pending_list.length > 0 && zxidLe(this.pending_list[0].zxid, z)) {
      const p = this.pending_list.shift()!;
      this.active = p.qv;
      this.active_version = p.zxid;
      changed = true;
    }
    if (changed) this.refresh();
    return changed;
  }

  /** The log was cut after `z`: memberships proposed after it are gone. */
  dropAfter(z: Zxid): void {
    const before = this.pending_list.length;
    this.pending_list = this.pending_list.filter((p) => zxidLe(p.zxid, z));
    if (this.pending_list.length !== before) this.refresh();
  }

  /**
   * A committed membership the driver knows of (a snapshot installed, a reconfig applied): taken
   * if newer than the active one, with the pending ones it covers. True if the active changed.
   */
  setActive(qv: QuorumVerifier, version: Zxid): boolean {
    if (zxidLt(version, this.active_version)) return false;
    if (zxidEq(version, this.active_version) && qv.sameAs(this.active)) return false;
    this.active = qv;
    this.active_version = version;
    this.pending_list = this.pending_list.filter((p) => zxidLt(version, p.zxid));
    this.refresh();
    return true;
  }

  private refresh(): void {
    const seen = new Set<number>();
    const out: number[] = [];
    for (const qv of [this.active, ...this.pending_list.map((p) => p.qv)]) {
      for (const s of qv.voters) {
        if (!seen.has(s)) {
          seen.add(s);
          out.push(s);
        }
      }
    }
    this.voter_list = out;
  }
}
