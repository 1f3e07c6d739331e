// A client that moves between servers, against real 3-server ensembles, Apache ZooKeeper 3.8 and
// waitfree, with the same expectations (raw wire clients: what each server does is what the
// transcript shows):
// - its reattach at another follower is accepted with the same session (the follower asks the
//   leader: REVALIDATE); a wrong password is refused, the session lives on;
// - a write it left on the connection it moved away from is refused by the leader
//   (SESSIONMOVED): that connection is closed without an answer and the write never happens;
// - moved to the leader and on to a follower, the leader's old connection is closed.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { startEnsemble, startWaitfreeEnsemble, type Ensemble } from '../client/support/ensemble.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';
import { WireClient, type ConnectOutcome } from '../support/wire_client.js';
import { OPEN_ACL } from '../server/harness.js';

const missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', missing);

const KINDS = [
  { name: 'Apache ZooKeeper', start: startEnsemble, skip: missing.length > 0 },
  { name: 'waitfree', start: startWaitfreeEnsemble, skip: false },
];

const HANDSHAKE_MS = 15_000;
const CLOSE_MS = 10_000;

function accepted(o: ConnectOutcome, session_id: bigint): boolean {
  return o.kind === 'connected' && o.response.sessionId === session_id && o.response.timeOut > 0;
}

describe.each(KINDS)('a client moving between members of a 3-server $name ensemble', ({ start, skip }) => {
  if (skip) return;
  let ensemble: Ensemble;
  const opened: WireClient[] = [];
  const connect = async (port: number, session?: { sessionId: bigint; passwd: Uint8Array }) => {
    const r = await WireClient.connect(port, { timeout_ms: 10_000, handshakeTimeout_ms: HANDSHAKE_MS, ...session });
    opened.push(r.client);
    return r;
  };
  beforeAll(async () => {
    ensemble = await start();
  });
  afterAll(async () => {
    for (const c of opened) c.destroy();
    await ensemble?.stopAll();
  });

  it('reattaches at another follower; the write it left on the old connection is never applied and that connection closes unanswered', async () => {
    const [a, b] = await ensemble.followers();
    const first = await connect(a!.clientPort);
    if (first.outcome.kind !== 'connected') throw new Error('no session');
    const { sessionId, passwd } = first.outcome.response;

    const wrong = await connect(b!.clientPort, { sessionId, passwd: new Uint8Array(16).fill(7) });
    expect(accepted(wrong.outcome, sessionId)).toBe(false);

    const moved = await connect(b!.clientPort, { sessionId, passwd });
    expect(accepted(moved.outcome, sessionId)).toBe(true);
    const left = first.client.request(Op.create, { path: '/left-behind', data: null, acl: OPEN_ACL, flags: 0 }).then(
      (r) => `answered err ${r.err}`,
      () => 'unanswered',
    );
    expect(await first.client.waitClosed(CLOSE_MS)).toBe(true);
    expect(await left).toBe('unanswered');
    expect((await moved.client.request(Op.sync, { path: '/' })).err).toBe(0);
    expect((await moved.client.request(Op.exists, { path: '/left-behind', watch: false })).err).toBe(Err.NONODE);
    expect((await moved.client.request(Op.create, { path: '/from-b', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
  });

  it('moved to the leader, then to a follower: writes follow the client, the leader\'s old connection is refused', async () => {
    const leader = await ensemble.leader();
    const [a] = await ensemble.followers();
    const first = await connect(a!.clientPort);
    if (first.outcome.kind !== 'connected') throw new Error('no session');
    const { sessionId, passwd } = first.outcome.response;
    const at_leader = await connect(leader.clientPort, { sessionId, passwd });
    expect(accepted(at_leader.outcome, sessionId)).toBe(true);
    expect((await at_leader.client.request(Op.create, { path: '/via-leader', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const back = await connect(a!.clientPort, { sessionId, passwd });
    expect(accepted(back.outcome, sessionId)).toBe(true);
    // The leader's connection, now left behind: a write on it is never applied.
    const left = at_leader.client.isClosed()
      ? Promise.resolve('unanswered')
      : at_leader.client.request(Op.create, { path: '/left-at-leader', data: null, acl: OPEN_ACL, flags: 0 }).then(
          (r) => `answered err ${r.err}`,
          () => 'unanswered',
        );
    expect(await at_leader.client.waitClosed(CLOSE_MS)).toBe(true);
    expect(await left).toBe('unanswered');
    expect((await back.client.request(Op.sync, { path: '/' })).err).toBe(0);
    expect((await back.client.request(Op.exists, { path: '/left-at-leader', watch: false })).err).toBe(Err.NONODE);
    expect((await back.client.request(Op.exists, { path: '/via-leader', watch: false })).err).toBe(0);
  });
});
