import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ACL } from '../../src/protocol/types.js';
import { auditArena } from '../../src/store/arena/check.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';
import { bounded } from '../support/fc_bounds.js';
import { childPath, CONTAINER, expectViewMatches, type Model, modelDigest, ModelWriter, TTL_1S, viewDigest } from './model.js';

// Random sequences of tree changes, in random batches, applied to the arena tree and to a Map
// model. At every commit, every reader still pinned (some pinned many generations ago, while
// later batches were published and reclaimed) must read exactly its generation's model; the
// writer's own view must read the newest model at every step. Small pages (1 KiB) make the
// B+trees several levels deep with a few hundred nodes, names up to 300 bytes exercise overflow
// keys, and data up to 9 KB exercise page runs. At the end nothing is pinned, and the leak
// audit finds every page in use reachable from the newest root.

const ACLS: ACL[][] = [
  [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }],
  [
    { perms: 31, id: { scheme: 'digest', id: 'bob:8d8yVJHXqSmRGJBhOf9bmbi2ZPA=' } },
    { perms: 1, id: { scheme: 'ip', id: '10.0.0.0/8' } },
  ],
  [{ perms: 5, id: { scheme: 'sasl', id: 'ünïcödé' } }],
];
const OWNERS = [0n, 0n, 0n, 0n, 0x1234_5678_9abc_def0n, 7n, CONTAINER, TTL_1S];

const name = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom('é', 'ü-x', '日本', 'a b', 'a-b', 'a.b', 'a', 'ab') },
  { weight: 1, arbitrary: fc.integer({ min: 120, max: 300 }).map((n) => 'L'.repeat(n)) },
);
const data = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.integer({ min: 100, max: 700 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
  { weight: 1, arbitrary: fc.integer({ min: 1100, max: 9000 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
);

type Op =
  | { kind: 'create'; parent: number; name: string; data: Uint8Array | null; acl: number; owner: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'setData'; pick: number; data: Uint8Array | null }
  | { kind: 'setACL'; pick: number; acl: number }
  | { kind: 'commit' }
  | { kind: 'pin' }
  | { kind: 'unpin'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('create' as const), parent: fc.nat(), name, data, acl: fc.nat(ACLS.length - 1), owner: fc.nat(OWNERS.length - 1) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('setData' as const), pick: fc.nat(), data }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setACL' as const), pick: fc.nat(), acl: fc.nat(ACLS.length - 1) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pin' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unpin' as const), pick: fc.nat() }) },
);

interface Pinned {
  reader: TreeReader;
  gen: number;
  model: Model;
}

function run(ops: Op[]): void {
  const writer = TreeWriter.create({ page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64, reader_slots: 8, root_ring: 8 });
  const m = new ModelWriter(writer);
  writer.begin();
  createSystemNodes(writer);
  for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
    m.model.set(p, { data: new Uint8Array(0), acl: ACLS[p === '/zookeeper/config' ? 1 : 0], czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: p === '/zookeeper/config' ? -1 : 0, owner: 0n, numChildren: 0 });
  }
  m.model.set('/', { ...m.model.get('/')!, numChildren: 1 });
  m.model.set('/zookeeper', { ...m.model.get('/zookeeper')!, numChildren: 2 });
  writer.commit(0);
  const generations = new Map<number, Model>([[writer.generation, m.snapshot()]]);
  const pinned: Pinned[] = [];
  const absent = ['/nope', '/zookeeper/nope', '/a/b/c'];
  writer.begin();
  const paths = (): string[] => [...m.model.keys()].sort();

  // At each commit every pinned root still reads exactly as when it was pinned (full-scan
  // digest); the full semantic comparison runs when a reader pins and when it unpins.
  const verifyPinned = (): void => {
    for (const p of pinned) expect(viewDigest(p.reader), `generation ${p.gen}`).toBe(modelDigest(p.model));
  };
  for (const o of ops) {
    switch (o.kind) {
      case 'create': {
        const all = paths();
        const parent = all[o.parent % all.length];
        const path = childPath(parent, o.name);
        if (m.model.has(path) || m.model.get(parent)!.owner !== 0n) break; // no children under ephemerals
        m.create(path, o.data, ACLS[o.acl], OWNERS[o.owner]);
        break;
      }
      case 'delete': {
        const leaves = paths().filter((p) => p !== '/' && m.model.get(p)!.numChildren === 0);
        if (leaves.length > 0) m.delete(leaves[o.pick % leaves.length]);
        break;
      }
      case 'setData': {
        const all = paths();
        m.setData(all[o.pick % all.length], o.data);
        break;
      }
      case 'setACL': {
        const all = paths();
        m.setACL(all[o.pick % all.length], ACLS[o.acl]);
        break;
      }
      case 'commit': {
        const gen = writer.commit(m.zxid);
        generations.set(gen, m.snapshot());
        verifyPinned();
        writer.begin();
        break;
      }
      case 'pin': {
        if (pinned.length >= 6) break;
        const reader = new TreeReader(writer.handle);
        const gen = reader.pin();
        expect(gen).toBe(writer.generation);
        pinned.push({ reader, gen, model: generations.get(gen)! });
        expectViewMatches(reader, generations.get(gen)!, absent);
        break;
      }
      case 'unpin': {
        if (pinned.length === 0) break;
        const [p] = pinned.splice(o.pick % pinned.length, 1);
        expectViewMatches(p.reader, p.model, absent);
        p.reader.close();
        break;
      }
    }
    if (o.kind !== 'commit' && o.kind !== 'pin' && o.kind !== 'unpin') {
      // The writer's view reads its open batch.
      expect(writer.view.nodeCount()).toBe(m.model.size);
    }
  }
  writer.commit(m.zxid);
  verifyPinned();
  expectViewMatches(writer.view, m.model, absent);
  for (const p of pinned) p.reader.close();
  writer.begin();
  writer.commit(m.zxid);
  const audit = auditArena(writer);
  expect(audit.nodes).toBe(m.model.size);
  const stats = writer.stats();
  expect(stats.bytes_retired).toBe(0);
  expect(stats.oldest_pinned_gen).toBe(null);
}

describe('arena tree vs a Map model', () => {
  it('agrees on every read at every published root, old pinned roots included', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 400, size: 'max' }), run), bounded({ numRuns: 40 }));
  }, 120_000);

  it('agrees on a deep, wide tree built in one long batch and torn down again', () => {
    const ops: Op[] = [];
    for (let i = 0; i < 1500; i++) ops.push({ kind: 'create', parent: i * 7919, name: `n${(i * 31) % 997}x${i}`, data: new Uint8Array(i % 50), acl: i % 4, owner: i % 8 });
    ops.push({ kind: 'pin' }, { kind: 'commit' });
    for (let i = 0; i < 1600; i++) ops.push({ kind: 'delete', pick: i * 104729 });
    ops.push({ kind: 'commit' });
    run(ops);
  });
});
