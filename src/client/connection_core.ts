// The client's connection state machine, sans I/O: inputs are method calls carrying the time
// (start, socket opened / frame / closed, timer tick, submit, cancel, addAuth, close); outputs are
// effects the caller drains with takeEffects() (open a socket, write bytes, drop a socket, a
// session state change, a reply, a failure, a watch event). The socket adapter (socket_driver.ts)
// only performs effects and feeds events back; every decision is made here, so it can be tested
// with a fake clock and fake sockets.
//
// Invariants:
// - at most one socket (`conn`) is current; events from any other conn id are ignored;
// - requests are written in submission order; `sent` holds them in write order and every
//   ordinary reply must match its head's xid (ZooKeeper answers a session in order);
// - nothing is written before the ConnectResponse; then auth packets, then SetWatches, then the
//   queued requests (ClientCnxn.primeConnection's order);
// - a session id, once granted, is the only one ever sent: an expired session ends in state
//   'expired' and the core never opens a new session by itself;
// - while disconnected, requests wait in `queue`; requests that were on a lost connection fail
//   with connection_loss (they may or may not have been applied).

import { encodeConnectRequest, decodeConnectResponse } from '../protocol/connect.js';
import { Xid } from '../protocol/constants.js';
import { Err } from '../protocol/errors.js';
import { JuteError, JuteWriter } from '../protocol/jute.js';
import { decodeReply, encodeRequest, opBodies, peekXid, type BodyName, type OpCode, type RequestInput } from '../protocol/messages.js';
import { Op } from '../protocol/opcodes.js';
import type { ReplyHeader, WatcherEvent } from '../protocol/types.js';
import type { HostPort } from './connect_string.js';
import { Fifo } from './fifo.js';
import { sessionTiming, type SessionTiming } from './session_timing.js';
import { setWatchesPackets, type WatchLists } from './set_watches.js';

export type SessionState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export type StateReason =
  | 'starting'
  | 'session_established'
  | 'session_resumed'
  | 'connection_lost'
  | 'server_said_expired'
  | 'unreachable_for_session_timeout'
  | 'closed_by_client'
  | 'auth_failed';

/** Why a request failed without a reply. */
export type FailReason = 'connection_loss' | 'expired' | 'closed' | 'auth_failed' | 'marshalling';

export type CoreEffect =
  | { kind: 'open'; conn: number; host: HostPort }
  | { kind: 'write'; conn: number; bytes: Uint8Array }
  | { kind: 'drop'; conn: number }
  | { kind: 'state'; state: SessionState; reason: StateReason; host: HostPort | null }
  | { kind: 'reply'; token: number; header: ReplyHeader; body: unknown }
  | { kind: 'fail'; token: number; why: FailReason }
  | { kind: 'event'; zxid: number; event: WatcherEvent };

export interface CoreOptions {
  /** Hosts in the order to try them (the caller shuffles). Never empty. */
  hosts: readonly HostPort[];
  /** Requested session timeout; the server's answer (clamped) is what the clocks use. */
  session_timeout_ms: number;
  /** Pause after every host failed once in a row. */
  reconnect_delay_ms: number;
  /** How long close() waits for the closeSession reply. */
  close_timeout_ms: number;
  /** Resume this session instead of opening a new one. */
  session?: { id: bigint; passwd: Uint8Array };
  /**
   * Declare the session expired once no server was reachable for a whole session timeout (the
   * server has expired it by then). Default true; false waits for a server to say so.
   */
  expire_when_unreachable?: boolean;
  /** Server paths of the watches to re-register after a reconnect. */
  watches(): WatchLists;
}

type Phase = 'idle' | 'opening' | 'handshake' | 'live' | 'waiting' | 'done';

interface Sent {
  readonly xid: number;
  /** null = nobody waits (SetWatches, closeSession, or a cancelled request). */
  token: number | null;
  readonly expected: BodyName | null;
  readonly kind: 'request' | 'set_watches' | 'close';
}

