// One of ZooKeeper's two watch managers (DataTree keeps `dataWatches` and `childWatches`, both
// `WatchManager`s): for every path, the watchers registered on it and, per (path, watcher), the
// set of modes registered, as bits (ZooKeeper's `WatchStats`, ZOOKEEPER-4466 in 3.9: a watcher
// may hold a one-shot and a persistent watch on the same path at once).
//
// Pure and synchronous. Cost per trigger: one Map lookup for the path, plus one per ancestor
// only while some recursive watch exists in this table. Nothing here is O(all watches) except
// removeWatcher of a watcher with that many entries (callers with big watchers remove them in
// slices: watcherPaths + removeEntry) and the iterators, which callers consume in slices.

import assert from 'node:assert/strict';

/** Watch modes as bits (WatcherMode: STANDARD, PERSISTENT, PERSISTENT_RECURSIVE). */
export const Mode = {
  /** One-shot: removed when it fires. */
  STANDARD: 1,
  /** Kept when it fires; fires for events on its own path only. */
  PERSISTENT: 2,
  /** Kept when it fires; fires for events on its path and on every descendant. */
  RECURSIVE: 4,
} as const;

export const MODES_ALL = Mode.STANDARD | Mode.PERSISTENT | Mode.RECURSIVE;

/**
 * Told whenever the table's shape changes, so an owner holding several tables (WatchTable: data
 * and child) can keep counts over their union without ever scanning them. Called after the
 * change, once per change: a path appears when its first entry is added and disappears with its
 * last; likewise a watcher; an entry is one (path, watcher) pair whatever its mode bits.
 */
export interface ModeTableEvents {
  pathAdded(path: string): void;
  pathRemoved(path: string): void;
  watcherAdded(watcher_id: number): void;
  watcherRemoved(watcher_id: number): void;
  entryAdded(path: string, watcher_id: number): void;
  entryRemoved(path: string, watcher_id: number): void;
}

const NO_EVENTS: ModeTableEvents = {
  pathAdded: () => {},
  pathRemoved: () => {},
  watcherAdded: () => {},
  watcherRemoved: () => {},
  entryAdded: () => {},
  entryRemoved: () => {},
};

export class ModeTable {
  /** path → watcher_id → mode bits. Invariant: bits are never 0 (an empty entry is deleted),
   *  and an inner map is never empty (an empty path is deleted). */
  private readonly by_path = new Map<string, Map<number, number>>();
  /** Reverse index, so dropping a connection costs O(its watches).
   *  Invariant: by_path.get(p)?.has(w) ⇔ by_watcher.get(w)?.has(p); no empty sets. */
  private readonly by_watcher = new Map<number, Set<string>>();
  /** Entries whose bits include RECURSIVE; ancestors are walked only while this is > 0. */
  private recursive_count = 0;
  /** Number of (path, watcher) entries, whatever their bits (ZooKeeper's `size()`). */
  private entry_count = 0;

  constructor(private readonly events: ModeTableEvents = NO_EVENTS) {}

  /** Adds `mode` to (path, watcher). Returns false if that mode was already there. */
  add(path: string, watcher_id: number, mode: number): boolean {
    assertSingleMode(mode);
    let watchers = this.by_path.get(path);
    const path_new = watchers === undefined;
    if (watchers === undefined) {
      watchers = new Map();
      this.by_path.set(path, watchers);
    }
    const bits_old = watchers.get(watcher_id) ?? 0;
    if ((bits_old & mode) !== 0) return false;
    watchers.set(watcher_id, bits_old | mode);
    if (path_new) this.events.pathAdded(path);
    if (bits_old === 0) this.linkEntry(path, watcher_id);
    if (mode === Mode.RECURSIVE) this.recursive_count += 1;
    return true;
  }

  /** True if (path, watcher) holds any of the modes in `mask`. */
  has(path: string, watcher_id: number, mask: number): boolean {
    const bits = this.by_path.get(path)?.get(watcher_id) ?? 0;
    return (bits & mask) !== 0;
  }

  /** Clears the modes in `mask` from (path, watcher). Returns true if any was set. */
  remove(path: string, watcher_id: number, mask: number): boolean {
    const watchers = this.by_path.get(path);
    const bits_old = watchers?.get(watcher_id) ?? 0;
    if (watchers === undefined || (bits_old & mask) === 0) return false;
    this.setBits(path, watchers, watcher_id, bits_old, bits_old & ~mask);
    return true;
  }

  /** Clears every mode of (path, watcher). Returns false if there was no such entry. */
  removeEntry(path: string, watcher_id: number): boolean {
    return this.remove(path, watcher_id, MODES_ALL);
  }

  /**
   * Drops every entry of a watcher (its connection closed), in one go: O(its entries). A caller
   * that must not stall removes a big watcher in slices instead (watcherPaths + removeEntry).
   */
  removeWatcher(watcher_id: number): void {
    const paths = this.by_watcher.get(watcher_id);
    if (paths === undefined) return;
    // Deleting the element a Set iterator is on is legal and the iteration goes on; the set is
    // dropped from by_watcher when its last path goes, which ends the loop.
    for (const path of paths) this.removeEntry(path, watcher_id);
    assert(!this.by_watcher.has(watcher_id));
  }

  /** False when trigger(path) cannot fire anything: lets the caller skip allocating. */
  mayFire(path: string): boolean {
    return this.recursive_count > 0 || this.by_path.has(path);
  }

