#!/usr/bin/env node
// Memory after a restart (issue 12: "1M znodes of 100 B after restart <= 0.5x Apache
// ZooKeeper's RSS; +<= 5 % from 1 to 4 read workers"): where the RSS of a freshly restarted
// server goes.
//
//   npm run build && node bench/durability/restart_memory.mjs [--znodes 1000000] [--logged 0]
//       [--value-bytes 100] [--read-workers 1,4] [--runs 1] [--settle-ms 2000] [--heap-mb 4096]
//       [--rss-at-ms 2000,10000] [--node-arg=--some-v8-flag] [--dir DIR | --data-dir DIR [--copy]] [--keep] [--json]
//
// 1. Builds a data dir the way bench/tree_scale.mjs leaves one, without a client: /ts-small
//    with 1k children and /ts-big with N children (keyPath names, --value-bytes each). The
//    first N - L of them go into a snapshot written by the shared tree's own encoder
//    (ArenaSnapshotEncoder: key order, as the server writes them, so the restart streams it
//    into the bulk loader); the last L (--logged) are create txns in the log after it. A start
//    that replays many txns takes a snapshot right away (as ZooKeeper does after loading), so
//    with --logged use --copy: every start then runs on a fresh copy of the data dir.
// 2. Per --read-workers value and run: starts `node --max-old-space-size=H bin/waitfree.js
//    server` on it (the command src/check/launch.ts runs), waits until it listens plus
//    --settle-ms (tree_scale measures 2 s after the first getData), then reads VmRSS / VmHWM and
//    RssAnon / RssFile (/proc/PID/status), /proc/PID/smaps by kind of mapping (arena segments
//    are the anonymous mappings of >= 64 MiB; V8 heap pages mostly those under 1 MiB; glibc
//    malloc arenas those of 1..64 MiB), and the size of the shared tree (the commit worker's
//    "recovered ..." line). SIGKILL by PID afterwards.
//    A thread's own heap is not visible from outside; the numbers in BENCHMARKS.md came from
//    logging process.memoryUsage() and v8.getHeapSpaceStatistics() in each worker (a temporary
//    probe): the script prints any "waitfree-mem <thread> {json}" lines the server writes.
// Every wait is bounded; the server listens on 127.0.0.1 only.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTxnLog } from '../lib/txn_log.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
if (!existsSync(join(ROOT, 'dist/recovery/recovery.js')) || !existsSync(join(ROOT, 'bench/build/mix.js'))) {
  console.error('run `npm run build` first');
  process.exit(1);
}
const { serverEnv } = await import(join(ROOT, 'dist/server/huge_pages.js'));
const load = (p) => import(join(ROOT, 'dist', p));
const { DataTree } = await load('tree/data_tree.js');
const { snapshotName } = await load('log/data_dir.js');
const { createArenaHandle, TreeWriter, TreeReader } = await load('store/arena/index.js');
const { loadArenaFromTree } = await load('store/tree_mirror.js');
const { ArenaSnapshotEncoder } = await load('snapshot/arena_snapshot_encoder.js');
const { writeEncodedSnapshotSync } = await load('snapshot/snapshot_file.js');
const { keyPath } = await import(join(ROOT, 'bench/build/mix.js')); // the benchmark harness (bench/src), built by `npm run build`

const LISTEN_TIMEOUT_MS = 600_000;
const SMALL_KEYS = 1000;
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

const { values } = parseArgs({
  options: {
    znodes: { type: 'string' },
    logged: { type: 'string' },
    'value-bytes': { type: 'string' },
    'read-workers': { type: 'string' },
    runs: { type: 'string' },
    'settle-ms': { type: 'string' },
    'heap-mb': { type: 'string' },
    'rss-at-ms': { type: 'string' },
    dir: { type: 'string' },
    'data-dir': { type: 'string' },
    keep: { type: 'boolean' },
    copy: { type: 'boolean' },
    'node-arg': { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
});
const int = (name, dflt, min, max) => {
  const v = values[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} ${v}: expected an integer in ${min}..${max}`);
  return n;
};
const ZNODES = int('znodes', 1_000_000, 1, 9_999_999);
const LOGGED = int('logged', 0, 0, ZNODES);
const VALUE_BYTES = int('value-bytes', 100, 0, 1 << 20);
const RUNS = int('runs', 1, 1, 20);
const SETTLE_MS = int('settle-ms', 2000, 0, 600_000);
/** --rss-at-ms 2000,10000: VmRSS also sampled at these times after listening (before --settle-ms). */
const LATER_MS = (values['rss-at-ms'] ?? '').split(',').filter((x) => x !== '').map((x) => {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--rss-at-ms ${x}: expected integers >= 0`);
  return n;
});
const HEAP_MB = int('heap-mb', 4096, 64, 65536);
const READ_WORKERS = (values['read-workers'] ?? '1,4').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`--read-workers ${s}: expected integers in 1..64`);
  return n;
});

