// The leader side: discovery, synchronization of each learner, and broadcast.
//
// Phases of the leader (all within one election outcome; any failure -> LOOKING):
//   discovery  collect FOLLOWERINFO from a quorum (ourselves included); the new epoch is
//              max(accepted epochs) + 1, persisted as acceptedEpoch BEFORE LEADERINFO is sent;
//              then collect ACKEPOCH from a quorum; a voter whose (currentEpoch, last zxid) is
//              ahead of ours proves we should not lead: step down.
//   sync       currentEpoch persisted, once our own log is durable (a crash must not leave a
//              currentEpoch of e over a shorter log); our log at this moment is the initial
//              history H of the epoch. Each learner gets DIFF / TRUNC / SNAP + the missing txns
//              + NEWLEADER.
//              Once a quorum (us included, once H is durable here) acknowledged NEWLEADER, H is
//              committed and the epoch is established: UPTODATE to every synced learner.
//   broadcast  PROPOSAL to followers, commit on a quorum of durable ACKs (ours = persisted),
//              COMMIT to followers, INFORM to observers. Learners joining now are synced the
//              same way and receive the broadcast from the moment their sync is queued (FIFO).
// A learner handler moves through: info -> leaderinfo -> epoch_acked -> [snapshot] ->
// newleader (sync queued, forwarding) -> synced (NEWLEADER acknowledged).
// Whose promise and ACK count is decided by our memberships, not by the role a learner declares:
// one that a reconfig in flight in our log makes a voter may lack that reconfig and follow as an
// observer; it is sent the whole history and counts, as far as its promise binds it
// (holdsHistoryAsVoter).

import type { ZabConfig } from './config.js';
import type { CoreContext, Phase } from './effects.js';
import type { LogEntry, LogWindow } from './log_window.js';
import { PROTOCOL_VERSION, type LearnerMessage } from './messages.js';
import type { Memberships } from './membership.js';
import type { QuorumVerifier } from './quorum.js';
import { planSync, type SyncPlan } from './sync_plan.js';
import { compareZxid, nextZxid, zxidEq, zxidLe, zxidLt, zxidMin, zxidToString, ZXID_ZERO, type Zxid } from './zxid.js';

/** write_rejected's reason for a proposal past pending_max. */
export const PROPOSAL_QUEUE_FULL = 'proposal queue full';

export type HandlerStage = 'info' | 'leaderinfo' | 'epoch_acked' | 'snapshot' | 'newleader' | 'synced';

export interface LearnerHandler {
  readonly sid: number;
  readonly observer: boolean;
  stage: HandlerStage;
  peer_last: Zxid;
  peer_current_epoch: number;
  /** Last zxid of this learner's sync stream (what NEWLEADER carries). */
  newleader_zxid: Zxid;
  /** Cumulative durable ACK (followers). */
  acked: Zxid;
  /** Its ACKEPOCH in this session raised its acceptedEpoch to ours: a promise made to us. */
  fresh_promise: boolean;
  stage_at: number;
  last_heard: number;
  snapshot_tries: number;
  /** The zxid the SNAP for this learner must be at or above (the window is pinned there). */
  snapshot_min: Zxid;
  /** How the learner was synced (metrics, tests). */
  sync_kind: SyncPlan['kind'] | null;
}

type SyncHead =
  | { kind: 'DIFF'; point: Zxid }
  | { kind: 'TRUNC'; point: Zxid }
  | { kind: 'SNAP'; point: Zxid; snapshot: Uint8Array };

export class Leader {
  phase: Exclude<Phase, 'election'> = 'discovery';
  /** The epoch we lead, once a quorum of FOLLOWERINFO chose it. */
  epoch: number | null = null;
  readonly handlers = new Map<number, LearnerHandler>();
  private readonly started_at: number;
  private readonly infos = new Map<number, number>();
  private readonly epoch_acks = new Set<number>();
  private readonly newleader_acks = new Set<number>();
  /** Last zxid of the initial history H (fixed when the sync phase starts). */
  private history_last: Zxid = ZXID_ZERO;
  private pending: Uint8Array[] = [];
  private last_ping_at: number;
  /** Why this leader steps down on its next tick (a reconfig took it out of the voters), or null. */
  private retiring: string | null = null;

