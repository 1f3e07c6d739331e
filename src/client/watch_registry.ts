// The client's watch table: listeners keyed by (kind, path), chroot-relative paths. A server
// event fires the listeners ZooKeeper's ZKWatchManager.materialize would: one-shot kinds are
// removed when they fire, persistent kinds stay. Which kinds an event type fires is data
// (FIRE_RULES). A listener registered several times on one path fires once per event.

import { EventType } from '../protocol/constants.js';
import type { WatchLists } from './set_watches.js';

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

export const WATCH_KINDS: readonly WatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];

export type NodeEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';
export type RemovedEventType = 'DataWatchRemoved' | 'ChildWatchRemoved' | 'PersistentWatchRemoved';
export type EventTypeName = NodeEventType | RemovedEventType;

export interface WatchEvent {
  readonly type: EventTypeName;
  /** Chroot-relative path of the node the event is about. */
  readonly path: string;
  /** zxid of the change (Apache ZooKeeper < 3.9 and replayed events: -1). */
  readonly zxid: number;
}

export type WatchListener = (event: WatchEvent) => void;

const EVENT_NAMES: ReadonlyMap<number, NodeEventType> = new Map([
  [EventType.NodeCreated, 'NodeCreated'],
  [EventType.NodeDeleted, 'NodeDeleted'],
  [EventType.NodeDataChanged, 'NodeDataChanged'],
  [EventType.NodeChildrenChanged, 'NodeChildrenChanged'],
]);

export function nodeEventName(type: number): NodeEventType | undefined {
  return EVENT_NAMES.get(type);
}

/**
 * Per event type: the one-shot kinds it fires (and removes) on the path, and whether
 * persistent-recursive watches on the path and its ancestors fire (never for child events:
 * recursive watches promise no NodeChildrenChanged). Persistent watches on the path always fire.
 */
const FIRE_RULES: Readonly<Record<NodeEventType, { once: readonly WatchKind[]; recursive: boolean }>> = {
  NodeCreated: { once: ['data', 'exist'], recursive: true },
  NodeDataChanged: { once: ['data', 'exist'], recursive: true },
  NodeDeleted: { once: ['data', 'exist', 'child'], recursive: true },
  NodeChildrenChanged: { once: ['child'], recursive: false },
};

/** Paths from `path` up to '/', `path` first. */
export function selfAndAncestors(path: string): string[] {
  const out = [path];
  for (let p = path; p !== '/'; ) {
    const slash = p.lastIndexOf('/');
    p = slash <= 0 ? '/' : p.slice(0, slash);
    out.push(p);
  }
  return out;
}

export class WatchRegistry {
  private readonly tables = new Map<WatchKind, Map<string, Set<WatchListener>>>(WATCH_KINDS.map((k) => [k, new Map()]));

  private table(kind: WatchKind): Map<string, Set<WatchListener>> {
    return this.tables.get(kind)!;
  }

  add(kind: WatchKind, path: string, listener: WatchListener): void {
    const t = this.table(kind);
    let set = t.get(path);
    if (set === undefined) t.set(path, (set = new Set()));
    set.add(listener);
  }

  has(kind: WatchKind, path: string): boolean {
    return this.table(kind).has(path);
  }

  /** Removes `listener` (every listener when undefined); returns what was removed. */
  remove(kind: WatchKind, path: string, listener?: WatchListener): WatchListener[] {
    const t = this.table(kind);
    const set = t.get(path);
    if (set === undefined) return [];
    if (listener === undefined) {
      t.delete(path);
      return [...set];
    }
    if (!set.delete(listener)) return [];
    if (set.size === 0) t.delete(path);
    return [listener];
  }

  /** The listeners a server event fires, each once; one-shot registrations are consumed. */
  trigger(type: NodeEventType, path: string): Set<WatchListener> {
    const rule = FIRE_RULES[type];
    const out = new Set<WatchListener>();
    for (const kind of rule.once) {
      for (const l of this.remove(kind, path)) out.add(l);
    }
    for (const l of this.table('persistent').get(path) ?? []) out.add(l);
    if (rule.recursive) {
      const rec = this.table('persistentRecursive');
      for (const p of selfAndAncestors(path)) for (const l of rec.get(p) ?? []) out.add(l);
    }
    return out;
  }

  /** Paths per kind (chroot-relative), for SetWatches after a reconnect. */
  lists(): WatchLists {
    const keys = (k: WatchKind) => [...this.table(k).keys()];
    return {
      data: keys('data'),
      exist: keys('exist'),
      child: keys('child'),
      persistent: keys('persistent'),
      persistentRecursive: keys('persistentRecursive'),
    };
  }

  /** Empties the table; returns every listener once. */
  clear(): Set<WatchListener> {
    const out = new Set<WatchListener>();
    for (const t of this.tables.values()) {
      for (const set of t.values()) for (const l of set) out.add(l);
      t.clear();
    }
    return out;
  }

  count(): number {
    let n = 0;
    for (const t of this.tables.values()) for (const set of t.values()) n += set.size;
    return n;
  }
}
