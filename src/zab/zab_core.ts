// Zab as a sans-IO core: `step(event) -> effects` (etcd-raft's Ready, one call at a time).
//
// DESIGN NOTE
//
// Phases. A replica is LOOKING (fast leader election, election.ts) until a vote is decided,
// then LEADING (leader.ts) or FOLLOWING / OBSERVING (learner.ts). Leader and learner each go
// through discovery (a new epoch above every accepted epoch of a quorum), synchronization
// (DIFF / TRUNC / SNAP per learner, chosen by sync_plan.ts from the leader's in-memory window
// of committed txns, then NEWLEADER; the epoch is established when a quorum holds the leader's
// initial history durably) and broadcast (PROPOSAL -> durable ACK -> COMMIT on a quorum,
// INFORM to observers, pipelined up to in_flight_max). Any failure (timeout, lost quorum,
// connection reset, a peer breaking the protocol, zxid counter exhausted) ends the role and the
// replica is LOOKING again; a session with a peer never resumes, it restarts from discovery.
//
// Rules beyond the textbook, each one found necessary (see the tests that pin them down):
// - only a fresh ACKEPOCH (the learner raised its acceptedEpoch for us) counts toward the
//   leader's epoch quorum, as in ZooKeeper: two would-be leaders can pick the same epoch number,
//   and one replica's promise must not help both establish it (test/zab/zab_core.test.ts);
// - a leader steps down when a voter's FOLLOWERINFO shows an acceptedEpoch above its epoch
//   (that voter can never follow it; ZooKeeper leaves it out until the next election), so the
//   next election picks an epoch above the promise and the ensemble is whole again;
// - a settled replica reports (leader, epoch of that leader) in its vote (ZooKeeper's
//   updateElectionVote, ZOOKEEPER-1805), so a late replica sees one vote from the ensemble;
// - ACKs and COMMITs are cumulative ("durable / committed up to zxid"); the ACK of NEWLEADER
//   covers the whole sync stream, so a learner joining mid-broadcast counts for the proposals
//   that were in flight when it synced;
// - while the driver prepares a snapshot for a SNAP sync, the leader pins its window so the
//   txns after the snapshot are still there when it arrives (LogWindow.pin);
// - the driver's log and the window hold the same entries: a leader's driver logs each txn as it
//   proposes it, so a leader that leaves with proposals queued behind in_flight_max appends them
//   (unsent) instead of rejecting them, and a durability report may run ahead of the window
//   (LogWindow keeps it). Found by the session simulator: a rejected txn stayed on disk past the
//   zxid the replica voted with, where no TRUNC could reach it; and, once appended, the leader
//   elected again waited forever for a durability report already made.
//
// Reconfiguration (membership.ts): a reconfig txn is known by its bytes (ZabConfig.membership_of)
// when it enters the log; from then until it commits, it and every later txn need a quorum of the
// old and of the new voters, and so do election (to lead), discovery and establishment. Only
// voters of the committed membership may lead; notifications carry it, so a replica that missed a
// commit learns it. A replica whose role the new membership changes elects again under it.
//
// What is persisted when (each effect is executed in order; "durable before the next effect"
// means the driver must not execute the following effects, sends included, until it is):
// - acceptedEpoch: `persist_epochs` before LEADERINFO (leader) / before ACKEPOCH (learner);
// - currentEpoch: `persist_epochs` before NEWLEADER (leader) / before ACK of NEWLEADER (learner);
//   both epochs are written together, atomically (one small file, write + rename + fsync);
// - txns: `append` is asynchronous; the driver reports durability with `persisted(zxid)`.
//   A learner ACKs (and acknowledges NEWLEADER) only what is durable; the leader counts its own
//   log only up to `persisted`. So an ACK or a commit never rests on a txn a crash could lose.
// - `truncate` and `apply_snapshot` are durable before the next effect (later appends build on
//   them; a crash must not resurrect a truncated suffix under txns appended after it).
// - `commit(to)`: apply every log entry up to `to`, in zxid order, exactly once. Entries may
//   be applied before they are durable locally: a committed txn is durable on a quorum.
// - `halt`: the driver can make nothing durable any more (a failed write or fsync of its log).
//   The core leaves its role (a leader steps down, as ZooKeeper's does since ZOOKEEPER-2247, so
//   the others elect a leader that can log) and from then on answers nothing: no vote, no ACK,
//   no election; a proposal is rejected. For its peers the replica is as good as crashed; its
//   durable state is intact, and a restart (once the disk is fixed) brings it back like any
//   crashed replica. Staying in the ensemble is not an option: a follower that cannot log can
//   acknowledge nothing, and a leader that cannot log can commit nothing of its own.
//
// What the driver must guarantee:
// - one `step` at a time; `start` first; `tick` at a steady rate (the limits are in ticks);
// - per-peer FIFO connections: messages of one connection arrive in order, none after it
//   closed; `peer_reset(p)` is stepped when a connection with p closes, before any message of
//   a new connection with p; on a `disconnect` effect the connection is closed at once and
//   nothing queued on it is delivered (the other side sees `peer_reset`);
// - `persisted(z)` speaks of the current log: after a truncate or snapshot it never reports
//   entries that were removed; it may lag, never lead;
// - `snapshot_ready` answers `snapshot_needed` with committed state at a zxid >= min_zxid
//   (the leader re-asks, at most snapshot_tries_max times, if it is not usable);
// - at start, `ZabInit` holds the durable epochs and log (and a zxid known committed, at least
//   the snapshot's); the core keeps the tail it may need in memory (log_window.ts).
// - decoding is the driver's: a malformed frame (messages.ts, ZabDecodeError) closes that
//   connection. Stale or unexpected messages are ignored by the core; a message a correct peer
//   can never send ends the session with that peer (`protocol_error` effect). Assertions
//   (thrown Errors) are for the core's own invariants and for driver contract violations.
//
// The core has no IO, no clock, no randomness: the same events give the same effects.

