import { describe, it, expect } from 'vitest';
import { WatchTable, NO_ZXID, type WatchKind, type TriggerType, type TreeView } from '../../src/watch/watch_table.js';
import { EventType as E, WatcherType as WT } from '../../src/protocol/constants.js';
import { Err, KeeperError } from '../../src/protocol/errors.js';

// A script step registers watches or fires one event and lists the deliveries expected as
// "watcher:EventName:path", in any order.
type Step =
  | { add: [path: string, watcher_id: number, kind: WatchKind] }
  | { fire: [type: TriggerType, path: string]; expect: string[] };

const NAME: Record<number, string> = {
  [E.NodeCreated]: 'Created',
  [E.NodeDeleted]: 'Deleted',
  [E.NodeDataChanged]: 'DataChanged',
  [E.NodeChildrenChanged]: 'ChildrenChanged',
};

function fire(t: WatchTable, type: TriggerType, path: string, zxid = 7): string[] {
  return t
    .trigger(type, path, zxid)
    .map((d) => `${d.watcher_id}:${NAME[d.event.type]}:${d.event.path}`)
    .sort();
}

function run(steps: Step[]): WatchTable {
  const t = new WatchTable();
  steps.forEach((step, i) => {
    if ('add' in step) t.addWatch(...step.add);
    else expect(fire(t, ...step.fire), `step ${i}`).toEqual([...step.expect].sort());
  });
  return t;
}

