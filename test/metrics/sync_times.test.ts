// The txn log's sync times as ZooKeeper reports them (mntr's zk_*_fsynctime: whole milliseconds)
// and the slow-sync threshold (fsync.warningthresholdms: strictly longer warns).

import { describe, expect, it } from 'vitest';
import { averageMs, LogSyncTimes, slowSyncWarning } from '../../src/metrics/sync_times.js';

describe('LogSyncTimes', () => {
  it('reports zeros before the first sync, as ZooKeeper does', () => {
    const t = new LogSyncTimes(1000);
    expect([t.count, t.sum_ms, t.min_ms, t.max_ms, averageMs(t), t.over_threshold]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('counts whole milliseconds: min, max, sum, count, average', () => {
    const t = new LogSyncTimes(1000);
    for (const ms of [0.4, 2.7, 1.2, 7.99]) t.observe(ms);
    expect([t.count, t.sum_ms, t.min_ms, t.max_ms]).toEqual([4, 10, 0, 7]);
    expect(averageMs(t)).toBe(2.5);
  });

  it('warns only for a sync strictly longer than the threshold, and counts those', () => {
    const t = new LogSyncTimes(2);
    expect(t.observe(2.9)).toBe(false); // 2 ms: not over
    expect(t.observe(3)).toBe(true);
    expect(t.observe(1500)).toBe(true);
    expect(t.over_threshold).toBe(2);
    const zero = new LogSyncTimes(0);
    expect(zero.observe(0.9)).toBe(false);
    expect(zero.observe(1)).toBe(true);
  });

  it('refuses a threshold that is not a whole number of ms >= 0', () => {
    expect(() => new LogSyncTimes(-1)).toThrow(RangeError);
    expect(() => new LogSyncTimes(1.5)).toThrow(RangeError);
  });

  it('the warning says how long, over which threshold, and how much the batch held', () => {
    const line = slowSyncWarning(1234.9, 1000, 17, 18_000);
    expect(line).toContain('took 1234 ms');
    expect(line).toContain('fsync.warningthresholdms=1000');
    expect(line).toContain('17 txns, 18000 bytes');
  });
});
