// The watch table's monitoring counts are kept as it changes (never rebuilt by a scan): they must
// equal a brute-force count after every operation: add, trigger, removeWatches, a connection
// dropped (removed at once, or retired and removed in slices by workStep), and while listings
// are walked in slices.
//
// How these fail: an overlap counter not adjusted when a path / watcher / pair leaves one table
// while the other still holds it (wchs paths or totals drift and never come back); a retired
// watcher still heard (deliveries), still listed or still counted once its removal finished; a
// listing that skips a pair no one touched, or yields one that is not there.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WatchTable, type TriggerType, type WatchKind } from '../../src/watch/watch_table.js';
import { EventType as E, WatcherType as WT } from '../../src/protocol/constants.js';
import { bounded } from '../support/fc_bounds.js';

// Small universes so that operations collide often. '/ab' is not a descendant of '/a'.
const PATHS = ['/', '/a', '/a/b', '/ab', '/x'];
const WATCHERS = [1, 2, 3];
const KINDS: WatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];
const TYPES: TriggerType[] = [E.NodeCreated, E.NodeDeleted, E.NodeDataChanged, E.NodeChildrenChanged];
const WATCHER_TYPES = [WT.Children, WT.Data, WT.Any, WT.Persistent, WT.PersistentRecursive];

type Op =
  | { op: 'add'; path: string; w: number; kind: WatchKind }
  | { op: 'fire'; type: TriggerType; path: string }
  | { op: 'remove'; path: string; w: number; type: number }
  | { op: 'drop'; w: number }
  | { op: 'work'; entries: number };

const path = fc.constantFrom(...PATHS);
const watcher = fc.constantFrom(...WATCHERS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('add' as const), path, w: watcher, kind: fc.constantFrom(...KINDS) }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('fire' as const), type: fc.constantFrom(...TYPES), path }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('remove' as const), path, w: watcher, type: fc.constantFrom(...WATCHER_TYPES) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('drop' as const), w: watcher }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('work' as const), entries: fc.integer({ min: 1, max: 3 }) }), weight: 2 },
);

// ---- The reference: registrations of live watchers as a flat set, rules written from
// ZooKeeper's DataTree (3.9), not from the implementation. ----
type Kind = 'data' | 'child' | 'persistent' | 'recursive';
const key = (w: number, p: string, k: Kind): string => `${w}\u0000${p}\u0000${k}`;
const parse = (s: string): [number, string, Kind] => {
  const [w, p, k] = s.split('\u0000');
  return [Number(w), p, k as Kind];
};

class Model {
  regs = new Set<string>();

  add(p: string, w: number, kind: WatchKind): void {
    this.regs.add(key(w, p, kind === 'exist' ? 'data' : kind === 'persistentRecursive' ? 'recursive' : kind));
  }

  /** Who hears the event; one-shot registrations it matches are consumed. */
  fire(type: TriggerType, p: string): number[] {
    const data_event = type !== E.NodeChildrenChanged;
    const child_event = type === E.NodeChildrenChanged || type === E.NodeDeleted;
    const heard = new Set<number>();
    for (const r of [...this.regs]) {
      const [w, rp, k] = parse(r);
      const below = rp === '/' ? p !== '/' : p.startsWith(rp + '/');
      const hit =
        (k === 'data' && rp === p && data_event) ||
        (k === 'child' && rp === p && child_event) ||
        (k === 'persistent' && rp === p) ||
        (k === 'recursive' && data_event && (rp === p || below));
      if (!hit) continue;
      heard.add(w);
      if (k === 'data' || k === 'child') this.regs.delete(r);
    }
    return [...heard].sort();
  }

  remove(p: string, w: number, type: number): void {
    const kinds: Kind[] =
      type === WT.Children ? ['child'] : type === WT.Data ? ['data'] : type === WT.Persistent ? ['persistent'] : type === WT.PersistentRecursive ? ['recursive'] : ['data', 'child', 'persistent', 'recursive'];
    for (const k of kinds) this.regs.delete(key(w, p, k));
  }

