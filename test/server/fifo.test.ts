// Guarantee: FIFO client order. Every request of one session executes, and is answered, in the
// order sent; a read sees every write its session sent before it (read-your-writes), even though
// reads are served by the session's shard and writes by the commit worker.
//
// How these fail if the guarantee breaks:
// - a reply overtaking an earlier one: WireClient matches replies to requests strictly in send
//   order, so the overtaken request fails with "xid out of order" and the xid sequence check fails;
// - a read served before an earlier write of the session committed: the read's expected version
//   (from fifoScript's model) is off, e.g. getData after setData #k shows version k-1;
// - a write executed before an earlier one: version-checked setData/check/delete get BADVERSION
//   or NONODE instead of OK;
// - the per-session bound dropping requests: fewer than 200 replies arrive.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireClient } from '../support/wire_client.js';
import { fifoScript, type Step } from './fifo_script.js';
import { asReply, connect, connectMany, fire, mkdir, replies, startTestServer, type TestServer } from './harness.js';

const REPLY_WAIT_MS = 20_000;

/** Sends every step without awaiting, then checks order and each reply. */
async function runPipelined(client: WireClient, steps: Step[]): Promise<void> {
  const before = replies(client).length;
  const pending = steps.map((s) => fire(client, s.type as never, s.body as never));
  const all_arrived = await client.until(() => replies(client).length >= before + steps.length, REPLY_WAIT_MS);
  expect(all_arrived, `replies received: ${replies(client).length - before} of ${steps.length}`).toBe(true);
  const results = (await Promise.all(pending)).map(asReply);

  const got = replies(client).slice(before);
  expect(got.filter((g) => g.op.startsWith('out-of-order') || g.op === 'unexpected')).toEqual([]);
  const xids = got.map((g) => g.reply.xid);
  for (let i = 1; i < xids.length; i++) expect(xids[i], `reply #${i} xid after ${xids[i - 1]}`).toBeGreaterThan(xids[i - 1]);
  // ReplyHeader.zxid is the server's last zxid when it answered: a session never sees it go back.
  const zxids = got.map((g) => g.reply.zxid);
  for (let i = 1; i < zxids.length; i++) expect(zxids[i], `reply #${i} zxid`).toBeGreaterThanOrEqual(zxids[i - 1]);

  results.forEach((r, i) => steps[i].check(r));
}

describe('FIFO client order (read_workers 3)', () => {
  let server: TestServer;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 3 });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('one session pipelining ~500 mixed requests gets every reply in xid order, each read showing its earlier writes', async () => {
    const c = await connect(server.port);
    clients.push(c);
    await mkdir(c, '/fifo-one');
    const steps = fifoScript('/fifo-one', 500);
    expect(steps.length).toBeGreaterThanOrEqual(500);
    await runPipelined(c, steps);
  });

  it('four sessions on different shards pipeline concurrently, each in its own order', async () => {
    // Four consecutive connections over 3 shards: every shard has at least one of them.
    const sessions = await connectMany(server.port, 4);
    clients.push(...sessions);
    await Promise.all(sessions.map((c, i) => mkdir(c, `/fifo-many-${i}`)));
    const scripts = sessions.map((_, i) => fifoScript(`/fifo-many-${i}`, 500));
    await Promise.all(sessions.map((c, i) => runPipelined(c, scripts[i])));
  });
});

describe('per-session bound (max_outstanding_per_session 8)', () => {
  let server: TestServer;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2, max_outstanding_per_session: 8 });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('a session pipelining 200 requests gets all 200 replies, in order (the server pauses reading, drops nothing)', async () => {
    const [a, b] = await connectMany(server.port, 2);
    clients.push(a, b);
    await mkdir(a, '/bound-a');
    await mkdir(b, '/bound-b');
    const steps_a = fifoScript('/bound-a', 200).slice(0, 200);
    const steps_b = fifoScript('/bound-b', 200).slice(0, 200);
    expect(steps_a.length).toBe(200);
    await Promise.all([runPipelined(a, steps_a), runPipelined(b, steps_b)]);
  });

  it('200 reads sent back to back are all answered in order', async () => {
    // Reads are answered by the shard without the commit worker; sent back to back they arrive
    // in a few TCP chunks, far more than the bound at once: the bound must hold them back
    // (pause the socket) rather than drop any.
    const c = await connect(server.port);
    clients.push(c);
    await mkdir(c, '/bound-reads', 'x');
    const steps: Step[] = Array.from({ length: 200 }, (_, i) => ({
      label: `exists #${i}`,
      type: 3,
      body: { path: '/bound-reads', watch: false },
      check: (r) => expect(r.err, `exists #${i}`).toBe(0),
    }));
    await runPipelined(c, steps);
  });
});