  constructor(
    private readonly ctx: CoreContext,
    private readonly cfg: ZabConfig,
    private readonly qv: Memberships,
    private readonly window: LogWindow,
  ) {
    this.started_at = ctx.now();
    this.last_ping_at = ctx.now();
    this.infos.set(ctx.sid, ctx.accepted_epoch);
  }

  start(): void {
    this.tryDecideEpoch();
  }

  /**
   * Leaving: what is still queued enters the log as proposals never sent. The driver numbered and
   * logged each of them when it proposed it (a leader's prep logs every txn it makes), so the log
   * and this window must hold the same entries: left out of the window, such a txn would stay on
   * disk past our vote's zxid, no TRUNC would remove it, and a restart would replay it. In the
   * window it is one more uncommitted proposal of a deposed leader: the next leader commits or
   * truncates it. Only a txn no zxid is left for (the epoch's counter exhausted) is rejected.
   */
  leave(): void {
    for (const h of this.handlers.values()) this.ctx.disconnect(h.sid);
    this.handlers.clear();
    this.updatePin();
    for (const txn of this.pending) {
      const zxid = nextZxid(this.window.last(), this.mustEpoch(), this.cfg.counter_max); // queued only in broadcast
      if (zxid === null) this.ctx.emit({ type: 'write_rejected', txn, reason: 'leader stepped down' });
      else this.ctx.append({ zxid, txn });
    }
    this.pending = [];
  }

  onMessage(from: number, m: LearnerMessage): void {
    if (m.type === 'FOLLOWERINFO' || m.type === 'OBSERVERINFO') return this.onLearnerInfo(from, m.type, m.sid, m.accepted_epoch);
    const h = this.handlers.get(from);
    if (h === undefined) return; // no session with this peer: stale or misdirected
    h.last_heard = this.ctx.now();
    switch (m.type) {
      case 'ACKEPOCH':
        return this.onAckEpoch(h, m.current_epoch, m.last_zxid, m.fresh);
      case 'ACK':
        return this.onAck(h, m.zxid);
      case 'REQUEST':
        if (h.stage === 'synced') this.propose(m.txn);
        return;
      default:
        return; // PING (liveness only) and leader -> learner types
    }
  }

  /** Proposals queued behind in_flight_max (not yet in the log). */
  get queued(): number {
    return this.pending.length;
  }

  onPeerReset(peer: number): void {
    this.removeHandler(peer, false);
  }

  /** Ends the session with `peer` (closing the connection unless it is already gone). */
  removeHandler(peer: number, disconnect: boolean): void {
    if (!this.handlers.delete(peer)) return;
    if (disconnect) this.ctx.disconnect(peer);
    this.updatePin();
  }

  onPersisted(): void {
    if (this.phase === 'discovery') this.tryEpochQuorum();
    else if (this.phase === 'sync') this.tryEstablish();
    else if (this.phase === 'broadcast') this.advanceCommit();
  }

  /**
   * A committed reconfig took us out of the voters: we step down on the next tick, not now, so
   * that the COMMIT that says so leaves before the connections close (a disconnect drops what is
   * queued): the learners apply it, and the client that asked is answered. Nothing new is
   * proposed meanwhile.
   */
  retire(reason: string): void {
    this.retiring ??= reason;
  }

  onTick(): void {
    if (this.retiring !== null) return this.ctx.stepDown(this.retiring);
    const now = this.ctx.now();
    if (this.phase !== 'broadcast' && now - this.started_at >= this.cfg.init_limit_ticks) {
      return this.ctx.stepDown(`epoch not established within initLimit (phase ${this.phase})`);
    }
    for (const h of [...this.handlers.values()]) {
      // A reconfig removed it (after it was sent the COMMIT that says so). Its session ends here
      // without a disconnect: a reset could reach it before it read that COMMIT (a TCP reset
      // discards what the peer has not read yet), and it would leave without applying its
      // removal. The driver closes its link once the membership is active, after what was sent.
      if (!this.qv.isMember(h.sid)) this.removeHandler(h.sid, false);
      else this.checkHandlerTimeout(h, now);
    }
    if (this.phase === 'broadcast' && !this.qv.containsQuorum(this.syncedVoters())) {
      return this.ctx.stepDown('lost quorum of synced followers');
    }
    if (now - this.last_ping_at >= this.cfg.ping_ticks) {
      this.last_ping_at = now;
      for (const h of this.handlers.values()) if (forwarding(h)) this.ctx.send(h.sid, { type: 'PING', data: new Uint8Array(0) });
    }
  }

