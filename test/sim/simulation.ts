// A deterministic simulator of a Zab ensemble (TigerBeetle's VOPR, FoundationDB's simulation):
// one process, one thread, simulated milliseconds, every random choice from one seeded PRNG.
//
// Each replica is a ZabCore + a simulated disk (epochs, a snapshot, a log with a durable prefix
// and an unsynced suffix, one fsync in flight) + an applier (app.ts). The driver executes the
// core's effects the way a real one must (in order; epochs, truncation, snapshots durable at
// once; appends durable when a later fsync completes). Faults: message delays and spikes, clogs,
// symmetric and one-way partitions, connection resets, disk faults (the replica halts until it is
// restarted), crashes that lose the unsynced suffix or
// keep a torn part of it, restarts, slow fsyncs, reconfigs of voters and observers (the core
// learns a reconfig when it enters its log; the driver reports the committed membership when it
// applies one and after a SNAP, as the commit worker does; a restart starts from the snapshot's
// membership with the log's reconfigs in flight). Clients write through any serving replica and
// record what was acknowledged. Invariants: invariants.ts.

import { zabConfig, type ZabConfig } from '../../src/zab/config.js';
import type { Effect } from '../../src/zab/effects.js';
import type { LogEntry } from '../../src/zab/log_window.js';
import { decodeMessage, encodeMessage, messageSummary } from '../../src/zab/messages.js';
import { ZabCore, type ZabEvent } from '../../src/zab/zab_core.js';
import { zxidLe, zxidLt, zxidMin, zxidToString, ZXID_ZERO, type Zxid } from '../../src/zab/zxid.js';
import { applyTxn, cloneApp, decodeSnapshot, digestOf, emptyApp, encodeReconfig, encodeSnapshot, encodeWrite, reconfigSpecOf, writeId, writeIdOf, type AppState, type SimMembership } from './app.js';
import type { MembershipSpec } from '../../src/zab/membership.js';
import { EventQueue } from './event_queue.js';
import { Checker, SimFailure } from './invariants.js';
import { Network, type NetConfig } from './network.js';
import { Rng } from './prng.js';

export type Range = readonly [number, number];


export interface SimOptions {
  readonly seed: number;
  readonly voters: number;
  readonly observers: number;
  readonly tick_ms: number;
  readonly net: NetConfig;
  readonly fsync_ms: Range;
  readonly slow_fsync_ms: Range;
  readonly zab: Partial<ZabConfig>;
  readonly clients: number;
  readonly client_pipeline_max: number;
  readonly write_gap_ms: Range;
  readonly client_timeout_ms: number;
  readonly filler_bytes_max: number;
  /** Applied txns between local snapshots (log compaction); 0 = never. */
  readonly local_snapshot_every: number;
  readonly snapshot_delay_ms: Range;
  /** Crashes keep a random part of the unsynced suffix (a torn tail cut at a record). */
  readonly torn_tail: boolean;
  /** Keep every trace line (else the last TRACE_TAIL). */
  readonly keep_trace: boolean;
}

export const SIM_DEFAULTS: Omit<SimOptions, 'seed'> = {
  voters: 3,
  observers: 0,
  tick_ms: 10,
  net: { delay_ms_min: 1, delay_ms_max: 3, spike_chance: 0.01, spike_ms_max: 40 },
  fsync_ms: [1, 4],
  slow_fsync_ms: [20, 150],
  zab: {
    init_limit_ticks: 20,
    sync_limit_ticks: 10,
    ping_ticks: 2,
    info_retry_ticks: 2,
    election: { finalize_ticks: 1, notify_ticks_min: 2, notify_ticks_max: 20 },
    committed_log_max: 20,
    in_flight_max: 8,
    pending_max: 64,
  },
  clients: 3,
  client_pipeline_max: 2,
  write_gap_ms: [2, 30],
  client_timeout_ms: 400,
  filler_bytes_max: 24,
  local_snapshot_every: 0,
  snapshot_delay_ms: [1, 15],
  torn_tail: true,
  keep_trace: false,
};

const TRACE_TAIL = 3000;

interface PendingWrite {
  readonly client: SimClient;
  readonly seq: number;
}

