// Memory per znode of the shared off-heap tree with 1,000,000 znodes of 100 B (issue 12's
// measurement: ZooKeeper 3.8 holds them in 0.73 GB RSS after a restart; the target is <= 0.5x).
// The key space is the load generator's (/bench/k0000000 .. /bench/k0999999: 1M children of one
// node). Each scenario runs in its own process, RSS after a full GC:
//   arena-live    : 1M creates through TreeWriter in batches of 1,000 (as the commit worker)
//                   plus the time to write a node stream (snapshot) of the pinned root;
//   arena-restart : a fresh arena bulk-loaded from a node stream (recovery; the time is the
//                   loader's: the stream's chunks are in memory first, as read from a file);
//   heap          : today's DataTree (src/tree/data_tree.ts) with the same nodes.
// Run after a build:  npm run build && node bench/micro/arena_memory.bench.mjs [nodes]
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const NODES = Number(process.argv[3] ?? process.argv[2] ?? 1_000_000);
const VALUE = new Uint8Array(100).fill(0x78);
const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const path = (k) => `/bench/k${String(k).padStart(7, '0')}`;
const mib = (b) => (b / 2 ** 20).toFixed(1);

function rss() {
  globalThis.gc?.();
  return process.memoryUsage().rss;
}

async function arenaLive() {
  const { createSystemNodes, TreeWriter } = await import('../../dist/store/arena/tree_writer.js');
  const { TreeReader } = await import('../../dist/store/arena/tree_reader.js');
  const { writeNodeStream } = await import('../../dist/store/arena/node_stream.js');
  const base = rss();
  const t0 = performance.now();
  const w = TreeWriter.create({ segments_max: 16 });
  w.begin();
  createSystemNodes(w);
  let zxid = 1;
  w.create('/bench', new Uint8Array(0), ACL, 0n, zxid, 0, 1);
  for (let k = 0; k < NODES; k++) {
    w.create(path(k), VALUE, ACL, 0n, ++zxid, 1_700_000_000_000, k + 1);
    if (k % 1000 === 999) {
      w.commit(zxid);
      w.begin();
    }
  }
  w.commit(zxid);
  const build_ms = performance.now() - t0;
  const s = w.stats();
  const r = new TreeReader(w.handle);
  r.pin();
  const t1 = performance.now();
  let bytes = 0;
  writeNodeStream(r, (c) => (bytes += c.length), { last_zxid: zxid });
  const stream_ms = performance.now() - t1;
  return { rss: rss(), base, arena_in_use: s.bytes_in_use, arena_touched: s.bytes_touched, build_ms, stream_ms, stream_bytes: bytes };
}

/** A node stream of the key space, generated lazily in 1 MiB chunks (what a snapshot holds). */
function* syntheticStream() {
  const enc = new TextEncoder();
  const CHUNK = 1 << 20;
  let chunk = new Uint8Array(CHUNK);
  let dv = new DataView(chunk.buffer);
  let at = 0;
  const flush = function* () {
    yield chunk.subarray(0, at);
    chunk = new Uint8Array(CHUNK);
    dv = new DataView(chunk.buffer);
    at = 0;
  };
  const acl = [0, 0, 0, 1, 0, 0, 0, 31, 0, 0, 0, 5, ...enc.encode('world'), 0, 0, 0, 6, ...enc.encode('anyone')];
  chunk[at++] = 1;
  dv.setUint32(at, 1);
  dv.setUint32(at + 4, acl.length);
  chunk.set(acl, at + 8);
  at += 8 + acl.length;
  const node = function* (p, children, data) {
    const pb = enc.encode(p);
    if (at + 1 + 4 + pb.length + 68 + 4 + data.length > CHUNK) yield* flush();
    chunk[at] = 2;
    dv.setUint32(at + 1, pb.length);
    chunk.set(pb, at + 5);
    const s = at + 5 + pb.length;
    chunk.fill(0, s, s + 68);
    dv.setInt32(s + 52, data.length); // dataLength
    dv.setInt32(s + 56, children); // numChildren
    dv.setUint32(s + 68, 1); // acl id
    chunk.set(data, s + 72);
    at = s + 72 + data.length;
  };
  const empty = new Uint8Array(0);
  // Key order: "/" (00), then "/"'s children (00 bench, 00 zookeeper), then /bench's, then
  // /zookeeper's.
  yield* node('/', 2, empty);
  yield* node('/bench', NODES, empty);
  yield* node('/zookeeper', 2, empty);
  for (let k = 0; k < NODES; k++) yield* node(path(k), 0, VALUE);
  yield* node('/zookeeper/config', 0, empty);
  yield* node('/zookeeper/quota', 0, empty);
  if (at + 13 > CHUNK) yield* flush();
  chunk[at] = 3;
  dv.setUint32(at + 1, NODES + 5);
  dv.setUint32(at + 5, 0);
  dv.setUint32(at + 9, NODES + 1);
  at += 13;
  yield* flush();
}

