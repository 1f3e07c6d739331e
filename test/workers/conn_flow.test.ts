// One connection's requests and replies in the net worker (src/workers/net/conn_flow.ts), input
// by input, without sockets or rings: what goes direct, what its shard's frames wait behind, in
// which order they go out, when the connection is closed, and when it counts as idle (a fast
// read's condition). The same class runs in the net worker and in the replica simulator.
//
// How these fail: a shard reply written before the direct reply it follows (the client sees
// replies out of order), a held frame lost or duplicated, a close that overtakes direct
// replies, a write sent direct with a request through the shard still unanswered (FIFO), or a
// connection that sent auth or a watch writing direct later (ACL ids / watch-before-data).

import { describe, expect, it } from 'vitest';
import { Xid } from '../../src/protocol/constants.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { Op } from '../../src/protocol/opcodes.js';
import { ConnFlow, Next } from '../../src/workers/net/conn_flow.js';

const SESSION = 0x1234_5678_9abcn;
const MAX = 3;

/** A client request payload (no length prefix): xid, opcode, then `body`. */
function request(xid: number, opcode: number, body: (w: JuteWriter) => void = () => {}): Uint8Array {
  const w = new JuteWriter();
  w.writeInt(xid).writeInt(opcode);
  body(w);
  return w.view_bytes().slice();
}
const write = (xid: number): Uint8Array => request(xid, Op.setData, (w) => w.writeUString('/a').writeBuffer(new Uint8Array([1])).writeInt(-1));
const getData = (xid: number, watch: boolean): Uint8Array => request(xid, Op.getData, (w) => w.writeUString('/a').writeBool(watch));
const CONNECT_REQUEST = request(0, 0);

/** A ConnectResponse frame, length prefix included. */
function connectResponse(session_id: bigint, read_only = false): Uint8Array {
  const w = new JuteWriter();
  const at = w.beginFrame();
  w.writeInt(0).writeInt(30_000).writeLong(session_id).writeBuffer(new Uint8Array(16)).writeBool(read_only);
  w.finishFrame(at);
  return w.view_bytes().slice();
}

/** A reply header frame (length prefix, xid, zxid, err); xid -1 is a notification. */
function frame(xid: number, zxid = 1): Uint8Array {
  const w = new JuteWriter();
  const at = w.beginFrame();
  w.writeInt(xid).writeLong(BigInt(zxid)).writeInt(0);
  w.finishFrame(at);
  return w.view_bytes().slice();
}
const xidOf = (f: Uint8Array): number => new DataView(f.buffer, f.byteOffset, f.byteLength).getInt32(4);

/** A flow past its handshake: its ConnectResponse was `resp`. */
function established(resp = connectResponse(SESSION), direct_writes = true): ConnFlow {
  const flow = new ConnFlow(direct_writes, MAX);
  expect(flow.route(CONNECT_REQUEST, false)).toBe(Next.SHARD);
  expect(flow.onShardSend(resp, 0, resp.length)).toBe(Next.WRITE_SESSION);
  return flow;
}

/** route() said DIRECT and the ring took it. */
function sendDirect(flow: ConnFlow, payload: Uint8Array): void {
  expect(flow.route(payload, false)).toBe(Next.DIRECT);
  flow.directSent();
}

const shardSend = (flow: ConnFlow, f: Uint8Array): Next => flow.onShardSend(f, 0, f.length);

describe('ConnFlow: the handshake and the session', () => {
  it('the ConnectRequest goes to the shard uncounted; the ConnectResponse gives the session', () => {
    const flow = new ConnFlow(true, MAX);
    expect(flow.awaiting_session).toBe(true);
    expect(flow.idle).toBe(false);
    expect(flow.route(CONNECT_REQUEST, false)).toBe(Next.SHARD);
    expect(flow.idle).toBe(false);
    const resp = connectResponse(SESSION);
    expect(flow.onShardSend(resp, 0, resp.length)).toBe(Next.WRITE_SESSION);
    expect(flow.awaiting_session).toBe(false);
    expect(flow.direct_session).toBe(SESSION);
    expect(flow.idle).toBe(true);
    expect(flow.route(write(1), false)).toBe(Next.DIRECT);
  });

  it('requests pipelined behind the ConnectRequest are in flight once the session begins', () => {
    const flow = new ConnFlow(true, MAX);
    flow.route(CONNECT_REQUEST, false);
    // Before the ConnectResponse: no session, so through the shard.
    expect(flow.route(write(1), false)).toBe(Next.SHARD);
    const resp = connectResponse(SESSION);
    shardSend(flow, resp);
    expect(flow.idle).toBe(false);
    expect(flow.route(write(2), false)).toBe(Next.SHARD);
    expect(shardSend(flow, frame(1))).toBe(Next.WRITE);
    expect(shardSend(flow, frame(2))).toBe(Next.WRITE);
    expect(flow.idle).toBe(true);
    expect(flow.route(write(3), false)).toBe(Next.DIRECT);
  });

  it('the ConnectResponse frame may sit at an offset in the ring slot', () => {
    const flow = new ConnFlow(true, MAX);
    flow.route(CONNECT_REQUEST, false);
    const resp = connectResponse(SESSION);
    const slot = new Uint8Array(resp.length + 13);
    slot.set(resp, 5);
    expect(flow.onShardSend(slot, 5, 5 + resp.length)).toBe(Next.WRITE_SESSION);
    expect(flow.direct_session).toBe(SESSION);
  });

  it('a read-only session, a refused one, or direct writes off: every write goes to the shard', () => {
    const read_only = established(connectResponse(SESSION, true));
    const refused = established(connectResponse(0n));
    const off = established(connectResponse(SESSION), false);
    for (const flow of [read_only, refused, off]) {
      expect(flow.direct_session).toBe(0n);
      expect(flow.idle).toBe(true);
      expect(flow.route(write(1), false)).toBe(Next.SHARD);
    }
  });
});