/** Creates of the heap tree, as the server's prep makes them (parent cversion + 1). */
function createTxn(tree, path, parent, data, zxid) {
  return {
    header: { session_id: 0n, cxid: zxid, zxid, time_ms: 1_700_000_000_000 + zxid },
    op: { kind: 'create', path, data, acl: OPEN, ephemeral_owner: 0n, parent_cversion: tree.get(parent).cversion + 1, opcode: 1 },
  };
}

/** Writes the arena snapshot of `tree` (through a fresh arena, as the server would). */
function writeArenaSnapshot(path, tree) {
  const handle = createArenaHandle();
  const writer = new TreeWriter(handle);
  loadArenaFromTree(writer, tree);
  const reader = new TreeReader(handle);
  reader.pin();
  const encoder = new ArenaSnapshotEncoder(reader, reader.last_zxid, [], Date.now());
  const bytes = writeEncodedSnapshotSync(path, encoder);
  reader.unpin();
  return { bytes, arena_bytes: writer.stats().bytes_in_use };
}

async function buildDataDir(dir) {
  const t0 = performance.now();
  mkdirSync(dir, { recursive: true });
  const tree = new DataTree();
  const small = new Uint8Array(0);
  const value = new Uint8Array(VALUE_BYTES).fill(0x78);
  let zxid = 0;
  tree.apply(createTxn(tree, '/ts-small', '/', small, ++zxid));
  for (let k = 0; k < SMALL_KEYS; k++) tree.apply(createTxn(tree, keyPath('/ts-small', k), '/ts-small', value, ++zxid));
  tree.apply(createTxn(tree, '/ts-big', '/', small, ++zxid));
  const in_snapshot = ZNODES - LOGGED;
  for (let k = 0; k < in_snapshot; k++) tree.apply(createTxn(tree, keyPath('/ts-big', k), '/ts-big', value, ++zxid));
  const snap = writeArenaSnapshot(join(dir, snapshotName(tree.last_zxid)), tree);
  await writeTxnLog(dir, (function* logged() {
    for (let k = in_snapshot; k < ZNODES; k++) {
      const txn = createTxn(tree, keyPath('/ts-big', k), '/ts-big', value, ++zxid);
      tree.apply(txn);
      yield txn;
    }
  })());
  return { nodes: tree.node_count, zxid: tree.last_zxid, snapshot_bytes: snap.bytes, builder_arena_bytes: snap.arena_bytes, build_ms: Math.round(performance.now() - t0) };
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function kib(text, name) {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m === null ? null : Number(m[1]);
}

/** RSS facts of `pid` in MiB: status (RSS, peak, anon/file/shmem) and smaps_rollup. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const mib = (v) => (v === null ? null : Math.round((v / 1024) * 10) / 10);
  return {
    rss: mib(kib(status, 'VmRSS')),
    hwm: mib(kib(status, 'VmHWM')),
    rss_anon: mib(kib(status, 'RssAnon')),
    rss_file: mib(kib(status, 'RssFile')),
    rss_shmem: mib(kib(status, 'RssShmem')),
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    pss: mib(kib(rollup, 'Pss')),
    private_dirty: mib(kib(rollup, 'Private_Dirty')),
    anonymous: mib(kib(rollup, 'Anonymous')),
  };
}

/**
 * Resident memory of `pid` by kind of mapping (/proc/PID/smaps), in MiB: file-backed, the brk
 * heap, thread stacks, and anonymous mappings by size (64 MiB + 4 KiB: an arena segment or a
 * malloc'd buffer that large; 64 MiB reservations: glibc malloc arenas; the rest).
 */
function smapsOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const by = {};
  let kind = null;
  let size_kib = 0;
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head !== null) {
      kind = head[1];
      continue;
    }
    const size = /^Size:\s+(\d+) kB/.exec(line);
    if (size !== null) {
      size_kib = Number(size[1]);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss === null || kind === null) continue;
    let k;
    if (kind.startsWith('/')) k = 'file';
    else if (kind === '[heap]') k = 'brk heap';
    else if (kind.startsWith('[stack')) k = 'main stack';
    else if (kind !== '') k = kind;
    else if (size_kib >= 65536) k = `anon >= 64 MiB`;
    else if (size_kib >= 8192 && size_kib < 8200) k = 'anon 8 MiB (thread stacks)';
    else if (size_kib >= 1024) k = 'anon 1..64 MiB';
    else k = 'anon < 1 MiB';
    const e = (by[k] ??= { mappings: 0, rss_mib: 0 });
    e.mappings++;
    e.rss_mib += Number(rss[1]) / 1024;
  }
  for (const e of Object.values(by)) e.rss_mib = Math.round(e.rss_mib * 10) / 10;
  return by;
}

/** The newest "waitfree-mem <thread> {...}" line of every thread in `out`. */
function probes(out) {
  const last = {};
  for (const m of out.matchAll(/^waitfree-mem (\S+) (\{.*\})$/gm)) last[m[1]] = JSON.parse(m[2]);
  return last;
}

