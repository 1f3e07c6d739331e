// Protocol fuzz against a live server (issue 10: no request, client or connection can take a
// replica down). The long run (>= 10^6 frames) shares every generator and check:
// test/fuzz/long_run.fuzz.ts, `node bench/fuzz/long_run.mjs`.
//
// What must hold throughout, on a server with 2 read workers (a child process) and 3 bystander
// sessions (shards 0, 1, 0) looping create/setData/getData/exists with watches:
// - the server process stays up;
// - no bystander sees an error, a timeout, a lost connection or a missing watch event;
// - every fuzz connection gets, for each complete frame it sent, an answer (a reply or a
//   ZooKeeper error) or a close; after the client's end of stream, a close.
//
// How this fails: a worker that throws on some input exits and the supervisor stops the process
// (the failure shows the server's last output and the input, in hex); a request that is never
// answered shows as a stall with the stream that caused it. The random part draws from a fresh
// seed on every run (printed, and named in a failure); WAITFREE_FUZZ_SEED=<n> replays it.

import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JuteWriter } from '../../src/protocol/jute.js';
import { decodeRequest, encodeRequest, type OpCode, type RequestInput } from '../../src/protocol/messages.js';
import { OPCODE_TABLE } from '../../src/protocol/opcodes.js';
import { fourLetter } from '../support/servers.js';
import { WireClient } from '../support/wire_client.js';
import { BYSTANDERS, FUZZ_LIMITS, runCampaign, seedFromEnv, startRig, type CampaignResult, type FuzzRig } from './campaign.js';
import { SUPER_PASSWORD } from './bystanders.js';
import { ALL_OPCODES, connectFrame, framed, hostileOf, oddOnly, wellFormedOf, type ConnScript } from './frames.js';

