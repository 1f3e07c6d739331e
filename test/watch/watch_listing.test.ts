// Watch listings as the shards build them (ListingJob, in slices, into byte chunks) and the
// supervisor merges them (mergeListings), and the per-turn work budget (WatchWork).
//
// How these fail: a record split or mis-sized so paths come back garbled (non-ASCII paths, a
// path longer than a chunk); session ids rounded; the bound not applied (or applied without
// saying so); a path watched from two shards listed twice; a step doing more than its slice;
// listings piling up without limit.

import { describe, expect, it } from 'vitest';
import { ListingJob, listingPairs, mergeListings, type WatchListingPart, type WatchListingRequest } from '../../src/watch/watch_listing.js';
import { WatchTable } from '../../src/watch/watch_table.js';
import { LISTINGS_QUEUED_MAX, WatchWork } from '../../src/watch/watch_work.js';

const BIG = 1 << 30;
/** More digits than a double holds exactly. */
const S7 = 0x100000a2b3c0007n;
const S8 = 0x100000a2b3c0008n;
const sessions = new Map<number, bigint>([
  [7, S7],
  [8, S8],
]);
const sessionOf = (w: number): bigint | undefined => sessions.get(w);

function build(t: WatchTable, request: WatchListingRequest, slice = 3): WatchListingPart {
  const job = new ListingJob(t, request, sessionOf);
  while (!job.isDone()) expect(job.step(slice)).toBeLessThanOrEqual(slice);
  return job.result();
}

function asObject(groups: ReadonlyMap<bigint | string, readonly (bigint | string)[]>): Record<string, string[]> {
  return Object.fromEntries([...groups].map(([k, vs]) => [String(k), vs.map(String)]));
}

describe('ListingJob + mergeListings', () => {
  const t = new WatchTable();
  const long = '/' + 'é'.repeat(200_000); // 400 KB of UTF-8: bigger than a chunk
  t.addWatch('/a', 7, 'data');
  t.addWatch('/a', 7, 'child'); // same pair, second table: listed once
  t.addWatch('/kids', 7, 'child');
  t.addWatch('/ünï/☃', 7, 'exist');
  t.addWatch(long, 7, 'data');
  t.addWatch('/a', 8, 'persistent');
  t.addWatch('/a', 9, 'data'); // watcher 9 has no session (gone): left out

  it('by session: every pair once, non-ASCII and chunk-sized paths intact, ids exact', () => {
    const part = build(t, { order: 'by_session', bytes_max: BIG });
    expect(part.truncated).toBe(false);
    expect(part.pairs).toBe(5);
    const listing = mergeListings('by_session', [part], BIG);
    expect(asObject(listing.groups)).toEqual({
      [S7.toString()]: ['/a', '/ünï/☃', long, '/kids'],
      [S8.toString()]: ['/a'],
    });
    expect(listingPairs(listing)).toBe(5);
  });

  it('by path: each path once, with its sessions', () => {
    const listing = mergeListings('by_path', [build(t, { order: 'by_path', bytes_max: BIG })], BIG);
    expect(asObject(listing.groups)).toEqual({
      '/a': [S7.toString(), S8.toString()],
      '/ünï/☃': [S7.toString()],
      [long]: [S7.toString()],
      '/kids': [S7.toString()],
    });
  });

  it('parts from several shards merge: a path watched on two shards is one group, values once', () => {
    const other = new WatchTable();
    other.addWatch('/a', 8, 'data'); // same session on another shard (a second connection)
    other.addWatch('/b', 8, 'child');
    const parts = [build(t, { order: 'by_path', bytes_max: BIG }), build(other, { order: 'by_path', bytes_max: BIG })];
    const listing = mergeListings('by_path', parts, BIG);
    expect(asObject(listing.groups)['/a']).toEqual([S7.toString(), S8.toString()]);
    expect(asObject(listing.groups)['/b']).toEqual([S8.toString()]);
    const by_session = mergeListings('by_session', [build(t, { order: 'by_session', bytes_max: BIG }), build(other, { order: 'by_session', bytes_max: BIG })], BIG);
    expect(asObject(by_session.groups)[S8.toString()]).toEqual(['/a', '/b']);
  });

  it('a shard stops at bytes_max and says so; so does the merge', () => {
    const many = new WatchTable();
    for (let i = 0; i < 1000; i++) many.addWatch(`/p/${String(i).padStart(4, '0')}`, 7, 'data');
    // Each value record: 5 + 7 bytes; the group: 9.
    const part = build(many, { order: 'by_session', bytes_max: 9 + 12 * 100 }, 64);
    expect(part.truncated).toBe(true);
    expect(part.pairs).toBe(100);
    const bytes = part.chunks.reduce((n, c) => n + c.length, 0);
    expect(bytes).toBe(9 + 12 * 100);
    const merged = mergeListings('by_session', [part], BIG);
    expect(merged.truncated).toBe(true);
    expect(listingPairs(merged)).toBe(100);
    // The merge's own bound over all shards.
    const whole = build(many, { order: 'by_session', bytes_max: BIG }, 64);
    expect(whole.truncated).toBe(false);
    const cut = mergeListings('by_session', [whole], 9 + 12 * 10);
    expect(cut.truncated).toBe(true);
    expect(listingPairs(cut)).toBe(10);
    expect(mergeListings('by_session', [whole], BIG).truncated).toBe(false);
  });

  it('chunks own their buffers (they are transferred) and hold nothing beyond their records', () => {
    const part = build(t, { order: 'by_path', bytes_max: BIG });
    for (const c of part.chunks) {
      expect(c.byteOffset).toBe(0);
      expect(c.buffer.byteLength).toBe(c.byteLength);
    }
    expect(new Set(part.chunks.map((c) => c.buffer)).size).toBe(part.chunks.length);
  });
});

