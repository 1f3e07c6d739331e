// Drives one session with one of three loops:
//  - closed: keeps `outstanding_max` requests in flight (the paper's saturation benchmark);
//  - open:   sends at a fixed rate; a request's latency counts from its scheduled time, so a slow
//            server cannot hide queueing (no coordinated omission). When `outstanding_max` are in
//            flight, due requests wait in a bounded backlog; past it they are dropped and counted;
//  - create_sync: the paper's Table 2 worker: a synchronous create, then an async delete of it;
//  - phases: Apache ZooKeeper's C load_gen, request for request: create key_count znodes, set
//            them all, get them all, delete them all, each phase fully in flight and drained
//            before the next; used to validate this generator against load_gen itself.

import { Op, Perms } from '../../dist/protocol/index.js';
import type { ACL } from '../../dist/protocol/index.js';
import { Fifo } from './fifo.js';
import { OpMix, type OpKind } from './mix.js';
import { mulberry32 } from '../../dist/check/prng.js';
import type { Recorder } from './recorder.js';
import type { BenchSession, Pending } from './session.js';

export type LoopMode = 'closed' | 'open' | 'create_sync' | 'phases';

/** Modes that create their own znodes (the key space is only the root). */
export function ownsKeys(mode: LoopMode): boolean {
  return mode === 'create_sync' || mode === 'phases';
}

/** One completed phase of the 'phases' loop. */
export interface PhaseRecord {
  readonly kind: OpKind;
  readonly start_ms: number;
  readonly end_ms: number;
  readonly count: number;
}

const PHASE_ORDER: readonly OpKind[] = ['create', 'write', 'read', 'delete'];

export interface ClientPlan {
  readonly mode: LoopMode;
  /** 0..1; closed and open loops only. */
  readonly read_fraction: number;
  /** Bound on requests in flight per session (the paper: 100). */
  readonly outstanding_max: number;
  readonly value_bytes: number;
  /** Size of the key space (znodes created before the run). */
  readonly key_count: number;
  /** Parent of every znode the run touches. */
  readonly root: string;
  /** Open loop only: requests per second for this client. */
  readonly rate_per_s: number;
}

const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];
const KIND_BY_TAG: readonly OpKind[] = ['read', 'write', 'create', 'delete'];
const TAG = { read: 0, write: 1, create: 2, delete: 3 } as const;
/** Open loop: at most this many seconds of due requests wait before they are dropped. */
const BACKLOG_SECONDS = 1;

/** Open loop: a client's start offset within its send interval, in [0, 1), from its seed. */
export function sendPhase(client_seed: number): number {
  return mulberry32(client_seed ^ 0x5bd1e995)();
}

/** Shared by the clients of one thread: the key paths and the value. */
export interface LoopShared {
  /** Path of key k, built per request: an array of a million paths kept in each load thread
   *  made its major GCs pause for tens of ms, inflating the tail latency measured at 1M keys
   *  (bench/tree_scale.mjs) for whichever server was measured. */
  readonly keyPath: (k: number) => string;
  readonly value: Uint8Array;
  readonly recorder: Recorder;
}

export class ClientLoop {
  private readonly mix: OpMix;
  private stopping = false;
  private next_due_ms = 0;
  /** Open loop: where in its send interval this client starts, in [0, 1). Independent clients
   *  are not in step: without a phase, every client would send in the same millisecond, and the
   *  server would see bursts of `clients` requests once per interval instead of a steady rate. */
  private readonly send_phase: number;
  private readonly backlog = new Fifo<number>(64);
  private create_seq = 0;
  /** Requests dropped by the open loop because the backlog was full. */
  dropped = 0;
  /** 'phases' mode: index into PHASE_ORDER, replies still due in it, when it began. */
  private phase = 0;
  private phase_left = 0;
  private phase_start_ms = 0;
  readonly phase_log: PhaseRecord[] = [];

  constructor(
    private readonly session: BenchSession,
    private readonly plan: ClientPlan,
    private readonly shared: LoopShared,
    seed: number,
    /** Unique per client in the run: names its create_sync nodes. */
    private readonly client_name: string,
  ) {
    this.mix = new OpMix(plan.read_fraction, Math.max(1, plan.key_count), seed);
    this.send_phase = sendPhase(seed);
    session.on_reply = (p, err) => this.onReply(p, err);
  }

  get in_flight(): number {
    return this.session.in_flight;
  }