  drop(w: number): void {
    for (const r of [...this.regs]) if (parse(r)[0] === w) this.regs.delete(r);
  }

  /** Entries per table (a persistent watch sits in both), distinct paths, watchers and pairs. */
  counts(): { watches: number; paths: number; watchers: number; pairs: number } {
    const data = new Set<string>();
    const child = new Set<string>();
    const paths = new Set<string>();
    const watchers = new Set<number>();
    const pairs = new Set<string>();
    for (const r of this.regs) {
      const [w, p, k] = parse(r);
      if (k !== 'child') data.add(`${w} ${p}`);
      if (k === 'child' || k === 'persistent') child.add(`${w} ${p}`);
      paths.add(p);
      watchers.add(w);
      pairs.add(`${w} ${p}`);
    }
    return { watches: data.size + child.size, paths: paths.size, watchers: watchers.size, pairs: pairs.size };
  }

  pairs(): Set<string> {
    return new Set([...this.regs].map((r) => parse(r)).map(([w, p]) => `${w} ${p}`));
  }
}

function apply(t: WatchTable, m: Model, o: Op, zxid: number): void {
  switch (o.op) {
    case 'add':
      t.addWatch(o.path, o.w, o.kind);
      m.add(o.path, o.w, o.kind);
      return;
    case 'fire':
      // A retired watcher is never heard, even while its entries are still in the tables.
      expect(t.trigger(o.type, o.path, zxid).map((d) => d.watcher_id).sort()).toEqual(m.fire(o.type, o.path));
      return;
    case 'remove':
      t.removeWatches(o.path, o.w, o.type);
      m.remove(o.path, o.w, o.type);
      return;
    case 'drop':
      t.removeWatcher(o.w);
      m.drop(o.w);
      expect(t.watchCountOf(o.w)).toBe(0);
      return;
    case 'work':
      t.workStep(o.entries);
      return;
  }
}

function counts(t: WatchTable): { watches: number; paths: number; watchers: number; pairs: number } {
  return { watches: t.watchCount(), ...t.summary() };
}

function listed(pairs: Iterable<readonly [number, string]>): string[] {
  return [...pairs].map(([w, p]) => `${w} ${p}`);
}

describe('WatchTable counts kept incrementally', () => {
  it('equal a brute-force scan after every operation, and the model once removals are done', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.integer({ min: 1, max: 4 }), (ops, removal_entries_max) => {
        const t = new WatchTable({ removal_entries_max });
        const m = new Model();
        ops.forEach((o, i) => {
          apply(t, m, o, i + 1);
          // Always: the kept counts are the table's contents (retired entries included).
          expect(counts(t)).toEqual(t.scanCounts());
          // Always: listings show exactly the live watchers' pairs, each once.
          const by_watcher = listed(t.pairsByWatcher());
          const by_path = listed([...t.pairsByPath()].map(([p, w]) => [w, p] as const));
          expect(new Set(by_watcher).size).toBe(by_watcher.length);
          expect(new Set(by_watcher)).toEqual(m.pairs());
          expect(new Set(by_path)).toEqual(m.pairs());
          expect(by_path.length).toBe(by_watcher.length);
          // Once no removal is pending, the counts are the model's.
          if (!t.hasPendingRemovals()) expect(counts(t)).toEqual(m.counts());
        });
        while (t.hasPendingRemovals()) t.workStep(1);
        expect(counts(t)).toEqual(m.counts());
      }),
      bounded({ numRuns: 300 }),
    );
  });

  it('a listing walked in slices while the table changes: untouched pairs always, absent pairs never', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ path, w: watcher, kind: fc.constantFrom(...KINDS) }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), opArb), { maxLength: 30 }),
        fc.boolean(),
        (initial, turns, by_path) => {
          const t = new WatchTable({ removal_entries_max: 1 });
          const m = new Model();
          for (const a of initial) apply(t, m, { op: 'add', ...a }, 0);
          while (t.hasPendingRemovals()) t.workStep(1);
          // Pairs no operation touches during the walk must be listed.
          const untouched = m.pairs();
          const walk: Iterator<readonly [number, string]> = by_path
            ? (function* () {
                for (const [p, w] of t.pairsByPath()) yield [w, p] as const;
              })()
            : t.pairsByWatcher();
          const seen = new Set<string>();
          let done = false;
          const take = (n: number): void => {
            for (let i = 0; i < n && !done; i++) {
              const next = walk.next();
              if (next.done === true) {
                done = true;
                return;
              }
              const pair = `${next.value[0]} ${next.value[1]}`;
              // Whatever is listed is there when it is listed.
              expect(m.pairs().has(pair)).toBe(true);
              seen.add(pair);
            }
          };
          turns.forEach(([slice, o], i) => {
            take(slice);
            apply(t, m, o, i + 1);
            // Touched: an operation on its path (add, fire, removeWatches) or on its watcher (drop).
            for (const pair of [...untouched]) {
              const [w, p] = pair.split(' ');
              if (('path' in o && o.path === p) || (o.op === 'drop' && o.w === Number(w))) untouched.delete(pair);
            }
          });
          take(Number.MAX_SAFE_INTEGER);
          for (const pair of untouched) expect(seen.has(pair), pair).toBe(true);
        },
      ),
      bounded({ numRuns: 300 }),
    );
  });
});