/**
 * A fresh arena loaded from a node stream. `timed`: the stream's chunks are made first (as read
 * from a snapshot file), so the time is the loader's alone, and RSS is not reported (the
 * chunks' memory); else the stream is generated lazily and RSS is the loaded replica's.
 */
async function arenaRestart(timed) {
  const { TreeWriter } = await import('../../dist/store/arena/tree_writer.js');
  const { bulkLoad } = await import('../../dist/store/arena/bulk_load.js');
  const base = rss();
  const chunks = timed ? [...syntheticStream()] : syntheticStream();
  const t0 = performance.now();
  const w = TreeWriter.create({ segments_max: 16 });
  w.begin();
  const { nodes, last_zxid } = bulkLoad(w, chunks, { fill: 0.95 });
  w.commit(last_zxid);
  const load_ms = performance.now() - t0;
  const s = w.stats();
  if (nodes !== NODES + 5 || w.view.nodeCount() !== NODES + 5) throw new Error('load lost nodes');
  return { rss: timed ? undefined : rss(), base, arena_in_use: s.bytes_in_use, arena_touched: s.bytes_touched, load_ms: timed ? load_ms : undefined };
}

async function heap() {
  const { DataTree } = await import('../../dist/tree/data_tree.js');
  const base = rss();
  const t0 = performance.now();
  const tree = new DataTree();
  let zxid = 0;
  const apply = (p, data, cversion) =>
    tree.apply({ header: { session_id: 1n, cxid: 0, zxid: ++zxid, time_ms: 1_700_000_000_000 }, op: { kind: 'create', path: p, data, acl: ACL, ephemeral_owner: 0n, parent_cversion: cversion, opcode: 1 } });
  apply('/bench', new Uint8Array(0), 1);
  for (let k = 0; k < NODES; k++) apply(path(k), VALUE.slice(), k + 1);
  const build_ms = performance.now() - t0;
  return { rss: rss(), base, build_ms };
}

const mode = process.argv[2];
const MODES = { 'arena-live': arenaLive, 'arena-restart': () => arenaRestart(false), 'arena-restart-timed': () => arenaRestart(true), heap };
if (mode in MODES) {
  const run = MODES[mode];
  process.stdout.write(JSON.stringify(await run()));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(`${NODES} znodes of ${VALUE.length} B; node ${process.version}; load avg ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const rows = [];
  for (const m of ['arena-live', 'arena-restart', 'arena-restart-timed', 'heap']) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', self, m, String(NODES)], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) {
      console.error(`${m} failed: ${r.stderr || r.signal}`);
      continue;
    }
    const x = JSON.parse(r.stdout);
    rows.push({
      scenario: m,
      'RSS MiB': x.rss === undefined ? '-' : mib(x.rss),
      'RSS - empty process MiB': x.rss === undefined ? '-' : mib(x.rss - x.base),
      'arena in use MiB': x.arena_in_use === undefined ? '-' : mib(x.arena_in_use),
      'arena B/znode': x.arena_in_use === undefined ? '-' : (x.arena_in_use / NODES).toFixed(0),
      'RSS B/znode': x.rss === undefined ? '-' : ((x.rss - x.base) / NODES).toFixed(0),
      'build/load s': x.build_ms === undefined && x.load_ms === undefined ? '-' : ((x.build_ms ?? x.load_ms) / 1000).toFixed(2),
      'snapshot stream s': x.stream_ms === undefined ? '-' : `${(x.stream_ms / 1000).toFixed(2)} (${mib(x.stream_bytes)} MiB)`,
    });
  }
  console.table(rows);
  console.log('Apache ZooKeeper 3.8, same 1M znodes (issue 12): 0.73 GB RSS after a restart, 2.38 GB live (4 GB heap).');
}
