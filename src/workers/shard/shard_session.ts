// What a session shard does with one connection's requests and with the commits that answer
// them: admission into the session's FIFO, serving reads and session ops at the head of the
// FIFO, completing forwarded writes, firing watches, the handshake's answer, and closing.

import { Perms, PROTOCOL_VERSION, SESSION_PASSWD_BYTES, Xid } from '../../protocol/constants.js';
import { encodeConnectResponse } from '../../protocol/connect.js';
import { Err, KeeperError } from '../../protocol/errors.js';
import { JuteOverflowError, JuteWriter } from '../../protocol/jute.js';
import {
  encodeNotification,
  encodeReply,
  encodeReplyWithBody,
  encodeReplyWrittenBy,
  isMalformed,
  type BodyName,
  type DecodedRequest,
  type MalformedRequest,
  type ServerRequest,
} from '../../protocol/messages.js';
import { isCredentialOp, lastOpName, Op, opName, opSpec, TXN_WRITE_OPS } from '../../protocol/opcodes.js';
import { PathReadFrame } from '../../protocol/path_read.js';
import type { ServerConfig } from '../../config/server_config.js';
import type { ShardMetrics } from '../../metrics/shard_metrics.js';
import { checkAcl } from '../../tree/acl.js';
import { pathReadWatchKind } from '../../tree/read_ops.js';
import type { AppliedTrigger } from '../applied_frame.js';
import type { Delivery, WatchTable } from '../../watch/watch_table.js';
import type { FrameSink } from '../frame_sink.js';
import type { HeadWriter } from '../link.js';
import type { ShardConnStats, ShardStats, StatsDetail, StatsReset } from '../control.js';
import { AFTER_DIRECT, APPLIED_CLOSE_SESSION, APPLIED_CREATE_SESSION, REQUEST_BARRIER, SEND_BODY_ALIGN_BYTES, ShardToCommit, ShardToNet } from '../link_kinds.js';
import { hasIdOfScheme } from '../../session/auth_id_set.js';
import type { Conn, Pending } from './conn.js';
import { readOnlyAnswer } from './read_only_ops.js';
import { serveSessionOp } from './session_ops.js';
import { serveTreeRead } from './tree_read.js';
import type { ShardTree } from './shard_tree.js';

export interface ShardContext {
  readonly init: { index: number; config: ServerConfig };
  /** The shared tree at the root of the last commit batch this shard processed. */
  readonly tree: ShardTree;
  readonly watches: WatchTable;
  readonly conns: Map<number, Conn>;
  readonly to_net: FrameSink;
  readonly to_commit: FrameSink;
  readonly head: HeadWriter;
  /** Per-op counters and latency histograms in this shard's metric block (no locks). */
  readonly metrics: ShardMetrics;
  /** Epoch milliseconds with sub-millisecond resolution (the stage's injected clock). */
  now_ms(): number;
  /**
   * When the driver began taking the current batch of client frames (epoch ms): a request's
   * received time. One clock read per batch, not per request (a read in place costs ~1.5 µs;
   * two clock reads were ~10 % of it), and the latency then includes the wait behind the
   * batch's earlier frames, which the client sees too.
   */
  received_ms(): number;
  /** `n` unpredictable bytes (the stage's injected randomness: SASL nonces). */
  randomBytes(n: number): Uint8Array;
  /** SASL DIGEST-MD5 user -> password; null when no JAAS file configures SASL. */
  readonly sasl_passwords: ReadonlyMap<string, string> | null;
  /** zookeeper.enforce.auth's schemes in force (config/enforce_auth.ts); empty: no enforcement. */
  readonly enforced_auth_schemes: readonly string[];
}

/** What a session op or read produced: a reply (record name + body, or an error code). */
export interface Answer {
  err: number;
  name: BodyName | null;
  body: unknown;
  /** Close the connection after sending (auth failure, unknown opcode). */
  close?: boolean;
  /** Close the connection without answering: where ZooKeeper's handler throws, it sends nothing. */
  close_unanswered?: boolean;
  /** Send the body after an error header too (a failed SASL token: see encodeReply). */
  body_on_error?: boolean;
  /** ReplyHeader.zxid when ZooKeeper does not send the last zxid (auth and sasl: 0; unknown opcode: -1). */
  zxid?: number;
  /** ReplyHeader.xid when it is not the request's (a ping is always answered with xid -2). */
  xid?: number;
  /** The body already encoded (a committed write's reply, made by the commit worker). */
  raw?: Uint8Array;
  /** Writes the body straight into the reply (getData / exists from the shared tree). */
  write_body?: (w: JuteWriter) => void;
}

