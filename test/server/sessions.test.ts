// Sessions: expiry removes ephemerals and fires watches; reconnecting keeps a live session; a dead
// session or a wrong password gets ZooKeeper's "expired" ConnectResponse; closeSession is
// immediate; setWatches2 on reconnect replays the changes missed while disconnected
// (zk-wire-protocol.md §2.8); the ConnectResponse echoes the ConnectRequest's readOnly byte.
//
// tickTime 100 ms: timeouts are clamped into [200, 2000] ms, so expiry happens within a second.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventType } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import type { ConnectResponse, ExistsResponse, GetDataResponse } from '../../src/protocol/types.js';
import { WireClient, type Received } from '../support/wire_client.js';
import {
  OPEN_ACL,
  RawConn,
  asReply,
  connect,
  connectClient,
  connectRequestFrame,
  mkdir,
  sleep,
  startTestServer,
  utf8,
  type TestServer,
} from './harness.js';

const EVENT_WAIT_MS = 5_000;
const EPHEMERAL = 1;

type Notification = Extract<Received, { kind: 'notification' }>;

function events(c: WireClient, from = 0): Notification[] {
  return c.received.slice(from).filter((r): r is Notification => r.kind === 'notification');
}

function hasEvent(c: WireClient, type: number, path: string, from = 0): boolean {
  return events(c, from).some((n) => n.event.type === type && n.event.path === path);
}

function eventKeys(c: WireClient, from: number): string[] {
  return events(c, from)
    .map((n) => `${n.event.type} ${n.event.path}`)
    .sort();
}

/** The answer ZooKeeper gives a dead session or a wrong password. */
function expectExpiredAnswer(r: ConnectResponse): void {
  expect(r.timeOut).toBe(0);
  expect(r.sessionId).toBe(0n);
  expect([...r.passwd]).toEqual(new Array(16).fill(0));
}

/** exists on another session after a sync: sync's answer follows every earlier commit on its shard. */
async function existsAfterSync(c: WireClient, path: string): Promise<{ err: number; owner: bigint | null }> {
  expect(asReply(await c.request(9, { path: '/' })).err).toBe(0);
  const r = asReply(await c.request(3, { path, watch: false }));
  return { err: r.err, owner: r.err === 0 ? (r.body as ExistsResponse).stat.ephemeralOwner : null };
}

