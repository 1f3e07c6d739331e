#!/usr/bin/env node
// One session holding a great many watches (issue 10, item 7), on waitfree and on Apache
// ZooKeeper 3.8 side by side: how long the monitoring words take to answer, and how long another
// session (the bystander) waits for its replies meanwhile.
//
// Per server: a big session registers N exist watches on missing paths (/w/0 .. /w/N-1) with
// SetWatches frames of --paths-per-frame paths; a bystander session sends getData("/") one after
// another (each waits for its reply, then --gap-ms); then srvr, mntr, wchs, cons and stat are each
// asked --rounds times, one after another; then srvr, mntr and wchs back to back for
// --monitor-s seconds (a monitoring agent at its worst); then the big session closes and we wait
// until wchs says no watch is left. Every phase reports the bystander's worst and 99th-percentile
// latency.
//
//   node bench/watch_scale.mjs [--watches 1000000] [--target both|waitfree|zookeeper]
//                              [--paths-per-frame 20000] [--rounds 3] [--read-workers 1]
//                              [--heap-mb 2048] [--gap-ms 10] [--monitor-s 5] [--json FILE]
//
// Needs `npm run build` first (waitfree runs from dist/). ZooKeeper: the Debian jars
// (/usr/share/java/zookeeper.jar). Both run without fsync (nothing here writes), heap --heap-mb.

import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { requireBuilt } from './lib/require_built.mjs';

const { launchWaitfree, launchZooKeeper, apacheZkAvailable } = await import(requireBuilt('check/launch.js'));
const { JuteWriter, encodeConnectRequest, decodeConnectResponse, encodeRequest } = await import(requireBuilt('protocol/index.js'));
const { fourLetter } = await import(requireBuilt('check/four_letter.js'));

const OP = { getData: 4, setWatches: 101, closeSession: -11 };
const XID_SET_WATCHES = -8;
const WORDS = ['srvr', 'mntr', 'wchs', 'cons', 'stat'];
const MONITOR_WORDS = ['srvr', 'mntr', 'wchs'];
/** One word may take this long before it counts as unanswered. */
const WORD_TIMEOUT_MS = 120_000;
/** A request (SetWatches frame, bystander read) unanswered this long fails the run. */
const REQUEST_TIMEOUT_MS = 120_000;
const CLOSE_SETTLE_TIMEOUT_MS = 300_000;

function parseArgs(argv) {
  const o = { watches: 1_000_000, target: 'both', paths_per_frame: 20_000, rounds: 3, read_workers: 1, heap_mb: 2048, gap_ms: 10, monitor_s: 5, json: null };
  const ints = { '--watches': 'watches', '--paths-per-frame': 'paths_per_frame', '--rounds': 'rounds', '--read-workers': 'read_workers', '--heap-mb': 'heap_mb', '--gap-ms': 'gap_ms', '--monitor-s': 'monitor_s' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node bench/watch_scale.mjs [--watches N] [--target both|waitfree|zookeeper] [--paths-per-frame N] [--rounds N] [--read-workers N] [--heap-mb N] [--gap-ms N] [--monitor-s N] [--json FILE]\n');
      process.exit(0);
    }
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a in ints) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a}: not a non-negative integer: ${v}`);
      o[ints[a]] = n;
    } else if (a === '--target') {
      if (!['both', 'waitfree', 'zookeeper'].includes(v)) throw new Error(`--target: both, waitfree or zookeeper, not ${v}`);
      o.target = v;
    } else if (a === '--json') o.json = v;
    else throw new Error(`unknown argument ${a}`);
    i++;
  }
  if (o.paths_per_frame < 1 || o.rounds < 1 || o.read_workers < 1) throw new Error('--paths-per-frame, --rounds and --read-workers must be >= 1');
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A minimal session over a raw socket: requests answered in order (special xids by xid). */
class Session {
  static open(port) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      const s = new Session(sock);
      const timer = setTimeout(() => reject(new Error(`no ConnectResponse from ${port}`)), 10_000);
      s.on_handshake = (r) => {
        clearTimeout(timer);
        if (r.timeOut <= 0) reject(new Error('session refused'));
        else resolve(s);
      };
      sock.once('error', reject);
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
    /** xid -> FIFO of resolvers (ordinary xids are unique; special ones repeat). */
    this.waiting = new Map();
    this.on_handshake = null;
    this.closed = false;
    sock.on('data', (b) => this.onData(b));
    sock.on('close', () => {
      this.closed = true;
      for (const q of this.waiting.values()) for (const w of q) w.reject(new Error('connection closed'));
      this.waiting.clear();
    });
    sock.on('error', () => undefined);
  }

  onData(b) {
    this.buf = this.buf.length === 0 ? b : Buffer.concat([this.buf, b]);
    while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
      const len = this.buf.readInt32BE(0);
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (this.on_handshake !== null) {
        const h = this.on_handshake;
        this.on_handshake = null;
        h(decodeConnectResponse(frame));
        continue;
      }
      const xid = frame.readInt32BE(0);
      const err = frame.readInt32BE(12);
      if (xid === -1) continue; // a watch notification
      const q = this.waiting.get(xid);
      const w = q?.shift();
      if (q !== undefined && q.length === 0) this.waiting.delete(xid);
      w?.resolve(err);
    }
  }

  /** Sends a request; resolves with its error code. */
  request(type, body, xid = this.next_xid++) {
    const w = new JuteWriter();
    encodeRequest(xid, type, body, w);
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      const timer = setTimeout(() => reject(new Error(`op ${type} xid ${xid}: no reply in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      const q = this.waiting.get(xid) ?? [];
      q.push({ resolve: (e) => (clearTimeout(timer), resolve(e)), reject: (e) => (clearTimeout(timer), reject(e)) });
      this.waiting.set(xid, q);
      this.sock.write(w.toBytes());
    });
  }

  destroy() {
    this.sock.destroy();
  }
}

