// The Zab driver: executes the sans-IO Zab core (src/zab/) inside the commit worker, which owns
// the log, the tree and the commit stream. It is the only code that knows both sides: the core's
// (epoch, counter) zxids and opaque txn bytes, and the replica's numbered txns and publications.
//
// One event at a time: peer messages, connection resets, ticks and log durability are queued in
// the inbox and stepped from the commit worker's loop (pump), never from a socket callback, so the
// core, the CommitCore and group commit are only touched by the loop. Effects run in order; the
// few that must be durable before the next one (epochs, truncate, snapshot install) block the
// inbox until they are done (see "What is persisted when" in zab_core.ts).
//
// Paths of a write through this driver:
// - leader: the commit worker preps the request (CommitCore, local or forwarded by a learner),
//   group commit logs it, `proposeLocal` hands the same bytes to the core (PROPOSAL to every
//   follower); the batch's durability is `persisted`; a quorum of ACKs is the core's `commit`,
//   which moves the release gate (commitThrough): the reply and the watches go out.
// - learner: the request is forwarded (REQUEST, forward_codec.ts) and remembered by its
//   (session, cxid); the leader's PROPOSAL is an `append` (logged with group commit, `persisted`
//   once durable, the core ACKs), its COMMIT a `commit`: the txn is applied to the tree and
//   published, with the origin of the forwarded request if it came from here.
//
// Leaving broadcast (election, lost quorum, leader gone) closes every client connection of this
// replica, as ZooKeeper does when a server leaves its role: the outcome of their pending writes
// is unknown (CONNECTIONLOSS), and clients reconnect to a serving replica with their session.
//
// A disk fault halts the driver (`halt`): the core leaves its role for good, queued events are
// dropped and no new one is taken; the commit worker closes the peer links. For the ensemble the
// replica is then as good as crashed, which is what lets the others go on.

import type { Origin, Publication } from '../commit/commit_core.js';
import type { CommitCore } from '../commit/commit_core.js';
import type { GroupCommit } from '../commit/group_commit.js';
import type { Id } from '../protocol/types.js';
import { PROPOSAL_QUEUE_FULL } from '../zab/leader.js';
import { BufferStats } from '../metrics/buffer_stats.js';
import { hrNowMs } from '../metrics/clock.js';
import { ProposalTimes } from '../metrics/proposal_times.js';
import { NO_ZAB_METRICS, type SyncMode, type ZabMetricsSink } from '../metrics/zab_metrics.js';
import { txnFromBytes } from '../tree/txn_codec.js';
import { isSessionMoved, type Txn } from '../tree/txn.js';
import type { Effect, ZabEvent } from '../zab/effects.js';
import type { LogEntry } from '../zab/log_window.js';
import type { PeerMessage, ServerState } from '../zab/messages.js';
import { ZabCore, type ZabInit } from '../zab/zab_core.js';
import type { ZabConfig } from '../zab/config.js';
import { zxidToString, type Zxid } from '../zab/zxid.js';
import {
  decodeForwarded,
  decodeRevalidateAnswer,
  decodeRevalidateQuestion,
  decodeTouches,
  encodeRevalidateAnswer,
  encodeRevalidateQuestion,
  encodeTouches,
  forwardKey,
  TOUCHES_PER_PING_MAX,
} from './forward_codec.js';
import { Revalidations, type PendingRevalidation } from './revalidations.js';
import { membershipSpec, reconfigMembership } from './reconfig_membership.js';
import type { Membership } from '../config/quorum_config_text.js';
import { numberOfZxid, zxidOfNumber } from './zxid_number.js';

/** The transport the driver sends on (src/replication/peer_transport.ts). */
export interface PeerLinks {
  send(to: number, msg: PeerMessage): void;
  disconnect(peer: number): void;
  /** Sends now what was sent since the last flush (else it leaves at the end of the tick); to the
   *  peers in `last` after every other peer. */
  flush(last: ReadonlySet<number> | null): void;
}

