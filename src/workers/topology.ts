// The shared memory of one replica, created by the supervisor and handed to every worker:
// which ring links which threads, and each consuming thread's doorbell.
//
//   net_to_shard[i]   net  → shard i         (SPSC)
//   shard_to_net[i]   shard i → net          (SPSC)
//   shard_to_commit[i] shard i → commit      (SPSC)
//   commit_stream     commit → every shard   (SPMC broadcast; consumer index = shard index)
//   net_to_commit     net → commit           (SPSC: direct writes, net/direct_write.ts)
//   commit_to_net     commit → net           (SPSC: their replies)
//   arena             the replica's one data tree (src/store/arena): written by the commit
//                     worker only, read by every shard at the root its commit stream names
//
// Plus one metric block per thread (src/metrics/blocks.ts), read when /metrics is scraped.

import { createMetricsBlocks, type MetricsBlocks } from '../metrics/blocks.js';
import { Ring } from '../ring/ring.js';
import { arenaConfigOf, type ServerConfig } from '../config/server_config.js';
import { createArenaHandle, type ArenaHandle } from '../store/arena/index.js';
import { createKnownCommit } from './known_commit.js';
import { createServedRoots } from './served_root.js';

export interface Topology {
  shards: number;
  net_to_shard: SharedArrayBuffer[];
  shard_to_net: SharedArrayBuffer[];
  shard_to_commit: SharedArrayBuffer[];
  commit_stream: SharedArrayBuffer;
  net_to_commit: SharedArrayBuffer;
  commit_to_net: SharedArrayBuffer;
  net_doorbell: SharedArrayBuffer;
  commit_doorbell: SharedArrayBuffer;
  shard_doorbells: SharedArrayBuffer[];
  /**
   * Int32 per shard, written by the net worker only: connections it holds paused because the
   * ring to that shard is full. Their pings wait unread in the kernel, so the commit worker does
   * not expire sessions while any is held (CommitCore.tick).
   */
  net_paused_for_ring: SharedArrayBuffer;
  /**
   * Int32 per shard, written by that shard only: 1 while it holds frames for the commit worker
   * that are not in their ring yet (its overflow queue: touches may wait there behind writes), or
   * has client frames it is not reading (its output is full, or a commit batch is open), so pings
   * may wait unread in its input ring. The commit worker does not expire sessions then.
   */
  shard_input_stalled: SharedArrayBuffer;
  /**
   * Per shard, written by that shard only (served_root.ts): the root it serves from, as a
   * seqlock the net worker reads for the reads it answers itself (net/fast_read.ts).
   */
  shard_served_root: SharedArrayBuffer;
  /**
   * Written by the commit worker only (known_commit.ts): the highest zxid this replica knows
   * committed, maybe ahead of the newest published root; reads wait for it (shard/commit_wait.ts).
   */
  known_commit: SharedArrayBuffer;
  /** One metric block per thread (src/metrics/): lock-free counters, summed when scraped. */
  metrics: MetricsBlocks;
  /** The shared data tree's memory (control block + segments, all allocated up front). */
  arena: ArenaHandle;
}

export function createTopology(config: ServerConfig): Topology {
  const shards = config.read_workers;
  const ring = (capacity_bytes: number, consumers = 1) => Ring.create({ capacity_bytes, consumers });
  const each = <T>(f: () => T): T[] => Array.from({ length: shards }, f);
  const bell = () => new SharedArrayBuffer(16);
  return {
    shards,
    net_to_shard: each(() => ring(config.ring_net_to_shard_bytes)),
    shard_to_net: each(() => ring(config.ring_shard_to_net_bytes)),
    shard_to_commit: each(() => ring(config.ring_shard_to_commit_bytes)),
    commit_stream: ring(config.ring_commit_stream_bytes, shards),
    net_to_commit: ring(config.ring_net_to_commit_bytes),
    commit_to_net: ring(config.ring_commit_to_net_bytes),
    net_doorbell: bell(),
    commit_doorbell: bell(),
    shard_doorbells: each(bell),
    net_paused_for_ring: new SharedArrayBuffer(4 * shards),
    shard_input_stalled: new SharedArrayBuffer(4 * shards),
    shard_served_root: createServedRoots(shards),
    known_commit: createKnownCommit(),
    metrics: createMetricsBlocks(shards),
    arena: createArenaHandle(arenaConfigOf(config)),
  };
}

/** What every worker gets in workerData. */
export interface WorkerInit {
  role: 'net' | 'shard' | 'commit';
  /** Shard index for role 'shard'. */
  index: number;
  config: ServerConfig;
  topology: Topology;
}
