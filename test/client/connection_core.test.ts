// The connection state machine without sockets or real time: a scripted fake server reads the
// frames the core writes and answers with frames built by the protocol codec; time is a number
// the test advances.

import { describe, expect, it } from 'vitest';
import { ConnectionCore, type CoreEffect, type CoreOptions } from '../../src/client/connection_core.js';
import { FrameReader } from '../../src/client/frame_reader.js';
import { sessionTiming } from '../../src/client/session_timing.js';
import { setWatchesPackets, type WatchLists } from '../../src/client/set_watches.js';
import { decodeConnectRequest, encodeConnectResponse } from '../../src/protocol/connect.js';
import { Err } from '../../src/protocol/errors.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { decodeRequest, encodeNotification, encodeReply, type DecodedRequest, type BodyName } from '../../src/protocol/messages.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ConnectRequest } from '../../src/protocol/types.js';

const HOSTS = [
  { host: 'h1', port: 1 },
  { host: 'h2', port: 2 },
  { host: 'h3', port: 3 },
];
const NO_WATCHES: WatchLists = { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };

class Harness {
  now = 1000;
  readonly core: ConnectionCore;
  effects: CoreEffect[] = [];
  watches: WatchLists = NO_WATCHES;
  private reader = new FrameReader(1 << 20);

  constructor(opts: Partial<CoreOptions> = {}) {
    this.core = new ConnectionCore({
      hosts: HOSTS,
      session_timeout_ms: 3000,
      reconnect_delay_ms: 100,
      close_timeout_ms: 500,
      watches: () => this.watches,
      ...opts,
    });
  }

  take(): CoreEffect[] {
    const e = this.core.takeEffects();
    this.effects.push(...e);
    return e;
  }

  /** Frames written on `conn` among `effects`, decoded (first = ConnectRequest if asked). */
  written(effects: CoreEffect[], conn: number): Buffer[] {
    const out: Buffer[] = [];
    for (const e of effects) if (e.kind === 'write' && e.conn === conn) out.push(...this.reader.push(Buffer.from(e.bytes)));
    return out;
  }

  lastOpen(effects: CoreEffect[]): Extract<CoreEffect, { kind: 'open' }> {
    const opens = effects.filter((e): e is Extract<CoreEffect, { kind: 'open' }> => e.kind === 'open');
    expect(opens.length).toBeGreaterThan(0);
    return opens[opens.length - 1]!;
  }

  /** start/opened; returns the conn and the decoded ConnectRequest. */
  openAndHandshake(): { conn: number; req: ConnectRequest } {
    this.take();
    const conn = this.lastOpen(this.effects).conn;
    this.core.opened(conn, this.now);
    const frames = this.written(this.take(), conn);
    expect(frames).toHaveLength(1);
    return { conn, req: decodeConnectRequest(frames[0]!) };
  }

  respond(conn: number, timeOut: number, sessionId = 0x42n): CoreEffect[] {
    const w = new JuteWriter();
    encodeConnectResponse({ protocolVersion: 0, timeOut, sessionId, passwd: new Uint8Array(16).fill(7), readOnly: false }, w);
    this.core.frame(conn, w.toBytes().subarray(4), this.now);
    return this.take();
  }

  reply(conn: number, xid: number, zxid: number, err: number, name: BodyName | null, body: unknown): CoreEffect[] {
    const w = new JuteWriter();
    encodeReply({ xid, zxid, err }, name, body as never, w);
    this.core.frame(conn, w.toBytes().subarray(4), this.now);
    return this.take();
  }

  requests(effects: CoreEffect[], conn: number): DecodedRequest[] {
    return this.written(effects, conn).map((f) => decodeRequest(f));
  }

  advance(ms: number): CoreEffect[] {
    this.now += ms;
    this.core.tick(this.now);
    return this.take();
  }
}

const kinds = (effects: CoreEffect[]) => effects.map((e) => e.kind);
const states = (effects: CoreEffect[]) => effects.filter((e) => e.kind === 'state').map((e) => (e as { state: string }).state);

