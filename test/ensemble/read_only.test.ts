// Read-only mode (readonlymode.enabled; ZooKeeper's ReadOnlyZooKeeperServer, ZOOKEEPER-704) on a
// real 3-replica ensemble. What a user relies on:
// - a replica cut off from its quorum keeps answering clients that asked for read-only (the
//   ConnectRequest's readOnly byte): ConnectResponse.readOnly = true, reads show the last
//   committed data, writes and sync are answered NOTREADONLY (-119); `isro` says "ro";
// - a client that did not ask for read-only is refused there (connection closed, no answer);
// - once a quorum is back, the replica closes its read-only connections (clients go and find a
//   read-write server) and serves read-write again: `isro` says "rw".
//
// The project's client (src/client) cannot ask for a read-only session, so read-only sessions
// are opened here with the raw test client (WireClient, readOnly: true).

import { afterEach, describe, expect, it } from 'vitest';
import { fourLetter } from '../../src/check/four_letter.js';
import { ZooKeeperClient } from '../../src/client/index.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ConnectResponse } from '../../src/protocol/types.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { modeOf, serving } from '../support/ensemble_roles.js';
import { WireClient } from '../support/wire_client.js';

const SETTLE_MS = 60_000;
const TEST_MS = 180_000;
const REPLY_TIMEOUT_MS = 10_000;
/** Only srvr whitelisted: ZooKeeper whitelists isro by itself when readonlymode.enabled. */
const CFG = ['readonlymode.enabled=true', '4lw.commands.whitelist=srvr'];

/** A session that asks for read-only (the ConnectRequest's readOnly byte); response null:
 *  the server closed the connection without one. */
async function connectReadOnly(port: number): Promise<{ client: WireClient; response: ConnectResponse | null }> {
  const { client, outcome } = await WireClient.connect(port, { timeout_ms: 30_000, readOnly: true, handshakeTimeout_ms: REPLY_TIMEOUT_MS });
  return { client, response: outcome.kind === 'connected' ? outcome.response : null };
}

