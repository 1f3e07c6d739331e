// The networking worker's edge cases (issue 10, items 2, 8, 9 and the global connection bound),
// differential: each input goes to waitfree and to Apache ZooKeeper 3.8, and both must behave
// the same way.
//
// How these fail: a four-letter word whose answer is lost because the client half-closed its
// side (Node ends our side on the peer's FIN unless allowHalfOpen); a word split over segments
// (`r` + `uok`) taken for a frame length and the connection closed; a half-closing client whose
// requests are dropped, or whose session is closed as if it had sent closeSession; maxCnxns not
// applied (or applied per IP), four-letter connections not counted, a refused socket left open,
// a slot not given back when a connection closes; a pipelined burst through a full ring that
// stalls (connection paused and never resumed).

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest } from '../../src/protocol/messages.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { decodeConnectResponse } from '../../src/protocol/connect.js';
import { apacheZkAvailable, launchZooKeeper } from '../../src/check/launch.js';
import { familyValue, parseExposition } from '../metrics/prometheus_parse.js';
import { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, connectRequestFrame, sleep, startTestServer } from './harness.js';

interface Target {
  name: 'waitfree' | 'zookeeper';
  port: number;
  /** waitfree only: the admin /metrics text. */
  metrics(): Promise<string | null>;
  stop(): Promise<void>;
}

async function waitfreeTarget(flags: Parameters<typeof startTestServer>[0]): Promise<Target> {
  const s = await startTestServer({ four_letter_whitelist: '*', ...flags });
  return {
    name: 'waitfree',
    port: s.port,
    async metrics() {
      if (s.admin === null) return null;
      return (await fetch(`http://${s.admin.address}:${s.admin.port}/metrics`)).text();
    },
    stop: () => s.stop(),
  };
}

async function zookeeperTarget(extra_config: string[]): Promise<Target> {
  const z = await launchZooKeeper({ heap_mb: 256, fsync: 'none', extra_config });
  return { name: 'zookeeper', port: z.port, metrics: async () => null, stop: () => z.stop() };
}

/** What a raw exchange produced: every byte the server sent, and whether it closed. */
interface Exchange {
  text: string;
  bytes: Buffer;
  closed_by_server: boolean;
}

type Step = { write: Buffer | string } | { sleep_ms: number } | 'half-close';

/**
 * Connects, plays the steps, then collects what the server sends until it closes the
 * connection or `wait_ms` passes. Never rejects: a reset counts as a close.
 */
function exchange(port: number, steps: Step[], wait_ms = 5_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let server_closed = false;
    let done = false;
    const sock = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const bytes = Buffer.concat(chunks);
      resolve({ text: bytes.toString('utf8'), bytes, closed_by_server: server_closed });
    };
    const timer = setTimeout(finish, wait_ms);
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('end', () => {
      server_closed = true;
      finish();
    });
    sock.on('error', () => {
      server_closed = true;
      finish();
    });
    sock.on('close', finish);
    sock.once('connect', async () => {
      sock.setNoDelay(true);
      for (const step of steps) {
        if (step === 'half-close') sock.end();
        else if ('sleep_ms' in step) await sleep(step.sleep_ms);
        else sock.write(step.write);
      }
    });
  });
}

function request(xid: number, type: 1 | 3, body: Parameters<typeof encodeRequest>[2]): Buffer {
  const w = new JuteWriter();
  encodeRequest(xid, type, body as never, w);
  return Buffer.from(w.toBytes());
}

/** Opens a session; 'refused' when the server closes or resets the connection instead. */
async function tryConnect(port: number): Promise<WireClient | 'refused'> {
  try {
    const { client, outcome } = await WireClient.connect(port, { handshakeTimeout_ms: 5_000 });
    if (outcome.kind === 'connected') return client;
    client.destroy();
    return 'refused';
  } catch {
    return 'refused';
  }
}