/** A committed txn's answer for its origin connection (CommitStream.APPLIED). */
export interface AppliedCompletion {
  xid: number;
  zxid: number;
  what: number;
  err: number;
  /** The reply body (encoded, header excluded). */
  body: Uint8Array;
  /** createSession only. */
  session_id: bigint;
  timeout_ms: number;
  passwd: Uint8Array | null;
}

/** A request whose body did not decode and that takes no txn: answered at the current zxid. */
const MARSHALLING_ERROR: Answer = { err: Err.MARSHALLINGERROR, name: null, body: null };
/** AuthenticationHelper.enforceAuthentication: the request is refused at zxid 0, and the
 *  connection closes (its session stays until it expires: a client may come back and log in). */
const AUTH_REQUIRED: Answer = { err: Err.SESSIONCLOSEDREQUIRESASLAUTH, name: null, body: null, close: true, zxid: 0 };
/** ZooKeeper answers every ping with PING_XID, whatever xid it was sent with. */
const PING_ANSWER: Answer = { err: 0, name: null, body: null, xid: Xid.PING };

export class ShardSession {
  /** Scratch writer for one outgoing frame at a time, bounded by waitfree.replyBytesMax (+ the
   *  frame's length prefix). */
  private readonly out: JuteWriter;
  /** The read tryReadNow takes (reused: no object per read). */
  private readonly path_read = new PathReadFrame();
  private readonly read_header = { xid: 0, zxid: 0, err: 0 };
  private readonly read_answer: Answer = { err: 0, name: null, body: null };
  /** Connections whose socket reads are paused by bound(). */
  private readonly paused = new Set<Conn>();

  get paused_connections(): number {
    return this.paused.size;
  }
  /** Connections that sent something since the last TOUCH (each once: Conn.touched). A flag per
   *  connection instead of a Set of session ids: a read no longer hashes a bigint. */
  private touched: Conn[] = [];
  packets_sent = 0;
  requests_served = 0;
  /** Request latency over the shard's life (srvr's Latency min/avg/max), ms. */
  latency_min_ms = Number.POSITIVE_INFINITY;
  latency_max_ms = 0;
  latency_total_ms = 0;

  /** Requests read but not answered, over all of this shard's connections. */
  private queued_total = 0;
  /** This shard's part of globalOutstandingLimit (ZooKeeper's throttle): past it, reading pauses. */
  private readonly queued_total_max: number;

  constructor(private readonly ctx: ShardContext) {
    const shards = ctx.init.config.read_workers;
    this.queued_total_max = Math.max(1, Math.floor(ctx.init.config.global_outstanding_limit / shards));
    this.out = new JuteWriter(64 * 1024, ctx.init.config.reply_bytes_max + 4, SEND_BODY_ALIGN_BYTES);
  }

  private get config(): ServerConfig {
    return this.ctx.init.config;
  }

  // ---- admission ----

  /**
   * A request of a connection past its ConnectRequest (its body may not have decoded). While
   * the session is being created (state 'connecting') everything is held, pings, auth and
   * malformed requests too: ZooKeeper reads nothing behind a ConnectRequest until the session
   * exists, so the ConnectResponse always comes first and the held requests are then handled in
   * arrival order (onSessionStart).
   */
  admit(conn: Conn, request: ServerRequest, payload: Uint8Array): void {
    // Epoch ms with sub-ms resolution: the latency histograms need better than Date.now().
    const pending: Pending = { header: request.header, request, payload, forwarded: false, received_ms: this.ctx.received_ms() };
    if (conn.state === 'connected') {
      this.admitConnected(conn, pending);
      return;
    }
    // Invariant: while connecting, conn.queue holds only these early requests (nothing is
    // forwarded before the session exists); bound() caps them like any FIFO.
    conn.queue.push(pending);
    this.queued_total++;
    this.bound(conn);
  }

