// Counting semaphore with leases (as Curator's InterProcessSemaphoreV2): at most `max_leases`
// leases exist at once. Acquirers line up on an internal lock (each watches only its
// predecessor); the one at the head creates its lease node and, if the leases are over the
// limit, alone watches the lease directory until one is returned. A lease is an ephemeral node:
// a holder whose session ends gives it back automatically (and is told it lost it).

import type { ZooKeeperClient } from '../client/index.js';
import { createUnder } from './ensure_path.js';
import { deleteOwnNode, Lock, LockLease, type AcquireOptions } from './lock.js';
import { childPath } from './sequence.js';
import { combinedSignal, trigger, waitBounded } from './wait.js';

export class Semaphore {
  private readonly lock: Lock;
  private readonly leases_dir: string;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    readonly max_leases: number,
  ) {
    if (!(Number.isInteger(max_leases) && max_leases >= 1)) throw new Error(`max_leases must be an integer >= 1: ${max_leases}`);
    this.lock = new Lock(client, childPath(path, 'locks'));
    this.leases_dir = childPath(path, 'leases');
  }

  /** Waits for a lease. */
  async acquire(opts: AcquireOptions = {}): Promise<LockLease> {
    const signal = combinedSignal(opts);
    const turn = await this.lock.acquire({ signal });
    let lease_path: string | null = null;
    try {
      const created = await createUnder(this.client, this.leases_dir, () =>
        this.client.create2(childPath(this.leases_dir, 'lease-'), null, { mode: 'ephemeralSequential', protected: true }),
      );
      lease_path = created.path;
      await this.waitUntilWithinLimit({ signal });
      const lease = new LockLease(this.client, created.path, created.stat.czxid);
      await lease.watchNode();
      lease_path = null;
      return lease;
    } finally {
      if (lease_path !== null) await deleteOwnNode(this.client, lease_path).catch(() => undefined);
      await turn.release();
    }
  }

  /** Only the head of the line gets here, so only one process watches the lease directory. */
  private async waitUntilWithinLimit(opts: { signal?: AbortSignal }): Promise<void> {
    for (;;) {
      const t = trigger();
      const leases = await this.client.getChildren(this.leases_dir, { watch: t.listener });
      if (leases.length <= this.max_leases) return;
      await waitBounded(this.client, t.fired, opts);
    }
  }

  /** Number of leases held now. */
  async leaseCount(): Promise<number> {
    return (await this.client.getChildren(this.leases_dir).catch(() => [])).length;
  }
}
