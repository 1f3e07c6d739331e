// What the four-letter words and admin commands that change something act on (srst, crst, stmk):
// the workers' counters, reset over the control plane, and the replica's text trace mask.

import { DEFAULT_TRACE_MASK } from '../admin/four_letter.js';
import type { AdminActions } from '../admin/http/commands.js';
import type { StatsReset } from '../workers/control.js';
import type { ReplicaWorkers } from './server.js';

export class ReplicaControl implements AdminActions {
  /**
   * stmk / set_trace_mask set it and gtmk / get_trace_mask read it back, as ZooKeeper's. It
   * selects nothing here: waitfree has no trace log (ZooKeeper's goes to log4j at TRACE).
   */
  trace_mask = DEFAULT_TRACE_MASK;

  constructor(private readonly workers: () => ReplicaWorkers) {}

  /** srst: the net worker's Received and every shard's counters and latency; crst: the shards'
   *  connections (they hold each connection's counters). */
  async resetStats(scope: StatsReset): Promise<void> {
    const { net, shards } = this.workers();
    const targets = scope === 'server' ? [net, ...shards] : shards;
    await Promise.all(targets.map((w) => w.resetStats(scope)));
  }

  setTraceMask(mask: bigint): void {
    this.trace_mask = BigInt.asIntN(64, mask);
  }
}
