// Configuration of one Zab core. Every bound is explicit and checked here; times are in ticks
// of the driver's clock (the driver chooses the tick; ZooKeeper's initLimit/syncLimit are in
// tickTime units, so a driver ticking every tickTime passes them as they are).

import { checkElectionConfig, type ElectionConfig } from './election.js';
import type { MembershipSpec } from './membership.js';
import { COUNTER_MAX } from './zxid.js';

export interface ZabConfig {
  /** This replica's server id (ZooKeeper's myid). */
  readonly sid: number;
  readonly voters: readonly number[];
  readonly observers: readonly number[];
  /** Ticks a learner may take from choosing a leader to UPTODATE; and a leader to establish. */
  readonly init_limit_ticks: number;
  /** Ticks of silence after which a leader drops a learner, and a follower its leader. */
  readonly sync_limit_ticks: number;
  /** The leader pings every learner this often (ticks); learners answer. */
  readonly ping_ticks: number;
  /** A learner re-sends FOLLOWERINFO/OBSERVERINFO this often until LEADERINFO arrives. */
  readonly info_retry_ticks: number;
  readonly election: ElectionConfig;
  /** Committed txns kept in memory for DIFF syncs (ZooKeeper's commitLogCount, 500). */
  readonly committed_log_max: number;
  /** Proposals the leader has outstanding (proposed, not committed) at most. */
  readonly in_flight_max: number;
  /** Proposals queued at the leader behind in_flight_max; past it a proposal is rejected. */
  readonly pending_max: number;
  /** Largest zxid counter the leader uses (the wire maximum; tests lower it). */
  readonly counter_max: number;
  /** A leader re-asks the driver for a usable snapshot at most this often per learner sync. */
  readonly snapshot_tries_max: number;
  /**
   * The membership a txn makes if it is a reconfig (null otherwise): how the core, which sees txns
   * as bytes, learns of a reconfig in its log (membership.ts). Pure and cheap for other txns; null
   * when the driver has no reconfig.
   */
  readonly membership_of: ((txn: Uint8Array) => MembershipSpec | null) | null;
}

export const ZAB_DEFAULTS: Omit<ZabConfig, 'sid' | 'voters' | 'observers'> = Object.freeze({
  init_limit_ticks: 10,
  sync_limit_ticks: 5,
  ping_ticks: 1,
  info_retry_ticks: 2,
  election: Object.freeze({ finalize_ticks: 1, notify_ticks_min: 2, notify_ticks_max: 60 }),
  committed_log_max: 500,
  in_flight_max: 1000,
  pending_max: 10_000,
  counter_max: COUNTER_MAX,
  snapshot_tries_max: 3,
  membership_of: null,
});

function positiveInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`zab config: ${name} must be an integer >= ${min} (got ${v})`);
}

/** Throws an Error naming the first invalid key. */
export function checkZabConfig(c: ZabConfig): void {
  positiveInt('sid', c.sid, 0);
  positiveInt('init_limit_ticks', c.init_limit_ticks, 1);
  positiveInt('sync_limit_ticks', c.sync_limit_ticks, 1);
  positiveInt('ping_ticks', c.ping_ticks, 1);
  if (c.ping_ticks >= c.sync_limit_ticks) throw new Error('zab config: ping_ticks must be < sync_limit_ticks');
  positiveInt('info_retry_ticks', c.info_retry_ticks, 1);
  positiveInt('committed_log_max', c.committed_log_max, 0);
  positiveInt('in_flight_max', c.in_flight_max, 1);
  positiveInt('pending_max', c.pending_max, 0);
  positiveInt('counter_max', c.counter_max, 1);
  if (c.counter_max > COUNTER_MAX) throw new Error(`zab config: counter_max must be <= ${COUNTER_MAX}`);
  positiveInt('snapshot_tries_max', c.snapshot_tries_max, 1);
  checkElectionConfig(c.election);
}

export function zabConfig(sid: number, voters: readonly number[], observers: readonly number[] = [], over: Partial<ZabConfig> = {}): ZabConfig {
  const c: ZabConfig = { ...ZAB_DEFAULTS, sid, voters, observers, ...over };
  checkZabConfig(c);
  return c;
}