/** Retries until a session is granted (a server notices a closed connection asynchronously). */
async function connectWithin(port: number, timeout_ms: number): Promise<WireClient> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const c = await tryConnect(port);
    if (c !== 'refused') return c;
    if (Date.now() > deadline) throw new Error(`no session granted on ${port} within ${timeout_ms} ms`);
    await sleep(100);
  }
}

const KINDS = apacheZkAvailable() ? (['waitfree', 'zookeeper'] as const) : (['waitfree'] as const);

describe.each(KINDS)('client port edge cases on %s', (kind) => {
  let target: Target;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    // A 4 KiB net -> shard ring (the smallest; jute.maxbuffer must fit in half of it) so that a
    // pipelined burst fills it and the connection is paused and resumed many times.
    target =
      kind === 'waitfree'
        ? await waitfreeTarget({ read_workers: 2, ring_net_to_shard_bytes: 4096, jute_max_buffer_bytes: 1900 })
        : await zookeeperTarget([]);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await target?.stop();
  });

  it('a four-letter word from a client that half-closes after it (echo ruok | nc -N) is answered', async () => {
    const r = await exchange(target.port, [{ write: 'ruok' }, 'half-close']);
    expect(r).toMatchObject({ text: 'imok', closed_by_server: true });
    const srvr = await exchange(target.port, [{ write: 'srvr\n' }, 'half-close']);
    expect(srvr.text).toMatch(/^Zookeeper version: .*\nLatency min\/avg\/max: /);
    expect(srvr.text).toContain('Mode: standalone');
  });

  it('a four-letter word split over segments (r + uok) is answered, with or without a half-close', async () => {
    const split = await exchange(target.port, [{ write: 'r' }, { sleep_ms: 150 }, { write: 'uo' }, { sleep_ms: 150 }, { write: 'k' }]);
    expect(split).toMatchObject({ text: 'imok', closed_by_server: true });
    const split_fin = await exchange(target.port, [{ write: 'ru' }, { sleep_ms: 150 }, { write: 'ok' }, 'half-close']);
    expect(split_fin).toMatchObject({ text: 'imok', closed_by_server: true });
  });

  it('a ConnectRequest whose length prefix arrives split is a session, not a four-letter word', async () => {
    const frame = connectRequestFrame();
    const r = await exchange(target.port, [{ write: frame.subarray(0, 2) }, { sleep_ms: 150 }, { write: frame.subarray(2) }], 1_500);
    expect(r.closed_by_server).toBe(false);
    expect(r.bytes.length).toBeGreaterThanOrEqual(4);
    const len = r.bytes.readInt32BE(0);
    expect(decodeConnectResponse(r.bytes.subarray(4, 4 + len)).timeOut).toBeGreaterThan(0);
  });

  it('a client that half-closes after its requests: they run, the server closes the connection, the session lives on', async () => {
    const tag = `${kind}-${Date.now()}`;
    // Handshake first, then the requests and the FIN together.
    let session_id = 0n;
    let passwd: Uint8Array = new Uint8Array(16);
    const sock = net.connect({ host: '127.0.0.1', port: target.port, allowHalfOpen: true });
    const got: Buffer[] = [];
    let ended = false;
    sock.on('data', (b: Buffer) => got.push(b));
    sock.on('end', () => (ended = true));
    sock.on('error', () => (ended = true));
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(connectRequestFrame());
    const deadline = Date.now() + 5_000;
    while (Buffer.concat(got).length < 4 + 36 && Date.now() < deadline) await sleep(20);
    const hello = Buffer.concat(got);
    const response = decodeConnectResponse(hello.subarray(4, 4 + hello.readInt32BE(0)));
    expect(response.timeOut).toBeGreaterThan(0);
    session_id = response.sessionId;
    passwd = response.passwd;
    sock.write(request(1, 1, { path: `/half-${tag}`, data: null, acl: OPEN_ACL, flags: 0 }));
    sock.end(request(2, 1, { path: `/half-eph-${tag}`, data: null, acl: OPEN_ACL, flags: 1 }));
    while (!ended && Date.now() < deadline) await sleep(20);
    expect(ended, 'the server closes a connection whose client half-closed').toBe(true);
    sock.destroy();

    const checker = await connectWithin(target.port, 5_000);
    clients.push(checker);
    // The requests read before the FIN took effect; the ephemeral shows its session is still open.
    await expect.poll(async () => (await checker.request(3, { path: `/half-${tag}`, watch: false })).err, { timeout: 5_000 }).toBe(0);
    await expect.poll(async () => (await checker.request(3, { path: `/half-eph-${tag}`, watch: false })).err, { timeout: 5_000 }).toBe(0);
    // A half-close is not a closeSession: the session can be resumed.
    const { client: again, outcome } = await WireClient.connect(target.port, { sessionId: session_id, passwd, handshakeTimeout_ms: 5_000 });
    clients.push(again);
    expect(outcome.kind).toBe('connected');
    if (outcome.kind === 'connected') {
      expect(outcome.response.sessionId).toBe(session_id);
      expect(outcome.response.timeOut).toBeGreaterThan(0);
    }
  });

  it('a pipelined burst that fills the net -> shard ring is answered in full, in order', async () => {
    const c = await connectWithin(target.port, 5_000);
    clients.push(c);
    // 1 KB paths (exists answers NONODE): each request is ~1 KiB, the ring holds about three.
    const N = 1500;
    const long = '/' + 'x'.repeat(1000);
    const replies = await Promise.all(Array.from({ length: N }, () => c.request(3, { path: long, watch: false })));
    expect(replies.map((r) => r.err)).toEqual(new Array(N).fill(-101));
    expect(replies.map((r) => r.xid)).toEqual(Array.from({ length: N }, (_, i) => replies[0].xid + i));
    const metrics = await target.metrics();
    if (target.name === 'waitfree') {
      // The ring really was full (frames parked, sockets paused): the path this test is about.
      const families = parseExposition(metrics ?? '');
      const full = [0, 1].map((i) => familyValue(families, 'waitfree_ring_full_total', { ring: 'net_to_shard', index: String(i) }));
      expect(full.some((n) => n > 0), `waitfree_ring_full_total: ${full}`).toBe(true);
    }
  });
});