function connected(h: Harness): number {
  h.core.start(h.now);
  const { conn } = h.openAndHandshake();
  h.respond(conn, 3000);
  return conn;
}

describe('connection core: handshake and ordering', () => {
  it('sends nothing but the ConnectRequest until the server answers, then auth, then queued requests in order', () => {
    const h = new Harness();
    h.core.start(h.now);
    h.core.submit(1, Op.getData, { path: '/a', watch: false }, h.now);
    h.core.addAuth(2, 'digest', Buffer.from('u:p'), h.now);
    h.core.submit(3, Op.exists, { path: '/b', watch: true }, h.now);
    const { conn, req } = h.openAndHandshake();
    expect(req.sessionId).toBe(0n);
    expect(req.timeOut).toBe(3000);
    const after = h.respond(conn, 2400);
    expect(states(after)).toEqual(['connected']);
    const sent = h.requests(after, conn);
    expect(sent.map((r) => r.header.type)).toEqual([Op.auth, Op.getData, Op.exists]);
    expect(sent.map((r) => r.header.xid)).toEqual([-4, 1, 2]);
    expect(h.core.session_id).toBe(0x42n);
    expect(h.core.negotiated_timeout_ms).toBe(2400);
  });

  it('matches replies strictly in xid order and completes each with its body', () => {
    const h = new Harness();
    const conn = connected(h);
    h.core.submit(10, Op.getData, { path: '/a', watch: false }, h.now);
    h.core.submit(11, Op.delete, { path: '/a', version: -1 }, h.now);
    const [r1, r2] = h.requests(h.take(), conn);
    const stat = { czxid: 1, mzxid: 1, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 1, numChildren: 0, pzxid: 1 };
    const e1 = h.reply(conn, r1!.header.xid, 7, 0, 'GetDataResponse', { data: Buffer.from('x'), stat });
    expect(e1).toMatchObject([{ kind: 'reply', token: 10, header: { zxid: 7, err: 0 }, body: { stat: { czxid: 1 } } }]);
    const e2 = h.reply(conn, r2!.header.xid, 8, Err.NONODE, null, null);
    expect(e2).toMatchObject([{ kind: 'reply', token: 11, header: { err: Err.NONODE }, body: null }]);
    expect(h.core.last_zxid).toBe(8);
  });

  it('treats a reply out of xid order as a broken stream: fails what was sent and moves to the next host', () => {
    const h = new Harness();
    const conn = connected(h);
    h.core.submit(1, Op.sync, { path: '/' }, h.now);
    h.core.submit(2, Op.sync, { path: '/' }, h.now);
    const [, second] = h.requests(h.take(), conn);
    const effects = h.reply(conn, second!.header.xid, 5, 0, 'SyncResponse', { path: '/' });
    expect(effects.filter((e) => e.kind === 'fail')).toEqual([
      { kind: 'fail', token: 1, why: 'connection_loss' },
      { kind: 'fail', token: 2, why: 'connection_loss' },
    ]);
    expect(states(effects)).toEqual(['disconnected']);
    expect(kinds(effects)).toContain('drop');
    expect(h.lastOpen(effects).host).toEqual(HOSTS[1]);
  });

  it('delivers notifications as events, between the replies they arrived between', () => {
    const h = new Harness();
    const conn = connected(h);
    const w = new JuteWriter();
    encodeNotification({ type: 3, state: 3, path: '/a' }, 9, w);
    h.core.frame(conn, w.toBytes().subarray(4), h.now);
    expect(h.take()).toEqual([{ kind: 'event', zxid: 9, event: { type: 3, state: 3, path: '/a' } }]);
  });
});

