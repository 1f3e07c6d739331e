// Quotas in an ensemble: every replica keeps a quota's stats node itself, as it applies the
// committed txns (the stats are never a txn), so all of them read the same usage; the leader,
// which preps every write, enforces the limit for writes sent to any member; a restarted follower
// recovers the same stats. Real processes over TCP on 127.0.0.1.

import { afterEach, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { OPEN_ACL } from '../server/harness.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { leaderSid, serving } from '../support/ensemble_roles.js';
import { WireClient } from '../support/wire_client.js';

const SETTLE_MS = 60_000;
const TEST_MS = 120_000;
const STATS = '/zookeeper/quota/app/zookeeper_stats';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function connect(port: number): Promise<WireClient> {
  const { client, outcome } = await WireClient.connect(port, { timeout_ms: 30_000 });
  if (outcome.kind !== 'connected') throw new Error(`no session at ${port}`);
  return client;
}

async function create(c: WireClient, path: string, data: string): Promise<number> {
  return (await c.request(Op.create, { path, data: enc(data), acl: OPEN_ACL, flags: 0 })).err;
}

/** The stats node's text at one member, after a sync (it has every write committed before). */
async function statsAt(port: number): Promise<string> {
  const c = await connect(port);
  try {
    expect((await c.request(Op.sync, { path: '/' })).err).toBe(0);
    const r = await c.request(Op.getData, { path: STATS, watch: false });
    expect(r.err).toBe(0);
    return new TextDecoder().decode((r.body as { data: Uint8Array }).data);
  } finally {
    c.destroy();
  }
}

describe('quotas across an ensemble of 3', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('every member counts the same usage; the limit holds for writes sent to a follower; a restarted follower agrees', async () => {
    e = await startEnsemble({ replicas: 3, extra_cfg: ['enforceQuota=true'] });
    await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    const leader = await leaderSid(e, SETTLE_MS);
    const follower = e.members.find((m) => m.sid !== leader)!;
    const at_leader = await connect(e.member(leader).client_port);
    const at_follower = await connect(follower.client_port);
    try {
      expect(await create(at_leader, '/app', 'x')).toBe(0);
      expect(await create(at_leader, '/zookeeper/quota/app', '')).toBe(0);
      expect(await create(at_leader, '/zookeeper/quota/app/zookeeper_limits', 'count=-1,bytes=-1=;countHardLimit=3')).toBe(0);
      expect(await create(at_leader, STATS, 'count=0,bytes=0')).toBe(0);
      expect(await create(at_follower, '/app/a', 'hello')).toBe(0);
      expect(await create(at_follower, '/app/b', 'hi')).toBe(0);
      expect(await create(at_follower, '/app/c', 'over')).toBe(Err.QUOTAEXCEEDED);
      expect(await create(at_leader, '/app/d', 'over')).toBe(Err.QUOTAEXCEEDED);
      const set = await at_follower.request(Op.setData, { path: '/app/b', data: enc('longer'), version: -1 });
      expect(set.err).toBe(0);
    } finally {
      at_leader.destroy();
      at_follower.destroy();
    }
    for (const m of e.members) expect(await statsAt(m.client_port)).toBe('count=3,bytes=12');

    await e.restart(follower.sid);
    await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    expect(await statsAt(follower.client_port)).toBe('count=3,bytes=12');

    // Containment: a client writes garbage into the stats node, then writes under the quota.
    // ZooKeeper's parser would throw in its apply; every member here keeps serving, and counts
    // from what it could read (no pair: count and bytes start at -1).
    const c = await connect(follower.client_port);
    try {
      expect((await c.request(Op.setData, { path: STATS, data: enc('garbage;=,count=x'), version: -1 })).err).toBe(0);
      expect((await c.request(Op.setData, { path: '/app/a', data: enc('hello!!'), version: -1 })).err).toBe(0);
    } finally {
      c.destroy();
    }
    for (const m of e.members) expect(await statsAt(m.client_port)).toBe('count=-1,bytes=1');
    for (const m of e.members) expect(m.alive()).toBe(true);
  }, TEST_MS);
});
