// A local copy of a whole subtree, kept current with one persistent-recursive watch on its root.
// Recursive watches report NodeCreated / NodeDataChanged / NodeDeleted for every node below the
// root (never NodeChildrenChanged), so membership follows from created and deleted events.
// Every event is handled in order by re-reading what it names (SerialTasks), so a slow read never
// overwrites newer state. After a reconnect the cache reloads the tree and reports the
// differences (the server does not replay what happened while the client was away).

import { isZooKeeperError, type Stat, type WatchEvent, type ZooKeeperClient } from '../client/index.js';
import { selfAndAncestors } from '../client/watch_registry.js';
import { childPath } from './sequence.js';
import { WatchedCache } from './watched_cache.js';

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

export class TreeCache extends WatchedCache<TreeCacheListener> {
  private readonly nodes = new Map<string, TreeNode>();
  private readonly kids = new Map<string, Set<string>>();

  constructor(
    client: ZooKeeperClient,
    readonly root: string,
  ) {
    super(client, root, 'persistentRecursive');
  }

  protected resync(): void {
    this.tasks.push(() => this.reload());
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

  protected onWatchEvent(e: WatchEvent): void {
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
