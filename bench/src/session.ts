// One ZooKeeper client session for the load generator: a TCP connection, the handshake, and
// pipelined requests matched to replies in order. Everything on the wire goes through the
// project's codec (src/protocol) and frame cutter; nothing here encodes a record by hand.
//
// Invariants: requests are answered in the order sent (ZooKeeper's FIFO client order), so the
// reply at the head of the stream belongs to the oldest pending request; a reply with any other
// xid is a protocol violation and fails the session. Writes are coalesced: every request sent
// during one turn of the event loop goes out in one socket.write.

import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Op, Xid, JuteWriter, decodeConnectResponse, decodeReply, encodeConnectRequest, encodeRequest, peekXid } from '../../dist/protocol/index.js';
import type { BodyName, DecodedReply, OpCode, RequestInput } from '../../dist/protocol/index.js';
import { FrameCutter } from '../../dist/workers/net/frame_cutter.js';
import type { Endpoint, EndpointTls } from './connect_string.js';
import { Fifo } from './fifo.js';

/** Replies larger than this are malformed for the load generator (jute.maxbuffer + slack). */
const FRAME_BYTES_MAX = 4 * 1024 * 1024;
const PASSWD_BYTES = 16;
const CLOSE_TIMEOUT_MS = 2_000;

export interface Pending {
  readonly xid: number;
  /** Body record of the reply (when err == 0); null = no body. */
  readonly expected: BodyName | null;
  /** Caller's tag, handed back with the reply. */
  readonly tag: number;
  /** When the request counts as started (ms, performance.now clock; open loop: its scheduled time). */
  readonly t_start_ms: number;
}

export type ReplyHandler = (p: Pending, err: number) => void;

/** Tag of requests sent with request(): their replies resolve a promise instead of on_reply. */
const AWAITED_TAG = -2;

export class SessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionError';
  }
}

/** The files of an endpoint's TLS settings, read once per thread. */
const tls_files = new Map<string, Buffer>();
function tlsFile(path: string): Buffer {
  let b = tls_files.get(path);
  if (b === undefined) tls_files.set(path, (b = readFileSync(path)));
  return b;
}

function tlsOptions(t: EndpointTls): tls.ConnectionOptions {
  const pem = t.cert_file === null ? undefined : tlsFile(t.cert_file);
  // Certificates for 127.0.0.1 name it (and localhost) in their subjectAltName.
  return { ca: tlsFile(t.ca_file), key: pem, cert: pem };
}

export class BenchSession {
  private readonly cutter = new FrameCutter(FRAME_BYTES_MAX);
  private readonly out = new JuteWriter(64 * 1024);
  private readonly pending = new Fifo<Pending>(128);
  private next_xid = 1;
  private flush_scheduled = false;
  private last_send_ms = 0;
  private ping_timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  /** request() callers waiting for their reply, by xid. */
  private readonly awaited = new Map<number, { resolve: (r: DecodedReply<BodyName | null>) => void; reject: (e: Error) => void }>();
  /** Called for every reply of a request sent with send(); set by the owner before sending. */
  on_reply: ReplyHandler = () => {};
  /** Called once if the connection fails or breaks the protocol. */
  on_failure: (e: Error) => void = () => {};

  private constructor(
    private readonly socket: net.Socket,
    readonly session_id: bigint,
    readonly timeout_ms: number,
  ) {}

