// The learner side (follower or observer) of one session with a leader.
//
// Stages, in order (a session only moves forward; any failure ends it and the core goes back
// to LOOKING, closing the connection, so a new session starts from scratch):
//   connecting   FOLLOWERINFO/OBSERVERINFO sent (re-sent every info_retry_ticks)
//   epoch_acked  LEADERINFO accepted (acceptedEpoch persisted first), ACKEPOCH sent
//   syncing      DIFF / TRUNC / SNAP received; PROPOSALs and COMMITs of the sync stream
//   newleader    NEWLEADER received; waiting for the log to be durable up to its zxid
//   acked        currentEpoch persisted, ACK(NEWLEADER) sent; waiting for UPTODATE
//   broadcast    UPTODATE received: serving; PROPOSAL -> durable -> ACK, COMMIT -> apply
// Timeouts: the session must reach broadcast within init_limit_ticks; in broadcast, silence
// from the leader for sync_limit_ticks ends it.
//
// Invariants: commits are only emitted for txns the leader declared committed (COMMIT,
// UPTODATE, INFORM, SNAP), so this replica's committed prefix is never revoked; an ACK covers
// only txns that are durable here (ACKs are cumulative: "durable up to zxid").

import type { CoreContext, Phase } from './effects.js';
import type { LogWindow } from './log_window.js';
import { PROTOCOL_VERSION, type LearnerMessage } from './messages.js';
import type { ZabConfig } from './config.js';
import { nextZxid, zxidEq, zxidLe, zxidLt, zxidToString, ZXID_ZERO, type Zxid } from './zxid.js';

export type LearnerStage = 'connecting' | 'epoch_acked' | 'syncing' | 'newleader' | 'acked' | 'broadcast';

export class Learner {
  stage: LearnerStage = 'connecting';
  /** The epoch of this session (from LEADERINFO); 0 until then. */
  epoch = 0;
  private readonly started_at: number;
  private last_heard: number;
  private info_sent_at = 0;
  private newleader_zxid: Zxid = ZXID_ZERO;
  /** Highest zxid acknowledged to the leader. */
  private acked: Zxid = ZXID_ZERO;
  /** Why this session ends on the next tick (a committed reconfig took our leader out of the
   *  voters), or null. */
  private retiring: string | null = null;

  constructor(
    private readonly ctx: CoreContext,
    private readonly cfg: ZabConfig,
    private readonly window: LogWindow,
    readonly leader: number,
    readonly observer: boolean,
  ) {
    this.started_at = ctx.now();
    this.last_heard = ctx.now();
  }

  phase(): Phase {
    if (this.stage === 'connecting' || this.stage === 'epoch_acked') return 'discovery';
    return this.stage === 'broadcast' ? 'broadcast' : 'sync';
  }

  start(): void {
    this.sendInfo();
  }

  /** Leaving the session: close the connection unless it is already gone. */
  leave(connection_gone: boolean): void {
    if (!connection_gone) this.ctx.disconnect(this.leader);
  }

  /**
   * A committed reconfig took our leader out of the voters: the session ends on our next tick, not
   * at once, so that what this commit answered (the reconfig's reply to a client of ours) leaves
   * before our client connections close with the role.
   */
  retire(reason: string): void {
    this.retiring ??= reason;
  }

  onTick(): void {
    if (this.retiring !== null) return this.ctx.stepDown(this.retiring);
    const now = this.ctx.now();
    if (this.stage !== 'broadcast') {
      if (now - this.started_at >= this.cfg.init_limit_ticks) return this.ctx.stepDown(`no UPTODATE from ${this.leader} within initLimit`);
      if (this.stage === 'connecting' && now - this.info_sent_at >= this.cfg.info_retry_ticks) this.sendInfo();
      return;
    }
    if (now - this.last_heard >= this.cfg.sync_limit_ticks) this.ctx.stepDown(`leader ${this.leader} silent for syncLimit`);
  }