  /**
   * A getData or exists (protocol/path_read.ts) at the head of an empty FIFO, answered from the
   * frame where it lies (the ring's bytes: no copy, no decoded request, no Pending, the path
   * compared as bytes), with what admit, drain, serveTreeRead and reply do for it, in their
   * order. Nothing of the session waits (empty FIFO, no direct write done ahead of
   * its placeholder), so answering now is answering in FIFO order. False: not such a read; the
   * caller decodes it as usual.
   */
  tryReadNow(conn: Conn, payload: Uint8Array, off: number, end: number): boolean {
    if (conn.state !== 'connected' || conn.queue.length !== 0 || conn.direct_done.length !== 0) return false;
    if (this.mustAuthenticate(conn)) return false;
    const frame = this.path_read;
    if (!frame.read(payload, off, end)) return false;
    const received_ms = this.ctx.received_ms();
    conn.packets_received++;
    this.touch(conn);
    const tree = this.ctx.tree;
    const answer = this.read_answer;
    answer.err = tree.decidePathRead(frame, payload, conn.auth, conn.is_super);
    if (frame.watch) this.registerPathReadWatch(conn, frame, payload, answer.err);
    answer.write_body = answer.err !== 0 ? undefined : tree.bodyWriter(frame.opcode);
    const header = this.read_header;
    header.xid = frame.xid;
    header.zxid = tree.last_zxid;
    header.err = answer.err;
    this.send(conn, header, answer);
    const now_ms = this.ctx.now_ms();
    this.recordAnswered(conn, frame.opcode, frame.xid, answer.err, tree.last_zxid, now_ms - received_ms, now_ms);
    return true;
  }

  /** The watch of a read in place that asked for one (pathReadWatchKind: decideRead's rule).
   *  The only string a read in place makes (a plain path: ASCII). */
  private registerPathReadWatch(conn: Conn, frame: PathReadFrame, payload: Uint8Array, err: number): void {
    const kind = pathReadWatchKind(frame.opcode, err);
    if (kind === null) return;
    const path = Buffer.from(payload.buffer, payload.byteOffset + frame.path_off, frame.path_len).toString('latin1');
    this.ctx.watches.addWatch(path, conn.id, kind);
  }

  private admitConnected(conn: Conn, pending: Pending): void {
    const request = requestOf(pending);
    // ZooKeeper checks before it reads the body (a malformed one is refused the same way), and
    // answers at once: every earlier request of this connection was auth or sasl, or was refused.
    if (this.mustAuthenticate(conn) && !isCredentialOp(request.header.type)) {
      console.warn(`waitfree: closing connection ${conn.remote_ip}:${conn.remote_port} (session 0x${conn.session_id.toString(16)}): ${opName(request.header.type)} without an id of ${this.ctx.enforced_auth_schemes.join(', ')} (zookeeper.enforce.auth.schemes)`);
      this.answerNow(conn, pending, AUTH_REQUIRED);
      return;
    }
    if (isMalformed(request) && !this.admitMalformed(conn, request)) return;
    const on_arrival = !isMalformed(request) && answeredOnArrival(request);
    // ZooKeeper touches a session only for requests it submits to its pipeline (pings included,
    // on arrival); auth and sasl are answered in its network layer without one. So a client
    // looping on a failing SASL handshake (kazoo without a server JAAS config) does not keep its
    // session alive: it expires after its timeout and the connection closes, as on ZooKeeper.
    if (!on_arrival) this.touch(conn);
    if (on_arrival) {
      // The reply (xid -4 for auth) does not wait for earlier requests of the session.
      this.answerNow(conn, pending, serveSessionOp(this.ctx, conn, request, (d) => this.deliver(d)));
      return;
    }
    // Everything else, pings too, takes its place in the FIFO: ZooKeeper answers a ping from
    // the end of its pipeline, after the session's earlier requests.
    conn.queue.push(pending);
    this.queued_total++;
    // A read-only session forwards nothing: its writes are answered here (serveLocal).
    if (!conn.read_only && isForwarded(request)) this.forward(conn, pending);
    this.bound(conn);
    this.drain(conn);
  }

  /**
   * A request whose body did not decode. auth and sasl bodies are read by ZooKeeper's network
   * layer as they arrive, where the IOException closes the connection unanswered: false, closed.
   * Any other is answered MARSHALLINGERROR in its place in the FIFO (true): see isForwarded for
   * the writes whose error takes a zxid.
   */
  private admitMalformed(conn: Conn, request: MalformedRequest): boolean {
    const { xid, type } = request.header;
    const peer = `${conn.remote_ip}:${conn.remote_port}`;
    if (type === Op.auth || type === Op.sasl) {
      console.warn(`waitfree: closing connection ${peer}: malformed ${opName(type)} packet (${request.reason})`);
      this.close(conn);
      return false;
    }
    console.warn(`waitfree: MARSHALLINGERROR for ${opName(type)} (xid ${xid}) from ${peer}: malformed body (${request.reason})`);
    return true;
  }

