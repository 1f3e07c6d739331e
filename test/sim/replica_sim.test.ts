// The replica simulator (replica_sim.ts): the shard and commit stages, the Applier, the
// product's bounded rings and links, a fake disk, simulated clients and the net worker's
// routing (direct writes included, in 70 % of the seeds) in one thread, every choice from a
// seeded PRNG. The suite runs a fixed set of seeds; a longer run is a command:
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
  const full = runReplicaSeed(r.seed, { ...r.options, keep_trace: true });
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

/** Runs one seed and insists it passes (printing the report otherwise). */
function pass(seed: number, overrides: Partial<ReplicaSimOptions>): NonNullable<ReplicaRunResult['stats']> {
  const r = runReplicaSeed(seed, overrides);
  if (r.failure !== null) expect.fail(`${r.failure.message}\noptions: ${JSON.stringify(r.options)}`);
  return r.stats!;
}

const RING_SMALL = { capacity_bytes: 4096, frame_bytes_max: null };
const RING_LARGE = { capacity_bytes: 1 << 20, frame_bytes_max: null };
const RINGS_LARGE = { net_to_shard: RING_LARGE, shard_to_net: RING_LARGE, shard_to_commit: RING_LARGE, commit_stream: RING_LARGE, net_to_commit: RING_LARGE, commit_to_net: RING_LARGE };
/** No session ends but by closeSession, no disk stall, rings that never fill. */
const PLAIN: Partial<ReplicaSimOptions> = { expiry: null, stall: null, rings: RINGS_LARGE, data_bytes_max: 6, tick_ms: 2000, timeout_ms: 30_000 };

