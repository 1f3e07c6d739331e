// Many sessions expiring at once at a leader whose proposals in flight are few: each expiry is a
// closeSession txn the leader makes itself, and its Zab core queues at most
// inFlightMax x (1 + 2 x (members - 1)) txns behind the window (quorum_setup.ts, pending_max).
// Expiry used to make them all in one tick; the core refused the ones past its queue and the
// leader stopped on a broken invariant (Zab session simulator seed 200258). Expiry now takes the
// room the pipeline has, as client writes do. Real processes over TCP on 127.0.0.1.

import { afterEach, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { OPEN_ACL } from '../server/harness.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { leaderSid, modeOf, serving } from '../support/ensemble_roles.js';
import { WireClient } from '../support/wire_client.js';

const SETTLE_MS = 60_000;
const TEST_MS = 180_000;
/** Sessions, each with an ephemeral node, whose clients vanish together. */
const SESSIONS = 40;
/** The smallest timeout (2 x tickTime): the sessions fall into one or two expiry buckets. */
const SESSION_TIMEOUT_MS = 4_000;
const EPHEMERAL = 1;

/** A session made at `port` that owns `/e<i>`, its client gone without closing it. */
async function orphanWithEphemeral(port: number, i: number): Promise<void> {
  const { client, outcome } = await WireClient.connect(port, { timeout_ms: SESSION_TIMEOUT_MS });
  if (outcome.kind !== 'connected') throw new Error('no session');
  const r = await client.request(Op.create, { path: `/e${i}`, data: null, acl: OPEN_ACL, flags: EPHEMERAL });
  expect(r.err).toBe(0);
  client.destroy();
}

describe('a burst of session expiries at a leader with one proposal in flight', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('expires every session, in turns the pipeline has room for; the leader stays up and leading', async () => {
    e = await startEnsemble({ replicas: 3, extra_cfg: ['waitfree.zab.inFlightMax=1'] });
    await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    const leader = await leaderSid(e, SETTLE_MS);
    const port = e.member(leader).client_port;
    const pid = e.member(leader).pid;
    await Promise.all(Array.from({ length: SESSIONS }, (_, i) => orphanWithEphemeral(port, i)));

    const { client, outcome } = await WireClient.connect(port, { timeout_ms: 30_000 });
    expect(outcome.kind).toBe('connected');
    try {
      // Every orphan's ephemeral goes once its session expires (a few seconds).
      const until = Date.now() + SETTLE_MS;
      let left = SESSIONS;
      while (left > 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        const children = await client.request(Op.getChildren, { path: '/', watch: false });
        expect(children.err).toBe(0);
        left = (children.body as { children: string[] }).children.filter((c) => /^e\d+$/.test(c)).length;
      }
      expect(left).toBe(0);
      expect((await client.request(Op.create, { path: '/after', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
      expect((await client.request(Op.exists, { path: '/after', watch: false })).err).toBe(Err.OK);
    } finally {
      client.destroy();
    }
    // The same process leads: it neither stopped nor lost its role on the burst.
    expect(e.member(leader).alive()).toBe(true);
    expect(e.member(leader).pid).toBe(pid);
    expect(modeOf(await e.srvr(leader))).toBe('leader');
    expect(e.member(leader).output()).not.toMatch(/broken invariant/);
  }, TEST_MS);
});