  /** A write to broadcast. Queued behind in_flight_max (and while retiring: see leave()); rejected
   *  past pending_max. */
  propose(txn: Uint8Array): void {
    if (this.phase !== 'broadcast') return this.ctx.emit({ type: 'write_rejected', txn, reason: 'leader not established' });
    if (this.pending.length >= this.cfg.pending_max) return this.ctx.emit({ type: 'write_rejected', txn, reason: PROPOSAL_QUEUE_FULL });
    this.pending.push(txn);
    this.drainPending();
  }

  onSnapshotReady(peer: number, z: Zxid, snapshot: Uint8Array): void {
    const h = this.handlers.get(peer);
    if (h === undefined || h.stage !== 'snapshot') return; // that sync ended meanwhile
    if (!this.window.holdsPoint(z) || zxidLt(this.window.committed, z)) {
      // Older than our window (we could not send what follows it) or not committed: ask again.
      h.snapshot_tries += 1;
      if (h.snapshot_tries >= this.cfg.snapshot_tries_max) return this.dropHandler(h);
      return this.ctx.emit({ type: 'snapshot_needed', peer, min_zxid: h.snapshot_min });
    }
    this.queueSync(h, { kind: 'SNAP', point: z, snapshot });
    this.updatePin();
  }

  /**
   * Ourselves and the followers that acknowledged NEWLEADER, as far as a membership in force has
   * them: one a committed reconfig removed is dropped on our next tick, and must not count
   * meanwhile (a reconfig that made it a voter again, checked against these, could never commit:
   * it holds itself removed and learns of no reconfig in flight; Zab simulator seed 74764).
   */
  syncedVoters(): number[] {
    const out = [this.ctx.sid];
    for (const h of this.handlers.values()) if (h.stage === 'synced' && !h.observer && this.qv.isMember(h.sid)) out.push(h.sid);
    return out;
  }

  // ---- discovery ---------------------------------------------------------------------

  private onLearnerInfo(from: number, type: 'FOLLOWERINFO' | 'OBSERVERINFO', sid: number, accepted_epoch: number): void {
    if (sid !== from) return this.ctx.protocolError(from, `${type} names sid ${sid}`);
    // The role a learner declares is the one its own committed membership gives it, which may be
    // older or newer than ours while a reconfig is in flight: it decides what the learner is sent
    // (PROPOSALs or INFORMs); whether its ACKs count is decided by the memberships in force.
    const running = this.handlers.get(from);
    if (running !== undefined) {
      if (running.observer === (type === 'OBSERVERINFO')) return; // a retry of a session in progress
      // It left its session for another role (a reconfig it saw committed): a new session.
      this.removeHandler(from, false);
    }
    const now = this.ctx.now();
    const h: LearnerHandler = {
      sid: from,
      observer: type === 'OBSERVERINFO',
      stage: 'info',
      peer_last: ZXID_ZERO,
      peer_current_epoch: 0,
      newleader_zxid: ZXID_ZERO,
      acked: ZXID_ZERO,
      fresh_promise: false,
      stage_at: now,
      last_heard: now,
      snapshot_tries: 0,
      snapshot_min: ZXID_ZERO,
      sync_kind: null,
    };
    if (this.qv.isVoter(from) && this.epoch !== null && accepted_epoch > this.epoch) {
      // This voter promised an epoch above ours (a discovery it took part in failed): it will
      // never follow us (a follower refuses our epoch; an observer's promise to us could not be
      // fresh). ZooKeeper leaves it out until the next election; we step down so the next
      // election picks an epoch above its promise and the ensemble is whole again.
      return this.ctx.stepDown(`voter ${from} accepted epoch ${accepted_epoch} > ours ${this.epoch}`);
    }
    this.handlers.set(from, h);
    if (this.epoch !== null) return this.sendLeaderInfo(h);
    if (!h.observer || this.qv.isVoter(from)) this.infos.set(from, accepted_epoch);
    this.tryDecideEpoch();
  }

