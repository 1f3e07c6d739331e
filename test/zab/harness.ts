// A hand-driven ensemble of ZabCores for scripted interaction tests (etcd-raft's
// interaction_test style): nothing moves unless the test steps a core or delivers a message,
// and every effect is recorded as one line ("r2: send 1 ACKEPOCH", "r1: epochs a=1 c=0").

import { zabConfig, type ZabConfig } from '../../src/zab/config.js';
import type { Effect, ZabEvent } from '../../src/zab/effects.js';
import { messageSummary, type PeerMessage } from '../../src/zab/messages.js';
import { ZabCore, type ZabInit } from '../../src/zab/zab_core.js';
import { zxidToString, ZXID_ZERO } from '../../src/zab/zxid.js';

export interface InFlight {
  from: number;
  to: number;
  msg: PeerMessage;
}

export const EMPTY: ZabInit = { accepted_epoch: 0, current_epoch: 0, log_base: ZXID_ZERO, log: [], committed: ZXID_ZERO };

export function line(sid: number, e: Effect): string {
  switch (e.type) {
    case 'send':
      return `r${sid}: send ${e.to} ${messageSummary(e.msg)}`;
    case 'append':
      return `r${sid}: append ${e.entries.map((x) => zxidToString(x.zxid)).join(',')}`;
    case 'persist_epochs':
      return `r${sid}: epochs a=${e.accepted_epoch} c=${e.current_epoch}`;
    case 'commit':
      return `r${sid}: commit ${zxidToString(e.to)}`;
    case 'truncate':
      return `r${sid}: truncate ${zxidToString(e.to)}`;
    case 'apply_snapshot':
      return `r${sid}: snapshot ${zxidToString(e.zxid)}`;
    case 'role':
      return `r${sid}: role ${e.state} ${e.phase}`;
    case 'disconnect':
      return `r${sid}: disconnect ${e.peer}`;
    case 'snapshot_needed':
      return `r${sid}: snapshot_needed ${e.peer}`;
    case 'write_rejected':
      return `r${sid}: write_rejected (${e.reason})`;
    case 'protocol_error':
      return `r${sid}: protocol_error ${e.peer}`;
  }
}

export class Harness {
  readonly cores = new Map<number, ZabCore>();
  readonly inflight: InFlight[] = [];
  readonly lines: string[] = [];
  private readonly started = new Set<number>();
  /** Report every append as durable right after the step that made it. */
  auto_persist = true;

  constructor(voters: number[], observers: number[] = [], over: Partial<ZabConfig> = {}, inits: Record<number, ZabInit> = {}) {
    for (const sid of [...voters, ...observers]) {
      const cfg = zabConfig(sid, voters, observers, { election: { finalize_ticks: 0, notify_ticks_min: 2, notify_ticks_max: 8 }, ...over });
      this.cores.set(sid, new ZabCore(cfg, inits[sid] ?? EMPTY));
    }
  }

  /** A core with a configuration of its own (a server joining with its own view of the members). */
  addCore(sid: number, voters: number[], observers: number[] = [], over: Partial<ZabConfig> = {}, init: ZabInit = EMPTY): ZabCore {
    const cfg = zabConfig(sid, voters, observers, { election: { finalize_ticks: 0, notify_ticks_min: 2, notify_ticks_max: 8 }, ...over });
    const core = new ZabCore(cfg, init);
    this.cores.set(sid, core);
    return core;
  }

  core(sid: number): ZabCore {
    const c = this.cores.get(sid);
    if (c === undefined) throw new Error(`no core ${sid}`);
    return c;
  }

  /** Steps one core; sends go in flight; returns the effects. */
  step(sid: number, ev: ZabEvent): Effect[] {
    if (ev.type === 'start') this.started.add(sid);
    else if (!this.started.has(sid)) return []; // a replica not started yet: the message is lost
    const effects = this.core(sid).step(ev);
    let appended = false;
    for (const e of effects) {
      this.lines.push(line(sid, e));
      if (e.type === 'send') this.inflight.push({ from: sid, to: e.to, msg: e.msg });
      if (e.type === 'append') appended = true;
    }
    if (appended && this.auto_persist) effects.push(...this.step(sid, { type: 'persisted', zxid: this.core(sid).window.last() }));
    return effects;
  }

  startAll(): void {
    for (const sid of this.cores.keys()) this.step(sid, { type: 'start' });
  }

  /** Delivers the first in-flight message matching `pred`; returns its receiver's effects. */
  deliver(pred: (m: InFlight) => boolean = () => true): Effect[] {
    const i = this.inflight.findIndex(pred);
    if (i < 0) throw new Error('deliver: no such message in flight');
    const [m] = this.inflight.splice(i, 1);
    return this.step(m.to, { type: 'message', from: m.from, msg: m.msg });
  }

  /** Delivers everything (and what it causes), dropping messages `drop` selects. */
  deliverAll(drop: (m: InFlight) => boolean = () => false, max = 10_000): void {
    for (let i = 0; this.inflight.length > 0; i++) {
      if (i >= max) throw new Error('deliverAll: no quiescence');
      const m = this.inflight.shift() as InFlight;
      if (!drop(m)) this.step(m.to, { type: 'message', from: m.from, msg: m.msg });
    }
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const sid of this.cores.keys()) this.step(sid, { type: 'tick' });
  }

  /** Delivers and ticks until every core serves (at most `rounds` ticks). */
  settle(rounds = 50): void {
    for (let i = 0; i < rounds; i++) {
      this.deliverAll();
      if ([...this.cores.values()].every((c) => c.serving)) return;
      this.tickAll(1);
    }
    throw new Error(`settle: not every core serves after ${rounds} ticks`);
  }

  /** Lines recorded since `mark` (an index into `lines`). */
  since(mark: number): string[] {
    return this.lines.slice(mark);
  }
}