interface Queued {
  readonly token: number;
  readonly xid: number;
  readonly bytes: Uint8Array;
  readonly expected: BodyName | null;
}

interface AuthEntry {
  readonly scheme: string;
  readonly auth: Uint8Array;
  /** Tokens of addAuth calls waiting for this credential's next reply. */
  tokens: number[];
}

const XID_MAX = 0x7fff_ffff;
const PASSWD_ZERO = new Uint8Array(16);

export class ConnectionCore {
  private effects: CoreEffect[] = [];
  private readonly writer = new JuteWriter(1024);
  private phase: Phase = 'idle';
  private state_: SessionState = 'connecting';
  /** Current socket id; 0 = none. */
  private conn = 0;
  private conn_seq = 0;
  private host_index = 0;
  private current_host: HostPort | null = null;
  /** Failed attempts since the last successful handshake (or the last pause). */
  private failures_in_row = 0;

  private session_id_: bigint;
  private passwd_: Uint8Array;
  private negotiated_timeout_ms_ = 0;
  private timing: SessionTiming;
  /** Highest zxid seen in an ordinary reply (sent as lastZxidSeen and SetWatches relativeZxid). */
  private last_zxid_ = 0;
  private next_xid = 1;

  private readonly queue = new Fifo<Queued>();
  private readonly sent = new Fifo<Sent>();
  private auths: AuthEntry[] = [];
  /** Auth packets written on the current connection, in order (their replies come back in it). */
  private auth_sent: AuthEntry[] = [];

  private last_send_ms = 0;
  private last_recv_ms = 0;
  private attempt_deadline_ms = 0;
  private wait_until_ms = 0;
  private close_deadline_ms = 0;
  private closing = false;

  constructor(private readonly opts: CoreOptions) {
    if (opts.hosts.length === 0) throw new Error('no hosts');
    this.session_id_ = opts.session?.id ?? 0n;
    this.passwd_ = opts.session?.passwd ?? PASSWD_ZERO;
    this.timing = sessionTiming(opts.session_timeout_ms, opts.hosts.length);
  }

  // ---- observers ----

  get state(): SessionState {
    return this.state_;
  }
  get session_id(): bigint {
    return this.session_id_;
  }
  get passwd(): Uint8Array {
    return this.passwd_;
  }
  get negotiated_timeout_ms(): number {
    return this.negotiated_timeout_ms_;
  }
  get last_zxid(): number {
    return this.last_zxid_;
  }
  get host(): HostPort | null {
    return this.phase === 'live' ? this.current_host : null;
  }
  /** Requests written and not yet answered (plus those waiting for a connection). */
  get outstanding(): number {
    return this.sent.length + this.queue.length;
  }

  takeEffects(): CoreEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  /** The next time tick() has something to do; null = nothing scheduled. */
  deadline(): number | null {
    const times: number[] = [];
    if (this.phase === 'opening' || this.phase === 'handshake') times.push(this.attempt_deadline_ms);
    if (this.phase === 'waiting') times.push(this.wait_until_ms);
    if (this.phase === 'live') {
      times.push(this.last_recv_ms + this.timing.read_timeout_ms, this.last_send_ms + this.timing.ping_interval_ms);
      if (this.closing) times.push(this.close_deadline_ms);
    }
    if (this.expiresWhileUnreachable()) times.push(this.localExpiryAt());
    return times.length === 0 ? null : Math.min(...times);
  }

  // ---- inputs ----

  start(now: number): void {
    if (this.phase !== 'idle') return;
    this.last_recv_ms = now;
    this.tryNextHost(now);
  }

  opened(conn: number, now: number): void {
    if (conn !== this.conn || this.phase !== 'opening') return;
    this.phase = 'handshake';
    const w = this.writer;
    w.reset();
    encodeConnectRequest(
      {
        protocolVersion: 0,
        lastZxidSeen: this.last_zxid_,
        timeOut: this.opts.session_timeout_ms,
        sessionId: this.session_id_,
        passwd: this.passwd_,
        readOnly: false,
      },
      w,
    );
    this.write(w.toBytes(), now);
  }

