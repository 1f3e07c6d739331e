import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WatchTable, type WatchKind, type TriggerType } from '../../src/watch/watch_table.js';
import { EventType as E, WatcherType as WT } from '../../src/protocol/constants.js';
import { bounded } from '../support/fc_bounds.js';

// Small universes so that operations collide often. '/ab' is not a descendant of '/a'.
const PATHS = ['/', '/a', '/a/b', '/a/b/c', '/ab', '/x'];
const WATCHERS = [1, 2, 3];
const KINDS: WatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];
const ONE_SHOT_KINDS: WatchKind[] = ['data', 'exist', 'child'];
const TYPES: TriggerType[] = [E.NodeCreated, E.NodeDeleted, E.NodeDataChanged, E.NodeChildrenChanged];
const WATCHER_TYPES = [WT.Children, WT.Data, WT.Any, WT.Persistent, WT.PersistentRecursive];

type Op =
  | { op: 'add'; path: string; w: number; kind: WatchKind }
  | { op: 'fire'; type: TriggerType; path: string }
  | { op: 'remove'; path: string; w: number; type: number }
  | { op: 'check'; path: string; w: number; type: number }
  | { op: 'drop'; w: number };

const path = fc.constantFrom(...PATHS);
const watcher = fc.constantFrom(...WATCHERS);
const opArb = (kinds: WatchKind[]): fc.Arbitrary<Op> =>
  fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('add' as const), path, w: watcher, kind: fc.constantFrom(...kinds) }), weight: 4 },
    { arbitrary: fc.record({ op: fc.constant('fire' as const), type: fc.constantFrom(...TYPES), path }), weight: 4 },
    { arbitrary: fc.record({ op: fc.constant('remove' as const), path, w: watcher, type: fc.constantFrom(...WATCHER_TYPES) }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('check' as const), path, w: watcher, type: fc.constantFrom(...WATCHER_TYPES) }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('drop' as const), w: watcher }), weight: 1 },
  );

// ---- The reference: a flat list of registrations, scanned in full on every operation. ----
// Written from the rules (zk-wire-protocol.md §2.8, DataTree 3.9), not from the implementation.
type Reg = { path: string; w: number; kind: 'data' | 'child' | 'persistent' | 'recursive' };

const isDescendant = (p: string, ancestor: string): boolean =>
  p !== ancestor && (ancestor === '/' ? true : p.startsWith(ancestor + '/'));

function matches(r: Reg, type: TriggerType, p: string): boolean {
  const data_event = type !== E.NodeChildrenChanged;
  switch (r.kind) {
    case 'data':
      return r.path === p && data_event;
    case 'child':
      return r.path === p && (type === E.NodeChildrenChanged || type === E.NodeDeleted);
    case 'persistent':
      return r.path === p;
    case 'recursive':
      return data_event && (r.path === p || isDescendant(p, r.path));
  }
}

class Model {
  regs: Reg[] = [];
  private has(r: Reg): boolean {
    return this.regs.some((x) => x.path === r.path && x.w === r.w && x.kind === r.kind);
  }
  add(p: string, w: number, kind: WatchKind): void {
    const k: Reg['kind'] = kind === 'exist' ? 'data' : kind === 'persistentRecursive' ? 'recursive' : kind;
    const r = { path: p, w, kind: k };
    if (!this.has(r)) this.regs.push(r);
  }
  fire(type: TriggerType, p: string): number[] {
    const hit = this.regs.filter((r) => matches(r, type, p));
    this.regs = this.regs.filter((r) => !(hit.includes(r) && (r.kind === 'data' || r.kind === 'child')));
    return [...new Set(hit.map((r) => r.w))].sort();
  }
  private kindsFor(type: number): Reg['kind'][] {
    if (type === WT.Children) return ['child'];
    if (type === WT.Data) return ['data'];
    if (type === WT.Persistent) return ['persistent'];
    if (type === WT.PersistentRecursive) return ['recursive'];
    return ['data', 'child', 'persistent', 'recursive'];
  }
  check(p: string, w: number, type: number): boolean {
    const kinds = this.kindsFor(type);
    return this.regs.some((r) => r.path === p && r.w === w && kinds.includes(r.kind));
  }
  remove(p: string, w: number, type: number): boolean {
    const found = this.check(p, w, type);
    const kinds = this.kindsFor(type);
    this.regs = this.regs.filter((r) => !(r.path === p && r.w === w && kinds.includes(r.kind)));
    return found;
  }
  drop(w: number): void {
    this.regs = this.regs.filter((r) => r.w !== w);
  }
  /** ZooKeeper's watch count: persistent sits in both tables; data/child pairs share nothing. */
  watchCount(): number {
    const entries = new Set<string>();
    for (const r of this.regs) {
      if (r.kind !== 'child') entries.add(`data ${r.path} ${r.w}`);
      if (r.kind === 'child' || r.kind === 'persistent') entries.add(`child ${r.path} ${r.w}`);
    }
    return entries.size;
  }
}