describe('replica simulation (shard + commit stages, bounded rings, fake disk, seeded)', () => {
  const seeds = seedsFromEnv('REPLICA_SIM', FIXED_SEEDS);

  it(`${seeds.length} seeds: FIFO, zxid order, watch-before-data, durability gating, read-your-writes, expiry, backpressure, direct writes, final tree`, () => {
    const started = Date.now();
    let steps = 0;
    const direct = { seeds: 0, direct_writes: 0, direct_ring_full: 0, direct_pipelined: 0, direct_replies: 0, held_frames: 0, held_dropped: 0, placeholders_after_commit: 0, after_direct_takes: 0 };
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
      if (r.options.direct_writes) direct.seeds++;
      for (const k of ['direct_writes', 'direct_ring_full', 'direct_pipelined', 'direct_replies', 'held_frames', 'held_dropped', 'placeholders_after_commit', 'after_direct_takes'] as const) direct[k] += r.stats![k];
    }
    if (seeds.length > FIXED_SEEDS.length) console.log(`${seeds.length} seeds ok, ${steps} steps, ${Date.now() - started} ms; direct writes: ${JSON.stringify(direct)}`);
    if (seeds.length >= FIXED_SEEDS.length) {
      // Direct writes ran, in all their paths: not a vacuous pass (net/direct_write.ts).
      expect(direct.direct_writes).toBeGreaterThan(0);
      expect(direct.direct_replies).toBeGreaterThan(0);
      // The net -> commit ring had no room: the write went through the shard instead.
      expect(direct.direct_ring_full).toBeGreaterThan(0);
      // A direct write sent while an earlier one of its connection was unanswered.
      expect(direct.direct_pipelined).toBeGreaterThan(0);
      // A shard's reply reached the net worker before the direct reply it must follow.
      expect(direct.held_frames).toBeGreaterThan(0);
      // A commit completed its write before the placeholder reached the shard (direct_done).
      expect(direct.placeholders_after_commit).toBeGreaterThan(0);
      // A forwarded request marked AFTER_DIRECT found its direct write still in the net ring.
      expect(direct.after_direct_takes).toBeGreaterThan(0);
    }
  }, 3_600_000);

  /** Busy pipelined sessions on a disk slow enough for batches to fill. */
  const busy: Partial<ReplicaSimOptions> = {
    ...PLAIN,
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

  /** Short ticks and timeouts; silent clients, droppers that may come back, workers that linger. */
  const sessions: Partial<ReplicaSimOptions> = {
    ...PLAIN,
    shards: 2,
    clients: 6,
    ops_per_client: [10, 30],
    pipeline_max: 4,
    max_outstanding_per_session: 1000,
    close_chance: 0.3,
    fail_at_batch: null,
    expiry: { silent_chance: 0.3, drop_chance: 0.3, again_chance: 1 },
    tick_ms: 500,
    timeout_ms: 1500,
  };

  it('quiet sessions expire: their ephemerals go in one closeSession, watchers hear first, a reconnect is refused after and accepted before', () => {
    const s = pass(11, sessions);
    expect(s.expired).toBeGreaterThanOrEqual(2);
    expect(s.expired_ephemerals).toBeGreaterThan(0);
    // NodeDeleted / NodeChildrenChanged of an expiry reached a watching session.
    expect(s.expiry_events).toBeGreaterThan(0);
    expect(s.reattached).toBeGreaterThan(0);
    expect(s.refused).toBeGreaterThan(0);
  });

  it('a disk stall longer than the session timeout: sessions kept alive survive it (expiry deferred), quiet ones still expire', () => {
    const stall_ms = 3750;
    const s = pass(11, { ...sessions, expiry: { silent_chance: 0.3, drop_chance: 0, again_chance: 0 }, stall: { at_batch: 3, ms: stall_ms } });
    expect(s.sim_ms).toBeGreaterThan(stall_ms);
    expect(s.deferred_ticks).toBeGreaterThan(0);
    expect(s.expired).toBeGreaterThan(0);
    // The stalled batch, and no other, is over fsync.warningthresholdms (1000 ms) and warned of.
    expect(s.slow_syncs).toBe(1);
  });

  /** Deep pipelines of large values into 4 KiB rings, the readers of shard output slow. */
  const pressure: Partial<ReplicaSimOptions> = {
    ...PLAIN,
    clients: 6,
    ops_per_client: [40, 80],
    pipeline_max: 64,
    max_outstanding_per_session: 1000,
    data_bytes_max: 1500,
    fail_at_batch: null,
  };

  it('small rings: frames overflow and drain on every link, sockets pause and resume, nothing lost, reordered or stuck', () => {
    const direct = { net_to_commit: RING_SMALL, commit_to_net: RING_SMALL };
    // a: with direct writes through small rings too; b: without (every write fills shard_to_commit).
    const a_rings = { net_to_shard: RING_SMALL, shard_to_net: RING_SMALL, shard_to_commit: RING_LARGE, commit_stream: { capacity_bytes: 4096, frame_bytes_max: 64 }, ...direct };
    const a = pass(9, { ...pressure, direct_writes: true, rings: a_rings });
    const b = pass(7, { ...pressure, direct_writes: false, rings: { net_to_shard: RING_SMALL, shard_to_net: RING_SMALL, shard_to_commit: { capacity_bytes: 4096, frame_bytes_max: 200 }, commit_stream: RING_LARGE, ...direct } });
    expect(a.direct_writes).toBeGreaterThan(0);
    // Pipelined direct writes of many sessions fill the ring of their replies too.
    const c = pass(36, { ...pressure, direct_writes: true, rings: a_rings });
    expect(c.overflowed.commit_to_net).toBeGreaterThan(0);
    expect(a.overflowed.commit_stream).toBeGreaterThan(0);
    expect(b.overflowed.shard_to_commit).toBeGreaterThan(0);
    for (const s of [a, b]) {
      expect(s.overflowed.net_to_shard).toBeGreaterThan(0);
      expect(s.overflowed.shard_to_net).toBeGreaterThan(0);
      expect(s.ring_pauses).toBeGreaterThan(0);
      expect(s.drained).toBeGreaterThan(0);
      expect(s.pieced).toBeGreaterThan(0);
      expect(s.replies).toBe(s.requests);
    }
  });

  /**
   * Seeds that found product bugs, run with every check on (each fails when its fix is reverted;
   * the seeds 1..200 above may not draw the same shapes):
   * - 76, 133: a pinging session paused by maxOutstandingPerSession expired during a disk stall
   *   (its pings unread in the kernel); shards now count paused connections as stalled input;
   * - 25, 165: durable txns not yet released were dropped when the next log write failed in the same
   *   turn (ReleaseGate.fail); they now go out as committed;
   * - 832, 1300: a full commit stream and a full shard -> commit ring waited for each other; a shard
   *   now reads the commit stream while only its ring to the commit worker is full;
   * - 7716: a session paused by maxOutstandingPerSession through a disk stall that ended just
   *   before its expiry tick expired, no tick having fallen inside the stall; the commit stage now
   *   probes for unread touches between ticks too (CommitCore.noteUnread);
   * - 135018 (a run of 50,000 seeds from 100001): a reconnect answered after a 3 s log stall (its
   *   answer leaves behind the txns before it) expired 17 ms after its client had the answer,
   *   the session's timeout having run from the reconnect's receipt; the answer now counts as
   *   unborn until released, as a new session's createSession txn (CommitCore.unborn).
   */
  it.each([76, 25, 832, 1300, 133, 165, 7716, 135018])('seed %i, which found a product bug, passes every check', (seed) => {
    // As drawn, and without direct writes (all but 7716 were found before direct writes).
    for (const overrides of [{}, { direct_writes: false }]) {
      const r = runReplicaSeed(seed, overrides);
      if (r.failure !== null) expect.fail(report(r));
    }
  });
});