  start(now_ms: number): void {
    if (this.plan.mode === 'closed') {
      for (let i = 0; i < this.plan.outstanding_max; i++) this.sendMix(now_ms);
    } else if (this.plan.mode === 'create_sync') {
      this.sendCreate(now_ms);
    } else if (this.plan.mode === 'phases') {
      this.startPhase(now_ms);
    } else {
      this.next_due_ms = now_ms + (this.send_phase * 1000) / this.plan.rate_per_s;
    }
  }

  /** Open loop: sends (or backlogs) every request due by `now_ms`. */
  tick(now_ms: number): void {
    if (this.plan.mode !== 'open' || this.stopping) return;
    const interval_ms = 1000 / this.plan.rate_per_s;
    const backlog_max = Math.max(this.plan.outstanding_max, Math.ceil(this.plan.rate_per_s * BACKLOG_SECONDS));
    for (; this.next_due_ms <= now_ms; this.next_due_ms += interval_ms) {
      if (this.session.in_flight < this.plan.outstanding_max && this.backlog.size === 0) this.sendMix(this.next_due_ms);
      else if (this.backlog.size < backlog_max) this.backlog.push(this.next_due_ms);
      else this.dropped++;
    }
  }

  stop(): void {
    this.stopping = true;
  }

  private onReply(p: Pending, err: number): void {
    const now = performance.now();
    const kind = KIND_BY_TAG[p.tag]!;
    this.shared.recorder.record(kind, now - p.t_start_ms, now, err);
    if (this.stopping) return;
    if (this.plan.mode === 'closed') this.sendMix(now);
    else if (this.plan.mode === 'open') this.drainBacklog();
    else if (this.plan.mode === 'phases') this.afterPhaseReply(now);
    else if (kind === 'create') this.afterCreate(now);
  }

  /** load_gen's loop: all key_count requests of one kind in flight, then the next kind. */
  private startPhase(now_ms: number): void {
    const kind = PHASE_ORDER[this.phase]!;
    this.phase_start_ms = now_ms;
    this.phase_left = this.plan.key_count;
    const { keyPath, value } = this.shared;
    for (let k = 0; k < this.plan.key_count; k++) {
      const path = keyPath(k);
      if (kind === 'create') this.session.send(Op.create, { path, data: value, acl: OPEN_ACL, flags: 0 }, 'CreateResponse', TAG.create, now_ms);
      else if (kind === 'write') this.session.send(Op.setData, { path, data: value, version: -1 }, 'SetDataResponse', TAG.write, now_ms);
      else if (kind === 'read') this.session.send(Op.getData, { path, watch: false }, 'GetDataResponse', TAG.read, now_ms);
      else this.session.send(Op.delete, { path, version: -1 }, null, TAG.delete, now_ms);
    }
  }

  private afterPhaseReply(now_ms: number): void {
    if (--this.phase_left > 0) return;
    const kind = PHASE_ORDER[this.phase]!;
    this.phase_log.push({ kind, start_ms: this.phase_start_ms, end_ms: now_ms, count: this.plan.key_count });
    this.phase = (this.phase + 1) % PHASE_ORDER.length;
    this.startPhase(now_ms);
  }

  private drainBacklog(): void {
    while (this.backlog.size > 0 && this.session.in_flight < this.plan.outstanding_max) {
      this.sendMix(this.backlog.shift()!);
    }
  }

  private sendMix(t_start_ms: number): void {
    const choice = this.mix.next();
    const path = this.shared.keyPath(choice.key);
    if (choice.kind === 'read') {
      this.session.send(Op.getData, { path, watch: false }, 'GetDataResponse', TAG.read, t_start_ms);
    } else {
      this.session.send(Op.setData, { path, data: this.shared.value, version: -1 }, 'SetDataResponse', TAG.write, t_start_ms);
    }
  }

  private createPath(seq: number): string {
    return `${this.plan.root}/${this.client_name}-${seq}`;
  }

  private sendCreate(t_start_ms: number): void {
    const path = this.createPath(this.create_seq);
    this.session.send(Op.create, { path, data: this.shared.value, acl: OPEN_ACL, flags: 0 }, 'CreateResponse', TAG.create, t_start_ms);
  }

  /** Table 2: the create returned; delete it asynchronously and start the next create at once. */
  private afterCreate(now_ms: number): void {
    const path = this.createPath(this.create_seq);
    this.session.send(Op.delete, { path, version: -1 }, null, TAG.delete, now_ms);
    this.create_seq++;
    this.sendCreate(now_ms);
  }
}