function step(t: WatchTable, m: Model, o: Op, zxid: number): void {
  switch (o.op) {
    case 'add':
      t.addWatch(o.path, o.w, o.kind);
      m.add(o.path, o.w, o.kind);
      return;
    case 'fire': {
      const got = t.trigger(o.type, o.path, zxid);
      for (const d of got) expect(d.event).toEqual({ type: o.type, state: 3, path: o.path });
      expect(got.every((d) => d.zxid === zxid)).toBe(true);
      expect(got.map((d) => d.watcher_id).sort()).toEqual(m.fire(o.type, o.path));
      return;
    }
    case 'remove':
      expect(t.removeWatches(o.path, o.w, o.type)).toBe(m.remove(o.path, o.w, o.type));
      return;
    case 'check':
      expect(t.checkWatches(o.path, o.w, o.type)).toBe(m.check(o.path, o.w, o.type));
      return;
    case 'drop':
      t.removeWatcher(o.w);
      m.drop(o.w);
      return;
  }
}

describe('WatchTable against a reference model', () => {
  it('agrees with the model on every operation', () => {
    fc.assert(
      fc.property(fc.array(opArb(KINDS), { maxLength: 60 }), (ops) => {
        const t = new WatchTable();
        const m = new Model();
        ops.forEach((o, i) => {
          step(t, m, o, i + 1);
          expect(t.watchCount()).toBe(m.watchCount());
        });
      }),
      bounded({ numRuns: 400 }),
    );
  });

  it('one-shot watches fire at most once, only for a matching event, and always for one', () => {
    fc.assert(
      fc.property(fc.array(opArb(ONE_SHOT_KINDS), { maxLength: 60 }), (ops) => {
        const t = new WatchTable();
        // Live registrations: "w path data|child"; a registration fires at most once.
        const live = new Set<string>();
        for (const o of ops) {
          if (o.op === 'add') {
            live.add(`${o.w} ${o.path} ${o.kind === 'child' ? 'child' : 'data'}`);
            t.addWatch(o.path, o.w, o.kind);
          } else if (o.op === 'fire') {
            const want = new Set<number>();
            for (const key of [...live]) {
              const [w, p, k] = key.split(' ');
              const hit = p === o.path && (k === 'data' ? o.type !== E.NodeChildrenChanged : o.type === E.NodeChildrenChanged || o.type === E.NodeDeleted);
              if (!hit) continue;
              want.add(Number(w));
              live.delete(key);
            }
            const got = t.trigger(o.type, o.path, 1).map((d) => d.watcher_id);
            expect(new Set(got).size).toBe(got.length);
            expect(new Set(got)).toEqual(want);
          } else if (o.op === 'drop') {
            for (const key of [...live]) if (key.startsWith(`${o.w} `)) live.delete(key);
            t.removeWatcher(o.w);
          }
        }
        // Whatever was never consumed is still counted; nothing else is.
        expect(t.watchCount()).toBe(live.size);
      }),
      bounded({ numRuns: 300 }),
    );
  });
});
