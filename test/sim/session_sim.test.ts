// Client sessions over a simulated Zab ensemble (session_sim.ts): REVALIDATE, SESSIONMOVED and
// expiry under faults. The suite runs a fixed set of seeds; for more:
//   SESSION_SIM_SEEDS=500 [SESSION_SIM_FROM=1001] npx vitest run test/sim/session_sim.test.ts
// and to replay one seed with its full trace written to a file:
//   SESSION_SIM_SEED=1234 npx vitest run test/sim/session_sim.test.ts

import { describe, expect, it } from 'vitest';
import { replaying, seedsFromEnv, writeTrace } from './seeds.js';
import { runSessionSeed } from './session_sim.js';

/**
 * Seeds 1..24, 51 and 200258. What the simulator found, in runs of earlier versions of it (their
 * runs have changed shape since, so those seeds no longer replay them):
 * - seed 39: a leader paused past syncLimit (deposed meanwhile: a new leader had expired the
 *   session) accepted a reattach from its own table on waking. Answers about sessions now wait
 *   for a no-op txn to commit (CommitCore.replicated); turned off, seed 51 (kept in this set)
 *   fails.
 * - seed 2818 (2,000 seeds from 1000): a client left a replica, came back to it while a write of
 *   its first connection there was still on its way, and that write ran after one of its
 *   connection in between (the holder was that replica again). A reattach now supersedes the
 *   connection that held the session there at once (CommitCore.takeOver; pinned by
 *   test/commit/revalidate.test.ts). Holders turned off, seed 1 of this set fails.
 * - seed 200258 (400 seeds from 200001; kept in this set): a leader paused for a second, whose
 *   proposals in flight (in_flight_max 1 in that run) could not commit, expired six sessions in
 *   one tick; its Zab core's queue refused the closeSession txns past it and the leader stopped on
 *   a broken invariant. Expiry now takes the pipeline's room (CommitCore.tick txns_max; pinned
 *   by test/commit/expiry_budget.test.ts and test/ensemble/expiry_burst.test.ts).
 */
const FIXED_SEEDS = [...Array.from({ length: 24 }, (_, i) => i + 1), 51, 200258];

describe('sessions over a simulated Zab ensemble', () => {
  const seeds = seedsFromEnv('SESSION_SIM', FIXED_SEEDS);

  it(`${seeds.length} seeds: committed txns agree, writes follow their session's moves, no expired session is let back in`, async () => {
    const totals = { sessions: 0, reattached: 0, expired: 0, committed: 0, moved_refused: 0, elections: 0 };
    for (const seed of seeds) {
      const { sim, failure } = await runSessionSeed(seed, replaying('SESSION_SIM'));
      if (failure !== null || replaying('SESSION_SIM')) {
        const full = failure === null ? sim : (await runSessionSeed(seed, true)).sim;
        const path = writeTrace('session-sim', seed, full.lines);
        if (failure !== null) {
          const msg = `seed ${seed} FAILED: ${failure}\nreplay: SESSION_SIM_SEED=${seed} npx vitest run test/sim/session_sim.test.ts\nfull trace: ${path}\n--- last events ---\n${full.lines.slice(-60).join('\n')}`;
          console.error(msg);
          expect.fail(msg);
        }
        console.log(`seed ${seed} ok, ${JSON.stringify(sim.stats())}, trace: ${path}`);
      }
      const s = sim.stats();
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += s[k];
    }
    console.log(`${seeds.length} seeds ok: ${JSON.stringify(totals)}`);
  }, 3_600_000);
});
