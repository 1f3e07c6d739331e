// The commit worker's per-frame logic, sans-IO: the glue between the shards' write rings, the
// commit core (prep -> zxid -> working tree), group commit (log records, the release gate), the
// Applier (the shared tree) and the commit stream. Frames come in decoded from a ring poll
// (onFrame); publications leave as commit-stream frames through a FrameSink; a log batch leaves
// through a LogPort and comes back as durable() or failed(); time comes from an injected clock.
// No ring, no Atomics, no fs, no timer: the thread driver (commit_worker.ts) polls, sleeps,
// writes the log, runs snapshots, the liveness file and Zab; the replica simulator
// (test/sim/replica_sim.ts) drives the same methods from one thread with a fake disk.
//
// A driver's turn calls, in this order: durable/failed for a write that completed, onFrame for
// each frame it polls (while room() > 0; stagePublications after each ring), tick,
// stagePublications, maybeFlush, release. Invariants (of the parts it joins):
// - a txn reaches the commit stream (APPLIED) only once its batch is durable (under Zab: once
//   a quorum acknowledged it): release() publishes what the release gate lets out;
// - after failed() nothing is acknowledged any more: the batch in flight and every later txn
//   become close_conns (release_gate.ts), and later writes are answered NOTREADONLY;
// - every release round ends with the root of what it applied (ROOT), and a root never holds
//   a connection's write together with a completion that a read of it must be served behind
//   (publishTxn: batch_origins and the shard's barrier byte).
//
// The Zab paths (forwarding, read-only mode, proposals) stay in the driver: it plugs them in as
// a CommitRouting, consulted before the standalone handling of each session or write frame.

import type { Applier } from '../commit/applier.js';
import type { CommitCore, Origin, Publication } from '../commit/commit_core.js';
import type { Batch, GroupCommit } from '../commit/group_commit.js';
import type { PendingView } from '../commit/pending_view.js';
import { describeFsError } from '../log/log_fs.js';
import type { CommitMetrics } from '../metrics/commit_metrics.js';
import { slowSyncWarning, type LogSyncTimes } from '../metrics/sync_times.js';
import { JuteReader, JuteWriter } from '../protocol/jute.js';
import { encodeReply, isMalformed, readServerRequest, type ServerRequest } from '../protocol/messages.js';
import { SessionOk } from '../quorum/read_only_mode.js';
import type { RootDescriptor } from '../store/arena/index.js';
import type { WriteRequest } from '../tree/prep.js';
import { isSessionMoved, type Txn } from '../tree/txn.js';
import type { ApplyResult } from '../tree/data_tree.js';
import type { ReplyHeader } from '../protocol/types.js';
import { replyOpcodeOf, writeReplyBody } from '../tree/write_reply.js';
import { encodeApplied } from './applied_frame.js';
import { decodeAuthId } from './auth_frame.js';
import type { FrameSink } from './frame_sink.js';
import { HeadReader, HeadWriter } from './link.js';
import { OpenRootMarks, ROOT_ANSWER, ROOT_TXN } from './open_root_marks.js';
import {
  AFTER_DIRECT,
  APPLIED_CLOSE_SESSION,
  APPLIED_CREATE_SESSION,
  APPLIED_WRITE,
  APPLIED_WRITE_ANSWERED,
  CommitStream,
  CommitToNet,
  NetToCommit,
  NO_SHARD,
  REQUEST_BARRIER,
  ShardToCommit,
} from './link_kinds.js';

/** How often tick looks for touches waiting unread between ticks (a few Atomics loads). */
const UNREAD_PROBE_MS = 10;

/**
 * A reader for a request in a ring: its data fields are copied out (the ring reuses the bytes),
 * into shared chunks, as a write's data lives only until it is logged and applied.
 */
function requestReader(bytes: Uint8Array, start: number, end: number): JuteReader {
  const r = new JuteReader(bytes, start, end);
  r.buffers_pooled = true;
  return r;
}

/** The stage's time: wall-clock epoch ms (txn times, session ids, expiry) and a monotonic
 *  microsecond clock (group commit's batch wait, write latency). */
export interface CommitClock {
  now_ms(): number;
  now_us(): number;
}

/** Where log batches go. The driver answers each writeBatch with exactly one durable(seq) or
 *  failed(seq, error), possibly from inside writeBatch (a write made inline). */
