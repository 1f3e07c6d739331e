// A client reattaching to a follower is answered only on its leader's word (ZooKeeper's
// REVALIDATE): the leader alone decides expiry, and a follower that lost its leader without
// noticing yet must not take a client it is about to drop (the client would see a connect, then
// a disconnect, then connect again elsewhere). Real ensembles on loopback; the leader is paused
// (SIGSTOP) for less than syncLimit, so its followers still follow it meanwhile.

import { afterEach, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { OPEN_ACL } from '../server/harness.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { leaderSid, serving } from '../support/ensemble_roles.js';
import { WireClient, type ConnectOutcome } from '../support/wire_client.js';

const SETTLE_MS = 60_000;
const TEST_MS = 180_000;
/** How long a reattach must stay unanswered while the leader is paused (well under syncLimit, 10 s). */
const PAUSED_MS = 1_500;
const HANDSHAKE_MS = 30_000;

/** A session made at `port`, its client gone without closing it (the session lives on). */
async function orphanSession(port: number): Promise<{ sessionId: bigint; passwd: Uint8Array }> {
  const { client, outcome } = await WireClient.connect(port, { timeout_ms: 30_000 });
  if (outcome.kind !== 'connected') throw new Error('no session');
  client.destroy();
  return { sessionId: outcome.response.sessionId, passwd: outcome.response.passwd };
}

/** The outcome once settled, or 'pending' if it is not after `ms`. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), new Promise<'pending'>((res) => (timer = setTimeout(() => res('pending'), ms)))]);
  clearTimeout(timer);
  return r;
}

function accepted(o: ConnectOutcome, session_id: bigint): boolean {
  return o.kind === 'connected' && o.response.sessionId === session_id && o.response.timeOut > 0;
}

describe('a reattach at a follower', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    for (const m of e?.members ?? []) if (m.alive()) await e?.kill(m.sid, 'SIGCONT');
    await e?.stop();
    e = null;
  });

  it('waits for the leader: unanswered while the leader is paused, accepted once it answers; a wrong password is refused', async () => {
    e = await startEnsemble({ replicas: 3 });
    await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    const leader = await leaderSid(e, SETTLE_MS);
    const follower = e.members.find((m) => m.sid !== leader)!;
    const s = await orphanSession(e.member(leader).client_port);

    const wrong = await WireClient.connect(follower.client_port, { sessionId: s.sessionId, passwd: new Uint8Array(16).fill(1), handshakeTimeout_ms: HANDSHAKE_MS });
    expect(accepted(wrong.outcome, s.sessionId)).toBe(false);
    wrong.client.destroy();

    await e.kill(leader, 'SIGSTOP');
    const attempt = WireClient.connect(follower.client_port, { sessionId: s.sessionId, passwd: s.passwd, timeout_ms: 30_000, handshakeTimeout_ms: HANDSHAKE_MS });
    expect(await settledWithin(attempt, PAUSED_MS)).toBe('pending');
    await e.kill(leader, 'SIGCONT');
    const { client, outcome } = await attempt;
    expect(accepted(outcome, s.sessionId)).toBe(true);
    // The session is usable through the follower: a write forwarded to the leader.
    const r = await client.request(Op.create, { path: '/back', data: null, acl: OPEN_ACL, flags: 0 });
    expect(r.err).toBe(0);
    client.destroy();
  }, TEST_MS);

  it('is dropped, never accepted, when the paused leader dies; the session lives on at the next leader', async () => {
    e = await startEnsemble({ replicas: 3 });
    await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    const leader = await leaderSid(e, SETTLE_MS);
    const follower = e.members.find((m) => m.sid !== leader)!;
    const s = await orphanSession(e.member(leader).client_port);

    await e.kill(leader, 'SIGSTOP');
    const attempt = WireClient.connect(follower.client_port, { sessionId: s.sessionId, passwd: s.passwd, timeout_ms: 30_000, handshakeTimeout_ms: HANDSHAKE_MS });
    expect(await settledWithin(attempt, PAUSED_MS)).toBe('pending');
    await e.kill(leader, 'SIGKILL');
    const dropped = await attempt;
    expect(dropped.outcome.kind).toBe('closed');
    dropped.client.destroy();

    const next = await leaderSid(e, SETTLE_MS);
    expect(next).not.toBe(leader);
    const again = await WireClient.connect(follower.client_port, { sessionId: s.sessionId, passwd: s.passwd, timeout_ms: 30_000, handshakeTimeout_ms: HANDSHAKE_MS });
    expect(accepted(again.outcome, s.sessionId)).toBe(true);
    again.client.destroy();
  }, TEST_MS);

  it('a write left on the connection the client moved away from is never applied: that connection closes unanswered (SESSIONMOVED)', async () => {
    e = await startEnsemble({ replicas: 3 });
    await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    const leader = await leaderSid(e, SETTLE_MS);
    const [a, b] = e.members.filter((m) => m.sid !== leader);

    // Held by follower a, then moved to follower b; a's connection stays open (a knows nothing).
    // Each later connection goes on with xids of its own, as one client moving its session does:
    // a follower matches a committed txn to the write it forwarded by session and xid (as
    // ZooKeeper's CommitProcessor does), so the left-behind create (xid 1) refused SESSIONMOVED
    // would otherwise pass for the moved connection's sync, were that xid 1 too.
    const old = await WireClient.connect(a!.client_port, { timeout_ms: 30_000 });
    if (old.outcome.kind !== 'connected') throw new Error('no session at a');
    const { sessionId, passwd } = old.outcome.response;
    const moved = await WireClient.connect(b!.client_port, { sessionId, passwd, timeout_ms: 30_000, handshakeTimeout_ms: HANDSHAKE_MS, firstXid: 100 });
    expect(accepted(moved.outcome, sessionId)).toBe(true);
    const late = old.client.request(Op.create, { path: '/left-behind', data: null, acl: OPEN_ACL, flags: 0 }).then(
      (r) => `answered err ${r.err}`,
      () => 'unanswered',
    );
    expect(await old.client.waitClosed(10_000)).toBe(true);
    expect(await late).toBe('unanswered');
    expect((await moved.client.request(Op.sync, { path: '/' })).err).toBe(0);
    expect((await moved.client.request(Op.exists, { path: '/left-behind', watch: false })).err).toBe(Err.NONODE);
    expect((await moved.client.request(Op.create, { path: '/from-b', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);

    // Moved again, to the leader, then to follower a: the leader closes its own connection.
    const at_leader = await WireClient.connect(e.member(leader).client_port, { sessionId, passwd, timeout_ms: 30_000, handshakeTimeout_ms: HANDSHAKE_MS, firstXid: 200 });
    expect(accepted(at_leader.outcome, sessionId)).toBe(true);
    const back = await WireClient.connect(a!.client_port, { sessionId, passwd, timeout_ms: 30_000, handshakeTimeout_ms: HANDSHAKE_MS, firstXid: 300 });
    expect(accepted(back.outcome, sessionId)).toBe(true);
    expect(await at_leader.client.waitClosed(10_000)).toBe(true);
    expect((await back.client.request(Op.create, { path: '/from-a', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    for (const c of [moved.client, back.client]) c.destroy();
  }, TEST_MS);
});
