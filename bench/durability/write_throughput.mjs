#!/usr/bin/env node
// Durable write throughput: writes/s of a waitfree server with `waitfree.fsync=always` (group
// commit) against the machine's raw fdatasync rate measured in the same run on the same file
// system, and the same load with `fsync=none` (the cost of durability).
//
//   npm run build && node bench/durability/write_throughput.mjs [--dir DIR] [--seconds S]
//       [--conns C] [--window W] [--bytes B] [--json]
//
// Load: C connections, each keeping W creates in flight (pipelined, as ZooKeeper clients do),
// values of B bytes, for S seconds after a 1 s warm-up. The server is a child process
// (`node bin/waitfree.js server`), started once per fsync mode on a fresh data dir under DIR.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { probeFdatasync } from './fdatasync_probe.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
if (!existsSync(join(ROOT, 'dist/protocol/messages.js'))) {
  console.error('run `npm run build` first');
  process.exit(1);
}
const { serverEnv } = await import(join(ROOT, 'dist/server/huge_pages.js'));
const { JuteWriter } = await import(join(ROOT, 'dist/protocol/jute.js'));
const { encodeConnectRequest } = await import(join(ROOT, 'dist/protocol/connect.js'));
const { encodeRequest } = await import(join(ROOT, 'dist/protocol/messages.js'));

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    seconds: { type: 'string' },
    conns: { type: 'string' },
    window: { type: 'string' },
    bytes: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const DIR = values.dir ?? tmpdir();
const SECONDS = Number(values.seconds ?? 5);
const CONNS = Number(values.conns ?? 16);
const WINDOW = Number(values.window ?? 32);
const BYTES = Number(values.bytes ?? 1024);
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer(fsync) {
  const root = mkdtempSync(join(DIR, 'waitfree-wbench-'));
  const cfg = join(root, 'zoo.cfg');
  writeFileSync(cfg, `waitfree.fsync=${fsync}\nadmin.enableServer=false\n`);
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bin/waitfree.js'), 'server', '--port', String(port), '--data-dir', join(root, 'data'), '-c', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: serverEnv(),
  });
  let out = '';
  await new Promise((resolve, reject) => {
    const on = (b) => {
      out += b;
      if (out.includes('waitfree listening on')) resolve();
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('exit', () => reject(new Error(`server exited:\n${out}`)));
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** One pipelined connection: keeps WINDOW creates in flight; counts acknowledged ones. */
function connection(port, id, counters) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.setNoDelay(true);
    const value = new Uint8Array(BYTES).fill(0x61);
    let buf = Buffer.alloc(0);
    let connected = false;
    let xid = 1;
    let stopped = false;
    const send = () => {
      const w = new JuteWriter(BYTES + 128);
      encodeRequest(xid, 1, { path: `/b/c${id}-${xid}`, data: value, acl: OPEN, flags: 0 }, w);
      xid++;
      sock.write(w.toBytes());
    };
    sock.on('connect', () => {
      const w = new JuteWriter();
      encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }, w);
      sock.write(w.toBytes());
    });
    sock.on('data', (b) => {
      buf = buf.length === 0 ? b : Buffer.concat([buf, b]);
      let at = 0;
      while (buf.length - at >= 4) {
        const len = buf.readInt32BE(at);
        if (buf.length - at < 4 + len) break;
        if (!connected) {
          connected = true;
          for (let i = 0; i < WINDOW; i++) send();
        } else {
          const err = buf.readInt32BE(at + 4 + 12);
          if (err === 0 && counters.measuring) counters.acked++;
          if (err !== 0 && err !== -110) counters.errors++;
          if (!stopped) send();
        }
        at += 4 + len;
      }
      buf = buf.subarray(at);
    });
    sock.on('error', reject);
    counters.stoppers.push(() => {
      stopped = true;
      sock.destroy();
      resolve();
    });
  });
}

async function measure(fsync) {
  const server = await startServer(fsync);
  try {
    // The parent every connection creates under.
    const counters = { acked: 0, errors: 0, measuring: false, stoppers: [] };
    await new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port: server.port }, () => {
        const w = new JuteWriter();
        encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }, w);
        encodeRequest(1, 1, { path: '/b', data: null, acl: OPEN, flags: 0 }, w);
        sock.write(w.toBytes());
      });
      let got = Buffer.alloc(0);
      sock.on('data', (b) => {
        got = Buffer.concat([got, b]);
        const first = got.length >= 4 ? 4 + got.readInt32BE(0) : Infinity;
        if (got.length >= first + 4 && got.length >= first + 4 + got.readInt32BE(first)) {
          sock.destroy();
          resolve();
        }
      });
      sock.on('error', reject);
    });
    const conns = Array.from({ length: CONNS }, (_, i) => connection(server.port, i, counters));
    await new Promise((r) => setTimeout(r, 1000));
    counters.measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    counters.measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    for (const stop of counters.stoppers) stop();
    await Promise.all(conns);
    return { fsync, writes_per_second: Math.round(counters.acked / seconds), errors: counters.errors };
  } finally {
    await server.stop();
  }
}

const probe = probeFdatasync({ dir: DIR, count: 2000 });
const always = await measure('always');
const none = await measure('none');
const result = { dir: DIR, conns: CONNS, window: WINDOW, value_bytes: BYTES, seconds: SECONDS, fdatasync_per_second: probe.per_second, always, none };
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`raw fdatasync (one 4 KiB write + fdatasync at a time): ${probe.per_second}/s (p50 ${probe.p50_ms} ms)`);
  console.log(`waitfree fsync=always: ${always.writes_per_second} creates/s (${(always.writes_per_second / probe.per_second).toFixed(1)}x the raw fdatasync rate)`);
  console.log(`waitfree fsync=none:   ${none.writes_per_second} creates/s`);
  console.log(`(${CONNS} connections x ${WINDOW} in flight, ${BYTES} B values, ${SECONDS} s; errors ${always.errors}/${none.errors})`);
}