export interface LogPort {
  /** False while there is no log to write (it could not be opened): batches stay unwritten. */
  writable(): boolean;
  writeBatch(batch: Batch): void;
}

/**
 * The ensemble's say in a frame (the driver's Zab state). Each `true` means "handled": the
 * standalone path must not see the frame. A standalone replica has none.
 */
export interface CommitRouting {
  /** A client write (or sync / closeSession): forwarded to the leader, or refused. */
  request(origin: Origin, session_id: bigint, request: ServerRequest, bytes: Uint8Array, request_at: number, end: number): boolean;
  sessionCreate(shard: number, conn_id: number, timeout_ms: number, wants_read_only: boolean): boolean;
  sessionReattach(shard: number, conn_id: number, session_id: bigint, passwd: Uint8Array, timeout_ms: number, wants_read_only: boolean): boolean;
  /** After the core took touches. */
  touched(session_ids: readonly bigint[]): void;
  /** After the core took a gone connection. */
  connGone(shard: number, conn_id: number, session_id: bigint): void;
  /** The ok byte of a session answer (read-only sessions are told apart for the shard). */
  sessionOkByte(ok: boolean, session_id: bigint): number;
  /** A txn this replica created, with the bytes group commit logged (a leader proposes them). */
  proposeLocal(zxid: number, session_id: bigint, bytes: Uint8Array, start: number, end: number): void;
  /** A leader's answer to a learner's REVALIDATE, released (CommitCore.revalidate). */
  answerRevalidate(peer: number, token: number, session_id: bigint, valid: boolean): void;
}

/** The parts a recovery (or a Zab reload) builds: the core, its working tree, group commit. */
export interface CommitState {
  readonly core: CommitCore;
  readonly pending: PendingView;
  readonly gc: GroupCommit;
}

export interface CommitStagePorts {
  /** The commit stream (CommitStream frames, read by every shard). */
  readonly stream: FrameSink;
  /**
   * Replies to direct writes (CommitToNet frames). The driver must publish them only after the
   * commit stream frames sent before them (and never while the stream holds frames back): a
   * client that has its reply may tell another, whose read must see the write.
   */
  readonly to_net: FrameSink | null;
  /**
   * Hands every direct write published so far in the net worker's ring to onNetFrame, at once
   * (the driver polls that ring to empty; no bound but the ring's). Called for a shard frame
   * marked AFTER_DIRECT: the connection's direct write is in that ring and goes first.
   */
  takeDirectWrites(): void;
  readonly log: LogPort;
  readonly clock: CommitClock;
  /** Applies committed txns to the shared tree, once per replica. */
  readonly applier: Applier;
  /** A reconfig txn was applied: `data` is the new membership (quorum_config_text.ts). */
  readonly reconfigured?: (data: Uint8Array) => void;
  readonly metrics: CommitMetrics;
  /** Every batch's write + sync time, and the threshold over which one is a warning. */
  readonly sync_times: LogSyncTimes;
  /** Where a slow sync's warning goes (the log). */
  warn(line: string): void;
}

export class CommitStage {
  core: CommitCore;
  gc: GroupCommit;
  /** The core's working tree: told when a txn is applied to the shared tree. */
  private pending: PendingView;
  private routing: CommitRouting | null = null;
  private readonly stream: FrameSink;
  private readonly head = new HeadWriter();
  private readonly reader = new HeadReader();
  private readonly body = new JuteWriter(256);
  /** Direct replies: their own head and scratch (a stream frame may be half built meanwhile). */
  private readonly net_head = new HeadWriter();
  private readonly reply = new JuteWriter(256);
  /** Reused for every direct reply (encodeReply reads it at once). */
  private readonly reply_header: ReplyHeader = { xid: 0, zxid: 0, err: 0 };
  /** Direct writes answered with an error and no txn in the open root: answered at its seal,
   *  with the root's zxid (as a shard answers an ERROR at ROOT). */
  private direct_errors: { origin: Origin; err: number }[] = [];
  /** Origin connections with a completion in the open root: what it is (ROOT_TXN, or
   *  ROOT_ANSWER for a sync or an error, answered with the root's zxid). */
  private readonly batch_origins = new OpenRootMarks();
  /** The write handed to the log port: when, and its size (counted once it is durable). */
  private flush_started_us = 0;
  private flush_txns = 0;
  private flush_bytes = 0;
  fsync_us_max = 0;
  /** When tick last asked `touches_unread` between ticks. */
  private unread_probed_ms = 0;
  fsync_us_total = 0;
  /** Sessions expired by the cores a Zab reload replaced. */
  private sessions_expired_before = 0;

