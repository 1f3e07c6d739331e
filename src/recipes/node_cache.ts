// A local copy of one node, kept current with a persistent watch (no gap between one-shot
// watches re-armed by hand): every created / changed / deleted event re-reads the node, in event
// order. Changes made while disconnected are not replayed by the server, so the cache re-reads
// when the client reconnects. Listeners hear about every change of the cached value.

import { isZooKeeperError, type Stat, type WatchEvent, type ZooKeeperClient } from '../client/index.js';
import { SerialTasks } from './serial_tasks.js';

export interface NodeSnapshot {
  data: Buffer | null;
  stat: Stat;
}

/** The new value (null = the node does not exist). */
export type NodeCacheListener = (current: NodeSnapshot | null) => void;

export class NodeCache {
  private current_: NodeSnapshot | null = null;
  private readonly listeners = new Set<NodeCacheListener>();
  private readonly tasks: SerialTasks;
  private off_state: (() => void) | null = null;
  private readonly onEvent = (e: WatchEvent): void => {
    if (e.type === 'NodeCreated' || e.type === 'NodeDataChanged' || e.type === 'NodeDeleted') this.refresh();
  };
  private started = false;
  /** Errors of background refreshes (the cache keeps going). */
  readonly errors: unknown[] = [];

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
  ) {
    this.tasks = new SerialTasks((e) => this.errors.push(e));
  }

  /** Starts watching and loads the node; resolves once the first value is known. */
  async start(): Promise<void> {
    if (this.started) throw new Error('NodeCache already started');
    this.started = true;
    await this.client.addWatch(this.path, this.onEvent, { mode: 'persistent' });
    this.off_state = this.client.on('state', (e) => {
      if (e.state === 'connected' && e.previous === 'disconnected') this.refresh();
    });
    this.refresh();
    await this.tasks.idle();
  }

  /** The cached value; null while the node does not exist. */
  get current(): NodeSnapshot | null {
    return this.current_;
  }

  listen(listener: NodeCacheListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when the refreshes caused by events received so far are applied. */
  settled(): Promise<void> {
    return this.tasks.idle();
  }

  async close(): Promise<void> {
    this.tasks.close();
    this.off_state?.();
    await this.client.removeWatches(this.path, 'persistent', { listener: this.onEvent }).catch(() => undefined);
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