  /** Enforcement is on and the connection has no id of an enforced scheme (yet). */
  private mustAuthenticate(conn: Conn): boolean {
    const schemes = this.ctx.enforced_auth_schemes;
    return schemes.length !== 0 && !hasIdOfScheme(conn.auth, schemes);
  }

  private forward(conn: Conn, pending: Pending): void {
    pending.forwarded = true;
    const flags = (needsBarrier(conn.queue) ? REQUEST_BARRIER : 0) | (conn.direct_waiting > 0 ? AFTER_DIRECT : 0);
    const h = this.ctx.head.begin(ShardToCommit.REQUEST).u32(conn.id).i64(conn.session_id).u8(flags);
    this.ctx.to_commit.send(h, pending.payload ?? new Uint8Array(0));
  }

  /**
   * Pauses reading a connection whose FIFO is full, or any connection that sends while the
   * shard as a whole is over its throttle; resumes each below half of its bound.
   */
  private bound(conn: Conn): void {
    const max = this.config.max_outstanding_per_session;
    const over = conn.queue.length >= max || this.queued_total >= this.queued_total_max;
    const under = conn.queue.length < max / 2 && this.queued_total < this.queued_total_max / 2;
    if (!conn.paused && over) {
      conn.paused = true;
      this.paused.add(conn);
      this.ctx.to_net.send(this.ctx.head.begin(ShardToNet.PAUSE).u32(conn.id));
    } else if (conn.paused && under) {
      this.resume(conn);
    }
    if (this.paused.size > 0 && this.queued_total < this.queued_total_max / 2) {
      for (const c of this.paused) if (c.queue.length < max / 2) this.resume(c);
    }
  }

  private resume(conn: Conn): void {
    conn.paused = false;
    this.paused.delete(conn);
    if (conn.state !== 'closed') this.ctx.to_net.send(this.ctx.head.begin(ShardToNet.RESUME).u32(conn.id));
  }

  /** Serves every request at the head of the FIFO that does not wait for a commit. */
  drain(conn: Conn): void {
    while (conn.state === 'connected' && conn.queue.length > 0) {
      const head = conn.queue[0];
      if (head.forwarded) break;
      conn.queue.shift();
      this.queued_total--;
      if (!this.answerNow(conn, head, this.serveLocal(conn, requestOf(head)))) return;
    }
    this.bound(conn);
  }

  /** Sends an answer; closes the connection if the answer says so. False when it closed. */
  private answerNow(conn: Conn, pending: Pending, answer: Answer): boolean {
    if (answer.close_unanswered) {
      this.close(conn);
      return false;
    }
    this.reply(conn, pending, answer);
    if (!answer.close) return true;
    this.close(conn);
    return false;
  }

  private serveLocal(conn: Conn, request: ServerRequest): Answer {
    if (conn.read_only) {
      const refused = readOnlyAnswer(request);
      if (refused !== null) return refused;
    }
    if (isMalformed(request)) return MARSHALLING_ERROR;
    if (!request.unknown && request.op === 'ping') return PING_ANSWER;
    const kind = request.unknown ? 'unsupported' : opSpec(request.header.type)?.kind;
    try {
      if (kind === 'read') return serveTreeRead(this.ctx, conn, request);
      if (kind === 'session') return serveSessionOp(this.ctx, conn, request, (d) => this.deliver(d));
    } catch (e) {
      // A request-level failure (e.g. an unknown WatcherType is MARSHALLINGERROR) answers that
      // request only; anything else is a bug and takes the worker down.
      if (e instanceof KeeperError) return { err: e.code, name: null, body: null };
      throw e;
    }
    // Unknown opcodes: ZooKeeper answers UNIMPLEMENTED (zxid -1: no txn) and closes the connection.
    return { err: Err.UNIMPLEMENTED, name: null, body: null, close: request.unknown, zxid: -1 };
  }

  // ---- completions from the commit stream ----