describe('WatchWork', () => {
  it('each step visits at most a slice; removals first, then the oldest listing', async () => {
    const t = new WatchTable({ removal_entries_max: 10 });
    for (let i = 0; i < 1000; i++) t.addWatch(`/old/${i}`, 5, 'data');
    for (let i = 0; i < 95; i++) t.addWatch(`/live/${i}`, 7, 'data');
    const work = new WatchWork(t, 10);
    t.removeWatcher(5);
    let finished: WatchListingPart | undefined;
    void work.list({ order: 'by_session', bytes_max: BIG }, sessionOf).then((p) => (finished = p));
    let steps = 0;
    while (work.pending()) {
      const before = t.watchCount();
      work.step();
      // A removal step takes at most the slice; none of the listing happens before they are done.
      expect(before - t.watchCount()).toBeLessThanOrEqual(10);
      steps++;
      await Promise.resolve();
    }
    await Promise.resolve();
    expect(t.watchCount()).toBe(95);
    expect(steps).toBeGreaterThanOrEqual(100 + 95 / 10);
    expect(finished?.pairs).toBe(95);
  });

  it('refuses listings beyond its queue bound instead of piling them up', async () => {
    const t = new WatchTable();
    t.addWatch('/a', 7, 'data');
    const work = new WatchWork(t, 10);
    const queued = Array.from({ length: LISTINGS_QUEUED_MAX }, () => work.list({ order: 'by_path', bytes_max: BIG }, sessionOf));
    await expect(work.list({ order: 'by_path', bytes_max: BIG }, sessionOf)).rejects.toThrow(/already being built/);
    while (work.pending()) work.step();
    for (const p of await Promise.all(queued)) expect(p.pairs).toBe(1);
    // Room again once they are done.
    const again = work.list({ order: 'by_path', bytes_max: BIG }, sessionOf);
    while (work.pending()) work.step();
    expect((await again).pairs).toBe(1);
  });
});
