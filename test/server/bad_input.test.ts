// Bad input closes the offending connection only (a body that does not decode fails only its
// request, as in ZooKeeper). jute.maxbuffer is 4096 here. After every case,
// well-behaved sessions on both shards (one of them on the same shard as the bad connection)
// must still be connected and served.
//
// How these fail: a server that waits for the body of an oversized frame, or accepts a negative
// length, leaves the bad connection open (waitClosed is false); a decoder that throws something
// other than a protocol error kills a worker, and the well-behaved clients stop getting replies
// (or the whole process exits); a server that ignores unknown opcodes never sends the -6 reply.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { encodeRequest } from '../../src/protocol/messages.js';
import type { GetDataResponse } from '../../src/protocol/types.js';
import type { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, RawConn, asReply, connect, connectMany, connectRequestFrame, rawSession, startTestServer, text, utf8, type TestServer } from './harness.js';

const MAX = 4096;
const CLOSE_WAIT_MS = 5_000;

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

/** A frame: length prefix + RequestHeader{xid, type} + body bytes as given. */
function frame(xid: number, type: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.concat([int32(8 + body.length), int32(xid), int32(type), body]);
}

describe('bad input (jute.maxbuffer 4096, read_workers 2)', () => {
  let server: TestServer;
  let good: WireClient[] = [];
  let round = 0;

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2, jute_max_buffer_bytes: MAX });
    good = await connectMany(server.port, 2, { timeout_ms: 30_000 });
    for (const g of good) g.startKeepalive(1_000);
  });
  afterAll(async () => {
    for (const g of good) g.destroy();
    await server?.stop();
  });

  /** Every well-behaved session can still create, read and delete. */
  async function expectGoodClientsWork(): Promise<void> {
    round++;
    for (const [i, g] of good.entries()) {
      expect(g.isClosed(), `good client ${i} was disconnected`).toBe(false);
      const path = `/good-${i}-${round}`;
      expect(asReply(await g.request(1, { path, data: utf8('ok'), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
      const r = asReply(await g.request(4, { path, watch: false }));
      expect(text((r.body as GetDataResponse).data)).toBe('ok');
      expect(asReply(await g.request(2, { path, version: 0 })).err).toBe(0);
    }
  }

  beforeEach(async () => {
    await expectGoodClientsWork();
  });

  it('a frame longer than jute.maxbuffer closes the connection (without waiting for its body)', async () => {
    const c = await rawSession(server.port);
    c.write(Buffer.concat([int32(MAX + 1), int32(1), int32(4)]));
    expect(await c.waitClosed(CLOSE_WAIT_MS)).toBe(true);
    await expectGoodClientsWork();
  });

  it('an oversized length as the very first frame closes the connection', async () => {
    const c = await RawConn.open(server.port);
    c.write(int32(0x7fff_ffff));
    expect(await c.waitClosed(CLOSE_WAIT_MS)).toBe(true);
    expect(c.frames()).toEqual([]);
    await expectGoodClientsWork();
  });

  it('a frame of exactly jute.maxbuffer bytes is accepted; one byte more closes the connection', async () => {
    // create's payload = header 8 + path (4 + 11) + data (4 + n) + acl (4 + 4 + 4+5 + 4+6) + flags 4.
    const path = '/big-create';
    const data_bytes = MAX - (8 + 4 + path.length + 4 + 4 + 4 + 4 + 5 + 4 + 6 + 4);
    const encode = (n: number): Uint8Array => {
      const w = new JuteWriter();
      encodeRequest(1, 1, { path, data: new Uint8Array(n), acl: OPEN_ACL, flags: 0 }, w);
      return w.toBytes();
    };
    const fits = encode(data_bytes);
    expect(fits.length - 4).toBe(MAX);
    const c = await rawSession(server.port);
    c.write(fits);
    expect(await c.until(() => c.frames().length >= 2, CLOSE_WAIT_MS)).toBe(true);
    expect(c.frames()[1].readInt32BE(0)).toBe(1); // xid
    expect(c.frames()[1].readInt32BE(12)).toBe(0); // err
    expect(c.isClosed()).toBe(false);
    c.write(encode(data_bytes + 1));
    expect(await c.waitClosed(CLOSE_WAIT_MS)).toBe(true);
    await expectGoodClientsWork();
  });

  it('a negative frame length closes the connection, before and after the handshake', async () => {
    const before = await RawConn.open(server.port);
    before.write(int32(-1));
    expect(await before.waitClosed(CLOSE_WAIT_MS)).toBe(true);
    const after = await rawSession(server.port);
    after.write(Buffer.concat([int32(-5), int32(1), int32(4)]));
    expect(await after.waitClosed(CLOSE_WAIT_MS)).toBe(true);
    await expectGoodClientsWork();
  });

  it('a garbage body for a known opcode gets MARSHALLINGERROR and the connection stays open (as in ZooKeeper)', async () => {
    const bodies: Array<[number, Buffer]> = [
      [4, Buffer.from([0xff, 0xff, 0xff, 0x00, 1, 2, 3])], // getData: path length -256
      [4, Buffer.from([0, 0, 0, 50, 0x2f])], // getData: path longer than the frame
      [1, Buffer.from([0, 0, 0, 2, 0x2f, 0x61, 0x7f, 0xff, 0xff, 0xff])], // create: data length huge
      [14, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0])], // multi: op header cut short
      [5, Buffer.from([0, 0, 0, 2, 0x2f, 0x61])], // setData: missing data and version
    ];
    for (const [type, body] of bodies) {
      const c = await rawSession(server.port);
      c.write(Buffer.concat([frame(1, type, body), frame(2, 3, Buffer.from([0, 0, 0, 1, 0x2f, 0]))]));
      expect(await c.until(() => c.frames().length >= 3, CLOSE_WAIT_MS), `opcode ${type}: both requests answered`).toBe(true);
      const [reply, next] = c.frames().slice(1);
      expect([reply.readInt32BE(0), reply.readInt32BE(12)], `opcode ${type}: xid, err`).toEqual([1, Err.MARSHALLINGERROR]);
      expect([next.readInt32BE(0), next.readInt32BE(12)], `opcode ${type}: the exists behind it`).toEqual([2, 0]);
      expect(c.isClosed(), `opcode ${type}: connection still open`).toBe(false);
      c.destroy();
    }
    await expectGoodClientsWork();
  });

  it('a frame too short for its request header closes the connection', async () => {
    for (const n of [0, 4, 7]) {
      const c = await rawSession(server.port);
      c.write(Buffer.concat([int32(n), Buffer.alloc(n)]));
      expect(await c.waitClosed(CLOSE_WAIT_MS), `${n}-byte frame`).toBe(true);
      expect(c.frames().length, `${n}-byte frame: nothing after the ConnectResponse`).toBe(1);
    }
    await expectGoodClientsWork();
  });

  it('a closeSession with bytes after its header: answered, then the connection closes (the bytes are ignored)', async () => {
    const c = await rawSession(server.port);
    c.write(frame(1, -11, Buffer.from([1, 2, 3, 4])));
    expect(await c.waitClosed(CLOSE_WAIT_MS)).toBe(true);
    expect(c.frames().slice(1).map((f) => [f.readInt32BE(0), f.readInt32BE(12)])).toEqual([[1, 0]]);
    await expectGoodClientsWork();
  });

  it('a truncated ConnectRequest closes the connection without a ConnectResponse', async () => {
    const full = connectRequestFrame().subarray(4);
    for (const n of [0, 4, 12, 20, 27, 43]) {
      const c = await RawConn.open(server.port);
      c.write(Buffer.concat([int32(n), full.subarray(0, n)]));
      expect(await c.waitClosed(CLOSE_WAIT_MS), `ConnectRequest cut to ${n} bytes`).toBe(true);
      expect(c.frames(), `ConnectRequest cut to ${n} bytes`).toEqual([]);
    }
    await expectGoodClientsWork();
  });

  it('an unknown opcode gets UNIMPLEMENTED (-6), after the replies before it, and then the connection closes', async () => {
    const c = await connect(server.port);
    const first = c.request(3, { path: '/', watch: false });
    const unknown = c.requestUnknown(999, Buffer.from([1, 2, 3]));
    const after = c.request(3, { path: '/', watch: false }).catch((e: unknown) => e as Error);
    expect(asReply(await first).err).toBe(0);
    const r = await unknown;
    expect(r.err).toBe(Err.UNIMPLEMENTED);
    expect(await c.waitClosed(CLOSE_WAIT_MS)).toBe(true);
    // Nothing is answered after the error: the connection is gone.
    expect(await after).toBeInstanceOf(Error);
    c.destroy();
    await expectGoodClientsWork();
  });
});
