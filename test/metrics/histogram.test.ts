// Histograms in a metric block: the bucket a value lands in, sums, and summing blocks.
// How these fail: an off-by-one bucket search puts a value equal to a bound in the next bucket
// (Prometheus buckets are "less than or equal"); a count slot kept apart from the buckets can
// disagree with them; a wrong stride makes one op's observations show up under another's.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addHistogram, emptyHistogram, histogramSlots, histogramSpec, observe, readHistogram } from '../../src/metrics/histogram.js';
import { bounded } from '../support/fc_bounds.js';

const SPEC = histogramSpec([1, 5, 10]);

describe('histogram', () => {
  it('puts a value in the first bucket whose bound is >= the value, and past the last bound in +Inf', () => {
    const v = new Float64Array(histogramSlots(SPEC));
    for (const x of [0, 1, 1.5, 5, 10, 10.01, 1e9]) observe(v, 0, SPEC, x);
    const h = readHistogram(v, 0, SPEC);
    expect(h.counts).toEqual([2, 2, 1, 2]);
    expect(h.count).toBe(7);
    expect(h.sum).toBeCloseTo(0 + 1 + 1.5 + 5 + 10 + 10.01 + 1e9);
  });

  it('count always equals the sum of the buckets, and summing two blocks adds them', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 100, noNaN: true })), fc.array(fc.double({ min: 0, max: 100, noNaN: true })), (a, b) => {
        const va = new Float64Array(histogramSlots(SPEC));
        const vb = new Float64Array(histogramSlots(SPEC));
        for (const x of a) observe(va, 0, SPEC, x);
        for (const x of b) observe(vb, 0, SPEC, x);
        const total = addHistogram(addHistogram(emptyHistogram(SPEC), va, 0), vb, 0);
        expect(total.count).toBe(a.length + b.length);
        expect(total.counts.reduce((n, c) => n + c, 0)).toBe(total.count);
      }),
      bounded(),
    );
  });

  it('refuses bounds that are not ascending', () => {
    expect(() => histogramSpec([1, 1])).toThrow(/ascending/);
    expect(() => histogramSpec([5, 1])).toThrow(/ascending/);
  });
});