describe('connection core: timing', () => {
  it('pings after readTimeout/2 of silence and gives up on the connection after readTimeout', () => {
    const h = new Harness();
    const conn = connected(h);
    const t = sessionTiming(3000, HOSTS.length);
    expect(t).toEqual({ read_timeout_ms: 2000, ping_interval_ms: 1000, connect_timeout_ms: 1000 });
    expect(h.core.deadline()).toBe(h.now + 1000);
    const ping = h.advance(1000);
    expect(h.requests(ping, conn).map((r) => [r.header.xid, r.header.type])).toEqual([[-2, Op.ping]]);
    const lost = h.advance(1000);
    expect(states(lost)).toEqual(['disconnected']);
    expect(h.lastOpen(lost).host).toEqual(HOSTS[1]);
  });

  it('gives each host sessionTimeout/#hosts to connect, pauses after a full round, keeps trying', () => {
    const h = new Harness({ expire_when_unreachable: false });
    h.core.start(h.now);
    const first = h.lastOpen(h.take());
    expect(first.host).toEqual(HOSTS[0]);
    expect(h.lastOpen(h.advance(1000)).host).toEqual(HOSTS[1]);
    expect(h.lastOpen(h.advance(1000)).host).toEqual(HOSTS[2]);
    expect(kinds(h.advance(1000))).toEqual(['drop']); // all three failed: pause
    expect(h.lastOpen(h.advance(100)).host).toEqual(HOSTS[0]);
  });
});

describe('connection core: reconnect keeps the session', () => {
  it('resends session id, password and lastZxidSeen, re-registers watches with SetWatches before queued requests', () => {
    const h = new Harness();
    const conn = connected(h);
    h.core.submit(1, Op.exists, { path: '/w', watch: true }, h.now);
    const [req] = h.requests(h.take(), conn);
    h.reply(conn, req!.header.xid, 77, Err.NONODE, null, null);
    h.core.closed(conn, h.now);
    const lost = h.take();
    expect(states(lost)).toEqual(['disconnected']);
    h.core.submit(2, Op.getChildren, { path: '/', watch: false }, h.now);
    h.watches = { data: ['/d'], exist: ['/w'], child: [], persistent: ['/p'], persistentRecursive: [] };
    const { conn: conn2, req: creq } = h.openAndHandshake();
    expect(conn2).not.toBe(conn);
    expect(creq.sessionId).toBe(0x42n);
    expect([...creq.passwd]).toEqual(Array(16).fill(7));
    expect(creq.lastZxidSeen).toBe(77);
    const after = h.respond(conn2, 3000);
    expect(after.find((e) => e.kind === 'state')).toMatchObject({ state: 'connected', reason: 'session_resumed', host: HOSTS[1] });
    const sent = h.requests(after, conn2);
    expect(sent.map((r) => [r.header.xid, r.header.type])).toEqual([
      [-8, Op.setWatches2],
      [sent[1]!.header.xid, Op.getChildren],
    ]);
    expect(sent[0]!.body).toEqual({
      relativeZxid: 77,
      dataWatches: ['/d'],
      existWatches: ['/w'],
      childWatches: [],
      persistentWatches: ['/p'],
      persistentRecursiveWatches: [],
    });
    // The SetWatches reply (xid -8) is consumed in order, then the request's reply completes it.
    h.reply(conn2, -8, 78, 0, null, null);
    const done = h.reply(conn2, sent[1]!.header.xid, 78, 0, 'GetChildrenResponse', { children: ['a'] });
    expect(done).toMatchObject([{ kind: 'reply', token: 2, body: { children: ['a'] } }]);
  });

  it('on an expired answer ends in state expired, fails what waits, and never opens a new session', () => {
    const h = new Harness();
    const conn = connected(h);
    h.core.closed(conn, h.now);
    h.take();
    h.core.submit(5, Op.sync, { path: '/' }, h.now);
    const { conn: conn2 } = h.openAndHandshake();
    const effects = h.respond(conn2, 0, 0n);
    expect(effects).toContainEqual({ kind: 'fail', token: 5, why: 'expired' });
    expect(effects.find((e) => e.kind === 'state')).toMatchObject({ state: 'expired', reason: 'server_said_expired' });
    expect(h.core.state).toBe('expired');
    expect(h.core.deadline()).toBeNull();
    h.core.submit(6, Op.sync, { path: '/' }, h.now);
    expect(h.take()).toEqual([{ kind: 'fail', token: 6, why: 'expired' }]);
    expect(kinds(h.advance(60_000))).toEqual([]);
  });

  it('reports expiry itself once no server answered for a whole session timeout', () => {
    const h = new Harness();
    const conn = connected(h);
    const lost_at = h.now;
    h.core.closed(conn, h.now);
    h.take();
    let expired: CoreEffect | undefined;
    for (let i = 0; i < 100 && expired === undefined; i++) {
      const next = h.core.deadline();
      expect(next).not.toBeNull();
      expired = h.advance(next! - h.now).find((e) => e.kind === 'state');
    }
    expect(expired).toMatchObject({ state: 'expired', reason: 'unreachable_for_session_timeout' });
    expect(h.now - lost_at).toBe(3000);
  });
});

