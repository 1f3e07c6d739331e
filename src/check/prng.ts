// A small seeded PRNG (mulberry32): every client draws its op kinds and keys from its own stream,
// so a run is reproducible from its seed and no two clients walk the keys in lockstep. Product
// code (`waitfree check`, src/check/run.ts); the benchmark load generator (bench/src) uses it too.
// (test/sim/prng.ts is a different generator, sfc32 with 128 bits of state, for the simulator's
// long single streams; it does not duplicate this one.)

/** Returns a function yielding uniform floats in [0, 1). Same seed -> same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a run seed and a client index into a per-client seed (distinct for distinct clients). */
export function clientSeed(run_seed: number, client_index: number): number {
  return (Math.imul(run_seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(client_index + 1, 0xc2b2ae35)) >>> 0;
}

/** A draw uniform in [lo, hi) from `rng` (a fault's gap or duration). */
export function between(rng: () => number, [lo, hi]: readonly [number, number]): number {
  return lo + rng() * (hi - lo);
}