describe('sessions (tickTime 100 ms)', () => {
  let server: TestServer;
  const clients: WireClient[] = [];
  /** A long-lived observer (timeout 2000 ms, pinging). */
  let observer: WireClient;
  let observer2: WireClient;

  beforeAll(async () => {
    server = await startTestServer({ tick_time_ms: 100, read_workers: 2 });
    observer = await connect(server.port, { timeout_ms: 2_000 });
    observer2 = await connect(server.port, { timeout_ms: 2_000 });
    observer.startKeepalive(200);
    observer2.startKeepalive(200);
    clients.push(observer, observer2);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  async function session(timeout_ms: number): Promise<{ client: WireClient; response: ConnectResponse }> {
    const s = await connectClient(server.port, { timeout_ms });
    clients.push(s.client);
    return s;
  }

  /** A connection presenting an existing session id and password; the outcome is not checked. */
  async function reattach(sessionId: bigint, passwd: Uint8Array, timeout_ms: number) {
    const out = await WireClient.connect(server.port, { sessionId, passwd, timeout_ms, handshakeTimeout_ms: 10_000 });
    clients.push(out.client);
    return out;
  }

  it('a session that stops pinging expires: its ephemeral is deleted, watches fire NodeDeleted, its id is dead', async () => {
    // Fails if: the session never expires (no NodeDeleted within the bound, node still there), it
    // expires while pinging (node gone or event seen during the pinging phase), watches on other
    // shards are not fired, or the dead id is accepted again.
    const { client: e, response } = await session(400);
    expect(response.timeOut).toBe(400);
    e.startKeepalive(50);
    const created = asReply(await e.request(1, { path: '/exp-eph', data: utf8('x'), acl: OPEN_ACL, flags: EPHEMERAL }));
    expect(created.err).toBe(0);
    const from1 = observer.received.length;
    const from2 = observer2.received.length;
    const ex = asReply(await observer.request(3, { path: '/exp-eph', watch: true }));
    expect(ex.err).toBe(0);
    expect((ex.body as ExistsResponse).stat.ephemeralOwner).toBe(response.sessionId);
    expect(asReply(await observer2.request(4, { path: '/exp-eph', watch: true })).err).toBe(0);

    // Pinging for well over the timeout keeps the session (and its ephemeral) alive.
    await sleep(1_000);
    expect(hasEvent(observer, EventType.NodeDeleted, '/exp-eph', from1)).toBe(false);
    expect((await existsAfterSync(observer, '/exp-eph')).err).toBe(0);
    // exists re-registered nothing new (watch: false); the exists watch from above is still armed.

    e.stopKeepalive();
    expect(await observer.until(() => hasEvent(observer, EventType.NodeDeleted, '/exp-eph', from1), EVENT_WAIT_MS)).toBe(true);
    expect(await observer2.until(() => hasEvent(observer2, EventType.NodeDeleted, '/exp-eph', from2), EVENT_WAIT_MS)).toBe(true);
    expect((await existsAfterSync(observer2, '/exp-eph')).err).toBe(Err.NONODE);
    // The expired session's own connection is closed by the server.
    expect(await e.waitClosed(EVENT_WAIT_MS)).toBe(true);

    const again = await WireClient.connect(server.port, { sessionId: response.sessionId, passwd: response.passwd, timeout_ms: 400 });
    clients.push(again.client);
    expect(again.outcome.kind).toBe('connected');
    if (again.outcome.kind === 'connected') expectExpiredAnswer(again.outcome.response);
    expect(await again.client.waitClosed(EVENT_WAIT_MS)).toBe(true);
  });

  it('dropping the socket and reconnecting with id + password within the timeout keeps the session and its ephemerals', async () => {
    // Fails if: the reconnect is refused or gets a new session id, or the ephemeral disappears
    // (the session was closed when its socket dropped, or expired despite the new connection).
    const { client: r, response } = await session(1_000);
    expect(asReply(await r.request(1, { path: '/keep-eph', data: null, acl: OPEN_ACL, flags: EPHEMERAL })).err).toBe(0);
    r.destroy();
    await sleep(100);
    const back = await reattach(response.sessionId, response.passwd, 1_000);
    expect(back.outcome.kind).toBe('connected');
    if (back.outcome.kind !== 'connected') return;
    expect(back.outcome.response.sessionId).toBe(response.sessionId);
    expect(back.outcome.response.timeOut).toBeGreaterThan(0);
    back.client.startKeepalive(100);
    // Well past the timeout, on the new connection: the session and its node live on.
    await sleep(2_500);
    const seen = await existsAfterSync(observer, '/keep-eph');
    expect(seen.err).toBe(0);
    expect(seen.owner).toBe(response.sessionId);
    // The session is usable on the new connection.
    expect(asReply(await back.client.request(1, { path: '/keep-eph2', data: null, acl: OPEN_ACL, flags: EPHEMERAL })).err).toBe(0);
    back.client.stopKeepalive();
    back.client.destroy();
  });

  it('a reconnect while the old connection is open moves the session: the old connection is closed', async () => {
    // Fails if the server keeps two connections serving one session, or refuses the move.
    const { client: first, response } = await session(2_000);
    first.startKeepalive(200);
    expect(asReply(await first.request(1, { path: '/moved-eph', data: null, acl: OPEN_ACL, flags: EPHEMERAL })).err).toBe(0);
    const second = await reattach(response.sessionId, response.passwd, 2_000);
    expect(second.outcome.kind).toBe('connected');
    if (second.outcome.kind !== 'connected') return;
    expect(second.outcome.response.sessionId).toBe(response.sessionId);
    expect(await first.waitClosed(EVENT_WAIT_MS)).toBe(true);
    second.client.startKeepalive(200);
    const r = asReply(await second.client.request(3, { path: '/moved-eph', watch: false }));
    expect(r.err).toBe(0);
    expect((r.body as ExistsResponse).stat.ephemeralOwner).toBe(response.sessionId);
    second.client.destroy();
  });

  it('a wrong password gets the expired answer; the session survives and its owner can come back', async () => {
    // Fails if the server lets a client take over a session without its password, or if the
    // failed attempt kills the real session (its ephemeral deleted, its id dead). Like Apache
    // ZooKeeper (seen in the differential test), the attempt does close the connection that held
    // the session; its client reconnects with the right password and carries on.
    const { client: owner, response } = await session(2_000);
    owner.startKeepalive(200);
    expect(asReply(await owner.request(1, { path: '/pw-eph', data: null, acl: OPEN_ACL, flags: EPHEMERAL })).err).toBe(0);
    const wrong = Uint8Array.from(response.passwd, (b, i) => (i === 0 ? b ^ 0xff : b));
    const attempt = await reattach(response.sessionId, wrong, 2_000);
    expect(attempt.outcome.kind).toBe('connected');
    if (attempt.outcome.kind === 'connected') expectExpiredAnswer(attempt.outcome.response);
    expect(await attempt.client.waitClosed(EVENT_WAIT_MS)).toBe(true);
    expect(await owner.waitClosed(EVENT_WAIT_MS)).toBe(true);
    expect((await existsAfterSync(observer, '/pw-eph')).owner).toBe(response.sessionId);
    const back = await reattach(response.sessionId, response.passwd, 2_000);
    expect(back.outcome.kind).toBe('connected');
    if (back.outcome.kind === 'connected') expect(back.outcome.response.sessionId).toBe(response.sessionId);
    expect(asReply(await back.client.request(4, { path: '/pw-eph', watch: false })).err).toBe(0);
    back.client.destroy();
    owner.destroy();
  });

  it('closeSession deletes the ephemerals at once, answers, and the server closes the connection', async () => {
    // Fails if: no reply to closeSession, the connection stays open, the ephemeral survives the
    // close (visible after a sync), no NodeDeleted reaches a watcher, or the id still works.
    const { client: c, response } = await session(2_000);
    expect(asReply(await c.request(1, { path: '/close-eph', data: null, acl: OPEN_ACL, flags: EPHEMERAL })).err).toBe(0);
    const from = observer.received.length;
    expect(asReply(await observer.request(3, { path: '/close-eph', watch: true })).err).toBe(0);
    const bye = asReply(await c.request(-11, null));
    expect(bye.err).toBe(0);
    expect(await c.waitClosed(EVENT_WAIT_MS)).toBe(true);
    expect((await existsAfterSync(observer, '/close-eph')).err).toBe(Err.NONODE);
    expect(hasEvent(observer, EventType.NodeDeleted, '/close-eph', from)).toBe(true);
    const again = await reattach(response.sessionId, response.passwd, 2_000);
    if (again.outcome.kind === 'connected') expectExpiredAnswer(again.outcome.response);
    expect(await again.client.waitClosed(EVENT_WAIT_MS)).toBe(true);
  });

  it('setWatches2 on reconnect fires the events missed while disconnected, per the SetWatches table', async () => {
    // Fails if: a missed change is not reported (data changed, node deleted, node created,
    // children changed), an unchanged watch fires spuriously, or a re-registered watch
    // (unchanged data/child watch, missing-node exists watch, persistent, recursive) does not
    // fire on a later change.
    const t = observer2;
    for (const p of ['/sw', '/sw/data', '/sw/gone', '/sw/kids', '/sw/same', '/sw/gonekids', '/sw/p', '/sw/r']) await mkdir(t, p, 'v0');
    const { client: s, response } = await session(2_000);
    // The watches the client holds when it disconnects.
    for (const p of ['/sw/data', '/sw/gone', '/sw/same']) expect(asReply(await s.request(4, { path: p, watch: true })).err).toBe(0);
    const last_zxid = asReply(await s.request(3, { path: '/sw/kids', watch: false })).zxid;
    s.destroy();

    // Changes while s is away.
    expect(asReply(await t.request(5, { path: '/sw/data', data: utf8('v1'), version: -1 })).err).toBe(0);
    expect(asReply(await t.request(2, { path: '/sw/gone', version: -1 })).err).toBe(0);
    expect(asReply(await t.request(1, { path: '/sw/later', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    expect(asReply(await t.request(1, { path: '/sw/kids/k', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    expect(asReply(await t.request(2, { path: '/sw/gonekids', version: -1 })).err).toBe(0);

    const back = await reattach(response.sessionId, response.passwd, 2_000);
    expect(back.outcome.kind).toBe('connected');
    if (back.outcome.kind !== 'connected') return;
    expect(back.outcome.response.sessionId).toBe(response.sessionId);
    const s2 = back.client;
    s2.startKeepalive(200);
    const sw = asReply(
      await s2.requestSpecial(-8, 105, {
        relativeZxid: last_zxid,
        dataWatches: ['/sw/data', '/sw/gone', '/sw/same'],
        existWatches: ['/sw/later', '/sw/never'],
        childWatches: ['/sw/kids', '/sw/same', '/sw/gonekids'],
        persistentWatches: ['/sw/p'],
        persistentRecursiveWatches: ['/sw/r'],
      }),
    );
    expect(sw.err).toBe(0);
    expect(sw.xid).toBe(-8);
    const replayed = [
      `${EventType.NodeDataChanged} /sw/data`,
      `${EventType.NodeDeleted} /sw/gone`,
      `${EventType.NodeCreated} /sw/later`,
      `${EventType.NodeChildrenChanged} /sw/kids`,
      `${EventType.NodeDeleted} /sw/gonekids`,
    ].sort();
    expect(await s2.until(() => eventKeys(s2, 0).length >= replayed.length, EVENT_WAIT_MS)).toBe(true);
    // A barrier: sync's answer comes after every event already due on this connection.
    expect(asReply(await s2.request(9, { path: '/' })).err).toBe(0);
    expect(eventKeys(s2, 0), 'events replayed by setWatches2').toEqual(replayed);

    // The watches that did not fire were re-registered; the fired one-shot ones were not.
    const from = s2.received.length;
    const changes: Array<[number, object]> = [
      [5, { path: '/sw/same', data: utf8('v1'), version: -1 }],
      [1, { path: '/sw/never', data: null, acl: OPEN_ACL, flags: 0 }],
      [1, { path: '/sw/same/k', data: null, acl: OPEN_ACL, flags: 0 }],
      [5, { path: '/sw/p', data: utf8('v1'), version: -1 }],
      [5, { path: '/sw/p', data: utf8('v2'), version: -1 }],
      [1, { path: '/sw/r/x', data: null, acl: OPEN_ACL, flags: 0 }],
      [5, { path: '/sw/data', data: utf8('v2'), version: -1 }],
      [1, { path: '/sw/later/k', data: null, acl: OPEN_ACL, flags: 0 }],
    ];
    for (const [op, body] of changes) expect(asReply(await t.request(op as 5, body as never)).err).toBe(0);
    const later = [
      `${EventType.NodeDataChanged} /sw/same`,
      `${EventType.NodeCreated} /sw/never`,
      `${EventType.NodeChildrenChanged} /sw/same`,
      `${EventType.NodeDataChanged} /sw/p`,
      `${EventType.NodeDataChanged} /sw/p`,
      `${EventType.NodeCreated} /sw/r/x`,
    ].sort();
    expect(await s2.until(() => eventKeys(s2, from).length >= later.length, EVENT_WAIT_MS)).toBe(true);
    expect(asReply(await s2.request(9, { path: '/' })).err).toBe(0);
    expect(eventKeys(s2, from), 'events from re-registered watches').toEqual(later);
    const data = asReply(await s2.request(4, { path: '/sw/p', watch: false }));
    expect((data.body as GetDataResponse).stat.version).toBe(2);
    s2.destroy();
  });
});

describe('ConnectResponse echoes the readOnly byte', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function responseLength(readOnly: boolean | null): Promise<{ length: number; ping_ok: boolean }> {
    const c = await RawConn.open(server.port);
    try {
      c.write(connectRequestFrame({ readOnly }));
      expect(await c.until(() => c.frames().length >= 1, 10_000)).toBe(true);
      const length = c.bytes().readInt32BE(0);
      // The session works afterwards: a ping gets its reply (xid -2).
      const ping = Buffer.alloc(12);
      ping.writeInt32BE(8, 0);
      ping.writeInt32BE(-2, 4);
      ping.writeInt32BE(11, 8);
      c.write(ping);
      const ping_ok = await c.until(() => c.frames().length >= 2 && c.frames()[1].readInt32BE(0) === -2, 10_000);
      return { length, ping_ok };
    } finally {
      c.destroy();
    }
  }

  it('without the trailing readOnly byte: a 36-byte ConnectResponse (old clients)', async () => {
    // Fails if the server always appends the byte: a <= 3.3 client would read it as the next frame's length.
    const { length, ping_ok } = await responseLength(null);
    expect(length).toBe(36);
    expect(ping_ok).toBe(true);
  });

  it('with the readOnly byte: a 37-byte ConnectResponse', async () => {
    const { length, ping_ok } = await responseLength(false);
    expect(length).toBe(37);
    expect(ping_ok).toBe(true);
  });
});