/** The randomised part's share of the file's <= 60 s budget. */
const FUZZ_TIME_MS = 25_000;
/** Well-formed frames per fuzz connection, at most (then 1-3 odd ones). */
const FRAMES_PER_CONN_MAX = 6;
const CONNS_PER_BATCH_MAX = 4;
/** Generous: a loaded 2-core CI box, fsync on every write batch. */
const BOUNDS = { reply_wait_ms: 10_000, close_wait_ms: 10_000 };
/** Deterministic cases run this many connections at a time. */
const PARALLEL = 8;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function req<C extends OpCode>(xid: number, type: C, body: RequestInput<C>): Uint8Array {
  const w = new JuteWriter();
  encodeRequest(xid, type, body, w);
  return w.toBytes();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs scripts PARALLEL at a time through the rig (each batch checked). */
async function runAll(rig: FuzzRig, scripts: readonly ConnScript[], label: string): Promise<void> {
  for (let i = 0; i < scripts.length; i += PARALLEL) await rig.runBatch(scripts.slice(i, i + PARALLEL), `${label} #${i}`);
}

/** A raw socket that collects everything the server sends. */
async function rawSocket(port: number): Promise<{ sock: net.Socket; received: () => Buffer; closed: Promise<void> }> {
  const sock = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.setNoDelay(true);
  const chunks: Buffer[] = [];
  sock.on('data', (b: Buffer) => chunks.push(b));
  sock.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  return { sock, received: () => Buffer.concat(chunks), closed };
}

/** Payloads of the complete frames in `bytes`. */
function framesIn(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (bytes.length - at >= 4) {
    const len = bytes.readInt32BE(at);
    if (len < 0 || bytes.length - at - 4 < len) break;
    out.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** (xid, err) of every reply after the ConnectResponse. */
function replyHeaders(bytes: Buffer): string[] {
  return framesIn(bytes)
    .slice(1)
    .map((f) => `${f.readInt32BE(0)}:${f.readInt32BE(12)}`);
}

/** Sends `stream` in the given pieces (each its own write, 1 ms apart so they arrive apart), waits for `replies` replies. */
async function sendInPieces(port: number, pieces: readonly Uint8Array[], replies: number): Promise<{ headers: string[]; closed: boolean }> {
  const s = await rawSocket(port);
  let closed = false;
  void s.closed.then(() => (closed = true));
  try {
    for (const [i, p] of pieces.entries()) {
      s.sock.write(p);
      if (i < pieces.length - 1) await sleep(1);
    }
    const deadline = Date.now() + BOUNDS.reply_wait_ms;
    while (!closed && framesIn(s.received()).length < replies + 1 && Date.now() < deadline) await sleep(2);
    return { headers: replyHeaders(s.received()), closed };
  } finally {
    s.sock.destroy();
  }
}

describe('protocol fuzz: mutated, truncated and hostile frames of every opcode, with bystanders', () => {
  let rig: FuzzRig;

  beforeAll(async () => {
    rig = await startRig(BOUNDS);
  }, 60_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('the generators cover every opcode of OPCODE_TABLE, well-formed and hostile', () => {
    for (const code of ALL_OPCODES) {
      for (const frame of fc.sample(wellFormedOf(code), { seed: 1, numRuns: 20 })) {
        const payload = frame.subarray(4);
        expect(Buffer.from(frame).readInt32BE(0)).toBe(payload.length);
        // Well-formed means the server's decoder reads it back as the same opcode.
        expect(decodeRequest(payload).header.type).toBe(code);
      }
      for (const frame of fc.sample(hostileOf(code), { seed: 1, numRuns: 5 })) expect(Buffer.from(frame).readInt32BE(8)).toBe(code);
    }
    expect(ALL_OPCODES.length).toBe(OPCODE_TABLE.length);
  });

  it('every opcode: a well-formed frame cut short at every body length (length prefix true to the cut)', async () => {
    const scripts: ConnScript[] = [];
    for (const code of ALL_OPCODES) {
      const [frame] = fc.sample(wellFormedOf(code), { seed: 7, numRuns: 1 });
      const payload = frame.subarray(4);
      // Header (xid, type) kept whole: shorter cuts are the same for every opcode, covered once below.
      for (let keep = 8; keep < payload.length; keep++) {
        scripts.push(oddOnly([framed(payload.subarray(0, keep))]));
      }
    }
    for (let keep = 0; keep < 8; keep++) scripts.push(oddOnly([framed(new Uint8Array(keep))]));
    await runAll(rig, scripts, 'truncated');
    expect(rig.problem()).toBeNull();
  }, 45_000);

  it('hostile bodies of every opcode: invalid UTF-8, huge counts and lengths, garbage multi headers', async () => {
    const scripts: ConnScript[] = ALL_OPCODES.flatMap((code) =>
      fc.sample(hostileOf(code), { seed: 11, numRuns: 6 }).map((frame) => oddOnly([frame])),
    );
    // Explicitly: a 40-byte create whose ACL vector claims 2^31-1 entries, and a path of
    // invalid UTF-8 with a watch.
    const huge_acl = Buffer.from(req(1, 1, { path: '/fz-huge', data: null, acl: [], flags: 0 }));
    huge_acl.writeInt32BE(0x7fffffff, 4 + 8 + 4 + '/fz-huge'.length + 4);
    const bad_path = Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 3, 0x2f, 0xc0, 0xaf, 1])]);
    bad_path.writeInt32BE(bad_path.length - 4, 0);
    scripts.push(oddOnly([huge_acl]), oddOnly([bad_path]));
    await runAll(rig, scripts, 'hostile');
    expect(rig.problem()).toBeNull();
  }, 45_000);

  it('a valid stream split into two writes at every byte boundary gets the same replies as in one write', async () => {
    const stream = Buffer.concat([
      connectFrame({ timeout_ms: 30_000 }),
      req(1, 3, { path: '/', watch: false }),
      req(2, 4, { path: '/zookeeper', watch: false }),
      req(3, 8, { path: '/', watch: false }),
      req(-2, 11, null),
      req(4, 3, { path: '/no-such-node', watch: true }),
      req(5, 107, null),
      req(6, 22, { ops: [{ type: 4, request: { path: '/', watch: false } }, { type: 8, request: { path: '/zookeeper', watch: false } }] }),
      req(7, 9, { path: '/' }),
    ]);
    const replies = 8;
    const whole = await sendInPieces(rig.server.port, [stream], replies);
    expect(whole.headers).toEqual(['1:0', '2:0', '3:0', '-2:0', '4:-101', '5:0', '6:0', '7:0']);
    for (let at = 1; at < stream.length; at += PARALLEL) {
      const cuts = Array.from({ length: Math.min(PARALLEL, stream.length - at) }, (_, k) => at + k);
      const results = await Promise.all(cuts.map((c) => sendInPieces(rig.server.port, [stream.subarray(0, c), stream.subarray(c)], replies)));
      for (const [k, r] of results.entries()) expect({ cut: cuts[k], ...r }).toEqual({ cut: cuts[k], headers: whole.headers, closed: false });
    }
    // And one byte per write.
    const bytewise = await sendInPieces(rig.server.port, [...stream].map((b) => Uint8Array.of(b)), replies);
    expect(bytewise).toEqual({ headers: whole.headers, closed: false });
    expect(rig.problem()).toBeNull();
  }, 45_000);

  it('large frames (up to jute.maxbuffer) in random pieces arrive whole', async () => {
    const { client, outcome } = await WireClient.connect(rig.server.port, { timeout_ms: 30_000 });
    expect(outcome.kind).toBe('connected');
    client.destroy();
    const sizes = [64 * 1024, 300 * 1024, FUZZ_LIMITS.jute_max_buffer_bytes - 64];
    const [cuts] = fc.sample(fc.array(fc.nat(), { minLength: 20, maxLength: 60 }), { seed: 3, numRuns: 1 });
    for (const [i, size] of sizes.entries()) {
      const path = `/fz-large-${i}`;
      const data = new Uint8Array(size - path.length - 40).map((_, k) => (k * 31 + i) & 0xff);
      const create = req(1, 1, { path, data, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 });
      const get = req(2, 4, { path, watch: false });
      const del = req(3, 2, { path, version: -1 });
      const stream = Buffer.concat([connectFrame({ timeout_ms: 30_000 }), create, get, del]);
      const points = [...new Set(cuts.map((c) => 1 + (c % (stream.length - 1))))].sort((a, b) => a - b);
      const pieces = [0, ...points].map((from, k) => stream.subarray(from, k < points.length ? points[k] : stream.length));
      const s = await rawSocket(rig.server.port);
      for (const p of pieces) {
        s.sock.write(p);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const deadline = Date.now() + BOUNDS.reply_wait_ms;
      while (framesIn(s.received()).length < 4 && Date.now() < deadline) await sleep(5);
      const frames = framesIn(s.received());
      s.sock.destroy();
      expect(replyHeaders(s.received()), `${size}-byte frame in ${pieces.length} pieces`).toEqual(['1:0', '2:0', '3:0']);
      // getData's reply: header (16) + buffer length (4) + data + Stat.
      expect(Buffer.compare(frames[2].subarray(20, 20 + data.length), Buffer.from(data))).toBe(0);
    }
    expect(rig.problem()).toBeNull();
  }, 45_000);

  it('four-letter words split across writes and half-closed are answered', async () => {
    const port = rig.server.port;
    for (const split of [1, 2, 3]) {
      const s = await rawSocket(port);
      s.sock.write('ruok'.slice(0, split));
      await sleep(20);
      s.sock.write('ruok'.slice(split));
      await Promise.race([s.closed, sleep(5_000)]);
      expect(s.received().toString('utf8'), `ruok split after ${split} byte(s)`).toBe('imok');
      s.sock.destroy();
    }
    // `echo srvr | nc`: the word, a newline, then end of stream right away.
    const s = await rawSocket(port);
    s.sock.end('srvr\n');
    await Promise.race([s.closed, sleep(5_000)]);
    expect(s.received().toString('utf8')).toContain('Zookeeper version:');
    s.sock.destroy();
    expect(rig.problem()).toBeNull();
  });

  // The random campaign runs after the deterministic cases: it may legitimately set ACLs on /
  // and /zookeeper that deny READ or CREATE, which those cases' expected replies assume away.
  it('random, mutated and hostile frames, split and half-closed, several connections at once', async () => {
    const start = { ...rig.totals };
    const seed = seedFromEnv();
    let result: CampaignResult | null = null;
    try {
      result = await runCampaign(rig, {
        seed,
        frames_max: FRAMES_PER_CONN_MAX,
        parallel: CONNS_PER_BATCH_MAX,
        frames_target: Number.MAX_SAFE_INTEGER,
        time_limit_ms: FUZZ_TIME_MS,
      });
    } finally {
      const t = rig.totals;
      console.log(
        `fuzz (seed ${seed}): ${result?.batches ?? 'failed after some'} batches, ${t.connections - start.connections} connections, ` +
          `${t.frames_sent - start.frames_sent} frames (${t.bytes_sent - start.bytes_sent} bytes), ${t.answers - start.answers} answers, ` +
          `${t.closed_by_server - start.closed_by_server} connections closed by the server`,
      );
    }
    expect(rig.problem()).toBeNull();
  }, FUZZ_TIME_MS + 30_000);

  it('after all that: the server is up, serves new sessions, and bystanders never saw an error', async () => {
    expect(rig.problem()).toBeNull();
    expect(await fourLetter(rig.server.port, 'ruok')).toBe('imok');
    const srvr = await fourLetter(rig.server.port, 'srvr');
    expect(srvr).toContain('Mode: standalone');
    const { client, outcome } = await WireClient.connect(rig.server.port, { timeout_ms: 30_000 });
    expect(outcome.kind).toBe('connected');
    try {
      expect((await client.requestSpecial(-4, 100, { type: 0, scheme: 'digest', auth: utf8(`super:${SUPER_PASSWORD}`) })).err).toBe(0);
      expect((await client.request(1, { path: '/after-fuzz', data: utf8('ok'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 })).err).toBe(0);
      expect((await client.request(2, { path: '/after-fuzz', version: -1 })).err).toBe(0);
    } finally {
      client.destroy();
    }
    for (const b of rig.bystanders) expect(b.ops, `${b.name} kept working`).toBeGreaterThan(0);
    expect(rig.bystanders.length).toBe(BYSTANDERS);
  });
});
