// The replica simulator (replica_sim.ts): the shard and commit stages, the Applier, a fake disk
// and simulated clients in one thread, every choice from a seeded PRNG. The suite runs a fixed
// set of seeds; a longer run is a command:
//   REPLICA_SIM_SEEDS=2000 npx vitest run test/sim/replica_sim.test.ts                 (seeds 1..2000)
//   REPLICA_SIM_SEEDS=2000 REPLICA_SIM_FROM=5001 npx vitest run test/sim/replica_sim.test.ts
// and one seed replayed with its whole trace written to a file:
//   REPLICA_SIM_SEED=1234 npx vitest run test/sim/replica_sim.test.ts
// A failure prints the seed, the step, the replay command, the last trace lines and the path of
// the full trace.

import { describe, expect, it } from 'vitest';
import { replaying, seedsFromEnv, writeTrace } from './seeds.js';
import { runReplicaSeed, type ReplicaRunResult, type ReplicaSimOptions } from './replica_sim.js';

const FIXED_SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);

/** The failure, with the same run replayed keeping every trace line (written to a file). */
function report(r: ReplicaRunResult): string {
  const full = runReplicaSeed(r.seed, { keep_trace: true });
  const path = writeTrace('replica-sim', r.seed, full.sim.lines);
  return [
    `seed ${r.seed} FAILED at step ${r.failure!.step}: ${r.failure!.reason}`,
    `replay: REPLICA_SIM_SEED=${r.seed} npx vitest run test/sim/replica_sim.test.ts`,
    `options: ${JSON.stringify(r.options)}`,
    `full trace (${full.sim.lines.length} lines): ${path}`,
    '--- last events ---',
    ...r.failure!.trace_tail,
  ].join('\n');
}

describe('replica simulation (shard + commit stages, fake disk, seeded)', () => {
  const seeds = seedsFromEnv('REPLICA_SIM', FIXED_SEEDS);

  it(`${seeds.length} seeds: FIFO, zxid order, watch-before-data, durability gating, read-your-writes, final tree`, () => {
    const started = Date.now();
    let steps = 0;
    for (const seed of seeds) {
      const r = runReplicaSeed(seed, { keep_trace: replaying('REPLICA_SIM') });
      if (r.failure !== null) {
        const msg = report(r);
        console.error(msg);
        expect.fail(msg);
      }
      if (replaying('REPLICA_SIM')) {
        const path = writeTrace('replica-sim', seed, r.sim.lines);
        console.log(`seed ${seed} ok: ${JSON.stringify(r.stats)}, options ${JSON.stringify(r.options)}, trace: ${path}`);
      }
      steps += r.stats!.steps;
    }
    if (seeds.length > FIXED_SEEDS.length) console.log(`${seeds.length} seeds ok, ${steps} steps, ${Date.now() - started} ms`);
  }, 3_600_000);

  /** Busy pipelined sessions on a disk slow enough for batches to fill. */
  const busy: Partial<ReplicaSimOptions> = {
    shards: 2,
    clients: 4,
    ops_per_client: [40, 40],
    pipeline_max: 8,
    max_outstanding_per_session: 1000,
    close_chance: 0,
    disk_ms: [1, 4],
    inline_chance: 0,
    fail_at_batch: null,
    batch_txns_max: 1000,
  };

  it('back-to-back writes of a session share roots: fewer roots than txns', () => {
    const r = runReplicaSeed(11, { ...busy, profile: 'writes' });
    expect(r.failure?.message ?? null).toBeNull();
    const { roots, txns } = r.stats!;
    expect(txns).toBeGreaterThan(100);
    // Each release round (one durable batch) is one root unless a barrier seals it earlier:
    // writes with nothing served between them never do, so rounds carry several txns each.
    expect(roots).toBeLessThan(txns / 2);
    expect(roots).toBeLessThanOrEqual(r.stats!.batches);
  });

  it('reads between writes (barriers) keep zxid order and read-your-writes, and events come first', () => {
    const r = runReplicaSeed(11, { ...busy, profile: 'mixed' });
    expect(r.failure?.message ?? null).toBeNull();
    const s = r.stats!;
    expect(s.replies).toBe(s.requests);
    expect(s.events).toBeGreaterThan(0);
    // Barriers sealed roots: more roots than durable batches (release rounds).
    expect(s.roots).toBeGreaterThan(s.batches);
  });

  it('a failed log write: nothing in or after that batch is acknowledged, and the run still ends cleanly', () => {
    const r = runReplicaSeed(12, { ...busy, profile: 'writes', fail_at_batch: 3 });
    expect(r.failure?.message ?? null).toBeNull();
    expect(r.stats!.failed_from).not.toBeNull();
    expect(r.stats!.replies).toBeLessThan(r.stats!.requests);
  });

  it('a seed replays exactly; another seed differs', () => {
    const a = runReplicaSeed(7, { keep_trace: true });
    const b = runReplicaSeed(7, { keep_trace: true });
    const c = runReplicaSeed(8, { keep_trace: true });
    expect(a.failure).toBeNull();
    expect(b.sim.lines).toEqual(a.sim.lines);
    expect(b.stats).toEqual(a.stats);
    expect(c.sim.lines).not.toEqual(a.sim.lines);
  });
});