  constructor(
    private readonly ports: CommitStagePorts,
    state: CommitState,
  ) {
    this.core = state.core;
    this.gc = state.gc;
    this.pending = state.pending;
    this.stream = ports.stream;
  }

  /** Sessions this replica expired since it started (mntr's zk_stale_sessions_expired). */
  get sessions_expired(): number {
    return this.sessions_expired_before + this.core.sessions_expired;
  }

  /** Ensemble mode: the driver's Zab paths (see CommitRouting). */
  setRouting(routing: CommitRouting): void {
    this.routing = routing;
  }

  /** Zab TRUNC / SNAP: the state was rebuilt from disk. The caller released what was held. */
  reset(state: CommitState): void {
    this.sessions_expired_before += this.core.sessions_expired;
    this.core = state.core;
    this.gc = state.gc;
    this.pending = state.pending;
    this.batch_origins.clear();
    // Their connections are closed by the RELOAD that follows (every shard drops them all).
    this.direct_errors = [];
  }

  /** Input frames the stage may take now: each makes at most one txn, and group commit has
   *  room for this many (the driver also applies its own bounds). */
  room(): number {
    return this.gc.txn_room();
  }

  // ---- input: one frame of shard `shard`'s ring ----

  onFrame(shard: number, bytes: Uint8Array, start: number, end: number): void {
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    const conn_id = r.u32();
    const routing = this.routing;
    switch (kind) {
      case ShardToCommit.REQUEST: {
        const session_id = r.i64();
        const flags = r.u8();
        const request_at = r.offset;
        // `r` is this stage's reader: onNetFrame reuses it.
        if ((flags & AFTER_DIRECT) !== 0) this.ports.takeDirectWrites();
        // A shard forwards only requests it decoded itself (its containment boundary).
        const request = readServerRequest(requestReader(bytes, request_at, end));
        const barrier = (flags & REQUEST_BARRIER) !== 0;
        this.request({ shard, conn_id, xid: request.header.xid, barrier, direct: false }, session_id, request, bytes, request_at, end);
        break;
      }
      case ShardToCommit.SESSION_CREATE: {
        const timeout_ms = r.i32();
        const wants_read_only = r.u8() === 1;
        if (routing !== null && routing.sessionCreate(shard, conn_id, timeout_ms, wants_read_only)) break;
        this.core.createSession({ shard, conn_id, xid: 0 }, timeout_ms);
        break;
      }
      case ShardToCommit.SESSION_REATTACH: {
        const session_id = r.i64();
        const timeout_ms = r.i32();
        const passwd = r.copy(16);
        const wants_read_only = r.u8() === 1;
        if (routing !== null && routing.sessionReattach(shard, conn_id, session_id, passwd, timeout_ms, wants_read_only)) break;
        this.core.reattach({ shard, conn_id, xid: 0 }, session_id, passwd, timeout_ms);
        break;
      }
      case ShardToCommit.AUTH_ADD: {
        this.core.addAuth(shard, conn_id, decodeAuthId(bytes, r.offset, end));
        break;
      }
      case ShardToCommit.TOUCH: {
        const ids: bigint[] = [];
        for (let n = conn_id; n > 0; n--) ids.push(r.i64());
        this.core.touch(ids);
        routing?.touched(ids);
        break;
      }
      case ShardToCommit.CONN_GONE: {
        const session_id = r.i64();
        // Its auth ids stay until its direct write is prepped.
        if ((r.u8() & AFTER_DIRECT) !== 0) this.ports.takeDirectWrites();
        this.core.connGone(shard, conn_id, session_id);
        routing?.connGone(shard, conn_id, session_id);
        break;
      }
      default:
        throw new Error(`commit worker: unknown frame kind ${kind} from shard ${shard}`);
    }
  }

