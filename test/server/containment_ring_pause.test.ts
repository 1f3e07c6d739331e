// Issue 10, item 8, live: a connection whose shard's net -> shard ring stays full for MORE than
// the net worker's 1 s drain step is read again once the ring drains, gets every answer, and its
// session outlives its timeout.
//
// How the ring is held full (direct writes off, so every write crosses the shard): the commit
// worker takes no more txns than group commit has room for (`waitfree.commit.batchTxnsMax`
// queued while a write is in flight), and every log sync is made FSYNC_DELAY_MS slow
// (`waitfree.log.fsyncDelayUs`, the slow-disk fault knob). So once a burst has filled the commit
// worker's room, the 4 KiB shard -> commit ring, and the 4 KiB net -> shard ring, nothing moves
// until the first sync lands: the net worker parks the rest of the burst, pauses the socket and
// waits in 1 s drain steps, the first of which times out.
//
// How this fails: the code this replaced (issue 10, item 8) re-called its pause routine after a
// drain step that timed out, and that routine returned early because the connection was still
// marked paused; nothing ever resumed the socket. The burst's tail and every later ping stayed
// unread: requests time out (WireClient: 10 s) and the session expires. Today that path is the
// loop in RingBackpressure.drainLoop (src/workers/net/ring_backpressure.ts: `while (!stopped &&
// !(await drainAsync(step))) long_waits++`) followed by the resume of every paused connection;
// the test relies on that loop continuing after a step that returned false.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyValue, parseExposition } from '../metrics/prometheus_parse.js';
import type { Reply } from '../support/wire_client.js';
import { OPEN_ACL, connectClient, sleep, startTestServer, type TestServer } from './harness.js';

/** Every log sync takes this long: the ring stays full at least this long after the burst. */
const FSYNC_DELAY_MS = 2_000;
/** The net worker's drain step (RING_DRAIN_STEP_MS in src/workers/net_worker.ts). */
const DRAIN_STEP_MS = 1_000;
const BATCH_TXNS_MAX = 100;
/** Twice the commit worker's room, so the overflow forms while the client is still sending. */
const BURST = 2 * BATCH_TXNS_MAX;
/** Each create carries this much data: ~1.6 KB frames, two per 4 KiB ring. */
const DATA_BYTES = 1_500;
const SESSION_TIMEOUT_MS = 4_000;

describe('a connection paused for a full ring longer than one drain step (issue 10, item 8)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      read_workers: 1,
      ring_net_to_shard_bytes: 4096,
      ring_shard_to_commit_bytes: 4096,
      jute_max_buffer_bytes: 1900,
      commit_batch_txns_max: BATCH_TXNS_MAX,
      log_fsync_delay_us: FSYNC_DELAY_MS * 1000,
      // A burst of a session with nothing in flight would go to the commit worker directly
      // (net/direct_write.ts), around the net -> shard ring, as far as its 4 MiB ring takes it:
      // the ring this test holds full then filled only at times (CI, 1 run in 3 here).
      net_direct_writes: false,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function netToShardFull(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${server.admin!.port}/metrics`)).text();
    return familyValue(parseExposition(text), 'waitfree_ring_full_total', { ring: 'net_to_shard', index: '0' });
  }

  it('is resumed once the ring drains: every answer comes, and the session outlives its timeout', async () => {
    const { client, response } = await connectClient(server.port, { timeout_ms: SESSION_TIMEOUT_MS });
    expect(response.timeOut).toBe(SESSION_TIMEOUT_MS);
    const full_before = await netToShardFull();

    // Pings throughout, as a client library sends them while it waits for replies (the burst
    // leaves the client with nothing else to send for longer than its session timeout).
    client.startKeepalive(SESSION_TIMEOUT_MS / 4);
    const data = new Uint8Array(DATA_BYTES).fill(0x61);
    const started_ms = Date.now();
    let first_reply_ms = -1;
    const burst: Array<Promise<Reply>> = [];
    for (let i = 0; i < BURST; i++) {
      const p = client.request(1, { path: `/burst-${i}`, data, acl: OPEN_ACL, flags: 0 });
      burst.push(
        p.then((r) => {
          if (first_reply_ms < 0) first_reply_ms = Date.now();
          return r;
        }),
      );
    }
    // The ring is full and nothing has been answered (the first sync has not landed).
    await sleep(200);
    const full_during = await netToShardFull();
    const sampled_ms = Date.now();
    expect(first_reply_ms, 'a reply came before the first sync could have landed').toBe(-1);
    expect(full_during - full_before, 'the burst filled the net -> shard ring').toBeGreaterThan(0);
    expect(sampled_ms - started_ms, 'the sample was taken before the sync landed').toBeLessThan(FSYNC_DELAY_MS - DRAIN_STEP_MS);

    const replies = await Promise.all(burst);
    expect(replies.map((r) => r.err)).toEqual(new Array(BURST).fill(0));
    expect(replies.map((r) => r.xid)).toEqual(Array.from({ length: BURST }, (_, i) => replies[0].xid + i));
    // Full (at sampled_ms) and no frame moved until the first sync landed: longer than a drain step.
    expect(first_reply_ms - sampled_ms).toBeGreaterThan(DRAIN_STEP_MS);

    // Pinged past its timeout, the session is still there and still served.
    await sleep(SESSION_TIMEOUT_MS * 1.5);
    client.stopKeepalive();
    expect(client.isClosed()).toBe(false);
    const last = await client.request(3, { path: `/burst-${BURST - 1}`, watch: false });
    expect(last.err).toBe(0);
    client.destroy();
  }, 60_000);
});