/** What the commit worker gives the driver. Everything here runs on the commit worker's loop. */
export interface QuorumHost {
  readonly core: CommitCore;
  readonly gc: GroupCommit;
  /** A write to the log is in flight (truncate / install must wait for it). */
  readonly write_in_flight: boolean;
  /** A learner logged `txns` txns of the leader's: snapshots count them (ZooKeeper's
   *  SyncRequestProcessor counts every logged txn, a follower's too). A leader's txns are counted
   *  where it preps them. */
  learnerLogged(txns: number): void;
  /** Durably writes both epochs (sync: called rarely, before the next effect). On failure the
   *  host halts this driver (halt) before it returns: the effects after it are dropped. */
  persistEpochs(accepted_epoch: number, current_epoch: number): void;
  /** TRUNC: drop logged txns after zxid, rebuild tree / sessions / group commit from disk, tell
   *  the read workers to reload. */
  truncateAndReload(zxid: number): Promise<void>;
  /** SNAP: install the leader's snapshot, drop the log, rebuild, tell the read workers. */
  installSnapshotAndReload(zxid: number, snapshot: Uint8Array): Promise<void>;
  /** A snapshot of committed state at a zxid >= min_zxid (file bytes), when one exists or was made. */
  snapshotAtLeast(min_zxid: number): Promise<{ zxid: number; bytes: Uint8Array }>;
  /** Learner: the leader answered a reattach's REVALIDATE (valid = the session lives, its password is right). */
  revalidated(p: PendingRevalidation, valid: boolean): void;
  /** A write learner `from_sid` forwarded (client request bytes: header + body): prep it as a local one. */
  remoteWrite(from_sid: number, session_id: bigint, auth: readonly Id[], request: Uint8Array): void;
  /** Moves what the CommitCore prepped since the last call into group commit: as the leader,
   *  its txns are proposed (proposeLocal) there and then. */
  stagePrepped(): void;
  /** Publishes a close_conn for every client connection this replica holds. */
  closeAllClients(reason: string): void;
  /** The role changed (srvr, metrics, the supervisor). */
  roleChanged(role: QuorumRole): void;
  /** Something for the loop to do (an event arrived from a socket or a timer). */
  wake(): void;
  log(line: string): void;
  /** A reconfig entered the log (proposed, not committed): its members must be reachable now,
   *  since it commits on a quorum of its voters too (src/zab/membership.ts). */
  reconfigInFlight(m: Membership): void;
  /** Everything up to `zxid` is committed, as far as this replica knows now (maybe not applied
   *  yet): reads that arrive from now on wait for it (src/workers/known_commit.ts). */
  knownCommit(zxid: number): void;
}

export interface QuorumRole {
  readonly state: ServerState;
  readonly phase: string;
  readonly leader: number | null;
  readonly epoch: number;
  readonly serving: boolean;
}

/**
 * Proposals whose propose time is kept for the latency metrics (metrics/proposal_times.ts):
 * above the core's in-flight bound, so the bound only bites when a follower stops acknowledging
 * while its session lasts.
 */
const PROPOSAL_TIMES_MAX = 1 << 16;


/** A forwarded request waiting for its txn to come back committed. */
interface PendingForward {
  readonly origin: Origin;
  /** A sync is answered as a sync once its no-op txn commits. */
  readonly sync_path: string | null;
}

export class QuorumDriver {
  readonly zab: ZabCore;
  private inbox: ZabEvent[] = [];
  private inbox_head = 0;
  /** Effects of the current step not yet executed (an async one blocks the rest). */
  private effects: Effect[] = [];
  private effects_head = 0;
  private blocked = false;
  /** Local proposals handed to the core, in order: the core numbers them; we check it agrees. */
  private expected: number[] = [];
  private expected_head = 0;
  /** Txns appended as a learner (or before this replica led), not yet published, zxid order. */
  private unpublished: { zxid: number; bytes: Uint8Array }[] = [];
  /** zxid of the last txn handed to the release gate (the read workers will see it). */
  private published_zxid: number;
  private readonly pending = new Map<string, PendingForward>();
  /** Learner: reattaches waiting for the leader's REVALIDATE answer (as many as forwards). */
  private readonly revalidations: Revalidations;
  private touched = new Set<bigint>();
  role: QuorumRole = { state: 'LOOKING', phase: 'election', leader: null, epoch: 0, serving: false };
  /** Leader: proposals whose session a learner's client holds, as pairs (zxid, sid) in zxid
   *  order: who waits for each one's COMMIT to answer its client (see flushSends). */
  private learner_held: number[] = [];
  private learner_held_head = 0;
  /** Leader: learners holding the session of a txn proposed or committed since the last
   *  flushSends. */
  private readonly holders_now = new Set<number>();
  private readonly sid: number;
  /** Totals for stats. */
  forwarded = 0;
  proposals = 0;
  elections = 0;
  private election_started_ms = 0;
  last_election_ms = 0;
  /** When this replica last began to lead (mntr's zk_leader_uptime). */
  private leading_since_ms = 0;
  // ---- stats and timing only (metrics, mntr, zabstate); nothing below steers the protocol ----
  /** Propose times of this leader's proposals (quorum_ack_latency, ack_latency). */
  private readonly times = new ProposalTimes(PROPOSAL_TIMES_MAX);
  /** Sizes of this leader's proposals since it began leading (mntr's zk_*_proposal_size). */
  private readonly proposal_sizes = new BufferStats();
  /** Learners whose sync stream this leader is sending, by mode (bytes are counted per mode). */
  private readonly syncing = new Map<number, SyncMode>();
  /** As a learner: how the leader is synchronizing us (zabstate's peer_state); null once done. */
  private learner_sync: SyncMode | null = null;