/** getData("/") one after another; each latency is filed under the phase current when it was sent. */
class Bystander {
  constructor(session, gap_ms) {
    this.session = session;
    this.gap_ms = gap_ms;
    this.phase = 'start';
    this.latencies = new Map();
    this.stopping = false;
    this.failure = null;
    this.loop = this.run();
  }

  async run() {
    while (!this.stopping) {
      const phase = this.phase;
      const t0 = performance.now();
      try {
        const err = await this.session.request(OP.getData, { path: '/', watch: false });
        if (err !== 0) throw new Error(`bystander getData / answered ${err}`);
      } catch (e) {
        this.failure = e;
        return;
      }
      const list = this.latencies.get(phase) ?? [];
      list.push(performance.now() - t0);
      this.latencies.set(phase, list);
      if (this.gap_ms > 0) await sleep(this.gap_ms);
    }
  }

  async stop() {
    this.stopping = true;
    await this.loop;
  }

  summary(phase) {
    const l = [...(this.latencies.get(phase) ?? [])].sort((a, b) => a - b);
    if (l.length === 0) return { replies: 0, worst_ms: null, p99_ms: null, median_ms: null };
    const q = (p) => round(l[Math.min(l.length - 1, Math.floor(p * l.length))]);
    return { replies: l.length, worst_ms: round(l[l.length - 1]), p99_ms: q(0.99), median_ms: q(0.5) };
  }
}

const round = (x) => Math.round(x * 10) / 10;

async function timedWord(port, word) {
  const t0 = performance.now();
  const text = await fourLetter(port, word, WORD_TIMEOUT_MS);
  return { ms: round(performance.now() - t0), text };
}

function watchCount(kind, mntr) {
  const m = mntr.match(/^zk_watch_count\s+(\d+)$/m);
  if (m === null) throw new Error(`${kind}: no zk_watch_count in mntr:\n${mntr.slice(0, 500)}`);
  return Number(m[1]);
}

