// The watch table of one session shard: ZooKeeper's DataTree watch logic (dataWatches +
// childWatches, addWatch / triggerWatch / setWatches / removeWatch / containsWatcher, 3.9 rules)
// without the tree. Watchers are numeric ids, one per client connection; the caller routes each
// Delivery to its connection, filters by READ ACL (ZooKeeper does, in ServerCnxn.process) and
// encodes it as a notification (xid -1, ReplyHeader.zxid = Delivery.zxid).
//
// Pure and synchronous: no I/O, no clock. Rules live in the tables below, as data.

import assert from 'node:assert/strict';
import { KeeperError, Err } from '../protocol/errors.js';
import { EventType, KeeperState, WatcherType } from '../protocol/constants.js';
import type { SetWatches, SetWatches2, WatcherEvent } from '../protocol/types.js';
import { Mode, MODES_ALL, ModeTable } from './mode_table.js';

/**
 * What a read or addWatch registers:
 * - 'data': getData, or exists on an existing node;
 * - 'exist': exists on a missing node. ZooKeeper stores it exactly like 'data' (a one-shot entry
 *   in dataWatches: NodeCreated, NodeDataChanged and NodeDeleted all fire it); the kind exists
 *   only so callers can say what they mean;
 * - 'child': getChildren;
 * - 'persistent', 'persistentRecursive': addWatch modes PERSISTENT (0) / PERSISTENT_RECURSIVE (1).
 */
export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

export interface Delivery {
  watcher_id: number;
  /** state is always SyncConnected (3); shared between the deliveries of one trigger: read-only. */
  event: Readonly<WatcherEvent>;
  /** zxid of the txn that caused the event; -1 for events synthesised by setWatches. */
  zxid: number;
}

/** What setWatches needs of the tree: the node's stat, or undefined if it does not exist. */
export interface TreeView {
  statOf(path: string): { mzxid: number; pzxid: number } | undefined;
}

/** The event types a committed txn triggers (tree.apply returns them). */
export type TriggerType =
  | typeof EventType.NodeCreated
  | typeof EventType.NodeDeleted
  | typeof EventType.NodeDataChanged
  | typeof EventType.NodeChildrenChanged;

/** SetWatches (opcode 101) or SetWatches2 (105): the persistent lists exist only in the latter. */
export type SetWatchesLists = SetWatches &
  Partial<Pick<SetWatches2, 'persistentWatches' | 'persistentRecursiveWatches'>>;

/** WatchedEvent.NO_ZXID: the zxid of events that no txn caused (setWatches replay). */
export const NO_ZXID = -1;

type TableName = 'data' | 'child';
type Rule = readonly (readonly [TableName, number])[];

/** Registrations per kind (DataTree.getData/statNode/getChildren/addWatch). */
const ADD_RULES: Readonly<Record<WatchKind, Rule>> = {
  data: [['data', Mode.STANDARD]],
  exist: [['data', Mode.STANDARD]],
  child: [['child', Mode.STANDARD]],
  // A persistent watch is a data and a child watch that survive firing.
  persistent: [
    ['data', Mode.PERSISTENT],
    ['child', Mode.PERSISTENT],
  ],
  // Recursive watches live in dataWatches only, so they never see NodeChildrenChanged.
  persistentRecursive: [['data', Mode.RECURSIVE]],
};

/** Tables an event fires (DataTree.createNode/deleteNode/setData). On NodeDeleted ZooKeeper fires
 *  dataWatches, then childWatches suppressing the watchers already notified: one event each. */
const TRIGGER_RULES: ReadonlyMap<number, readonly TableName[]> = new Map([
  [EventType.NodeCreated, ['data']],
  [EventType.NodeDataChanged, ['data']],
  [EventType.NodeDeleted, ['data', 'child']],
  [EventType.NodeChildrenChanged, ['child']],
]);

/** removeWatches per WatcherType (DataTree.removeWatch, 3.9). Note that Data removes the one-shot
 *  data/exist watch only: a persistent watch on the path survives (only Persistent or Any
 *  remove it), and Children leaves persistent watches alone too. */