  constructor(
    cfg: ZabConfig,
    init: ZabInit,
    private readonly host: QuorumHost,
    private links: PeerLinks,
    /** zxid the read workers hold at start (the recovered one). */
    published_zxid: number,
    private readonly pending_max: number,
    private readonly metrics: ZabMetricsSink = NO_ZAB_METRICS,
    /** The clock durations are measured with (ms, sub-ms resolution). */
    private readonly now_ms: () => number = hrNowMs,
    /** Group commit's clock (µs): the commit worker's, which times its batches with the same. */
    private readonly gc_now_us: () => number = () => performance.now() * 1000,
  ) {
    this.zab = new ZabCore(cfg, init);
    this.sid = cfg.sid;
    this.published_zxid = published_zxid;
    this.revalidations = new Revalidations(pending_max);
  }

  setLinks(links: PeerLinks): void {
    this.links = links;
  }

  start(): void {
    this.election_started_ms = this.now_ms();
    this.metrics.looking();
    this.push({ type: 'start' });
  }

  // ---- inputs (from sockets and timers: queued, stepped by pump) ------------------------

  push(ev: ZabEvent): void {
    if (this.is_halted) return;
    this.inbox.push(ev);
    this.host.wake();
  }

  /**
   * The log can take nothing any more (a disk fault): leave the role for good (the core's `halt`)
   * and take no further event. What was queued or still to run is dropped: none of it may be
   * acted on (an ACK would vouch for a txn this replica could not log), and the sends that would
   * have told peers something are moot once the caller closes the peer links. The halt's own
   * effects (the role change, which closes the client connections, and the rejection of what a
   * leader still held) run now, or once an effect in progress (a reload) is done.
   */
  halt(reason: string): void {
    if (this.is_halted) return;
    this.inbox = [];
    this.inbox_head = 0;
    this.effects = this.zab.step({ type: 'halt', reason });
    this.effects_head = 0;
    this.runEffects();
  }

  /** halt() was called (the core keeps the reason): no event is taken any more. */
  get is_halted(): boolean {
    return this.zab.halted !== null;
  }

  onMessage(from: number, msg: PeerMessage): void {
    // Known before the core steps it (which may wait behind other events, and applying takes a
    // while): a read arriving from now on is answered from a root that has it. Learners only: a
    // leader publishes a commit in the loop turn that decides it (right after its COMMITs leave),
    // before any other member can answer a client; waits there would only cost. Serving only: a
    // syncing learner serves nobody, and the txns its sync commits are applied before it serves.
    const role = this.role;
    if ((msg.type === 'COMMIT' || msg.type === 'INFORM') && role.serving && from === role.leader && !this.leading) {
      this.host.knownCommit(numberOfZxid(msg.zxid));
    }
    this.push({ type: 'message', from, msg });
  }

  onReset(peer: number): void {
    this.push({ type: 'peer_reset', peer });
  }

  tick(): void {
    this.push({ type: 'tick' });
  }

  /** The committed membership the replica's state holds (a SNAP installed, a reconfig applied):
   *  the core takes it if it is newer than its own (src/zab/membership.ts). */
  setMembership(m: Membership): void {
    const spec = membershipSpec(m);
    this.push({ type: 'membership', version: zxidOfNumber(m.version), voters: spec.voters, observers: spec.observers });
  }

  /** Whether `sid` is a member of the committed membership or of a reconfig in flight. */
  knowsMember(sid: number): boolean {
    return this.zab.views.isMember(sid);
  }

  /** The voters synced with this leader, itself included (empty unless leading). */
  syncedVoters(): number[] {
    return this.leading ? this.zab.syncedVoters() : [];
  }

  /** Group commit made the log durable up to zxid. */
  persisted(zxid: number): void {
    this.push({ type: 'persisted', zxid: zxidOfNumber(zxid) });
  }

  get serving(): boolean {
    return this.role.serving;
  }

  get leading(): boolean {
    return this.role.state === 'LEADING';
  }

  /** A learner may take another client write (forwarded requests are bounded). */
  get forward_room(): number {
    return Math.max(0, this.pending_max - this.pending.size);
  }

  hasWork(): boolean {
    return !this.blocked && (this.inbox_head < this.inbox.length || this.effects_head < this.effects.length);
  }

