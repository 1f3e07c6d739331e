// Messages larger than a ring frame (issue 10, items 1 and 6). jute.maxbuffer bounds what a server
// accepts, not what it answers or logs: a getChildren of 1,100 children with 2,000-character names
// (~2.2 MB), a multiRead of three 1 MB getData (~3 MB), and the closeSession txn of a session that
// owns thousands of ephemerals are all larger than one frame of the ring they cross. They travel
// between threads in pieces (link.ts) and must reach the client intact; the server must keep
// serving everybody else,.
//
// How this fails on the old code: the shard (reply) or the commit worker (txn) threw
// `RangeError: ring: frame of N bytes rejected`, the supervisor stopped the process, every client
// lost its connection (the bystander's request below gets no reply).

import { afterEach, describe, expect, it } from 'vitest';
import type { GetChildrenResponse, GetDataResponse, MultiResult } from '../../src/protocol/types.js';
import type { WireClient } from '../support/wire_client.js';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess } from '../durability/server_process.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { encodeRequest } from '../../src/protocol/messages.js';
import { asReply, connect, connectRequestFrame, OPEN_ACL, sleep, startTestServer, utf8, type TestServer } from './harness.js';

const CREATE = 1;
const GET_DATA = 4;
const GET_CHILDREN = 8;
const EXISTS = 3;
const GET_ALL_CHILDREN_NUMBER = 104;
const CREATE_EPHEMERAL = 1;
const MULTI_READ = 22;

let server: TestServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

/** Creates `count` children of `parent` with names of `name_chars` characters, pipelined. */
async function createChildren(c: WireClient, parent: string, count: number, name_chars: number, flags = 0, first = 0): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `${String(first + i).padStart(6, '0')}-`.padEnd(name_chars, 'x'));
  const replies = await Promise.all(names.map((n) => c.request(CREATE, { path: `${parent}/${n}`, data: null, acl: OPEN_ACL, flags })));
  for (const r of replies) expect(r.err).toBe(0);
  return names;
}

/** A bystander on another connection must be answered at once: the server is alive and serving. */
async function expectServing(port: number, path: string): Promise<void> {
  const other = await connect(port);
  const r = asReply(await other.request(GET_DATA, { path, watch: false }));
  expect(r.err).toBe(0);
  other.destroy();
}

