// The watch table of one session shard: ZooKeeper's DataTree watch logic (dataWatches +
// childWatches, addWatch / triggerWatch / setWatches / removeWatch / containsWatcher, 3.9 rules)
// without the tree. Watchers are numeric ids, one per client connection; the caller routes each
// Delivery to its connection, filters by READ ACL (ZooKeeper does, in ServerCnxn.process) and
// encodes it as a notification (xid -1, ReplyHeader.zxid = Delivery.zxid).
//
// Pure and synchronous: no I/O, no clock. Rules live in the tables below, as data.
//
// Monitoring never scans the tables: the counts over both tables (watches, distinct paths,
// distinct watchers, distinct (watcher, path) pairs) are kept as the tables change (ModeTable
// events). Work that is O(watches) by nature is done in slices by the caller: listings
// (pairsByWatcher / pairsByPath, lazy) and dropping a watcher with many watches (removeWatcher
// defers it; workStep removes a bounded number of entries per call).

import assert from 'node:assert/strict';
import { KeeperError, Err } from '../protocol/errors.js';
import { EventType, KeeperState, WatcherType } from '../protocol/constants.js';
import type { SetWatches, SetWatches2, WatcherEvent } from '../protocol/types.js';
import { Mode, MODES_ALL, ModeTable, type ModeTableEvents } from './mode_table.js';

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

/** Counts over the union of both tables, for wchs (what ZooKeeper's WatchManager.toString says). */
export interface WatchSummary {
  /** Watchers (connections) holding at least one watch. */
  readonly watchers: number;
  /** Distinct watched paths. */
  readonly paths: number;
  /** Distinct (watcher, path) pairs: a data and a child watch on one path count once. */
  readonly pairs: number;
}

export interface WatchTableOptions {
  /**
   * removeWatcher drops a watcher with at most this many entries at once; a bigger one is
   * retired and its entries are removed by workStep, so closing a connection that holds 10^6
   * watches never stalls the caller. Default: no limit (always at once).
   */
  readonly removal_entries_max?: number;
}

/** Counts, over the two tables, how many paths / watchers / pairs are present in both. */
class Overlap {
  paths = 0;
  watchers = 0;
  pairs = 0;

  /** The events of one table, checked against the other: the overlap changes only when what
   *  appears in (or leaves) this table is present in the other. */
  eventsOf(other: () => ModeTable): ModeTableEvents {
    return {
      pathAdded: (p) => {
        if (other().hasPath(p)) this.paths += 1;
      },
      pathRemoved: (p) => {
        if (other().hasPath(p)) this.paths -= 1;
      },
      watcherAdded: (w) => {
        if (other().hasWatcher(w)) this.watchers += 1;
      },
      watcherRemoved: (w) => {
        if (other().hasWatcher(w)) this.watchers -= 1;
      },
      entryAdded: (p, w) => {
        if (other().has(p, w, MODES_ALL)) this.pairs += 1;
      },
      entryRemoved: (p, w) => {
        if (other().has(p, w, MODES_ALL)) this.pairs -= 1;
      },
    };
  }
}

export class WatchTable {
  /** Invariant: paths / watchers / pairs = |data ∩ child| for each kind of item. */
  private readonly overlap = new Overlap();
  private readonly tables: Readonly<Record<TableName, ModeTable>>;
  /**
   * Watchers dropped by removeWatcher whose entries are still being removed (workStep), with the
   * cursor over what is left. A retired watcher gets no delivery, holds no watch as far as
   * check/remove/watchCountOf/listings are concerned; its remaining entries still count in the
   * totals (they are in the tables) until workStep removes them.
   */
  private readonly retiring = new Map<number, Iterator<readonly [ModeTable, string]>>();
  private readonly removal_entries_max: number;

  constructor(options: WatchTableOptions = {}) {
    const data: ModeTable = new ModeTable(this.overlap.eventsOf(() => child));
    const child: ModeTable = new ModeTable(this.overlap.eventsOf(() => data));
    this.tables = { data, child };
    this.removal_entries_max = options.removal_entries_max ?? Number.POSITIVE_INFINITY;
    assert(this.removal_entries_max >= 1, 'removal_entries_max must be at least 1');
  }