  frame(conn: number, payload: Uint8Array, now: number): void {
    if (conn !== this.conn) return;
    this.last_recv_ms = now;
    if (this.phase === 'handshake') return this.onConnectResponse(payload, now);
    if (this.phase === 'live') return this.onReply(payload, now);
  }

  closed(conn: number, now: number): void {
    if (conn !== this.conn) return;
    this.conn = 0;
    this.lose(now);
  }

  tick(now: number): void {
    if ((this.phase === 'opening' || this.phase === 'handshake') && now >= this.attempt_deadline_ms) this.lose(now);
    else if (this.phase === 'waiting' && now >= this.wait_until_ms) this.tryNextHost(now);
    else if (this.phase === 'live') this.tickLive(now);
    if (this.expiresWhileUnreachable() && now >= this.localExpiryAt()) this.expire('unreachable_for_session_timeout');
  }

  /**
   * Queues a request (written at once when connected). Throws JuteError when the body cannot be
   * encoded (nothing is sent then). The outcome comes back as a 'reply' or 'fail' effect.
   */
  submit<C extends OpCode>(token: number, type: C, body: RequestInput<C>, now: number): void {
    const gone = this.goneReason();
    if (gone !== null) {
      this.effects.push({ kind: 'fail', token, why: gone });
      return;
    }
    const xid = this.takeXid();
    const w = this.writer;
    w.reset();
    encodeRequest(xid, type, body, w);
    const expected = opBodies(type)?.response ?? null;
    const q: Queued = { token, xid, bytes: w.toBytes(), expected };
    if (this.phase === 'live') this.send(q, now);
    else this.queue.push(q);
  }

  /** The caller stopped waiting: an unsent request is dropped; a sent one's reply is ignored. */
  cancel(token: number): void {
    if (this.queue.removeFirst((q) => q.token === token) !== undefined) return;
    const s = this.sent.find((x) => x.token === token);
    if (s !== undefined) s.token = null;
    for (const a of this.auths) a.tokens = a.tokens.filter((t) => t !== token);
  }

  /** Adds a credential for this and every later connection; `token` completes on its reply. */
  addAuth(token: number, scheme: string, auth: Uint8Array, now: number): void {
    const gone = this.goneReason();
    if (gone !== null) {
      this.effects.push({ kind: 'fail', token, why: gone });
      return;
    }
    let entry = this.auths.find((a) => a.scheme === scheme && Buffer.compare(a.auth, auth) === 0);
    if (entry === undefined) {
      entry = { scheme, auth, tokens: [] };
      this.auths.push(entry);
    }
    entry.tokens.push(token);
    if (this.phase === 'live') this.sendAuth(entry, now);
  }

  /** Ends the session: closeSession when connected, then state 'closed'. */
  close(now: number): void {
    if (this.phase === 'done' || this.closing) return;
    this.closing = true;
    if (this.phase !== 'live') return this.finish('closed', 'closed_by_client');
    const xid = this.takeXid();
    const w = this.writer;
    w.reset();
    encodeRequest(xid, Op.closeSession, null, w);
    this.sent.push({ xid, token: null, expected: null, kind: 'close' });
    this.write(w.toBytes(), now);
    this.close_deadline_ms = now + this.opts.close_timeout_ms;
  }

  // ---- connection attempts ----

  private tryNextHost(now: number): void {
    const hosts = this.opts.hosts;
    const host = hosts[this.host_index % hosts.length]!;
    this.host_index = (this.host_index + 1) % hosts.length;
    this.conn = ++this.conn_seq;
    this.current_host = host;
    this.phase = 'opening';
    this.attempt_deadline_ms = now + this.timing.connect_timeout_ms;
    this.effects.push({ kind: 'open', conn: this.conn, host });
  }

