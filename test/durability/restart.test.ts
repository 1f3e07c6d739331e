// Restarts of an in-process server on the same data dir: data, sequential counters, sessions (with
// their passwords: the secret lives in dataDir) and ephemerals come back; a damaged log in the
// middle stops the start with a clear error; a fresh data dir gets a 0600 secret file.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigFlags } from '../../src/config/load.js';
import { listDataDir } from '../../src/log/data_dir.js';
import { SEGMENT_HEADER_BYTES } from '../../src/log/segment_format.js';
import type { GetDataResponse } from '../../src/protocol/types.js';
import { WireClient } from '../support/wire_client.js';

type ServerModule = typeof import('../../src/server/server.js');
type LoadModule = typeof import('../../src/config/load.js');
const SERVER_JS = '../../dist/server/server.js';
const LOAD_JS = '../../dist/config/load.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const root = mkdtempSync(join(tmpdir(), 'waitfree-restart-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function start(data_dir: string, flags: ConfigFlags = {}) {
  const { startServer } = (await import(SERVER_JS)) as ServerModule;
  const { loadConfig } = (await import(LOAD_JS)) as LoadModule;
  const { config } = loadConfig({ flags: { client_port: 0, data_dir, tick_time_ms: 100, read_workers: 2, ...flags } });
  return startServer(config);
}

async function session(port: number, opts: { sessionId?: bigint; passwd?: Uint8Array } = {}) {
  const { client, outcome } = await WireClient.connect(port, { timeout_ms: 1500, ...opts });
  return { client, outcome };
}