  /** A committed txn whose origin is this connection (its reply made by the commit worker). */
  onApplied(conn: Conn, a: AppliedCompletion): void {
    if (a.what === APPLIED_CREATE_SESSION) {
      this.onSessionStart(conn, a.session_id, a.timeout_ms, a.passwd!);
      return;
    }
    if (a.what === APPLIED_CLOSE_SESSION) {
      const head = conn.queue[0];
      if (head && head.forwarded && head.header.type === Op.closeSession) {
        // Answered alone, without draining: ZooKeeper closes the connection right after the
        // reply, so nothing the session sent behind its closeSession is answered.
        conn.queue.shift();
        this.queued_total--;
        this.reply(conn, head, { err: 0, name: null, body: null, zxid: a.zxid });
      }
      this.close(conn);
      return;
    }
    this.opcodeOfHead(conn, a.xid);
    const head = conn.queue.shift()!;
    this.queued_total--;
    this.reply(conn, head, { err: a.err, name: null, body: null, raw: a.body, zxid: a.zxid });
    this.drain(conn);
  }

  /**
   * A read of this session the net worker answered itself (net/fast_read.ts), after every
   * request the session sent before it was answered: what reply() and admission would have
   * recorded for it (the session's touch, counters, latency, `cons` fields).
   */
  servedByNet(conn: Conn, xid: number, opcode: number, err: number, zxid: number, latency_ms: number): void {
    conn.packets_received++;
    this.touch(conn);
    conn.packets_sent++;
    this.packets_sent++;
    this.recordAnswered(conn, opcode, xid, err, zxid, latency_ms, this.ctx.now_ms());
  }

  /**
   * A direct write's placeholder (NetToShard.DIRECT_WRITE): the net worker sent the request to
   * the commit worker, which answers the client itself. It holds the write's place in the FIFO
   * like a forwarded write, so what the session sends next waits for its commit. If the commit
   * stream completed it first (completeDirect), it is done on arrival.
   */
  directWrite(conn: Conn, xid: number, opcode: number, received_ms: number): void {
    conn.packets_received++;
    const done = conn.direct_done.shift();
    if (done !== undefined) {
      if (done.xid !== xid || conn.queue.length !== 0) {
        throw new Error(`FIFO violated on connection ${conn.id}: direct write xid ${xid} arrived after the commit of xid ${done.xid}, ${conn.queue.length} queued`);
      }
      this.answeredByCommit(conn, opcode, xid, done.err, done.zxid, received_ms);
      return;
    }
    conn.queue.push({ header: { xid, type: opcode }, request: null, payload: null, forwarded: true, received_ms });
    conn.direct_waiting++;
    this.queued_total++;
    this.bound(conn);
  }

  /**
   * The commit of a direct write (APPLIED_WRITE_ANSWERED, or an ERROR the commit worker answered),
   * at its batch's ROOT: the reply is already on its way from the commit worker; this completes
   * the placeholder and serves what queued behind it, from this root. The placeholder may not
   * have arrived yet (the commit stream is read first): then the FIFO is empty, and it is
   * completed when it arrives.
   */
  completeDirect(conn: Conn, xid: number, err: number, zxid: number): void {
    if (conn.queue.length === 0) {
      conn.direct_done.push({ xid, err, zxid });
      return;
    }
    const opcode = this.opcodeOfHead(conn, xid);
    const head = conn.queue.shift()!;
    this.queued_total--;
    conn.direct_waiting--;
    this.answeredByCommit(conn, opcode, xid, err, zxid, head.received_ms);
    this.drain(conn);
  }

  /** The counters of a request the commit worker answered (a direct write). */
  private answeredByCommit(conn: Conn, opcode: number, xid: number, err: number, zxid: number, received_ms: number): void {
    conn.packets_sent++;
    this.packets_sent++;
    const now_ms = this.ctx.now_ms();
    this.recordAnswered(conn, opcode, xid, err, zxid, now_ms - received_ms, now_ms);
  }

  private opcodeOfHead(conn: Conn, xid: number): number {
    const head = conn.queue[0];
    if (head === undefined || !head.forwarded || head.header.xid !== xid) {
      throw new Error(`FIFO violated on connection ${conn.id}: commit for xid ${xid}, head ${head?.header.xid}`);
    }
    return head.header.type;
  }

