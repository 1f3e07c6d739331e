#!/usr/bin/env node
// One large request frame trickled in small TCP segments (issue 10, item 11), on waitfree and on
// Apache ZooKeeper 3.8 side by side: the server's CPU time to take in the frame, against the same
// frame sent in one write.
//
// Per server (jute.maxbuffer 32 MiB on both): a session creates /trickle, then, --rounds times,
// sends ONE setData("/trickle") whose frame is --bytes long (length prefix included), first in one
// write ("whole"), then in --chunk-byte writes ("trickle"; TCP_NODELAY, each write awaited and
// followed by at least one event-loop turn, and --gap-us in all, before the next),
// and waits for the reply. Measured across each send, from the first byte written to the reply:
// the server process's CPU (utime + stime of every thread, /proc/PID/stat) and the wall time.
// The reply must say OK and the node's dataLength must be the size sent.
//
//   node bench/trickle_frame.mjs [--bytes 16777216] [--chunk 256] [--gap-us 0]
//                                [--target both|waitfree|zookeeper]
//                                [--rounds 1] [--timeout-s 300] [--heap-mb 1024] [--read-workers 1]
//                                [--json FILE]
//
// Needs `npm run build` first (waitfree runs from dist/). ZooKeeper: the Debian jars
// (/usr/share/java/zookeeper.jar); its jute.maxbuffer is a JVM system property, passed through
// JAVA_TOOL_OPTIONS (launchZooKeeper takes no JVM flags). Both run without fsync.
//
// The `segments` column is the client socket's data_segs_out delta (`ss -ti`): how many TCP
// segments the frame really left in. When the server reads more slowly than the client writes,
// its receive queue fills and the kernel merges the queued writes into larger segments (seen
// here: 65,536 writes of 256 B left as ~16,000-22,000 segments with --gap-us 0, ~58,000 with
// --gap-us 100). So the chunk the server reads is set by both sides; report the segments column
// with the CPU. What this cannot see is how many reads the server made.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg } from 'node:os';
import { requireBench, requireBuilt } from './lib/require_built.mjs';

const { launchWaitfree, launchZooKeeper, apacheZkAvailable } = await import(requireBuilt('check/launch.js'));
const { JuteWriter, encodeConnectRequest, decodeConnectResponse, encodeRequest } = await import(requireBuilt('protocol/index.js'));
const { processCpuSeconds } = await import(requireBench('proc_cpu.js'));
const { frameBytesMaxFor, CAPACITY_BYTES_MAX } = await import(requireBuilt('ring/layout.js'));
const { FRAME_OVERHEAD_BYTES } = await import(requireBuilt('config/server_config.js'));

const OP = { create: 1, setData: 5 };
const MiB = 1024 * 1024;
/** jute.maxbuffer on both servers: twice the default frame, so 16 MiB frames are accepted. */
const JUTE_MAX_BUFFER_BYTES = 32 * MiB;
const NODE_PATH = '/trickle';
const OPEN_ACL_UNSAFE = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** Bytes of a setData frame around its data: length prefix, header (xid, type), path, data length, version. */
const SET_DATA_OVERHEAD_BYTES = 4 + 8 + (4 + NODE_PATH.length) + 4 + 4;
/** In a SetDataResponse: reply header (16) + Stat up to dataLength (4 longs, 3 ints, 1 long). */
const REPLY_DATA_LENGTH_OFFSET = 16 + 4 * 8 + 3 * 4 + 8;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const IDLE_SAMPLE_MS = 1_000;
const SETTLE_MS = 500;

