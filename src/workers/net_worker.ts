// The networking worker: owns every client socket. It cuts the byte stream into frames (length
// prefix, bounded by jute.maxbuffer), routes each connection's frames to its session shard, and
// writes the shards' replies back, coalesced per connection per batch. It decodes no body but
// that of a getData / exists it answers itself for a session with nothing in flight
// (net/fast_read.ts: one thread hop less when that saves a wake-up).
// Four-letter words are recognised in the first 4 bytes of a connection and answered with text
// the supervisor composes. The admin HTTP server (/commands, /metrics) also lives here, on
// uWebSockets.js or its native-free twin; the supervisor composes its answers too.

import net from 'node:net';
import { workerData } from 'node:worker_threads';
import { fourLetterFromInt, fourLetterWord } from '../protocol/four_letter_words.js';
import type { HttpAnswer } from '../admin/http/admin_router.js';
import type { AdminListening, HttpBackend } from '../admin/http/backend.js';
import { chooseHttpBackend, nativeWanted } from '../admin/http/load_backend.js';
import { NetMetrics } from '../metrics/net_metrics.js';
import { Ring } from '../ring/ring.js';
import { postEvent, serveControl, type StatsReset } from './control.js';
import { BufferStats } from '../metrics/buffer_stats.js';
import { Doorbell } from './doorbell.js';
import { HeadReader, HeadWriter, LinkReader, LinkWriter } from './link.js';
import { CommitToNet, NetToCommit, NetToShard, ShardToNet } from './link_kinds.js';
import type { WorkerInit } from './topology.js';
import { ConnAdmission, RateLimitedWarning, type Refusal } from './net/conn_admission.js';
import { FrameCutter } from './net/frame_cutter.js';
import { ReplyBatch } from './net/reply_batch.js';
import { RingBackpressure } from './net/ring_backpressure.js';
import { NetFastRead } from './net/fast_read.js';
import { ConnFlow, Next } from './net/conn_flow.js';
import { createSecureServer, type SecureServer } from './net/secure_listener.js';
import { TLS_HANDSHAKE_RECORD } from '../protocol/tls_record.js';
import { int32At } from '../protocol/jute.js';
import { performance } from 'node:perf_hooks';

const POLL_FRAMES_MAX = 1024;
const IDLE_WAIT_MS_MAX = 100;
/** A connection paused for a full ring waits for the drain in steps this long (only so that a
 *  stop is noticed: it is resumed whenever the ring drains, however long that takes). */
const RING_DRAIN_STEP_MS = 1000;
/** At most one "too many connections" line per bound per this interval (a flood is counted). */
const REJECT_WARN_INTERVAL_MS = 1000;
/** Is the connection's first int32 a four-letter word? (The cutter asks once 4 bytes are in.) */
const isFourLetterWord = (word: number): boolean => fourLetterFromInt(word) !== null;
/** The frames after a four-letter word: none (FrameCutter only keeps the word's argument). */
const noFrames = (): void => {};
/** An admin HTTP request the supervisor has not answered by then gets a 503. */
const ADMIN_ANSWER_TIMEOUT_MS = 10_000;

interface NetConn {
  readonly id: number;
  readonly socket: net.Socket;
  readonly shard: number;
  readonly ip: string;
  readonly cutter: FrameCutter;
  /** Paused by its shard (session bound) or by a full ring (backpressure). */
  paused_by_shard: boolean;
  paused_by_ring: boolean;
  closing: boolean;
  /** A four-letter word read whose argument (stmk's mask) has not all come yet; else null. */
  word_pending: string | null;
  /** When the socket was accepted; the handshake must complete within sessionlessCnxnTimeout. */
  readonly accepted_ms: number;
  /** Its requests and replies: what it has in flight, its direct writes, the shard frames held
   *  behind them (net/conn_flow.ts). In `sessionless` while flow.awaiting_session. */
  readonly flow: ConnFlow;
}

