import { describe, expect, it } from 'vitest';
import { ARENA_CONFIG_KEYS, resolveArenaConfig } from '../../src/store/arena/config.js';
import { ArenaConfigError, ArenaFullError } from '../../src/store/arena/errors.js';
import { genBefore, genDistance, nextGeneration } from '../../src/store/arena/generation.js';
import { ArenaHeap } from '../../src/store/arena/heap.js';
import { PAGE_LEAF } from '../../src/store/arena/layout.js';
import { ArenaMemory, createArenaHandle } from '../../src/store/arena/memory.js';
import { slabClasses } from '../../src/store/arena/slab.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { TreeWriter } from '../../src/store/arena/tree_writer.js';

// The arena's bounds and allocators: configuration errors name their key; pages are taken
// lowest first (so RSS follows the high water mark) and freed pages are reused; runs stay
// within a segment; slab pages go back to the page allocator when their last slot is freed;
// every exhaustion is an ArenaFullError naming the bound.

function heap(config = {}): { mem: ArenaMemory; heap: ArenaHeap } {
  const mem = new ArenaMemory(createArenaHandle({ page_bytes: 1024, segment_bytes: 64 * 1024, segments_max: 2, ...config }));
  return { mem, heap: new ArenaHeap(mem) };
}

describe('arena config', () => {
  const cases: [keyof typeof ARENA_CONFIG_KEYS, number][] = [
    ['page_bytes', 3000],
    ['page_bytes', 512],
    ['segment_bytes', 1024 * 63],
    ['segment_bytes', 2 ** 31],
    ['segments_max', 0],
    ['segments_max', 2 ** 20],
    ['reader_slots', 0],
    ['root_ring', 6],
  ];
  for (const [key, value] of cases) {
    it(`${key}=${value} is refused with the config key named`, () => {
      expect(() => resolveArenaConfig({ [key]: value })).toThrow(ArenaConfigError);
      expect(() => resolveArenaConfig({ [key]: value })).toThrow(`${ARENA_CONFIG_KEYS[key]}=${value}`);
    });
  }
  it('defaults are valid', () => {
    expect(resolveArenaConfig()).toMatchObject({ page_bytes: 4096, segment_bytes: 64 << 20 });
  });
});

describe('page allocator', () => {
  it('takes the lowest free page, skips the reserved page 0, and reuses freed pages', () => {
    const { mem, heap: h } = heap();
    const a = h.allocPage(PAGE_LEAF);
    const b = h.allocPage(PAGE_LEAF);
    expect(mem.pageOf(a)).toBe(1);
    expect(mem.pageOf(b)).toBe(2);
    h.free(a);
    expect(h.allocPage(PAGE_LEAF)).toBe(a);
    expect(h.pages.high_water).toBe(3);
  });

  it('fails with ArenaFullError naming the bound when every page is used', () => {
    const { mem, heap: h } = heap();
    const pages = (2 * 64 * 1024) / 1024 - 1;
    for (let i = 0; i < pages; i++) h.allocPage(PAGE_LEAF);
    expect(() => h.allocPage(PAGE_LEAF)).toThrow(ArenaFullError);
    expect(() => h.allocPage(PAGE_LEAF)).toThrow(/waitfree.tree.segmentsMax/);
    expect(h.bytes_in_use).toBe(mem.capacity_bytes);
  });

  it('keeps a run within one segment and frees it whole', () => {
    const { mem, heap: h } = heap();
    for (let i = 0; i < 40; i++) h.allocPage(PAGE_LEAF); // pages 1..40 of segment 0 (64 pages)
    const run = h.allocBlob(30 * 1024); // 30 pages: no longer fit in segment 0
    expect(mem.segOf(run)).toBe(1);
    expect(h.bytesOf(run)).toBe(30 * 1024);
    const used = h.pages.pages_in_use;
    expect(h.free(run)).toBe(30 * 1024);
    expect(h.pages.pages_in_use).toBe(used - 30);
  });

  it('refuses a blob larger than a segment, naming segmentBytes', () => {
    const { heap: h } = heap();
    expect(() => h.allocBlob(65 * 1024)).toThrow(/waitfree.tree.segmentBytes/);
  });
});

