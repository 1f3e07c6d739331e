import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram, mergeEncoded } from '../../bench/src/histogram.js';
import { bounded } from '../support/fc_bounds.js';

describe('LatencyHistogram', () => {
  it('merging per-thread histograms gives the percentiles of all values together', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 5_000_000 }), { maxLength: 300 }), { minLength: 1, maxLength: 4 }), (threads) => {
        const all = LatencyHistogram.create();
        const encoded = threads.map((values) => {
          const h = LatencyHistogram.create();
          for (const v of values) {
            h.record(v);
            all.record(v);
          }
          return h.encode();
        });
        const merged = mergeEncoded(encoded);
        expect(merged.count).toBe(threads.flat().length);
        expect(merged.summary()).toEqual(all.summary());
      }),
      bounded({ numRuns: 50 }),
    );
  });

  it('reports percentiles within 0.1% of the recorded values (3 significant digits)', () => {
    const h = LatencyHistogram.create();
    for (let v = 1; v <= 10_000; v++) h.record(v * 100); // 100 µs .. 1 s, uniform
    const s = h.summary();
    expect(Math.abs(s.p50_us - 500_000) / 500_000).toBeLessThan(0.002);
    expect(Math.abs(s.p99_us - 990_000) / 990_000).toBeLessThan(0.002);
    expect(Math.abs(s.max_us - 1_000_000) / 1_000_000).toBeLessThan(0.002);
    expect(s.count).toBe(10_000);
  });

  it('an empty histogram summarizes to zeros and survives encoding', () => {
    const h = LatencyHistogram.decode(LatencyHistogram.create().encode());
    expect(h.summary()).toEqual({ count: 0, mean_us: 0, p50_us: 0, p99_us: 0, p999_us: 0, max_us: 0 });
  });

  it('clamps sub-microsecond and absurd latencies instead of throwing', () => {
    const h = LatencyHistogram.create();
    h.record(0.2);
    h.record(1e12);
    expect(h.count).toBe(2);
    expect(h.summary().p50_us).toBe(1);
  });
});