  /** Answers the forwarded request at the head of the FIFO, then serves what queued behind it. */
  complete(conn: Conn, xid: number, name: BodyName | null, body: unknown, err: number): void {
    this.opcodeOfHead(conn, xid);
    const head = conn.queue.shift()!;
    this.queued_total--;
    this.reply(conn, head, { err, name, body });
    this.drain(conn);
  }

  private onSessionStart(conn: Conn, session_id: bigint, timeout_ms: number, passwd: Uint8Array, read_only = false): void {
    if (conn.last_zxid_seen > this.ctx.tree.last_zxid) {
      // The client saw a newer tree than this replica has: it must try another server.
      console.warn(`waitfree: refusing session: client saw zxid 0x${conn.last_zxid_seen.toString(16)}`);
      this.close(conn);
      return;
    }
    conn.session_id = session_id;
    conn.timeout_ms = timeout_ms;
    conn.state = 'connected';
    conn.read_only = read_only;
    this.sendConnectResponse(conn, { timeOut: timeout_ms, sessionId: session_id, passwd });
    // What the client sent behind its ConnectRequest, as if it arrived now, in arrival order.
    const early = conn.queue.splice(0);
    this.queued_total -= early.length;
    for (const pending of early) {
      // An early auth failure closes the connection: the rest is never answered (ZooKeeper).
      if (conn.state !== 'connected') return;
      this.admitConnected(conn, pending);
    }
    this.bound(conn);
  }

  /** The commit worker's answer to a reconnect with a session id, or to a session request while
   *  the replica is in read-only mode (`read_only`: a local session, no txn). */
  onReattach(conn: Conn, ok: boolean, session_id: bigint, timeout_ms: number, passwd: Uint8Array, read_only = false): void {
    if (!ok) {
      // ZooKeeper's expired answer: timeOut 0, sessionId 0, a zero password; then close.
      this.sendConnectResponse(conn, { timeOut: 0, sessionId: 0n, passwd: new Uint8Array(SESSION_PASSWD_BYTES) });
      this.close(conn);
      return;
    }
    this.onSessionStart(conn, session_id, timeout_ms, passwd, read_only);
  }

  private sendConnectResponse(conn: Conn, r: { timeOut: number; sessionId: bigint; passwd: Uint8Array }): void {
    this.out.reset();
    // ZooKeeper answers readOnly = "this server is read-only" (omitted if the client sent no byte).
    const readOnly = conn.read_only_byte === null ? null : conn.read_only;
    encodeConnectResponse({ protocolVersion: PROTOCOL_VERSION, ...r, readOnly }, this.out);
    this.sendBytes(conn);
  }

  // ---- watches ----

  /** One watch trigger of a committed txn (every shard fires every trigger). */
  fireTrigger(t: AppliedTrigger, zxid: number): void {
    const deliveries = this.ctx.watches.trigger(t.type as Parameters<WatchTable['trigger']>[0], t.path, zxid);
    for (const d of deliveries) {
      const conn = this.ctx.conns.get(d.watcher_id);
      // Events are ACL-filtered: only sessions that may READ the node hear about it.
      if (conn !== undefined && (t.acl === null || checkAcl(t.acl, Perms.READ, conn.auth, conn.is_super))) this.deliver(d);
    }
  }

  deliver(d: Delivery): void {
    const conn = this.ctx.conns.get(d.watcher_id);
    if (conn === undefined || conn.state !== 'connected') return;
    this.out.reset();
    encodeNotification(d.event, d.zxid, this.out);
    this.sendBytes(conn);
    this.ctx.metrics.watchEvent();
  }

  // ---- output ----

  private reply(conn: Conn, pending: Pending, answer: Answer): void {
    const xid = pending.header.xid;
    const zxid = answer.zxid ?? this.ctx.tree.last_zxid;
    const header = { xid: answer.xid ?? xid, zxid, err: answer.err };
    if (answer.raw !== undefined) this.sendEncoded(conn, header, answer.raw);
    else this.send(conn, header, answer);
    const now_ms = this.ctx.now_ms();
    this.recordAnswered(conn, pending.header.type, xid, answer.err, this.ctx.tree.last_zxid, now_ms - pending.received_ms, now_ms);
  }