  /** A client write: forwarded to the leader once serving. */
  propose(txn: Uint8Array): void {
    if (this.stage !== 'broadcast') return this.ctx.emit({ type: 'write_rejected', txn, reason: 'not serving (syncing with the leader)' });
    this.ctx.send(this.leader, { type: 'REQUEST', txn });
  }

  onPersisted(): void {
    if (this.stage === 'newleader') this.tryAckNewLeader();
    else if (this.stage === 'acked' || this.stage === 'broadcast') this.ackDurable();
  }

  onMessage(m: LearnerMessage): void {
    this.last_heard = this.ctx.now();
    switch (m.type) {
      case 'LEADERINFO':
        return this.onLeaderInfo(m.epoch);
      case 'DIFF':
      case 'TRUNC':
      case 'SNAP':
        return this.onSyncHead(m);
      case 'PROPOSAL':
        return this.onProposal(m.zxid, m.txn);
      case 'COMMIT':
        return this.onCommit(m.zxid);
      case 'NEWLEADER':
        return this.onNewLeader(m.zxid, m.epoch);
      case 'UPTODATE':
        return this.onUpToDate(m.zxid);
      case 'INFORM':
        return this.onInform(m.zxid, m.txn);
      case 'PING':
        return this.ctx.send(this.leader, { type: 'PING', data: new Uint8Array(0) });
      default:
        // Learner -> leader messages (FOLLOWERINFO, ACK, REQUEST, ...) from the leader: ignored.
        return;
    }
  }

  private sendInfo(): void {
    this.info_sent_at = this.ctx.now();
    const type = this.observer ? 'OBSERVERINFO' : 'FOLLOWERINFO';
    this.ctx.send(this.leader, { type, sid: this.ctx.sid, accepted_epoch: this.ctx.accepted_epoch, protocol_version: PROTOCOL_VERSION });
  }

  private onLeaderInfo(epoch: number): void {
    if (this.stage !== 'connecting') return;
    if (epoch < this.ctx.accepted_epoch && !this.observer) {
      // A voter promised a later leader not to help an older epoch (ZooKeeper: "Leaders epoch
      // is less than accepted epoch"). The leader steps down when it sees our FOLLOWERINFO, so
      // this happens only with a stale leader. Observers promise nothing: they never count.
      return this.ctx.stepDown(`leader ${this.leader} proposes epoch ${epoch} < accepted ${this.ctx.accepted_epoch}`);
    }
    const fresh = epoch > this.ctx.accepted_epoch;
    if (fresh) this.ctx.setAcceptedEpoch(epoch); // durable before ACKEPOCH
    this.epoch = epoch;
    this.ctx.settleElectionEpoch(epoch);
    this.stage = 'epoch_acked';
    this.ctx.send(this.leader, { type: 'ACKEPOCH', current_epoch: this.ctx.current_epoch, last_zxid: this.window.last(), fresh });
    this.ctx.announceRole('epoch accepted');
  }

  private onSyncHead(m: Extract<LearnerMessage, { type: 'DIFF' | 'TRUNC' | 'SNAP' }>): void {
    if (this.stage !== 'epoch_acked') return;
    if (m.type === 'TRUNC') {
      if (zxidLt(m.zxid, this.window.committed) || !this.window.holdsPoint(m.zxid)) {
        return this.ctx.protocolError(this.leader, `TRUNC to ${zxidToString(m.zxid)} below committed ${zxidToString(this.window.committed)} or unknown`);
      }
      this.ctx.truncateLog(m.zxid);
    } else if (m.type === 'SNAP') {
      this.ctx.resetLog(m.zxid, m.snapshot);
    } else if (!zxidLe(this.window.last(), m.zxid)) {
      // DIFF says the leader's history ends at m.zxid and holds our last zxid: ours cannot be later.
      return this.ctx.protocolError(this.leader, `DIFF up to ${zxidToString(m.zxid)} but our log ends at ${zxidToString(this.window.last())}`);
    }
    this.stage = 'syncing';
    this.ctx.announceRole(`sync by ${m.type}`);
  }

