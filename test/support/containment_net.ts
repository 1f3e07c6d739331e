// Raw connection helpers for the containment tests (issue 10): open a session from a chosen
// local address (127.0.0.1 or another loopback address, so a server sees a different client IP),
// tell a refused connection from a granted one, and send a four-letter word. They never reject:
// a close or reset before the ConnectResponse is a refusal, no answer at all is 'silent'.
//
// Invariant: every socket opened here is either returned to the caller (who destroys it) or
// destroyed before the promise settles.

import net from 'node:net';
import { decodeConnectResponse, encodeConnectRequest } from '../../src/protocol/connect.js';
import { JuteWriter } from '../../src/protocol/jute.js';

const HANDSHAKE_TIMEOUT_MS = 5_000;
const RETRY_PAUSE_MS = 100;

/** A granted session on a raw socket; `alive()` asks the server with an exists("/"). */
export interface RawSession {
  readonly session_id: bigint;
  /** Resolves true when the server answers exists("/") with err 0 within timeout_ms. */
  alive(timeout_ms?: number): Promise<boolean>;
  destroy(): void;
}

function connectRequestBytes(timeout_ms: number): Uint8Array {
  const w = new JuteWriter();
  encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: timeout_ms, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }, w);
  return w.toBytes();
}

/** exists("/"): RequestHeader{xid, type 3} + path + watch false. */
function existsRootFrame(xid: number): Buffer {
  const body = Buffer.alloc(4 + 4 + 4 + 4 + 1 + 1);
  let o = body.writeInt32BE(body.length - 4, 0);
  o = body.writeInt32BE(xid, o);
  o = body.writeInt32BE(3, o);
  o = body.writeInt32BE(1, o);
  o += body.write('/', o);
  body.writeUInt8(0, o);
  return body;
}

/**
 * Opens a TCP connection from `local_address` to 127.0.0.1:port and asks for a session.
 * Resolves the session, 'refused' when the server closes (or resets) the connection first, or
 * 'silent' when it does neither within HANDSHAKE_TIMEOUT_MS.
 */
export type NoSession = 'refused' | 'silent';

export function openSession(port: number, local_address = '127.0.0.1'): Promise<RawSession | NoSession> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port, localAddress: local_address });
    let buf = Buffer.alloc(0);
    let settled = false;
    let session: bigint | null = null;
    let next_xid = 1;
    /** Waiters for exists replies, in send order. */
    const waiting: Array<(ok: boolean) => void> = [];
    const settle = (v: RawSession | NoSession): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (typeof v === 'string') sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => settle('silent'), HANDSHAKE_TIMEOUT_MS);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      settle('refused');
      for (const w of waiting.splice(0)) w(false);
    });
    sock.on('connect', () => sock.write(connectRequestBytes(30_000)));
    sock.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const len = buf.readInt32BE(0);
        const frame = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (session === null) {
          const r = decodeConnectResponse(frame);
          if (r.timeOut <= 0) return settle('refused');
          session = r.sessionId;
          settle({
            session_id: r.sessionId,
            alive: (timeout_ms = HANDSHAKE_TIMEOUT_MS) =>
              new Promise<boolean>((done) => {
                if (sock.destroyed) return done(false);
                const t = setTimeout(() => done(false), timeout_ms);
                waiting.push((ok) => {
                  clearTimeout(t);
                  done(ok);
                });
                sock.write(existsRootFrame(next_xid++));
              }),
            destroy: () => sock.destroy(),
          });
        } else {
          // ReplyHeader: xid, zxid, err.
          const ok = frame.length >= 16 && frame.readInt32BE(12) === 0;
          waiting.shift()?.(ok);
        }
      }
    });
  });
}

/** Retries openSession until a session is granted (servers notice a closed peer asynchronously). */
export async function sessionWithin(port: number, timeout_ms: number, local_address = '127.0.0.1'): Promise<RawSession> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const s = await openSession(port, local_address);
    if (typeof s !== 'string') return s;
    if (Date.now() > deadline) throw new Error(`no session granted on 127.0.0.1:${port} to ${local_address} within ${timeout_ms} ms`);
    await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
  }
}

/** What a four-letter word got: the text written back, and whether the server closed first. */
export function fourLetterRaw(port: number, word: string, wait_ms = HANDSHAKE_TIMEOUT_MS): Promise<{ text: string; closed_by_server: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('utf8'), closed_by_server: closed });
    };
    const timer = setTimeout(() => finish(false), wait_ms);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
  });
}
