// Guarantee: linearizable writes. Several clients on different shards increment one counter znode
// with compare-and-set (getData, then setData with the version read; retry on BADVERSION).
//
// How this fails if the guarantee breaks:
// - two CAS writes on the same version both succeeding (lost update): the final value is below the
//   number of successes, and two successes wrote the same value;
// - zxids not following real time: a write answered before another was sent has a larger zxid;
// - a zxid given twice: the uniqueness check fails;
// - a version check against a stale view: the values ordered by zxid are not 1, 2, 3, ...

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import type { GetDataResponse, SetDataResponse } from '../../src/protocol/types.js';
import type { WireClient } from '../support/wire_client.js';
import { asReply, connect, connectMany, mkdir, startTestServer, text, utf8, type TestServer } from './harness.js';

const CLIENTS = 6;
const SUCCESSES_PER_CLIENT = 20;
const ATTEMPTS_PER_CLIENT_MAX = 400;
const RUN_MS_MAX = 15_000;

interface Write {
  client: number;
  /** Logical times on this test's single thread: before sending, and when the reply was seen. */
  sent_at: number;
  replied_at: number;
  zxid: number;
  value: number;
  version: number;
}

describe('linearizable writes: CAS counter from clients on 3 shards', () => {
  let server: TestServer;
  let clients: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 3 });
    clients = await connectMany(server.port, CLIENTS);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('every successful CAS counts, and zxids follow real-time order', async () => {
    await mkdir(clients[0], '/counter', '0');
    let clock = 0;
    const writes: Write[] = [];
    let bad_versions = 0;
    const deadline = Date.now() + RUN_MS_MAX;

    const worker = async (index: number): Promise<void> => {
      const c = clients[index];
      let done = 0;
      for (let attempt = 0; attempt < ATTEMPTS_PER_CLIENT_MAX && done < SUCCESSES_PER_CLIENT && Date.now() < deadline; attempt++) {
        const read = asReply(await c.request(4, { path: '/counter', watch: false }));
        expect(read.err).toBe(0);
        const body = read.body as GetDataResponse;
        const value = Number(text(body.data));
        const sent_at = ++clock;
        const w = asReply(await c.request(5, { path: '/counter', data: utf8(String(value + 1)), version: body.stat.version }));
        const replied_at = ++clock;
        if (w.err === Err.BADVERSION) {
          bad_versions++;
          continue;
        }
        expect(w.err, `client ${index}: setData`).toBe(0);
        const stat = (w.body as SetDataResponse).stat;
        writes.push({ client: index, sent_at, replied_at, zxid: stat.mzxid, value: value + 1, version: stat.version });
        done++;
      }
    };
    await Promise.all(clients.map((_, i) => worker(i)));

    // Read the final value after a sync, from a fresh session: sync makes its shard catch up.
    const reader = await connect(server.port);
    try {
      expect(asReply(await reader.request(9, { path: '/counter' })).err).toBe(0);
      const final = asReply(await reader.request(4, { path: '/counter', watch: false }));
      const body = final.body as GetDataResponse;
      expect(writes.length).toBeGreaterThan(CLIENTS);
      expect(Number(text(body.data)), `final value vs ${writes.length} successful CAS (${bad_versions} retried)`).toBe(writes.length);
      expect(body.stat.version).toBe(writes.length);
    } finally {
      reader.destroy();
    }

    const zxids = writes.map((w) => w.zxid);
    expect(new Set(zxids).size, 'successful write zxids are unique').toBe(writes.length);

    // Ordered by zxid, the writes are the increments 1, 2, 3, ... (each on the version before it).
    const by_zxid = [...writes].sort((x, y) => x.zxid - y.zxid);
    expect(by_zxid.map((w) => w.value)).toEqual(by_zxid.map((_, i) => i + 1));
    expect(by_zxid.map((w) => w.version)).toEqual(by_zxid.map((_, i) => i + 1));

    // Real time: a write whose reply arrived before another was sent has the smaller zxid.
    const violations: string[] = [];
    for (const x of writes) {
      for (const y of writes) {
        if (x.replied_at < y.sent_at && !(x.zxid < y.zxid)) {
          violations.push(`client ${x.client} zxid ${x.zxid} (replied @${x.replied_at}) vs client ${y.client} zxid ${y.zxid} (sent @${y.sent_at})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