import { checkZabConfig, type ZabConfig } from './config.js';
import type { CoreContext, Effect, Phase, ZabEvent } from './effects.js';
import { Election, type Decision, type ElectionOutput } from './election.js';
import { Leader, type LearnerHandler } from './leader.js';
import { Learner } from './learner.js';
import { committedBeforeLastEpoch, LogWindow, type LogEntry } from './log_window.js';
import { Memberships } from './membership.js';
import type { Notification, PeerMessage, ServerState } from './messages.js';
import { QuorumVerifier } from './quorum.js';
import { isZxid, zxidEq, zxidLt, zxidMax, zxidMin, zxidToString, ZXID_ZERO, type Zxid } from './zxid.js';

export type { Effect, Phase, ZabEvent } from './effects.js';

/** The durable state a replica starts from. */
export interface ZabInit {
  readonly accepted_epoch: number;
  readonly current_epoch: number;
  /** Zxid the log follows (the snapshot's, or ZXID_ZERO). */
  readonly log_base: Zxid;
  /** Durable log entries after log_base, in order. */
  readonly log: readonly LogEntry[];
  /** A zxid known committed (at least log_base); never above what is truly committed. The core
   *  has the driver apply the log up to what it knows committed on start (committedAtStart),
   *  from log_base. */
  readonly committed: Zxid;
  /** Zxid of the reconfig that made the configured voters and observers (ZXID_ZERO: zoo.cfg's).
   *  Reconfig txns in the log after it are the memberships in flight (membership.ts). */
  readonly membership_version?: Zxid;
}

export class ZabCore implements CoreContext {
  readonly sid: number;
  /** The memberships in force: the committed one and the reconfigs in flight in our log. */
  readonly views: Memberships;
  accepted_epoch: number;
  current_epoch: number;
  readonly window: LogWindow;
  state: ServerState = 'LOOKING';
  private readonly election: Election;
  private leader: Leader | null = null;
  private learner: Learner | null = null;
  private ticks = 0;
  private started = false;
  private stepping = false;
  private out: Effect[] = [];
  private step_down: { reason: string; connection_gone: boolean } | null = null;
  private role_key = '';
  /** Why this replica halted (see `halt` in the design note); null while it takes part. */
  private halt_reason: string | null = null;
  /** The snapshot's zxid at start (ZabInit.log_base): the driver's state is at least there. */
  private readonly log_base: Zxid;

