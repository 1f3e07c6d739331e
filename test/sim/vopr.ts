// One randomized simulation run per seed (VOPR-style swarm testing): the seed picks the
// ensemble shape and knobs, then a safety phase with random faults, then everything heals and
// the ensemble must elect a leader and commit a new write within a bound (liveness), then all
// replicas must converge to the same state holding every acknowledged write.

import { COUNTER_MAX } from '../../src/zab/zxid.js';
import { zxidEq } from '../../src/zab/zxid.js';
import { digestOf } from './app.js';
import { SimFailure } from './invariants.js';
import { Rng } from './prng.js';
import type { MembershipSpec } from '../../src/zab/membership.js';
import { Simulation, SIM_DEFAULTS, type SimOptions, type SimStats } from './simulation.js';

export interface RunLimits {
  /** Simulated ms of random faults. */
  readonly fault_ms: number;
  /** After healing: bound for a leader to be established and a new write to commit. */
  readonly liveness_ms: number;
  /** Then: bound for every replica to serve and hold the same state. */
  readonly converge_ms: number;
}

export const RUN_LIMITS: RunLimits = { fault_ms: 3000, liveness_ms: 4000, converge_ms: 4000 };

export interface RunResult {
  readonly seed: number;
  readonly failure: string | null;
  readonly hash: string;
  readonly stats: SimStats;
  readonly options: SimOptions;
  readonly sim: Simulation;
}

/** The ensemble shape and knobs for a seed (its own stream: the run's draws do not shift it). */
export function swarmOptions(seed: number, keep_trace = false): SimOptions {
  const o = new Rng(Math.imul(seed, 7919) + 17);
  return {
    ...SIM_DEFAULTS,
    seed,
    keep_trace,
    voters: o.pick([3, 3, 5]),
    observers: o.pick([0, 0, 1, 2]),
    clients: o.int(1, 4),
    local_snapshot_every: o.pick([0, 0, 5, 20]),
    torn_tail: o.chance(0.7),
    net: { ...SIM_DEFAULTS.net, spike_chance: o.pick([0, 0.01, 0.05]) },
    zab: {
      ...SIM_DEFAULTS.zab,
      committed_log_max: o.pick([0, 2, 10, 40]),
      in_flight_max: o.pick([1, 3, 8, 32]),
      counter_max: o.chance(0.2) ? o.int(15, 60) : COUNTER_MAX,
      election: { finalize_ticks: o.int(0, 2), notify_ticks_min: 2, notify_ticks_max: o.pick([4, 20, 40]) },
    },
  };
}

export function runSeed(seed: number, limits: RunLimits = RUN_LIMITS, keep_trace = false): RunResult {
  const options = swarmOptions(seed, keep_trace);
  const sim = new Simulation(options);
  let failure: string | null = null;
  try {
    sim.start();
    new FaultInjector(sim, sim.rng.fork(), new Rng(seed ^ 0xfa17).pick([30, 100, 300])).start(limits.fault_ms);
    // Disk faults draw from a stream of their own: a seed without them runs as it did before.
    const disk = new Rng(seed ^ 0xd15c);
    if (disk.chance(0.4)) new DiskFaultInjector(sim, disk, disk.pick([300, 1000])).start(limits.fault_ms);
    sim.runFor(limits.fault_ms);
    healAll(sim);
    checkLiveness(sim, limits.liveness_ms);
    restoreMembership(sim, limits.liveness_ms);
    checkConvergence(sim, limits.converge_ms);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    failure = e instanceof SimFailure ? e.message : `${e.name}: ${e.message}\n${e.stack ?? ''}`;
    if (!(e instanceof SimFailure)) sim.trace(`EXCEPTION ${e.message}`);
  }
  return { seed, failure, hash: sim.traceHash, stats: sim.stats(), options, sim };
}

function healAll(sim: Simulation): void {
  sim.trace('HEAL all faults');
  sim.net.healAll();
  for (const r of sim.replicas.values()) {
    r.slow_until = 0;
    r.paused_until = 0;
    if (r.disk_failed) sim.crash(r.sid); // the disk is fixed; the process restarts
    if (!r.up) sim.restart(r.sid);
  }
  for (const c of sim.clients) c.stopped = true;
}

/**
 * After healing, a reconfig takes the ensemble back to its first membership (a removed replica
 * cannot converge otherwise): it must commit and be active on every replica, each serving in its
 * role, within the bound.
 */
