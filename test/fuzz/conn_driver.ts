// Runs one fuzz connection script (frames.ts ConnScript) against a server and judges the server's
// reaction to it. Shared by the CI test and the long run.
//
// The oracle, per connection: the server cuts the byte stream into frames exactly as
// cutStream() below does (int32 length prefix; a length < 0 or > jute.maxbuffer ends the
// connection). For every complete frame it must answer (a reply: success or a ZooKeeper error
// code; the first frame's answer is the ConnectResponse) or close the connection; a connection
// that gets neither within reply_wait_ms is a stall. A client that half-closes must see the
// server close within close_wait_ms (ZooKeeper closes on end of stream). Watch notifications
// (xid -1) are not answers; a request frame that itself carries xid -1 is not counted either, as
// its reply could not be told from a notification.

import net from 'node:net';
import { connectFrame, type ConnScript } from './frames.js';

const NOTIFICATION_XID = -1;

export interface StreamCut {
  /** Payloads of the complete frames, in order. */
  readonly frames: readonly Uint8Array[];
  /** A length prefix outside 0..frame_bytes_max: the server must close the connection there. */
  readonly malformed: boolean;
  /** Bytes of an incomplete last frame (the server waits for the rest). */
  readonly partial_bytes: number;
}

/** The server's framing (src/workers/net/frame_cutter.ts, NIOServerCnxn.readLength) as a model. */
export function cutStream(stream: Uint8Array, frame_bytes_max: number): StreamCut {
  const b = Buffer.from(stream.buffer, stream.byteOffset, stream.byteLength);
  const frames: Uint8Array[] = [];
  let at = 0;
  while (b.length - at >= 4) {
    const len = b.readInt32BE(at);
    if (len < 0 || len > frame_bytes_max) return { frames, malformed: true, partial_bytes: 0 };
    if (b.length - at - 4 < len) break;
    frames.push(b.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { frames, malformed: false, partial_bytes: b.length - at };
}

/**
 * Answers the server owes for these frames (the first is the ConnectRequest): one per frame,
 * except request frames with xid -1 (see the header comment).
 */
export function answersOwed(frames: readonly Uint8Array[]): number {
  let owed = 0;
  for (const [i, f] of frames.entries()) {
    const xid_is_notification = i > 0 && f.length >= 4 && Buffer.from(f.buffer, f.byteOffset, 4).readInt32BE(0) === NOTIFICATION_XID;
    if (!xid_is_notification) owed++;
  }
  return owed;
}

export interface ConnBounds {
  /** How long the server may take to answer every complete frame (or close); below
   *  FUZZ_SESSION_TIMEOUT_MS, so an expiring session cannot hide a missing answer. */
  readonly reply_wait_ms: number;
  /** How long the server may take to close after the client's end of stream. */
  readonly close_wait_ms: number;
}

export interface ConnOutcome {
  readonly frames_sent: number;
  readonly bytes_sent: number;
  /** Complete frames in the stream, as the server cuts it. */
  readonly frames_complete: number;
  readonly answers_owed: number;
  readonly answers: number;
  readonly closed_by_server: boolean;
  /** null, or what the server failed to do (a stall). */
  readonly stall: string | null;
}

/** A raw socket that counts the server's answers (frames whose xid is not -1; the first frame is the ConnectResponse). */
class Conn {
  private buf: Buffer = Buffer.alloc(0);
  answers = 0;
  closed = false;
  private waiters: Array<() => void> = [];

  constructor(readonly sock: net.Socket) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', () => undefined); // 'close' follows
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let at = 0;
    let frames = 0;
    while (this.buf.length - at >= 4) {
      const len = this.buf.readInt32BE(at);
      if (len < 0 || this.buf.length - at - 4 < len) break;
      const is_first = this.answers === 0 && frames === 0;
      const notification = !is_first && len >= 4 && this.buf.readInt32BE(at + 4) === NOTIFICATION_XID;
      if (!notification) this.answers++;
      frames++;
      at += 4 + len;
    }
    this.buf = this.buf.subarray(at);
    this.wake();
  }

  /** Resolves true once pred holds, false after timeout_ms or once closed without it. */
  async until(pred: () => boolean, timeout_ms: number): Promise<boolean> {
    const deadline = Date.now() + timeout_ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return pred();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Writes and resolves once the bytes are handed to the kernel (or the socket is gone). */
  write(bytes: Uint8Array): Promise<void> {
    if (this.closed || this.sock.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.sock.write(bytes, () => resolve()));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

function openSocket(port: number): Promise<net.Socket> {
  const sock = net.connect({ host: '127.0.0.1', port });
  return new Promise((resolve, reject) => {
    sock.once('connect', () => {
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/** Offsets in (0, length) where the stream is split into separate writes, sorted, distinct. */
function splitPoints(cuts: readonly number[], length: number): number[] {
  if (length < 2) return [];
  return [...new Set(cuts.map((c) => 1 + (c % (length - 1))))].sort((a, b) => a - b);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/** Writes the pieces one by one, each a separate socket write; a macrotask between pieces so they are not coalesced. */
async function writePieces(c: Conn, stream: Uint8Array, cuts: readonly number[]): Promise<void> {
  let from = 0;
  for (const to of [...splitPoints(cuts, stream.length), stream.length]) {
    await c.write(stream.subarray(from, to));
    if (to < stream.length) await new Promise((resolve) => setImmediate(resolve));
    from = to;
  }
}

/** Runs one script; never throws for anything the server does (a stall is reported in the outcome). */
export async function runScript(port: number, script: ConnScript, frame_bytes_max: number, bounds: ConnBounds): Promise<ConnOutcome> {
  const c = new Conn(await openSocket(port));
  const prologue = script.handshake === 'none' ? new Uint8Array(0) : connectFrame();
  const served = concat(script.served);
  const odd = concat(script.odd);
  const whole = cutStream(concat([prologue, served, odd]), frame_bytes_max);
  const sent = { frames: 0, bytes: 0 };
  const result = (stall: string | null): ConnOutcome => ({
    frames_sent: sent.frames,
    bytes_sent: sent.bytes,
    frames_complete: whole.frames.length,
    answers_owed: answersOwed(whole.frames),
    answers: c.answers,
    closed_by_server: c.closed,
    stall,
  });
  /** Waits until the server answered every complete frame of `stream` (or closed); false = stall. */
  const answered = (stream: Uint8Array): Promise<boolean> => {
    const owed = answersOwed(cutStream(stream, frame_bytes_max).frames);
    return c.until(() => c.closed || c.answers >= owed, bounds.reply_wait_ms);
  };
  try {
    // Phase 1: the handshake and the well-formed requests.
    if (script.handshake === 'wait') {
      await c.write(prologue);
      if (!(await answered(prologue))) return result('no ConnectResponse to a valid ConnectRequest');
    }
    const phase1 = script.handshake === 'wait' ? served : concat([prologue, served]);
    await writePieces(c, phase1, script.cuts);
    sent.frames += script.served.length;
    sent.bytes += prologue.length + served.length;
    if (script.settle && !(await answered(concat([prologue, served])))) {
      return result(`${c.answers} answers to ${answersOwed(cutStream(concat([prologue, served]), frame_bytes_max).frames)} well-formed frames, connection still open`);
    }
    // Phase 2: the odd frames, then maybe the end of the client's stream.
    if (!c.closed) {
      await writePieces(c, odd, script.cuts);
      sent.frames += script.odd.length;
      sent.bytes += odd.length;
    }
    if (script.end === 'half_close') c.sock.end();
    if (!(await answered(concat([prologue, served, odd])))) return result(`${c.answers} answers to ${answersOwed(whole.frames)} complete frames, connection still open`);
    if (script.end === 'half_close' && !(await c.until(() => c.closed, bounds.close_wait_ms))) {
      return result('the server did not close the connection after the client ended its side');
    }
    return result(null);
  } finally {
    c.sock.destroy();
  }
}

/** A stalled script as text, for a failure message: every frame in hex. */
export function describeScript(script: ConnScript): string {
  const hex = (fs: readonly Uint8Array[]): string => fs.map((f, i) => `    [${i}] ${Buffer.from(f).toString('hex')}`).join('\n');
  return `handshake=${script.handshake} settle=${script.settle} end=${script.end} cuts=[${script.cuts.join(',')}]\n  served:\n${hex(script.served)}\n  odd:\n${hex(script.odd)}`;
}
