// A measurement, not a test of the suite (bench/ensemble/vitest.config.ts runs it): how long a
// replica takes to catch up by SNAP from a large tree, and what that costs the leader's writes.
// A 3-replica ensemble; one follower is killed; WAITFREE_SNAP_ZNODES znodes of
// WAITFREE_SNAP_VALUE_BYTES are written (more than the leader's committed log, so a DIFF is
// impossible); then, while one session keeps writing one setData every 10 ms on the leader, the
// follower restarts and syncs. Printed: the snapshot's size, the time to serving again, the
// leader's write latency (max and p99) before and during the sync.

import { expect, it } from 'vitest';
import { ZooKeeperClient } from '../../src/client/index.js';
import { startEnsemble } from '../support/ensemble.js';
import { leaderSid, modeOf } from '../support/ensemble_roles.js';

const ZNODES = Number(process.env.WAITFREE_SNAP_ZNODES ?? 100_000);
const VALUE_BYTES = Number(process.env.WAITFREE_SNAP_VALUE_BYTES ?? 1000);
const PROBE_GAP_MS = 10;
const BASELINE_MS = 5_000;
const SYNC_WAIT_MS = 300_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function summary(lat: number[]): string {
  const s = [...lat].sort((a, b) => a - b);
  const p99 = s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? 0;
  return `${s.length} writes, p50 ${s[Math.floor(s.length / 2)] ?? 0} ms, p99 ${p99} ms, max ${s.at(-1) ?? 0} ms`;
}

it('a follower far behind a large tree catches up by SNAP', async () => {
  const e = await startEnsemble({ replicas: 3 });
  try {
    const leader = await leaderSid(e, 60_000);
    const follower = e.members.find((m) => m.sid !== leader)!.sid;
    await e.kill(follower, 'SIGKILL');
    const c = await ZooKeeperClient.connect(`127.0.0.1:${e.member(leader).client_port}`, { sessionTimeout_ms: 30_000 });
    const value = new Uint8Array(VALUE_BYTES).fill(7);
    await c.create('/big');
    for (let i = 0; i < ZNODES; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, ZNODES - i) }, (_, j) => c.create(`/big/n${i + j}`, value)));
    }
    const probe = async (until: () => boolean): Promise<number[]> => {
      const lat: number[] = [];
      while (!until()) {
        const t = performance.now();
        await c.setData('/big', 'x');
        lat.push(Math.round(performance.now() - t));
        await sleep(PROBE_GAP_MS);
      }
      return lat;
    };
    const base_until = Date.now() + BASELINE_MS;
    const baseline = await probe(() => Date.now() >= base_until);
    let synced = false;
    const t0 = Date.now();
    const during = probe(() => synced);
    await e.restart(follower);
    await e.waitFor((a) => modeOf(a.get(follower)) === 'follower', SYNC_WAIT_MS);
    const sync_ms = Date.now() - t0;
    synced = true;
    const lat = await during;
    const installed = e.member(follower).output().match(/installed the leader's snapshot at \S+ \((\d+) bytes\)/);
    expect(installed, 'the follower synced by SNAP').not.toBeNull();
    console.log(
      `SNAP sync: ${ZNODES} znodes of ${VALUE_BYTES} B, snapshot ${installed![1]} bytes; follower serving ${sync_ms} ms after its restart\n` +
        `leader writes before: ${summary(baseline)}\nleader writes during the sync: ${summary(lat)}`,
    );
    await c.close();
  } finally {
    await e.stop();
  }
});
