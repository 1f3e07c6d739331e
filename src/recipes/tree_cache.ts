// A local copy of a whole subtree, kept current with one persistent-recursive watch on its root.
// Recursive watches report NodeCreated / NodeDataChanged / NodeDeleted for every node below the
// root (never NodeChildrenChanged), so membership follows from created and deleted events.
// Every event is handled in order by re-reading what it names (SerialTasks), so a slow read never
// overwrites newer state. After a reconnect the cache reloads the tree and reports the
// differences (the server does not replay what happened while the client was away).

import { isZooKeeperError, type Stat, type WatchEvent, type ZooKeeperClient } from '../client/index.js';
import { selfAndAncestors } from '../client/watch_registry.js';
import { childPath } from './sequence.js';
import { SerialTasks } from './serial_tasks.js';

export interface TreeNode {
  data: Buffer | null;
  stat: Stat;
}

export interface TreeCacheEvent {
  type: 'added' | 'updated' | 'removed';
  path: string;
  /** The node after the change (before it, for 'removed'). */
  node: TreeNode;
}

export type TreeCacheListener = (event: TreeCacheEvent) => void;

export class TreeCache {
  private readonly nodes = new Map<string, TreeNode>();
  private readonly kids = new Map<string, Set<string>>();
  private readonly listeners = new Set<TreeCacheListener>();
  private readonly tasks: SerialTasks;
  private off_state: (() => void) | null = null;
  private started = false;
  readonly errors: unknown[] = [];
  private readonly onEvent = (e: WatchEvent): void => this.handle(e);

  constructor(
    private readonly client: ZooKeeperClient,
    readonly root: string,
  ) {
    this.tasks = new SerialTasks((e) => this.errors.push(e));
  }

  /** Starts watching, loads the subtree; resolves once it is loaded. */
  async start(): Promise<void> {
    if (this.started) throw new Error('TreeCache already started');
    this.started = true;
    await this.client.addWatch(this.root, this.onEvent, { mode: 'persistentRecursive' });
    this.off_state = this.client.on('state', (e) => {
      if (e.state === 'connected' && e.previous === 'disconnected') this.tasks.push(() => this.reload());
    });
    this.tasks.push(() => this.reload());
    await this.tasks.idle();
  }

  get(path: string): TreeNode | undefined {
    return this.nodes.get(path);
  }

  /** Child names of a cached node, sorted; [] when unknown. */
  children(path: string): string[] {
    return [...(this.kids.get(path) ?? [])].sort();
  }

  /** Every cached path, sorted. */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  get size(): number {
    return this.nodes.size;
  }

  listen(listener: TreeCacheListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when the reads caused by events received so far are applied. */
  settled(): Promise<void> {
    return this.tasks.idle();
  }

  async close(): Promise<void> {
    this.tasks.close();
    this.off_state?.();
    await this.client.removeWatches(this.root, 'persistentRecursive', { listener: this.onEvent }).catch(() => undefined);
  }

  private handle(e: WatchEvent): void {
    if (e.type === 'NodeCreated') this.tasks.push(() => this.load(e.path, null));
    else if (e.type === 'NodeDataChanged') this.tasks.push(() => this.refreshData(e.path));
    else if (e.type === 'NodeDeleted') this.tasks.push(async () => this.removeSubtree(e.path));
  }

  private async reload(): Promise<void> {
    const seen = new Set<string>();
    await this.load(this.root, seen);
    for (const path of [...this.nodes.keys()]) if (!seen.has(path)) this.removeSubtree(path);
  }

  /** Reads `path` and everything below it; a node that is gone is removed. */
  private async load(path: string, seen: Set<string> | null): Promise<void> {
    let got: TreeNode;
    let children: string[];
    try {
      [got, children] = await Promise.all([this.client.getData(path), this.client.getChildren(path)]);
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE')) throw e;
      this.removeSubtree(path);
      return;
    }
    seen?.add(path);
    this.put(path, got);
    await Promise.all(children.map((c) => this.load(childPath(path, c), seen)));
  }

  private async refreshData(path: string): Promise<void> {
    try {
      this.put(path, await this.client.getData(path));
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE')) throw e;
      this.removeSubtree(path);
    }
  }

  private put(path: string, node: TreeNode): void {
    const before = this.nodes.get(path);
    if (before !== undefined && before.stat.mzxid === node.stat.mzxid && before.stat.czxid === node.stat.czxid) return;
    this.nodes.set(path, node);
    if (path !== this.root) {
      const parent = selfAndAncestors(path)[1]!;
      let set = this.kids.get(parent);
      if (set === undefined) this.kids.set(parent, (set = new Set()));
      set.add(path.slice(path.lastIndexOf('/') + 1));
    }
    this.emit({ type: before === undefined ? 'added' : 'updated', path, node });
  }

  private removeSubtree(path: string): void {
    for (const name of this.children(path)) this.removeSubtree(childPath(path, name));
    const node = this.nodes.get(path);
    if (node === undefined) return;
    this.nodes.delete(path);
    this.kids.delete(path);
    if (path !== this.root) this.kids.get(selfAndAncestors(path)[1]!)?.delete(path.slice(path.lastIndexOf('/') + 1));
    this.emit({ type: 'removed', path, node });
  }

  private emit(event: TreeCacheEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}