describe('WatchTable removal in slices', () => {
  it('a watcher with many watches leaves at once for everyone, and from the counts slice by slice', () => {
    const t = new WatchTable({ removal_entries_max: 100 });
    const N = 3_000;
    for (let i = 0; i < N; i++) t.addWatch(`/w/${i}`, 7, i % 2 === 0 ? 'exist' : 'child');
    t.addWatch('/w/0', 8, 'data');
    t.removeWatcher(7);
    // At once: nothing for watcher 7 any more...
    expect(t.watchCountOf(7)).toBe(0);
    expect(t.trigger(E.NodeCreated, '/w/0', 1).map((d) => d.watcher_id)).toEqual([8]);
    expect(t.checkWatches('/w/1', 7, WT.Any)).toBe(false);
    expect(t.removeWatches('/w/1', 7, WT.Any)).toBe(false);
    expect([...t.pairsByWatcher()]).toEqual([]);
    // ...and the totals come down by at most a slice per step, always equal to a scan.
    expect(t.hasPendingRemovals()).toBe(true);
    let steps = 0;
    let last = t.watchCount();
    while (t.hasPendingRemovals()) {
      const removed = t.workStep(100);
      expect(removed).toBeLessThanOrEqual(100);
      expect(t.watchCount()).toBe(last - removed);
      expect(counts(t)).toEqual(t.scanCounts());
      last = t.watchCount();
      steps++;
    }
    expect(steps).toBeGreaterThanOrEqual(N / 100 - 1);
    expect(counts(t)).toEqual({ watches: 0, paths: 0, watchers: 0, pairs: 0 });
  });

  it('a small watcher is removed at once', () => {
    const t = new WatchTable({ removal_entries_max: 100 });
    for (let i = 0; i < 100; i++) t.addWatch(`/w/${i}`, 7, 'data');
    t.removeWatcher(7);
    expect(t.hasPendingRemovals()).toBe(false);
    expect(t.watchCount()).toBe(0);
  });

  it('a connection id reused while its old watches are being removed starts with none of them', () => {
    const t = new WatchTable({ removal_entries_max: 10 });
    for (let i = 0; i < 1000; i++) t.addWatch(`/w/${i}`, 7, 'data');
    t.removeWatcher(7);
    t.workStep(10);
    t.addWatch('/new', 7, 'data');
    expect(t.hasPendingRemovals()).toBe(false);
    expect(t.watchCountOf(7)).toBe(1);
    expect(listed(t.pairsByWatcher())).toEqual(['7 /new']);
    expect(t.trigger(E.NodeDataChanged, '/w/500', 2)).toEqual([]);
  });
});
