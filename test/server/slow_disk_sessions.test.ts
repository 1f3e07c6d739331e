// A slow disk must not expire sessions whose clients keep pinging. Session touches travel from a
// shard to the commit worker in the same ring as writes; while the pipeline is full (a queue of
// slow log syncs, longer in all than a session timeout) the commit worker cannot read that ring, so the touches
// of a pinging client wait behind another client's writes. ZooKeeper touches a session when a
// packet arrives, whatever its pipeline does; waitfree defers expiry while touches may be
// waiting unread (CommitCore.tick), so the same holds.
//
// How this fails without that: the bystander, which only pings (every 300 ms), goes untouched for
// longer than its 1.5 s timeout while the writer's burst fills the pipeline, and is expired
// (its connection closed) although it never stopped pinging.
//
// Two layouts: the bystander on the other shard (its touches wait in that shard's ring to the
// commit worker), and on the writer's own shard (its pings wait unread in the kernel while the
// net worker holds its connection paused for that shard's full ring: topology.net_paused_for_ring).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The three scenarios run side by side, each on its own server: they wait on slow syncs and
// session timeouts, not on the CPU.
import { OPEN_ACL, connectClient, sleep, startTestServer, type TestServer } from './harness.js';

/** Every log sync takes this long: less than a session timeout, but the burst's syncs together
 *  take far longer. */
const FSYNC_DELAY_MS = 1_000;
const BATCH_TXNS_MAX = 10;
/** Eight batches: the commit worker takes two, the rest wait in the rings behind them. */
const BURST = 8 * BATCH_TXNS_MAX;
const SESSION_TIMEOUT_MS = 1_500;
const PING_MS = 300;

describe.concurrent.each([
  { layout: 'on another shard', read_workers: 2 },
  { layout: 'on the same shard', read_workers: 1 },
])('sessions under a disk slower than their timeout, bystander $layout', ({ read_workers }) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      read_workers,
      tick_time_ms: 500,
      min_session_timeout_ms: 1_000,
      ring_net_to_shard_bytes: 4096,
      ring_shard_to_commit_bytes: 4096,
      jute_max_buffer_bytes: 1900,
      commit_batch_txns_max: BATCH_TXNS_MAX,
      log_fsync_delay_us: FSYNC_DELAY_MS * 1000,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a client that keeps pinging is not expired while another client\'s writes wait for the disk', async () => {
    // Each session is created by a txn (one slow sync); each pings from the moment it exists.
    const writer = await connectClient(server.port, { timeout_ms: SESSION_TIMEOUT_MS });
    writer.client.startKeepalive(PING_MS);
    const bystander = await connectClient(server.port, { timeout_ms: SESSION_TIMEOUT_MS });
    bystander.client.startKeepalive(PING_MS);
    expect(bystander.response.timeOut).toBe(SESSION_TIMEOUT_MS);
    const data = new Uint8Array(1_500).fill(0x62);
    const started = Date.now();
    const burst = Array.from({ length: BURST }, (_, i) => writer.client.request(1, { path: `/slow-${i}`, data, acl: OPEN_ACL, flags: 0 }));
    const replies = await Promise.all(burst);
    const stalled_ms = Date.now() - started;
    expect(replies.map((r) => r.err)).toEqual(new Array(BURST).fill(0));
    // The burst took several syncs: far longer than the session timeout.
    expect(stalled_ms).toBeGreaterThan(2 * SESSION_TIMEOUT_MS);
    expect(bystander.client.isClosed(), 'the pinging bystander was expired').toBe(false);
    const read = await bystander.client.request(3, { path: '/slow-0', watch: false });
    expect(read.err).toBe(0);
    // A session that stops pinging still expires once the pipeline has drained.
    bystander.client.stopKeepalive();
    await sleep(SESSION_TIMEOUT_MS * 3);
    expect(bystander.client.isClosed(), 'a silent session still expires').toBe(true);
    writer.client.stopKeepalive();
    writer.client.destroy();
    bystander.client.destroy();
  }, 60_000);
});

// A session's creation is a txn, and its sync can take longer than the session's timeout. The
// client can do nothing before it has its ConnectResponse (not even ping), so the timeout runs
// afresh once the creation is durable: without that, a disk this slow expires every new session
// before its first ping can arrive.
describe.concurrent('a session created while the disk is slower than its timeout', () => {
  /** Longer than the timeout: timed from the createSession prep, the session would be due
   *  before its ConnectResponse is even sent. */
  const CREATE_SYNC_MS = 3_000;
  const TIMEOUT_MS = 2_000;
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      read_workers: 1,
      tick_time_ms: 500,
      min_session_timeout_ms: 1_000,
      log_fsync_delay_us: CREATE_SYNC_MS * 1000,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lives its whole timeout from its ConnectResponse, then expires when silent', async () => {
    const s = await connectClient(server.port, { timeout_ms: TIMEOUT_MS });
    expect(s.response.timeOut).toBe(TIMEOUT_MS);
    // It pings from its ConnectResponse on, and writes at once: the write is refused
    // SESSIONEXPIRED (or the connection closes) if the session was expired before it was born,
    // and answered once durable otherwise (the pings keep it alive through that slow sync).
    s.client.startKeepalive(TIMEOUT_MS / 4);
    const write = await s.client.request(1, { path: '/born-slow', data: new Uint8Array(0), acl: OPEN_ACL, flags: 0 });
    expect(write.err, 'the session expired before its first ping was due').toBe(0);
    // Silent from here, it expires (its closeSession waits for one slow sync).
    s.client.stopKeepalive();
    await sleep(TIMEOUT_MS * 2 + CREATE_SYNC_MS);
    expect(s.client.isClosed(), 'a silent session still expires').toBe(true);
    s.client.destroy();
  }, 40_000);
});
