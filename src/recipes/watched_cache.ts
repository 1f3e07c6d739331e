// What NodeCache and TreeCache share: a persistent watch (no gap between one-shot watches re-armed
// by hand), a full re-read when the client reconnects (the server does not replay what changed
// meanwhile), refreshes applied one at a time in event order, and listeners.

import type { WatchEvent, ZooKeeperClient } from '../client/index.js';
import { SerialTasks } from './serial_tasks.js';

export abstract class WatchedCache<Listener> {
  protected readonly listeners = new Set<Listener>();
  protected readonly tasks: SerialTasks;
  /** Errors of background refreshes (the cache keeps going). */
  readonly errors: unknown[] = [];
  private off_state: (() => void) | null = null;
  private started = false;
  private readonly onEvent = (e: WatchEvent): void => this.onWatchEvent(e);

  protected constructor(
    protected readonly client: ZooKeeperClient,
    private readonly watch_path: string,
    private readonly mode: 'persistent' | 'persistentRecursive',
  ) {
    this.tasks = new SerialTasks((e) => this.errors.push(e));
  }

  /** An event of the persistent watch: queue what it calls for on `tasks`. */
  protected abstract onWatchEvent(e: WatchEvent): void;

  /** Queue a full re-read (at start and after a reconnect). */
  protected abstract resync(): void;

  /** Starts watching and loads; resolves once the first full read is applied. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`${this.constructor.name} already started`);
    this.started = true;
    await this.client.addWatch(this.watch_path, this.onEvent, { mode: this.mode });
    this.off_state = this.client.on('state', (e) => {
      if (e.state === 'connected' && e.previous === 'disconnected') this.resync();
    });
    this.resync();
    await this.tasks.idle();
  }

  listen(listener: Listener): () => void {
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
    await this.client.removeWatches(this.watch_path, this.mode, { listener: this.onEvent }).catch(() => undefined);
  }
}
