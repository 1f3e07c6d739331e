// Reads the net worker answers itself (waitfree.net.fastReads), over real TCP: they must be
// invisible to the client except for their speed. The session they keep busy stays alive without
// pings (the shard hears of them: NetToShard.SERVED), a read right after a write sees it, and a
// read pipelined behind a write waits for it (it goes to the shard). The counter proves the path
// was taken; with waitfree.net.fastReads=false it stays at zero.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { Op } from '../../src/protocol/opcodes.js';
import { fastReads, connectRequestFrame, RawConn, sleep, startTestServer, type TestServer } from './harness.js';

function frame(xid: number, opcode: number, body: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter();
  const at = w.beginFrame();
  w.writeInt(xid).writeInt(opcode);
  body(w);
  w.finishFrame(at);
  return Buffer.from(w.toBytes());
}
const getData = (xid: number, path: string): Buffer => frame(xid, Op.getData, (w) => w.writeUString(path).writeBool(false));
const setData = (xid: number, path: string, value: string): Buffer =>
  frame(xid, Op.setData, (w) => w.writeUString(path).writeBuffer(new TextEncoder().encode(value)).writeInt(-1));
const create = (xid: number, path: string, value: string): Buffer =>
  frame(xid, Op.create, (w) => {
    w.writeUString(path).writeBuffer(new TextEncoder().encode(value));
    w.writeVector([0], (v) => v.writeInt(31).writeUString('world').writeUString('anyone'));
    w.writeInt(0);
  });

interface Answer {
  xid: number;
  err: number;
  /** The first field of the body as a buffer: a getData's data (meaningless for other ops). */
  data: string | null;
}

/** The replies (not the ConnectResponse, not notifications) received so far. */
function answers(c: RawConn): Answer[] {
  return c
    .frames()
    .slice(1)
    .map((f) => {
      const r = new JuteReader(f);
      const xid = r.readInt();
      r.readLong53();
      const err = r.readInt();
      const data = r.remaining() > 0 && err === 0 ? r.readBuffer() : null;
      return { xid, err, data: data === null ? null : new TextDecoder().decode(data) };
    })
    .filter((a) => a.xid !== -1);
}

async function session(port: number, timeout_ms: number): Promise<RawConn> {
  const c = await RawConn.open(port);
  c.write(connectRequestFrame({ timeout_ms }));
  expect(await c.until(() => c.frames().length >= 1, 10_000)).toBe(true);
  return c;
}

/** Sends one request and waits for its reply (by count: replies come in order). */
async function call(c: RawConn, bytes: Buffer): Promise<Answer> {
  const before = answers(c).length;
  c.write(bytes);
  expect(await c.until(() => answers(c).length > before, 10_000)).toBe(true);
  return answers(c)[before];
}

describe.concurrent.each([{ fast: true }, { fast: false }])('net worker fast reads (waitfree.net.fastReads=$fast)', ({ fast }) => {
  let server: TestServer;

  beforeAll(async () => {
    // tickTime 100: sessions of 200..2000 ms, touches every 50 ms.
    server = await startTestServer({ tick_time_ms: 100, read_workers: 2, net_fast_reads: fast });
  });
  afterAll(async () => {
    await server?.stop();
  });

  // The two settings side by side, each on its own server (their tests wait on session
  // timeouts, not on the CPU); one setting's tests in turn, as they share its server's counters.
  describe.sequential('in turn', () => {
    it('a session that only reads, without pings, stays alive; silent, it expires', async () => {
      // The longest session tickTime 100 allows: a loaded 2-core CI box can stall a thread for
      // hundreds of milliseconds, which must not look like a silent client.
      const c = await session(server.port, 2_000);
      const before = await fastReads(server);
      let xid = 1;
      const until = Date.now() + 4_500; // more than two session timeouts
      while (Date.now() < until) {
        const a = await call(c, getData(xid++, '/'));
        expect(a.err).toBe(0);
        await sleep(50);
      }
      expect(c.isClosed()).toBe(false);
      const served = (await fastReads(server)) - before;
      if (fast) expect(served).toBeGreaterThan(xid / 2);
      else expect(served).toBe(0);
      // The same session, silent: its timeout runs out and the server closes the connection.
      expect(await c.waitClosed(10_000)).toBe(true);
    });

    it('a read right after a write sees it; a read pipelined behind a write waits for it', async () => {
      const c = await session(server.port, 2_000);
      expect((await call(c, create(1, `/ryw-${fast}`, 'v0'))).err).toBe(0);
      for (let i = 1; i <= 20; i++) {
        expect((await call(c, setData(2 * i, `/ryw-${fast}`, `v${i}`))).err).toBe(0);
        expect((await call(c, getData(2 * i + 1, `/ryw-${fast}`))).data).toBe(`v${i}`);
      }
      const before = answers(c).length;
      c.write(Buffer.concat([setData(100, `/ryw-${fast}`, 'piped'), getData(101, `/ryw-${fast}`)]));
      expect(await c.until(() => answers(c).length >= before + 2, 10_000)).toBe(true);
      const [write, read] = answers(c).slice(before);
      expect([write.xid, write.err, read.xid, read.err, read.data]).toEqual([100, 0, 101, 0, 'piped']);
      c.destroy();
    });

    it('a burst of reads in one socket read goes to the shard whole, answered in order', async () => {
      const c = await session(server.port, 2_000);
      expect((await call(c, create(1, `/burst-${fast}`, 'b'))).err).toBe(0);
      const before_fast = await fastReads(server);
      const before = answers(c).length;
      // One write of 40 frames: the net worker reads them in one chunk (or a few, never one each).
      c.write(Buffer.concat(Array.from({ length: 40 }, (_, i) => getData(100 + i, `/burst-${fast}`))));
      expect(await c.until(() => answers(c).length >= before + 40, 10_000)).toBe(true);
      const got = answers(c).slice(before);
      expect(got.map((a) => a.xid)).toEqual(Array.from({ length: 40 }, (_, i) => 100 + i));
      expect(got.every((a) => a.err === 0 && a.data === 'b')).toBe(true);
      // At most the last frame of a chunk that holds only it could be taken here.
      expect((await fastReads(server)) - before_fast).toBeLessThanOrEqual(fast ? 1 : 0);
      c.destroy();
    });

    it("a read sent after another client's write was answered sees it, whichever shard serves it", async () => {
      // Connections are spread over the two shards; the reader's shard may still be asleep, behind
      // the writer's root, when the read arrives: it must not be answered from there.
      const writer = await session(server.port, 2_000);
      const readers = [await session(server.port, 2_000), await session(server.port, 2_000)];
      expect((await call(writer, create(1, `/xc-${fast}`, 'v0'))).err).toBe(0);
      for (let i = 1; i <= 100; i++) {
        expect((await call(writer, setData(1 + i, `/xc-${fast}`, `v${i}`))).err).toBe(0);
        const reader = readers[i % 2];
        expect((await call(reader, getData(i, `/xc-${fast}`))).data, `read ${i}`).toBe(`v${i}`);
      }
      writer.destroy();
      for (const r of readers) r.destroy();
    });
  });
});