  /** New epoch = max accepted epoch of a quorum + 1: no member of that quorum accepted it yet. */
  private tryDecideEpoch(): void {
    if (this.epoch !== null || !this.qv.containsQuorum(this.infos.keys())) return;
    let max = 0;
    for (const e of this.infos.values()) max = Math.max(max, e);
    const epoch = max + 1;
    this.ctx.setAcceptedEpoch(epoch); // durable before any LEADERINFO
    this.epoch = epoch;
    this.ctx.settleElectionEpoch(epoch);
    this.epoch_acks.add(this.ctx.sid);
    this.ctx.announceRole(`epoch ${epoch} proposed`);
    for (const h of this.handlers.values()) if (h.stage === 'info') this.sendLeaderInfo(h);
    this.tryEpochQuorum();
  }

  private sendLeaderInfo(h: LearnerHandler): void {
    this.ctx.send(h.sid, { type: 'LEADERINFO', epoch: this.mustEpoch(), protocol_version: PROTOCOL_VERSION });
    this.setStage(h, 'leaderinfo');
  }

  private onAckEpoch(h: LearnerHandler, current_epoch: number, last: Zxid, fresh: boolean): void {
    if (h.stage !== 'leaderinfo') return;
    h.peer_last = last;
    h.peer_current_epoch = current_epoch;
    h.fresh_promise = fresh;
    this.setStage(h, 'epoch_acked');
    if (this.phase !== 'discovery') return this.startSync(h);
    if (!this.qv.isVoter(h.sid)) return;
    if (this.isAheadOfUs(current_epoch, last)) {
      return this.ctx.stepDown(`follower ${h.sid} is ahead (epoch ${current_epoch}, ${zxidToString(last)})`);
    }
    // Only a fresh acceptance is a promise made to us (see AckEpoch in messages.ts).
    if (fresh) this.epoch_acks.add(h.sid);
    this.tryEpochQuorum();
  }

  private isAheadOfUs(current_epoch: number, last: Zxid): boolean {
    if (current_epoch !== this.ctx.current_epoch) return current_epoch > this.ctx.current_epoch;
    return compareZxid(last, this.window.last()) > 0;
  }

  private tryEpochQuorum(): void {
    if (this.phase !== 'discovery' || this.epoch === null || !this.qv.containsQuorum(this.epoch_acks)) return;
    // Our own history must be durable before currentEpoch is, as a learner's is before it
    // acknowledges NEWLEADER (ZOOKEEPER-4643). A leader elected with txns still in its log's
    // write queue (a follower's slow fsync) that crashed with currentEpoch = e but a shorter log
    // would win the next election on its epoch and truncate txns a quorum had committed
    // (Zab simulator seed 614785). onPersisted calls back here.
    if (zxidLt(this.window.persisted, this.window.last())) return;
    this.ctx.setCurrentEpoch(this.epoch); // durable before any NEWLEADER
    this.phase = 'sync';
    this.history_last = this.window.last();
    this.ctx.announceRole('epoch acknowledged by a quorum');
    for (const h of [...this.handlers.values()]) if (h.stage === 'epoch_acked') this.startSync(h);
    this.tryEstablish();
  }

  // ---- synchronization ---------------------------------------------------------------

  private startSync(h: LearnerHandler): void {
    const plan = planSync(this.window, h.peer_last);
    if (plan.kind === 'DIFF' || plan.kind === 'TRUNC') return this.queueSync(h, plan);
    this.setStage(h, 'snapshot');
    h.snapshot_min = this.window.base;
    this.updatePin();
    this.ctx.emit({ type: 'snapshot_needed', peer: h.sid, min_zxid: h.snapshot_min });
  }

  /** Pins the window at the lowest zxid a pending SNAP may start from (see LogWindow.pin). */
  private updatePin(): void {
    let pin: Zxid | null = null;
    for (const h of this.handlers.values()) {
      if (h.stage === 'snapshot' && (pin === null || zxidLt(h.snapshot_min, pin))) pin = h.snapshot_min;
    }
    this.window.pin = pin;
    if (pin === null) this.window.trim();
  }

