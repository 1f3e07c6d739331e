// The commit pipeline's core, sans-IO: the single writer of a replica. It turns requests into
// txns (prep), orders them (zxid), applies them to the latest tree, and emits publications for
// the commit stream. Time and randomness come in through CommitEnv, so tests drive it directly.
//
// Pipeline seam: every txn passes through `propose`, which records it in the working tree and
// puts it in the outbox. The outbox is not the commit: the worker hands it to GroupCommit
// (group_commit.ts), which logs each txn and releases publications only once they are durable
// (under Zab: acknowledged by a quorum), and the Applier applies them to the shared tree then.
// Prep runs against the working tree (pending_view.ts: the shared tree's committed state plus
// every txn recorded here and not applied there yet), ZooKeeper's "outstanding changes" view.
//
// Roles (Zab, src/quorum/): a standalone replica and an ensemble's leader create txns (prep ->
// zxid -> record -> outbox). A follower or observer never does: its driver forwards writes to the
// leader, and every committed txn comes back through applyCommitted (working tree + session
// table). Only the txn creator expires sessions and reaps.
// A leader numbers its txns in its epoch: zxid = epoch * 2^32 + counter (beginEpoch).
//
// Read-only mode: after a disk fault nothing can be made durable, so no txn is proposed any more:
// writes are answered NOTREADONLY (as by ZooKeeper's read-only server), new sessions are local
// (kept in memory, announced without a txn), expired sessions are dropped from memory (their
// closeSession will be logged after a restart, when they expire again).

import { Err } from '../protocol/errors.js';
import { Op } from '../protocol/opcodes.js';
import type { Id, ReconfigRequest } from '../protocol/types.js';
import { CONFIG_NODE } from '../protocol/constants.js';
import type { Liveness } from '../session/liveness_format.js';
import { addAuthId } from '../session/auth_id_set.js';
import { SessionTracker } from '../session/session_tracker.js';
import { firstSessionId, nextSessionId } from '../session/session_id.js';
import { passwdEquals, sessionPasswd } from '../session/passwd.js';
import type { SessionState } from '../snapshot/snapshot_format.js';
import { prepRequest, type PrepContext, type QuotaCheck, type WriteRequest } from '../tree/prep.js';
import { prepReconfig } from './reconfig_prep.js';
import type { Membership } from '../config/quorum_config_text.js';
import { prepReap, type ReapTree } from '../tree/reaper.js';
import type { Txn, TxnOp } from '../tree/txn.js';

/** Longest time session expiry waits for touches stuck behind a full pipeline (see tick()). */
export const EXPIRY_DEFERRAL_MS_MAX = 60_000;
/** Sessions due that the pipeline had no room for are expired this much later (see tick()). */
const EXPIRY_RETRY_MS = 10;

/** A session whose ConnectResponse(s) are not released yet (CommitCore.unborn). */
interface Unborn {
  /** When the last of them was made. */
  since_ms: number;
  /** How many are on their way. */
  answers: number;
}

/** Where a reply goes: the shard that owns the connection, the connection, the request's xid. */
export interface Origin {
  shard: number;
  conn_id: number;
  xid: number;
  /** The shard saw a read of this connection queued between this request and an earlier
   *  unanswered one (shard_session.ts needsBarrier): it must not share a root with that one's
   *  completion. Absent (sessions, requests relayed by a leader) means a barrier. */
  barrier?: boolean;
  /** A direct write (NetToCommit.REQUEST): the commit worker answers the client itself, and the
   *  origin shard only completes its placeholder. */
  direct?: boolean;
}

export type Publication =
  | { kind: 'txn'; origin: Origin | null; txn: Txn }
  | { kind: 'session'; origin: Origin; session_id: bigint; timeout_ms: number; passwd: Uint8Array; ok: boolean }
  | { kind: 'sync'; origin: Origin; path: string }
  | { kind: 'close_conn'; shard: number; conn_id: number }
  | { kind: 'error'; origin: Origin; err: number }
  /** Zab leader: its answer to learner `peer`'s REVALIDATE question `token` (sent once released). */
  | { kind: 'revalidated'; peer: number; token: number; session_id: bigint; valid: boolean };

export interface CommitEnv {
  now_ms(): number;
}