  /** Steps queued events and runs their effects; returns how many events were stepped. */
  pump(): number {
    let n = 0;
    while (!this.blocked) {
      if (this.effects_head < this.effects.length) {
        this.runEffects();
        continue;
      }
      if (this.is_halted || this.inbox_head >= this.inbox.length) break;
      // What the last event prepped (a learner's REQUEST, a REVALIDATE decision) is proposed
      // before the next event is stepped: that one may end this leadership, and a txn prepped by
      // a leader must enter its log as its proposal or not at all (one prepped but never
      // proposed would stay in the working tree, which no TRUNC would ever repair).
      this.host.stagePrepped();
      const ev = this.inbox[this.inbox_head++];
      if (this.inbox_head === this.inbox.length) {
        this.inbox = [];
        this.inbox_head = 0;
      }
      n++;
      if (ev.type === 'message') this.observeIncoming(ev.from, ev.msg);
      else if (ev.type === 'peer_reset') this.forgetPeer(ev.peer);
      if (ev.type === 'message' && this.intercept(ev.from, ev.msg)) continue;
      this.effects = this.zab.step(ev);
      this.effects_head = 0;
    }
    return n;
  }

  // ---- the leader's side of a write -----------------------------------------------------

  /** A txn the leader prepped (already in group commit): the core proposes it. `holder`: the
   *  server whose client holds the txn's session (CommitCore.holderOf), if known. */
  proposeLocal(zxid: number, payload: Uint8Array, holder: number | undefined): void {
    if (!this.leading) throw new Error(`quorum: local proposal ${zxid} while ${this.role.state}`);
    this.expected.push(zxid);
    if (holder !== undefined && holder !== this.sid) {
      this.learner_held.push(zxid, holder);
      this.holders_now.add(holder);
    }
    this.proposals++;
    this.times.proposed(zxid, this.now_ms());
    this.proposal_sizes.add(payload.length);
    this.metrics.proposal();
    // Straight into the core (not the inbox): its order with the batch's durability matters, and
    // effects of earlier events are never pending here (the loop pumps before it polls inputs).
    if (this.effects_head < this.effects.length || this.blocked) throw new Error('quorum: proposal while effects are pending');
    this.effects = this.zab.step({ type: 'propose', txn: payload });
    this.effects_head = 0;
    this.runEffects();
  }

  // ---- the learner's side of a write ----------------------------------------------------

  /** Forwards a client write (bytes from forward_codec.ts) and remembers where to answer. */
  forward(session_id: bigint, cxid: number, origin: Origin, sync_path: string | null, payload: Uint8Array): void {
    this.pending.set(forwardKey(session_id, cxid), { origin, sync_path });
    this.touched.add(session_id);
    this.forwarded++;
    if (this.effects_head < this.effects.length || this.blocked) throw new Error('quorum: forward while effects are pending');
    this.effects = this.zab.step({ type: 'propose', txn: payload });
    this.effects_head = 0;
    this.runEffects();
  }

  /**
   * A client reattaches here as a learner: asks the leader (REVALIDATE); host.revalidated has the
   * answer. False when the question cannot be asked (not a serving learner, or too many in
   * flight): the caller closes the connection and the client tries again.
   */
  revalidate(origin: Origin, session_id: bigint, passwd: Uint8Array, timeout_ms: number): boolean {
    const leader = this.role.leader;
    if (this.leading || !this.role.serving || leader === null) return false;
    const token = this.revalidations.begin({ origin, session_id, passwd, timeout_ms });
    if (token === null) return false;
    this.links.send(leader, { type: 'REVALIDATE', data: encodeRevalidateQuestion({ token, session_id, timeout_ms, passwd }) });
    return true;
  }

  /** A client connection of this replica closed: a reattach it was waiting for is void. */
  connGone(shard: number, conn_id: number): void {
    this.revalidations.dropConn(shard, conn_id);
  }

  /** Sessions whose clients spoke here (a learner reports them to the leader with its PINGs). */
  touch(ids: readonly bigint[]): void {
    if (this.leading) return;
    for (const id of ids) this.touched.add(id);
  }

  // ---- interception: what the core carries opaquely but the replica must handle ----------