  /**
   * Fires the table for an event on `path` (ZooKeeper's `triggerWatch`) and adds the watchers
   * that fire to `fired`: every watcher with any mode on `path` itself (its one-shot mode is
   * consumed), and every watcher with a recursive mode on an ancestor of `path`.
   */
  trigger(path: string, fired: Set<number>): void {
    const watchers = this.by_path.get(path);
    if (watchers !== undefined) this.fireDirect(path, watchers, fired);
    if (this.recursive_count === 0) return;
    for (let p = parentOf(path); p !== undefined; p = parentOf(p)) {
      const ancestors = this.by_path.get(p);
      if (ancestors === undefined) continue;
      for (const [watcher_id, bits] of ancestors) {
        if ((bits & Mode.RECURSIVE) !== 0) fired.add(watcher_id);
      }
    }
  }

  private fireDirect(path: string, watchers: Map<number, number>, fired: Set<number>): void {
    let consumed: number[] | undefined;
    for (const [watcher_id, bits] of watchers) {
      fired.add(watcher_id);
      if ((bits & Mode.STANDARD) !== 0) (consumed ??= []).push(watcher_id);
    }
    if (consumed === undefined) return;
    // Mutated after the loop: deleting from a Map while iterating it is legal in JS, but
    // keeping the two phases apart keeps the invariants easy to see.
    for (const watcher_id of consumed) {
      const bits = watchers.get(watcher_id);
      assert(bits !== undefined);
      this.setBits(path, watchers, watcher_id, bits, bits & ~Mode.STANDARD);
    }
  }

  /** Number of (path, watcher) entries. */
  size(): number {
    return this.entry_count;
  }

  /** Number of (path, watcher) entries of one watcher. */
  sizeOf(watcher_id: number): number {
    return this.by_watcher.get(watcher_id)?.size ?? 0;
  }

  /** Number of entries holding a recursive mode (exposed for tests and metrics). */
  recursiveCount(): number {
    return this.recursive_count;
  }

  /** Number of distinct paths with at least one entry. */
  pathCount(): number {
    return this.by_path.size;
  }

  /** Number of distinct watchers with at least one entry. */
  watcherCount(): number {
    return this.by_watcher.size;
  }

  hasPath(path: string): boolean {
    return this.by_path.has(path);
  }

  hasWatcher(watcher_id: number): boolean {
    return this.by_watcher.has(watcher_id);
  }

  // The iterators below are live (Map and Set iterators): a caller may consume them in slices
  // while the table changes in between. An entry removed before it is reached is not seen, one
  // added meanwhile may or may not be; nothing is seen twice unless it was removed and added
  // again. They are views: never mutate through them.

  paths(): IterableIterator<[string, ReadonlyMap<number, number>]> {
    return this.by_path.entries();
  }

  watchers(): IterableIterator<[number, ReadonlySet<string>]> {
    return this.by_watcher.entries();
  }

  /** The paths of one watcher (live), or undefined if it has none. */
  watcherPaths(watcher_id: number): ReadonlySet<string> | undefined {
    return this.by_watcher.get(watcher_id);
  }

  /** The only writer of an existing entry's bits: keeps counters and both indexes in step. */
  private setBits(
    path: string,
    watchers: Map<number, number>,
    watcher_id: number,
    bits_old: number,
    bits_new: number,
  ): void {
    assert(bits_old !== 0 && (bits_new & ~bits_old) === 0, 'setBits only clears bits');
    if ((bits_old & Mode.RECURSIVE) !== 0 && (bits_new & Mode.RECURSIVE) === 0) {
      this.recursive_count -= 1;
      assert(this.recursive_count >= 0);
    }
    if (bits_new !== 0) {
      watchers.set(watcher_id, bits_new);
      return;
    }
    watchers.delete(watcher_id);
    const path_gone = watchers.size === 0;
    if (path_gone) this.by_path.delete(path);
    this.unlinkEntry(path, watcher_id);
    if (path_gone) this.events.pathRemoved(path);
  }

  private linkEntry(path: string, watcher_id: number): void {
    let paths = this.by_watcher.get(watcher_id);
    const watcher_new = paths === undefined;
    if (paths === undefined) {
      paths = new Set();
      this.by_watcher.set(watcher_id, paths);
    }
    paths.add(path);
    this.entry_count += 1;
    if (watcher_new) this.events.watcherAdded(watcher_id);
    this.events.entryAdded(path, watcher_id);
  }

  private unlinkEntry(path: string, watcher_id: number): void {
    const paths = this.by_watcher.get(watcher_id);
    assert(paths !== undefined && paths.delete(path), 'reverse index out of step');
    const watcher_gone = paths.size === 0;
    if (watcher_gone) this.by_watcher.delete(watcher_id);
    this.entry_count -= 1;
    assert(this.entry_count >= 0);
    this.events.entryRemoved(path, watcher_id);
    if (watcher_gone) this.events.watcherRemoved(watcher_id);
  }
}

function assertSingleMode(mode: number): void {
  assert(
    mode === Mode.STANDARD || mode === Mode.PERSISTENT || mode === Mode.RECURSIVE,
    `not a single watch mode: ${mode}`,
  );
}

/** Parent of an absolute path; undefined for the root. '/a' → '/', '/a/b' → '/a'. */
export function parentOf(path: string): string | undefined {
  if (path === '/') return undefined;
  const slash = path.lastIndexOf('/');
  if (!(slash >= 0)) assert.fail(`not an absolute path: ${path}`);
  return slash === 0 ? '/' : path.slice(0, slash);
}