export class SimReplica {
  up = false;
  /** Bumped on crash and restart: events of an earlier life are ignored. */
  gen = 0;
  core: ZabCore | null = null;
  // ---- disk (survives crashes) ----
  accepted_epoch = 0;
  current_epoch = 0;
  snap: AppState = emptyApp();
  /** Log entries after snap.zxid. */
  log: LogEntry[] = [];
  /** Every log entry <= durable is on disk. */
  durable: Zxid = ZXID_ZERO;
  /** The committed membership of the last reconfig this replica applied, written durably when
   *  it applied it (the commit worker's `membership` file); null before any. */
  membership_file: SimMembership | null = null;
  fsync: { target: Zxid; token: number } | null = null;
  fsync_token = 0;
  slow_until = 0;
  /** The disk failed (diskFault): no fsync completes, the core is halted; a restart clears it
   *  (the disk is fixed first). */
  disk_failed = false;
  /** A process pause (a long GC, a stopped VM): no ticks and nothing received until then. */
  paused_until = 0;
  // ---- memory (lost on crash) ----
  app: AppState = emptyApp();
  role: Extract<Effect, { type: 'role' }> | null = null;
  readonly pending = new Map<number, PendingWrite>();
  applied_since_snapshot = 0;
  /** Sync heads received (DIFF/TRUNC/SNAP), for scenario tests. */
  readonly sync_heads: string[] = [];

  constructor(
    readonly sid: number,
    readonly observer: boolean,
  ) {}

  lastZxid(): Zxid {
    return this.log.length === 0 ? this.snap.zxid : this.log[this.log.length - 1].zxid;
  }

  get serving(): boolean {
    return this.up && this.core !== null && this.core.serving;
  }

  get leading(): boolean {
    return this.serving && this.core?.state === 'LEADING';
  }
}

export class SimClient {
  next_seq = 1;
  readonly pending = new Map<number, { replica: number; at: number }>();
  acked = 0;
  unknown = 0;
  rejected = 0;
  stopped = false;

  constructor(
    readonly id: number,
    public replica: number,
  ) {}
}

export interface SimStats {
  events: number;
  messages: number;
  acked: number;
  unknown: number;
  rejected: number;
  epochs: number;
  crashes: number;
  /** Disk faults that halted a replica (leaders among them). */
  disk_faults: number;
  leader_disk_faults: number;
  syncs: Record<string, number>;
  /** Reconfigs committed (applied somewhere) that changed the voters. */
  voter_reconfigs: number;
}

export class Simulation {
  now = 0;
  readonly rng: Rng;
  readonly queue = new EventQueue();
  readonly net: Network;
  readonly replicas = new Map<number, SimReplica>();
  readonly clients: SimClient[] = [];
  readonly checker: Checker;
  readonly opts: SimOptions;
  readonly lines: string[] = [];
  private h1 = 0x811c9dc5;
  private h2 = 0x01000193;
  events = 0;
  crashes = 0;
  disk_faults = 0;
  leader_disk_faults = 0;
  readonly syncs: Record<string, number> = { DIFF: 0, TRUNC: 0, SNAP: 0 };
  private readonly voter_ids: number[] = [];
  private readonly observer_ids: number[] = [];

  constructor(opts: Partial<SimOptions> & { seed: number }) {
    this.opts = { ...SIM_DEFAULTS, ...opts, zab: { ...SIM_DEFAULTS.zab, ...opts.zab } };
    this.rng = new Rng(this.opts.seed);
    this.checker = new Checker((l) => this.trace(l));
    this.net = new Network(this.rng.fork(), this.opts.net, {
      schedule: (t, run) => this.queue.push(t, run),
      now: () => this.now,
      deliver: (from, to, bytes) => this.deliver(from, to, bytes),
      reset: (a, b, initiator) => this.onConnectionReset(a, b, initiator),
    });
    for (let i = 1; i <= this.opts.voters; i++) this.voter_ids.push(i);
    for (let i = 1; i <= this.opts.observers; i++) this.observer_ids.push(this.opts.voters + i);
    for (const sid of this.voter_ids) this.replicas.set(sid, new SimReplica(sid, false));
    for (const sid of this.observer_ids) this.replicas.set(sid, new SimReplica(sid, true));
  }

  // ---- trace ---------------------------------------------------------------------------