  /**
   * One frame of the net worker's ring: a direct write (net/direct_write.ts). The session had
   * nothing in flight when it was sent, so no completion of its connection is in the open root
   * and no read of it waits behind one: no barrier.
   */
  onNetFrame(bytes: Uint8Array, start: number, end: number): void {
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    if (kind !== NetToCommit.REQUEST) throw new Error(`commit worker: unknown frame kind ${kind} from the net worker`);
    const shard = r.u8();
    const conn_id = r.u32();
    const session_id = r.i64();
    // Containment: these are a client's bytes no shard has decoded (the net worker checked only
    // the header's size and opcode). A body that does not decode is an error txn (prep); any
    // other throw is a decoder bug reached by one client, and costs that connection only.
    let request: ServerRequest;
    try {
      request = readServerRequest(requestReader(bytes, r.offset, end));
    } catch (e) {
      console.error(`waitfree: BUG: decoding a direct write of connection ${conn_id} (shard ${shard}) threw; closing that connection:`, e);
      this.closeConn(shard, conn_id);
      return;
    }
    if (isMalformed(request)) console.warn(`waitfree: MARSHALLINGERROR for opcode ${request.header.type} (xid ${request.header.xid}) of connection ${conn_id}: malformed body (${request.reason})`);
    this.request({ shard, conn_id, xid: request.header.xid, barrier: false, direct: true }, session_id, request, bytes, r.offset, end);
  }

  /** A client write (or sync / closeSession) of a connected session, from its shard or direct. */
  private request(origin: Origin, session_id: bigint, request: ServerRequest, bytes: Uint8Array, request_at: number, end: number): void {
    // Its session moved to a newer connection: its close is on the way; it runs nothing more.
    if (this.core.isSuperseded(origin.shard, origin.conn_id)) return;
    if (this.routing !== null && this.routing.request(origin, session_id, request, bytes, request_at, end)) return;
    // multi's decoded body is { ops }; prep takes the op list. A body that did not decode
    // goes to prep as is (only writes whose prep makes it an error txn are forwarded).
    const body = isMalformed(request) ? request : request.op === 'multi' ? request.body.ops : request.body;
    this.core.request(origin, session_id, request.header.type, body as WriteRequest | null);
  }

  /** Publishes a close_conn for a connection, in order with everything else. */
  closeConn(shard: number, conn_id: number): void {
    this.gc.add([{ kind: 'close_conn', shard, conn_id }], this.ports.clock.now_us());
  }

  // ---- the turn ----

  /** Expires sessions and reaps when due, `txns_max` txns at most (under Zab, a leader's room
   *  for proposals: CommitCore.tick). `touches_unread` (see CommitCore.tick: whether session
   *  touches may wait unread behind a full pipeline) is asked then, and between ticks at most
   *  every UNREAD_PROBE_MS, so that a stall no tick fell inside is still seen (noteUnread). */
  tick(touches_unread: () => boolean, txns_max = Number.MAX_SAFE_INTEGER): void {
    const now = this.ports.clock.now_ms();
    if (now >= this.core.next_tick_ms()) this.core.tick(touches_unread(), txns_max);
    else if (now - this.unread_probed_ms >= UNREAD_PROBE_MS) {
      this.unread_probed_ms = now;
      if (touches_unread()) this.core.noteUnread();
    }
  }

  /** Moves the core's publications into group commit (txns become log records); returns how
   *  many txns moved. */
  stagePublications(): number {
    const pubs = this.core.take();
    if (pubs.length === 0) return 0;
    let txns = 0;
    for (const p of pubs) if (p.kind === 'txn') txns++;
    const routing = this.routing;
    // A leader proposes each txn with the bytes group commit logged.
    this.gc.add(pubs, this.ports.clock.now_us(), routing === null ? undefined : (zxid, session_id, bytes, start, end) => routing.proposeLocal(zxid, session_id, bytes, start, end));
    return txns;
  }

  /** Hands the next batch to the log port when one is due (at most one write in flight). */
  maybeFlush(): void {
    const now_us = this.ports.clock.now_us();
    if (!this.ports.log.writable() || !this.gc.due(now_us)) return;
    const batch = this.gc.take(now_us);
    this.flush_txns = batch.count;
    this.flush_bytes = batch.end - batch.start;
    this.flush_started_us = this.ports.clock.now_us();
    // May call durable() / failed() before it returns (an inline write): nothing follows here.
    this.ports.log.writeBatch(batch);
  }

  /** The batch `seq` is durable. Returns the durable zxid (a Zab driver acknowledges it). */
  durable(seq: number): number {
    this.noteWriteTime();
    const durable = this.gc.complete(seq);
    this.ports.metrics.batch(this.flush_txns, this.flush_bytes);
    return durable;
  }