const SCRIPTS: { name: string; steps: Step[]; watches_left: number }[] = [
  {
    name: 'getData watch fires once on setData, then is gone',
    steps: [
      { add: ['/a', 1, 'data'] },
      { fire: [E.NodeDataChanged, '/a'], expect: ['1:DataChanged:/a'] },
      { fire: [E.NodeDataChanged, '/a'], expect: [] },
    ],
    watches_left: 0,
  },
  {
    name: 'the same one-shot watch registered twice delivers once',
    steps: [
      { add: ['/a', 1, 'data'] },
      { add: ['/a', 1, 'data'] },
      { add: ['/a', 1, 'exist'] },
      { fire: [E.NodeDataChanged, '/a'], expect: ['1:DataChanged:/a'] },
      { fire: [E.NodeDataChanged, '/a'], expect: [] },
    ],
    watches_left: 0,
  },
  {
    name: 'exists watch on a missing node fires NodeCreated; the parent child watch fires too',
    steps: [
      { add: ['/a/b', 1, 'exist'] },
      { add: ['/a', 2, 'child'] },
      { add: ['/a', 3, 'data'] },
      { fire: [E.NodeCreated, '/a/b'], expect: ['1:Created:/a/b'] },
      { fire: [E.NodeChildrenChanged, '/a'], expect: ['2:ChildrenChanged:/a'] },
    ],
    watches_left: 1, // 3's data watch on /a: a child's creation is not a data change of /a
  },
  {
    name: 'delete: one NodeDeleted for a watcher holding data + child watches; parent children',
    steps: [
      { add: ['/a/b', 1, 'data'] },
      { add: ['/a/b', 1, 'child'] },
      { add: ['/a/b', 2, 'child'] },
      { add: ['/a', 3, 'child'] },
      { fire: [E.NodeDeleted, '/a/b'], expect: ['1:Deleted:/a/b', '2:Deleted:/a/b'] },
      { fire: [E.NodeChildrenChanged, '/a'], expect: ['3:ChildrenChanged:/a'] },
      { fire: [E.NodeDeleted, '/a/b'], expect: [] },
    ],
    watches_left: 0,
  },
  {
    name: 'child watches ignore data events; data watches ignore child events',
    steps: [
      { add: ['/a', 1, 'child'] },
      { add: ['/a', 2, 'data'] },
      { fire: [E.NodeDataChanged, '/a'], expect: ['2:DataChanged:/a'] },
      { fire: [E.NodeCreated, '/a'], expect: [] },
      { fire: [E.NodeChildrenChanged, '/a'], expect: ['1:ChildrenChanged:/a'] },
    ],
    watches_left: 0,
  },
  {
    name: 'persistent watch: data and child events on its path, kept; not its children',
    steps: [
      { add: ['/a', 1, 'persistent'] },
      { fire: [E.NodeDataChanged, '/a'], expect: ['1:DataChanged:/a'] },
      { fire: [E.NodeDataChanged, '/a'], expect: ['1:DataChanged:/a'] },
      { fire: [E.NodeCreated, '/a/b'], expect: [] },
      { fire: [E.NodeChildrenChanged, '/a'], expect: ['1:ChildrenChanged:/a'] },
      { fire: [E.NodeDataChanged, '/a/b'], expect: [] },
      { fire: [E.NodeDeleted, '/a'], expect: ['1:Deleted:/a'] },
      { fire: [E.NodeCreated, '/a'], expect: ['1:Created:/a'] },
    ],
    watches_left: 2, // one entry in each table
  },
  {
    name: 'persistent-recursive: path and descendants, never NodeChildrenChanged, not /ab',
    steps: [
      { add: ['/a', 1, 'persistentRecursive'] },
      // create /a/b as tree.apply reports it: NodeCreated(path), NodeChildrenChanged(parent)
      { fire: [E.NodeCreated, '/a/b'], expect: ['1:Created:/a/b'] },
      { fire: [E.NodeChildrenChanged, '/a'], expect: [] },
      { fire: [E.NodeCreated, '/a/b/c'], expect: ['1:Created:/a/b/c'] },
      { fire: [E.NodeDataChanged, '/a/b/c'], expect: ['1:DataChanged:/a/b/c'] },
      { fire: [E.NodeDataChanged, '/a'], expect: ['1:DataChanged:/a'] },
      { fire: [E.NodeChildrenChanged, '/a/b'], expect: [] },
      { fire: [E.NodeChildrenChanged, '/a'], expect: [] },
      { fire: [E.NodeCreated, '/ab'], expect: [] },
      { fire: [E.NodeCreated, '/'], expect: [] },
      { fire: [E.NodeDeleted, '/a/b/c'], expect: ['1:Deleted:/a/b/c'] },
      { fire: [E.NodeDeleted, '/a'], expect: ['1:Deleted:/a'] },
    ],
    watches_left: 1,
  },
  {
    name: 'recursive watch on / sees every node event',
    steps: [
      { add: ['/', 4, 'persistentRecursive'] },
      { fire: [E.NodeCreated, '/x'], expect: ['4:Created:/x'] },
      { fire: [E.NodeDataChanged, '/x/y/z'], expect: ['4:DataChanged:/x/y/z'] },
      { fire: [E.NodeDataChanged, '/'], expect: ['4:DataChanged:/'] },
      { fire: [E.NodeChildrenChanged, '/'], expect: [] },
    ],
    watches_left: 1,
  },
  {
    name: 'one-shot + persistent on one path: one event per trigger, the one-shot consumed',
    steps: [
      { add: ['/a', 1, 'persistent'] },
      { add: ['/a', 1, 'data'] },
      { add: ['/a', 1, 'child'] },
      { fire: [E.NodeDataChanged, '/a'], expect: ['1:DataChanged:/a'] },
      { fire: [E.NodeChildrenChanged, '/a'], expect: ['1:ChildrenChanged:/a'] },
      { fire: [E.NodeDataChanged, '/a'], expect: ['1:DataChanged:/a'] },
    ],
    watches_left: 2,
  },
  {
    name: 'recursive ancestor + one-shot on the node: one event, the one-shot consumed',
    steps: [
      { add: ['/a', 1, 'persistentRecursive'] },
      { add: ['/a/b', 1, 'data'] },
      { add: ['/a/b', 2, 'data'] },
      { fire: [E.NodeDataChanged, '/a/b'], expect: ['1:DataChanged:/a/b', '2:DataChanged:/a/b'] },
      { fire: [E.NodeDataChanged, '/a/b'], expect: ['1:DataChanged:/a/b'] },
    ],
    watches_left: 1,
  },
  {
    name: 'nested recursive watches of one watcher: still one event',
    steps: [
      { add: ['/', 1, 'persistentRecursive'] },
      { add: ['/a', 1, 'persistentRecursive'] },
      { add: ['/a/b', 1, 'persistentRecursive'] },
      { fire: [E.NodeCreated, '/a/b/c'], expect: ['1:Created:/a/b/c'] },
    ],
    watches_left: 3,
  },
  {
    name: 'several watchers on one path all fire',
    steps: [
      { add: ['/a', 1, 'data'] },
      { add: ['/a', 2, 'exist'] },
      { add: ['/a', 3, 'persistent'] },
      { fire: [E.NodeCreated, '/a'], expect: ['1:Created:/a', '2:Created:/a', '3:Created:/a'] },
    ],
    watches_left: 2,
  },
];

