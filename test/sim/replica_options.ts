// The replica simulator's knobs (replica_sim.ts): what a seed draws, from its own PRNG stream
// so that the run's draws do not shift them (swarm testing: every seed a different shape).

import { Rng } from './prng.js';
import type { ClientProfile } from './replica_client.js';
import type { RingShape } from './replica_links.js';

export interface ActionWeights {
  readonly client: number;
  readonly net_read: number;
  readonly shard_net: number;
  readonly shard_commit: number;
  readonly net_write: number;
  readonly commit: number;
  readonly disk: number;
  readonly advance: number;
}

export interface RingShapes {
  readonly net_to_shard: RingShape;
  readonly shard_to_net: RingShape;
  readonly shard_to_commit: RingShape;
  readonly commit_stream: RingShape;
  /** Direct writes (net/direct_write.ts): net worker -> commit worker, and their replies back. */
  readonly net_to_commit: RingShape;
  readonly commit_to_net: RingShape;
}

/** Sessions that end without closeSession (replica_client.ts roles). */
export interface ExpiryPlan {
  /** Chance a client goes silent after some ops. */
  readonly silent_chance: number;
  /** Chance a client drops its connection after some ops. */
  readonly drop_chance: number;
  /** Chance a silent client wakes once / a dropper reconnects. */
  readonly again_chance: number;
}



/** One log write that takes this long (the disk stalls). */
export interface DiskStall {
  readonly at_batch: number;
  readonly ms: number;
}

export interface ReplicaSimOptions {
  readonly seed: number;
  readonly shards: number;
  readonly clients: number;
  readonly ops_per_client: readonly [number, number];
  readonly pipeline_max: number;
  readonly profile: ClientProfile;
  /** Chance that a worker ends with closeSession (its ephemerals go). */
  readonly close_chance: number;
  /** A disk write completes this many simulated ms after it started. */
  readonly disk_ms: readonly [number, number];
  /** Chance that a write with no input waiting completes inside writeBatch (the inline write). */
  readonly inline_chance: number;
  /** The n-th batch written fails (EIO); null: none does. */
  readonly fail_at_batch: number | null;
  readonly batch_txns_max: number;
  readonly batch_wait_us: number;
  readonly max_outstanding_per_session: number;
  readonly advance_ms_max: number;
  readonly weights: ActionWeights;
  /** Keep every trace line (else the last TRACE_TAIL). */
  readonly keep_trace: boolean;
  readonly rings: RingShapes;
  /** tickTime (the session tracker's buckets; shards touch every tick / 2). */
  readonly tick_ms: number;
  /** The timeout clients ask for (granted within [2, 20] ticks). */
  readonly timeout_ms: number;
  /** null: every client is a worker, and none lingers. */
  readonly expiry: ExpiryPlan | null;
  readonly stall: DiskStall | null;
  /** Largest znode value clients write (half their writes stay under 7 bytes). */
  readonly data_bytes_max: number;
  /** waitfree.net.directWrites: the net worker sends a write of a session with nothing in
   *  flight (but earlier direct writes) straight to the commit worker (net/direct_write.ts). */
  readonly direct_writes: boolean;
}

/** A ring size, small ones often; now and then small frames too (messages go in pieces). */
function drawRing(o: Rng): RingShape {
  const capacity_bytes = o.pick([4096, 4096, 8192, 65536, 1 << 18]);
  const frame_bytes_max = capacity_bytes <= 8192 && o.chance(0.3) ? o.pick([64, 200]) : null;
  return { capacity_bytes, frame_bytes_max };
}

/** The run's shape and knobs for a seed (their own stream: the run's draws do not shift them). */
export function replicaOptions(seed: number, overrides: Partial<ReplicaSimOptions> = {}): ReplicaSimOptions {
  const o = new Rng(Math.imul(seed, 0x9e3779b1) ^ 0x5eed);
  const w = (): number => o.pick([1, 3, 9]);
  const base = {
    seed,
    shards: o.int(1, 3),
    clients: o.int(1, 6),
    ops_per_client: [5, o.pick([20, 40, 80])] as const,
    pipeline_max: o.pick([1, 2, 4, 8]),
    profile: (o.chance(0.2) ? 'writes' : 'mixed') as ClientProfile,
    close_chance: o.pick([0, 0.3, 0.7]),
    disk_ms: [0, o.pick([0, 2, 8])] as const,
    inline_chance: o.pick([0, 0, 0.3, 0.8]),
    fail_at_batch: o.chance(0.25) ? o.int(1, 40) : null,
    batch_txns_max: o.pick([1, 4, 64, 1000]),
    batch_wait_us: o.pick([0, 0, 500, 3000]),
    max_outstanding_per_session: o.pick([2, 4, 1000]),
    advance_ms_max: o.pick([1, 3]),
    weights: { client: w(), net_read: w(), shard_net: w(), shard_commit: w(), net_write: w(), commit: w(), disk: w(), advance: w() },
    keep_trace: false,
  };
  // Drawn after the knobs above, so those stay what they were before these existed.
  const four = { net_to_shard: drawRing(o), shard_to_net: drawRing(o), shard_to_commit: drawRing(o), commit_stream: drawRing(o) };
  const expiry: ExpiryPlan | null = o.chance(0.4) ? { silent_chance: o.pick([0.2, 0.4]), drop_chance: o.pick([0.2, 0.4]), again_chance: o.pick([0, 0.5, 1]) } : null;
  const tick_ms = expiry === null ? 2000 : o.pick([500, 1000, 2000]);
  const timeout_ms = expiry === null ? 30_000 : tick_ms * o.pick([2, 3, 5]);
  const stall: DiskStall | null = expiry !== null && o.chance(0.4) ? { at_batch: o.int(1, 12), ms: Math.round(timeout_ms * o.pick([1.2, 1.8, 2.5])) } : null;
  // A quarter of the seeds press on the rings: deep pipelines, more ops, large values.
  const pressure = o.chance(0.25);
  const data_bytes_max = pressure ? 1500 : o.pick([6, 6, 64, 512]);
  const pipeline_max = pressure ? base.pipeline_max * 16 : base.pipeline_max;
  const ops_per_client = pressure ? ([base.ops_per_client[0], base.ops_per_client[1] * 2] as const) : base.ops_per_client;
  // ... and half of those make the readers of the shards' output slow.
  const weights = pressure && o.chance(0.5) ? { ...base.weights, shard_commit: 1, net_write: 1, commit: 9, client: 9 } : base.weights;
  // Drawn last, for the same reason: direct writes in 70 % of the seeds, and their two rings.
  const rings: RingShapes = { ...four, net_to_commit: drawRing(o), commit_to_net: drawRing(o) };
  const direct_writes = o.chance(0.7);
  const options: ReplicaSimOptions = { ...base, pipeline_max, ops_per_client, weights, rings, tick_ms, timeout_ms, expiry, stall, data_bytes_max, direct_writes, ...overrides };
  return options;
}
