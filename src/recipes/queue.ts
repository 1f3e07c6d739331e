// Distributed FIFO queue (ZooKeeper's recipe): offer() creates a persistent-sequential item
// node; poll()/take() read the lowest item and delete it, and whoever's delete succeeds owns the
// item. Delivery is at least once: a take whose delete was cut off by a connection loss checks
// afterwards whether the item is gone, and returns it if so (another consumer can rarely have
// taken it in that window too). Consumers waiting in take() watch the queue's children.

import { isZooKeeperError, type ZooKeeperClient } from '../client/index.js';
import { createUnder, ensureContainer } from './ensure_path.js';
import { childPath, sortedBySequence } from './sequence.js';
import { combinedSignal, trigger, waitBounded } from './wait.js';

const MARKER = 'qn-';

export class DistributedQueue {
  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
  ) {}

  /** Appends an item; resolves with its node path. */
  async offer(data: string | Uint8Array): Promise<string> {
    return createUnder(this.client, this.path, () =>
      this.client.create(childPath(this.path, MARKER), data, { mode: 'persistentSequential', protected: true }),
    );
  }

  /** The head item without removing it, or null when empty. */
  async peek(): Promise<Buffer | null> {
    for (const item of await this.items()) {
      const got = await this.client.getData(childPath(this.path, item)).catch((e: unknown) => {
        if (isZooKeeperError(e, 'NONODE')) return null;
        throw e;
      });
      if (got !== null) return got.data ?? Buffer.alloc(0);
    }
    return null;
  }

  /** Removes and returns the head item, or null when the queue is empty. */
  async poll(): Promise<Buffer | null> {
    for (const item of await this.items()) {
      const data = await this.tryTake(childPath(this.path, item));
      if (data !== null) return data;
    }
    return null;
  }

  /** Removes and returns the head item, waiting for one if the queue is empty. */
  async take(opts: { signal?: AbortSignal; timeout_ms?: number } = {}): Promise<Buffer> {
    const signal = combinedSignal(opts);
    for (;;) {
      signal?.throwIfAborted();
      const t = trigger();
      let children: string[];
      try {
        children = await this.client.getChildren(this.path, { watch: t.listener });
      } catch (e) {
        // An empty queue's container directory may be reaped at any time: make it again.
        if (!isZooKeeperError(e, 'NONODE')) throw e;
        await ensureContainer(this.client, this.path);
        continue;
      }
      for (const n of sortedBySequence(children, [MARKER])) {
        const data = await this.tryTake(childPath(this.path, n.name));
        if (data !== null) return data;
      }
      await waitBounded(this.client, t.fired, { signal });
    }
  }

  async size(): Promise<number> {
    return (await this.items()).length;
  }

  private async items(): Promise<string[]> {
    try {
      return sortedBySequence(await this.client.getChildren(this.path), [MARKER]).map((n) => n.name);
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) return [];
      throw e;
    }
  }

  /** The item's data if our delete removed it; null if someone else took it first. */
  private async tryTake(path: string): Promise<Buffer | null> {
    let got;
    try {
      got = await this.client.getData(path);
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) return null;
      throw e;
    }
    const data = got.data ?? Buffer.alloc(0);
    try {
      await this.client.delete(path, got.stat.version, { retry: false });
      return data;
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE', 'BADVERSION')) return null;
      if (!isZooKeeperError(e, 'CONNECTIONLOSS')) throw e;
    }
    // Cut off: if the item is gone now, deliver it (at least once); else try again.
    await this.client.waitForState(['connected']);
    return (await this.client.exists(path)) === null ? data : this.tryTake(path);
  }
}
