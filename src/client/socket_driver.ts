// The I/O half of the connection: performs the core's effects on real sockets and one timer, and
// feeds socket events back. It decides nothing. Writes produced by one step are coalesced into
// one socket write; application effects (state, reply, fail, event) go to the sink after the
// step's I/O, in the order the core produced them.
//
// Re-entrancy: a sink callback may call back into the client (submit from a watch callback);
// that input runs on the core at once and its effects join the drain loop already running.

import net from 'node:net';
import tls from 'node:tls';
import type { HostPort } from './connect_string.js';
import type { ConnectionCore, CoreEffect } from './connection_core.js';
import { FrameError, FrameReader } from './frame_reader.js';

export type AppEffect = Extract<CoreEffect, { kind: 'state' | 'reply' | 'fail' | 'event' }>;

export interface DriverOptions {
  frame_bytes_max: number;
  /** Monotonic milliseconds. */
  now(): number;
  /** Opens a TCP connection (tests may substitute). */
  connect?(host: HostPort): net.Socket;
  /** Connect over TLS with these options (a server's secure client port); null: plain TCP. */
  tls?: tls.ConnectionOptions | null;
}

interface Live {
  socket: net.Socket;
  reader: FrameReader;
}

function defaultConnect(host: HostPort): net.Socket {
  return net.connect({ host: host.host, port: host.port });
}

export class SocketDriver {
  private readonly sockets = new Map<number, Live>();
  private draining = false;
  private timer: NodeJS.Timeout | null = null;
  private timer_due = Infinity;

  constructor(
    private readonly core: ConnectionCore,
    private readonly sink: (e: AppEffect) => void,
    private readonly opts: DriverOptions,
  ) {}

  /** Applies one input to the core and performs what follows from it. */
  run(input: (now: number) => void): void {
    input(this.opts.now());
    if (this.draining) return;
    this.draining = true;
    try {
      this.drain();
    } finally {
      this.draining = false;
    }
    this.reschedule();
  }

  private drain(): void {
    for (let effects = this.core.takeEffects(); effects.length > 0; effects = this.core.takeEffects()) {
      const writes = new Map<number, Uint8Array[]>();
      const app: AppEffect[] = [];
      for (const e of effects) this.perform(e, writes, app);
      for (const [conn, chunks] of writes) this.sockets.get(conn)?.socket.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      for (const e of app) this.sink(e);
    }
  }

  private perform(e: CoreEffect, writes: Map<number, Uint8Array[]>, app: AppEffect[]): void {
    switch (e.kind) {
      case 'open':
        return this.open(e.conn, e.host);
      case 'write': {
        const list = writes.get(e.conn);
        if (list === undefined) writes.set(e.conn, [e.bytes]);
        else list.push(e.bytes);
        return;
      }
      case 'drop': {
        // Flush what this step wrote to that socket first, so the order on the wire holds.
        const pending = writes.get(e.conn);
        writes.delete(e.conn);
        return this.drop(e.conn, pending === undefined ? null : Buffer.concat(pending));
      }
      default:
        app.push(e);
    }
  }

  private open(conn: number, host: HostPort): void {
    const secure = this.opts.tls ?? null;
    const socket = this.opts.connect?.(host) ?? (secure === null ? defaultConnect(host) : tls.connect({ host: host.host, port: host.port, ...secure }));
    const live: Live = { socket, reader: new FrameReader(this.opts.frame_bytes_max) };
    this.sockets.set(conn, live);
    socket.setNoDelay(true);
    // Over TLS the connection is open once the handshake is done (a failed one closes it).
    const opened = secure !== null && this.opts.connect === undefined ? 'secureConnect' : 'connect';
    socket.on(opened, () => this.run((now) => this.core.opened(conn, now)));
    socket.on('data', (chunk: Buffer) => this.onData(conn, live, chunk));
    socket.on('error', () => undefined); // 'close' follows and carries the consequence
    socket.on('close', () => {
      if (this.sockets.get(conn) !== live) return;
      this.sockets.delete(conn);
      this.run((now) => this.core.closed(conn, now));
    });
  }

  private onData(conn: number, live: Live, chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = live.reader.push(chunk);
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      live.socket.destroy();
      return;
    }
    this.run((now) => {
      for (const f of frames) this.core.frame(conn, f, now);
    });
  }

  private drop(conn: number, last: Buffer | null = null): void {
    const live = this.sockets.get(conn);
    if (live === undefined) return;
    this.sockets.delete(conn);
    if (last === null) {
      live.socket.destroy();
      return;
    }
    live.socket.end(last);
    live.socket.setTimeout(1000, () => live.socket.destroy());
  }

  private reschedule(): void {
    const due = this.core.deadline();
    if (due === null) {
      this.clearTimer();
      return;
    }
    // An earlier timer is harmless (tick() does nothing early); only a later one must move.
    if (this.timer !== null && this.timer_due <= due) return;
    this.clearTimer();
    this.timer_due = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timer_due = Infinity;
      this.run((now) => this.core.tick(now));
    }, Math.max(0, Math.ceil(due - this.opts.now())));
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timer_due = Infinity;
  }

  /** Destroys every socket and the timer (after the core reached a terminal state). */
  shutdown(): void {
    this.clearTimer();
    for (const conn of [...this.sockets.keys()]) this.drop(conn);
  }
}