function restoreMembership(sim: Simulation, bound_ms: number): void {
  const m = sim.initial_membership;
  const want = `${m.voters}|${m.observers}`;
  const done = (): boolean => sim.activeMembership() === want && [...sim.replicas.values()].every((r) => r.serving);
  if (done()) return;
  let next_try = sim.now;
  const ok = sim.runUntil(() => {
    if (done()) return true;
    if (sim.now >= next_try && sim.activeMembership() !== want && reconfigToward(sim, m)) next_try = sim.now + 500;
    return false;
  }, bound_ms);
  if (!ok) sim.checker.fail(`reconfig: the first membership ${want} was not back within ${bound_ms} ms (active: ${sim.activeMembership() ?? 'differing'})`);
  sim.trace('RECONFIG first membership back');
}

/**
 * A reconfig toward `m`: all of it when prep takes it, else one missing voter more (prep wants
 * the new voters to hold a quorum of the followers synced now, as ZooKeeper does: an ensemble
 * of two voters grows to five in steps).
 */
function reconfigToward(sim: Simulation, m: MembershipSpec): boolean {
  if (sim.reconfig(m)) return true;
  const qv = sim.leader()?.core?.qv;
  if (qv === undefined) return false;
  const missing = m.voters.find((v) => !qv.voters.includes(v));
  if (missing === undefined) return false;
  const voters = [...qv.voters, missing];
  return sim.reconfig({ voters, observers: m.observers.filter((o) => !voters.includes(o)) });
}

function checkLiveness(sim: Simulation, bound_ms: number): void {
  const probe = sim.addClient(sim.rng.pick([...sim.replicas.keys()]));
  const ok = sim.runUntil(() => probe.acked > 0, bound_ms);
  probe.stopped = true;
  if (!ok) sim.checker.fail(`liveness: no write committed within ${bound_ms} ms after healing (leader: ${sim.leader()?.sid ?? 'none'})`);
  sim.trace(`LIVE probe committed`);
}

function converged(sim: Simulation): boolean {
  const leader = sim.leader();
  if (leader === null || leader.core === null) return false;
  const w = leader.core.window;
  if (!zxidEq(w.committed, w.last())) return false;
  for (const r of sim.replicas.values()) {
    if (!r.serving || !zxidEq(r.app.zxid, w.committed)) return false;
  }
  return true;
}

function checkConvergence(sim: Simulation, bound_ms: number): void {
  if (!sim.runUntil(() => converged(sim), bound_ms)) {
    const states = [...sim.replicas.values()].map((r) => `r${r.sid}:${r.role?.state}/${r.role?.phase}@${r.app.zxid.epoch}:${r.app.zxid.counter}`);
    sim.checker.fail(`convergence: replicas did not converge within ${bound_ms} ms: ${states.join(' ')}`);
  }
  const states = [...sim.replicas.values()].map((r) => ({ sid: r.sid, zxid: r.app.zxid, digest: digestOf(r.app), ids: r.app.ids }));
  sim.checker.checkConverged(states);
  sim.trace('CONVERGED');
}