  /** True when the message was handled here instead of by the core. */
  private intercept(from: number, msg: PeerMessage): boolean {
    if (msg.type === 'REVALIDATE') {
      if (this.leading) this.answerRevalidate(from, msg.data);
      else if (from === this.role.leader) this.takeRevalidated(msg.data);
      return true;
    }
    if (!this.leading) return false;
    if (msg.type === 'PING' && msg.data.length > 0) {
      this.host.core.touch(this.safeTouches(from, msg.data));
      return false; // the core still sees the PING (liveness)
    }
    if (msg.type !== 'REQUEST') return false;
    if (!this.servesLearner(from)) return true; // the learner times its client out
    let f;
    try {
      f = decodeForwarded(msg.txn);
    } catch (e) {
      this.host.log(`quorum: dropping a malformed request from server ${from}: ${(e as Error).message}`);
      return true;
    }
    if (f.kind === 'create_session') this.host.core.remoteCreateSession(from, f.session_id, f.timeout_ms, f.passwd);
    else this.host.remoteWrite(from, f.session_id, f.auth, f.request);
    return true;
  }

  /** Leader: a synced learner's question; decided from this replica's session table, answered
   *  once a quorum confirmed this replica still leads (sendRevalidateAnswer). */
  private answerRevalidate(from: number, data: Uint8Array): void {
    if (!this.servesLearner(from)) return; // the learner drops it on its role change
    let q;
    try {
      q = decodeRevalidateQuestion(data);
    } catch (e) {
      this.host.log(`quorum: dropping a malformed REVALIDATE from server ${from}: ${(e as Error).message}`);
      return;
    }
    this.host.core.revalidate(from, q.token, q.session_id, q.passwd, q.timeout_ms);
  }

  /** Leader: the answer to a REVALIDATE, once released (CommitCore.revalidate); dropped when
   *  this replica no longer leads that learner (it drops its question on the role change). */
  sendRevalidateAnswer(peer: number, token: number, session_id: bigint, valid: boolean): void {
    if (!this.leading || !this.servesLearner(peer)) return;
    this.links.send(peer, { type: 'REVALIDATE', data: encodeRevalidateAnswer({ token, session_id, valid }) });
  }

  /** Leader: serving, and `peer` is a learner synced with this leadership (its requests count). */
  private servesLearner(peer: number): boolean {
    return this.role.serving && this.zab.learnerHandlers.get(peer)?.stage === 'synced';
  }

  /** Learner: the leader's answer; the reattach it was for, if still waiting, is answered. */
  private takeRevalidated(data: Uint8Array): void {
    let a;
    try {
      a = decodeRevalidateAnswer(data);
    } catch (e) {
      this.host.log(`quorum: dropping a malformed REVALIDATE answer: ${(e as Error).message}`);
      return;
    }
    const p = this.revalidations.settle(a.token, a.session_id);
    if (p !== undefined) this.host.revalidated(p, a.valid);
  }

  private safeTouches(from: number, data: Uint8Array): bigint[] {
    try {
      return decodeTouches(data);
    } catch (e) {
      this.host.log(`quorum: bad touches from server ${from}: ${(e as Error).message}`);
      return [];
    }
  }

  // ---- effects ----------------------------------------------------------------------------

  private runEffects(): void {
    while (!this.blocked && this.effects_head < this.effects.length) {
      const e = this.effects[this.effects_head++];
      this.runEffect(e);
    }
    if (this.effects_head >= this.effects.length) {
      this.effects = [];
      this.effects_head = 0;
    }
  }

  private runEffect(e: Effect): void {
    switch (e.type) {
      case 'send':
        this.observeSend(e.to, e.msg);
        return this.links.send(e.to, this.withTouches(e.to, e.msg));
      case 'disconnect':
        this.forgetPeer(e.peer);
        return this.links.disconnect(e.peer);
      case 'append':
        return this.onAppend(e.entries);
      case 'persist_epochs':
        return this.host.persistEpochs(e.accepted_epoch, e.current_epoch);
      case 'truncate':
        return this.block(() => this.host.truncateAndReload(numberOfZxid(e.to)), `truncate to ${zxidToString(e.to)}`);
      case 'apply_snapshot': {
        const zxid = numberOfZxid(e.zxid);
        return this.block(() => this.host.installSnapshotAndReload(zxid, e.snapshot), `snapshot ${zxidToString(e.zxid)}`);
      }
      case 'commit':
        return this.onCommit(numberOfZxid(e.to));
      case 'snapshot_needed':
        return this.onSnapshotNeeded(e.peer, numberOfZxid(e.min_zxid));
      case 'role':
        return this.onRole(e);
      case 'write_rejected':
        return this.onRejected(e.txn, e.reason);
      case 'protocol_error':
        return this.host.log(`quorum: server ${e.peer} broke the protocol: ${e.detail}`);
    }
  }