  /** The counters, latency and `cons` fields of one answered request. */
  private recordAnswered(conn: Conn, opcode: number, xid: number, err: number, zxid: number, latency_hr_ms: number, now_ms: number): void {
    this.ctx.metrics.request(opcode, latency_hr_ms, err);
    // srvr/cons show whole milliseconds, as ZooKeeper does.
    const latency_ms = Math.max(0, Math.floor(latency_hr_ms));
    conn.recordLatency(latency_ms);
    if (latency_ms < this.latency_min_ms) this.latency_min_ms = latency_ms;
    if (latency_ms > this.latency_max_ms) this.latency_max_ms = latency_ms;
    this.latency_total_ms += latency_ms;
    conn.last_op = lastOpName(opcode);
    conn.last_cxid = xid;
    conn.last_zxid = zxid;
    // Whole milliseconds, as Date.now() gives them (cons / stat show this).
    conn.last_response_ms = Math.floor(now_ms);
    this.requests_served++;
  }

  private send(conn: Conn, header: { xid: number; zxid: number; err: number }, answer: Answer): void {
    this.out.reset();
    try {
      if (answer.write_body !== undefined) encodeReplyWrittenBy(header, answer.write_body, this.out);
      else encodeReply(header, answer.name, answer.body as never, this.out, answer.body_on_error === true);
    } catch (e) {
      if (!(e instanceof JuteOverflowError)) throw e;
      // Refused while being built (`out` is bounded), so a multiRead of 50,000 x 1 MB never
      // allocates 50 GB. Only that request fails; the session and the connection go on.
      console.warn(
        `waitfree: reply to ${conn.remote_ip}:${conn.remote_port} (xid ${header.xid}) is over ` +
          `waitfree.replyBytesMax (${this.config.reply_bytes_max} bytes): answered MARSHALLINGERROR`,
      );
      this.out.reset();
      encodeReply({ ...header, err: Err.MARSHALLINGERROR }, null, null, this.out);
    }
    this.sendBytes(conn);
  }

  /** A reply whose body the commit worker encoded (bounded there: a txn's reply is small). */
  private sendEncoded(conn: Conn, header: { xid: number; zxid: number; err: number }, body: Uint8Array): void {
    this.out.reset();
    encodeReplyWithBody(header, body, this.out);
    this.sendBytes(conn);
  }

  private sendBytes(conn: Conn): void {
    conn.packets_sent++;
    this.packets_sent++;
    this.ctx.to_net.send(this.ctx.head.begin(ShardToNet.SEND).u32(conn.id), this.out.backing, 0, this.out.length);
  }

  // ---- lifecycle ----

  /** Closes a connection from this side (protocol error, expiry, session moved, closeSession). */
  close(conn: Conn): void {
    if (conn.state === 'closed') return;
    this.ctx.to_net.send(this.ctx.head.begin(ShardToNet.CLOSE).u32(conn.id));
    this.forget(conn);
  }