  /** Registers a watch. Registering the same watch again is a no-op (returns false). */
  addWatch(path: string, watcher_id: number, kind: WatchKind): boolean {
    assertPath(path);
    // A connection id is reused only after 2^32 others: finish the old owner's removal first.
    if (this.retiring.size > 0 && this.retiring.has(watcher_id)) this.finishRetiring(watcher_id);
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
    if (tables === undefined) assert.fail(`event type ${type} is not fired by a txn`);
    // Every event of every txn comes through here on every shard: allocate nothing when no
    // watch can match (the common case).
    if (!this.mayFire(tables, path)) return NO_DELIVERIES;
    const fired = new Set<number>();
    for (const table of tables) this.tables[table].trigger(path, fired);
    // Retired watchers' entries still fire (one-shot ones are consumed): nobody hears it.
    if (this.retiring.size > 0) for (const watcher_id of this.retiring.keys()) fired.delete(watcher_id);
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

  /**
   * Drops every watch of a watcher (its connection closed or moved). From now on it gets no
   * delivery and holds no watch; a watcher with more than removal_entries_max entries is retired
   * and its entries leave the tables (and the totals) as workStep removes them.
   */
  removeWatcher(watcher_id: number): void {
    if (this.retiring.has(watcher_id)) return;
    const { data, child } = this.tables;
    if (data.sizeOf(watcher_id) + child.sizeOf(watcher_id) <= this.removal_entries_max) {
      data.removeWatcher(watcher_id);
      child.removeWatcher(watcher_id);
      return;
    }
    this.retiring.set(watcher_id, retiredEntries(watcher_id, [data, child]));
  }

  /** True while retired watchers still have entries to remove (call workStep). */
  hasPendingRemovals(): boolean {
    return this.retiring.size > 0;
  }

  /** Removes at most `entries_max` entries of retired watchers. Returns how many it removed. */
  workStep(entries_max: number): number {
    let removed = 0;
    for (const [watcher_id, cursor] of this.retiring) {
      for (;;) {
        if (removed >= entries_max) return removed;
        const next = cursor.next();
        if (next.done === true) break;
        const [table, path] = next.value;
        // The cursor only yields entries still in the table (a Set iterator skips deleted ones).
        const gone = table.removeEntry(path, watcher_id);
        assert(gone, 'retired entry vanished under its cursor');
        removed += 1;
      }
      this.retiring.delete(watcher_id);
    }
    return removed;
  }

  private finishRetiring(watcher_id: number): void {
    this.retiring.delete(watcher_id);
    this.tables.data.removeWatcher(watcher_id);
    this.tables.child.removeWatcher(watcher_id);
  }

  /**
   * removeWatches (opcode 18). Returns false when nothing matched: the caller replies NOWATCHER.
   * Throws KeeperError(MARSHALLINGERROR) for an unknown WatcherType, as ZooKeeper's
   * WatcherType.fromInt failure ends up.
   */
  removeWatches(path: string, watcher_id: number, watcher_type: number): boolean {
    const rule = ruleFor(REMOVE_RULES, watcher_type);
    if (this.retiring.has(watcher_id)) return false;
    let removed = false;
    for (const [table, mask] of rule) {
      removed = this.tables[table].remove(path, watcher_id, mask) || removed;
    }
    return removed;
  }

  /** checkWatches (opcode 17). False → the caller replies NOWATCHER. Same errors as removeWatches. */
  checkWatches(path: string, watcher_id: number, watcher_type: number): boolean {
    const rule = ruleFor(CHECK_RULES, watcher_type);
    if (this.retiring.has(watcher_id)) return false;
    for (const [table, mask] of rule) {
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

  // ---- stats (mntr zk_watch_count, wchs, wchc, wchp, cons): O(1) each, or lazy ----

  /** (path, watcher) entries over both tables: ZooKeeper's getWatchCount (mntr zk_watch_count).
   *  A persistent watch counts 2 (it sits in both tables), a data + child watch pair too. */
  watchCount(): number {
    return this.tables.data.size() + this.tables.child.size();
  }

  /** Watch entries of one connection (both tables); 0 once it is removed. */
  watchCountOf(watcher_id: number): number {
    if (this.retiring.has(watcher_id)) return 0;
    return this.tables.data.sizeOf(watcher_id) + this.tables.child.sizeOf(watcher_id);
  }

  /** Distinct watched paths over both tables. (ZooKeeper's wchs counts dataWatches only.) */
  pathCount(): number {
    return this.tables.data.pathCount() + this.tables.child.pathCount() - this.overlap.paths;
  }

  /** Distinct watchers holding at least one watch. */
  watcherCount(): number {
    return this.tables.data.watcherCount() + this.tables.child.watcherCount() - this.overlap.watchers;
  }

  /** Distinct (watcher, path) pairs over both tables. */
  pairCount(): number {
    return this.tables.data.size() + this.tables.child.size() - this.overlap.pairs;
  }

  /**
   * The counts by brute force over both tables: O(watches). Never used to answer anything; it is
   * what the incremental counts are checked against (tests).
   */
  scanCounts(): WatchSummary & { readonly watches: number } {
    const { data, child } = this.tables;
    const paths = new Set<string>();
    const watchers = new Set<number>();
    const pairs = new Set<string>();
    let watches = 0;
    for (const table of [data, child]) {
      for (const [path, entries] of table.paths()) {
        paths.add(path);
        for (const watcher_id of entries.keys()) {
          watches += 1;
          watchers.add(watcher_id);
          pairs.add(`${watcher_id} ${path}`);
        }
      }
    }
    return { watches, paths: paths.size, watchers: watchers.size, pairs: pairs.size };
  }

  /** wchs's three numbers, O(1). Retired watchers' remaining entries are still counted. */
  summary(): WatchSummary {
    return { watchers: this.watcherCount(), paths: this.pathCount(), pairs: this.pairCount() };
  }

  /**
   * wchc: every (watcher, path) pair of the union of both tables (ZooKeeper lists dataWatches
   * only, which hides getChildren watches), a watcher's pairs in at most two runs: the data
   * table's, then those only in the child table. Lazy and live: consume it in slices while the
   * table keeps changing. A pair yielded is in the table at that moment and its watcher is not
   * retired; a pair whose entries do not change during the walk is yielded; one added or removed
   * meanwhile may or may not be; a pair repeats only if its entries changed during the walk.
   */
  *pairsByWatcher(): Generator<readonly [number, string], void, undefined> {
    const { data, child } = this.tables;
    for (const [watcher_id, paths] of data.watchers()) {
      for (const path of paths) if (this.live(watcher_id)) yield [watcher_id, path];
    }
    for (const [watcher_id, paths] of child.watchers()) {
      for (const path of paths) {
        if (!data.has(path, watcher_id, MODES_ALL) && this.live(watcher_id)) yield [watcher_id, path];
      }
    }
  }

  /** wchp: the same pairs as pairsByWatcher as [path, watcher], a path's in at most two runs. */
  *pairsByPath(): Generator<readonly [string, number], void, undefined> {
    const { data, child } = this.tables;
    for (const [path, watchers] of data.paths()) {
      for (const watcher_id of watchers.keys()) if (this.live(watcher_id)) yield [path, watcher_id];
    }
    for (const [path, watchers] of child.paths()) {
      for (const watcher_id of watchers.keys()) {
        if (!data.has(path, watcher_id, MODES_ALL) && this.live(watcher_id)) yield [path, watcher_id];
      }
    }
  }

  /** Not retired (checked per pair: a watcher may be retired in the middle of a walk). */
  private live(watcher_id: number): boolean {
    return this.retiring.size === 0 || !this.retiring.has(watcher_id);
  }
}

/** Every entry a retired watcher still has, table by table (live: the tables change between steps). */
function* retiredEntries(watcher_id: number, tables: readonly ModeTable[]): Generator<readonly [ModeTable, string]> {
  for (const table of tables) {
    const paths = table.watcherPaths(watcher_id);
    if (paths === undefined) continue;
    // The set is the table's own: removing the entry we are on is legal for a Set iterator, and
    // once its last path goes the table drops the set and this loop ends.
    for (const path of paths) yield [table, path];
  }
}

function ruleFor(rules: ReadonlyMap<number, Rule>, watcher_type: number): Rule {
  const rule = rules.get(watcher_type);
  if (rule === undefined) throw new KeeperError(Err.MARSHALLINGERROR);
  return rule;
}

function assertPath(path: string): void {
  if (!path.startsWith('/')) assert.fail(`not an absolute path: ${path}`);
}