describe('connection core: cancel, close, auth', () => {
  it('a cancelled request is never sent if still queued; a sent one completes silently', () => {
    const h = new Harness();
    h.core.start(h.now);
    h.core.submit(1, Op.sync, { path: '/' }, h.now);
    h.core.submit(2, Op.sync, { path: '/x' }, h.now);
    h.core.cancel(1);
    const { conn } = h.openAndHandshake();
    const sent = h.requests(h.respond(conn, 3000), conn);
    expect(sent.map((r) => (r.body as { path: string }).path)).toEqual(['/x']);
    h.core.cancel(2);
    expect(h.reply(conn, sent[0]!.header.xid, 3, 0, 'SyncResponse', { path: '/x' })).toEqual([]);
  });

  it('close sends closeSession and ends in closed once answered; later submits fail', () => {
    const h = new Harness();
    const conn = connected(h);
    h.core.close(h.now);
    const [close] = h.requests(h.take(), conn);
    expect(close!.header.type).toBe(Op.closeSession);
    const effects = h.reply(conn, close!.header.xid, 10, 0, null, null);
    expect(effects.find((e) => e.kind === 'state')).toMatchObject({ state: 'closed', reason: 'closed_by_client' });
    h.core.submit(9, Op.sync, { path: '/' }, h.now);
    expect(h.take()).toEqual([{ kind: 'fail', token: 9, why: 'closed' }]);
  });

  it('an AUTHFAILED answer fails the addAuth and closes the client', () => {
    const h = new Harness();
    const conn = connected(h);
    h.core.addAuth(4, 'bogus', Buffer.from('x'), h.now);
    h.take();
    const effects = h.reply(conn, -4, 0, Err.AUTHFAILED, null, null);
    expect(effects[0]).toMatchObject({ kind: 'reply', token: 4, header: { err: Err.AUTHFAILED } });
    expect(effects.find((e) => e.kind === 'state')).toMatchObject({ state: 'closed', reason: 'auth_failed' });
  });
});

describe('setWatches batching', () => {
  it('splits at the byte limit, keeps every path once, and uses SetWatches when no persistent watch exists', () => {
    const paths = Array.from({ length: 50 }, (_, i) => `/node-${String(i).padStart(4, '0')}`);
    const packets = setWatchesPackets({ data: paths, exist: [], child: paths.slice(0, 10), persistent: [], persistentRecursive: [] }, 5, 100);
    expect(packets.length).toBeGreaterThan(1);
    for (const p of packets) {
      expect(p.type).toBe(Op.setWatches);
      const all = [...p.body.dataWatches, ...p.body.existWatches, ...p.body.childWatches];
      expect(all.join('').length).toBeLessThanOrEqual(100);
      expect(p.body.relativeZxid).toBe(5);
    }
    expect(packets.flatMap((p) => p.body.dataWatches)).toEqual(paths);
    expect(packets.flatMap((p) => p.body.childWatches)).toEqual(paths.slice(0, 10));
    const with_persistent = setWatchesPackets({ ...NO_WATCHES, persistentRecursive: ['/r'] }, 0);
    expect(with_persistent).toHaveLength(1);
    expect(with_persistent[0]!.type).toBe(Op.setWatches2);
  });
});