function parseArgs(argv) {
  const o = { bytes: 16 * MiB, chunk: 256, gap_us: 0, target: 'both', rounds: 1, timeout_s: 300, heap_mb: 1024, read_workers: 1, json: null };
  const ints = { '--bytes': 'bytes', '--chunk': 'chunk', '--gap-us': 'gap_us', '--rounds': 'rounds', '--timeout-s': 'timeout_s', '--heap-mb': 'heap_mb', '--read-workers': 'read_workers' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node bench/trickle_frame.mjs [--bytes N] [--chunk N] [--gap-us N] [--target both|waitfree|zookeeper] [--rounds N] [--timeout-s N] [--heap-mb N] [--read-workers N] [--json FILE]\n');
      process.exit(0);
    }
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a in ints) {
      const n = Number(v);
      const min = a === '--gap-us' ? 0 : 1;
      if (!Number.isInteger(n) || n < min) throw new Error(`${a}: not an integer >= ${min}: ${v}`);
      o[ints[a]] = n;
    } else if (a === '--target') {
      if (!['both', 'waitfree', 'zookeeper'].includes(v)) throw new Error(`--target: both, waitfree or zookeeper, not ${v}`);
      o.target = v;
    } else if (a === '--json') o.json = v;
    else throw new Error(`unknown argument ${a}`);
    i++;
  }
  // The frame's payload (all but the length prefix) must be accepted by both servers.
  if (o.bytes < SET_DATA_OVERHEAD_BYTES || o.bytes - 4 > JUTE_MAX_BUFFER_BYTES) {
    throw new Error(`--bytes: ${o.bytes} outside ${SET_DATA_OVERHEAD_BYTES}..${JUTE_MAX_BUFFER_BYTES + 4} (jute.maxbuffer ${JUTE_MAX_BUFFER_BYTES})`);
  }
  if (o.chunk > o.bytes) throw new Error(`--chunk ${o.chunk} exceeds --bytes ${o.bytes}`);
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round3 = (x) => Math.round(x * 1000) / 1000;

/** Smallest power-of-two ring that holds one request frame of jute.maxbuffer (as server_config demands). */
function ringBytesFor(jute_max_buffer_bytes) {
  const frame_bytes = jute_max_buffer_bytes + FRAME_OVERHEAD_BYTES;
  for (let capacity = 4 * MiB; capacity <= CAPACITY_BYTES_MAX; capacity *= 2) {
    if (frameBytesMaxFor(capacity) >= frame_bytes) return capacity;
  }
  throw new Error(`no ring holds a frame of ${frame_bytes} bytes`);
}

/** A minimal session over a raw socket: one request at a time, the reply frame resolved whole. */
class Session {
  static open(port) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      const s = new Session(sock);
      const timer = setTimeout(() => (sock.destroy(), reject(new Error(`no ConnectResponse from ${port} in ${HANDSHAKE_TIMEOUT_MS} ms`))), HANDSHAKE_TIMEOUT_MS);
      s.on_frame = (frame) => {
        clearTimeout(timer);
        s.on_frame = null;
        if (decodeConnectResponse(frame).timeOut <= 0) reject(new Error(`port ${port}: session refused`));
        else resolve(s);
      };
      sock.once('error', (e) => (clearTimeout(timer), reject(e)));
      sock.once('connect', () => {
        sock.setNoDelay(true);
        const w = new JuteWriter();
        encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }, w);
        sock.write(w.toBytes());
      });
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.next_xid = 1;
    /** Called with each frame received (handshake, then the one reply awaited); null = none expected. */
    this.on_frame = null;
    this.closed = false;
    this.on_close = null;
    sock.on('data', (b) => this.onData(b));
    sock.on('close', () => {
      this.closed = true;
      this.on_close?.();
    });
    sock.on('error', () => undefined);
  }

  onData(b) {
    this.buf = this.buf.length === 0 ? b : Buffer.concat([this.buf, b]);
    while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
      const len = this.buf.readInt32BE(0);
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (len >= 4 && frame.readInt32BE(0) === -1) continue; // a watch notification
      this.on_frame?.(frame);
    }
  }

  /** A request frame, length prefix included. */
  frame(type, body) {
    const w = new JuteWriter();
    encodeRequest(this.next_xid++, type, body, w);
    return Buffer.from(w.toBytes());
  }

  /**
   * Writes `frame` in writes of at most `chunk` bytes, each awaited, and resolves with the reply
   * frame. Rejects when the connection closes or `deadline_ms` (Date.now() clock) passes.
   */
  send(frame, chunk, gap_us, deadline_ms) {
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (err, reply) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.on_frame = null;
        this.on_close = null;
        if (err === null) resolve(reply);
        else reject(err);
      };
      const timer = setTimeout(() => finish(new Error(`no reply within the round's timeout`)), Math.max(0, deadline_ms - Date.now()));
      this.on_frame = (reply) => finish(null, reply);
      this.on_close = () => finish(new Error('the server closed the connection'));
      if (this.closed) return finish(new Error('connection already closed'));
      void this.writeChunks(frame, chunk, gap_us, () => done).catch((e) => finish(e));
    });
  }

  /**
   * Awaits each write's callback, then one event-loop turn, before the next (bounded:
   * frame.length / chunk writes). Without the turn, Node's stream queues the writes issued while
   * one is in flight and hands them to the kernel together (writev). With it, one write is one
   * send(2); whether it is one segment depends on the receiver keeping up (segments column).
   */
  async writeChunks(frame, chunk, gap_us, stop) {
    for (let at = 0; at < frame.length && !stop(); at += chunk) {
      const piece = frame.subarray(at, Math.min(frame.length, at + chunk));
      await new Promise((res, rej) => this.sock.write(piece, (e) => (e ? rej(e) : res())));
      if (chunk >= frame.length) continue;
      // Yield (never spin: libuv must run for the write to reach the kernel) until gap_us passed.
      const t0 = performance.now();
      do await new Promise((res) => setImmediate(res));
      while ((performance.now() - t0) * 1000 < gap_us);
    }
  }

  destroy() {
    this.sock.destroy();
  }
}