async function runOne(kind, o) {
  const launch_opts = { fsync: 'none', heap_mb: o.heap_mb, read_workers: o.read_workers };
  const server = kind === 'waitfree' ? await launchWaitfree(launch_opts) : await launchZooKeeper(launch_opts);
  const result = { kind, watches: o.watches, heap: server.heap, read_workers: kind === 'waitfree' ? o.read_workers : null, phases: {}, words: {} };
  try {
    const big = await Session.open(server.port);
    const bystander = new Bystander(await Session.open(server.port), o.gap_ms);
    await sleep(1_000);

    // Registration.
    bystander.phase = 'register';
    const t_reg = performance.now();
    for (let i = 0; i < o.watches; i += o.paths_per_frame) {
      const paths = [];
      for (let j = i; j < Math.min(o.watches, i + o.paths_per_frame); j++) paths.push(`/w/${j}`);
      const err = await big.request(OP.setWatches, { relativeZxid: 0, dataWatches: [], existWatches: paths, childWatches: [] }, XID_SET_WATCHES);
      if (err !== 0) throw new Error(`${kind}: SetWatches answered ${err}`);
    }
    result.register_ms = round(performance.now() - t_reg);
    // The last SetWatches reply may precede the last watch being counted: wait until it is.
    const deadline = Date.now() + WORD_TIMEOUT_MS;
    let count = -1;
    while ((count = watchCount(kind, await fourLetter(server.port, 'mntr', WORD_TIMEOUT_MS))) !== o.watches && Date.now() < deadline) await sleep(200);
    if (count !== o.watches) throw new Error(`${kind}: mntr counts ${count} watches, want ${o.watches}`);
    result.phases.register = bystander.summary('register');

    bystander.phase = 'idle';
    await sleep(1_000);
    result.phases.idle = bystander.summary('idle');

    // The monitoring words, each --rounds times.
    bystander.phase = 'words';
    for (let r = 0; r < o.rounds; r++) {
      for (const word of WORDS) {
        const { ms, text } = await timedWord(server.port, word);
        if (word === 'wchs' && !text.includes(`Total watches:${o.watches}`)) throw new Error(`${kind}: wchs says:\n${text}`);
        if (/no answer to stats/.test(text)) throw new Error(`${kind}: ${word} says: ${text.slice(0, 200)}`);
        (result.words[word] ??= []).push(ms);
      }
    }
    result.phases.words = bystander.summary('words');

    // Monitoring words back to back.
    bystander.phase = 'monitor';
    const monitor_until = performance.now() + o.monitor_s * 1000;
    const monitor = { answered: 0, worst_ms: 0 };
    for (let i = 0; performance.now() < monitor_until; i++) {
      const { ms, text } = await timedWord(server.port, MONITOR_WORDS[i % MONITOR_WORDS.length]);
      if (text.length === 0 || /no answer to stats/.test(text)) throw new Error(`${kind}: ${MONITOR_WORDS[i % MONITOR_WORDS.length]} says: ${text.slice(0, 200)}`);
      monitor.answered++;
      monitor.worst_ms = Math.max(monitor.worst_ms, ms);
    }
    result.monitor = monitor;
    result.phases.monitor = bystander.summary('monitor');

    // The big session closes: its watches go.
    bystander.phase = 'close';
    const t_close = performance.now();
    await big.request(OP.closeSession, null).catch(() => 0);
    big.destroy();
    const close_deadline = Date.now() + CLOSE_SETTLE_TIMEOUT_MS;
    while (!(await fourLetter(server.port, 'wchs', WORD_TIMEOUT_MS)).includes('Total watches:0')) {
      if (Date.now() > close_deadline) throw new Error(`${kind}: watches still there ${CLOSE_SETTLE_TIMEOUT_MS} ms after the close`);
      await sleep(50);
    }
    result.close_settle_ms = round(performance.now() - t_close);
    result.phases.close = bystander.summary('close');

    await bystander.stop();
    if (bystander.failure !== null) throw bystander.failure;
    bystander.session.destroy();
    result.server_alive = server.alive();
  } finally {
    await server.stop();
  }
  return result;
}

function report(r, o) {
  const words = Object.entries(r.words)
    .map(([w, ms]) => `${w} ${Math.max(...ms)} ms (of ${ms.join(', ')})`)
    .join('; ');
  const ph = (name) => {
    const p = r.phases[name];
    return `${name}: worst ${p.worst_ms} ms, p99 ${p.p99_ms} ms, median ${p.median_ms} ms (${p.replies} replies)`;
  };
  process.stdout.write(
    [
      `== ${r.kind}: ${r.watches} watches on one session (${r.heap}${r.read_workers === null ? '' : `, ${r.read_workers} read worker(s)`})`,
      `register (SetWatches): ${r.register_ms} ms; close until wchs = 0: ${r.close_settle_ms} ms`,
      `words (worst of rounds): ${words}`,
      `srvr/mntr/wchs back to back for ${o.monitor_s} s: ${r.monitor.answered} answered, worst ${r.monitor.worst_ms} ms`,
      `bystander getData / latency: ${['idle', 'register', 'words', 'monitor', 'close'].map(ph).join('\n  ')}`,
      '',
    ].join('\n'),
  );
}

const o = parseArgs(process.argv.slice(2));
const kinds = o.target === 'both' ? ['waitfree', 'zookeeper'] : [o.target];
if (kinds.includes('zookeeper') && !apacheZkAvailable()) {
  process.stderr.write('Apache ZooKeeper is not installed (/usr/share/java/zookeeper.jar, java on PATH)\n');
  process.exit(1);
}
const results = [];
for (const kind of kinds) {
  const r = await runOne(kind, o);
  report(r, o);
  results.push(r);
}
if (o.json !== null) writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), options: o, results }, null, 2) + '\n');