describe('WatchTable.trigger (ZooKeeper 3.9 rules)', () => {
  for (const script of SCRIPTS) {
    it(script.name, () => {
      const t = run(script.steps);
      expect(t.watchCount()).toBe(script.watches_left);
    });
  }

  it('deliveries carry the txn zxid and state SyncConnected', () => {
    const t = new WatchTable();
    t.addWatch('/a', 9, 'data');
    const [d, ...rest] = t.trigger(E.NodeDataChanged, '/a', 0x1_0000_0005);
    expect(rest).toEqual([]);
    expect(d).toEqual({ watcher_id: 9, zxid: 0x1_0000_0005, event: { type: E.NodeDataChanged, state: 3, path: '/a' } });
  });

  it('rejects event types that no txn produces', () => {
    const t = new WatchTable();
    expect(() => t.trigger(E.None as TriggerType, '/a', 1)).toThrow();
  });
});

describe('WatchTable.removeWatcher', () => {
  it('drops every watch of the watcher and only those', () => {
    const t = new WatchTable();
    for (const kind of ['data', 'child', 'persistent', 'persistentRecursive'] as const) {
      t.addWatch('/a', 1, kind);
      t.addWatch('/b', 1, kind);
    }
    t.addWatch('/a', 2, 'data');
    t.removeWatcher(1);
    expect(t.watchCountOf(1)).toBe(0);
    expect(t.watchCount()).toBe(1);
    expect(fire(t, E.NodeDataChanged, '/a/x')).toEqual([]);
    expect(fire(t, E.NodeChildrenChanged, '/b')).toEqual([]);
    expect(fire(t, E.NodeDataChanged, '/a')).toEqual(['2:DataChanged:/a']);
    t.removeWatcher(1); // idempotent
    t.removeWatcher(77);
  });
});

describe('WatchTable.removeWatches / checkWatches', () => {
  // Each case: watches of watcher 1 on /a (+ watcher 2's data watch on /a, which must survive),
  // a removeWatches(/a, 1, type), its result, and the events watcher 1 still gets afterwards.
  const CASES: {
    has: WatchKind[];
    type: number;
    removed: boolean;
    after: { data: boolean; children: boolean };
  }[] = [
    { has: ['data'], type: WT.Data, removed: true, after: { data: false, children: false } },
    { has: ['exist'], type: WT.Data, removed: true, after: { data: false, children: false } },
    { has: ['child'], type: WT.Data, removed: false, after: { data: false, children: true } },
    { has: ['data', 'child'], type: WT.Data, removed: true, after: { data: false, children: true } },
    // Data removes the one-shot watch only: a persistent watch survives and NOWATCHER if alone.
    { has: ['persistent'], type: WT.Data, removed: false, after: { data: true, children: true } },
    { has: ['persistentRecursive'], type: WT.Data, removed: false, after: { data: true, children: false } },
    { has: ['child'], type: WT.Children, removed: true, after: { data: false, children: false } },
    { has: ['data'], type: WT.Children, removed: false, after: { data: true, children: false } },
    { has: ['persistent'], type: WT.Children, removed: false, after: { data: true, children: true } },
    { has: ['persistent'], type: WT.Persistent, removed: true, after: { data: false, children: false } },
    { has: ['persistent', 'data'], type: WT.Persistent, removed: true, after: { data: true, children: false } },
    { has: ['persistentRecursive'], type: WT.Persistent, removed: false, after: { data: true, children: false } },
    { has: ['persistentRecursive'], type: WT.PersistentRecursive, removed: true, after: { data: false, children: false } },
    { has: ['persistent'], type: WT.PersistentRecursive, removed: false, after: { data: true, children: true } },
    { has: ['data', 'child', 'persistent', 'persistentRecursive'], type: WT.Any, removed: true, after: { data: false, children: false } },
    { has: ['child'], type: WT.Any, removed: true, after: { data: false, children: false } },
    { has: [], type: WT.Any, removed: false, after: { data: false, children: false } },
  ];

  for (const c of CASES) {
    it(`${JSON.stringify(c.has)} removeWatches type ${c.type} → ${c.removed ? 'removed' : 'NOWATCHER'}`, () => {
      const t = new WatchTable();
      for (const kind of c.has) t.addWatch('/a', 1, kind);
      t.addWatch('/a', 2, 'data');
      expect(t.checkWatches('/a', 1, c.type)).toBe(c.removed);
      expect(t.removeWatches('/a', 1, c.type)).toBe(c.removed);
      expect(t.checkWatches('/a', 1, c.type)).toBe(false);
      expect(t.removeWatches('/a', 1, c.type)).toBe(false);
      const data = fire(t, E.NodeDataChanged, '/a');
      const children = fire(t, E.NodeChildrenChanged, '/a');
      expect(data.includes('1:DataChanged:/a')).toBe(c.after.data);
      expect(data.includes('2:DataChanged:/a')).toBe(true);
      expect(children.includes('1:ChildrenChanged:/a')).toBe(c.after.children);
    });
  }

  it('checkWatches matches the exact path and watcher only', () => {
    const t = new WatchTable();
    t.addWatch('/a', 1, 'persistentRecursive');
    t.addWatch('/b', 1, 'persistent');
    expect(t.checkWatches('/a/b', 1, WT.Any)).toBe(false); // covered by the ancestor, not "on" it
    expect(t.checkWatches('/a', 2, WT.Any)).toBe(false);
    expect(t.checkWatches('/a', 1, WT.PersistentRecursive)).toBe(true);
    expect(t.checkWatches('/a', 1, WT.Persistent)).toBe(false);
    expect(t.checkWatches('/b', 1, WT.Persistent)).toBe(true);
    expect(t.checkWatches('/b', 1, WT.Data)).toBe(false);
    expect(t.checkWatches('/b', 1, WT.Children)).toBe(false);
    expect(t.removeWatches('/a/b', 1, WT.Any)).toBe(false);
    expect(t.removeWatches('/a', 2, WT.Any)).toBe(false);
  });

  it('Any on one path leaves the watcher\'s other paths alone', () => {
    const t = new WatchTable();
    t.addWatch('/a', 1, 'data');
    t.addWatch('/b', 1, 'data');
    expect(t.removeWatches('/a', 1, WT.Any)).toBe(true);
    expect(fire(t, E.NodeDataChanged, '/b')).toEqual(['1:DataChanged:/b']);
  });

  it('removing the last recursive watch stops ancestor matching', () => {
    const t = new WatchTable();
    t.addWatch('/a', 1, 'persistentRecursive');
    t.removeWatches('/a', 1, WT.PersistentRecursive);
    expect(fire(t, E.NodeCreated, '/a/b')).toEqual([]);
  });

  it('an unknown WatcherType is a MARSHALLINGERROR', () => {
    const t = new WatchTable();
    t.addWatch('/a', 1, 'data');
    for (const type of [0, 6, -1]) {
      expect(() => t.removeWatches('/a', 1, type)).toThrow(KeeperError);
      try {
        t.checkWatches('/a', 1, type);
        expect.unreachable();
      } catch (e) {
        expect((e as KeeperError).code).toBe(Err.MARSHALLINGERROR);
      }
    }
    expect(t.watchCount()).toBe(1);
  });
});

