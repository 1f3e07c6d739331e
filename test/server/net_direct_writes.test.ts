// Writes the net worker sends straight to the commit worker (waitfree.net.directWrites,
// src/workers/net/direct_write.ts), over real TCP: the only difference a client may notice is
// their speed. A pipelined burst of writes goes direct as a whole; a session's replies stay in
// order with reads, syncs and errors pipelined behind direct writes, each reply's zxid above the last, and a read behind a write sees it; a session's
// own watch event still comes before the reply of the write that fired it; digest-authenticated
// connections write to protected nodes; a malformed write body is answered MARSHALLINGERROR
// with the connection open. The counter proves the path was taken; with
// waitfree.net.directWrites=false it stays at zero and every answer is the same; with
// waitfree.idleSpinUs the answers are the same too.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Xid } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { encodeRequest } from '../../src/protocol/messages.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ACL } from '../../src/protocol/types.js';
import { digestId } from '../../src/tree/acl.js';
import { connectRequestFrame, netCounter, OPEN_ACL, RawConn, startTestServer, type TestServer } from './harness.js';

const utf8 = new TextEncoder();

function encode(build: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  build(w);
  return Buffer.from(w.toBytes());
}
const create = (xid: number, path: string, value: string, acl: ACL[] = OPEN_ACL): Buffer =>
  encode((w) => encodeRequest(xid, Op.create, { path, data: utf8.encode(value), acl, flags: 0 }, w));
const setData = (xid: number, path: string, value: string, version = -1): Buffer =>
  encode((w) => encodeRequest(xid, Op.setData, { path, data: utf8.encode(value), version }, w));
const getData = (xid: number, path: string, watch = false): Buffer => encode((w) => encodeRequest(xid, Op.getData, { path, watch }, w));
const sync = (xid: number, path: string): Buffer => encode((w) => encodeRequest(xid, Op.sync, { path }, w));
const del = (xid: number, path: string): Buffer => encode((w) => encodeRequest(xid, Op.delete, { path, version: -1 }, w));
const auth = (user_password: string): Buffer =>
  encode((w) => encodeRequest(Xid.AUTH, Op.auth, { type: 0, scheme: 'digest', auth: utf8.encode(user_password) }, w));
/** A setData whose body stops after its path: its decoding fails where prep reads it. */
const truncatedSetData = (xid: number, path: string): Buffer =>
  encode((w) => {
    const at = w.beginFrame();
    w.writeInt(xid).writeInt(Op.setData).writeUString(path);
    w.finishFrame(at);
  });

interface Frame {
  xid: number;
  zxid: number;
  err: number;
  /** getData: the data; a notification: its path. */
  text: string | null;
}

/** Every frame after the ConnectResponse: replies and notifications, in arrival order. */
function received(c: RawConn): Frame[] {
  return c
    .frames()
    .slice(1)
    .map((f) => {
      const r = new JuteReader(f);
      const xid = r.readInt();
      const zxid = r.readLong53();
      const err = r.readInt();
      let text: string | null = null;
      if (xid === Xid.NOTIFICATION) {
        r.readInt();
        r.readInt();
        text = r.readString();
      }
      return { xid, zxid, err, text };
    });
}

function replies(c: RawConn): Frame[] {
  return received(c).filter((f) => f.xid !== Xid.NOTIFICATION);
}

async function session(port: number): Promise<RawConn> {
  const c = await RawConn.open(port);
  c.write(connectRequestFrame({ timeout_ms: 10_000 }));
  expect(await c.until(() => c.frames().length >= 1, 10_000)).toBe(true);
  return c;
}

/** Sends frames at once and waits for `count` more replies. */
async function send(c: RawConn, bytes: Buffer[], count = bytes.length): Promise<Frame[]> {
  const before = replies(c).length;
  c.write(Buffer.concat(bytes));
  expect(await c.until(() => replies(c).length >= before + count, 10_000), 'replies in time').toBe(true);
  return replies(c).slice(before, before + count);
}