async function isro(port: number): Promise<string> {
  try {
    return await fourLetter(port, 'isro', 2_000);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** Polls `isro` until it answers `want`; throws with the last answer after timeout_ms. */
async function waitIsro(port: number, want: string, timeout_ms: number): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  let last = '';
  while (Date.now() < deadline) {
    last = await isro(port);
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`isro on port ${port}: wanted ${JSON.stringify(want)}, last answer ${JSON.stringify(last)} after ${timeout_ms} ms`);
}

const text = (b: unknown): string => Buffer.from((b as { data: Uint8Array }).data).toString();

describe('read-only mode (readonlymode.enabled) on a 3-replica ensemble', () => {
  let e: Ensemble | null = null;
  const opened: { destroy(): void }[] = [];
  afterEach(async () => {
    for (const c of opened.splice(0)) c.destroy();
    await e?.stop();
    e = null;
  });

  it('a replica cut off from its quorum serves reads to read-only clients, refuses the rest, and goes back to read-write', async () => {
    e = await startEnsemble({ replicas: 3, extra_cfg: CFG });
    const ens = e;
    await ens.waitFor(serving(ens), SETTLE_MS);
    const [survivor, ...others] = ens.members.map((m) => m.sid);
    const port = ens.member(survivor).client_port;

    // While the quorum serves: isro = rw; a client asking for read-only gets a read-write session.
    const writer = await ZooKeeperClient.connect(`127.0.0.1:${port}`, { sessionTimeout_ms: 10_000 });
    try {
      await writer.create('/ro', 'v1');
      await writer.create('/ro/child', 'c');
      await writer.setData('/ro', 'v2');
      await writer.sync('/ro');
      expect((await writer.getData('/ro')).data?.toString()).toBe('v2'); // the survivor has it
    } finally {
      await writer.close();
    }
    expect(await isro(port)).toBe('rw');
    const rw = await connectReadOnly(port);
    opened.push(rw.client);
    expect(rw.response?.readOnly).toBe(false);
    expect((await rw.client.request(Op.create, { path: '/rw-ok', data: new Uint8Array(0), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 })).err).toBe(0);
    rw.client.destroy();

    // Cut off: the two others die; after the grace period the survivor serves read-only.
    for (const sid of others) await ens.kill(sid, 'SIGKILL');
    await waitIsro(port, 'ro', 30_000);
    const srvr = await ens.srvr(survivor);
    expect(srvr).toContain('READ-ONLY mode; serving only read-only clients');
    expect(srvr).toMatch(/^Mode: read-only$/m);

    const ro = await connectReadOnly(port);
    opened.push(ro.client);
    expect(ro.response, 'a read-only client gets a session').not.toBeNull();
    expect(ro.response!.readOnly).toBe(true);
    expect(ro.response!.sessionId).not.toBe(0n);
    expect(ro.response!.timeOut).toBeGreaterThan(0);
    const c = ro.client;

    // Reads: the last committed state.
    const data = await c.request(Op.getData, { path: '/ro', watch: false });
    expect(data.err).toBe(0);
    expect(text(data.body)).toBe('v2');
    const kids = await c.request(Op.getChildren, { path: '/ro', watch: false });
    expect((kids.body as { children: string[] }).children).toEqual(['child']);
    expect((await c.request(Op.exists, { path: '/missing', watch: false })).err).toBe(Err.NONODE);

    // Writes and sync: NOTREADONLY, in order, and the session goes on.
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    const refused = await Promise.all([
      c.request(Op.setData, { path: '/ro', data: new Uint8Array([1]), version: -1 }),
      c.request(Op.create, { path: '/ro/new', data: new Uint8Array(0), acl, flags: 0 }),
      c.request(Op.delete, { path: '/ro/child', version: -1 }),
      c.request(Op.sync, { path: '/ro' }),
      c.request(Op.getData, { path: '/ro/child', watch: false }),
    ]);
    expect(refused.map((r) => r.err)).toEqual([Err.NOTREADONLY, Err.NOTREADONLY, Err.NOTREADONLY, Err.NOTREADONLY, 0]);
    expect(text(refused[4].body)).toBe('c');
    expect(text((await c.request(Op.getData, { path: '/ro', watch: false })).body)).toBe('v2');

    // A client that did not ask for read-only: closed without a ConnectResponse.
    const normal = await WireClient.connect(port, { handshakeTimeout_ms: 5_000 });
    opened.push(normal.client);
    expect(normal.outcome.kind).toBe('closed');

    // A quorum again: the read-only connection is closed, the survivor serves read-write.
    await ens.restart(others[0]);
    expect(await c.waitClosed(45_000), 'the read-only connection is closed once a quorum is back').toBe(true);
    await ens.waitFor(serving(ens), SETTLE_MS);
    await waitIsro(port, 'rw', 10_000);
    const after = await ZooKeeperClient.connect(`127.0.0.1:${port}`, { sessionTimeout_ms: 10_000 });
    try {
      await after.setData('/ro', 'v3');
      expect((await after.getData('/ro')).data?.toString()).toBe('v3');
    } finally {
      await after.close();
    }
  }, TEST_MS);

  it('without readonlymode.enabled a cut-off replica refuses read-only clients too and isro answers null', async () => {
    e = await startEnsemble({ replicas: 3, extra_cfg: ['4lw.commands.whitelist=srvr,isro'] });
    const ens = e;
    await ens.waitFor(serving(ens), SETTLE_MS);
    const [survivor, ...others] = ens.members.map((m) => m.sid);
    const port = ens.member(survivor).client_port;
    for (const sid of others) await ens.kill(sid, 'SIGKILL');
    // Well past the grace period (max(2 s, tickTime)).
    await ens.waitFor((a) => modeOf(a.get(survivor)) === null, SETTLE_MS);
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await isro(port)).toBe('null');
    const ro = await connectReadOnly(port);
    opened.push(ro.client);
    expect(ro.response).toBeNull();
  }, TEST_MS);
});