  /** Connects and completes the handshake, or rejects within `connect_timeout_ms`. */
  static open(endpoint: Endpoint, session_timeout_ms: number, connect_timeout_ms = 10_000): Promise<BenchSession> {
    return new Promise((resolve, reject) => {
      const socket = endpoint.tls === undefined ? net.connect({ host: endpoint.host, port: endpoint.port }) : tls.connect({ host: endpoint.host, port: endpoint.port, ...tlsOptions(endpoint.tls) });
      socket.setNoDelay(true);
      const cutter = new FrameCutter(FRAME_BYTES_MAX);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new SessionError(`handshake with ${endpoint.host}:${endpoint.port} timed out`)), connect_timeout_ms);
      // A server that is not serving (an ensemble member without a leader) closes at once.
      const closed = (): void => fail(new SessionError(`${endpoint.host}:${endpoint.port} closed the connection during the handshake`));
      socket.once('error', fail);
      socket.once('close', closed);
      socket.once(endpoint.tls === undefined ? 'connect' : 'secureConnect', () => socket.write(connectFrame(session_timeout_ms)));
      const onData = (chunk: Buffer): void => {
        let reply: Uint8Array | null = null;
        const bad = cutter.push(chunk, (bytes, start, end) => (reply ??= Uint8Array.from(bytes.subarray(start, end))));
        if (bad !== null) return fail(new SessionError(bad));
        if (reply === null) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', fail);
        socket.off('close', closed);
        const resp = decodeConnectResponse(reply);
        if (resp.timeOut <= 0) return fail(new SessionError('server refused the session (timeOut 0)'));
        resolve(new BenchSession(socket, resp.sessionId, resp.timeOut).attach());
      };
      socket.on('data', onData);
    });
  }

  private attach(): this {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (e) => this.fail(e));
    this.socket.on('close', () => this.fail(new SessionError('connection closed by the server')));
    this.last_send_ms = performance.now();
    const every_ms = Math.max(100, Math.floor(this.timeout_ms / 3));
    this.ping_timer = setInterval(() => this.pingIfIdle(every_ms), every_ms);
    this.ping_timer.unref();
    return this;
  }

  get in_flight(): number {
    return this.pending.size;
  }

  get failed(): Error | null {
    return this.failure;
  }

  /** Queues a request; it goes out with the others of this event-loop turn. */
  send<C extends OpCode>(type: C, body: RequestInput<C>, expected: BodyName | null, tag: number, t_start_ms: number): void {
    if (this.failure !== null) throw this.failure;
    const xid = this.next_xid++;
    encodeRequest(xid, type, body, this.out);
    this.pending.push({ xid, expected, tag, t_start_ms });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flush_scheduled) return;
    this.flush_scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flush_scheduled = false;
    if (this.out.length === 0 || this.failure !== null) return;
    this.socket.write(this.out.toBytes());
    this.out.reset();
    this.last_send_ms = performance.now();
  }

  private pingIfIdle(every_ms: number): void {
    if (this.failure !== null || performance.now() - this.last_send_ms < every_ms) return;
    encodeRequest(Xid.PING, Op.ping, null, this.out);
    this.scheduleFlush();
  }

  private onData(chunk: Buffer): void {
    const bad = this.cutter.push(chunk, (bytes, start, end) => this.onFrame(bytes.subarray(start, end)));
    if (bad !== null) this.fail(new SessionError(bad));
  }

  private onFrame(payload: Uint8Array): void {
    if (this.failure !== null) return;
    const xid = peekXid(payload);
    if (xid === Xid.PING || xid === Xid.NOTIFICATION) return;
    const head = this.pending.shift();
    if (head === undefined || head.xid !== xid) {
      this.fail(new SessionError(`reply xid ${xid} out of order (expected ${head?.xid ?? 'none'})`));
      return;
    }
    // Decoding the whole reply checks the server's bytes, as a real client would.
    const reply = decodeReply(payload, head.expected);
    if (head.tag === AWAITED_TAG) this.settleAwaited(head.xid, reply);
    else this.on_reply(head, reply.header.err);
  }

  /** One request whose decoded reply the caller needs (setup and cleanup, not the hot path). */
  request<C extends OpCode, N extends BodyName | null>(type: C, body: RequestInput<C>, expected: N): Promise<DecodedReply<N>> {
    const xid = this.next_xid;
    return new Promise((resolve, reject) => {
      this.awaited.set(xid, { resolve: resolve as (r: DecodedReply<BodyName | null>) => void, reject });
      this.send(type, body, expected, AWAITED_TAG, performance.now());
    });
  }

  private settleAwaited(xid: number, reply: DecodedReply<BodyName | null>): void {
    const waiter = this.awaited.get(xid);
    this.awaited.delete(xid);
    waiter?.resolve(reply);
  }

  private fail(e: Error): void {
    if (this.failure !== null) return;
    this.failure = e;
    for (const w of this.awaited.values()) w.reject(e);
    this.awaited.clear();
    this.stopTimers();
    this.socket.destroy();
    this.on_failure(e);
  }

  private stopTimers(): void {
    if (this.ping_timer !== null) clearInterval(this.ping_timer);
    this.ping_timer = null;
  }

  /** Drops the connection at once (a client giving up on a server that does not answer); idempotent. */
  abort(reason: string): void {
    this.fail(new SessionError(reason));
  }

  /** Sends closeSession and waits (bounded) for the server to answer or hang up. */
  async close(): Promise<void> {
    if (this.failure !== null) return;
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.on_reply = () => {};
    this.on_failure = () => {};
    this.send(Op.closeSession, null, null, -1, performance.now());
    await closed;
    this.failure ??= new SessionError('closed');
    this.stopTimers();
    this.socket.destroy();
  }
}

function connectFrame(session_timeout_ms: number): Uint8Array {
  const w = new JuteWriter(64);
  encodeConnectRequest(
    { protocolVersion: 0, lastZxidSeen: 0, timeOut: session_timeout_ms, sessionId: 0n, passwd: new Uint8Array(PASSWD_BYTES), readOnly: false },
    w,
  );
  return w.toBytes();
}
