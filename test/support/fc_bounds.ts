// Bounds for fast-check properties, so that a failing property reports within seconds instead
// of hanging CI. fast-check shrinks a failure by re-running the predicate on smaller and
// smaller values, with no end but the shrink tree's: for an expensive predicate (a tree of 300
// nodes built, streamed, loaded and compared per run) that is hours, and vitest's testTimeout
// cannot fire because the loop is synchronous. Here shrinking stops `shrink_ms` after the first
// failure and fast-check reports the smallest counterexample found so far, with the seed and
// path that replay it (`fc.assert(prop, { seed, path })` shrinks it further when wanted).
//
// Usage: `fc.assert(property, bounded({ numRuns: 40 }))`.

import fc from 'fast-check';

/** Shrinking time after the first failure, unless a property says otherwise. */
export const SHRINK_MS_DEFAULT = 5_000;
/** Upper bound of `shrink_ms`: the failure must surface well within vitest's testTimeout. */
export const SHRINK_MS_MAX = 20_000;

/** The result of a run meaning "stop here" (shrinking ends; the last failure is reported). */
const interrupt = (): fc.PreconditionFailure => new fc.PreconditionFailure(true);

/** A run's outcome is a failure when it is neither a success (null) nor a skip/interrupt. */
function isFailure(out: fc.PreconditionFailure | fc.PropertyFailure | null): boolean {
  return out !== null && !fc.PreconditionFailure.isFailure(out);
}

/**
 * A plugin that lets shrinking run for `shrink_ms` after the first failing run, then interrupts
 * it. A run already started is not cut short (a synchronous predicate cannot be), so the bound
 * is `shrink_ms` plus one run. Runs before the first failure are not limited: a property that
 * passes runs all its `numRuns`, however slow the machine.
 */
export function shrinkWithin<T>(shrink_ms: number): fc.Plugin<T> {
  if (!(Number.isFinite(shrink_ms) && shrink_ms >= 0 && shrink_ms <= SHRINK_MS_MAX)) {
    throw new RangeError(`shrink_ms ${shrink_ms} outside 0..${SHRINK_MS_MAX}`);
  }
  return () => {
    /** performance.now() after which shrinking stops; null until a run fails. */
    let deadline_ms: number | null = null;
    const note = (out: fc.PreconditionFailure | fc.PropertyFailure | null): void => {
      if (deadline_ms === null && isFailure(out)) deadline_ms = performance.now() + shrink_ms;
    };
    return {
      decorateRun: (nested) => (value) => {
        if (deadline_ms !== null && performance.now() >= deadline_ms) return interrupt() as ReturnType<typeof nested>;
        const out = nested(value);
        if (out !== null && 'then' in out) {
          return out.then((o) => {
            note(o);
            return o;
          }) as ReturnType<typeof nested>;
        }
        note(out);
        return out;
      },
    };
  };
}

/**
 * `params` for fc.assert / fc.check with shrinking bounded to `shrink_ms` after the first
 * failure (plugins already in `params` are kept and run inside the bound).
 */
export function bounded<T>(params: fc.Parameters<T> = {}, shrink_ms: number = SHRINK_MS_DEFAULT): fc.Parameters<T> {
  return { ...params, plugins: [shrinkWithin<T>(shrink_ms), ...(params.plugins ?? [])] };
}