  /** The batch `seq` could not be made durable: the replica accepts no write from now on.
   *  Returns the reason (the driver logs it and tells the supervisor). */
  failed(seq: number, error: unknown): string {
    this.noteWriteTime();
    this.gc.fail(seq);
    const reason = `the txn log cannot be written: ${describeFsError(error)}`;
    this.core.setReadOnly(reason);
    return reason;
  }

  private noteWriteTime(): void {
    const took_us = this.ports.clock.now_us() - this.flush_started_us;
    this.fsync_us_total += took_us;
    if (took_us > this.fsync_us_max) this.fsync_us_max = took_us;
    this.ports.metrics.fsync(took_us / 1000);
    const times = this.ports.sync_times;
    if (times.observe(took_us / 1000)) this.ports.warn(slowSyncWarning(took_us / 1000, times.warning_threshold_ms, this.flush_txns, this.flush_bytes));
  }

  /** Publishes what may go out now, then the root of the txns it applied (one per round). */
  release(): void {
    this.gc.release(this.publish);
    this.sealRoot();
  }

  /** Zab reload: every shard drops its connections and moves to the rebuilt tree's root. */
  announceReload(zxid: number): void {
    this.stream.send(this.head.begin(CommitStream.RELOAD).u8(NO_SHARD).u32(0).i32(0).i64n(zxid));
    this.sendRoot(this.ports.applier.writer.last_root);
  }

  // ---- output: the commit stream ----

  private origin(kind: number, origin: Origin | null): HeadWriter {
    const h = this.head.begin(kind);
    if (origin === null) return h.u8(NO_SHARD).u32(0).i32(0);
    return h.u8(origin.shard).u32(origin.conn_id).i32(origin.xid);
  }

  private sealRoot(): void {
    const root = this.ports.applier.seal();
    this.batch_origins.seal();
    if (root !== null) this.sendRoot(root);
    if (this.direct_errors.length > 0) this.answerDirectErrors();
  }

  /** The direct writes answered with an error in the root just sealed, at its zxid. */
  private answerDirectErrors(): void {
    const zxid = this.ports.applier.writer.last_root.last_zxid;
    for (const { origin, err } of this.direct_errors) this.sendDirectReply(origin, zxid, err, -1, null);
    this.direct_errors = [];
  }

  /** A direct write's reply, encoded as its shard would (shard_session.ts reply()). */
  private sendDirectReply(origin: Origin, zxid: number, err: number, opcode: number, result: ApplyResult | null): void {
    this.reply.reset();
    const header = this.reply_header;
    header.xid = origin.xid;
    header.zxid = zxid;
    header.err = err;
    if (result === null) encodeReply(header, null, null, this.reply);
    else {
      const r = writeReplyBody(opcode, result);
      encodeReply(header, r.name, r.body as never, this.reply);
    }
    const to_net = this.ports.to_net;
    if (to_net === null) throw new Error(`commit worker: a direct write (connection ${origin.conn_id}) while direct writes are off`);
    to_net.send(this.net_head.begin(CommitToNet.SEND).u32(origin.conn_id), this.reply.backing, 0, this.reply.length);
  }

  private sendRoot(root: RootDescriptor): void {
    const h = this.head.begin(CommitStream.ROOT).u8(NO_SHARD).u32(0).i32(0);
    h.u32(root.gen).u32(root.znode_root).u32(root.owner_root).u32(root.node_count).i64n(root.last_zxid).f64(root.data_bytes);
    this.stream.send(h);
  }

