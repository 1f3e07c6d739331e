// Every metric block of one replica, created by the supervisor with the rest of the topology
// and handed to each worker: one block per thread, so no slot ever has two writers.

import { createCommitMetricsBlock } from './commit_metrics.js';
import { createNetMetricsBlock } from './net_metrics.js';
import { createShardMetricsBlock } from './shard_metrics.js';
import { createZabMetricsBlock } from './zab_metrics.js';

export interface MetricsBlocks {
  readonly net: SharedArrayBuffer;
  readonly commit: SharedArrayBuffer;
  /** The Zab driver's (it runs on the commit worker's thread); zero in a standalone replica. */
  readonly zab: SharedArrayBuffer;
  /** Index = shard index. */
  readonly shards: readonly SharedArrayBuffer[];
}

export function createMetricsBlocks(shards: number): MetricsBlocks {
  return {
    net: createNetMetricsBlock(),
    commit: createCommitMetricsBlock(),
    zab: createZabMetricsBlock(),
    shards: Array.from({ length: shards }, createShardMetricsBlock),
  };
}