class NetWorker {
  private readonly server: net.Server;
  /** The TLS server of the secure client port (secureClientPort) and of the TLS clients the
   *  plain port hands over (client.portUnification); null when neither is configured. */
  private readonly secure_server: SecureServer | null;
  /** client.portUnification: sockets of the plain port whose first byte has not come yet. */
  private readonly sniffing = new Set<net.Socket>();
  private readonly conns = new Map<number, NetConn>();
  private readonly admission: ConnAdmission;
  private readonly reject_warnings: Record<Refusal['bound'], RateLimitedWarning>;
  private readonly to_shard: LinkWriter[];
  /** One per to_shard link: pauses the sockets feeding a full ring, resumes them once it drains. */
  private readonly backpressure: RingBackpressure<NetConn>[];
  /** topology.net_paused_for_ring: connections held paused per shard (read by the commit worker). */
  private readonly paused_for_ring: Int32Array;
  private readonly from_shard: LinkReader[];
  /** Direct writes (net/direct_write.ts) to the commit worker, and their replies; null when
   *  waitfree.net.directWrites is off. */
  private readonly to_commit: LinkWriter | null;
  private readonly from_commit: LinkReader | null;
  private readonly doorbell: Doorbell;
  private readonly head = new HeadWriter();
  private readonly reader = new HeadReader();
  /** Output gathered during one poll batch, written once per connection. */
  private readonly outbound = new ReplyBatch<NetConn>();
  private next_conn_id = 1;
  /** Connections whose shard has sent nothing yet (no ConnectResponse): closed after
   *  sessionless_cnxn_timeout_ms, as ZooKeeper closes connections that never start a session. */
  private readonly sessionless = new Set<NetConn>();
  private sessionless_timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly metrics: NetMetrics;
  /** packets_received at the last srst: srvr counts from it. */
  private packets_received_base = 0;
  /** Sizes of the replies written to clients (server_stats' client_response, mntr). */
  private readonly response_sizes = new BufferStats();
  /** Reads of idle sessions answered here (waitfree.net.fastReads), or null when off. */
  private readonly fast_read: NetFastRead | null;
  private admin: HttpBackend | null = null;
  /** Admin HTTP requests forwarded to the supervisor, by request id. */
  private readonly admin_waiting = new Map<number, (a: HttpAnswer) => void>();
  private next_admin_id = 1;