export interface CommitOptions {
  server_id: number;
  tick_ms: number;
  ttl_enabled: boolean;
  /** zookeeper.enforceQuota: prep refuses writes over a hard quota (QUOTAEXCEEDED); default off. */
  quota?: QuotaCheck | null;
  /** HMAC key for session passwords (>= 16 bytes). */
  secret: Uint8Array;
  /** How often containers and TTL nodes are checked. */
  reap_interval_ms: number;
  /** Reaping bound per check (znode.container.maxPerMinute scaled to the interval). */
  reap_per_check_max: number;
  /** reconfigEnabled (ZooKeeper's default: false, reconfig answered RECONFIGDISABLED). */
  reconfig_enabled?: boolean;
  /** standaloneEnabled (default true): a membership needs 2 voters, else 1. */
  standalone_enabled?: boolean;
  /** Why a reconfig was refused (one line; the driver logs it). */
  log?: (line: string) => void;
  /** The voters synced with this leader, itself included (a reconfig's NEWCONFIGNOQUORUM check). */
  synced_voters?: () => readonly number[];
}

/** Where a live session's connection is; null while the client is disconnected. */
interface SessionOwner {
  shard: number;
  conn_id: number;
}

function connKey(shard: number, conn_id: number): number {
  return shard * 0x1_0000_0000 + conn_id;
}

/** The tree the core preps against and records every txn in (PendingView in the server). */
export interface WorkingTree extends ReapTree {
  /** zxid of the last txn recorded (or of the tree it started from). */
  readonly last_zxid: number;
  /** A txn this core made or learned (zxid order): later prep sees its effects. */
  record(txn: Txn): void;
}

/** What recovery hands the core: the working tree and the session table at the recovered zxid. */
export interface RestoredState {
  view: WorkingTree;
  /** remaining_ms: what was left of the timeout before the crash (resume.ts); default: all of it. */
  sessions: ReadonlyMap<bigint, { timeout_ms: number; passwd: Uint8Array; remaining_ms?: number }>;
}

/** Who creates txns on this replica (see the header comment). */
export type CommitRole = 'creator' | 'follower';

const EPOCH_UNIT = 0x1_0000_0000;

export class CommitCore {
  readonly view: WorkingTree;
  /** 'creator': standalone or Zab leader; 'follower': learner (no prep, no expiry). */
  role: CommitRole = 'creator';
  /** Sessions this core expired (ZooKeeper's stale_sessions_expired). */
  sessions_expired = 0;
  /** The newest membership applied to the shared tree (setMembership); null: standalone. */
  private membership: Membership | null = null;
  /** zxid of the last reconfig txn this core made or learned: while it is newer than the
   *  membership's version, that reconfig is not applied yet (RECONFIGINPROGRESS). */
  private reconfig_recorded = 0;
  /** First zxid of the current epoch minus one: a leader's txns are numbered above it. */
  private epoch_base = 0;
  readonly sessions: SessionTracker;
  /** Why writes are refused (a disk fault), or null while the replica accepts writes. */
  read_only: string | null = null;
  private readonly owners = new Map<bigint, SessionOwner | null>();
  /**
   * Zab: this replica leads or has led an epoch (beginEpoch); standalone never. Then it keeps
   * `holders`, and an answer about a session (a reattach here, a REVALIDATE) follows a no-op
   * txn proposed after the decision and is released once that txn commits: a leader deposed
   * without knowing it yet (a pause, a partition) cannot commit, so it never lets a client back
   * into a session a newer leader expired, nor turns one away that lives there. ZooKeeper's
   * leader answers from its table at once.
   */
  private replicated = false;
  /**
   * Zab leader: the server whose client holds each session (ZooKeeper's session owner): set
   * when the session is created or its client reattaches (here, or at a learner by REVALIDATE),
   * else by the first write after this replica began to lead. A write from any other server is
   * refused SESSIONMOVED (its connection is closed, unanswered): a client that moved on never
   * has a write it left behind executed after the ones it sent since. Empty standalone.
   */
  private readonly holders = new Map<bigint, number>();
  /** Connections a newer one of their session took over, until they are gone (takeOver). */
  private readonly superseded = new Set<number>();
  /** Authenticated ids per connection (ZooKeeper keeps authInfo on the ServerCnxn). */
  private readonly conn_auth = new Map<number, Id[]>();
  private next_session_id: bigint;
  private next_reap_ms: number;
  /**
   * Sessions whose ConnectResponse is not released yet: a new session's createSession txn, or
   * the answer to a reconnect (reattach), which leaves behind every txn published before it (a
   * slow log sync holds it). Their client cannot ping before it has that answer: tick() keeps
   * them alive until born() has seen every answer released (at most EXPIRY_DEFERRAL_MS_MAX, so
   * an answer lost to a role change or a failed log cannot keep one alive for ever).
   */
  private readonly unborn = new Map<bigint, Unborn>();
  /**
   * Sessions due that the last tick() had no room to expire (txns_max) while input has waited
   * unread for longer than EXPIRY_DEFERRAL_MS_MAX (a sustained overload): the driver leaves them
   * that much room before it takes client writes, so that load cannot keep them alive. Otherwise
   * 0: no input waits, and the room that commits free goes to expiry at the next ticks.
   */
  expiry_backlog = 0;
  /** tick() deferred expiry until then (touches were waiting unread); see tick(). */
  private expiry_deferred_until_ms = 0;
  /** Since when touches have been waiting unread at every tick; null while they have not. */
  private deferral_started_ms: number | null = null;
  /** When the driver last saw touches waiting unread between ticks (noteUnread), or null. */
  private unread_seen_ms: number | null = null;
  /** During a deferral: since when no touch has been seen waiting (see tick()). */
  private backlog_clear_ms: number | null = null;
  /** Publications not yet taken by the worker. */
  private outbox: Publication[] = [];

