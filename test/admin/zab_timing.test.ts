// Proposal timing for the Zab latency metrics (src/metrics/proposal_times.ts): propose -> quorum
// commit and propose -> each follower's cumulative ACK, with the clock given by the test.
//
// How these fail: a cumulative ACK observed once instead of once per proposal it covers, a
// proposal observed twice, the sync stream of a rejoining follower counted as ACK latency,
// memory kept for a follower that left, the bound not holding.

import { describe, expect, it } from 'vitest';
import { ProposalTimes } from '../../src/metrics/proposal_times.js';
import { BufferStats } from '../../src/metrics/buffer_stats.js';

function collect(): { seen: number[]; observe: (ms: number) => void } {
  const seen: number[] = [];
  return { seen, observe: (ms) => seen.push(ms) };
}

describe('ProposalTimes', () => {
  it('a cumulative commit and ACK observe each covered proposal once, from its propose time', () => {
    const t = new ProposalTimes(100);
    t.followerSynced(2, 10);
    t.followerSynced(3, 10);
    t.proposed(11, 1000);
    t.proposed(12, 1001);
    t.proposed(13, 1005);
    const q = collect();
    t.committed(12, 1010, q.observe);
    t.committed(12, 1020, q.observe); // nothing new
    t.committed(13, 1030, q.observe);
    expect(q.seen).toEqual([10, 9, 25]);
    const a2 = collect();
    t.ackedBy(2, 13, 1008, a2.observe);
    expect(a2.seen).toEqual([8, 7, 3]);
    const a3 = collect();
    t.ackedBy(3, 11, 1004, a3.observe);
    t.ackedBy(3, 11, 1006, a3.observe); // a repeated ACK adds nothing
    t.ackedBy(3, 13, 1040, a3.observe);
    expect(a3.seen).toEqual([4, 39, 35]);
    expect(t.size).toBe(0); // committed and acknowledged by every follower: dropped
  });

  it('ACKs inside a follower sync stream are not timed; a follower without one gets a baseline first', () => {
    const t = new ProposalTimes(100);
    t.proposed(1, 0);
    t.proposed(2, 0);
    t.followerSynced(2, 2); // its sync stream carried 1 and 2
    t.proposed(3, 50);
    const a = collect();
    t.ackedBy(2, 3, 60, a.observe);
    expect(a.seen).toEqual([10]);
    const b = collect();
    t.ackedBy(9, 2, 70, b.observe); // unknown follower: baseline only
    t.ackedBy(9, 3, 80, b.observe);
    expect(b.seen).toEqual([30]);
  });

  it('a follower that stops acknowledging holds proposals until it is forgotten, never past capacity', () => {
    const t = new ProposalTimes(8);
    t.followerSynced(2, 0);
    for (let z = 1; z <= 20; z++) t.proposed(z, z);
    t.committed(20, 100, () => {});
    expect(t.size).toBe(8);
    t.forget(2);
    expect(t.size).toBe(0);
    t.proposed(3, 0); // a lower number (a new leadership): starts over
    expect(t.size).toBe(1);
  });
});

describe('BufferStats', () => {
  it('-1 before the first size, then last / min / max', () => {
    const b = new BufferStats();
    expect(b.value).toEqual({ last: -1, min: -1, max: -1 });
    for (const n of [50, 10, 70, 30]) b.add(n);
    expect(b.value).toEqual({ last: 30, min: 10, max: 70 });
    b.reset();
    expect(b.value.last).toBe(-1);
  });
});