  /**
   * A committed txn: applied to the shared tree here, once; its result goes to the shards.
   * Invariant: a read of a connection is served from a root that holds none of the writes the
   * session sent after it. The origin answers a txn and then serves the reads queued behind it
   * from the txn's root; were the session's next write in that root too, those reads would see
   * it (and their reply zxid would run ahead of that write's). So a txn starts a new root when
   * its connection already has a completion in the open root and either the shard marked a
   * read between the two (origin.barrier) or that completion is a sync or an error, which is
   * answered with the root's zxid. Consecutive writes with no read between share a root: their
   * replies carry their own zxids, in order.
   */
  private publishTxn(origin: Origin | null, txn: Txn): void {
    if (origin !== null) {
      const before = this.batch_origins.get(origin.shard, origin.conn_id);
      if (before === ROOT_ANSWER || (before === ROOT_TXN && origin.barrier !== false)) this.sealRoot();
      this.batch_origins.set(origin.shard, origin.conn_id, ROOT_TXN);
    }
    const result = this.ports.applier.apply(txn);
    this.pending.applied(txn.header.zxid);
    this.ports.metrics.applied();
    const op = txn.op;
    if (op.kind === 'reconfig') this.ports.reconfigured?.(op.data);
    // Only writes come direct (net/direct_write.ts): never a session's own txn.
    const direct = origin?.direct === true;
    const what = direct ? APPLIED_WRITE_ANSWERED : op.kind === 'createSession' ? APPLIED_CREATE_SESSION : op.kind === 'closeSession' ? APPLIED_CLOSE_SESSION : APPLIED_WRITE;
    const h = this.origin(CommitStream.APPLIED, origin).i64n(txn.header.zxid).u8(what).i32(result.err);
    if (op.kind === 'createSession') {
      h.i64(txn.header.session_id).i32(op.timeout_ms).raw(op.passwd);
      // The client can ping only once it has its ConnectResponse: its timeout runs from here,
      // or a log sync slower than the timeout would expire sessions before their birth.
      this.core.born(txn.header.session_id);
    }
    this.body.reset();
    // A direct write's reply goes to the net worker, not in the stream (-1: no reply body).
    const opcode = replyOpcodeOf(op);
    encodeApplied(this.body, direct ? -1 : opcode, result);
    this.stream.send(h, this.body.backing, 0, this.body.length);
    if (direct) this.sendDirectReply(origin!, txn.header.zxid, result.err, opcode, result);
  }

  /** Sends one released publication. */
  private readonly publish = (p: Publication): void => {
    switch (p.kind) {
      case 'txn':
        if (p.origin !== null && isSessionMoved(p.txn)) {
          // ZooKeeper closes the connection instead of answering (ZOOKEEPER-710): its client has
          // moved to another server and reconnects to it, never to this connection.
          this.publishTxn(null, p.txn);
          this.publish({ kind: 'close_conn', shard: p.origin.shard, conn_id: p.origin.conn_id });
          break;
        }
        this.publishTxn(p.origin, p.txn);
        break;
      case 'session':
        this.origin(CommitStream.SESSION, p.origin).i64(p.session_id).i32(p.timeout_ms).raw(p.passwd).u8(this.sessionOkByte(p.ok, p.session_id));
        this.stream.send(this.head);
        // A reconnect's answer: the client may ping from now on (CommitCore.unborn).
        if (p.ok) this.core.born(p.session_id);
        break;
      case 'sync':
        this.inOpenRoot(p.origin);
        this.body.reset();
        this.body.writeUString(p.path);
        this.stream.send(this.origin(CommitStream.SYNC, p.origin), this.body.view_bytes());
        break;
      case 'revalidated':
        this.routing?.answerRevalidate(p.peer, p.token, p.session_id, p.valid);
        break;
      case 'close_conn':
        this.stream.send(this.head.begin(CommitStream.CLOSE_CONN).u8(p.shard).u32(p.conn_id).i32(0));
        // Its direct writes not answered by now never will be: the net worker must not wait.
        this.ports.to_net?.send(this.net_head.begin(CommitToNet.CLOSE).u32(p.conn_id));
        break;
      case 'error': {
        this.inOpenRoot(p.origin);
        const direct = p.origin.direct === true;
        this.stream.send(this.origin(CommitStream.ERROR, p.origin).i32(p.err).u8(direct ? 1 : 0));
        if (direct) this.direct_errors.push({ origin: p.origin, err: p.err });
        break;
      }
    }
  };

  /** A completion without a txn (sync, an error) is answered at the open root's ROOT too, and
   *  the reads queued behind it are served from that root: a later txn of the same connection
   *  must not join it either. */
  private inOpenRoot(origin: Origin): void {
    this.batch_origins.set(origin.shard, origin.conn_id, ROOT_ANSWER);
  }

  private sessionOkByte(ok: boolean, session_id: bigint): number {
    if (this.routing !== null) return this.routing.sessionOkByte(ok, session_id);
    return ok ? SessionOk.OK : SessionOk.REFUSED;
  }
}
