// Observers: non-voting replicas that receive committed txns and serve reads (the paper's read
// scale-out). A client on an observer reads, writes (forwarded to the leader) and watches as on
// any replica; the observer never counts towards a quorum.

import { afterEach, describe, expect, it } from 'vitest';
import { ZooKeeperClient, type WatchEvent } from '../../src/client/index.js';
import { startEnsemble, type Ensemble, type SrvrAnswers } from '../support/ensemble.js';
import { modeOf } from '../support/ensemble_roles.js';

const SETTLE_MS = 60_000;
const TEST_MS = 180_000;

describe('an ensemble of 3 voters and 1 observer', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('the observer serves reads, forwards writes and fires watches; it does not count towards a quorum', async () => {
    e = await startEnsemble({ replicas: 3, observers: 1 });
    const ens = e;
    const observer = ens.members.find((m) => m.role === 'observer')!;
    const voters = ens.members.filter((m) => m.role !== 'observer');
    expect(voters).toHaveLength(3);
    const all_serving = (a: SrvrAnswers): boolean =>
      modeOf(a.get(observer.sid)) === 'observer' && voters.filter((v) => modeOf(a.get(v.sid)) === 'leader').length === 1 &&
      voters.filter((v) => modeOf(a.get(v.sid)) === 'follower').length === 2;
    await ens.waitFor(all_serving, SETTLE_MS);

    const on_observer = await ZooKeeperClient.connect(`127.0.0.1:${observer.client_port}`, { sessionTimeout_ms: 10_000 });
    const on_voter = await ZooKeeperClient.connect(`127.0.0.1:${voters[0]!.client_port}`, { sessionTimeout_ms: 10_000 });
    try {
      await on_observer.create('/obs', 'from-observer');
      const events: WatchEvent[] = [];
      await on_observer.getData('/obs', { watch: (ev) => events.push(ev) });
      await on_voter.sync('/');
      expect((await on_voter.getData('/obs')).data?.toString()).toBe('from-observer');
      await on_voter.setData('/obs', 'from-voter');
      await on_observer.sync('/');
      expect((await on_observer.getData('/obs')).data?.toString()).toBe('from-voter');
      expect(events.map((ev) => `${ev.type} ${ev.path}`)).toEqual(['NodeDataChanged /obs']);

      // Two voters down: the third voter and the observer are no quorum, so nothing serves.
      const [v1, v2] = voters.filter((v) => v.sid !== voters[0]!.sid);
      await ens.kill(v1!.sid, 'SIGKILL');
      await ens.kill(v2!.sid, 'SIGKILL');
      await ens.waitFor((a) => modeOf(a.get(observer.sid)) === null && modeOf(a.get(voters[0]!.sid)) === null, SETTLE_MS);
      // One voter back: a quorum of voters again, and the observer follows the new leader.
      await ens.restart(v1!.sid);
      await ens.waitFor(
        (a) => modeOf(a.get(observer.sid)) === 'observer' && [voters[0]!, v1!].some((v) => modeOf(a.get(v.sid)) === 'leader'),
        SETTLE_MS,
      );
      await on_observer.waitForState(['connected'], { timeout_ms: 20_000 });
      await on_observer.setData('/obs', 'after');
      await on_observer.sync('/');
      expect((await on_observer.getData('/obs')).data?.toString()).toBe('after');
    } finally {
      await on_observer.close().catch(() => undefined);
      await on_voter.close().catch(() => undefined);
    }
  }, TEST_MS);
});