  constructor(
    readonly options: CommitOptions,
    private readonly env: CommitEnv,
    restored: RestoredState,
  ) {
    this.view = restored.view;
    this.sessions = new SessionTracker(options.tick_ms);
    const now = env.now_ms();
    this.next_session_id = firstSessionId(now, options.server_id);
    this.next_reap_ms = now + options.reap_interval_ms;
    // Recovered sessions resume with what was left of their timeout (resume.ts): their clients
    // can reattach within it; else they expire.
    for (const [id, s] of restored.sessions) {
      this.sessions.add(id, s.timeout_ms, now, s.passwd, s.remaining_ms ?? s.timeout_ms);
      this.owners.set(id, null);
    }
  }

  /** After a disk fault: refuse every write from now on (see the header comment). */
  setReadOnly(reason: string): void {
    this.read_only ??= reason;
  }

  /** The session table as a snapshot records it (live sessions only; see snapshot_encoder.ts). */
  sessionStates(): SessionState[] {
    const out: SessionState[] = [];
    for (const id of this.sessions.ids()) {
      const r = this.sessions.get(id)!;
      out.push({ session_id: id, timeout_ms: r.timeout_ms, passwd: r.passwd });
    }
    return out;
  }

  /** The live sessions' time left, for the liveness file (session/liveness_file.ts). */
  liveness(): Liveness {
    const now = this.env.now_ms();
    return { written_ms: now, entries: this.sessions.liveness(now) };
  }

  /** Publications wait to be taken. */
  get has_publications(): boolean {
    return this.outbox.length > 0;
  }