  constructor(
    readonly cfg: ZabConfig,
    init: ZabInit,
  ) {
    checkZabConfig(cfg);
    if (init.current_epoch > init.accepted_epoch) throw new Error('ZabInit: current_epoch > accepted_epoch');
    this.sid = cfg.sid;
    this.views = new Memberships(new QuorumVerifier(cfg.voters, cfg.observers), init.membership_version ?? ZXID_ZERO);
    if (!this.views.active.isMember(cfg.sid) && zxidEq(this.views.active_version, ZXID_ZERO)) {
      // A reconfig's membership may lack us (it removed us: we take no part until one that has
      // us reaches us, as at run time); zoo.cfg's must not.
      throw new Error(`zab config: sid ${cfg.sid} is neither a voter nor an observer of the configured membership`);
    }
    this.accepted_epoch = init.accepted_epoch;
    this.current_epoch = init.current_epoch;
    this.log_base = init.log_base;
    this.window = new LogWindow(init.log_base, init.log, committedAtStart(init), cfg.committed_log_max);
    for (const e of init.log) this.noteReconfig(e);
    this.views.commitThrough(this.window.committed);
    this.election = new Election(cfg.sid, this.views, cfg.election);
  }

  /** The committed membership. */
  get qv(): QuorumVerifier {
    return this.views.active;
  }

  /** Handles one event; returns the effects to execute, in order. */
  step(ev: ZabEvent): Effect[] {
    if (this.stepping) throw new Error('ZabCore.step is not reentrant');
    if (ev.type !== 'start' && !this.started) throw new Error(`ZabCore: ${ev.type} before start`);
    this.stepping = true;
    this.out = [];
    try {
      this.dispatch(ev);
      this.settle();
      return this.out;
    } finally {
      this.stepping = false;
    }
  }

  // ---- introspection (metrics, `srvr`, tests) -------------------------------------------

  get phase(): Phase {
    if (this.leader !== null) return this.leader.phase;
    if (this.learner !== null) return this.learner.phase();
    return 'election';
  }

  get serving(): boolean {
    return this.phase === 'broadcast';
  }

  /** Why this replica halted, or null while it takes part. */
  get halted(): string | null {
    return this.halt_reason;
  }

  /** The leader this replica follows or is, null while LOOKING. */
  get leaderSid(): number | null {
    if (this.leader !== null) return this.sid;
    return this.learner?.leader ?? null;
  }

  /** Leading: proposals queued behind in_flight_max, not yet in the log (0 unless leading). */
  get queued_proposals(): number {
    return this.leader?.queued ?? 0;
  }

  /** Leading: ourselves and the followers synced with us (a reconfig's NEWCONFIGNOQUORUM check
   *  counts these); empty unless leading. */
  syncedVoters(): number[] {
    return this.leader?.syncedVoters() ?? [];
  }

  /** The leader's learner sessions (empty unless leading): zk_learners, zk_synced_followers. */
  get learnerHandlers(): ReadonlyMap<number, Readonly<LearnerHandler>> {
    return this.leader?.handlers ?? new Map();
  }

  get tick_count(): number {
    return this.ticks;
  }

  // ---- CoreContext ---------------------------------------------------------------------

  now(): number {
    return this.ticks;
  }

  send(to: number, msg: PeerMessage): void {
    if (to === this.sid) throw new Error('ZabCore: send to self');
    this.out.push({ type: 'send', to, msg });
  }

  disconnect(peer: number): void {
    this.out.push({ type: 'disconnect', peer });
  }

  emit(e: Effect): void {
    this.out.push(e);
  }

  setAcceptedEpoch(e: number): void {
    if (e <= this.accepted_epoch) throw new Error(`acceptedEpoch must grow: ${this.accepted_epoch} -> ${e}`);
    this.out.push({ type: 'persist_epochs', accepted_epoch: e, current_epoch: this.current_epoch });
    this.accepted_epoch = e;
  }

  setCurrentEpoch(e: number): void {
    if (e <= this.current_epoch || e > this.accepted_epoch) {
      throw new Error(`currentEpoch ${this.current_epoch} -> ${e} with acceptedEpoch ${this.accepted_epoch}`);
    }
    this.out.push({ type: 'persist_epochs', accepted_epoch: this.accepted_epoch, current_epoch: e });
    this.current_epoch = e;
  }

  /** Appends; consecutive appends of one step become one effect (one write for the driver). */
  append(entry: LogEntry): void {
    this.window.append(entry);
    this.noteReconfig(entry);
    const last = this.out[this.out.length - 1];
    if (last !== undefined && last.type === 'append') (last.entries as LogEntry[]).push(entry);
    else this.out.push({ type: 'append', entries: [entry] });
  }

