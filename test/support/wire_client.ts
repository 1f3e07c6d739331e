// A raw ZooKeeper protocol client for tests, built on the project's codec (src/protocol): it sends
// exactly the frames it is told to (any xid, any opcode, even unknown ones) and records every
// frame it receives, in order. No retries, no reconnects, no hidden pings: what the server does
// is what the transcript shows.
//
// Invariant: replies to ordinary requests are matched to requests strictly in send order (as the
// Java client does); a reply whose xid does not match the oldest pending request is recorded as a
// protocol violation and fails that request.

import net from 'node:net';
import tls from 'node:tls';
import { decodeConnectResponse, encodeConnectRequest } from '../../src/protocol/connect.js';
import { Xid } from '../../src/protocol/constants.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { decodeReply, encodeRequest, opBodies, type BodyName, type OpCode, type RequestInput } from '../../src/protocol/messages.js';
import { recordCodec } from '../../src/protocol/records.js';
import type { ConnectResponse, ReplyHeader, WatcherEvent } from '../../src/protocol/types.js';

export interface Reply {
  xid: number;
  zxid: number;
  err: number;
  /** Decoded body (null when err != 0 or the op has no response body). */
  body: unknown;
}

export type Received =
  | { kind: 'reply'; op: string; reply: Reply }
  | { kind: 'notification'; zxid: number; event: WatcherEvent; replies_before: number }
  | { kind: 'closed' };

export interface ConnectOptions {
  timeout_ms?: number;
  sessionId?: bigint;
  passwd?: Uint8Array;
  lastZxidSeen?: number;
  /** Send the trailing readOnly byte (true for every client since 3.4). */
  readOnlyByte?: boolean;
  /** Its value: ask for a session a read-only server may grant (default false). */
  readOnly?: boolean;
  /** How long to wait for the ConnectResponse. */
  handshakeTimeout_ms?: number;
  /** The first request's xid (default 1). A client that reconnects a session goes on from its
   *  last xid: a session's xids are the client's, not the connection's. */
  firstXid?: number;
}

/** What the handshake produced: a response, or the server closing the connection instead. */
export type ConnectOutcome = { kind: 'connected'; response: ConnectResponse } | { kind: 'closed' };

interface Pending {
  xid: number;
  op: string;
  /** Keepalive pings: their replies are neither recorded nor counted. */
  silent?: boolean;
  expected: BodyName | null;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

const REPLY_TIMEOUT_MS = 10_000;

export class WireClient {
  /** Everything received after the handshake, in arrival order. */
  readonly received: Received[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending[] = [];
  /** Requests with special xids (ping -2, auth -4, setWatches -8): FIFO per xid. */
  private special = new Map<number, Pending[]>();
  private keepalive: NodeJS.Timeout | null = null;
  private next_xid = 1;
  private replies = 0;
  private closed = false;
  private close_waiters: Array<() => void> = [];
  private change_waiters: Array<() => void> = [];
  private handshake: ((o: ConnectOutcome) => void) | null = null;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => this.onData(b));
    sock.on('close', () => this.onClose());
    sock.on('error', () => undefined); // 'close' follows
  }

  /** Opens a TCP connection and performs the session handshake. */
  static async connect(port: number, opts: ConnectOptions = {}): Promise<{ client: WireClient; outcome: ConnectOutcome }> {
    const sock = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return WireClient.startSession(sock, opts);
  }

