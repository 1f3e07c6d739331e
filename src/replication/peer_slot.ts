// What the transport knows about one other replica: its address, the one connection with it (if
// any), the dial in progress (dialer side only), the messages waiting for the next connection,
// and counters.
//
// Invariants:
// - at most one of `link` (an open connection) and `dialing` (a TCP connect in progress) is set;
// - `queue` is empty while `link` is set: once a connection exists every frame goes straight to
//   its socket (whose own buffer then counts against queue_bytes_max);
// - `queued_bytes` is the sum of the lengths of every part of every frame in `queue`.

import type { Socket } from 'node:net';
import { DialBackoff } from './dial_backoff.js';
import { ZabFrameCutter } from './zab_frame_cutter.js';

/** One established connection with a peer. `open` turns false once, when it is closed. */
export class Link {
  open = true;
  /** Writes of this tick are corked and leave in one writev on the next tick, or at uncork(). */
  corked = false;
  /** The last socket error, to say why the connection closed. */
  error: string | null = null;
  /** Bytes came from the peer: it took the connection (an acceptor that refuses a hello sends
   *  nothing), so the dial back-off starts over. */
  heard = false;
  readonly cutter: ZabFrameCutter;

  constructor(
    readonly socket: Socket,
    readonly remote: string,
    frame_bytes_max: number,
  ) {
    this.cutter = new ZabFrameCutter(frame_bytes_max);
  }

  /** Starts holding writes back until uncork(), which must follow within this tick. */
  cork(): void {
    this.corked = true;
    this.socket.cork();
  }

  /** Sends what cork() held back (one writev); a no-op when nothing is corked. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }
}

export class PeerSlot {
  link: Link | null = null;
  dialing: Socket | null = null;
  retry_timer: NodeJS.Timeout | null = null;
  /** Dials have failed since the last connection (so only the first failure is logged). */
  dial_failing = false;
  queue: (readonly Uint8Array[])[] = [];
  queued_bytes = 0;
  sent_msgs = 0;
  recv_msgs = 0;
  resets = 0;
  readonly backoff: DialBackoff;

  /** False once a reconfig removed the peer: not dialed, its hello refused, sends dropped. */
  member = true;

  constructor(
    readonly sid: number,
    public host: string,
    public port: number,
    /** True when this replica dials the peer (its sid is above the peer's). */
    readonly dials: boolean,
    backoff: DialBackoff,
  ) {
    this.backoff = backoff;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Queues one frame, given as the parts written one after the other (see encodeMessageParts). */
  enqueue(frame: readonly Uint8Array[]): void {
    this.queue.push(frame);
    for (const part of frame) this.queued_bytes += part.length;
  }

  /** Empties the queue and returns what it held, in order. */
  takeQueue(): (readonly Uint8Array[])[] {
    const frames = this.queue;
    this.queue = [];
    this.queued_bytes = 0;
    return frames;
  }
}