async function startOnce(data_dir, read_workers) {
  const port = await freePort();
  const cfg_path = join(data_dir, '..', `restart_memory_${read_workers}.cfg`);
  writeFileSync(
    cfg_path,
    [
      'tickTime=2000',
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0',
      'globalOutstandingLimit=2000',
      '4lw.commands.whitelist=*',
      `dataDir=${data_dir}`,
      'admin.enableServer=false',
      `waitfree.readWorkers=${read_workers}`,
      '',
    ].join('\n'),
  );
  const t0 = performance.now();
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, ...(values['node-arg'] ?? []), join(ROOT, 'bin/waitfree.js'), 'server', '--config', cfg_path], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: serverEnv(),
  });
  let out = '';
  try {
    const listening_ms = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening within ${LISTEN_TIMEOUT_MS} ms:\n${out.slice(-4000)}`)), LISTEN_TIMEOUT_MS);
      const on = (b) => {
        out += b;
        if (out.includes('waitfree listening on')) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
      child.on('exit', () => {
        clearTimeout(timer);
        reject(new Error(`server exited:\n${out.slice(-4000)}`));
      });
    });
    const early = memoryOf(child.pid);
    const rss_later_mib = {};
    let slept_ms = 0;
    for (const at_ms of [...LATER_MS].filter((ms) => ms < SETTLE_MS).sort((a, b) => a - b)) {
      await sleep(at_ms - slept_ms);
      slept_ms = at_ms;
      rss_later_mib[at_ms] = memoryOf(child.pid).rss;
    }
    await sleep(SETTLE_MS - slept_ms);
    const mem = memoryOf(child.pid);
    const smaps = smapsOf(child.pid);
    const rec = /recovered zxid (0x[0-9a-f]+) .* \((\d+) znodes, (\d+) MiB of shared tree.*\) in (\d+) ms/.exec(out);
    return {
      read_workers,
      listening_ms: Math.round(listening_ms),
      recovery_ms: rec ? Number(rec[4]) : null,
      znodes: rec ? Number(rec[2]) : null,
      tree_mib: rec ? Number(rec[3]) : null,
      rss_at_listening_mib: early.rss,
      rss_later_mib,
      ...mem,
      smaps,
      isolates: probes(out),
    };
  } finally {
    child.kill('SIGKILL'); // by PID; the next run recovers the same state
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on('exit', r)));
  }
}

const root = values['data-dir'] === undefined ? mkdtempSync(join(values.dir ?? tmpdir(), 'waitfree-restart-mem-')) : null;
const data_dir = values['data-dir'] ?? join(root, 'data');
try {
  // --data-dir DIR: reuse DIR when it exists (built by an earlier --keep run), else build it there.
  const built = values['data-dir'] !== undefined && existsSync(data_dir) ? null : await buildDataDir(data_dir);
  if (built !== null) console.error(`built ${data_dir}: ${JSON.stringify(built)}`);
  const runs = [];
  for (const rw of READ_WORKERS) {
    for (let i = 0; i < RUNS; i++) {
      // --copy: every start on a fresh copy (a start that replays many txns takes a snapshot,
      // so the next start would recover from that instead).
      const run_dir = values.copy ? `${data_dir}.run` : data_dir;
      if (values.copy) {
        rmSync(run_dir, { recursive: true, force: true });
        cpSync(data_dir, run_dir, { recursive: true });
      }
      const r = await startOnce(run_dir, rw);
      if (values.copy) rmSync(run_dir, { recursive: true, force: true });
      runs.push(r);
      if (!values.json) {
        console.log(
          `read workers ${rw}: listening ${r.listening_ms} ms (recovery ${r.recovery_ms} ms), ${r.znodes} znodes, tree ${r.tree_mib} MiB; ` +
            `RSS ${r.rss} MiB (at listening ${r.rss_at_listening_mib}, ${Object.entries(r.rss_later_mib).map(([ms, v]) => `+${ms} ms ${v}`).join(', ')}, peak ${r.hwm}; anon ${r.rss_anon}, file ${r.rss_file}, shmem ${r.rss_shmem}), ${r.threads} threads`,
        );
        console.log(`  smaps (RSS MiB): ${Object.entries(r.smaps).map(([k, e]) => `${k} ${e.rss_mib} (${e.mappings})`).join('; ')}`);
        for (const [name, p] of Object.entries(r.isolates)) console.log(`  ${name}: ${JSON.stringify(p)}`);
      }
    }
  }
  if (values.json) console.log(JSON.stringify({ znodes: ZNODES, logged: LOGGED, value_bytes: VALUE_BYTES, built, runs }));
} finally {
  if (root !== null && !values.keep) rmSync(root, { recursive: true, force: true });
  else console.error(`data dir kept: ${data_dir}`);
}