describe('slab allocator', () => {
  it('has increasing 16-byte classes up to half a page', () => {
    for (const page of [1024, 4096, 32768]) {
      const sizes = slabClasses(page);
      expect(sizes[0]).toBe(16);
      for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThan(sizes[i - 1]);
      for (const s of sizes) expect(s % 16).toBe(0);
      expect(sizes[sizes.length - 1]).toBeLessThanOrEqual((page - 16) / 2);
      // Worst-case waste of a class is bounded (25% above 128 bytes).
      for (let i = 8; i < sizes.length; i++) expect(sizes[i] / sizes[i - 1]).toBeLessThanOrEqual(1.25 + 1e-9);
    }
  });

  it('gives distinct, non-overlapping slots and returns an emptied page', () => {
    const { mem, heap: h } = heap();
    const before = h.pages.pages_in_use;
    const addrs = Array.from({ length: 50 }, () => h.allocBlob(100));
    const ranges = addrs.map((a) => [mem.segOf(a) * 65536 + mem.offOf(a), h.bytesOf(a)] as const).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][0] + ranges[i - 1][1]);
    expect(h.bytesOf(addrs[0])).toBe(112);
    expect(h.pages.pages_in_use).toBeGreaterThan(before);
    for (const a of addrs) h.free(a);
    expect(h.pages.pages_in_use).toBe(before);
  });

  it('reuses freed slots before taking a new page', () => {
    const { heap: h } = heap();
    const a = h.allocBlob(40);
    h.allocBlob(40);
    const pages = h.pages.pages_in_use;
    h.free(a);
    expect(h.allocBlob(40)).toBe(a);
    expect(h.pages.pages_in_use).toBe(pages);
  });
});

describe('generations', () => {
  it('compare by serial arithmetic across the 2^32 wrap and never use 0', () => {
    expect(nextGeneration(-1)).toBe(1); // 0xFFFFFFFF -> 1
    expect(nextGeneration(0x7fff_ffff)).toBe(-0x8000_0000);
    expect(genBefore(0x7fff_fff0, -0x7fff_fff0)).toBe(true);
    expect(genBefore(-0x7fff_fff0, 0x7fff_fff0)).toBe(false);
    expect(genDistance(-2, 3)).toBe(5);
  });
});

describe('writer', () => {
  it('is the only writer of an arena', () => {
    const w = TreeWriter.create({ page_bytes: 1024, segment_bytes: 64 * 1024, segments_max: 1 });
    expect(() => new TreeWriter(w.handle)).toThrow(/already has a writer/);
  });

  it('refuses data larger than a segment up front, naming the bound, and stays usable', () => {
    const w = TreeWriter.create({ page_bytes: 1024, segment_bytes: 64 * 1024, segments_max: 4 });
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    w.begin();
    w.create('/', null, acl, 0n, 1, 0, 0);
    expect(() => w.create('/big', new Uint8Array(65 * 1024), acl, 0n, 2, 0, 1)).toThrow(/data of 66560 bytes .*waitfree.tree.segmentBytes/);
    w.create('/a', new Uint8Array(60 * 1024), acl, 0n, 2, 0, 1);
    expect(() => w.setData('/a', new Uint8Array(70 * 1024), 1, 3, 0)).toThrow(/waitfree.tree.segmentBytes/);
    w.commit(2);
    expect(w.stats().writer_failed).toBe(false);
    expect(w.view.children('/')).toEqual(['a']);
  });

  it('lets the supervisor release the slot of a reader thread that died while pinned', () => {
    const w = TreeWriter.create({ page_bytes: 1024, segment_bytes: 64 * 1024, segments_max: 4, reader_slots: 1 });
    const dead = new TreeReader(w.handle);
    const gen = dead.pin();
    w.begin();
    w.commit(1);
    expect(w.stats().oldest_pinned_gen).toBe(gen);
    TreeReader.releaseSlotOf(w.handle, dead.slot);
    w.reclaim();
    expect(w.stats().oldest_pinned_gen).toBe(null);
    expect(() => new TreeReader(w.handle)).not.toThrow();
  });

  it('checks preconditions before changing anything (the batch stays usable)', () => {
    const w = TreeWriter.create({ page_bytes: 1024, segment_bytes: 64 * 1024, segments_max: 4 });
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    w.begin();
    w.create('/', null, acl, 0n, 1, 0, 0);
    w.create('/a', null, acl, 0n, 2, 0, 1);
    w.create('/a/b', null, acl, 0n, 3, 0, 1);
    expect(() => w.create('/a', null, acl, 0n, 4, 0, 2)).toThrow(/create of existing/);
    expect(() => w.create('/x/y', null, acl, 0n, 4, 0, 1)).toThrow(/no parent/);
    expect(() => w.delete('/a', 4)).toThrow(/non-empty/);
    expect(() => w.delete('/nope', 4)).toThrow(/missing/);
    expect(() => w.setData('/nope', null, 1, 4, 0)).toThrow(/no node/);
    w.delete('/a/b', 4);
    w.commit(4);
    expect(w.stats().writer_failed).toBe(false);
    expect(w.view.children('/')).toEqual(['a']);
  });

  it('a replayed create of an existing node, or under a missing parent, fails the writer loudly', () => {
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    for (const [path, zxid] of [['/a', 3], ['/x/y', 3]] as const) {
      const w = TreeWriter.create({ page_bytes: 1024, segment_bytes: 64 * 1024, segments_max: 4 });
      w.begin();
      w.createReplayed('/', null, acl, 0n, 1, 0, 0);
      w.createReplayed('/a', null, acl, 0n, 2, 0, 1);
      expect(() => w.createReplayed(path, null, acl, 0n, zxid, 0, 2), path).toThrow();
      expect(w.stats().writer_failed, path).toBe(true);
      expect(() => w.commit(zxid), path).toThrow();
    }
  });
});