  /** The current connection (or attempt) is over: fail what was on it, then try the next host. */
  private lose(now: number): void {
    if (this.phase === 'done' || this.phase === 'idle' || this.phase === 'waiting') return;
    const was_live = this.phase === 'live';
    this.dropSocket();
    this.auth_sent = [];
    for (const s of this.sent.drain()) this.failSent(s, 'connection_loss');
    if (this.closing) return this.finish('closed', 'closed_by_client');
    if (was_live) {
      this.failures_in_row = 0;
      this.setState('disconnected', 'connection_lost');
    } else {
      this.failures_in_row++;
    }
    if (this.failures_in_row >= this.opts.hosts.length) {
      this.failures_in_row = 0;
      this.phase = 'waiting';
      this.wait_until_ms = now + this.opts.reconnect_delay_ms;
      return;
    }
    this.tryNextHost(now);
  }

  private onConnectResponse(payload: Uint8Array, now: number): void {
    let resp;
    try {
      resp = decodeConnectResponse(payload);
    } catch {
      return this.lose(now);
    }
    if (resp.timeOut <= 0) return this.expire('server_said_expired');
    const resumed = this.session_id_ !== 0n;
    this.session_id_ = resp.sessionId;
    this.passwd_ = resp.passwd;
    this.negotiated_timeout_ms_ = resp.timeOut;
    this.timing = sessionTiming(resp.timeOut, this.opts.hosts.length);
    this.phase = 'live';
    this.failures_in_row = 0;
    for (const a of this.auths) this.sendAuth(a, now);
    if (resumed) this.sendSetWatches(now);
    for (const q of this.queue.drain()) this.send(q, now);
    this.setState('connected', resumed ? 'session_resumed' : 'session_established');
  }

  private sendSetWatches(now: number): void {
    const w = this.writer;
    for (const p of setWatchesPackets(this.opts.watches(), this.last_zxid_)) {
      w.reset();
      if (p.type === Op.setWatches) encodeRequest(Xid.SET_WATCHES, p.type, p.body, w);
      else encodeRequest(Xid.SET_WATCHES, p.type, p.body, w);
      this.sent.push({ xid: Xid.SET_WATCHES, token: null, expected: null, kind: 'set_watches' });
      this.write(w.toBytes(), now);
    }
  }

  private sendAuth(entry: AuthEntry, now: number): void {
    const w = this.writer;
    w.reset();
    encodeRequest(Xid.AUTH, Op.auth, { type: 0, scheme: entry.scheme, auth: entry.auth }, w);
    this.auth_sent.push(entry);
    this.write(w.toBytes(), now);
  }

  // ---- live connection ----

  private tickLive(now: number): void {
    if (this.closing && now >= this.close_deadline_ms) return this.finish('closed', 'closed_by_client');
    if (now - this.last_recv_ms >= this.timing.read_timeout_ms) return this.lose(now);
    if (now - this.last_send_ms >= this.timing.ping_interval_ms) {
      const w = this.writer;
      w.reset();
      encodeRequest(Xid.PING, Op.ping, null, w);
      this.write(w.toBytes(), now);
    }
  }

  private onReply(payload: Uint8Array, now: number): void {
    let xid: number;
    try {
      xid = peekXid(payload);
    } catch {
      return this.lose(now);
    }
    if (xid === Xid.PING) return;
    if (xid === Xid.NOTIFICATION) return this.onNotification(payload, now);
    if (xid === Xid.AUTH) return this.onAuthReply(payload, now);
    const head = this.sent.peek();
    // A reply that is not for the oldest request: the stream cannot be trusted (ClientCnxn
    // throws "Xid out of order" and reconnects).
    if (head === undefined || head.xid !== xid) return this.lose(now);
    this.sent.shift();
    this.onOrderedReply(head, payload, now);
  }