  trace(line: string): void {
    const l = `${this.now} ${line}`;
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      this.h1 = Math.imul(this.h1 ^ c, 0x01000193) >>> 0;
      this.h2 = Math.imul(this.h2 ^ c, 0x5bd1e995) >>> 0;
    }
    this.h1 = Math.imul(this.h1 ^ 10, 0x01000193) >>> 0;
    this.lines.push(l);
    if (!this.opts.keep_trace && this.lines.length > 2 * TRACE_TAIL) this.lines.splice(0, this.lines.length - TRACE_TAIL);
  }

  /** Hash of every trace line so far: equal for equal runs. */
  get traceHash(): string {
    return `${this.h1.toString(16).padStart(8, '0')}${this.h2.toString(16).padStart(8, '0')}`;
  }

  // ---- running -------------------------------------------------------------------------

  schedule(delay_ms: number, run: () => void): void {
    this.queue.push(this.now + delay_ms, run);
  }

  /** Runs events until `pred` holds (checked after each event) or `max_ms` pass. */
  runUntil(pred: () => boolean, max_ms: number): boolean {
    const deadline = this.now + max_ms;
    if (pred()) return true;
    for (;;) {
      const t = this.queue.peekTime();
      if (t === null || t > deadline) {
        this.now = deadline;
        return pred();
      }
      const e = this.queue.pop();
      if (e === undefined) return pred();
      this.now = e.time;
      this.events += 1;
      e.run();
      if (pred()) return true;
    }
  }

  runFor(ms: number): void {
    this.runUntil(() => false, ms);
  }

  /** Starts every replica (but those in `down`, started later with `restart`) and the clients. */
  start(down: readonly number[] = []): void {
    for (const r of this.replicas.values()) if (!down.includes(r.sid)) this.boot(r);
    for (let i = 0; i < this.opts.clients; i++) this.addClient(this.rng.pick([...this.replicas.keys()]));
  }

  /** A client writing on its own (random gaps, sticky replica, up to client_pipeline_max). */
  addClient(replica: number): SimClient {
    const c = this.scriptedClient(replica);
    this.schedule(this.rng.int(0, this.opts.write_gap_ms[1]), () => this.clientLoop(c));
    return c;
  }

  /** A client that writes only when told (`submit`). */
  scriptedClient(replica: number): SimClient {
    const c = new SimClient(this.clients.length + 1, replica);
    this.clients.push(c);
    return c;
  }

  replica(sid: number): SimReplica {
    const r = this.replicas.get(sid);
    if (r === undefined) throw new Error(`no replica ${sid}`);
    return r;
  }

  /** The replica leading an established epoch (highest epoch if several think so). */
  leader(): SimReplica | null {
    let best: SimReplica | null = null;
    for (const r of this.replicas.values()) {
      if (r.leading && (best === null || (r.role?.epoch ?? 0) > (best.role?.epoch ?? 0))) best = r;
    }
    return best;
  }

  stats(): SimStats {
    let acked = 0;
    let unknown = 0;
    let rejected = 0;
    for (const c of this.clients) {
      acked += c.acked;
      unknown += c.unknown;
      rejected += c.rejected;
    }
    return { events: this.events, messages: this.net.delivered, acked, unknown, rejected, epochs: this.checker.established_epochs, crashes: this.crashes, disk_faults: this.disk_faults, leader_disk_faults: this.leader_disk_faults, syncs: { ...this.syncs }, voter_reconfigs: this.voter_reconfigs.size };
  }

  // ---- replica lifecycle ---------------------------------------------------------------

  private zabConfigFor(sid: number, m: MembershipSpec): ZabConfig {
    return zabConfig(sid, m.voters, m.observers, { ...this.opts.zab, membership_of: reconfigSpecOf });
  }

  // ---- reconfig (src/commit/reconfig_prep.ts; the commit worker's reconfigured / activate) ----

  /** The membership the ensemble starts with (zoo.cfg's). */
  get initial_membership(): SimMembership {
    return { version: ZXID_ZERO, voters: this.voter_ids, observers: this.observer_ids };
  }

  /** The committed membership a replica's state holds (its /zookeeper/config). */
  private membershipOf(a: AppState): SimMembership {
    return a.membership ?? this.initial_membership;
  }

  /** The driver reports the committed membership its state holds (after applying a reconfig, or
   *  installing a SNAP). A Zab event, queued: this may run inside another step's effects. */
  private activate(r: SimReplica, m: SimMembership): void {
    const gen = r.gen;
    this.schedule(0, () => {
      if (r.gen !== gen || !r.up || r.core === null) return;
      this.trace(`r${r.sid} membership ${zxidToString(m.version)} voters [${m.voters}] observers [${m.observers}]`);
      this.step(r, { type: 'membership', version: m.version, voters: m.voters, observers: m.observers });
    });
  }

  /**
   * Proposes a reconfig through the established leader, with prep's checks: none in flight, and
   * the new voters hold a quorum of the voters synced with the leader (NEWCONFIGNOQUORUM).
   * False when refused or there is no leader.
   */
  reconfig(m: MembershipSpec): boolean {
    const leader = this.leader();
    if (leader === null || !leader.serving || leader.core === null) return false;
    const core = leader.core;
    // One reconfig at a time, as prep does (RECONFIGINPROGRESS): a reconfig still queued behind
    // in_flight_max is not in the log yet. With two in flight, one that took a voter out and one
    // that gave it back its vote, the second in the leader's log alone, the leader needed that
    // server, which held itself removed and heard of no reconfig in flight (seed 74764).
    if (core.views.pending.length > 0 || core.queued_proposals > 0) return false;
    const synced = new Set(core.syncedVoters());
    if (m.voters.filter((s) => synced.has(s)).length < Math.floor(m.voters.length / 2) + 1) return false;
    this.trace(`RECONFIG voters [${m.voters}] observers [${m.observers}] via r${leader.sid}`);
    this.step(leader, { type: 'propose', txn: encodeReconfig(this.reconfig_seq++, m) });
    return true;
  }

  private reconfig_seq = 0;
  /** zxids of committed reconfigs that changed the voters (stats). */
  private readonly voter_reconfigs = new Set<string>();

  /** The committed membership of every serving replica's core ("voters|observers"), null while
   *  they differ or none serves. */
  activeMembership(): string | null {
    let seen: string | null = null;
    for (const r of this.replicas.values()) {
      if (r.core === null || !r.serving) continue;
      const qv = r.core.qv;
      const key = `${[...qv.voters].sort((a, b) => a - b)}|${[...qv.observers].sort((a, b) => a - b)}`;
      if (seen !== null && seen !== key) return null;
      seen = key;
    }
    return seen;
  }

  get sids(): readonly number[] {
    return [...this.voter_ids, ...this.observer_ids];
  }

  private boot(r: SimReplica): void {
    r.up = true;
    r.gen += 1;
    r.app = cloneApp(r.snap);
    r.durable = r.lastZxid();
    r.fsync = null;
    r.disk_failed = false;
    r.role = null;
    r.applied_since_snapshot = 0;
    this.checker.onSnapshot(r.sid, r.snap.zxid, digestOf(r.snap));
    // The snapshot's membership (committed state); the log's reconfigs are in flight until a
    // leader commits them. A server the snapshot's membership lacks (a reconfig removed it)
    // starts as a non-member of it: with zoo.cfg's instead, removed servers that are a quorum of
    // zoo.cfg's voters would elect a leader of their own (seed 39436).
    // The membership file, when newer, is the committed membership (a reconfig applied since
    // the snapshot; seed 97831).
    const snap_m = this.membershipOf(r.snap);
    const file_m = r.membership_file;
    const m = file_m !== null && zxidLt(snap_m.version, file_m.version) ? file_m : snap_m;
    r.core = new ZabCore(this.zabConfigFor(r.sid, m), {
      accepted_epoch: r.accepted_epoch,
      current_epoch: r.current_epoch,
      log_base: r.snap.zxid,
      log: r.log.slice(),
      committed: r.snap.zxid,
      membership_version: m.version,
    });
    this.step(r, { type: 'start' });
    const gen = r.gen;
    this.schedule(this.rng.int(1, this.opts.tick_ms), () => this.tickLoop(r, gen));
  }

  private tickLoop(r: SimReplica, gen: number): void {
    if (r.gen !== gen || !r.up) return;
    if (this.now < r.paused_until) return this.queue.push(r.paused_until, () => this.tickLoop(r, gen));
    this.step(r, { type: 'tick' });
    this.schedule(this.opts.tick_ms, () => this.tickLoop(r, gen));
  }

  /** Pauses replica `sid` until `until`: its clock stops and incoming messages wait. */
  pause(sid: number, until: number): void {
    const r = this.replica(sid);
    r.paused_until = Math.max(r.paused_until, until);
    for (const other of this.replicas.keys()) if (other !== sid) this.net.clog(other, sid, until);
  }

  /** Crash: memory lost, unsynced log suffix lost (or a torn part of it kept). */
  crash(sid: number): void {
    const r = this.replica(sid);
    if (!r.up) return;
    this.crashes += 1;
    r.up = false;
    r.gen += 1;
    r.core = null;
    r.fsync = null;
    const durable_count = r.log.filter((e) => zxidLe(e.zxid, r.durable)).length;
    const unsynced = r.log.length - durable_count;
    const keep = this.opts.torn_tail && unsynced > 0 ? this.rng.int(0, unsynced) : 0;
    r.log = r.log.slice(0, durable_count + keep);
    this.trace(`r${sid} CRASH kept ${durable_count}+${keep}/${durable_count + unsynced} log entries, last ${zxidToString(r.lastZxid())}`);
    this.failPending(r, 'crash');
    for (const other of this.replicas.keys()) if (other !== sid) this.net.reset(sid, other);
  }

  restart(sid: number): void {
    const r = this.replica(sid);
    if (r.up) return;
    this.trace(`r${sid} RESTART`);
    for (const other of this.replicas.keys()) if (other !== sid) this.net.reset(sid, other);
    this.boot(r);
  }

  /**
   * The replica's disk fails: the fsync in flight and every later one never complete, and the
   * driver halts the core and closes its links, as the commit worker does (leaveEnsemble). For
   * the others it is a crashed replica until `crash` + `restart` (the disk fixed) bring it back.
   */
  diskFault(sid: number): void {
    const r = this.replica(sid);
    if (!r.up || r.core === null || r.disk_failed) return;
    r.disk_failed = true;
    r.fsync = null;
    this.disk_faults += 1;
    if (r.leading) this.leader_disk_faults += 1;
    this.trace(`r${sid} DISK FAULT (durable ${zxidToString(r.durable)}, last ${zxidToString(r.lastZxid())})`);
    this.step(r, { type: 'halt', reason: 'disk fault' });
    for (const other of this.replicas.keys()) if (other !== sid) this.net.reset(sid, other, sid);
  }

  setSlowFsync(sid: number, until: number): void {
    this.replica(sid).slow_until = until;
  }

  // ---- network glue --------------------------------------------------------------------

  private deliver(from: number, to: number, bytes: Uint8Array): void {
    const r = this.replica(to);
    if (!r.up || r.core === null) return;
    const msg = decodeMessage(bytes);
    this.trace(`r${to}<r${from} ${messageSummary(msg)}`);
    if (msg.type === 'DIFF' || msg.type === 'TRUNC' || msg.type === 'SNAP') {
      r.sync_heads.push(msg.type);
      this.syncs[msg.type] += 1;
    }
    this.step(r, { type: 'message', from, msg });
  }

  /**
   * A connection reset: the ends that are up (but the one that closed it) learn it now, before
   * anything sent on the new connection can arrive (every delay is >= 1 ms).
   */
  private onConnectionReset(a: number, b: number, initiator: number | null): void {
    for (const [me, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const r = this.replica(me);
      const gen = r.gen;
      if (r.up && me !== initiator) this.queue.push(this.now, () => this.peerReset(r, gen, peer));
    }
  }

  private peerReset(r: SimReplica, gen: number, peer: number): void {
    if (r.gen !== gen || !r.up) return;
    this.trace(`r${r.sid} reset r${peer}`);
    this.step(r, { type: 'peer_reset', peer });
  }

  // ---- the driver: execute effects in order ----------------------------------------------

  step(r: SimReplica, ev: ZabEvent): void {
    if (r.core === null) return;
    const effects = r.core.step(ev);
    for (const e of effects) this.execute(r, e);
  }

  private execute(r: SimReplica, e: Effect): void {
    switch (e.type) {
      case 'send':
        if (this.replica(e.to).up) this.net.send(r.sid, e.to, encodeMessage(e.msg));
        return;
      case 'disconnect':
        this.trace(`r${r.sid} disconnect r${e.peer}`);
        return this.net.reset(r.sid, e.peer, r.sid);
      case 'append':
        return this.append(r, e.entries);
      case 'persist_epochs':
        this.trace(`r${r.sid} epochs a=${e.accepted_epoch} c=${e.current_epoch}`);
        r.accepted_epoch = e.accepted_epoch;
        r.current_epoch = e.current_epoch;
        return;
      case 'truncate':
        return this.truncate(r, e.to);
      case 'apply_snapshot':
        return this.applySnapshot(r, e.zxid, e.snapshot);
      case 'commit':
        return this.applyUpTo(r, e.to);
      case 'snapshot_needed':
        return this.produceSnapshot(r, e.peer);
      case 'role':
        return this.onRole(r, e);
      case 'write_rejected':
        return this.onRejected(r, e.txn);
      case 'protocol_error':
        return this.checker.fail(`r${r.sid} protocol error from r${e.peer}: ${e.detail}`);
    }
  }

  private append(r: SimReplica, entries: readonly LogEntry[]): void {
    for (const en of entries) {
      if (!zxidLt(r.lastZxid(), en.zxid)) throw new SimFailure(`r${r.sid} driver: append ${zxidToString(en.zxid)} after ${zxidToString(r.lastZxid())}`);
      r.log.push(en);
    }
    this.startFsync(r);
  }

  private startFsync(r: SimReplica): void {
    if (r.disk_failed || r.fsync !== null || !zxidLt(r.durable, r.lastZxid())) return;
    const token = ++r.fsync_token;
    r.fsync = { target: r.lastZxid(), token };
    const [lo, hi] = this.now < r.slow_until ? this.opts.slow_fsync_ms : this.opts.fsync_ms;
    const gen = r.gen;
    this.schedule(this.rng.int(lo, hi), () => this.fsyncDone(r, gen, token));
  }

  private fsyncDone(r: SimReplica, gen: number, token: number): void {
    if (r.gen !== gen || r.fsync === null || r.fsync.token !== token) return;
    if (zxidLt(r.durable, r.fsync.target)) r.durable = r.fsync.target;
    r.fsync = null;
    this.trace(`r${r.sid} fsync ${zxidToString(r.durable)}`);
    this.step(r, { type: 'persisted', zxid: r.durable });
    this.startFsync(r);
  }

  private truncate(r: SimReplica, to: Zxid): void {
    this.trace(`r${r.sid} truncate ${zxidToString(to)} (last ${zxidToString(r.lastZxid())})`);
    if (zxidLt(to, r.snap.zxid)) throw new SimFailure(`r${r.sid} driver: truncate below its snapshot`);
    r.log = r.log.filter((e) => zxidLe(e.zxid, to));
    r.durable = zxidMin(r.durable, to);
    if (r.fsync !== null) r.fsync.target = zxidMin(r.fsync.target, to);
    // The core drops the reconfigs it cut itself; what is left of the log is not known committed.
  }

  private applySnapshot(r: SimReplica, z: Zxid, bytes: Uint8Array): void {
    const app = decodeSnapshot(bytes);
    if (app.zxid.epoch !== z.epoch || app.zxid.counter !== z.counter) throw new SimFailure(`r${r.sid} SNAP zxid mismatch`);
    this.trace(`r${r.sid} load snapshot ${zxidToString(z)} ${digestOf(app)}`);
    this.checker.onSnapshot(r.sid, z, digestOf(app));
    r.app = app;
    r.snap = cloneApp(app);
    r.log = [];
    r.durable = z;
    r.fsync = null;
    this.activate(r, this.membershipOf(app));
  }

  /** The applier: every log entry after the applied zxid up to `to`, in order. */
  private applyUpTo(r: SimReplica, to: Zxid): void {
    let i = firstAfter(r.log, r.app.zxid);
    let n = 0;
    while (i < r.log.length && zxidLe(r.log[i].zxid, to)) {
      const e = r.log[i++];
      const prev = r.app.zxid;
      const voters_before = this.membershipOf(r.app).voters.join();
      applyTxn(r.app, e.zxid, e.txn);
      this.checker.onApply(r.sid, prev, e.zxid, digestOf(r.app), writeIdOf(e.txn));
      this.ackClient(r, e);
      const spec = reconfigSpecOf(e.txn);
      if (spec !== null) {
        if (spec.voters.join() !== voters_before) this.voter_reconfigs.add(zxidToString(e.zxid));
        r.membership_file = this.membershipOf(r.app);
        this.activate(r, this.membershipOf(r.app));
      }
      n += 1;
    }
    if (zxidLt(r.app.zxid, to)) this.checker.fail(`r${r.sid} asked to commit ${zxidToString(to)} but its log stops at ${zxidToString(r.app.zxid)}`);
    this.trace(`r${r.sid} applied ${n} to ${zxidToString(to)} ${digestOf(r.app)}`);
    r.applied_since_snapshot += n;
    if (this.opts.local_snapshot_every > 0 && r.applied_since_snapshot >= this.opts.local_snapshot_every) this.takeLocalSnapshot(r);
  }

  /** Log compaction: the applied state becomes the durable snapshot; older entries go. */
  private takeLocalSnapshot(r: SimReplica): void {
    r.snap = cloneApp(r.app);
    r.log = r.log.filter((e) => zxidLt(r.snap.zxid, e.zxid));
    r.applied_since_snapshot = 0;
    this.trace(`r${r.sid} local snapshot ${zxidToString(r.snap.zxid)}`);
  }

  /** The leader's driver pins the applied state now and hands it over after a while. */
  private produceSnapshot(r: SimReplica, peer: number): void {
    const pinned = encodeSnapshot(r.app);
    const z = r.app.zxid;
    const gen = r.gen;
    this.trace(`r${r.sid} snapshot for r${peer} at ${zxidToString(z)}`);
    this.schedule(this.rng.int(...this.opts.snapshot_delay_ms), () => {
      if (r.gen === gen && r.up) this.step(r, { type: 'snapshot_ready', peer, zxid: z, snapshot: pinned });
    });
  }

  private onRole(r: SimReplica, e: Extract<Effect, { type: 'role' }>): void {
    r.role = e;
    this.trace(`r${r.sid} ${e.state} ${e.phase} leader=${e.leader} e=${e.epoch} (${e.reason})`);
    if (e.state === 'LEADING' && e.phase === 'broadcast') this.checker.onEstablished(r.sid, e.epoch);
    if (!e.serving) this.failPending(r, 'not serving');
  }

  // ---- clients -------------------------------------------------------------------------

  private clientLoop(c: SimClient): void {
    if (c.stopped) return;
    this.expireClient(c);
    if (c.pending.size < this.opts.client_pipeline_max) {
      const r = this.replica(c.replica);
      if (r.serving) this.submit(c, r);
      else if (c.pending.size === 0) c.replica = this.rng.pick([...this.replicas.keys()]);
    }
    this.schedule(this.rng.int(...this.opts.write_gap_ms), () => this.clientLoop(c));
  }

  /** Submits one write of client `c` through replica `r` (which must be up). */
  submit(c: SimClient, r: SimReplica): number {
    const seq = c.next_seq++;
    const txn = encodeWrite(c.id, seq, this.rng.int(0, this.opts.filler_bytes_max));
    c.pending.set(seq, { replica: r.sid, at: this.now });
    r.pending.set(writeId(c.id, seq), { client: c, seq });
    this.trace(`c${c.id} write ${seq} via r${r.sid}`);
    this.step(r, { type: 'propose', txn });
    return seq;
  }

  private expireClient(c: SimClient): void {
    for (const [seq, p] of [...c.pending]) {
      if (this.now - p.at < this.opts.client_timeout_ms) continue;
      c.pending.delete(seq);
      c.unknown += 1;
      this.replica(p.replica).pending.delete(writeId(c.id, seq));
      this.trace(`c${c.id} write ${seq} timed out`);
    }
  }

  private ackClient(r: SimReplica, e: LogEntry): void {
    const id = writeIdOf(e.txn);
    const p = r.pending.get(id);
    if (p === undefined) return;
    r.pending.delete(id);
    p.client.pending.delete(p.seq);
    p.client.acked += 1;
    this.trace(`c${p.client.id} ack ${p.seq} at ${zxidToString(e.zxid)}`);
    this.checker.onAck(p.client.id, p.seq, id, e.zxid);
  }

  private onRejected(r: SimReplica, txn: Uint8Array): void {
    const id = writeIdOf(txn);
    const p = r.pending.get(id);
    this.trace(`r${r.sid} rejected write ${id}`);
    if (p === undefined) return;
    r.pending.delete(id);
    p.client.pending.delete(p.seq);
    p.client.rejected += 1;
  }

  /** The replica lost its clients' connections: their pending writes have unknown outcomes. */
  private failPending(r: SimReplica, why: string): void {
    for (const p of r.pending.values()) {
      p.client.pending.delete(p.seq);
      p.client.unknown += 1;
      this.trace(`c${p.client.id} write ${p.seq} unknown (${why})`);
    }
    r.pending.clear();
  }
}

/** Index of the first entry with zxid > z. */
function firstAfter(log: readonly LogEntry[], z: Zxid): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (zxidLe(log[mid].zxid, z)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