describe('ConnFlow: who may not write direct', () => {
  it('auth, sasl and requests that may set a watch rule direct writes out, for good', () => {
    const refusing = [
      request(Xid.AUTH, Op.auth),
      request(1, Op.sasl),
      getData(1, true),
      request(1, Op.exists, (w) => w.writeUString('/a').writeBool(true)),
      request(1, Op.getChildren2, (w) => w.writeUString('/a').writeBool(true)),
      request(1, Op.setWatches),
      request(1, Op.setWatches2),
      request(1, Op.addWatch),
      request(1, Op.multiRead),
    ];
    for (const payload of refusing) {
      const flow = established();
      expect(flow.route(payload, false)).toBe(Next.SHARD);
      expect(flow.direct_session).toBe(0n);
      shardSend(flow, frame(1));
      expect(flow.idle).toBe(true);
      for (let i = 0; i < 3; i++) {
        expect(flow.route(write(10 + i), false)).toBe(Next.SHARD);
        shardSend(flow, frame(10 + i));
      }
    }
  });

  it('auth sent before the ConnectResponse: the session it gives is not used for direct writes', () => {
    const flow = new ConnFlow(true, MAX);
    flow.route(CONNECT_REQUEST, false);
    flow.route(request(Xid.AUTH, Op.auth), false);
    shardSend(flow, connectResponse(SESSION));
    expect(flow.direct_session).toBe(0n);
    shardSend(flow, frame(Xid.AUTH));
    expect(flow.idle).toBe(true);
    expect(flow.route(write(1), false)).toBe(Next.SHARD);
  });

  it('reads without a watch do not: once answered, the next write goes direct', () => {
    const flow = established();
    expect(flow.route(getData(1, false), false)).toBe(Next.SHARD);
    expect(flow.idle).toBe(false);
    // In flight through the shard: a write now would overtake it.
    expect(flow.route(write(2), false)).toBe(Next.SHARD);
    shardSend(flow, frame(1));
    shardSend(flow, frame(2));
    expect(flow.route(write(3), false)).toBe(Next.DIRECT);
  });

  it('only writes that always make a txn go direct; none while the connection is closing', () => {
    const flow = established();
    for (const payload of [request(1, Op.sync, (w) => w.writeUString('/')), request(2, Op.ping), request(3, Op.closeSession), new Uint8Array(4)]) {
      expect(flow.route(payload, false)).toBe(Next.SHARD);
      shardSend(flow, frame(1));
    }
    expect(flow.idle).toBe(true);
    expect(flow.route(write(4), true)).toBe(Next.SHARD);
    // Closing is not sticky here (the caller's to keep): nothing was refused.
    shardSend(flow, frame(4));
    expect(flow.direct_session).toBe(SESSION);
  });
});