/** Random faults until `until` (simulated ms), one every ~gap_ms. */
export class FaultInjector {
  private until = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly rng: Rng,
    private readonly gap_ms: number,
  ) {}

  start(until: number): void {
    this.until = until;
    this.sim.schedule(this.rng.int(1, this.gap_ms), () => this.loop());
  }

  private loop(): void {
    if (this.sim.now >= this.until) return;
    this.inject();
    this.sim.schedule(this.rng.int(1, 2 * this.gap_ms), () => this.loop());
  }

  private sids(): number[] {
    return [...this.sim.replicas.keys()];
  }

  private inject(): void {
    const sim = this.sim;
    const k = this.rng.int(0, 99);
    const leader = sim.leader();
    if (k < 10) return this.crash(this.rng.pick(this.sids()));
    if (k < 18) return leader ? this.crash(leader.sid) : undefined;
    if (k < 28) return this.partition(this.randomGroup());
    if (k < 34) return leader ? this.partition([leader.sid]) : undefined;
    if (k < 44) return this.oneWay();
    if (k < 58) return this.clog();
    if (k < 74) return this.resetLink();
    if (k < 86) return this.slowFsync();
    if (k < 89) return leader ? this.pause(leader.sid) : undefined;
    if (k < 92) return this.pause(this.rng.pick(this.sids()));
    return this.reconfig();
  }

  /** A reconfig to a random membership (at least two voters; the others observers or gone),
   *  through the leader if there is one and prep takes it. */
  private reconfig(): void {
    const sids = this.sim.sids;
    let voters = sids.filter(() => this.rng.chance(0.6));
    if (voters.length < 2) voters = this.rng.chance(0.5) ? sids.slice(0, 2) : sids.slice(-2);
    const observers = sids.filter((s) => !voters.includes(s) && this.rng.chance(0.5));
    this.sim.reconfig({ voters, observers });
  }

  private pause(sid: number): void {
    const dur = this.rng.int(20, 800);
    this.sim.trace(`FAULT pause r${sid} for ${dur}`);
    this.sim.pause(sid, this.sim.now + dur);
  }

  private crash(sid: number): void {
    const r = this.sim.replica(sid);
    if (!r.up) return;
    this.sim.crash(sid);
    const gen = r.gen;
    this.sim.schedule(this.rng.int(20, 1500), () => {
      if (!r.up && r.gen === gen) this.sim.restart(sid);
    });
  }

  private randomGroup(): number[] {
    const ids = this.sids();
    const g = ids.filter(() => this.rng.chance(0.5));
    return g.length === 0 || g.length === ids.length ? [ids[0]] : g;
  }

  /** Symmetric partition between `group` and the rest, for a while. */
  private partition(group: number[]): void {
    const rest = this.sids().filter((s) => !group.includes(s));
    const dur = this.rng.int(50, 1500);
    this.sim.trace(`FAULT partition [${group}] | [${rest}] for ${dur}`);
    this.blockAll(group, rest, true);
    this.sim.schedule(dur, () => {
      this.sim.trace(`FAULT heal [${group}] | [${rest}]`);
      this.blockAll(group, rest, false);
    });
  }

  private blockAll(a: number[], b: number[], on: boolean): void {
    for (const x of a) {
      for (const y of b) {
        this.sim.net.block(x, y, on);
        this.sim.net.block(y, x, on);
      }
    }
  }

  private pair(): [number, number] {
    const ids = this.sids();
    const a = this.rng.pick(ids);
    const b = this.rng.pick(ids.filter((s) => s !== a));
    return [a, b];
  }

  private oneWay(): void {
    const [a, b] = this.pair();
    const dur = this.rng.int(50, 1200);
    this.sim.trace(`FAULT one-way r${a}->r${b} blocked for ${dur}`);
    this.sim.net.block(a, b, true);
    this.sim.schedule(dur, () => this.sim.net.block(a, b, false));
  }

  private clog(): void {
    const [a, b] = this.pair();
    const dur = this.rng.int(5, 300);
    this.sim.trace(`FAULT clog r${a}->r${b} for ${dur}`);
    this.sim.net.clog(a, b, this.sim.now + dur);
  }

  private resetLink(): void {
    const [a, b] = this.pair();
    this.sim.trace(`FAULT reset r${a}-r${b}`);
    this.sim.net.reset(a, b);
  }

  private slowFsync(): void {
    const sid = this.rng.pick(this.sids());
    const dur = this.rng.int(100, 1500);
    this.sim.trace(`FAULT slow fsync r${sid} for ${dur}`);
    this.sim.setSlowFsync(sid, this.sim.now + dur);
  }
}

/**
 * Disk faults until `until`, one every ~gap_ms: a replica (the leader half of the time) can no
 * longer write its log and leaves the ensemble (Simulation.diskFault); a while later its disk is
 * fixed and it restarts, as an operator would restart it.
 */
export class DiskFaultInjector {
  constructor(
    private readonly sim: Simulation,
    private readonly rng: Rng,
    private readonly gap_ms: number,
  ) {}

  start(until: number): void {
    const loop = (): void => {
      if (this.sim.now >= until) return;
      this.inject();
      this.sim.schedule(this.rng.int(1, 2 * this.gap_ms), loop);
    };
    this.sim.schedule(this.rng.int(1, this.gap_ms), loop);
  }

  private inject(): void {
    const leader = this.sim.leader();
    const sid = leader !== null && this.rng.chance(0.5) ? leader.sid : this.rng.pick([...this.sim.replicas.keys()]);
    const r = this.sim.replica(sid);
    if (!r.up || r.disk_failed) return;
    this.sim.trace(`FAULT disk r${sid}`);
    this.sim.diskFault(sid);
    const gen = r.gen;
    this.sim.schedule(this.rng.int(50, 1500), () => {
      if (r.gen !== gen || !r.disk_failed) return;
      this.sim.trace(`FAULT disk fixed r${sid}`);
      this.sim.crash(sid);
      this.sim.restart(sid);
    });
  }
}
