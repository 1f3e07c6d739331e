// Distributed lock (ZooKeeper's recipe, as Curator's InterProcessMutex): each contender creates a
// protected ephemeral-sequential node under the lock's directory; the lowest sequence holds the
// lock; everyone else watches only the node just before theirs. The holder gets a LockLease with
// a fencing token (the lock node's czxid: it grows with every new holder, so a resource that
// remembers the highest token it saw can refuse a stale holder after a partition).
//
// Re-entrance is not supported (acquire twice from one Lock object = two contenders).

import { isZooKeeperError, type ZooKeeperClient } from '../client/index.js';
import { createUnder } from './ensure_path.js';
import { Ownership, type LostReason, type OwnershipListener, type OwnershipState } from './ownership.js';
import { childPath, sortedBySequence } from './sequence.js';
import { PREDECESSOR, waitForTurn, type BlockerRule } from './turn.js';
import { combinedSignal } from './wait.js';

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Give up after this long (rejects with a TimeoutError DOMException). */
  timeout_ms?: number;
}

export interface LockOptions {
  /** Data stored in the contender's node (who holds it, for operators). */
  data?: string | Uint8Array;
}

/** A held lock. */
export class LockLease {
  private readonly ownership: Ownership;
  private node_listener_armed = false;

  constructor(
    private readonly client: ZooKeeperClient,
    /** The holder's lock node. */
    readonly path: string,
    /** czxid of the lock node: strictly increasing across holders of this lock. */
    readonly fencingToken: number,
  ) {
    this.ownership = new Ownership(client);
  }

  /** Starts watching the lock node itself, so an operator deleting it counts as a loss. */
  async watchNode(): Promise<void> {
    if (this.node_listener_armed) return;
    this.node_listener_armed = true;
    const stat = await this.client.exists(this.path, {
      watch: (e) => {
        if (e.type === 'NodeDeleted') this.ownership.markLost('node_deleted');
      },
    });
    if (stat === null) this.ownership.markLost('node_deleted');
  }

  get state(): OwnershipState {
    return this.ownership.state;
  }

  /** True while held and connected (false while suspended: the lock may have been lost). */
  isHeld(): boolean {
    return this.ownership.state === 'held';
  }

  /** Resolves when the lock is lost (session expired, client closed, node deleted). */
  get lost(): Promise<LostReason> {
    return this.ownership.lost;
  }

  onChange(listener: OwnershipListener): () => void {
    return this.ownership.onChange(listener);
  }

  /** Gives the lock up (deletes the node). Safe to call twice; a lost lease releases nothing. */
  async release(): Promise<void> {
    const was = this.ownership.state;
    this.ownership.markReleased();
    if (was === 'lost' || was === 'released') return;
    await deleteOwnNode(this.client, this.path);
  }
}

/** Deletes a node this session created (version 0: never written), retried safely. */
export async function deleteOwnNode(client: ZooKeeperClient, path: string): Promise<void> {
  try {
    await client.delete(path, 0);
  } catch (e) {
    if (!isZooKeeperError(e, 'NONODE', 'SESSIONEXPIRED')) throw e;
  }
}

/** Creates our contender node (protected ephemeral-sequential under `dir`). */
export async function createContender(
  client: ZooKeeperClient,
  dir: string,
  marker: string,
  data: string | Uint8Array | undefined,
): Promise<{ path: string; name: string; czxid: number }> {
  const created = await createUnder(client, dir, () =>
    client.create2(childPath(dir, marker), data ?? null, { mode: 'ephemeralSequential', protected: true }),
  );
  return { path: created.path, name: created.path.slice(created.path.lastIndexOf('/') + 1), czxid: created.stat.czxid };
}

/**
 * Creates our contender node, waits our turn by `rule`, and returns the node's path and czxid.
 * On abort, timeout or failure the node is deleted again.
 */
export async function contend(
  client: ZooKeeperClient,
  dir: string,
  marker: string,
  markers: readonly string[],
  rule: BlockerRule,
  opts: AcquireOptions & { data?: string | Uint8Array },
): Promise<{ path: string; czxid: number }> {
  const signal = combinedSignal(opts);
  signal?.throwIfAborted();
  const ours = await createContender(client, dir, marker, opts.data);
  try {
    await waitForTurn(client, dir, ours.name, markers, rule, { signal });
  } catch (e) {
    await deleteOwnNode(client, ours.path).catch(() => undefined);
    throw e;
  }
  return ours;
}

/** Creates our node and looks once: our node if `rule` lets it proceed now, else null (node deleted). */
export async function contendOnce(
  client: ZooKeeperClient,
  dir: string,
  marker: string,
  markers: readonly string[],
  rule: BlockerRule,
  data?: string | Uint8Array,
): Promise<{ path: string; czxid: number } | null> {
  const ours = await createContender(client, dir, marker, data);
  const nodes = sortedBySequence(await client.getChildren(dir), markers);
  const index = nodes.findIndex((n) => n.name === ours.name);
  if (index >= 0 && rule(nodes, index) === null) return ours;
  await deleteOwnNode(client, ours.path);
  return null;
}

export class Lock {
  static readonly MARKER = 'lock-';

  constructor(
    private readonly client: ZooKeeperClient,
    /** The lock's directory (created on demand as a container). */
    readonly path: string,
    private readonly opts: LockOptions = {},
  ) {}

  /** Waits for the lock. */
  async acquire(opts: AcquireOptions = {}): Promise<LockLease> {
    const got = await contend(this.client, this.path, Lock.MARKER, [Lock.MARKER], PREDECESSOR, { ...opts, data: this.opts.data });
    const lease = new LockLease(this.client, got.path, got.czxid);
    await lease.watchNode();
    return lease;
  }

  /** The lock if it is free right now, else null (without waiting in line). */
  async tryAcquire(): Promise<LockLease | null> {
    const got = await contendOnce(this.client, this.path, Lock.MARKER, [Lock.MARKER], PREDECESSOR, this.opts.data);
    if (got === null) return null;
    const lease = new LockLease(this.client, got.path, got.czxid);
    await lease.watchNode();
    return lease;
  }

  /** Paths of the contenders, holder first. */
  async participants(): Promise<string[]> {
    const children = await this.client.getChildren(this.path).catch((e: unknown) => {
      if (isZooKeeperError(e, 'NONODE')) return [] as string[];
      throw e;
    });
    return sortedBySequence(children, [Lock.MARKER]).map((n) => childPath(this.path, n.name));
  }
}