  /** A learner's PING to its leader carries the sessions touched since the last one. */
  private withTouches(to: number, msg: PeerMessage): PeerMessage {
    if (msg.type !== 'PING' || this.leading || this.touched.size === 0 || to !== this.role.leader) return msg;
    const ids: bigint[] = [];
    for (const id of this.touched) {
      ids.push(id);
      this.touched.delete(id);
      if (ids.length >= TOUCHES_PER_PING_MAX) break;
    }
    return { type: 'PING', data: encodeTouches(ids) };
  }

  /** Runs an effect that must be durable before the next one; events wait meanwhile. */
  private block(run: () => Promise<void>, what: string): void {
    this.blocked = true;
    const go = (): void => {
      if (this.host.write_in_flight) {
        setTimeout(go, 1);
        return;
      }
      run().then(
        () => {
          this.blocked = false;
          this.host.wake();
        },
        (err: unknown) => {
          // The replica cannot follow its leader's instructions durably: a broken invariant.
          console.error(`waitfree: FATAL: quorum: ${what} failed:`, err);
          process.exit(70);
        },
      );
    };
    go();
  }

  private onAppend(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      const m = reconfigMembership(entry.txn);
      if (m !== null) this.host.reconfigInFlight(m);
    }
    if (this.leading) {
      for (const entry of entries) {
        const zxid = numberOfZxid(entry.zxid);
        const want = this.expected[this.expected_head++];
        if (want !== zxid) throw new Error(`quorum: the core numbered a proposal ${zxidToString(entry.zxid)}, prep numbered it 0x${want?.toString(16)}`);
      }
      if (this.expected_head === this.expected.length) {
        this.expected = [];
        this.expected_head = 0;
      }
      return;
    }
    const now_us = this.gc_now_us();
    for (const entry of entries) {
      const zxid = numberOfZxid(entry.zxid);
      this.host.gc.logEncoded(zxid, entry.txn, now_us);
      this.unpublished.push({ zxid, bytes: entry.txn });
    }
    this.host.learnerLogged(entries.length);
  }

  /** Everything up to `to` is committed: apply what this replica has not applied, publish. */
  private onCommit(to: number): void {
    let i = 0;
    for (; i < this.unpublished.length && this.unpublished[i].zxid <= to; i++) {
      const { zxid, bytes } = this.unpublished[i];
      if (zxid <= this.published_zxid) continue;
      this.publishCommitted(txnFromBytes(bytes), bytes);
      this.published_zxid = zxid;
    }
    if (i > 0) this.unpublished = this.unpublished.slice(i);
    this.host.gc.commitThrough(to);
    if (this.leading) {
      this.times.committed(to, this.now_ms(), (ms) => this.metrics.quorumAck(ms));
      this.noteCommitHolders(to);
    }
    if (to > this.published_zxid && this.host.gc.committed_zxid >= to) this.published_zxid = to;
  }

  private noteCommitHolders(to: number): void {
    const held = this.learner_held;
    while (this.learner_held_head < held.length && held[this.learner_held_head] <= to) {
      this.holders_now.add(held[this.learner_held_head + 1]);
      this.learner_held_head += 2;
    }
    if (this.learner_held_head === held.length) {
      this.learner_held = [];
      this.learner_held_head = 0;
    }
  }

  /**
   * Sends now what this replica's steps sent so far (the commit worker calls it before it lets
   * replies out). A leader sends to the learners whose clients hold the sessions of the txns it
   * proposed or committed since the last flush after everybody else: the client's reply comes
   * from there once the COMMIT arrives, and its next read may go to another follower, which must
   * have had the COMMIT first. Sent in server order, the second message waited behind the
   * wake-up the first one caused (2 cores), and 9 % of such reads missed the write (ZooKeeper
   * 0.6 %: bench/follower_lag.mjs --writer follower).
   */
  flushSends(): void {
    this.links.flush(this.holders_now.size === 0 ? null : this.holders_now);
    this.holders_now.clear();
  }

  private publishCommitted(txn: Txn, bytes: Uint8Array): void {
    const core = this.host.core;
    const { session_id, cxid, zxid } = txn.header;
    let origin: Origin | null = null;
    let sync_path: string | null = null;
    const key = forwardKey(session_id, cxid);
    const p = this.pending.get(key);
    if (p !== undefined) {
      this.pending.delete(key);
      origin = p.origin;
      sync_path = p.sync_path;
    } else if (txn.op.kind === 'closeSession') {
      // An expiry decided by the leader: the client connected here is told (its connection closes).
      const owner = core.ownerOf(session_id);
      if (owner !== null) origin = { shard: owner.shard, conn_id: owner.conn_id, xid: 0 };
    }
    if (zxid > core.last_zxid) core.applyCommitted(txn);
    // A sync refused SESSIONMOVED is not answered: its connection is closed (commit_stage.ts).
    if (sync_path !== null && !isSessionMoved(txn)) {
      this.host.gc.addCommitted({ kind: 'txn', origin: null, txn }, bytes);
      this.host.gc.addCommitted({ kind: 'sync', origin: origin!, path: sync_path }, null);
      return;
    }
    this.host.gc.addCommitted({ kind: 'txn', origin, txn }, bytes);
  }

  private onSnapshotNeeded(peer: number, min_zxid: number): void {
    this.host.snapshotAtLeast(min_zxid).then(
      (s) => this.push({ type: 'snapshot_ready', peer, zxid: zxidOfNumber(s.zxid), snapshot: s.bytes }),
      (err: unknown) => this.host.log(`quorum: no snapshot for server ${peer}: ${(err as Error).message}`),
    );
  }

  private onRole(e: Extract<Effect, { type: 'role' }>): void {
    const was = this.role;
    this.role = { state: e.state, phase: e.phase, leader: e.leader, epoch: e.epoch, serving: e.serving };
    if (was.serving && !e.serving) this.leaveService(`${e.state} (${e.reason})`, was.state === 'LEADING');
    if (!was.serving && e.serving) this.enterService(e.state, e.epoch);
    this.timeRole(was, this.role);
    this.host.log(`quorum: ${e.state} ${e.phase}, leader ${e.leader ?? '-'}, epoch ${e.epoch}${e.serving ? ', serving' : ''} (${e.reason})`);
    this.host.roleChanged(this.role);
  }

  private enterService(state: ServerState, epoch: number): void {
    if (state === 'LEADING') this.host.core.beginEpoch(epoch);
    else this.host.core.follow();
  }

  private leaveService(why: string, was_leading: boolean): void {
    // A leader's proposals that did not commit stay in its log and its tree: the next leader
    // either commits them (then they are published like any learner's txns) or truncates them
    // (then the state is reloaded from disk). Their held publications and forwarded requests can
    // no longer be answered: the clients lose the connection, as every client of this replica does.
    if (was_leading) {
      const from = Math.max(this.published_zxid, this.host.gc.committed_zxid);
      const w = this.zab.window;
      for (let i = 0; i < w.length; i++) {
        const e = w.at(i);
        const zxid = numberOfZxid(e.zxid);
        const last = this.unpublished.length === 0 ? from : this.unpublished[this.unpublished.length - 1].zxid;
        if (zxid > last) this.unpublished.push({ zxid, bytes: e.txn });
      }
    }
    if (this.host.gc.committed_zxid > this.published_zxid) this.published_zxid = this.host.gc.committed_zxid;
    this.host.gc.abandonUncommitted();
    this.expected = [];
    this.expected_head = 0;
    this.learner_held = [];
    this.learner_held_head = 0;
    this.holders_now.clear();
    this.times.clear();
    this.syncing.clear();
    const origins = [...this.pending.values()].map((p) => p.origin);
    this.pending.clear();
    origins.push(...this.revalidations.drain());
    this.touched.clear();
    this.host.closeAllClients(why);
    for (const o of origins) this.host.gc.add([{ kind: 'close_conn', shard: o.shard, conn_id: o.conn_id }], 0);
    this.host.core.follow(); // no txn is created until this replica leads again
  }

  // ---- stats and timing (observe only: never changes what is sent, stepped or answered) -----

  /** Election, unavailability and leadership times at a role change. */
  private timeRole(was: QuorumRole, now: QuorumRole): void {
    const t = this.now_ms();
    if (now.state === 'LOOKING' && was.state !== 'LOOKING') {
      this.election_started_ms = t;
      this.metrics.looking();
    }
    if (was.state === 'LOOKING' && now.state !== 'LOOKING') this.metrics.electionDone(t - this.election_started_ms);
    if (now.state !== was.state) this.learner_sync = null;
    if (now.serving && !was.serving) {
      this.elections++;
      this.last_election_ms = t - this.election_started_ms;
      this.metrics.unavailableDone(this.last_election_ms);
      this.learner_sync = null;
    }
    if (now.state === 'LEADING' && was.state !== 'LEADING') {
      this.leading_since_ms = t;
      // ZooKeeper's proposal stats belong to one Leader: a new leadership starts them afresh.
      this.times.clear();
      this.proposal_sizes.reset();
      this.syncing.clear();
    }
  }

  /** A message from a peer, before the core sees it: ACK latencies (leader), sync mode (learner). */
  private observeIncoming(from: number, msg: PeerMessage): void {
    if (this.leading) {
      if (msg.type !== 'ACK') return;
      const z = safeNumber(msg.zxid);
      if (z !== null) this.times.ackedBy(from, z, this.now_ms(), (ms) => this.metrics.ack(from, ms));
      return;
    }
    if (from !== this.role.leader && this.role.leader !== null) return;
    if (msg.type === 'DIFF' || msg.type === 'TRUNC' || msg.type === 'SNAP') this.learner_sync = syncModeOf(msg.type);
  }

  /** A message to a peer: the learner syncs this leader serves, and their bytes. */
  private observeSend(to: number, msg: PeerMessage): void {
    if (!this.leading) return;
    switch (msg.type) {
      case 'DIFF':
      case 'TRUNC':
      case 'SNAP': {
        const mode = syncModeOf(msg.type);
        this.syncing.set(to, mode);
        this.metrics.syncServed(mode);
        if (msg.type === 'SNAP') this.metrics.syncBytes(mode, msg.snapshot.length);
        return;
      }
      case 'PROPOSAL': {
        const mode = this.syncing.get(to);
        if (mode !== undefined) this.metrics.syncBytes(mode, msg.txn.length);
        return;
      }
      case 'NEWLEADER': {
        this.syncing.delete(to);
        // Observers acknowledge NEWLEADER only: a cursor for them would never move.
        const z = safeNumber(msg.zxid);
        if (z !== null && this.zab.learnerHandlers.get(to)?.observer === false) this.times.followerSynced(to, z);
        return;
      }
      default:
        return;
    }
  }

  private forgetPeer(peer: number): void {
    this.syncing.delete(peer);
    this.times.forget(peer);
  }

  private onRejected(txn: Uint8Array, reason: string): void {
    if (this.leading) {
      // Proposals are only made while serving, and the core's queue holds every txn the
      // pipeline can have numbered (quorum_setup.ts: pending_max): a rejection while still
      // leading would leave a numbered txn unproposed and stall every write behind it.
      if (reason === PROPOSAL_QUEUE_FULL) {
        throw new Error(`quorum: broken invariant: the leader rejected its own numbered proposal (${reason})`);
      }
      // Otherwise the role is being left; leaveService closes every client.
      this.host.log(`quorum: proposal rejected (${reason})`);
      return;
    }
    try {
      const f = decodeForwarded(txn);
      if (f.kind === 'write') return; // its connection is closed when service ends
    } catch {
      // ours, so decodable: nothing to do either way
    }
  }

  /** After a reload from disk (TRUNC / SNAP): everything recovered is what the readers hold. */
  reloaded(last_zxid: number): void {
    this.published_zxid = last_zxid;
    this.unpublished = [];
  }

  stats(): Record<string, unknown> {
    const handlers = this.zab.learnerHandlers;
    let synced = 0;
    let non_voting = 0;
    for (const h of handlers.values()) {
      if (h.stage !== 'synced' || h.observer) continue;
      synced++;
      if (!this.zab.views.isVoter(h.sid)) non_voting++;
    }
    const synced_observer_ids: number[] = [];
    for (const h of handlers.values()) if (h.stage === 'synced' && h.observer) synced_observer_ids.push(h.sid);
    return {
      state: this.role.state,
      phase: this.role.phase,
      leader: this.role.leader,
      epoch: this.role.epoch,
      serving: this.role.serving,
      /** As a learner, how the leader is synchronizing us ('diff', 'snap', 'trunc'), else null. */
      sync_mode: this.learner_sync,
      learners: handlers.size,
      synced_followers: synced,
      synced_non_voting_followers: non_voting,
      synced_observers: synced_observer_ids.length,
      leader_uptime_ms: this.role.state === 'LEADING' ? Math.round(this.now_ms() - this.leading_since_ms) : 0,
      synced_observer_ids,
      pending_syncs: [...handlers.values()].filter((h) => h.stage !== 'synced').length,
      proposal_sizes: this.proposal_sizes.value,
      forwarded: this.forwarded,
      pending_forwards: this.pending.size,
      pending_revalidations: this.revalidations.size,
      proposals: this.proposals,
      elections: this.elections,
      last_election_ms: this.last_election_ms,
      last_committed: zxidToString(this.zab.window.committed),
    };
  }
}

function syncModeOf(type: 'DIFF' | 'TRUNC' | 'SNAP'): SyncMode {
  return type === 'DIFF' ? 'diff' : type === 'SNAP' ? 'snap' : 'trunc';
}

/** A peer's zxid as this replica numbers txns; null when it cannot be (a bad peer's; the core judges it). */
function safeNumber(z: Zxid): number | null {
  try {
    return numberOfZxid(z);
  } catch {
    return null;
  }
}