  constructor(private readonly init: WorkerInit) {
    const { topology } = init;
    this.to_shard = topology.net_to_shard.map(
      (sab, i) => new LinkWriter(Ring.attachProducer(sab), [new Doorbell(topology.shard_doorbells[i])]),
    );
    this.from_shard = topology.shard_to_net.map((sab) => new LinkReader(Ring.attachConsumer(sab, 0)));
    const direct = init.config.net_direct_writes;
    this.to_commit = direct ? new LinkWriter(Ring.attachProducer(topology.net_to_commit), [new Doorbell(topology.commit_doorbell)]) : null;
    this.from_commit = direct ? new LinkReader(Ring.attachConsumer(topology.commit_to_net, 0)) : null;
    const paused_for_ring = new Int32Array(topology.net_paused_for_ring);
    this.paused_for_ring = paused_for_ring;
    this.backpressure = this.to_shard.map(
      (link, shard) =>
        new RingBackpressure<NetConn>(
          link,
          {
            pause: (c) => {
              c.paused_by_ring = true;
              Atomics.add(paused_for_ring, shard, 1);
              c.socket.pause();
            },
            resume: (c) => {
              c.paused_by_ring = false;
              Atomics.sub(paused_for_ring, shard, 1);
              if (!c.paused_by_shard && !c.closing) c.socket.resume();
            },
          },
          RING_DRAIN_STEP_MS,
        ),
    );
    this.doorbell = new Doorbell(topology.net_doorbell);
    this.doorbell.setIdleSpin(init.config.idle_spin_us);
    this.metrics = new NetMetrics(topology.metrics.net);
    this.fast_read = init.config.net_fast_reads ? new NetFastRead(topology, init.config) : null;
    this.admission = new ConnAdmission(init.config.max_cnxns, init.config.max_client_cnxns);
    const warn = (line: string): void => console.warn(line);
    this.reject_warnings = {
      maxCnxns: new RateLimitedWarning(REJECT_WARN_INTERVAL_MS, warn),
      maxClientCnxns: new RateLimitedWarning(REJECT_WARN_INTERVAL_MS, warn),
    };
    // allowHalfOpen: a peer's FIN must not end our side at once (Node's default), or the answer
    // to a four-letter word sent with `nc -N` / a health check that half-closes is lost.
    // onPeerEnd decides instead.
    this.server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      if (!this.admit(socket)) return;
      if (init.config.client_port_unification) this.sniff(socket);
      else this.onConnection(socket, null);
    });
    // A TLS socket counts against maxCnxns / maxClientCnxns from its TCP accept until its TCP
    // socket closes, its handshake included: a client that never completes one holds a place.
    const { tls: tls_config, sessionless_cnxn_timeout_ms } = init.config;
    this.secure_server =
      tls_config === null
        ? null
        : createSecureServer(tls_config, sessionless_cnxn_timeout_ms, {
            accept: (raw) => this.admit(raw),
            connected: (socket, x509_id) => this.onConnection(socket, x509_id),
            failed: () => this.metrics.add('tls_handshake_failures'),
          });
  }

  /** Opens the client port, then the secure client port if one is configured; the ports bound
   *  (secure_port -1 without one). */
  async listen(): Promise<{ port: number; secure_port: number }> {
    const { client_port, client_port_address, secure_client_port, secure_client_port_address } = this.init.config;
    const port = await listenOn(this.server, client_port, client_port_address);
    if (this.secure_server === null || secure_client_port === -1) return { port, secure_port: -1 };
    const secure_port = await listenOn(this.secure_server.server, secure_client_port, secure_client_port_address === '' ? client_port_address : secure_client_port_address);
    return { port, secure_port };
  }

  async run(): Promise<void> {
    while (!this.stopping) {
      const seen = this.doorbell.seq();
      let frames = 0;
      // Direct replies first: a connection's held shard frames go out right behind its reply.
      if (this.from_commit !== null) frames += this.from_commit.poll(this.onCommitFrame, POLL_FRAMES_MAX);
      for (let i = 0; i < this.from_shard.length; i++) frames += this.from_shard[i].poll(this.onShardFrame, POLL_FRAMES_MAX);
      this.writeOutbound();
      this.fast_read?.advancePins();
      if (frames === 0) {
        await this.doorbell.sleep(seen, IDLE_WAIT_MS_MAX, () => this.hasInput());
      }
    }
  }

  private hasInput(): boolean {
    return this.from_shard.some((r) => r.hasData()) || (this.from_commit?.hasData() ?? false);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.doorbell.ring();
    if (this.sessionless_timer !== null) clearInterval(this.sessionless_timer);
    for (const b of this.backpressure) b.stop();
    // uWS sockets must be closed before the thread ends, or the process crashes.
    await this.admin?.close();
    this.admin = null;
    for (const answer of this.admin_waiting.values()) answer(adminUnavailable('the server is stopping'));
    this.admin_waiting.clear();
    for (const c of this.conns.values()) c.socket.destroy();
    for (const socket of this.sniffing) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.secure_server !== null) {
      this.secure_server.destroyAll();
      await new Promise<void>((resolve) => this.secure_server!.server.close(() => resolve()));
    }
    this.fast_read?.close();
  }

  // ---- sockets ----

  /**
   * A new TCP socket: counted in, or (as ZooKeeper's accept thread) closed at once, logged and
   * counted when a bound refuses it. Its place is released when the TCP socket closes.
   */
  private admit(socket: net.Socket): boolean {
    const ip = normaliseIp(socket.remoteAddress ?? '');
    const refusal = this.admission.admit(ip);
    if (refusal !== null) {
      this.reject_warnings[refusal.bound].warn(`waitfree: ${refusal.message}`);
      this.metrics.add('connections_rejected');
      socket.destroy();
      return false;
    }
    this.metrics.add('connections_accepted');
    socket.once('close', () => this.admission.release(ip));
    return true;
  }

  /**
   * client.portUnification: a socket of the plain port goes to the TLS handshake if its first
   * byte opens one, and on as a plain connection otherwise, that byte put back either way. One
   * that sends nothing within sessionlessCnxnTimeout is closed, as a plain one without a session.
   */
  private sniff(socket: net.Socket): void {
    const timeout_ms = this.init.config.sessionless_cnxn_timeout_ms;
    this.sniffing.add(socket);
    const silent = (): void => {
      this.sessionlessClosing(normaliseIp(socket.remoteAddress ?? ''));
      socket.destroy();
    };
    const ended = (): void => {
      socket.destroy();
    };
    const first = (head: Buffer): void => {
      socket.pause();
      socket.unshift(head);
      socket.setTimeout(0);
      socket.off('timeout', silent);
      socket.off('end', ended);
      this.sniffing.delete(socket);
      if (head[0] === TLS_HANDSHAKE_RECORD) return this.secure_server!.adopt(socket);
      this.onConnection(socket, null);
      socket.resume();
    };
    socket.setTimeout(timeout_ms, silent);
    socket.once('data', first);
    socket.once('end', ended);
    socket.on('error', () => {});
    socket.once('close', () => this.sniffing.delete(socket));
  }

  /** A client connection, admitted: plain, or TLS with its handshake done (`x509_id`: the id
   *  its verified certificate gives, null without one). */
  private onConnection(socket: net.Socket, x509_id: string | null): void {
    const ip = normaliseIp(socket.remoteAddress ?? '');
    const id = this.allocateConnId();
    const shard = id % this.to_shard.length;
    const conn: NetConn = {
      id,
      socket,
      shard,
      ip,
      cutter: new FrameCutter(this.init.config.jute_max_buffer_bytes, isFourLetterWord),
      paused_by_shard: false,
      paused_by_ring: false,
      closing: false,
      word_pending: null,
      accepted_ms: Date.now(),
      flow: new ConnFlow(this.to_commit !== null, this.init.config.max_outstanding_per_session),
    };
    this.conns.set(id, conn);
    this.sessionless.add(conn);
    const open = this.head.begin(NetToShard.OPEN).u32(id).str8(ip).u32(socket.remotePort ?? 0);
    if (x509_id === null) this.to_shard[shard].send(open);
    else this.to_shard[shard].send(open, Buffer.from(x509_id, 'utf8'));
    this.to_shard[shard].flush();
    this.backpressure[shard].afterSend(null);
    socket.on('data', (chunk) => this.onData(conn, chunk));
    socket.on('end', () => this.onPeerEnd(conn));
    socket.on('error', () => {});
    socket.on('close', () => this.onSocketClosed(conn));
  }

  private allocateConnId(): number {
    let id = this.next_conn_id;
    while (id === 0 || this.conns.has(id)) id = (id + 1) >>> 0;
    this.next_conn_id = (id + 1) >>> 0;
    return id;
  }

  private onData(conn: NetConn, chunk: Buffer): void {
    this.metrics.add('bytes_received', chunk.length);
    // After a four-letter word, or once the connection is being closed, nothing more is read
    // (ZooKeeper stops reading too); the bytes are dropped, but for a word's argument.
    if (conn.closing) {
      if (conn.word_pending !== null) {
        conn.cutter.push(chunk, noFrames);
        this.onFourLetterWord(conn, conn.word_pending);
      }
      return;
    }
    const link = this.to_shard[conn.shard];
    let forwarded = false;
    let answered_here = false;
    let direct = false;
    const outcome = conn.cutter.push(chunk, (payload, start, end) => {
      this.metrics.add('packets_received');
      // Only a frame alone in its chunk: a burst of pipelined reads goes to the shard whole, one
      // wake-up for all of them (answered here, they would take the net worker's time from the
      // sockets and its caches from the network path: -7 % reads/s at 32 x 100 in flight).
      if (conn.cutter.frame_alone && this.answerHere(conn, payload, start, end)) {
        answered_here = true;
        return;
      }
      if (conn.flow.route(payload, conn.closing, start, end) === Next.DIRECT && this.sendDirect(conn, payload, start, end)) {
        direct = true;
        return;
      }
      forwarded = true;
      link.send(this.head.begin(NetToShard.DATA).u32(conn.id), payload, start, end);
    });
    // Only client requests wake the shard; the SERVED notes of fast reads and the placeholders
    // of direct writes wait for its next turn (published before their replies go out: a stats
    // request sees them, shard_worker.ts).
    if (direct) this.to_commit!.flush();
    if (forwarded) link.flush();
    else link.publish();
    if (answered_here) this.writeOutbound();
    if (outcome !== null) {
      console.warn(`waitfree: closing connection ${conn.ip}: ${outcome}`);
      this.metrics.add('malformed_closes');
      this.closeConn(conn);
      return;
    }
    const word = conn.cutter.fourLetterWord();
    const cmd = word === null ? null : fourLetterFromInt(word);
    if (cmd !== null) {
      this.onFourLetterWord(conn, cmd);
      return;
    }
    this.pauseForRing(conn);
  }

  /**
   * A fast read (net/fast_read.ts): answered here when the session has nothing in flight. The
   * reply joins the connection's output behind everything its shard sent before it; the shard
   * hears of it afterwards (SERVED) for the session's touch and counters.
   */
  private answerHere(conn: NetConn, payload: Uint8Array, start: number, end: number): boolean {
    const fast = this.fast_read;
    if (fast === null || !conn.flow.idle || conn.closing) return false;
    const started_ms = performance.now();
    const shard = conn.shard;
    const a = fast.tryAnswer(
      shard,
      payload,
      () => {
        this.from_shard[shard].poll(this.onShardFrame, Number.MAX_SAFE_INTEGER);
        return conn.flow.idle && !conn.closing;
      },
      start,
      end,
    );
    if (a === null) return false;
    this.reply(conn, a.frame, 0, a.frame.length);
    this.metrics.add('fast_reads');
    const note = this.head.begin(NetToShard.SERVED).u32(conn.id).i32(a.xid).i32(a.opcode).i32(a.err).i64n(a.zxid);
    this.to_shard[shard].send(note.f64(performance.now() - started_ms));
    return true;
  }

  /**
   * A write the connection's flow routed DIRECT (a session with nothing in flight but earlier
   * direct writes) goes straight to the commit worker, its placeholder to the shard
   * (net/direct_write.ts: why FIFO, read-your-writes and watch order hold); false: it goes to
   * the shard.
   */
  private sendDirect(conn: NetConn, payload: Uint8Array, start: number, end: number): boolean {
    // Into the ring or not at all (a full ring: the usual path, with its backpressure): the
    // request is published before its placeholder (onData flushes this link first), which the
    // shard's AFTER_DIRECT frames rely on (link_kinds.ts).
    const request = this.head.begin(NetToCommit.REQUEST).u8(conn.shard).u32(conn.id).i64(conn.flow.direct_session);
    if (!this.to_commit!.trySend(request, payload, start, end)) return false;
    const note = this.head.begin(NetToShard.DIRECT_WRITE).u32(conn.id).i32(int32At(payload, start)).i32(int32At(payload, start + 4));
    this.to_shard[conn.shard].send(note.f64(performance.timeOrigin + performance.now()));
    conn.flow.directSent();
    this.metrics.add('direct_writes');
    return true;
  }

  /** If the shard's ring is full: stop reading this socket until the overflow drains. */
  private pauseForRing(conn: NetConn): void {
    this.backpressure[conn.shard].afterSend(conn);
  }

  /**
   * The peer closed its sending side (FIN). A four-letter word's answer is still to come: our
   * side stays open for it (`nc -N`, health checks). A client connection is closed, as ZooKeeper
   * closes it at end of stream (NIOServerCnxn: EndOfStreamException): the requests read before
   * the FIN still run, replies not yet written are dropped, and the session lives on until it
   * expires or a client resumes it.
   */
  private onPeerEnd(conn: NetConn): void {
    if (conn.cutter.fourLetterWord() !== null && conn.word_pending === null) return;
    this.closeConn(conn);
  }

  /**
   * A four-letter word goes to the supervisor once its argument is complete (stmk: 8 bytes, the
   * trace mask); a socket that ends first is closed unanswered, one that stalls is closed by the
   * sessionless reaper (ZooKeeper fails the read of a missing argument and closes).
   */
  private onFourLetterWord(conn: NetConn, cmd: string): void {
    conn.closing = true;
    const arg = conn.cutter.wordArgument();
    if (arg.length < (fourLetterWord(cmd)?.arg_bytes ?? 0)) {
      conn.word_pending = cmd;
      return;
    }
    conn.word_pending = null;
    this.metrics.add('four_letter_words');
    postEvent({ type: 'four_letter', conn_id: conn.id, cmd, arg: arg.length === 0 ? null : new Uint8Array(arg) });
  }

  /**
   * The supervisor's answer to a four-letter word. Like ZooKeeper, the connection is closed once
   * the answer is written, whether or not the peer closed its side (one that never does would
   * otherwise hold its slot, and its maxClientCnxns count, for ever).
   */
  answerFourLetter(conn_id: number, text: string | Uint8Array): void {
    const conn = this.conns.get(conn_id);
    if (conn === undefined) return;
    conn.socket.end(text, () => conn.socket.destroy());
  }

  private onSocketClosed(conn: NetConn): void {
    if (!this.conns.delete(conn.id)) return;
    this.sessionless.delete(conn);
    if (this.backpressure[conn.shard].isPaused(conn)) Atomics.sub(this.paused_for_ring, conn.shard, 1);
    this.backpressure[conn.shard].forget(conn);
    this.to_shard[conn.shard].send(this.head.begin(NetToShard.CLOSED).u32(conn.id));
    this.to_shard[conn.shard].flush();
    this.backpressure[conn.shard].afterSend(null);
  }

  private closeConn(conn: NetConn): void {
    conn.closing = true;
    conn.socket.destroy();
  }

  /** Says (and counts) that a connection from `ip` is closed for starting no session in time. */
  private sessionlessClosing(ip: string): void {
    console.warn(`waitfree: closing connection ${ip}: no session handshake within ${this.init.config.sessionless_cnxn_timeout_ms} ms`);
    this.metrics.add('sessionless_closes');
  }

  /** Closes connections that have not completed a handshake in time (bounded: checked a few
   *  times per timeout; a slot held by an idle socket is freed for real clients). */
  startSessionlessReaper(): void {
    const timeout_ms = this.init.config.sessionless_cnxn_timeout_ms;
    this.sessionless_timer = setInterval(() => {
      const now = Date.now();
      for (const conn of this.sessionless) {
        if (now - conn.accepted_ms < timeout_ms) break; // insertion order = accept order
        this.sessionless.delete(conn);
        if (conn.closing && conn.word_pending === null) continue;
        this.sessionlessClosing(conn.ip);
        this.closeConn(conn);
      }
    }, Math.max(10, Math.floor(timeout_ms / 4)));
    this.sessionless_timer.unref();
  }

  // ---- from the shards ----

  private readonly onShardFrame = (bytes: Uint8Array, start: number, end: number): void => {
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    const conn = this.conns.get(r.u32());
    if (conn === undefined) return;
    switch (kind) {
      case ShardToNet.SEND: {
        const send = conn.flow.onShardSend(bytes, r.offset, end);
        if (send === Next.HOLD) break; // behind a direct reply: the flow keeps a copy
        // The handshake's answer: the connection has a session (or is told it has none).
        if (send === Next.WRITE_SESSION) this.sessionless.delete(conn);
        this.reply(conn, bytes, r.offset, end);
        break;
      }
      case ShardToNet.CLOSE:
        if (conn.flow.onShardClose() === Next.CLOSE_LATER) {
          // Behind its direct replies and what the shard sent meanwhile (onCommitFrame).
          conn.closing = true;
          break;
        }
        this.flushConn(conn);
        conn.closing = true;
        conn.socket.end();
        break;
      case ShardToNet.PAUSE:
        conn.paused_by_shard = true;
        conn.socket.pause();
        break;
      case ShardToNet.RESUME:
        conn.paused_by_shard = false;
        if (!conn.paused_by_ring && !conn.closing) conn.socket.resume();
        break;
      default:
        throw new Error(`net worker: unknown shard frame kind ${kind}`);
    }
  };

  /** A direct write's reply (net/direct_write.ts), then what its shard sent behind it. */
  private readonly onCommitFrame = (bytes: Uint8Array, start: number, end: number): void => {
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    const conn = this.conns.get(r.u32());
    // Gone: nothing more is written to it.
    if (conn === undefined) return;
    switch (kind) {
      case CommitToNet.SEND: {
        const reply = conn.flow.onCommitSend();
        if (reply === Next.DROP) return; // closed meanwhile
        this.reply(conn, bytes, r.offset, end);
        if (reply === Next.WRITE) return;
        const held = conn.flow.releaseHeld();
        if (held !== null) for (const frame of held) this.reply(conn, frame, 0, frame.length);
        if (reply === Next.WRITE_LAST_CLOSE) {
          this.flushConn(conn);
          conn.socket.end();
        }
        return;
      }
      case CommitToNet.CLOSE:
        // A direct write of it will never be answered: nothing behind it can go out in order.
        if (conn.flow.onCommitClose() === Next.DROP) return;
        this.flushConn(conn);
        conn.closing = true;
        conn.socket.end();
        return;
      default:
        throw new Error(`net worker: unknown commit frame kind ${kind}`);
    }
  };

  private writeOutbound(): void {
    if (this.outbound.size === 0) return;
    // writeTo() removes each connection as it goes (a Map iterator skips nothing still to come).
    for (const conn of this.outbound.connections()) this.flushConn(conn);
  }

  /** One socket.write with everything the connection received in this batch, in order. */
  private flushConn(conn: NetConn): void {
    if (!this.outbound.has(conn)) return;
    if (conn.socket.destroyed || conn.socket.writableEnded) {
      this.outbound.drop(conn);
      return;
    }
    // Checked before writing: output still unsent from earlier writes means the client is not
    // reading. A single reply of any size (up to waitfree.replyBytesMax) still goes out whole.
    const backlog_bytes = conn.socket.writableLength;
    if (backlog_bytes > this.init.config.conn_outbound_bytes_max) {
      this.outbound.drop(conn);
      console.warn(`waitfree: closing connection ${conn.ip}: client does not read its replies (${backlog_bytes} bytes unsent)`);
      this.metrics.add('slow_reader_closes');
      this.closeConn(conn);
      return;
    }
    this.metrics.add('bytes_sent', this.outbound.writeTo(conn, conn.socket, backlog_bytes > 0));
  }

  /**
   * One reply frame (length prefix included) for a connection's output: every reply, whoever
   * encoded it (a shard, the commit worker, this worker's fast reads), goes out through here.
   */
  private reply(conn: NetConn, bytes: Uint8Array, start: number, end: number): void {
    // ZooKeeper's response size: the serialized reply without its length prefix.
    this.response_sizes.add(end - start - 4);
    this.outbound.add(conn, bytes, start, end);
  }

  /** srst: srvr's Received counts from here on (the Prometheus counter itself never goes back),
   *  and the response sizes start again (ServerStats.reset resets clientResponseStats). */
  resetStats(scope: StatsReset): void {
    if (scope !== 'server') return;
    this.packets_received_base = this.metrics.get('packets_received');
    this.response_sizes.reset();
  }

  stats(): unknown {
    return {
      connections: this.conns.size,
      packets_received: this.metrics.get('packets_received') - this.packets_received_base,
      client_response: this.response_sizes.value,
      bytes_received: this.metrics.get('bytes_received'),
      bytes_sent: this.metrics.get('bytes_sent'),
      rejected_connections: this.metrics.get('connections_rejected'),
      malformed_closes: this.metrics.get('malformed_closes'),
    };
  }

  // ---- the admin HTTP server ----

  /**
   * Starts the admin server if enabled. Not being able to bind it does not stop the replica
   * (clients matter more than the admin API): it is logged and 'listening' says admin: null.
   */
  async startAdmin(): Promise<AdminListening | null> {
    const { admin_enable_server, admin_server_address, admin_server_port, native } = this.init.config;
    if (!admin_enable_server) return null;
    const { backend } = await chooseHttpBackend(nativeWanted(native));
    try {
      const port = await backend.listen(admin_server_address, admin_server_port, (method, url) => this.forwardAdmin(method, url));
      if (this.stopping) {
        await backend.close();
        return null;
      }
      this.admin = backend;
      return { address: admin_server_address, port, backend: backend.name };
    } catch (e) {
      await backend.close();
      console.warn(`waitfree: admin server off: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  /** The supervisor composes the answer (it holds every worker's stats and every SAB). */
  private forwardAdmin(method: string, url: string): Promise<HttpAnswer> {
    this.metrics.add('admin_requests');
    if (this.stopping) return Promise.resolve(adminUnavailable('the server is stopping'));
    const id = this.next_admin_id++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.admin_waiting.delete(id);
        resolve(adminUnavailable(`no answer within ${ADMIN_ANSWER_TIMEOUT_MS} ms`));
      }, ADMIN_ANSWER_TIMEOUT_MS);
      this.admin_waiting.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      postEvent({ type: 'admin_http', req_id: id, method, url });
    });
  }

  answerAdmin(req_id: number, answer: HttpAnswer): void {
    const resolve = this.admin_waiting.get(req_id);
    this.admin_waiting.delete(req_id);
    resolve?.(answer);
  }
}

function adminUnavailable(why: string): HttpAnswer {
  return { status: 503, content_type: 'text/plain; charset=utf-8', body: `admin server unavailable: ${why}\n` };
}

function listenOn(server: net.Server, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (e: Error): void => reject(new Error(`${address}:${port}: ${e.message}`));
    server.once('error', failed);
    server.listen(port, address, () => {
      server.off('error', failed);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
}

/** IPv4-mapped IPv6 addresses as plain IPv4, like Java's InetAddress.getHostAddress. */
function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

// Started while the replica recovers (its modules load meanwhile); opens the client port once
// the supervisor says the replica serves: clients only ever reach a recovered replica.
let worker: NetWorker | null = null;
function listen(): void {
  const w = new NetWorker(workerData as WorkerInit);
  worker = w;
  w.listen()
    .then(async ({ port, secure_port }) => {
      const admin = await w.startAdmin();
      w.startSessionlessReaper();
      postEvent({ type: 'listening', port, secure_port, admin });
      return w.run();
    })
    .catch((e: unknown) => {
      postEvent({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
    });
}
serveControl({
  stats: () => worker?.stats() ?? { starting: true },
  resetStats: (scope) => worker?.resetStats(scope),
  stop: () => worker?.stop(),
  other: (m) => {
    if (m.type === 'listen') {
      if (worker === null) listen();
    } else if (m.type === 'four_letter_answer') worker?.answerFourLetter(m.conn_id, m.text);
    else if (m.type === 'admin_http_answer') worker?.answerAdmin(m.req_id, m.answer);
  },
});