function getDataText(c: RawConn, xid: number): string | null {
  const f = c.frames().slice(1).find((b) => new JuteReader(b).readInt() === xid);
  if (f === undefined) return null;
  const r = new JuteReader(f);
  r.readInt();
  r.readLong53();
  if (r.readInt() !== 0) return null;
  const data = r.readBuffer();
  return data === null ? null : new TextDecoder().decode(data);
}

// The spinning variant: the threads on the direct path poll instead of sleeping
// (waitfree.idleSpinUs); every answer and its order must be the same.
describe.each([
  { direct: true, spin_us: 0 },
  { direct: false, spin_us: 0 },
  { direct: true, spin_us: 300 },
])('writes straight to the commit worker (waitfree.net.directWrites=$direct, waitfree.idleSpinUs=$spin_us)', ({ direct, spin_us }) => {
  let server: TestServer;
  const tag = `dw-${direct}-${spin_us}`;

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2, net_direct_writes: direct, idle_spin_us: spin_us });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('one write at a time: each answered with its own zxid, versions follow, the path is counted', async () => {
    const c = await session(server.port);
    const before = await netCounter(server, 'direct_writes');
    const [made] = await send(c, [create(1, `/${tag}-seq`, 'v0')]);
    expect(made.err).toBe(0);
    let zxid = made.zxid;
    for (let i = 0; i < 30; i++) {
      // The expected version only matches if every earlier write was applied, once, in order.
      const [set] = await send(c, [setData(2 + i, `/${tag}-seq`, `v${i + 1}`, i)]);
      expect([set.xid, set.err]).toEqual([2 + i, 0]);
      expect(set.zxid).toBeGreaterThan(zxid);
      zxid = set.zxid;
    }
    const [stale] = await send(c, [setData(40, `/${tag}-seq`, 'late', 0)]);
    expect(stale.err).toBe(Err.BADVERSION);
    expect(stale.zxid).toBeGreaterThan(zxid); // a failed write is an error txn, with a zxid
    const [read] = await send(c, [getData(41, `/${tag}-seq`)]);
    expect(read.err).toBe(0);
    expect(getDataText(c, 41)).toBe('v30');
    const taken = (await netCounter(server, 'direct_writes')) - before;
    if (direct) expect(taken).toBeGreaterThanOrEqual(30);
    else expect(taken).toBe(0);
    c.destroy();
  });

  it('a read, a sync, writes and an error pipelined behind a write: answered in order, each read sees what came before it', async () => {
    const c = await session(server.port);
    expect((await send(c, [create(1, `/${tag}-pipe`, 'v0')]))[0].err).toBe(0);
    const got = await send(c, [
      setData(10, `/${tag}-pipe`, 'v1'),
      getData(11, `/${tag}-pipe`),
      sync(12, `/${tag}-pipe`),
      setData(13, `/${tag}-pipe`, 'v2'),
      create(14, `/${tag}-pipe`, 'again'),
      getData(15, `/${tag}-pipe`),
      del(16, `/${tag}-pipe`),
      getData(17, `/${tag}-pipe`),
    ]);
    expect(got.map((f) => [f.xid, f.err])).toEqual([
      [10, 0],
      [11, 0],
      [12, 0],
      [13, 0],
      [14, Err.NODEEXISTS],
      [15, 0],
      [16, 0],
      [17, Err.NONODE],
    ]);
    expect([getDataText(c, 11), getDataText(c, 15)]).toEqual(['v1', 'v2']);
    for (let i = 1; i < got.length; i++) expect(got[i].zxid, `zxid of xid ${got[i].xid}`).toBeGreaterThanOrEqual(got[i - 1].zxid);
    c.destroy();
  });

  it('a pipelined burst of writes goes direct as a whole; a read in it waits for the writes before it, and those after it go through the shard', async () => {
    const c = await session(server.port);
    const before = await netCounter(server, 'direct_writes');
    const burst = Array.from({ length: 50 }, (_, i) => create(1 + i, `/${tag}-burst-${i}`, `b${i}`));
    const made = await send(c, burst);
    expect(made.map((f) => [f.xid, f.err])).toEqual(burst.map((_, i) => [1 + i, 0]));
    for (let i = 1; i < made.length; i++) expect(made[i].zxid).toBeGreaterThan(made[i - 1].zxid);
    const direct_burst = (await netCounter(server, 'direct_writes')) - before;
    if (direct) expect(direct_burst).toBe(50);
    else expect(direct_burst).toBe(0);
    // Writes, a read of the last of them, more writes: in order, the read sees what preceded it.
    const mixed = await send(c, [
      setData(100, `/${tag}-burst-0`, 'w1'),
      setData(101, `/${tag}-burst-0`, 'w2'),
      getData(102, `/${tag}-burst-0`),
      setData(103, `/${tag}-burst-0`, 'w3'),
      getData(104, `/${tag}-burst-0`),
    ]);
    expect(mixed.map((f) => [f.xid, f.err])).toEqual([
      [100, 0],
      [101, 0],
      [102, 0],
      [103, 0],
      [104, 0],
    ]);
    expect([getDataText(c, 102), getDataText(c, 104)]).toEqual(['w2', 'w3']);
    for (let i = 1; i < mixed.length; i++) expect(mixed[i].zxid).toBeGreaterThanOrEqual(mixed[i - 1].zxid);
    c.destroy();
  });

  it("a session's own watch event comes before the reply of the write that fires it", async () => {
    const c = await session(server.port);
    expect((await send(c, [create(1, `/${tag}-own`, 'v0')]))[0].err).toBe(0);
    for (let i = 0; i < 10; i++) {
      expect((await send(c, [getData(100 + 2 * i, `/${tag}-own`, true)]))[0].err).toBe(0);
      const before = received(c).length;
      await send(c, [setData(101 + 2 * i, `/${tag}-own`, `v${i}`)]);
      const after = received(c).slice(before);
      expect(after.map((f) => f.xid), 'the event, then the reply').toEqual([Xid.NOTIFICATION, 101 + 2 * i]);
      expect(after[0].text).toBe(`/${tag}-own`);
    }
    c.destroy();
  });

  it('a digest-authenticated connection writes to a node only it may write; another is refused', async () => {
    const owner = await session(server.port);
    owner.write(auth('dw:secret'));
    expect(await owner.until(() => received(owner).some((f) => f.xid === Xid.AUTH), 10_000)).toBe(true);
    const acl: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: digestId('dw:secret') } }];
    expect((await send(owner, [create(1, `/${tag}-auth`, 'v0', acl)]))[0].err).toBe(0);
    for (let i = 0; i < 5; i++) expect((await send(owner, [setData(2 + i, `/${tag}-auth`, `v${i}`)]))[0].err).toBe(0);
    const stranger = await session(server.port);
    expect((await send(stranger, [setData(1, `/${tag}-auth`, 'no')]))[0].err).toBe(Err.NOAUTH);
    owner.destroy();
    stranger.destroy();
  });

  it('a write whose body does not decode is answered MARSHALLINGERROR; the connection goes on', async () => {
    const c = await session(server.port);
    expect((await send(c, [create(1, `/${tag}-bad`, 'v0')]))[0].err).toBe(0);
    const [bad] = await send(c, [truncatedSetData(2, `/${tag}-bad`)]);
    expect([bad.xid, bad.err]).toEqual([2, Err.MARSHALLINGERROR]);
    const [good] = await send(c, [setData(3, `/${tag}-bad`, 'v1')]);
    expect([good.xid, good.err]).toEqual([3, 0]);
    expect(c.isClosed()).toBe(false);
    c.destroy();
  });
});