  truncateLog(z: Zxid): void {
    this.window.truncate(z);
    this.views.dropAfter(z);
    this.out.push({ type: 'truncate', to: z });
  }

  resetLog(z: Zxid, snapshot: Uint8Array): void {
    this.window.resetTo(z);
    // The snapshot's membership reaches us from the driver once installed (a 'membership' event).
    this.views.dropAfter(this.views.active_version);
    this.out.push({ type: 'apply_snapshot', zxid: z, snapshot });
  }

  commitTo(z: Zxid): readonly LogEntry[] {
    const before = this.window.committed;
    const newly = this.window.commitTo(z);
    if (zxidLt(before, this.window.committed)) {
      this.out.push({ type: 'commit', to: this.window.committed });
      if (this.views.commitThrough(this.window.committed)) this.onActivated('a reconfig committed');
    }
    return newly;
  }

  /** A reconfig txn entered our log: its membership is in flight from now on (unless we already
   *  hold a membership as new: one a peer announced, committed, that this sync now brings). */
  private noteReconfig(entry: LogEntry): void {
    if (!zxidLt(this.views.active_version, entry.zxid)) return;
    const spec = this.cfg.membership_of?.(entry.txn) ?? null;
    if (spec !== null) this.views.propose(entry.zxid, new QuorumVerifier(spec.voters, spec.observers));
  }

  /**
   * A new membership is active. Our role in it may differ from the one we run (a voter became an
   * observer or left, an observer became a voter): then we leave it and elect under the new
   * membership. A leader that left the voters steps down on its next tick (Leader.retire: the
   * COMMIT that activated it leaves first); it drops learners that left on its next tick too.
   */
  private onActivated(why: string): void {
    const qv = this.views.active;
    // Looking: the round started under the old membership (our vote, the quorums we counted).
    if (this.state === 'LOOKING') return this.stepDown(`${why}: a new election round under it`);
    if (this.leader !== null && !qv.isVoter(this.sid)) return this.leader.retire(`${why}: this server is no longer a voter`);
    if (this.learner !== null && (!qv.isMember(this.sid) || this.learner.observer !== this.learnsAsObserver())) {
      return this.stepDown(`${why}: this server is now ${qv.isMember(this.sid) ? (qv.isObserver(this.sid) ? 'an observer' : 'a voter') : 'not a member'}`);
    }
    // Our leader left the voters: it steps down on its next tick, and so do we, without waiting
    // for it (the driver closed our link to it if it left the ensemble, without a reset report).
    if (this.learner !== null && !qv.isVoter(this.learner.leader)) return this.learner.retire(`${why}: leader ${this.learner.leader} is no longer a voter`);
  }

  /**
   * Whether this replica follows as an observer: only when no membership in force (the committed
   * one, or a reconfig in flight in our log) makes it a voter. A voter of a reconfig in flight
   * follows even where the committed membership calls it an observer (ZooKeeper's non-voting
   * follower): the reconfig commits on a quorum of its own voters, whose promises and ACKs must
   * count. Found by the Zab simulator (seed 20778): every replica restarted with two reconfigs
   * in flight, the second with voters {3, 4}; 4, an observer in the committed membership, sent
   * OBSERVERINFO, and the leader never had a quorum of {3, 4} to decide its epoch with.
   */
  private learnsAsObserver(): boolean {
    return this.qv.isObserver(this.sid) && !this.views.isVoter(this.sid);
  }

  stepDown(reason: string, connection_gone = false): void {
    if (this.step_down === null) this.step_down = { reason, connection_gone };
  }

  protocolError(peer: number, detail: string): void {
    this.out.push({ type: 'protocol_error', peer, detail });
    if (this.leader !== null) {
      this.leader.removeHandler(peer, true);
    } else if (this.learner !== null && this.learner.leader === peer) {
      this.stepDown(`protocol error from leader ${peer}: ${detail}`);
    }
  }

  settleElectionEpoch(epoch: number): void {
    this.election.settleEpoch(epoch);
  }