describe('ConnFlow: direct writes in flight', () => {
  it("a shard reply that arrives while a direct write is in flight is held, and written right after the direct reply, in order", () => {
    const flow = established();
    sendDirect(flow, write(1));
    // Pipelined behind the write: a read and a write, both through the shard.
    expect(flow.route(getData(2, false), false)).toBe(Next.SHARD);
    expect(flow.route(write(3), false)).toBe(Next.SHARD);
    const ring = new Uint8Array(64);
    const reply2 = frame(2);
    ring.set(reply2, 8);
    expect(flow.onShardSend(ring, 8, 8 + reply2.length)).toBe(Next.HOLD);
    ring.fill(0xee); // the ring slot is reused: the flow kept a copy
    expect(shardSend(flow, frame(Xid.NOTIFICATION))).toBe(Next.HOLD);
    expect(shardSend(flow, frame(3))).toBe(Next.HOLD);
    expect(flow.held_frames).toBe(3);
    expect(flow.idle).toBe(false);
    expect(flow.onCommitSend()).toBe(Next.WRITE_LAST);
    const held = flow.releaseHeld();
    expect(held?.map(xidOf)).toEqual([2, Xid.NOTIFICATION, 3]);
    expect(held?.[0]).toEqual(reply2);
    expect(flow.held_frames).toBe(0);
    expect(flow.releaseHeld()).toBeNull();
    // Every request answered (the notification counted as none).
    expect(flow.idle).toBe(true);
    expect(flow.route(write(4), false)).toBe(Next.DIRECT);
  });

  it('a pipelined burst of writes goes direct up to the max; their replies release the held frames after the last one', () => {
    const flow = established();
    for (let xid = 1; xid <= MAX; xid++) {
      sendDirect(flow, write(xid));
      expect(flow.direct_in_flight).toBe(xid);
    }
    // One more write: the max is in flight, so through the shard (behind their placeholders).
    expect(flow.route(write(MAX + 1), false)).toBe(Next.SHARD);
    // And from then on everything goes through the shard until it is answered.
    expect(flow.route(write(MAX + 2), false)).toBe(Next.SHARD);
    expect(shardSend(flow, frame(MAX + 1))).toBe(Next.HOLD);
    for (let i = 1; i < MAX; i++) {
      expect(flow.onCommitSend()).toBe(Next.WRITE);
      expect(flow.releaseHeld()).toBeNull(); // still behind the last direct reply
    }
    expect(shardSend(flow, frame(MAX + 2))).toBe(Next.HOLD);
    expect(flow.onCommitSend()).toBe(Next.WRITE_LAST);
    expect(flow.releaseHeld()?.map(xidOf)).toEqual([MAX + 1, MAX + 2]);
    expect(flow.direct_in_flight).toBe(0);
    expect(flow.idle).toBe(true);
    // Later shard frames go out at once.
    expect(flow.route(getData(9, false), false)).toBe(Next.SHARD);
    expect(shardSend(flow, frame(9))).toBe(Next.WRITE);
  });

  it('a write whose ring was full goes to the shard; the next write waits behind it there', () => {
    const flow = established();
    // route() said DIRECT, trySend failed: the caller sends it to the shard and tells nothing.
    expect(flow.route(write(1), false)).toBe(Next.DIRECT);
    expect(flow.direct_in_flight).toBe(0);
    expect(flow.route(write(2), false)).toBe(Next.SHARD);
    expect(shardSend(flow, frame(1))).toBe(Next.WRITE);
    expect(shardSend(flow, frame(2))).toBe(Next.WRITE);
    expect(flow.route(write(3), false)).toBe(Next.DIRECT);
  });

  it('a direct write behind an unanswered direct write is allowed; behind anything else it is not', () => {
    const flow = established();
    sendDirect(flow, write(1));
    sendDirect(flow, write(2));
    expect(flow.route(request(3, Op.sync, (w) => w.writeUString('/')), false)).toBe(Next.SHARD);
    expect(flow.route(write(4), false)).toBe(Next.SHARD);
    expect(flow.onCommitSend()).toBe(Next.WRITE);
    expect(flow.onCommitSend()).toBe(Next.WRITE_LAST);
    expect(flow.releaseHeld()).toBeNull();
    expect(flow.idle).toBe(false);
    expect(shardSend(flow, frame(3))).toBe(Next.WRITE);
    expect(shardSend(flow, frame(4))).toBe(Next.WRITE);
    expect(flow.idle).toBe(true);
  });

  it('a direct reply with nothing in flight is dropped', () => {
    const flow = established();
    expect(flow.onCommitSend()).toBe(Next.DROP);
    expect(flow.idle).toBe(true);
  });
});

describe('ConnFlow: closing', () => {
  it("the shard's CLOSE with nothing direct in flight closes now", () => {
    const flow = established();
    expect(flow.onShardClose()).toBe(Next.CLOSE);
    expect(flow.close_deferred).toBe(false);
  });

  it("the shard's CLOSE while a direct write is in flight waits for the direct replies and the held frames", () => {
    const flow = established();
    sendDirect(flow, write(1));
    sendDirect(flow, write(2));
    expect(flow.route(request(3, Op.closeSession), false)).toBe(Next.SHARD);
    expect(shardSend(flow, frame(3))).toBe(Next.HOLD);
    expect(flow.onShardClose()).toBe(Next.CLOSE_LATER);
    expect(flow.close_deferred).toBe(true);
    expect(flow.onCommitSend()).toBe(Next.WRITE);
    expect(flow.onCommitSend()).toBe(Next.WRITE_LAST_CLOSE);
    expect(flow.releaseHeld()?.map(xidOf)).toEqual([3]);
  });

  it("the commit worker's CLOSE drops the held frames and closes now", () => {
    const flow = established();
    sendDirect(flow, write(1));
    flow.route(getData(2, false), false);
    shardSend(flow, frame(2));
    expect(flow.held_frames).toBe(1);
    expect(flow.onCommitClose()).toBe(Next.CLOSE);
    expect(flow.held_frames).toBe(0);
    expect(flow.direct_in_flight).toBe(0);
    expect(flow.releaseHeld()).toBeNull();
    // Nothing it sends later is answered: a late direct reply is dropped.
    expect(flow.onCommitSend()).toBe(Next.DROP);
  });

  it("the commit worker's CLOSE with nothing direct in flight is not this flow's to act on", () => {
    const flow = established();
    expect(flow.onCommitClose()).toBe(Next.DROP);
    sendDirect(flow, write(1));
    expect(flow.onCommitSend()).toBe(Next.WRITE_LAST);
    expect(flow.onCommitClose()).toBe(Next.DROP);
  });
});