describe.each(KINDS)('maxCnxns (total connection bound) on %s', (kind) => {
  const MAX = 3;
  let target: Target;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    target = kind === 'waitfree' ? await waitfreeTarget({ max_cnxns: MAX, max_client_cnxns: 0 }) : await zookeeperTarget([`maxCnxns=${MAX}`]);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await target?.stop();
  });

  it('conf shows it (waitfree; ZooKeeper 3.8 does not list it)', async () => {
    const conf = await exchange(target.port, [{ write: 'conf' }]);
    if (kind === 'waitfree') expect(conf.text).toContain(`\nmaxCnxns=${MAX}\n`);
    else expect(conf.text).toContain('clientPort=');
  });

  it('connections over the bound are closed at once, four-letter ones too; a closed one frees its slot', async () => {
    const rejected = async (): Promise<number> => familyValue(parseExposition((await target.metrics()) ?? ''), 'waitfree_net_connections_rejected_total');
    const before = kind === 'waitfree' ? await rejected() : 0;
    // Sessions are taken one after another (the server must have counted each before the next).
    for (let i = 0; i < MAX; i++) clients.push(await connectWithin(target.port, 5_000));
    expect(await tryConnect(target.port)).toBe('refused');
    const ruok = await exchange(target.port, [{ write: 'ruok' }]);
    expect(ruok).toMatchObject({ text: '', closed_by_server: true });
    // The sessions already open are unaffected.
    for (const c of clients) expect((await c.request(3, { path: '/', watch: false })).err).toBe(0);

    clients.shift()?.destroy();
    clients.push(await connectWithin(target.port, 5_000));
    if (kind === 'waitfree') {
      expect((await rejected()) - before).toBeGreaterThanOrEqual(2);
    }
  });
});