  announceRole(reason: string): void {
    const leader = this.leaderSid;
    const epoch = this.leader?.epoch ?? (this.learner !== null && this.learner.epoch > 0 ? this.learner.epoch : this.current_epoch);
    const phase = this.phase;
    const key = `${this.state}|${phase}|${leader}|${epoch}`;
    if (key === this.role_key) return;
    this.role_key = key;
    this.out.push({ type: 'role', state: this.state, phase, leader, epoch, serving: phase === 'broadcast', reason });
  }

  // ---- dispatch --------------------------------------------------------------------------

  private dispatch(ev: ZabEvent): void {
    if (this.halt_reason !== null) {
      if (ev.type === 'propose') this.emit({ type: 'write_rejected', txn: ev.txn, reason: `halted: ${this.halt_reason}` });
      return;
    }
    switch (ev.type) {
      case 'halt':
        this.halt_reason = ev.reason;
        return this.stepDown(`halted: ${ev.reason}`);
      case 'start':
        if (this.started) throw new Error('ZabCore: start twice');
        this.started = true;
        // What is known committed past the snapshot (the log proves it, or the driver's
        // membership file says so) is applied first: the driver's state must hold it (a SNAP we
        // serve is made from it; our window may have trimmed it). A driver whose state already
        // holds its whole log applies nothing.
        if (zxidLt(this.log_base, this.window.committed)) this.out.push({ type: 'commit', to: this.window.committed });
        return this.toLooking('start', true);
      case 'tick':
        return this.onTick();
      case 'message':
        return this.onMessage(ev.from, ev.msg);
      case 'propose':
        return this.onPropose(ev.txn);
      case 'persisted':
        if (!isZxid(ev.zxid)) throw new Error('persisted: bad zxid');
        this.window.markPersisted(ev.zxid);
        this.leader?.onPersisted();
        this.learner?.onPersisted();
        return;
      case 'snapshot_ready':
        this.leader?.onSnapshotReady(ev.peer, ev.zxid, ev.snapshot);
        return;
      case 'peer_reset':
        this.election.peerDown(ev.peer);
        this.leader?.onPeerReset(ev.peer);
        if (this.learner !== null && this.learner.leader === ev.peer) this.stepDown(`connection to leader ${ev.peer} reset`, true);
        return;
      case 'membership':
        if (!isZxid(ev.version)) throw new Error('membership: bad version');
        if (this.views.setActive(new QuorumVerifier(ev.voters, ev.observers), ev.version)) this.onActivated('membership of the installed state');
        return;
    }
  }

  private onTick(): void {
    this.ticks += 1;
    if (this.state === 'LOOKING') return this.handleElection(this.election.onTick(this.ticks));
    this.leader?.onTick();
    this.learner?.onTick();
  }

  private onMessage(from: number, msg: PeerMessage): void {
    if (from === this.sid || !this.views.isMember(from)) return; // the driver should refuse unknown peers
    this.election.peerUp(from);
    if (msg.type === 'NOTIFICATION') return this.onNotification(from, msg);
    if (this.leader !== null) return this.leader.onMessage(from, msg);
    if (this.learner !== null && from === this.learner.leader) this.learner.onMessage(msg);
  }

  private onNotification(from: number, n: Notification): void {
    // A peer's committed membership newer than ours: a reconfig committed that we missed the
    // COMMIT of (ZooKeeper's FastLeaderElection does the same with the QuorumVerifier it sends).
    const c = n.config;
    if (c !== null && zxidLt(this.views.active_version, c.version) && this.views.setActive(new QuorumVerifier(c.voters, c.observers), c.version)) {
      this.onActivated(`server ${from} announced membership ${zxidToString(c.version)}`);
      // A LOOKING replica starts its new round now, and counts this vote in it: had it first
      // voted in the old round (joining the sender's), it would announce a vote there and leave
      // that round at once; a peer that counted that vote would follow it in a round it left.
      this.settle();
    }
    if (this.state === 'LOOKING') return this.handleElection(this.election.onNotification(this.ticks, from, n));
    // Our leader is electing in a round after the one we chose it in: it left that round and
    // leads nobody from it. Following it on would wait initLimit for a sync that never comes.
    if (this.learner !== null && from === this.learner.leader && n.state === 'LOOKING' && n.election_epoch > this.election.logicalclock) {
      return this.stepDown(`leader ${from} is electing in round ${n.election_epoch}, after ours (${this.election.logicalclock})`);
    }
    // Settled: tell a LOOKING peer whom we follow or that we lead (how late replicas join).
    if (n.state === 'LOOKING') this.send(from, this.election.notification(this.state));
  }

