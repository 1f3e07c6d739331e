#!/usr/bin/env node
// Recovery time: how long a replica takes to start on a data dir holding a snapshot of N znodes
// plus M logged txns after it (issue 3: 1M znodes + 100k txns).
//
//   npm run build && node bench/durability/recovery_time.mjs [--dir DIR] [--znodes N] [--txns M]
//       [--bytes B] [--runs R] [--read-workers W] [--json]
//
// It builds the data dir itself (tree in memory -> snapshot file; txns -> log segments through
// the real LogWriter), then measures, R times: in-process recover() on one thread, and a real
// start (`node bin/waitfree.js server`): spawn -> "listening", with the commit worker's own
// "recovered ... in N ms" line and its "shared tree loaded ... in N ms" line (the commit worker
// recovers alone and loads the shared tree; the W shards attach to it), and the server's RSS
// one second after it listens (VmRSS of the whole process: every thread's heap and the tree).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTxnLog } from '../lib/txn_log.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
if (!existsSync(join(ROOT, 'dist/recovery/recovery.js'))) {
  console.error('run `npm run build` first');
  process.exit(1);
}
const { serverEnv } = await import(join(ROOT, 'dist/server/huge_pages.js'));
const load = (p) => import(join(ROOT, 'dist', p));
const { DataTree } = await load('tree/data_tree.js');
const { writeSnapshotSync } = await load('snapshot/snapshot_file.js');
const { snapshotName, listDataDir } = await load('log/data_dir.js');
const { recover } = await load('recovery/recovery.js');

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    znodes: { type: 'string' },
    txns: { type: 'string' },
    bytes: { type: 'string' },
    runs: { type: 'string' },
    'read-workers': { type: 'string' },
    json: { type: 'boolean' },
  },
});
const ZNODES = Number(values.znodes ?? 1_000_000);
const TXNS = Number(values.txns ?? 100_000);
const BYTES = Number(values.bytes ?? 32);
const RUNS = Number(values.runs ?? 3);
const READ_WORKERS = Number(values['read-workers'] ?? 1);
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const FANOUT = 1000;

function buildTree() {
  const tree = new DataTree();
  let zxid = 0;
  const data = new Uint8Array(BYTES).fill(0x62);
  const create = (path, parent) => {
    const p = tree.get(parent);
    zxid++;
    tree.apply({
      header: { session_id: 0n, cxid: 0, zxid, time_ms: 1_700_000_000_000 + zxid },
      op: { kind: 'create', path, data, acl: OPEN, ephemeral_owner: 0n, parent_cversion: p.cversion + 1, opcode: 1 },
    });
  };
  create('/r', '/');
  for (let d = 0; d * FANOUT < ZNODES; d++) {
    create(`/r/d${d}`, '/r');
    for (let i = 0; i < FANOUT && d * FANOUT + i < ZNODES; i++) create(`/r/d${d}/n${i}`, `/r/d${d}`);
  }
  return tree;
}

/** TXNS txns after the snapshot: 80% setData of existing nodes, 20% creates. */
function* moreTxns(tree) {
  let zxid = tree.last_zxid;
  const data = new Uint8Array(BYTES).fill(0x63);
  const dirs = Math.ceil(ZNODES / FANOUT);
  for (let k = 0; k < TXNS; k++) {
    zxid++;
    const header = { session_id: 0n, cxid: k, zxid, time_ms: 1_800_000_000_000 + k };
    const d = k % dirs;
    let op;
    if (k % 5 === 4) {
      const parent = tree.get(`/r/d${d}`);
      op = { kind: 'create', path: `/r/d${d}/x${k}`, data, acl: OPEN, ephemeral_owner: 0n, parent_cversion: parent.cversion + 1, opcode: 1 };
    } else {
      const path = `/r/d${d}/n${(k * 7) % FANOUT}`;
      op = { kind: 'setData', path, data, version: tree.get(path).version + 1 };
    }
    const txn = { header, op };
    tree.apply(txn);
    yield txn;
  }
}

async function buildDataDir(dir) {
  let t = performance.now();
  const tree = buildTree();
  const build_ms = performance.now() - t;
  t = performance.now();
  const snap_bytes = writeSnapshotSync(join(dir, snapshotName(tree.last_zxid)), tree, []);
  const snap_ms = performance.now() - t;
  t = performance.now();
  await writeTxnLog(dir, moreTxns(tree));
  const log_ms = performance.now() - t;
  const log_bytes = listDataDir(dir).segments.reduce((n, s) => n + statSync(s.path).size, 0);
  return { nodes: tree.node_count, zxid: tree.last_zxid, digest: tree.digest(), build_ms, snap_ms, snap_bytes, log_ms, log_bytes };
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startOnce(data_dir) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/waitfree.js'), 'server', '--port', String(port), '--data-dir', data_dir, '--read-workers', String(READ_WORKERS)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() },
  );
  let out = '';
  const listening_ms = await new Promise((resolve, reject) => {
    const on = (b) => {
      out += b;
      if (out.includes('waitfree listening on')) resolve(performance.now() - t0);
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('exit', () => reject(new Error(`server exited:\n${out}`)));
  });
  const m = /recovered zxid (0x[0-9a-f]+) .* in (\d+) ms/.exec(out);
  const loaded = /shared tree loaded: .* in (\d+) ms/.exec(out);
  await new Promise((r) => setTimeout(r, 1000));
  const rss_mb = rssMb(child.pid);
  child.kill('SIGKILL'); // no clean stop: the next run recovers the same state
  await new Promise((r) => child.on('exit', r));
  return {
    listening_ms: Math.round(listening_ms),
    commit_recovery_ms: m ? Number(m[2]) : null,
    tree_load_ms: loaded ? Number(loaded[1]) : null,
    rss_mb,
    zxid: m ? Number.parseInt(m[1], 16) : null,
  };
}

/** VmRSS of a process in MiB (Linux), or null. */
function rssMb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

const root = mkdtempSync(join(values.dir ?? tmpdir(), 'waitfree-recovery-bench-'));
try {
  const built = await buildDataDir(root);
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const state = recover({ dir: root, track_sessions: true, warn: () => {} });
    const in_process_ms = Math.round(performance.now() - t);
    if (state.tree.digest() !== built.digest) throw new Error('recovered tree differs from the one written');
    const started = await startOnce(root);
    if (started.zxid !== built.zxid) throw new Error(`server recovered zxid ${started.zxid}, expected ${built.zxid}`);
    runs.push({ in_process_ms, ...started });
  }
  const result = { znodes: ZNODES, txns: TXNS, value_bytes: BYTES, read_workers: READ_WORKERS, ...built, runs };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(
      `data dir: snapshot of ${built.nodes} znodes (${(built.snap_bytes / 2 ** 20).toFixed(1)} MiB, written in ${Math.round(built.snap_ms)} ms) ` +
        `+ ${TXNS} txns of log (${(built.log_bytes / 2 ** 20).toFixed(1)} MiB of segments)`,
    );
    for (const r of runs) {
      const tree = r.tree_load_ms === null ? '' : `, shared tree load ${r.tree_load_ms} ms`;
      console.log(
        `recover() on one thread: ${r.in_process_ms} ms; server start to listening: ${r.listening_ms} ms ` +
          `(commit worker recovery ${r.commit_recovery_ms} ms${tree}, ${READ_WORKERS} read worker(s)); RSS ${r.rss_mb} MiB`,
      );
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
