// A local copy of one node, kept current with a persistent watch (no gap between one-shot
// watches re-armed by hand): every created / changed / deleted event re-reads the node, in event
// order. Changes made while disconnected are not replayed by the server, so the cache re-reads
// when the client reconnects. Listeners hear about every change of the cached value.

import { isZooKeeperError, type Stat, type WatchEvent, type ZooKeeperClient } from '../client/index.js';
import { WatchedCache } from './watched_cache.js';

export interface NodeSnapshot {
  data: Buffer | null;
  stat: Stat;
}

/** The new value (null = the node does not exist). */
export type NodeCacheListener = (current: NodeSnapshot | null) => void;

export class NodeCache extends WatchedCache<NodeCacheListener> {
  private current_: NodeSnapshot | null = null;

  constructor(
    client: ZooKeeperClient,
    readonly path: string,
  ) {
    super(client, path, 'persistent');
  }

  /** The cached value; null while the node does not exist. */
  get current(): NodeSnapshot | null {
    return this.current_;
  }

  protected onWatchEvent(e: WatchEvent): void {
    if (e.type === 'NodeCreated' || e.type === 'NodeDataChanged' || e.type === 'NodeDeleted') this.refresh();
  }

  protected resync(): void {
    this.refresh();
  }

  private refresh(): void {
    this.tasks.push(async () => {
      let next: NodeSnapshot | null;
      try {
        next = await this.client.getData(this.path);
      } catch (e) {
        if (!isZooKeeperError(e, 'NONODE')) throw e;
        next = null;
      }
      if (sameSnapshot(this.current_, next)) return;
      this.current_ = next;
      for (const l of [...this.listeners]) l(next);
    });
  }
}

function sameSnapshot(a: NodeSnapshot | null, b: NodeSnapshot | null): boolean {
  if (a === null || b === null) return a === b;
  return a.stat.mzxid === b.stat.mzxid && a.stat.czxid === b.stat.czxid;
}