/** Checks a SetDataResponse: error 0 and the node now holds `data_bytes`. */
function checkSetDataReply(kind, reply, data_bytes) {
  const err = reply.readInt32BE(12);
  if (err !== 0) throw new Error(`${kind}: setData answered error ${err}`);
  const data_length = reply.readInt32BE(REPLY_DATA_LENGTH_OFFSET);
  if (data_length !== data_bytes) throw new Error(`${kind}: setData reply says dataLength ${data_length}, sent ${data_bytes}`);
}

/** The kernel's count of data segments sent on the 127.0.0.1 socket with this local port; null without `ss`. */
function dataSegsOut(local_port) {
  try {
    const out = execFileSync('ss', ['-tinH', 'src', `127.0.0.1:${local_port}`], { encoding: 'utf8', timeout: 5_000 });
    const m = out.match(/\bdata_segs_out:(\d+)/);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

function cpuOf(server) {
  const s = processCpuSeconds(server.pid);
  if (s === null) throw new Error(`${server.kind}: cannot read /proc/${server.pid}/stat`);
  return s;
}

async function launch(kind, o) {
  const common = { fsync: 'none', heap_mb: o.heap_mb };
  if (kind === 'waitfree') {
    const ring = ringBytesFor(JUTE_MAX_BUFFER_BYTES);
    const extra_config = [
      `jute.maxbuffer=${JUTE_MAX_BUFFER_BYTES}`,
      `waitfree.ring.netToShardBytes=${ring}`,
      `waitfree.ring.shardToNetBytes=${ring}`,
      `waitfree.ring.shardToCommitBytes=${ring}`,
      `waitfree.ring.commitStreamBytes=${ring}`,
    ];
    return launchWaitfree({ ...common, read_workers: o.read_workers, extra_config });
  }
  // The JVM reads JAVA_TOOL_OPTIONS at start; set it only for this spawn.
  const before = process.env.JAVA_TOOL_OPTIONS;
  process.env.JAVA_TOOL_OPTIONS = `${before ?? ''} -Djute.maxbuffer=${JUTE_MAX_BUFFER_BYTES}`.trim();
  try {
    return await launchZooKeeper(common);
  } finally {
    if (before === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = before;
  }
}

/** One measured send; a failure (timeout, close) becomes the row's error, and the session is replaced. */
async function measure(server, state, mode, o, data) {
  const chunk = mode === 'whole' ? o.bytes : o.chunk;
  const frame = state.session.frame(OP.setData, { path: NODE_PATH, data, version: -1 });
  if (frame.length !== o.bytes) throw new Error(`frame is ${frame.length} bytes, meant ${o.bytes}`);
  const load_1m = loadavg()[0];
  const local_port = state.session.sock.localPort;
  const segs0 = dataSegsOut(local_port);
  const cpu0 = cpuOf(server);
  const t0 = performance.now();
  const row = { kind: server.kind, mode, chunk, writes: Math.ceil(frame.length / chunk), load_1m: Math.round(load_1m * 100) / 100 };
  try {
    const reply = await state.session.send(frame, chunk, mode === 'whole' ? 0 : o.gap_us, Date.now() + o.timeout_s * 1000);
    checkSetDataReply(server.kind, reply, data.length);
  } catch (e) {
    row.error = e instanceof Error ? e.message : String(e);
    state.session.destroy();
    state.session = await Session.open(server.port);
  }
  row.wall_s = round3((performance.now() - t0) / 1000);
  row.server_cpu_s = round3(cpuOf(server) - cpu0);
  const segs1 = row.error === undefined ? dataSegsOut(local_port) : null;
  row.segments = segs0 === null || segs1 === null ? null : segs1 - segs0;
  return row;
}

async function runOne(kind, o) {
  const server = await launch(kind, o);
  const rows = [];
  const result = { kind, heap: server.heap, pid: server.pid, rows };
  try {
    const state = { session: await Session.open(server.port) };
    const created = await state.session.send(state.session.frame(OP.create, { path: NODE_PATH, data: new Uint8Array(0), acl: OPEN_ACL_UNSAFE, flags: 0 }), 1 << 20, 0, Date.now() + 30_000);
    if (created.readInt32BE(12) !== 0) throw new Error(`${kind}: create ${NODE_PATH} answered ${created.readInt32BE(12)}`);
    // What the server burns doing nothing, so the rows can be judged against it.
    const idle0 = cpuOf(server);
    await sleep(IDLE_SAMPLE_MS);
    result.idle_cpu_s_per_s = round3((cpuOf(server) - idle0) / (IDLE_SAMPLE_MS / 1000));
    const data = Buffer.alloc(o.bytes - SET_DATA_OVERHEAD_BYTES, 0x61);
    for (let r = 0; r < o.rounds; r++) {
      for (const mode of ['whole', 'trickle']) {
        const row = await measure(server, state, mode, o, data);
        row.round = r + 1;
        rows.push(row);
        printRow(row);
        await sleep(SETTLE_MS);
      }
    }
    state.session.destroy();
    result.server_alive = server.alive();
    if (!result.server_alive) process.stdout.write(`${kind}: the server died; its output:\n${server.output()}\n`);
  } finally {
    await server.stop();
  }
  return result;
}

const COLS = ['system', 'round', 'mode', 'chunk B', 'writes', 'segments', 'server CPU s', 'wall s', 'load 1m', 'error'];
const WIDTHS = [10, 6, 8, 10, 8, 9, 13, 8, 8, 0];
function line(cells) {
  return cells.map((c, i) => String(c).padEnd(WIDTHS[i])).join(' ').trimEnd() + '\n';
}
function printRow(r) {
  process.stdout.write(line([r.kind, r.round ?? '', r.mode, r.chunk, r.writes, r.segments ?? '?', r.server_cpu_s, r.wall_s, r.load_1m, r.error ?? '']));
}

const o = parseArgs(process.argv.slice(2));
const kinds = o.target === 'both' ? ['waitfree', 'zookeeper'] : [o.target];
if (kinds.includes('zookeeper') && !apacheZkAvailable()) {
  process.stderr.write('Apache ZooKeeper is not installed (/usr/share/java/zookeeper.jar, java on PATH)\n');
  process.exit(1);
}
process.stdout.write(`setData frame of ${o.bytes} bytes, whole and in ${o.chunk}-byte writes; jute.maxbuffer ${JUTE_MAX_BUFFER_BYTES}; timeout ${o.timeout_s} s per send; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
process.stdout.write(line(COLS));
const results = [];
for (const kind of kinds) {
  const r = await runOne(kind, o);
  process.stdout.write(`  (${kind}: idle server CPU ${r.idle_cpu_s_per_s} s/s; ${r.heap})\n`);
  results.push(r);
}
process.stdout.write(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
if (o.json !== null) writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), options: o, results }, null, 2) + '\n');