  /** Drops every trace of a connection (the socket is gone or going). Its CONN_GONE is marked
   *  AFTER_DIRECT while its direct write is unfinished: the commit worker must not drop the
   *  connection's auth ids before that write's ACL checks. */
  forget(conn: Conn): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.queued_total -= conn.queue.length;
    conn.queue.length = 0;
    this.paused.delete(conn);
    this.ctx.conns.delete(conn.id);
    this.ctx.watches.removeWatcher(conn.id);
    const h = this.ctx.head.begin(ShardToCommit.CONN_GONE).u32(conn.id).i64(conn.session_id);
    this.ctx.to_commit.send(h.u8(conn.direct_waiting > 0 ? AFTER_DIRECT : 0));
  }

  private touch(conn: Conn): void {
    if (conn.touched) return;
    conn.touched = true;
    this.touched.push(conn);
  }

  /** Tells the commit worker which sessions are alive (batched: once per half tick). */
  sendTouches(): void {
    if (this.touched.length === 0) return;
    const conns = this.touched;
    this.touched = [];
    const unique = new Set<bigint>();
    for (const c of conns) {
      c.touched = false;
      unique.add(c.session_id);
    }
    const ids = [...unique];
    const TOUCH_IDS_MAX = 4096;
    for (let i = 0; i < ids.length; i += TOUCH_IDS_MAX) {
      const chunk = ids.slice(i, i + TOUCH_IDS_MAX);
      this.out.reset();
      for (const id of chunk) this.out.writeLong(id);
      this.ctx.to_commit.send(this.ctx.head.begin(ShardToCommit.TOUCH).u32(chunk.length), this.out.view_bytes());
    }
  }

  /**
   * srst: the shard's request counters and latency as if it had just started (ZooKeeper's
   * ServerStats.reset: resetLatency + resetRequestCounters); crst: every connection's
   * (ServerCnxn.resetStats). Nothing else changes: a session and its requests go on as they were.
   */
  resetStats(scope: StatsReset): void {
    if (scope === 'connections') {
      for (const conn of this.ctx.conns.values()) conn.resetStats();
      return;
    }
    this.packets_sent = 0;
    this.requests_served = 0;
    this.latency_min_ms = Number.POSITIVE_INFINITY;
    this.latency_max_ms = 0;
    this.latency_total_ms = 0;
  }

  /**
   * This shard's part of a stats answer: counters in O(1) (the watch table keeps its totals as
   * it changes), connection rows in O(connections) only when asked. A watch listing is not built
   * here: the shard worker builds it in slices (WatchWork) and attaches it.
   */
  stats(detail: StatsDetail): ShardStats {
    const conns = detail.connections ? [...this.ctx.conns.values()].map((c) => this.connStats(c)) : [];
    return {
      conns,
      watch_count: this.ctx.watches.watchCount(),
      watch_summary: this.ctx.watches.summary(),
      listing: null,
      last_zxid: this.ctx.tree.last_zxid,
      packets_sent: this.packets_sent,
      requests_served: this.requests_served,
      latency_min_ms: this.requests_served ? this.latency_min_ms : 0,
      latency_max_ms: this.latency_max_ms,
      latency_total_ms: this.latency_total_ms,
      outstanding: this.queued_total,
    };
  }

  private connStats(c: Conn): ShardConnStats {
    return {
      remote_ip: c.remote_ip,
      remote_port: c.remote_port,
      session_id: c.session_id.toString(),
      timeout_ms: c.timeout_ms,
      queued: c.queue.length,
      received: c.packets_received,
      sent: c.packets_sent,
      established_ms: c.established_ms,
      last_op: c.last_op,
      last_cxid: c.last_cxid,
      last_zxid: c.last_zxid,
      last_response_ms: c.last_response_ms,
      latency_min_ms: c.latency_count ? c.latency_min_ms : 0,
      latency_avg_ms: c.latency_count ? c.latency_total_ms / c.latency_count : 0,
      latency_max_ms: c.latency_max_ms,
      latency_total_ms: c.latency_total_ms,
      latency_count: c.latency_count,
      last_latency_ms: c.last_latency_ms,
      paused: c.paused,
      watches: this.ctx.watches.watchCountOf(c.id),
    };
  }
}

/** The decoded request of a pending entry that is served here (not a direct write's placeholder,
 *  which is always forwarded and never served). */
function requestOf(pending: Pending): ServerRequest {
  if (pending.request === null) throw new Error(`a direct write's placeholder (xid ${pending.header.xid}) reached the shard's serving path`);
  return pending.request;
}

/**
 * auth and sasl: ZooKeeper answers them in its network layer as they arrive (processPacket),
 * ahead of the session's earlier requests still in its pipeline, and they do not touch the session.
 */
function answeredOnArrival(request: DecodedRequest): boolean {
  return !request.unknown && isCredentialOp(request.header.type);
}

/**
 * Requests that go through the commit worker: writes, sync, closeSession, and writes whose body
 * did not decode when their error is a txn (prep makes it one). Invariant: a malformed sync is
 * never forwarded (the commit worker reads its path).
 */
function isForwarded(request: ServerRequest): boolean {
  if (isMalformed(request)) return TXN_WRITE_OPS.has(request.header.type);
  return !request.unknown && opSpec(request.header.type)?.kind === 'write';
}

/**
 * Whether the write just queued at the end of `queue` needs a barrier: a request served from
 * the tree (a read, a ping, a session op) waits between it and an earlier forwarded request of
 * the connection that is still unanswered. That request's completion and this write must not
 * be published in one root, or the read between them would be served from a root that already
 * holds this write. Without such a read the two may share a root: their replies carry their
 * own zxids, in order. Scans back only to the nearest forwarded request: O(1) for a stream of
 * writes.
 */
export function needsBarrier(queue: readonly Pending[]): boolean {
  let read_between = false;
  for (let i = queue.length - 2; i >= 0; i--) {
    if (queue[i]!.forwarded) return read_between;
    read_between = true;
  }
  return false;
}
