// Simulated peer connections: one FIFO connection per pair of replicas, two directions.
//
// Each direction delivers in send order (a later message never overtakes an earlier one, even
// with a shorter drawn delay). A direction can be clogged (held until a time), partitioned
// (held until healed: nothing is lost, TCP-like) and the connection can be reset: both
// directions drop what they hold, the incarnation changes, and both ends get a reset
// notification at once, before anything of the new connection can arrive (min delay >= 1).

import type { Rng } from './prng.js';

export interface NetConfig {
  readonly delay_ms_min: number;
  readonly delay_ms_max: number;
  /** Chance that one message takes a long delay (up to spike_ms_max): reordering across links. */
  readonly spike_chance: number;
  readonly spike_ms_max: number;
}

interface Held {
  readonly bytes: Uint8Array;
  readonly ready_at: number;
}

class Direction {
  queue: Held[] = [];
  head = 0;
  incarnation = 0;
  /** Partition blocks stacked on this direction (blocked while > 0). */
  blocks = 0;
  clog_until = 0;
  /** Time of the scheduled pump, or null. */
  pump_at: number | null = null;
  /** Last scheduled delivery time: FIFO floor for the next message. */
  last_ready = 0;

  constructor(
    readonly from: number,
    readonly to: number,
  ) {}

  get pending(): number {
    return this.queue.length - this.head;
  }
}

export interface NetHooks {
  schedule(time: number, run: () => void): void;
  now(): number;
  /** Deliver one message (the receiver may be down: then it is dropped). */
  deliver(from: number, to: number, bytes: Uint8Array): void;
  /** The ends of connection a-b learn it was reset (all but `initiator`, which closed it). */
  reset(a: number, b: number, initiator: number | null): void;
}

export class Network {
  private readonly dirs = new Map<string, Direction>();
  sent = 0;
  delivered = 0;

  constructor(
    private readonly rng: Rng,
    private readonly cfg: NetConfig,
    private readonly hooks: NetHooks,
  ) {}

  private dir(from: number, to: number): Direction {
    const key = `${from}>${to}`;
    let d = this.dirs.get(key);
    if (d === undefined) {
      d = new Direction(from, to);
      this.dirs.set(key, d);
    }
    return d;
  }

  send(from: number, to: number, bytes: Uint8Array): void {
    const d = this.dir(from, to);
    const now = this.hooks.now();
    const spike = this.rng.chance(this.cfg.spike_chance) ? this.rng.int(0, this.cfg.spike_ms_max) : 0;
    const delay = this.rng.int(this.cfg.delay_ms_min, this.cfg.delay_ms_max) + spike;
    const ready_at = Math.max(now + Math.max(1, delay), d.last_ready);
    d.last_ready = ready_at;
    d.queue.push({ bytes, ready_at });
    this.sent += 1;
    this.schedulePump(d);
  }

  /** Drops everything on connection a-b and tells the ends (the caller's hook). */
  reset(a: number, b: number, initiator: number | null = null): void {
    for (const d of [this.dir(a, b), this.dir(b, a)]) {
      d.queue = [];
      d.head = 0;
      d.incarnation += 1;
      d.pump_at = null;
    }
    this.hooks.reset(a, b, initiator);
  }

  /** Blocks (or unblocks) from -> to; blocks stack (overlapping partitions). */
  block(from: number, to: number, on: boolean): void {
    const d = this.dir(from, to);
    d.blocks = Math.max(0, d.blocks + (on ? 1 : -1));
    if (d.blocks === 0) this.schedulePump(d);
  }

  clog(from: number, to: number, until: number): void {
    const d = this.dir(from, to);
    d.clog_until = Math.max(d.clog_until, until);
  }

  /** Removes every partition and clog. */
  healAll(): void {
    const now = this.hooks.now();
    for (const d of this.dirs.values()) {
      d.blocks = 0;
      d.clog_until = Math.min(d.clog_until, now);
      d.pump_at = null; // queues are kept: healing delivers what was held, in order
      this.schedulePump(d);
    }
  }

  isBlocked(from: number, to: number): boolean {
    return this.dir(from, to).blocks > 0;
  }

  /** Messages held on from -> to. */
  held(from: number, to: number): number {
    return this.dir(from, to).pending;
  }

  private schedulePump(d: Direction): void {
    if (d.pending === 0 || d.blocks > 0) return;
    const at = Math.max(d.queue[d.head].ready_at, d.clog_until, this.hooks.now());
    if (d.pump_at !== null && d.pump_at <= at) return;
    d.pump_at = at;
    const inc = d.incarnation;
    this.hooks.schedule(at, () => this.pump(d, inc, at));
  }

  private pump(d: Direction, inc: number, at: number): void {
    if (d.incarnation !== inc || d.pump_at !== at) return; // superseded
    d.pump_at = null;
    const now = this.hooks.now();
    while (d.pending > 0 && d.blocks === 0 && d.clog_until <= now && d.incarnation === inc) {
      const m = d.queue[d.head];
      if (m.ready_at > now) break;
      d.head += 1;
      if (d.head > 256 && d.head * 2 > d.queue.length) {
        d.queue = d.queue.slice(d.head);
        d.head = 0;
      }
      this.delivered += 1;
      this.hooks.deliver(d.from, d.to, m.bytes);
    }
    if (d.incarnation === inc) this.schedulePump(d);
  }
}
