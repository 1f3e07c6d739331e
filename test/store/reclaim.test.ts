import { describe, expect, it } from 'vitest';
import type { ACL } from '../../src/protocol/types.js';
import { auditArena } from '../../src/store/arena/check.js';
import { ArenaFullError, ArenaInvariantError } from '../../src/store/arena/errors.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';
import { ModelWriter } from './model.js';

// Reclamation: memory replaced by batches comes back once no reader pins a root that reaches
// it; a reader that keeps a pin is visible in the stats (oldest pinned generation, its age,
// bytes held back); and the configured segments bound memory: the writer then fails with an
// error that names the bound and the pin, while every published root stays readable.

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function populated(nodes: number, config = {}): { writer: TreeWriter; m: ModelWriter } {
  const writer = TreeWriter.create({ page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 32, ...config });
  const m = new ModelWriter(writer);
  writer.begin();
  createSystemNodes(writer);
  m.model = new Map([...['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']].map((p) => [p, placeholder()]));
  for (let i = 0; i < nodes; i++) writer.create(`/n${i}`, new Uint8Array(100), OPEN, 0n, ++m.zxid, 0, i + 1);
  writer.commit(m.zxid);
  return { writer, m };
}

function placeholder() {
  return { data: null, acl: OPEN, czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, owner: 0n, numChildren: 0 };
}

/** One batch of the steady workload: setData of 100 B on random nodes, a create + delete. */
function steadyBatch(writer: TreeWriter, nodes: number, next: () => number, zxid: { v: number }, batch: number): void {
  writer.begin();
  for (let i = 0; i < 100; i++) writer.setData(`/n${Math.floor(next() * nodes)}`, new Uint8Array(100).fill(i), batch, ++zxid.v, 1);
  writer.create(`/tmp${batch}`, new Uint8Array(300), OPEN, 5n, ++zxid.v, 1, batch + 1);
  if (batch > 0) writer.delete(`/tmp${batch - 1}`, ++zxid.v);
  writer.commit(zxid.v);
}

