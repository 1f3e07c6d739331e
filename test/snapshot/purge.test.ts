import { describe, expect, it } from 'vitest';
import type { DirListing } from '../../src/log/data_dir.js';
import { purgePlan } from '../../src/snapshot/purge.js';

const file = (kind: 'log' | 'snapshot', zxid: number) => ({ name: `${kind}.${zxid}`, path: `/d/${kind}.${zxid}`, zxid });

function listing(snaps: number[], segs: number[]): DirListing {
  return { snapshots: snaps.map((z) => file('snapshot', z)), segments: segs.map((z) => file('log', z)), tmp_snapshots: [], has_spare: false };
}

describe('purge plan (autopurge)', () => {
  it('keeps the newest K snapshots and every segment holding a txn after the oldest kept one', () => {
    // Segments: [1..99] [100..249] [250..399] [400..]; snapshots at 120, 260, 300, 410.
    const plan = purgePlan(listing([120, 260, 300, 410], [1, 100, 250, 400]), 3);
    expect(plan.snapshots).toEqual(['/d/snapshot.120']);
    // The oldest kept snapshot is 260: txns 261.. live in [250..399] and later.
    expect(plan.segments).toEqual(['/d/log.1', '/d/log.100']);
  });

  it('a segment ending exactly at the oldest kept snapshot goes; the one after it stays', () => {
    const plan = purgePlan(listing([10, 99, 150, 249], [1, 100, 250]), 3);
    expect(plan.segments).toEqual(['/d/log.1']);
    expect(purgePlan(listing([10, 98, 150, 249], [1, 100, 250]), 3).segments).toEqual([]);
    const plan2 = purgePlan(listing([5, 40, 50, 60], [1, 41]), 3);
    expect(plan2.segments).toEqual(['/d/log.1']);
  });

  it('nothing goes with K or fewer snapshots, and the last segment always stays', () => {
    expect(purgePlan(listing([5, 6, 7], [1, 2]), 3)).toEqual({ snapshots: [], segments: [] });
    expect(purgePlan(listing([5, 6, 7, 900], [1]), 3).segments).toEqual([]);
  });
});
