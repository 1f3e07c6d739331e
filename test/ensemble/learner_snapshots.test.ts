// Every member of an ensemble snapshots its state every snapCount/2 + random(snapCount/2) logged
// txns, as ZooKeeper's SyncRequestProcessor does on leaders, followers and observers alike: a
// learner that never snapshots replays its whole log at every restart and can purge nothing.
// Real processes over TCP on 127.0.0.1.

import { afterEach, describe, expect, it } from 'vitest';
import { ZooKeeperClient } from '../../src/client/index.js';
import { newestSnapshot } from '../../src/log/data_dir.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { modeOf, serving } from '../support/ensemble_roles.js';

const SETTLE_MS = 60_000;
const TEST_MS = 120_000;
const SNAP_COUNT = 10;
const WRITES = 40;

describe('snapshots on every member', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('followers and observers snapshot every snapCount txns, as the leader does', async () => {
    e = await startEnsemble({ replicas: 3, observers: 1, extra_cfg: [`snapCount=${SNAP_COUNT}`] });
    const ens = e;
    const answers = await ens.waitFor(serving(ens), SETTLE_MS);
    const modes = new Set(ens.members.map((m) => modeOf(answers.get(m.sid))));
    expect(modes).toEqual(new Set(['leader', 'follower', 'observer']));
    const client = await ZooKeeperClient.connect(ens.connectString, { sessionTimeout_ms: 10_000 });
    let last_zxid = 0;
    try {
      for (let i = 0; i < WRITES; i++) await client.create(`/n${i}`, 'x');
      last_zxid = (await client.exists(`/n${WRITES - 1}`))!.czxid;
    } finally {
      await client.close().catch(() => undefined);
    }
    // A snapshot is written in the background: within snapCount txns of the last one, soon.
    const want = last_zxid - SNAP_COUNT;
    const until = Date.now() + SETTLE_MS;
    const newest = (): Map<number, number> => new Map(ens.members.map((m) => [m.sid, newestSnapshot(m.dataDir)?.zxid ?? -1]));
    while ([...newest().values()].some((z) => z < want) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    for (const [sid, zxid] of newest()) expect(zxid, `server ${sid} (${modeOf(answers.get(sid))}): newest snapshot 0x${zxid.toString(16)}`).toBeGreaterThanOrEqual(want);
  }, TEST_MS);
});