describe('reclamation', () => {
  it('allocated bytes reach a steady state under a steady workload with short pins', () => {
    const { writer, m } = populated(3000);
    const reader = new TreeReader(writer.handle);
    const next = rng(7);
    const zxid = { v: m.zxid };
    const in_use: number[] = [];
    for (let batch = 0; batch < 200; batch++) {
      reader.pin(); // a read worker's batch of reads, across the writer's commit
      steadyBatch(writer, 3000, next, zxid, batch);
      expect(reader.findPath(`/n${batch % 3000}`)).toBe(true);
      reader.unpin();
      in_use.push(writer.stats().bytes_in_use);
    }
    writer.begin();
    writer.commit(zxid.v);
    const warm = Math.max(...in_use.slice(20, 60));
    const late = Math.max(...in_use.slice(100));
    // No growth after warm-up (allowing a few pages of slab/tree shape jitter).
    expect(late).toBeLessThanOrEqual(warm + 8 * 1024);
    // Memory was reused many times over, not grown.
    expect(writer.stats().bytes_reclaimed_total).toBeGreaterThan(10 * warm);
    auditArena(writer);
  });

  it('a stuck reader is visible in the stats, holds memory back, and releasing it frees it', () => {
    const { writer, m } = populated(3000);
    const next = rng(11);
    const zxid = { v: m.zxid };
    // Warm up to the steady state first.
    let baseline = 0;
    for (let batch = 0; batch < 60; batch++) {
      steadyBatch(writer, 3000, next, zxid, batch);
      if (batch >= 40) baseline = Math.max(baseline, writer.stats().bytes_in_use);
    }
    const stuck = new TreeReader(writer.handle);
    const pinned_gen = stuck.pin();
    const held: number[] = [];
    for (let batch = 60; batch < 90; batch++) {
      steadyBatch(writer, 3000, next, zxid, batch);
      const s = writer.stats();
      expect(s.oldest_pinned_gen).toBe(pinned_gen);
      expect(s.pinned_age_gens).toBe(batch - 59);
      expect(s.readers_pinned).toBe(1);
      held.push(s.bytes_held_back);
    }
    // Every batch retires more that the pin keeps.
    for (let i = 1; i < held.length; i++) expect(held[i]).toBeGreaterThan(held[i - 1]);
    expect(writer.stats().bytes_in_use).toBeGreaterThan(baseline + held[held.length - 1] * 0.9);
    // The stuck reader still reads its root: /tmp59 exists there, /tmp89 does not.
    expect(stuck.findPath('/tmp59')).toBe(true);
    expect(stuck.findPath('/tmp89')).toBe(false);
    const peak = writer.stats().bytes_in_use;
    stuck.unpin();
    writer.reclaim();
    const s = writer.stats();
    expect(s.oldest_pinned_gen).toBe(null);
    expect(s.bytes_held_back).toBe(0);
    expect(s.bytes_retired).toBe(0);
    // Whole pages come back at once (B+tree copies); slab pages once their slots refill (the
    // steady workload gets back to the steady state within ~150 batches here).
    expect(s.bytes_in_use).toBeLessThan(peak - (peak - baseline) / 2);
    auditArena(writer);
    for (let batch = 90; batch < 400; batch++) steadyBatch(writer, 3000, next, zxid, batch);
    expect(writer.stats().bytes_in_use).toBeLessThanOrEqual(baseline + 16 * 1024);
  });

  it('memory is bounded by the configured segments: the writer fails with a clear error, roots stay readable', () => {
    const { writer, m } = populated(500, { segment_bytes: 64 * 1024, segments_max: 6 });
    const next = rng(3);
    const zxid = { v: m.zxid };
    const stuck = new TreeReader(writer.handle);
    const pinned_gen = stuck.pin();
    let error: unknown = null;
    let published = 0;
    for (let batch = 0; batch < 10_000 && error === null; batch++) {
      try {
        steadyBatch(writer, 500, next, zxid, batch);
        published = writer.generation;
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(ArenaFullError);
    const message = (error as Error).message;
    expect(message).toContain('waitfree.tree.segmentsMax');
    expect(message).toContain(`oldest pinned generation ${pinned_gen}`);
    expect(writer.stats().writer_failed).toBe(true);
    expect(writer.stats().bytes_in_use).toBeLessThanOrEqual(6 * 64 * 1024);
    // The writer refuses further work...
    expect(() => writer.begin()).toThrow(ArenaInvariantError);
    expect(() => writer.begin()).toThrow(/failed earlier/);
    // ...while the stuck root and the last published root stay readable.
    expect(stuck.findPath('/n499')).toBe(true);
    expect(stuck.nodeCount()).toBe(504);
    const fresh = new TreeReader(writer.handle);
    expect(fresh.pin()).toBe(published);
    expect(fresh.nodeCount()).toBe(505);
    expect(fresh.findPath('/n1')).toBe(true);
  });

  it('the same bounded arena runs the same workload indefinitely when readers unpin', () => {
    const { writer, m } = populated(500, { segment_bytes: 64 * 1024, segments_max: 6 });
    const next = rng(3);
    const zxid = { v: m.zxid };
    const reader = new TreeReader(writer.handle);
    for (let batch = 0; batch < 1000; batch++) {
      reader.pin();
      steadyBatch(writer, 500, next, zxid, batch);
      reader.unpin();
    }
    expect(writer.stats().writer_failed).toBe(false);
    writer.reclaim();
    auditArena(writer);
  });

  it('an old pinned root reads exactly its generation after many reclaiming batches', () => {
    const { writer, m } = populated(0);
    const zxid = { v: m.zxid };
    writer.begin();
    for (let i = 0; i < 200; i++) writer.create(`/k${i}`, new Uint8Array(i), OPEN, 0n, ++zxid.v, 0, i + 1);
    writer.commit(zxid.v);
    const old = new TreeReader(writer.handle);
    old.pin();
    const before = new Map<string, Uint8Array | null>();
    for (let i = 0; i < 200; i++) {
      old.findPath(`/k${i}`);
      before.set(`/k${i}`, old.data());
    }
    const next = rng(5);
    for (let b = 0; b < 100; b++) {
      writer.begin();
      for (let i = 0; i < 50; i++) {
        const k = Math.floor(next() * 200);
        writer.setData(`/k${k}`, new Uint8Array(64).fill(b), b + 1, ++zxid.v, 0);
      }
      writer.commit(zxid.v);
    }
    for (const [path, data] of before) {
      expect(old.findPath(path)).toBe(true);
      expect(old.data()).toEqual(data);
    }
    expect(writer.stats().pinned_age_gens).toBe(100);
  });

  it('refuses a reader when every slot is taken, naming the bound', () => {
    const writer = TreeWriter.create({ page_bytes: 1024, segment_bytes: 64 * 1024, segments_max: 1, reader_slots: 2 });
    const a = new TreeReader(writer.handle);
    new TreeReader(writer.handle);
    expect(() => new TreeReader(writer.handle)).toThrow(/no free reader slot.*waitfree.tree.readerSlots/);
    a.close();
    expect(() => new TreeReader(writer.handle)).not.toThrow();
  });
});