  /**
   * Queues the whole sync stream for `h` in one step, so nothing the leader broadcasts can
   * slip in between: head (DIFF/TRUNC/SNAP), the txns after its point (observers: committed
   * ones only, the rest reaches them as INFORM), COMMIT, NEWLEADER. From here on `h` is
   * forwarded every PROPOSAL/COMMIT (INFORM), in order behind the stream.
   */
  private queueSync(h: LearnerHandler, head: SyncHead): void {
    const to = h.sid;
    if (head.kind === 'DIFF') this.ctx.send(to, { type: 'DIFF', zxid: this.window.last() });
    else if (head.kind === 'TRUNC') this.ctx.send(to, { type: 'TRUNC', zxid: head.point });
    else this.ctx.send(to, { type: 'SNAP', zxid: head.point, snapshot: head.snapshot });
    let last = head.point;
    const whole = !h.observer || this.qv.isVoter(h.sid);
    for (const e of this.window.after(head.point)) {
      if (!whole && zxidLt(this.window.committed, e.zxid)) break;
      this.ctx.send(to, { type: 'PROPOSAL', zxid: e.zxid, txn: e.txn });
      last = e.zxid;
    }
    if (zxidLt(head.point, this.window.committed)) this.ctx.send(to, { type: 'COMMIT', zxid: zxidMin(this.window.committed, last) });
    h.newleader_zxid = last;
    h.sync_kind = head.kind;
    this.ctx.send(to, { type: 'NEWLEADER', zxid: last, epoch: this.mustEpoch() });
    this.setStage(h, 'newleader');
  }

  private onAck(h: LearnerHandler, z: Zxid): void {
    if (zxidLt(this.window.last(), z)) return this.ctx.protocolError(h.sid, `ACK ${zxidToString(z)} past our last ${zxidToString(this.window.last())}`);
    if (h.stage === 'newleader') {
      if (zxidLt(z, h.newleader_zxid)) return;
      this.setStage(h, 'synced');
      h.acked = z;
      if (this.phase === 'sync' && this.holdsHistoryAsVoter(h)) this.newleader_acks.add(h.sid);
      if (this.phase === 'sync') return this.tryEstablish();
      this.ctx.send(h.sid, { type: 'UPTODATE', zxid: this.window.committed });
    } else if (h.stage === 'synced') {
      if (zxidLt(h.acked, z)) h.acked = z;
    } else {
      return;
    }
    if (!h.observer) this.advanceCommit();
  }

  /**
   * Whether `h`'s ACK of NEWLEADER says a voter holds the initial history H durably. A follower's
   * does (it was sent H; a voter never acknowledges an epoch below its promise). A learner that
   * follows as an observer counts when a membership in force makes it a voter (its own log lacks
   * the reconfig in flight that does: ZooKeeper's leader, too, counts a NEWLEADER ACK by its own
   * memberships, not by the role the learner declared), provided it was sent the whole of H and
   * promised our epoch in this session: an observer does not refuse an epoch below its promise,
   * so only an ACK that follows a fresh promise to us is one it cannot also give an older leader.
   */
  private holdsHistoryAsVoter(h: LearnerHandler): boolean {
    if (!h.observer) return true;
    return this.qv.isVoter(h.sid) && h.fresh_promise && zxidEq(h.newleader_zxid, this.history_last);
  }

  /** H is committed once a quorum holds it durably (we count once our own log is durable). */
  private tryEstablish(): void {
    if (this.phase !== 'sync') return;
    const acks = [...this.newleader_acks];
    if (zxidLe(this.history_last, this.window.persisted)) acks.push(this.ctx.sid);
    if (!this.qv.containsQuorum(acks)) return;
    this.phase = 'broadcast';
    const newly = this.ctx.commitTo(this.history_last);
    this.informObservers(newly);
    for (const h of this.handlers.values()) {
      if (h.stage === 'synced') this.ctx.send(h.sid, { type: 'UPTODATE', zxid: this.window.committed });
    }
    this.ctx.announceRole('established');
    this.drainPending();
  }

  // ---- broadcast ---------------------------------------------------------------------