describe('messages larger than a ring frame', () => {
  it('answers a 2.2 MB getChildren whole and keeps serving others', async () => {
    server = await startTestServer({ read_workers: 2 });
    const c = await connect(server.port);
    expect(asReply(await c.request(CREATE, { path: '/wide', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const names = await createChildren(c, '/wide', 1_100, 2_000);

    const listing = asReply(await c.request(GET_CHILDREN, { path: '/wide', watch: false }));
    expect(listing.err).toBe(0);
    const children = (listing.body as GetChildrenResponse).children;
    expect(children.length).toBe(names.length);
    expect([...children].sort()).toEqual(names);
    await expectServing(server.port, '/wide');
  });

  it('answers a multiRead of three 1 MB getData (3 MB) intact', async () => {
    server = await startTestServer({ read_workers: 2 });
    const c = await connect(server.port);
    const blobs = [0, 1, 2].map((i) => new Uint8Array(1_000_000).fill(0x41 + i));
    for (let i = 0; i < 3; i++) {
      expect(asReply(await c.request(CREATE, { path: `/blob${i}`, data: blobs[i], acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    }
    const ops = [0, 1, 2].map((i) => ({ type: GET_DATA, request: { path: `/blob${i}`, watch: false } }) as const);
    const r = asReply(await c.request(MULTI_READ, { ops }));
    expect(r.err).toBe(0);
    const results = r.body as MultiResult[];
    expect(results.length).toBe(3);
    for (let i = 0; i < 3; i++) {
      const res = results[i] as { type: number; response: GetDataResponse };
      expect(Buffer.from(res.response.data ?? []).equals(Buffer.from(blobs[i]))).toBe(true);
    }
    await expectServing(server.port, '/blob0');
  });

  it('logs, publishes and applies a closeSession txn larger than a commit-stream frame', async () => {
    // Small rings (jute.maxbuffer 64 KiB fits a 256 KiB ring: frames of at most 128 KiB) so a
    // few thousand ephemerals make a txn far over the frame bound without a slow test.
    server = await startTestServer({
      read_workers: 2,
      jute_max_buffer_bytes: 64 * 1024,
      ring_net_to_shard_bytes: 256 * 1024,
      ring_shard_to_net_bytes: 256 * 1024,
      ring_shard_to_commit_bytes: 256 * 1024,
      ring_commit_stream_bytes: 256 * 1024,
    });
    const owner = await connect(server.port);
    const watcher = await connect(server.port);
    expect(asReply(await owner.request(CREATE, { path: '/eph', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const names = await createChildren(owner, '/eph', 3_000, 120, CREATE_EPHEMERAL); // ~400 KB of paths in the txn
    // Counted, not listed: a listing would itself be a reply over the (small) frame bound.
    const before = asReply(await watcher.request(GET_ALL_CHILDREN_NUMBER, { path: '/eph' }));
    expect((before.body as { totalNumber: number }).totalNumber).toBe(3_000);
    const watched = `/eph/${names[2_999]}`;
    expect(asReply(await watcher.request(EXISTS, { path: watched, watch: true })).err).toBe(0);

    const bye = asReply(await owner.request(-11, null));
    expect(bye.err).toBe(0);
    expect(await owner.waitClosed(10_000)).toBe(true);

    // The other session hears of the deletion and finds every ephemeral gone.
    const after = asReply(await watcher.request(GET_ALL_CHILDREN_NUMBER, { path: '/eph' }));
    expect(after.err).toBe(0);
    expect((after.body as { totalNumber: number }).totalNumber).toBe(0);
    expect(watcher.received.some((m) => m.kind === 'notification' && m.event.path === watched && m.event.type === 2)).toBe(true);
    await expectServing(server.port, '/eph');
  });

  it('answers MARSHALLINGERROR to a reply over waitfree.replyBytesMax and keeps the session', async () => {
    server = await startTestServer({ reply_bytes_max: 64 * 1024 });
    const c = await connect(server.port);
    expect(asReply(await c.request(CREATE, { path: '/big', data: new Uint8Array(100_000), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const r = asReply(await c.request(GET_DATA, { path: '/big', watch: false }));
    expect(r.err).toBe(-5);
    // The same session goes on.
    expect(asReply(await c.request(CREATE, { path: '/small', data: utf8('ok'), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const small = asReply(await c.request(GET_DATA, { path: '/small', watch: false }));
    expect(Buffer.from((small.body as GetDataResponse).data ?? []).toString()).toBe('ok');
  });

  it('refuses a multiRead whose reply would be 500 MB before building it (default bound)', async () => {
    server = await startTestServer({ read_workers: 1 });
    const c = await connect(server.port);
    expect(asReply(await c.request(CREATE, { path: '/b', data: new Uint8Array(100_000), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const ops = Array.from({ length: 5_000 }, () => ({ type: GET_DATA, request: { path: '/b', watch: false } }) as const);
    expect(asReply(await c.request(MULTI_READ, { ops })).err).toBe(-5);
    expect(asReply(await c.request(GET_DATA, { path: '/b', watch: false })).err).toBe(0);
    await expectServing(server.port, '/b');
  });
});

describe('bulk work at the bounds', () => {
  it('closes a session owning 100,000 ephemerals: all deleted, others served throughout', async () => {
    server = await startTestServer({ read_workers: 2 });
    const owner = await connect(server.port);
    const other = await connect(server.port);
    other.startKeepalive(1_000);
    expect(asReply(await owner.request(CREATE, { path: '/many', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const COUNT = 100_000;
    const BATCH = 5_000;
    for (let i = 0; i < COUNT; i += BATCH) await createChildren(owner, '/many', BATCH, 40, CREATE_EPHEMERAL, i);
    const before = asReply(await other.request(GET_ALL_CHILDREN_NUMBER, { path: '/many' }));
    expect((before.body as { totalNumber: number }).totalNumber).toBe(COUNT);

    const started = performance.now();
    const bye = owner.request(-11, null);
    // The bystander keeps being answered while the close is logged, published and applied.
    let answered = 0;
    let done = false;
    let worst_ms = 0;
    void bye.then(() => (done = true));
    while (!done || answered < 20) {
      const t0 = performance.now();
      expect(asReply(await other.request(GET_DATA, { path: '/many', watch: false })).err).toBe(0);
      worst_ms = Math.max(worst_ms, performance.now() - t0);
      answered++;
    }
    expect(asReply(await bye).err).toBe(0);
    console.log(`bystander: ${answered} reads, worst ${worst_ms.toFixed(0)} ms`);
    const after = asReply(await other.request(GET_ALL_CHILDREN_NUMBER, { path: '/many' }));
    expect((after.body as { totalNumber: number }).totalNumber).toBe(0);
    console.log(`closeSession of ${COUNT} ephemerals answered after ${(performance.now() - started).toFixed(0)} ms`);
  }, 120_000);
});

describe('a multi of 10,000 ops', () => {
  it('applies all of them atomically, or none when the last one fails', async () => {
    server = await startTestServer({ read_workers: 2 });
    const c = await connect(server.port);
    const other = await connect(server.port);
    expect(asReply(await c.request(CREATE, { path: '/m', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const create = (i: number) => ({ type: CREATE, request: { path: `/m/${String(i).padStart(5, '0')}`, data: utf8('v'), acl: OPEN_ACL, flags: 0 } }) as const;
    const ops = Array.from({ length: 10_000 }, (_, i) => create(i));
    const ok = asReply(await c.request(14, { ops }));
    expect(ok.err).toBe(0);
    expect((ok.body as MultiResult[]).length).toBe(10_000);
    const count = asReply(await other.request(GET_ALL_CHILDREN_NUMBER, { path: '/m' }));
    expect((count.body as { totalNumber: number }).totalNumber).toBe(10_000);

    // The same 9,999 new names plus one that exists: nothing of it is applied.
    const failing = [...Array.from({ length: 9_999 }, (_, i) => create(10_000 + i)), create(0)];
    const bad = asReply(await c.request(14, { ops: failing }));
    const results = bad.body as MultiResult[];
    expect(results.length).toBe(10_000);
    expect(results.every((r) => r.type === -1)).toBe(true);
    expect((results[9_999] as { response: { err: number } }).response.err).toBe(-110); // NODEEXISTS
    const after = asReply(await other.request(GET_ALL_CHILDREN_NUMBER, { path: '/m' }));
    expect((after.body as { totalNumber: number }).totalNumber).toBe(10_000);
  });
});

describe('a client that never reads its replies', () => {
  it('is cut off once its unsent output passes waitfree.connOutboundBytesMax; others are unaffected', async () => {
    server = await startTestServer({ read_workers: 1, conn_outbound_bytes_max: 1024 * 1024 });
    const c = await connect(server.port);
    expect(asReply(await c.request(CREATE, { path: '/v', data: new Uint8Array(100_000), acl: OPEN_ACL, flags: 0 })).err).toBe(0);

    // 400 getData of 100 KB (40 MB of replies, far more than the loopback buffers hold), never read.
    const sock = net.connect({ host: '127.0.0.1', port: server.port });
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    sock.pause();
    let closed = false;
    sock.on('close', () => (closed = true));
    sock.on('error', () => undefined);
    const w = new JuteWriter();
    for (let xid = 1; xid <= 400; xid++) encodeRequest(xid, GET_DATA, { path: '/v', watch: false }, w);
    sock.write(Buffer.concat([connectRequestFrame(), Buffer.from(w.toBytes())]));
    await sleep(2_000);

    // The same shard keeps serving another session meanwhile.
    expect(asReply(await c.request(GET_DATA, { path: '/v', watch: false })).err).toBe(0);

    // Reading now gets what the kernel buffered, then the end: the server gave up on it.
    let received_bytes = 0;
    sock.on('data', (b: Buffer) => (received_bytes += b.length));
    sock.resume();
    for (let i = 0; i < 100 && !closed; i++) await sleep(100);
    expect(closed).toBe(true);
    expect(received_bytes).toBeLessThan(400 * 100_000);
    await expectServing(server.port, '/v');
  });
});

describe('large txns across a crash', () => {
  it('recovers a logged closeSession txn larger than a frame, and still answers the large listing after restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitfree-large-'));
    const small_rings = [
      'jute.maxbuffer=65536',
      'waitfree.ring.netToShardBytes=262144',
      'waitfree.ring.shardToNetBytes=262144',
      'waitfree.ring.shardToCommitBytes=262144',
      'waitfree.ring.commitStreamBytes=262144',
      'admin.enableServer=false',
    ];
    let proc = await startServerProcess(join(dir, 'data'), join(dir, 'zoo.cfg'), small_rings);
    try {
      const owner = await connect(proc.port);
      expect(asReply(await owner.request(CREATE, { path: '/eph', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
      expect(asReply(await owner.request(CREATE, { path: '/wide', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
      await createChildren(owner, '/eph', 2_000, 120, CREATE_EPHEMERAL);
      const names = await createChildren(owner, '/wide', 1_000, 300); // a 300 KB listing, over the 128 KiB frame
      expect(asReply(await owner.request(-11, null)).err).toBe(0);
      await proc.kill9();

      proc = await startServerProcess(join(dir, 'data'), join(dir, 'zoo.cfg'), small_rings);
      const c = await connect(proc.port);
      const eph = asReply(await c.request(GET_ALL_CHILDREN_NUMBER, { path: '/eph' }));
      expect((eph.body as { totalNumber: number }).totalNumber).toBe(0);
      const listing = asReply(await c.request(GET_CHILDREN, { path: '/wide', watch: false }));
      expect([...(listing.body as GetChildrenResponse).children].sort()).toEqual(names);
      c.destroy();
    } finally {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
