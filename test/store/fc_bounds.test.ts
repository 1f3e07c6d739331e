import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bounded, shrinkWithin } from '../support/fc_bounds.js';

// The shrink bound of test/support/fc_bounds.ts (used by every property in test/): a failing
// property with an expensive predicate and a huge shrink tree reports its seed and a
// counterexample shortly after shrink_ms, where unbounded shrinking would run for minutes;
// a passing property is not cut short, however slow its runs.

/** Busy-waits `ms` (a synchronous predicate, as the arena properties are). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe('fc_bounds', () => {
  it('a failing property with a long shrink reports seed and counterexample after shrink_ms', () => {
    // Fails while 100 of the 200 values are >= 1000; each run costs 10 ms. Unbounded, the
    // shrinker binary-searches 100 values down to 1000 one by one: thousands of runs (~30 s).
    const prop = fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 200, maxLength: 200 }), (xs) => {
      spin(10);
      return xs.filter((x) => x >= 1000).length < 100;
    });
    const t0 = performance.now();
    const out = fc.check(prop, bounded({ seed: 42, numRuns: 10 }, 300));
    const elapsed_ms = performance.now() - t0;
    expect(out.failed).toBe(true);
    expect(out.interrupted).toBe(true); // shrinking was cut, not finished
    expect(out.seed).toBe(42);
    expect(out.counterexample).not.toBeNull();
    expect(elapsed_ms).toBeLessThan(3_000);
    // fc.assert's report names the seed and the path that replay the failure.
    expect(() => fc.assert(prop, bounded({ seed: 42, numRuns: 10 }, 300))).toThrow(/seed: 42, path: "0(:\d+)*"[\s\S]*Counterexample/);
  });

  it('a passing property runs all numRuns, however long they take', () => {
    const out = fc.check(
      fc.property(fc.nat(), () => {
        spin(20);
        return true;
      }),
      bounded({ numRuns: 15 }, 50),
    );
    expect(out.failed).toBe(false);
    expect(out.interrupted).toBe(false);
    expect(out.numRuns).toBe(15);
  });

  it('refuses a shrink bound outside 0..SHRINK_MS_MAX', () => {
    expect(() => shrinkWithin(-1)).toThrow(/shrink_ms -1/);
    expect(() => shrinkWithin(Number.NaN)).toThrow(/shrink_ms NaN/);
    expect(() => shrinkWithin(600_000)).toThrow(/shrink_ms 600000/);
  });
});