describe('restart on the same data dir', () => {
  it('brings back data, sequential counters, and sessions that reattach with their password', async () => {
    const dir = join(root, 'a');
    let server = await start(dir);
    const a = await session(server.port);
    if (a.outcome.kind !== 'connected') throw new Error('no session');
    const { sessionId, passwd } = a.outcome.response;
    const c = a.client;
    expect((await c.request(1, { path: '/keep', data: utf8('v1'), acl: OPEN, flags: 0 })).err).toBe(0);
    expect((await c.request(5, { path: '/keep', data: utf8('v2'), version: 0 })).err).toBe(0);
    expect((await c.request(1, { path: '/q', data: null, acl: OPEN, flags: 0 })).err).toBe(0);
    for (let i = 0; i < 3; i++) expect((await c.request(1, { path: '/q/s-', data: null, acl: OPEN, flags: 2 })).err).toBe(0);
    expect((await c.request(1, { path: '/mine', data: utf8('eph'), acl: OPEN, flags: 1 })).err).toBe(0);
    c.destroy();
    await server.stop();
    const secret = readFileSync(join(dir, 'secret'));
    expect(statSync(join(dir, 'secret')).mode & 0o777).toBe(0o600);

    server = await start(dir);
    try {
      expect(readFileSync(join(dir, 'secret'))).toEqual(secret);
      const back = await session(server.port, { sessionId, passwd });
      expect(back.outcome).toMatchObject({ kind: 'connected', response: { sessionId } });
      const r = await back.client.request(4, { path: '/keep', watch: false });
      expect(new TextDecoder().decode((r.body as GetDataResponse).data!)).toBe('v2');
      expect((r.body as GetDataResponse).stat.version).toBe(1);
      const eph = await back.client.request(3, { path: '/mine', watch: false });
      expect((eph.body as { stat: { ephemeralOwner: bigint } }).stat.ephemeralOwner).toBe(sessionId);
      const s = await back.client.request(1, { path: '/q/s-', data: null, acl: OPEN, flags: 2 });
      expect((s.body as { path: string }).path).toBe('/q/s-0000000003');
      // A wrong password is still refused after the restart.
      const thief = await session(server.port, { sessionId, passwd: new Uint8Array(16) });
      expect(thief.outcome).toMatchObject({ kind: 'connected', response: { timeOut: 0 } });
      thief.client.destroy();
      back.client.destroy();
    } finally {
      await server.stop();
    }
  });

  it('a corrupt record in the middle of the log stops the start with the file and offset', async () => {
    const dir = join(root, 'b');
    let server = await start(dir, { log_segment_bytes: 8192 });
    const { client } = await session(server.port);
    for (let i = 0; i < 200; i++) expect((await client.request(1, { path: `/n${i}`, data: utf8('x'.repeat(50)), acl: OPEN, flags: 0 })).err).toBe(0);
    client.destroy();
    await server.stop();
    const first = listDataDir(dir).segments[0].path;
    const bytes = readFileSync(first);
    bytes[SEGMENT_HEADER_BYTES + 30] ^= 0xff;
    writeFileSync(first, bytes);
    await expect(start(dir, { log_segment_bytes: 8192 })).rejects.toThrow(
      new RegExp(`recovery failed: corrupt record in ${first.replace(/[.]/g, '\\.')} at offset ${SEGMENT_HEADER_BYTES}`),
    );
    server = await start(join(root, 'c'));
    await server.stop();
  });

  it('dataLogDir holds the log, dataDir the snapshots; a restart reads both', async () => {
    const dir = join(root, 'snaps');
    const log_dir = join(root, 'fastlog');
    let server = await start(dir, { data_log_dir: log_dir, snap_count: 40 });
    const { client } = await session(server.port);
    for (let i = 0; i < 120; i++) expect((await client.request(1, { path: `/d${i}`, data: utf8(`v${i}`), acl: OPEN, flags: 0 })).err).toBe(0);
    client.destroy();
    await server.stop();
    expect(listDataDir(dir).segments).toEqual([]);
    expect(listDataDir(log_dir).snapshots).toEqual([]);
    const both = listDataDir(dir, log_dir);
    expect(both.segments.length).toBeGreaterThan(0);
    expect(both.snapshots.length).toBeGreaterThan(0);

    server = await start(dir, { data_log_dir: log_dir, snap_count: 40 });
    try {
      const back = await session(server.port);
      const r = await back.client.request(4, { path: '/d119', watch: false });
      expect(new TextDecoder().decode((r.body as GetDataResponse).data!)).toBe('v119');
      back.client.destroy();
    } finally {
      await server.stop();
    }
  });

  it('a second server on a data dir in use is refused, naming the holder; the lock goes with a clean stop', async () => {
    const dir = join(root, 'locked');
    const log_dir = join(root, 'locked-log');
    const server = await start(dir);
    try {
      await expect(start(dir)).rejects.toThrow(/already in use by another server in this process/);
      // The log dir is locked too when it is separate.
      const other = await start(join(root, 'other'), { data_log_dir: log_dir });
      await expect(start(join(root, 'third'), { data_log_dir: log_dir })).rejects.toThrow(/locked-log is already in use/);
      await other.stop();
    } finally {
      await server.stop();
    }
    expect(existsSync(join(dir, 'lock'))).toBe(false);
    const again = await start(dir);
    await again.stop();
  });

  it('autopurge.purgeInterval=0 keeps every snapshot (ZooKeeper semantics); the default purges after each', async () => {
    const kept = join(root, 'nopurge');
    const purged = join(root, 'purge');
    for (const [dir, flags] of [
      [kept, { purge_interval_hours: 0 }],
      [purged, {}],
    ] as const) {
      const server = await start(dir, { snap_count: 20, ...flags });
      const { client } = await session(server.port);
      for (let i = 0; i < 200; i++) expect((await client.request(1, { path: `/p${i}`, data: null, acl: OPEN, flags: 0 })).err).toBe(0);
      // Snapshots are written in the background: wait for them to settle (bounded).
      for (let waited = 0; waited < 5000 && listDataDir(dir).snapshots.length < 4 && dir === kept; waited += 100) await new Promise((r) => setTimeout(r, 100));
      client.destroy();
      await server.stop();
    }
    expect(listDataDir(kept).snapshots.length).toBeGreaterThan(3);
    expect(listDataDir(purged).snapshots.length).toBeLessThanOrEqual(3);
  });

  it('autopurge runs once at start (as ZooKeeper\'s cleanup task does): surplus snapshots a killed process left go, the data stays', async () => {
    const dir = join(root, 'purge-at-start');
    // More snapshots than autopurge.snapRetainCount (3), as kills between a snapshot and its
    // purge leave them: written with purging off, then restarted with it on.
    let server = await start(dir, { snap_count: 20, purge_interval_hours: 0 });
    let { client } = await session(server.port);
    for (let i = 0; i < 200; i++) expect((await client.request(1, { path: `/s${i}`, data: utf8(`v${i}`), acl: OPEN, flags: 0 })).err).toBe(0);
    for (let waited = 0; waited < 5000 && listDataDir(dir).snapshots.length < 5; waited += 100) await new Promise((r) => setTimeout(r, 100));
    client.destroy();
    await server.stop();
    const before = listDataDir(dir).snapshots.map((s) => s.zxid);
    expect(before.length).toBeGreaterThanOrEqual(5);
    // Restarted with purging off: nothing goes.
    server = await start(dir, { snap_count: 100_000, purge_interval_hours: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(listDataDir(dir).snapshots.map((s) => s.zxid)).toEqual(before);
    await server.stop();
    // Restarted with the default (purge after every snapshot) and no snapshot due: the start purges.
    server = await start(dir, { snap_count: 100_000 });
    for (let waited = 0; waited < 5000 && listDataDir(dir).snapshots.length > 3; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(listDataDir(dir).snapshots.map((s) => s.zxid)).toEqual(before.slice(-3));
    ({ client } = await session(server.port));
    for (const i of [0, 99, 199]) {
      const r = await client.request(4, { path: `/s${i}`, watch: false });
      expect(r.err).toBe(0);
      expect(new TextDecoder().decode((r.body as GetDataResponse).data!)).toBe(`v${i}`);
    }
    client.destroy();
    await server.stop();
  });
});