  private onPropose(txn: Uint8Array): void {
    if (this.leader !== null) return this.leader.propose(txn);
    if (this.learner !== null) return this.learner.propose(txn);
    this.emit({ type: 'write_rejected', txn, reason: 'no leader (election in progress)' });
  }

  private settle(): void {
    for (let i = 0; this.step_down !== null; i++) {
      if (i >= 4) throw new Error('ZabCore: step-down loop');
      const sd = this.step_down;
      this.step_down = null;
      this.toLooking(sd.reason, sd.connection_gone);
    }
  }

  private toLooking(reason: string, connection_gone: boolean): void {
    this.leader?.leave();
    this.learner?.leave(connection_gone);
    this.leader = null;
    this.learner = null;
    this.state = 'LOOKING';
    this.announceRole(reason);
    if (this.halt_reason !== null) return; // no election: the replica takes no further part
    const self_vote = { leader: this.sid, zxid: this.window.last(), peer_epoch: this.current_epoch };
    this.handleElection(this.election.start(this.ticks, self_vote));
  }

  private handleElection(out: ElectionOutput): void {
    for (const s of out.sends) this.send(s.to, s.msg);
    if (out.decided !== null) this.become(out.decided);
  }

  private become(d: Decision): void {
    if (d.vote.leader === this.sid) {
      if (!this.views.isCandidate(this.sid)) throw new Error('ZabCore: a replica that may not lead was elected');
      this.state = 'LEADING';
      this.leader = new Leader(this, this.cfg, this.views, this.window);
      this.announceRole(`elected in round ${d.election_epoch}`);
      this.leader.start();
      return;
    }
    const observer = this.learnsAsObserver();
    this.state = observer ? 'OBSERVING' : 'FOLLOWING';
    this.learner = new Learner(this, this.cfg, this.window, d.vote.leader, observer);
    this.announceRole(`leader ${d.vote.leader} chosen in round ${d.election_epoch}`);
    this.learner.start();
  }
}

/**
 * What a replica knows committed at start, which may be more than the driver's zxid (its
 * snapshot's): what the log proves (committedBeforeLastEpoch), and the reconfig that made the
 * configured membership (a committed one, by definition: the driver's membership file) with the
 * log before it. So a reconfig is known committed at once, not after the next leader's sync.
 * Found by the Zab simulator (seeds 55345, 71900, 97831): every replica restarted with the
 * reconfigs since its snapshot in flight, and the only candidates (voters of zoo.cfg's
 * membership) were behind a replica the committed membership made a voter: each leader they
 * elected stepped down on its ACKEPOCH, forever.
 */
function committedAtStart(init: ZabInit): Zxid {
  const last = init.log.length > 0 ? init.log[init.log.length - 1].zxid : init.log_base;
  const by_membership = zxidMin(init.membership_version ?? ZXID_ZERO, last);
  return zxidMax(zxidMax(init.committed, committedBeforeLastEpoch(init.log)), by_membership);
}

/** For traces: a one-line summary of an effect (no payload bytes). */
export function effectSummary(e: Effect): string {
  switch (e.type) {
    case 'send':
      return `send ${e.to} ${e.msg.type}`;
    case 'append':
      return `append ${e.entries.length} ..${zxidToString(e.entries[e.entries.length - 1].zxid)}`;
    case 'persist_epochs':
      return `epochs a=${e.accepted_epoch} c=${e.current_epoch}`;
    case 'truncate':
      return `truncate ${zxidToString(e.to)}`;
    case 'apply_snapshot':
      return `snapshot ${zxidToString(e.zxid)}`;
    case 'commit':
      return `commit ${zxidToString(e.to)}`;
    case 'snapshot_needed':
      return `snapshot_needed ${e.peer}`;
    case 'role':
      return `role ${e.state} ${e.phase} l=${e.leader} e=${e.epoch} (${e.reason})`;
    case 'write_rejected':
      return `write_rejected (${e.reason})`;
    case 'protocol_error':
      return `protocol_error ${e.peer}: ${e.detail}`;
    case 'disconnect':
      return `disconnect ${e.peer}`;
  }
}