  private onOrderedReply(head: Sent, payload: Uint8Array, now: number): void {
    let decoded;
    try {
      decoded = decodeReply(payload, head.expected);
    } catch (e) {
      if (!(e instanceof JuteError)) throw e;
      // Framing is intact (length-prefixed), so only this reply is lost.
      if (head.token !== null) this.effects.push({ kind: 'fail', token: head.token, why: 'marshalling' });
      return;
    }
    if (decoded.header.zxid > this.last_zxid_) this.last_zxid_ = decoded.header.zxid;
    if (head.kind === 'close') return this.finish('closed', 'closed_by_client');
    if (head.token !== null) this.effects.push({ kind: 'reply', token: head.token, header: decoded.header, body: decoded.body });
    void now;
  }

  private onNotification(payload: Uint8Array, now: number): void {
    let decoded;
    try {
      decoded = decodeReply(payload, 'WatcherEvent');
    } catch {
      return this.lose(now);
    }
    if (decoded.body === null) return;
    this.effects.push({ kind: 'event', zxid: decoded.header.zxid, event: decoded.body });
  }

  private onAuthReply(payload: Uint8Array, now: number): void {
    let header: ReplyHeader;
    try {
      header = decodeReply(payload, null).header;
    } catch {
      return this.lose(now);
    }
    const entry = this.auth_sent.shift();
    if (entry === undefined) return;
    for (const token of entry.tokens) this.effects.push({ kind: 'reply', token, header, body: null });
    entry.tokens = [];
    if (header.err === Err.AUTHFAILED) {
      this.auths = this.auths.filter((a) => a !== entry);
      this.finish('closed', 'auth_failed');
    }
  }

  // ---- endings ----

  private expire(reason: StateReason): void {
    this.finish('expired', reason);
  }

  /** Terminal: drops the socket and fails everything still waiting. */
  private finish(state: 'expired' | 'closed', reason: StateReason): void {
    if (this.phase === 'done') return;
    const why: FailReason = state === 'expired' ? 'expired' : reason === 'auth_failed' ? 'auth_failed' : 'closed';
    this.dropSocket();
    this.phase = 'done';
    for (const s of this.sent.drain()) this.failSent(s, why);
    for (const q of this.queue.drain()) this.effects.push({ kind: 'fail', token: q.token, why });
    for (const a of this.auths) for (const token of a.tokens) this.effects.push({ kind: 'fail', token, why });
    this.auths = [];
    this.auth_sent = [];
    this.setState(state, reason);
  }

  // ---- helpers ----

  private goneReason(): FailReason | null {
    if (this.phase === 'done') return this.state_ === 'expired' ? 'expired' : 'closed';
    if (this.closing) return 'closed';
    return null;
  }

  private expiresWhileUnreachable(): boolean {
    return this.state_ === 'disconnected' && this.opts.expire_when_unreachable !== false && this.phase !== 'done';
  }

  /** The server expires a session a session timeout after it last heard from the client. */
  private localExpiryAt(): number {
    return this.last_recv_ms + this.negotiated_timeout_ms_;
  }

  private takeXid(): number {
    const xid = this.next_xid;
    this.next_xid = xid >= XID_MAX ? 1 : xid + 1;
    return xid;
  }

  private send(q: Queued, now: number): void {
    this.sent.push({ xid: q.xid, token: q.token, expected: q.expected, kind: 'request' });
    this.write(q.bytes, now);
  }

  private write(bytes: Uint8Array, now: number): void {
    this.last_send_ms = now;
    this.effects.push({ kind: 'write', conn: this.conn, bytes });
  }

  private failSent(s: Sent, why: FailReason): void {
    if (s.token !== null) this.effects.push({ kind: 'fail', token: s.token, why });
  }

  private dropSocket(): void {
    if (this.conn !== 0) this.effects.push({ kind: 'drop', conn: this.conn });
    this.conn = 0;
  }

  private setState(state: SessionState, reason: StateReason): void {
    this.state_ = state;
    this.effects.push({ kind: 'state', state, reason, host: this.phase === 'live' ? this.current_host : null });
  }
}