const REMOVE_RULES: ReadonlyMap<number, Rule> = new Map<number, Rule>([
  [WatcherType.Children, [['child', Mode.STANDARD]]],
  [WatcherType.Data, [['data', Mode.STANDARD]]],
  [
    WatcherType.Any,
    [
      ['child', MODES_ALL],
      ['data', MODES_ALL],
    ],
  ],
  [
    WatcherType.Persistent,
    [
      ['child', Mode.PERSISTENT],
      ['data', Mode.PERSISTENT],
    ],
  ],
  [WatcherType.PersistentRecursive, [['data', Mode.RECURSIVE]]],
]);

/** checkWatches per WatcherType (DataTree.containsWatcher, 3.9). Exact path only: a recursive
 *  watch on an ancestor does not count. */
const CHECK_RULES: ReadonlyMap<number, Rule> = new Map<number, Rule>([
  [WatcherType.Children, [['child', Mode.STANDARD]]],
  [WatcherType.Data, [['data', Mode.STANDARD]]],
  [
    WatcherType.Any,
    [
      ['child', MODES_ALL],
      ['data', MODES_ALL],
    ],
  ],
  [WatcherType.Persistent, [['data', Mode.PERSISTENT]]],
  [WatcherType.PersistentRecursive, [['data', Mode.RECURSIVE]]],
]);

const NO_DELIVERIES: readonly Delivery[] = Object.freeze([]);

export class WatchTable {
  private readonly tables: Readonly<Record<TableName, ModeTable>> = {
    data: new ModeTable(),
    child: new ModeTable(),
  };

  /** Registers a watch. Registering the same watch again is a no-op (returns false). */
  addWatch(path: string, watcher_id: number, kind: WatchKind): boolean {
    assertPath(path);
    let added = false;
    for (const [table, mode] of ADD_RULES[kind]) {
      added = this.tables[table].add(path, watcher_id, mode) || added;
    }
    return added;
  }

  /**
   * Fires the watches for one event of a committed txn. A watcher gets at most one delivery per
   * call; one-shot watches that fire are removed, persistent ones stay.
   */
  trigger(type: TriggerType, path: string, zxid: number): readonly Delivery[] {
    const tables = TRIGGER_RULES.get(type);
    assert(tables !== undefined, `event type ${type} is not fired by a txn`);
    // Every event of every txn comes through here on every shard: allocate nothing when no
    // watch can match (the common case).
    if (!this.mayFire(tables, path)) return NO_DELIVERIES;
    const fired = new Set<number>();
    for (const table of tables) this.tables[table].trigger(path, fired);
    if (fired.size === 0) return NO_DELIVERIES;
    const event: Readonly<WatcherEvent> = Object.freeze({ type, state: KeeperState.SyncConnected, path });
    const deliveries: Delivery[] = [];
    for (const watcher_id of fired) deliveries.push({ watcher_id, event, zxid });
    return deliveries;
  }

  private mayFire(tables: readonly TableName[], path: string): boolean {
    for (const table of tables) if (this.tables[table].mayFire(path)) return true;
    return false;
  }

  /** Drops every watch of a watcher (its connection closed or moved). */
  removeWatcher(watcher_id: number): void {
    this.tables.data.removeWatcher(watcher_id);
    this.tables.child.removeWatcher(watcher_id);
  }

  /**
   * removeWatches (opcode 18). Returns false when nothing matched: the caller replies NOWATCHER.
   * Throws KeeperError(MARSHALLINGERROR) for an unknown WatcherType, as ZooKeeper's
   * WatcherType.fromInt failure ends up.
   */
  removeWatches(path: string, watcher_id: number, watcher_type: number): boolean {
    let removed = false;
    for (const [table, mask] of ruleFor(REMOVE_RULES, watcher_type)) {
      removed = this.tables[table].remove(path, watcher_id, mask) || removed;
    }
    return removed;
  }

  /** checkWatches (opcode 17). False → the caller replies NOWATCHER. Same errors as removeWatches. */
  checkWatches(path: string, watcher_id: number, watcher_type: number): boolean {
    for (const [table, mask] of ruleFor(CHECK_RULES, watcher_type)) {
      if (this.tables[table].has(path, watcher_id, mask)) return true;
    }
    return false;
  }