  private drainPending(): void {
    if (this.retiring !== null) return; // what is queued enters the log when we leave (leave())
    let sent = 0;
    const room = this.cfg.in_flight_max - this.window.uncommittedCount();
    while (sent < this.pending.length && sent < room) {
      const zxid = nextZxid(this.window.last(), this.mustEpoch(), this.cfg.counter_max);
      if (zxid === null) {
        this.pending = this.pending.slice(sent);
        return this.ctx.stepDown(`zxid counter exhausted in epoch ${this.mustEpoch()}: a new epoch is needed`);
      }
      const entry: LogEntry = { zxid, txn: this.pending[sent] };
      sent += 1;
      this.ctx.append(entry);
      for (const h of this.handlers.values()) {
        if (!h.observer && forwarding(h)) this.ctx.send(h.sid, { type: 'PROPOSAL', zxid, txn: entry.txn });
      }
    }
    if (sent > 0) this.pending = this.pending.slice(sent);
  }

  /**
   * Commit point = highest zxid durable on a quorum (ours = persisted); in zxid order. While a
   * reconfig is in flight, a txn at or after it needs a quorum of the new voters too
   * (membership.ts): the commit point stops just before it until they have it.
   */
  private advanceCommit(): void {
    if (this.phase !== 'broadcast') return;
    let quorum_zxid = this.quorumZxid(this.qv.active);
    if (quorum_zxid === null) return;
    for (const p of this.qv.pending) {
      if (zxidLt(quorum_zxid, p.zxid)) break;
      const q = this.quorumZxid(p.qv);
      if (q === null || zxidLt(q, p.zxid)) {
        quorum_zxid = this.window.before(p.zxid);
        break;
      }
      quorum_zxid = zxidMin(quorum_zxid, q);
    }
    if (!zxidLt(this.window.committed, quorum_zxid)) return;
    const newly = this.ctx.commitTo(quorum_zxid);
    for (const h of this.handlers.values()) {
      if (!h.observer && forwarding(h)) this.ctx.send(h.sid, { type: 'COMMIT', zxid: quorum_zxid });
    }
    this.informObservers(newly);
    this.drainPending();
  }

  /** Highest zxid durable on a quorum of `qv`'s voters (ours = persisted), null if no quorum is synced. */
  private quorumZxid(qv: QuorumVerifier): Zxid | null {
    const acks: Zxid[] = [];
    if (qv.isVoter(this.ctx.sid)) acks.push(this.window.persisted);
    for (const h of this.handlers.values()) if (h.stage === 'synced' && !h.observer && qv.isVoter(h.sid)) acks.push(h.acked);
    if (acks.length < qv.quorum_size) return null;
    acks.sort((a, b) => compareZxid(b, a));
    return acks[qv.quorum_size - 1];
  }

  /**
   * Observers learn committed txns as INFORM (txn included). One that already holds a txn (its
   * sync stream ended past our commit point: a former follower whose log holds proposals it
   * ACKed then, kept by a DIFF) is sent a COMMIT for it instead, first.
   */
  private informObservers(newly: readonly LogEntry[]): void {
    if (newly.length === 0) return;
    for (const h of this.handlers.values()) {
      if (!h.observer || !forwarding(h)) continue;
      let held: Zxid | null = null;
      for (const e of newly) if (zxidLe(e.zxid, h.newleader_zxid)) held = e.zxid;
      if (held !== null) this.ctx.send(h.sid, { type: 'COMMIT', zxid: held });
      for (const e of newly) if (zxidLt(h.newleader_zxid, e.zxid)) this.ctx.send(h.sid, { type: 'INFORM', zxid: e.zxid, txn: e.txn });
    }
  }

  // ---- handlers ----------------------------------------------------------------------

  private checkHandlerTimeout(h: LearnerHandler, now: number): void {
    if (h.stage === 'synced') {
      if (now - h.last_heard >= this.cfg.sync_limit_ticks) this.dropHandler(h);
    } else if (now - h.stage_at >= this.cfg.init_limit_ticks) {
      this.dropHandler(h);
    }
  }

  private dropHandler(h: LearnerHandler): void {
    this.removeHandler(h.sid, true);
  }

  private setStage(h: LearnerHandler, stage: HandlerStage): void {
    h.stage = stage;
    h.stage_at = this.ctx.now();
  }

  private mustEpoch(): number {
    if (this.epoch === null) throw new Error('leader: epoch used before it was chosen');
    return this.epoch;
  }
}

/** Handlers whose sync stream is queued: they receive the broadcast from then on. */
function forwarding(h: LearnerHandler): boolean {
  return h.stage === 'newleader' || h.stage === 'synced';
}