  /** Takes everything published since the last call, in commit order. */
  take(): Publication[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  get last_zxid(): number {
    return this.view.last_zxid;
  }

  // ---- inputs ----

  /** Zab: this replica leads epoch `epoch`; every session gets its whole timeout again (the
   *  leader only now hears their touches, as ZooKeeper's leader does on taking office). */
  beginEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 1 << 21) throw new Error(`commit core: epoch ${epoch} out of range`);
    this.role = 'creator';
    this.replicated = true;
    this.epoch_base = Math.max(this.epoch_base, epoch * EPOCH_UNIT);
    // A new leader learns where clients are from their next reattach or write (ZooKeeper's
    // new session tracker starts with no owners).
    this.holders.clear();
    const now = this.env.now_ms();
    for (const id of this.sessions.ids()) this.sessions.touch(id, now);
  }

  /** Zab: a learner; txns come back through applyCommitted. */
  follow(): void {
    this.role = 'follower';
  }

  /** A committed txn made by the leader (learner), in zxid order: working tree and session table. */
  applyCommitted(txn: Txn): void {
    this.view.record(txn);
    if (txn.op.kind === 'reconfig') this.reconfig_recorded = txn.header.zxid;
    const id = txn.header.session_id;
    const op = txn.op;
    if (op.kind === 'createSession' && this.sessions.get(id) === undefined) {
      this.sessions.add(id, op.timeout_ms, this.env.now_ms(), op.passwd);
      if (!this.owners.has(id)) this.owners.set(id, null);
    } else if (op.kind === 'closeSession') {
      this.forgetSession(id);
    }
  }

  /** A write forwarded by a learner (its connection lives there): prepped like a local one. */
  remoteRequest(from_sid: number, session_id: bigint, cxid: number, opcode: number, body: WriteRequest | null, auth: readonly Id[]): void {
    const now = this.env.now_ms();
    if (opcode !== Op.closeSession && this.movedAway(session_id, from_sid)) {
      this.propose(null, session_id, { kind: 'error', err: Err.SESSIONMOVED }, cxid);
      return;
    }
    if (opcode === Op.sync) {
      // A learner's sync: a no-op txn; when the learner sees it committed it has every write
      // committed before the sync (ZooKeeper's leader answers SYNC in its commit order).
      this.sessions.touch(session_id, now);
      this.propose(null, session_id, { kind: 'error', err: 0 }, cxid);
      return;
    }
    if (!this.sessions.touch(session_id, now)) {
      this.propose(null, session_id, { kind: 'error', err: Err.SESSIONEXPIRED }, cxid);
      return;
    }
    if (opcode === Op.closeSession) {
      this.sessions.setClosing(session_id);
      this.propose(null, session_id, { kind: 'closeSession', paths: this.view.ephemerals(session_id) }, cxid);
      return;
    }
    const op = this.prep(
      { tree: this.view, session_id, auth, is_super: isSuper(auth), now_ms: now, ttl_enabled: this.options.ttl_enabled, quota: this.options.quota ?? null },
      opcode,
      body as WriteRequest,
    );
    this.propose(null, session_id, op, cxid);
  }

  /** A session a learner created for its client (id and password made there). */
  remoteCreateSession(from_sid: number, session_id: bigint, timeout_ms: number, passwd: Uint8Array): void {
    if (this.sessions.get(session_id) === undefined) {
      this.sessions.add(session_id, timeout_ms, this.env.now_ms(), passwd);
      this.owners.set(session_id, null);
      this.hold(session_id, from_sid);
      this.awaitAnswer(session_id);
    }
    this.propose(null, session_id, { kind: 'createSession', timeout_ms, passwd }, 0);
  }

  /** Learner: a new session for a local connection; the leader logs it (forwarded), and it is
   *  in the session table once applyCommitted sees its createSession txn. */
  newLocalSession(origin: Origin, timeout_ms: number): { session_id: bigint; passwd: Uint8Array } {
    const session_id = this.allocateSessionId();
    const passwd = sessionPasswd(session_id, this.options.secret);
    this.owners.set(session_id, { shard: origin.shard, conn_id: origin.conn_id });
    return { session_id, passwd };
  }

  /** Where a session's client is connected on this replica, or null. */
  ownerOf(session_id: bigint): { shard: number; conn_id: number } | null {
    return this.owners.get(session_id) ?? null;
  }

  /** Every client connection this replica knows a session for (Zab: closed on a role change). */
  ownedConnections(): { shard: number; conn_id: number }[] {
    const out: { shard: number; conn_id: number }[] = [];
    for (const o of this.owners.values()) if (o !== null) out.push(o);
    return out;
  }

  /** A write (or sync / closeSession) from a connected session, in that session's order. */
  request(origin: Origin, session_id: bigint, opcode: number, body: WriteRequest | null): void {
    // closeSession is not checked (as in ZooKeeper): it is the session's last request, and the
    // expiry of a session held elsewhere is queued here.
    if (this.read_only === null && opcode !== Op.closeSession && this.movedAway(session_id, this.options.server_id)) {
      this.propose(origin, session_id, { kind: 'error', err: Err.SESSIONMOVED });
      return;
    }
    if (opcode === Op.sync) {
      this.outbox.push({ kind: 'sync', origin, path: (body as { path: string }).path });
      return;
    }
    const now = this.env.now_ms();
    if (this.read_only !== null) {
      this.sessions.touch(session_id, now);
      this.outbox.push({ kind: 'error', origin, err: Err.NOTREADONLY });
      return;
    }
    if (!this.sessions.touch(session_id, now)) {
      this.propose(origin, session_id, { kind: 'error', err: Err.SESSIONEXPIRED });
      return;
    }
    if (opcode === Op.closeSession) {
      this.sessions.setClosing(session_id);
      this.propose(origin, session_id, { kind: 'closeSession', paths: this.view.ephemerals(session_id) });
      return;
    }
    const auth = this.conn_auth.get(connKey(origin.shard, origin.conn_id)) ?? [];
    const op = this.prep(
      { tree: this.view, session_id, auth, is_super: isSuper(auth), now_ms: now, ttl_enabled: this.options.ttl_enabled, quota: this.options.quota ?? null },
      opcode,
      body as WriteRequest,
    );
    // Prep's clock reading is the txn's time too (one clock read per write).
    this.propose(origin, session_id, op, origin.xid, now);
  }

  /** A new session for a connection (its timeout already negotiated by the shard). */
  createSession(origin: Origin, timeout_ms: number): void {
    const session_id = this.allocateSessionId();
    const passwd = sessionPasswd(session_id, this.options.secret);
    this.sessions.add(session_id, timeout_ms, this.env.now_ms(), passwd);
    this.owners.set(session_id, { shard: origin.shard, conn_id: origin.conn_id });
    this.hold(session_id, this.options.server_id);
    if (this.read_only !== null) {
      // A local session: usable for reads, never logged (it will not survive a restart).
      this.outbox.push({ kind: 'session', origin, session_id, timeout_ms, passwd, ok: true });
      return;
    }
    this.awaitAnswer(session_id);
    this.propose(origin, session_id, { kind: 'createSession', timeout_ms, passwd });
  }

  /** A ConnectResponse for the session is on its way (see `unborn`). */
  private awaitAnswer(session_id: bigint): void {
    const now = this.env.now_ms();
    const u = this.unborn.get(session_id);
    if (u === undefined) this.unborn.set(session_id, { since_ms: now, answers: 1 });
    else {
      u.since_ms = now;
      u.answers++;
    }
  }

  /** A ConnectResponse of the session was released (its createSession txn, or the answer to a
   *  reconnect): its client may ping from now on, and its timeout runs from here (see `unborn`). */
  born(session_id: bigint): void {
    const u = this.unborn.get(session_id);
    if (u === undefined) return;
    if (--u.answers === 0) this.unborn.delete(session_id);
    this.sessions.touch(session_id, this.env.now_ms());
  }

  /**
   * A client reconnecting with its session id and password. `leader_says`: under Zab a learner
   * asks its leader first (REVALIDATE; the leader alone decides expiry, so a lagging learner's
   * table may still hold a session the leader expired, or not yet hold a new one) and passes the
   * answer here; null = this replica's table decides (the leader, standalone).
   */
  reattach(origin: Origin, session_id: bigint, passwd: Uint8Array, timeout_ms: number, leader_says: boolean | null = null): void {
    const record = this.sessions.get(session_id);
    const ok = leader_says ?? (record !== undefined && !record.closing && passwdEquals(record.passwd, passwd));
    this.takeOver(origin, session_id);
    // The leader's own decision: confirmed by a quorum before it is told (see `replicated`).
    if (leader_says === null) this.confirmDecision();
    if (!ok) {
      this.outbox.push({ kind: 'session', origin, session_id: 0n, timeout_ms: 0, passwd: new Uint8Array(16), ok: false });
      return;
    }
    // The leader vouched for a session whose createSession this learner has not applied yet:
    // its txn is on the way (applyCommitted skips a session already here).
    if (record === undefined) this.sessions.add(session_id, timeout_ms, this.env.now_ms(), passwd);
    if (leader_says === null) this.hold(session_id, this.options.server_id);
    this.owners.set(session_id, { shard: origin.shard, conn_id: origin.conn_id });
    this.sessions.touch(session_id, this.env.now_ms(), timeout_ms);
    // Its answer leaves behind the txns published before it: until then the client cannot ping
    // (found by the replica simulator, seed 135018: a reconnect answered after a 3 s log stall,
    // the session expired 17 ms after its client had the answer).
    this.awaitAnswer(session_id);
    this.outbox.push({ kind: 'session', origin, session_id, timeout_ms, passwd: record?.passwd ?? passwd, ok: true });
  }

  /**
   * Zab leader: learner `from_sid` asks (question `token`) whether its client may reattach
   * (REVALIDATE). Valid while the session lives and the password is its own; then the session's
   * timeout restarts here, the learner holds the session (`holders`), and a connection this
   * replica held for it is closed (the client moved, as on a local reattach). The answer is a
   * publication, released behind a no-op txn (see `replicated`).
   */
  revalidate(from_sid: number, token: number, session_id: bigint, passwd: Uint8Array, timeout_ms: number): void {
    const record = this.sessions.get(session_id);
    const valid = record !== undefined && !record.closing && passwdEquals(record.passwd, passwd);
    if (valid) {
      this.sessions.touch(session_id, this.env.now_ms(), timeout_ms);
      this.hold(session_id, from_sid);
      this.takeOver(null, session_id);
    }
    this.confirmDecision();
    this.outbox.push({ kind: 'revalidated', peer: from_sid, token, session_id, valid });
  }

  /**
   * A client reconnects for `session_id` (on `origin` here, or elsewhere: null): like
   * ZooKeeper, the connection that held the session here is closed at once, even when the
   * password turns out wrong (the session itself lives on). Until its close lands, nothing it
   * sends is executed or forwarded (isSuperseded): a write the client left on it, still on its
   * way there, must never run after what the client sends on its new connection. Called when
   * the reattach arrives, before any answer (a learner's waits for its leader).
   */
  takeOver(origin: Origin | null, session_id: bigint): void {
    const previous = this.owners.get(session_id);
    if (!previous || (origin !== null && previous.shard === origin.shard && previous.conn_id === origin.conn_id)) return;
    this.outbox.push({ kind: 'close_conn', shard: previous.shard, conn_id: previous.conn_id });
    this.superseded.add(connKey(previous.shard, previous.conn_id));
    this.owners.set(session_id, null);
  }

  /** Whether a connection's session was taken over by a newer connection (see takeOver). */
  isSuperseded(shard: number, conn_id: number): boolean {
    return this.superseded.size > 0 && this.superseded.has(connKey(shard, conn_id));
  }

  /** A no-op txn after a decision about a session, when answers wait for a quorum (`replicated`). */
  private confirmDecision(): void {
    if (this.replicated && this.role === 'creator' && this.read_only === null) this.propose(null, 0n, { kind: 'error', err: 0 }, 0);
  }

  /** The ids a connection authenticated as (forwarded with its writes under Zab). */
  authOf(shard: number, conn_id: number): readonly Id[] {
    return this.conn_auth.get(connKey(shard, conn_id)) ?? [];
  }

  addAuth(shard: number, conn_id: number, id: Id): void {
    const key = connKey(shard, conn_id);
    const list = this.conn_auth.get(key) ?? [];
    // In ZooKeeper's order: an `auth` ACL expands into the ids in that order.
    addAuthId(list, id);
    this.conn_auth.set(key, list);
  }

  /** The connection closed; its session lives on until it expires or the client comes back. */
  connGone(shard: number, conn_id: number, session_id: bigint): void {
    this.conn_auth.delete(connKey(shard, conn_id));
    this.superseded.delete(connKey(shard, conn_id));
    const owner = this.owners.get(session_id);
    if (owner && owner.shard === shard && owner.conn_id === conn_id) this.owners.set(session_id, null);
  }

  touch(session_ids: readonly bigint[]): void {
    const now = this.env.now_ms();
    for (const id of session_ids) this.sessions.touch(id, now);
  }

  /**
   * Expires sessions and runs the reaper (the txn creator only). `touches_unread`: the worker has
   * input it cannot take yet (the pipeline is full: a slow disk, a quorum slow to ACK), and
   * session touches may wait behind it in the same ring; expiry waits until they are read, so a
   * client that keeps pinging is never expired because our own pipeline stalled (ZooKeeper
   * touches a session on receipt). `txns_max`: the txns the pipeline has room for now, as for
   * client writes (a leader's intake is bounded by its proposals in flight: quorum_setup.ts,
   * pending_max); sessions due past it expire at a later tick, EXPIRY_RETRY_MS on (under a
   * sustained overload with room kept for them: expiry_backlog). Zab session simulator seed
   * 200258: six sessions expired at once on a leader whose window was full, and its core's queue
   * refused a numbered txn.
   */
  tick(touches_unread = false, txns_max = Number.MAX_SAFE_INTEGER): void {
    this.expiry_backlog = 0;
    if (this.role !== 'creator') return;
    const now = this.env.now_ms();
    // A stall seen between ticks counts as one seen now: it may have ended just before this
    // tick, with pings still between threads (noteUnread).
    if (this.unread_seen_ms !== null && now - this.unread_seen_ms < this.options.tick_ms) touches_unread = true;
    if (touches_unread) {
      if (this.deferral_started_ms === null) this.deferral_started_ms = now;
      this.backlog_clear_ms = null;
    } else if (this.deferral_started_ms !== null) {
      // A deferral ends only once nothing has waited unread for a whole tick: the backlog seen
      // from here can look empty while its last touches are still between threads (a frame a
      // shard has not read yet, a touch its timer has not sent), and the sessions that waited
      // behind it must not expire in that moment.
      if (this.backlog_clear_ms === null) this.backlog_clear_ms = now;
      if (now - this.backlog_clear_ms >= this.options.tick_ms) {
        this.deferral_started_ms = null;
        this.backlog_clear_ms = null;
      }
    }
    // Sessions not born yet cannot have pinged (see `unborn`).
    for (const [session_id, u] of this.unborn) {
      if (now - u.since_ms < EXPIRY_DEFERRAL_MS_MAX) this.sessions.touch(session_id, now);
      else this.unborn.delete(session_id);
    }
    // Bounded: under sustained overload input always waits, and dead clients' sessions must still
    // expire (at most EXPIRY_DEFERRAL_MS_MAX late).
    const defer = this.deferral_started_ms !== null && now - this.deferral_started_ms < EXPIRY_DEFERRAL_MS_MAX;
    let room = txns_max;
    if (defer) this.expiry_deferred_until_ms = now + this.options.tick_ms;
    else {
      const expired = this.sessions.expire(now, room);
      for (const session_id of expired) this.expireSession(session_id);
      room -= expired.length;
      // Room left means expire() took every due session; only a used-up budget leaves some.
      const backlog = room === 0 ? this.sessions.dueCount(now) : 0;
      if (backlog > 0) this.expiry_deferred_until_ms = now + Math.min(EXPIRY_RETRY_MS, this.options.tick_ms);
      // Not deferred although input waits: the deferral is over its bound (see above).
      if (this.deferral_started_ms !== null) this.expiry_backlog = backlog;
    }
    if (now >= this.next_reap_ms) {
      this.next_reap_ms = now + this.options.reap_interval_ms;
      if (this.read_only !== null || room === 0) return;
      for (const op of prepReap(this.view, now, { limit: Math.min(room, this.options.reap_per_check_max) })) this.propose(null, 0n, op);
    }
  }

  /**
   * The driver saw touches that may wait unread (as tick's `touches_unread`) between two ticks.
   * Without it a stall that ends shortly before a session's expiry tick goes unseen (no tick fell
   * inside it), and the session expires although its pings were stuck behind the stall (found by
   * the replica simulator, seed 7716: a session at maxOutstandingPerSession, its socket paused,
   * through a slow log sync).
   */
  noteUnread(): void {
    this.unread_seen_ms = this.env.now_ms();
  }

  /** Sessions with their ephemerals, for `dump`. */
  ephemeralsBySession(): { session_id: string; paths: string[] }[] {
    return [...this.sessions.ids()]
      .map((id) => ({ session_id: id.toString(), paths: this.view.ephemerals(id) }))
      .filter((e) => e.paths.length > 0);
  }

  sessionList(): { session_id: string; timeout_ms: number; expire_at_ms: number }[] {
    return [...this.sessions.ids()].map((id) => {
      const r = this.sessions.get(id)!;
      return { session_id: id.toString(), timeout_ms: r.timeout_ms, expire_at_ms: r.expiry_ms };
    });
  }

  /** When tick() next has work: the earliest session bucket or reaper run. */
  next_tick_ms(): number {
    if (this.role !== 'creator') return this.env.now_ms() + this.options.tick_ms;
    const due = this.sessions.next_expiry_ms();
    // A deferred expiry is looked at again a tick later, not at once (the worker would spin).
    const e = due === null ? null : Math.max(due, this.expiry_deferred_until_ms);
    return e === null ? this.next_reap_ms : Math.min(e, this.next_reap_ms);
  }

  // ---- pipeline ----

  private expireSession(session_id: bigint): void {
    this.sessions_expired++;
    const owner = this.owners.get(session_id) ?? null;
    if (this.read_only !== null) {
      if (owner !== null) this.outbox.push({ kind: 'close_conn', shard: owner.shard, conn_id: owner.conn_id });
      this.forgetSession(session_id);
      return;
    }
    const origin = owner === null ? null : { shard: owner.shard, conn_id: owner.conn_id, xid: 0 };
    this.propose(origin, session_id, { kind: 'closeSession', paths: this.view.ephemerals(session_id) });
  }

  /** Assigns the zxid, records the txn in the working tree, and queues it for logging (GroupCommit). */
  /** The zxid the next proposed txn gets. */
  private nextZxid(): number {
    return Math.max(this.view.last_zxid, this.epoch_base) + 1;
  }

  /** Prep of a write request: reconfig here (it reads the membership), the rest in tree/prep.ts. */
  private prep(ctx: PrepContext, opcode: number, body: WriteRequest): TxnOp {
    if (opcode !== Op.reconfig || (body !== null && 'malformed' in body)) return prepRequest(ctx, opcode, body);
    const prepped = prepReconfig(body as ReconfigRequest, {
      enabled: this.options.reconfig_enabled === true,
      ensemble: this.membership !== null && this.replicated,
      voters_min: this.options.standalone_enabled === false ? 1 : 2,
      in_progress: this.reconfig_recorded > (this.membership?.version ?? 0),
      current: this.membership ?? { members: [], version: 0 },
      synced: this.options.synced_voters?.() ?? [],
      zxid: this.nextZxid(),
      config_acl: this.view.get(CONFIG_NODE)?.acl ?? [],
      auth: ctx.auth,
      is_super: ctx.is_super,
    });
    if (prepped.reason !== null && this.options.reconfig_enabled === true) this.options.log?.(`reconfig refused: ${prepped.reason}`);
    return prepped.op;
  }

  /**
   * The membership /zookeeper/config holds in the shared tree (the driver calls this at start and
   * whenever it applies a reconfig txn). null: a standalone replica.
   */
  setMembership(m: Membership | null): void {
    this.membership = m;
  }

  private propose(origin: Origin | null, session_id: bigint, op: TxnOp, cxid = origin?.xid ?? 0, time_ms = this.env.now_ms()): void {
    if (this.read_only !== null) throw new Error('commit core: propose while read-only');
    if (this.role !== 'creator') throw new Error('commit core: a learner proposed a txn');
    const txn: Txn = {
      header: { session_id, cxid, zxid: this.nextZxid(), time_ms },
      op,
    };
    this.view.record(txn);
    if (op.kind === 'closeSession') this.forgetSession(session_id);
    if (op.kind === 'reconfig') this.reconfig_recorded = txn.header.zxid;
    this.outbox.push({ kind: 'txn', origin, txn });
  }

  /** Zab leader: the server whose client holds the session (see `holders`), if known. */
  holderOf(session_id: bigint): number | undefined {
    return this.holders.get(session_id);
  }

  /** Whether the session's client moved away from server `sid` (see `holders`); the first
   *  write after a change of leader claims the session for its server. */
  private movedAway(session_id: bigint, sid: number): boolean {
    if (!this.replicated) return false; // standalone: every client is here
    const holder = this.holders.get(session_id);
    if (holder !== undefined) return holder !== sid;
    if (this.sessions.has(session_id)) this.holders.set(session_id, sid);
    return false;
  }

  private hold(session_id: bigint, sid: number): void {
    if (this.replicated) this.holders.set(session_id, sid);
  }

  private forgetSession(session_id: bigint): void {
    this.sessions.remove(session_id);
    this.owners.delete(session_id);
    this.holders.delete(session_id);
    this.unborn.delete(session_id);
  }

  private allocateSessionId(): bigint {
    let id = this.next_session_id;
    while (this.sessions.get(id) !== undefined) id = nextSessionId(id);
    this.next_session_id = nextSessionId(id);
    return id;
  }
}

function isSuper(auth: readonly Id[]): boolean {
  return auth.some((id) => id.scheme === 'super');
}