  /**
   * SetWatches / SetWatches2 (xid -8) after a reconnect: for each watch the client still holds,
   * either fire the event it missed (relative to req.relativeZxid, the last zxid it saw) or
   * register it again (DataTree.setWatches). Returned events carry zxid -1 (NO_ZXID), as
   * ZooKeeper's. A plain SetWatches has no persistent lists.
   */
  setWatches(watcher_id: number, req: SetWatchesLists, tree: TreeView): Delivery[] {
    const deliveries: Delivery[] = [];
    const fire = (type: number, path: string): void => {
      const event = { type, state: KeeperState.SyncConnected, path };
      deliveries.push({ watcher_id, event, zxid: NO_ZXID });
    };
    const relative_zxid = req.relativeZxid;
    for (const path of req.dataWatches) {
      const stat = tree.statOf(path);
      if (stat === undefined) fire(EventType.NodeDeleted, path);
      else if (stat.mzxid > relative_zxid) fire(EventType.NodeDataChanged, path);
      else this.addWatch(path, watcher_id, 'data');
    }
    for (const path of req.existWatches) {
      if (tree.statOf(path) !== undefined) fire(EventType.NodeCreated, path);
      else this.addWatch(path, watcher_id, 'exist');
    }
    for (const path of req.childWatches) {
      const stat = tree.statOf(path);
      if (stat === undefined) fire(EventType.NodeDeleted, path);
      else if (stat.pzxid > relative_zxid) fire(EventType.NodeChildrenChanged, path);
      else this.addWatch(path, watcher_id, 'child');
    }
    for (const path of req.persistentWatches ?? []) this.addWatch(path, watcher_id, 'persistent');
    for (const path of req.persistentRecursiveWatches ?? []) {
      this.addWatch(path, watcher_id, 'persistentRecursive');
    }
    return deliveries;
  }

  // ---- stats (mntr zk_watch_count, wchs, wchc, wchp, cons) ----

  /** (path, watcher) entries over both tables: ZooKeeper's getWatchCount (mntr zk_watch_count).
   *  A persistent watch counts 2 (it sits in both tables), a data + child watch pair too. */
  watchCount(): number {
    return this.tables.data.size() + this.tables.child.size();
  }

  /** Watch entries of one connection (both tables). */
  watchCountOf(watcher_id: number): number {
    return this.tables.data.sizeOf(watcher_id) + this.tables.child.sizeOf(watcher_id);
  }

  /** Distinct watched paths over both tables. (ZooKeeper's wchs counts dataWatches only.) */
  pathCount(): number {
    return this.byPath().size;
  }

  /** Distinct watchers holding at least one watch. */
  watcherCount(): number {
    return this.byWatcher().size;
  }

  /** wchc: watcher → distinct paths it watches (union of both tables; ZooKeeper's lists
   *  dataWatches only, which hides getChildren watches). O(all watches): for 4lw only. */
  byWatcher(): Map<number, string[]> {
    const sets = new Map<number, Set<string>>();
    for (const table of [this.tables.data, this.tables.child]) {
      for (const [watcher_id, paths] of table.watchers()) {
        const set = sets.get(watcher_id) ?? new Set<string>();
        for (const path of paths) set.add(path);
        sets.set(watcher_id, set);
      }
    }
    return new Map([...sets].map(([id, set]) => [id, [...set]]));
  }

  /** wchp: path → distinct watchers (union of both tables). O(all watches): for 4lw only. */
  byPath(): Map<string, number[]> {
    const sets = new Map<string, Set<number>>();
    for (const table of [this.tables.data, this.tables.child]) {
      for (const [path, watchers] of table.paths()) {
        const set = sets.get(path) ?? new Set<number>();
        for (const watcher_id of watchers.keys()) set.add(watcher_id);
        sets.set(path, set);
      }
    }
    return new Map([...sets].map(([path, set]) => [path, [...set]]));
  }
}

function ruleFor(rules: ReadonlyMap<number, Rule>, watcher_type: number): Rule {
  const rule = rules.get(watcher_type);
  if (rule === undefined) throw new KeeperError(Err.MARSHALLINGERROR);
  return rule;
}

function assertPath(path: string): void {
  assert(path.startsWith('/'), `not an absolute path: ${path}`);
}