  /** The same over TLS (a secure client port): `tls_options` carry the client's certificate
   *  and the CA it trusts. Rejects when the TLS handshake fails. */
  static async connectTls(port: number, tls_options: tls.ConnectionOptions, opts: ConnectOptions = {}): Promise<{ client: WireClient; outcome: ConnectOutcome }> {
    const sock = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...tls_options });
    await new Promise<void>((resolve, reject) => {
      sock.once('secureConnect', resolve);
      sock.once('error', reject);
      sock.once('close', () => reject(new Error('closed during the TLS handshake')));
    });
    return WireClient.startSession(sock, opts);
  }

  /** On an open socket: the session handshake. */
  private static async startSession(sock: net.Socket, opts: ConnectOptions): Promise<{ client: WireClient; outcome: ConnectOutcome }> {
    sock.setNoDelay(true);
    const client = new WireClient(sock);
    client.next_xid = opts.firstXid ?? 1;
    const outcome = await client.handshakeWith(opts);
    return { client, outcome };
  }

  private handshakeWith(opts: ConnectOptions): Promise<ConnectOutcome> {
    const w = new JuteWriter();
    encodeConnectRequest(
      {
        protocolVersion: 0,
        lastZxidSeen: opts.lastZxidSeen ?? 0,
        timeOut: opts.timeout_ms ?? 30_000,
        sessionId: opts.sessionId ?? 0n,
        passwd: opts.passwd ?? new Uint8Array(16),
        readOnly: (opts.readOnlyByte ?? true) ? (opts.readOnly ?? false) : null,
      },
      w,
    );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ConnectResponse in ${opts.handshakeTimeout_ms ?? REPLY_TIMEOUT_MS} ms`)),
        opts.handshakeTimeout_ms ?? REPLY_TIMEOUT_MS,
      );
      this.handshake = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
      this.sock.write(w.toBytes());
    });
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Sends a request with the next xid and resolves with its reply (even when err != 0). */
  request<C extends OpCode>(type: C, body: RequestInput<C>): Promise<Reply> {
    const xid = this.next_xid++;
    const w = new JuteWriter();
    encodeRequest(xid, type, body, w);
    const bodies = opBodies(type);
    return this.send(w.toBytes(), xid, bodies?.name ?? `op${type}`, bodies?.response ?? null);
  }

  /** A request with a special xid (auth -4, setWatches -8, ping -2); its reply is matched by xid. */
  requestSpecial<C extends OpCode>(xid: number, type: C, body: RequestInput<C>): Promise<Reply> {
    const w = new JuteWriter();
    encodeRequest(xid, type, body, w);
    return this.send(w.toBytes(), xid, opBodies(type)?.name ?? `op${type}`, null);
  }

  /** A request header with an opcode the codec does not know, plus raw body bytes. */
  requestUnknown(type: number, body: Uint8Array = new Uint8Array(0)): Promise<Reply> {
    const xid = this.next_xid++;
    const frame = Buffer.alloc(12 + body.length);
    frame.writeInt32BE(8 + body.length, 0);
    frame.writeInt32BE(xid, 4);
    frame.writeInt32BE(type, 8);
    frame.set(body, 12);
    return this.send(frame, xid, `op${type}`, null);
  }

  private send(frame: Uint8Array, xid: number, op: string, expected: BodyName | null): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error(`${op}: connection closed`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${op} (xid ${xid}): no reply in ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      const p: Pending = {
        xid,
        op,
        expected,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      if (xid < 0) this.specialQueue(xid).push(p);
      else this.pending.push(p);
      this.sock.write(frame);
    });
  }

  /** Number of notifications received so far. */
  notificationCount(): number {
    return this.received.filter((r) => r.kind === 'notification').length;
  }

  /** Resolves when `pred` holds (checked on every received frame) or after `timeout_ms` (false). */
  async until(pred: () => boolean, timeout_ms: number): Promise<boolean> {
    const deadline = Date.now() + timeout_ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return pred();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.change_waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Resolves once the server has closed the connection (or after timeout_ms: false). */
  waitClosed(timeout_ms = REPLY_TIMEOUT_MS): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeout_ms);
      this.close_waiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Drops the TCP connection without closing the session. */
  destroy(): void {
    this.stopKeepalive();
    this.sock.destroy();
  }

  /**
   * Sends a ping every interval_ms so the session stays alive while the script waits. Their
   * replies are not recorded (a real client pings too; the transcript shows only the script).
   */
  startKeepalive(interval_ms: number): void {
    this.stopKeepalive();
    this.keepalive = setInterval(() => {
      if (this.closed) return;
      const frame = Buffer.alloc(12);
      frame.writeInt32BE(8, 0);
      frame.writeInt32BE(Xid.PING, 4);
      frame.writeInt32BE(11, 8);
      const noop = (): void => undefined;
      this.specialQueue(Xid.PING).push({ xid: Xid.PING, op: 'ping', expected: null, silent: true, resolve: noop, reject: noop });
      this.sock.write(frame);
    }, interval_ms);
    this.keepalive.unref();
  }

  stopKeepalive(): void {
    if (this.keepalive !== null) clearInterval(this.keepalive);
    this.keepalive = null;
  }

  private specialQueue(xid: number): Pending[] {
    let q = this.special.get(xid);
    if (q === undefined) {
      q = [];
      this.special.set(xid, q);
    }
    return q;
  }

  private onData(b: Buffer): void {
    this.buf = this.buf.length === 0 ? b : Buffer.concat([this.buf, b]);
    while (this.buf.length >= 4) {
      const len = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + len) break;
      const payload = new Uint8Array(this.buf.subarray(4, 4 + len));
      this.buf = this.buf.subarray(4 + len);
      this.onFrame(payload);
    }
    this.wakeChange();
  }

  private onFrame(payload: Uint8Array): void {
    if (this.handshake !== null) {
      const h = this.handshake;
      this.handshake = null;
      h({ kind: 'connected', response: decodeConnectResponse(payload) });
      return;
    }
    const header: ReplyHeader = recordCodec('ReplyHeader').read(new JuteReader(payload));
    if (header.xid === Xid.NOTIFICATION) {
      const { body } = decodeReply(payload, 'WatcherEvent');
      this.received.push({ kind: 'notification', zxid: header.zxid, event: body as WatcherEvent, replies_before: this.replies });
      return;
    }
    const p = header.xid < 0 ? this.specialQueue(header.xid).shift() : this.pending.shift();
    if (p?.silent === true) return;
    if (p === undefined) {
      this.received.push({ kind: 'reply', op: 'unexpected', reply: { ...header, body: null } });
      return;
    }
    if (p.xid !== header.xid) {
      const e = new Error(`xid out of order: expected ${p.xid} (${p.op}), got ${header.xid}`);
      this.received.push({ kind: 'reply', op: `out-of-order(${p.op})`, reply: { ...header, body: null } });
      p.reject(e);
      return;
    }
    const body = header.err === 0 && p.expected !== null ? decodeReply(payload, p.expected).body : null;
    const reply: Reply = { ...header, body };
    this.replies++;
    this.received.push({ kind: 'reply', op: p.op, reply });
    p.resolve(reply);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.received.push({ kind: 'closed' });
    if (this.handshake !== null) {
      const h = this.handshake;
      this.handshake = null;
      h({ kind: 'closed' });
    }
    const err = new Error('connection closed');
    for (const p of this.pending) p.reject(err);
    for (const q of this.special.values()) for (const p of q) p.reject(err);
    this.stopKeepalive();
    this.pending = [];
    this.special.clear();
    for (const w of this.close_waiters) w();
    this.close_waiters = [];
    this.wakeChange();
  }

  private wakeChange(): void {
    const w = this.change_waiters;
    this.change_waiters = [];
    for (const f of w) f();
  }
}