  private onProposal(z: Zxid, txn: Uint8Array): void {
    const in_sync = this.stage === 'syncing' || this.stage === 'newleader' || this.stage === 'acked';
    if (!in_sync && this.stage !== 'broadcast') return;
    if (this.observer && this.stage === 'broadcast') return; // observers get INFORM
    if (!zxidLt(this.window.last(), z)) {
      if (zxidLe(z, this.window.committed) || this.window.indexOf(z) >= 0) return; // a duplicate
      return this.ctx.protocolError(this.leader, `PROPOSAL ${zxidToString(z)} conflicts with our log (last ${zxidToString(this.window.last())})`);
    }
    if (this.stage === 'broadcast' || this.stage === 'acked') {
      // Broadcast proposals of this epoch are numbered without gaps.
      const expect = nextZxid(this.window.last(), this.epoch);
      if (expect === null || !zxidEq(expect, z)) {
        return this.ctx.protocolError(this.leader, `PROPOSAL ${zxidToString(z)} out of sequence after ${zxidToString(this.window.last())}`);
      }
    }
    this.ctx.append({ zxid: z, txn });
  }

  private onCommit(z: Zxid): void {
    if (this.stage === 'connecting' || this.stage === 'epoch_acked') return;
    if (zxidLt(this.window.last(), z)) {
      return this.ctx.protocolError(this.leader, `COMMIT ${zxidToString(z)} past our last ${zxidToString(this.window.last())}`);
    }
    this.ctx.commitTo(z);
  }

  private onInform(z: Zxid, txn: Uint8Array): void {
    // INFORMs follow the sync stream (the leader forwards from the moment it queued it).
    if (!this.observer || this.stage === 'connecting' || this.stage === 'epoch_acked') return;
    if (zxidLt(this.window.last(), z)) this.ctx.append({ zxid: z, txn });
    else if (this.window.indexOf(z) < 0 && zxidLt(this.window.committed, z)) {
      return this.ctx.protocolError(this.leader, `INFORM ${zxidToString(z)} is not in our log`);
    }
    this.ctx.commitTo(z);
  }

  private onNewLeader(z: Zxid, epoch: number): void {
    if (this.stage !== 'syncing') return;
    if (epoch !== this.epoch || !zxidEq(z, this.window.last())) {
      return this.ctx.protocolError(this.leader, `NEWLEADER e=${epoch} ${zxidToString(z)} but session epoch ${this.epoch}, log ends ${zxidToString(this.window.last())}`);
    }
    this.stage = 'newleader';
    this.newleader_zxid = z;
    this.tryAckNewLeader();
  }

  /**
   * NEWLEADER is acknowledged only once every txn of the sync is durable here, and after
   * currentEpoch is persisted (the effect precedes the ACK, and the driver executes in order):
   * the ACK is the learner's promise that it holds the leader's initial history.
   */
  private tryAckNewLeader(): void {
    if (zxidLt(this.window.persisted, this.newleader_zxid)) return;
    // Voters reach here with current <= accepted <= epoch. An observer may hold a later
    // currentEpoch from a leader that never established (it promised nothing): kept as is.
    if (this.ctx.current_epoch < this.epoch) this.ctx.setCurrentEpoch(this.epoch);
    this.stage = 'acked';
    this.acked = this.window.persisted;
    this.ctx.send(this.leader, { type: 'ACK', zxid: this.acked });
  }

  private ackDurable(): void {
    if (this.observer || !zxidLt(this.acked, this.window.persisted)) return;
    this.acked = this.window.persisted;
    this.ctx.send(this.leader, { type: 'ACK', zxid: this.acked });
  }

  private onUpToDate(z: Zxid): void {
    if (this.stage !== 'acked') return;
    if (zxidLt(this.window.last(), z)) {
      return this.ctx.protocolError(this.leader, `UPTODATE ${zxidToString(z)} past our last ${zxidToString(this.window.last())}`);
    }
    this.ctx.commitTo(z);
    this.stage = 'broadcast';
    this.last_heard = this.ctx.now();
    this.ctx.announceRole('up to date');
  }
}
