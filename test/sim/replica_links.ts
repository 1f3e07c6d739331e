// The replica simulator's links between "threads": the product's own rings (src/ring, a
// SharedArrayBuffer used from one thread) behind the product's LinkWriter / LinkReader
// (src/workers/link.ts), so a full ring parks frames in the writer's overflow queue, large
// messages travel in pieces, and a consumer sees a ring slot only during its poll callback,
// exactly as between the real threads. Capacities are drawn per seed, small ones included.
//
// What the drivers do around a link is modelled by the simulator (replica_sim.ts): an owner
// stops taking input while one of its outputs is `blocked`, and a drain step moves overflow
// frames into the ring once a consumer freed space (the drivers' drainAsync). The net worker's
// pausing of the sockets that feed a full ring is NetBackpressure below (ring_backpressure.ts).

import { Ring } from '../../src/ring/ring.js';
import type { FrameSink } from '../../src/workers/frame_sink.js';
import { type HeadWriter, LinkReader, LinkWriter } from '../../src/workers/link.js';

/** One ring's geometry. */
export interface RingShape {
  /** Power of two in [4 KiB, 1 GiB] (the ring's own bounds). */
  readonly capacity_bytes: number;
  /** Largest frame; smaller than the default (capacity / 2 - 4) sends more messages in pieces.
   *  At least 64: the largest link head (an APPLIED createSession, 51 bytes) and a first
   *  piece's own head (6) must fit in one frame with a byte of body. */
  readonly frame_bytes_max: number | null;
}

/** Smallest frame_bytes_max a shape may ask for (see RingShape). */
export const FRAME_BYTES_MAX_MIN = 64;

export interface LinkCounters {
  /** Frames sent while the writer was blocked or that did not fit: they went to the overflow. */
  overflowed: number;
  /** The most bytes a ring of this kind held unread by its slowest reader (after a send). */
  filled_max: number;
  /** Drain steps that emptied an overflow. */
  drained: number;
}

/** One producer, `consumers` readers (the commit stream has one per shard). */
export class SimLink implements FrameSink {
  readonly writer: LinkWriter;
  readonly readers: LinkReader[] = [];
  /** freeBytes() when a drain last stopped short; a new drain is worth trying only once a
   *  consumer freed more (the drivers' drainAsync waits for exactly that). */
  private stuck_free: number | null = null;

  constructor(
    readonly name: string,
    shape: RingShape,
    consumers: number,
    private readonly counters: LinkCounters,
  ) {
    if (shape.frame_bytes_max !== null && shape.frame_bytes_max < FRAME_BYTES_MAX_MIN) {
      throw new Error(`sim link ${name}: frame_bytes_max ${shape.frame_bytes_max} is under ${FRAME_BYTES_MAX_MIN}`);
    }
    const sab = Ring.create({ capacity_bytes: shape.capacity_bytes, consumers, ...(shape.frame_bytes_max === null ? {} : { frame_bytes_max: shape.frame_bytes_max }) });
    this.writer = new LinkWriter(Ring.attachProducer(sab), []);
    for (let i = 0; i < consumers; i++) this.readers.push(new LinkReader(Ring.attachConsumer(sab, i)));
  }

  /** True while frames wait in the writer's overflow queue. */
  get blocked(): boolean {
    return this.writer.blocked;
  }

  send(head: HeadWriter, body?: Uint8Array, body_start?: number, body_end?: number): void {
    const was_blocked = this.writer.blocked;
    this.writer.send(head, body, body_start, body_end);
    for (const r of this.readers) this.counters.filled_max = Math.max(this.counters.filled_max, r.ring.availableBytes());
    if (this.writer.blocked) {
      this.counters.overflowed++;
      if (!was_blocked) this.stuck_free = null;
    }
  }

  /**
   * One ring frame only if it fits now and nothing waits in the overflow (LinkWriter.trySend:
   * the net worker's direct writes); false, nothing sent, otherwise.
   */
  trySend(head: HeadWriter, body: Uint8Array): boolean {
    if (!this.writer.trySend(head, body)) return false;
    for (const r of this.readers) this.counters.filled_max = Math.max(this.counters.filled_max, r.ring.availableBytes());
    return true;
  }

  /** Publishes what was written (the drivers flush once per turn). */
  flush(): void {
    this.writer.flush();
  }

  /** LinkWriter.drain as a driver calls it every turn: overflow into the ring if there is any
   *  (counted as a drain step), and what was written published either way. */
  publish(): void {
    if (this.writer.blocked) this.drain();
    else this.writer.flush();
  }

  /** Whether a drain step could move a frame now. */
  canDrain(): boolean {
    if (!this.writer.blocked) return false;
    return this.stuck_free === null || this.writer.ring.freeBytes() > this.stuck_free;
  }

  /** Moves overflow frames into the ring (LinkWriter.drain flushes); true once it is empty. */
  drain(): boolean {
    const empty = this.writer.drain();
    if (empty) {
      this.counters.drained++;
      this.stuck_free = null;
    } else {
      this.stuck_free = this.writer.ring.freeBytes();
    }
    return empty;
  }

  /** Frames published and not read by reader `i`. */
  hasData(i = 0): boolean {
    return this.readers[i]!.hasData();
  }
}

/** What NetBackpressure pauses: a simulated client's socket. */
export interface PausableConn {
  paused_by_ring: boolean;
}

/**
 * The net worker's side of one net -> shard link (net/ring_backpressure.ts): a connection whose
 * data went in while the link was blocked stops being read; all of them are read again once the
 * overflow has drained. `paused_count` is topology.net_paused_for_ring for this shard (the
 * commit worker defers expiry while it is not 0).
 */
export class NetBackpressure<C extends PausableConn> {
  private readonly paused = new Set<C>();

  constructor(readonly link: SimLink) {}

  get paused_count(): number {
    return this.paused.size;
  }

  /** After every send and flush on the link: pause `conn` if the link is blocked. */
  afterSend(conn: C | null): void {
    if (!this.link.blocked || conn === null || this.paused.has(conn)) return;
    this.paused.add(conn);
    conn.paused_by_ring = true;
  }

  /** The socket closed: never resume it. */
  forget(conn: C): void {
    this.paused.delete(conn);
  }

  /** One drain step (the drain loop's wake-up); resumes everyone once the overflow is empty. */
  drain(): C[] {
    if (!this.link.drain()) return [];
    const resumed = [...this.paused];
    this.paused.clear();
    for (const c of resumed) c.paused_by_ring = false;
    return resumed;
  }
}