describe('WatchTable.setWatches (reconnect replay)', () => {
  // Tree at reconnect: /a (mzxid 5, pzxid 5), /b changed at 20, /c children changed at 20.
  const stats: Record<string, { mzxid: number; pzxid: number }> = {
    '/a': { mzxid: 5, pzxid: 5 },
    '/b': { mzxid: 20, pzxid: 5 },
    '/c': { mzxid: 5, pzxid: 20 },
    '/r': { mzxid: 10, pzxid: 10 },
  };
  const tree: TreeView = { statOf: (p) => stats[p] };
  const rel = 10; // the client last saw zxid 10

  const REPLAY: { list: 'dataWatches' | 'existWatches' | 'childWatches'; path: string; fires: string | null }[] = [
    { list: 'dataWatches', path: '/gone', fires: 'Deleted' },
    { list: 'dataWatches', path: '/b', fires: 'DataChanged' },
    { list: 'dataWatches', path: '/a', fires: null },
    { list: 'dataWatches', path: '/c', fires: null }, // children changed, data did not
    { list: 'dataWatches', path: '/r', fires: null }, // mzxid == relativeZxid: nothing missed
    { list: 'existWatches', path: '/a', fires: 'Created' },
    { list: 'existWatches', path: '/gone', fires: null },
    { list: 'childWatches', path: '/gone', fires: 'Deleted' },
    { list: 'childWatches', path: '/c', fires: 'ChildrenChanged' },
    { list: 'childWatches', path: '/b', fires: null },
    { list: 'childWatches', path: '/r', fires: null },
  ];

  for (const r of REPLAY) {
    it(`${r.list} ${r.path} → ${r.fires ?? 're-register'}`, () => {
      const t = new WatchTable();
      const req = { relativeZxid: rel, dataWatches: [], existWatches: [], childWatches: [], [r.list]: [r.path] };
      const out = t.setWatches(3, req, tree);
      if (r.fires !== null) {
        expect(out.map((d) => `${d.watcher_id}:${NAME[d.event.type]}:${d.event.path}:${d.zxid}:${d.event.state}`)).toEqual([
          `3:${r.fires}:${r.path}:${NO_ZXID}:3`,
        ]);
        expect(t.watchCount()).toBe(0);
        return;
      }
      expect(out).toEqual([]);
      // Re-registered as the same kind of one-shot watch.
      const type = r.list === 'childWatches' ? E.NodeChildrenChanged : r.list === 'existWatches' ? E.NodeCreated : E.NodeDataChanged;
      expect(fire(t, type, r.path)).toEqual([`3:${NAME[type]}:${r.path}`]);
      expect(t.watchCount()).toBe(0);
    });
  }

  it('persistent and recursive watches are re-registered whatever the tree says', () => {
    const t = new WatchTable();
    const out = t.setWatches(
      3,
      {
        relativeZxid: 0,
        dataWatches: [],
        existWatches: [],
        childWatches: [],
        persistentWatches: ['/gone', '/b'],
        persistentRecursiveWatches: ['/gone2'],
      },
      tree,
    );
    expect(out).toEqual([]);
    expect(fire(t, E.NodeCreated, '/gone')).toEqual(['3:Created:/gone']);
    expect(fire(t, E.NodeChildrenChanged, '/b')).toEqual(['3:ChildrenChanged:/b']);
    expect(fire(t, E.NodeCreated, '/gone2/x')).toEqual(['3:Created:/gone2/x']);
    expect(t.watchCount()).toBe(5);
  });

  it('a plain SetWatches (no persistent lists) replays lists in order, each event separately', () => {
    const t = new WatchTable();
    const out = t.setWatches(3, { relativeZxid: rel, dataWatches: ['/gone'], existWatches: ['/a'], childWatches: ['/gone'] }, tree);
    expect(out.map((d) => `${NAME[d.event.type]}:${d.event.path}`)).toEqual(['Deleted:/gone', 'Created:/a', 'Deleted:/gone']);
  });
});

