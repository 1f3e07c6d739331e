// Read-write lock (ZooKeeper's recipe): readers and writers queue in one directory with
// 'read-' and 'write-' sequential nodes. A writer waits for the node just before it (of either
// kind); a reader waits only for the nearest writer before it, so readers share the lock and a
// waiting writer keeps later readers out (no writer starvation). Each waiter watches one node.

import type { ZooKeeperClient } from '../client/index.js';
import { contend, contendOnce, LockLease, type AcquireOptions } from './lock.js';
import type { SequencedNode } from './sequence.js';
import { PREDECESSOR, type BlockerRule } from './turn.js';

const READ = 'read-';
const WRITE = 'write-';
const MARKERS = [READ, WRITE] as const;

/** A reader's blocker: the closest write node before it. */
const NEAREST_WRITER: BlockerRule = (nodes: readonly SequencedNode[], index: number) => {
  for (let i = index - 1; i >= 0; i--) if (nodes[i]!.marker === WRITE) return nodes[i]!;
  return null;
};

class Side {
  constructor(
    private readonly client: ZooKeeperClient,
    private readonly path: string,
    private readonly marker: string,
    private readonly rule: BlockerRule,
  ) {}

  async acquire(opts: AcquireOptions = {}): Promise<LockLease> {
    const got = await contend(this.client, this.path, this.marker, MARKERS, this.rule, opts);
    const lease = new LockLease(this.client, got.path, got.czxid);
    await lease.watchNode();
    return lease;
  }

  async tryAcquire(): Promise<LockLease | null> {
    const got = await contendOnce(this.client, this.path, this.marker, MARKERS, this.rule);
    if (got === null) return null;
    const lease = new LockLease(this.client, got.path, got.czxid);
    await lease.watchNode();
    return lease;
  }
}

export class ReadWriteLock {
  /** Shared: any number of readers at once, none while a writer holds or waits before them. */
  readonly readLock: Side;
  /** Exclusive. */
  readonly writeLock: Side;

  constructor(client: ZooKeeperClient, readonly path: string) {
    this.readLock = new Side(client, path, READ, NEAREST_WRITER);
    this.writeLock = new Side(client, path, WRITE, PREDECESSOR);
  }
}