/** The lazy listings, collected: watcher → paths and path → watchers, in listing order. */
function byWatcher(t: WatchTable): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [w, p] of t.pairsByWatcher()) out.set(w, [...(out.get(w) ?? []), p]);
  return out;
}

function byPath(t: WatchTable): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [p, w] of t.pairsByPath()) out.set(p, [...(out.get(p) ?? []), w]);
  return out;
}

describe('WatchTable stats (mntr, wchc, wchp)', () => {
  it('counts entries per table, paths and watchers over both tables', () => {
    const t = new WatchTable();
    t.addWatch('/a', 1, 'data');
    t.addWatch('/a', 1, 'child');
    t.addWatch('/b', 1, 'persistent');
    t.addWatch('/c', 2, 'persistentRecursive');
    t.addWatch('/a', 2, 'exist');
    expect(t.watchCount()).toBe(6); // /a:1 data+child, /b:1 data+child, /c:2, /a:2
    expect(t.watchCountOf(1)).toBe(4);
    expect(t.watchCountOf(2)).toBe(2);
    expect(t.watchCountOf(3)).toBe(0);
    expect(t.pathCount()).toBe(3);
    expect(t.watcherCount()).toBe(2);
    expect(t.pairCount()).toBe(4); // /a:1 (data and child: one pair), /b:1, /c:2, /a:2
    expect(t.summary()).toEqual({ watchers: 2, paths: 3, pairs: 4 });
    const by_watcher = byWatcher(t);
    expect([...by_watcher.keys()].sort()).toEqual([1, 2]);
    expect(by_watcher.get(1)?.sort()).toEqual(['/a', '/b']);
    expect(by_watcher.get(2)?.sort()).toEqual(['/a', '/c']);
    const by_path = byPath(t);
    expect(by_path.get('/a')?.sort()).toEqual([1, 2]);
    expect(by_path.get('/b')).toEqual([1]);
    expect(by_path.get('/c')).toEqual([2]);
  });

  it('a child-only watch shows up in wchc/wchp', () => {
    const t = new WatchTable();
    t.addWatch('/kids', 5, 'child');
    expect(byWatcher(t).get(5)).toEqual(['/kids']);
    expect(byPath(t).get('/kids')).toEqual([5]);
    expect(t.summary()).toEqual({ watchers: 1, paths: 1, pairs: 1 });
  });

  it('fired one-shot watches leave the stats', () => {
    const t = new WatchTable();
    t.addWatch('/a', 1, 'data');
    t.trigger(E.NodeDataChanged, '/a', 1);
    expect(t.watchCount()).toBe(0);
    expect(t.pathCount()).toBe(0);
    expect(byWatcher(t).size).toBe(0);
    expect(t.summary()).toEqual({ watchers: 0, paths: 0, pairs: 0 });
  });
});
