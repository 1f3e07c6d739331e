// A real full disk (a 3 MiB tmpfs mounted for the test): when the log cannot be written, the
// server stops accepting writes with a clear error (NOTREADONLY to clients, FATAL DISK ERROR in
// its log), keeps serving reads, never acknowledges a write that is not durable, and after the
// space comes back and a restart, has every acknowledged write and accepts writes again.
// Needs root and tmpfs; skipped with the reason printed where mounting is impossible.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import type { GetDataResponse } from '../../src/protocol/types.js';
import { WireClient } from '../support/wire_client.js';
import { startServerProcess, type ServerProcess } from './server_process.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const root = mkdtempSync(join(tmpdir(), 'waitfree-diskfull-'));
const mnt = join(root, 'mnt');
mkdirSync(mnt);

function tryMount(): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt], { stdio: 'pipe' });
    return null;
  } catch (e) {
    return `cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})`;
  }
}
const skip_reason = tryMount();
if (skip_reason !== null) console.log(`disk_full.test.ts skipped: ${skip_reason}`);

afterAll(() => {
  if (skip_reason === null) execFileSync('umount', [mnt]);
  rmSync(root, { recursive: true, force: true });
});

async function connect(port: number): Promise<WireClient> {
  const { client, outcome } = await WireClient.connect(port, { timeout_ms: 10_000 });
  if (outcome.kind !== 'connected') throw new Error('no session');
  return client;
}

describe('disk full (ENOSPC on a real file system)', () => {
  it.skipIf(skip_reason !== null)('stops writes with a clear error, serves reads, and recovers every acknowledged write', async () => {
    const data_dir = join(mnt, 'data');
    const cfg = join(root, 'zoo.cfg');
    const lines = ['waitfree.log.segmentBytes=256KiB', 'snapCount=1000000'];
    const value = new Uint8Array(8 * 1024).fill(0x61);
    let server: ServerProcess = await startServerProcess(data_dir, cfg, lines);
    const acked: string[] = [];
    let refused: number | null = null;
    try {
      let c = await connect(server.port);
      for (let i = 0; i < 2000 && refused === null; i++) {
        if (c.isClosed()) c = await connect(server.port); // the batch in flight failed: outcome unknown
        const r = await c.request(1, { path: `/n${i}`, data: value, acl: OPEN, flags: 0 }).catch(() => null);
        if (r === null) continue;
        if (r.err === 0) acked.push(`/n${i}`);
        else refused = r.err;
      }
      expect(refused).toBe(Err.NOTREADONLY);
      expect(acked.length).toBeGreaterThan(20);
      // Worker threads print through the main thread: the line may trail the client's answer.
      const logged = /FATAL DISK ERROR: the txn log cannot be written: ENOSPC/;
      for (let waited = 0; !logged.test(server.output()) && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      expect(server.output()).toMatch(logged);
      // Reads go on, on the old connection and on a new session (a local one: nothing to log).
      if (c.isClosed()) c = await connect(server.port);
      expect((await c.request(4, { path: acked[0], watch: false })).err).toBe(0);
      const reader = await connect(server.port);
      const last = await reader.request(4, { path: acked[acked.length - 1], watch: false });
      expect((last.body as GetDataResponse).data).toEqual(value);
      expect((await reader.request(1, { path: '/more', data: null, acl: OPEN, flags: 0 })).err).toBe(Err.NOTREADONLY);
      c.destroy();
      reader.destroy();
      await server.kill9();

      execFileSync('mount', ['-o', 'remount,size=12m', mnt]);
      server = await startServerProcess(data_dir, cfg, lines);
      const after = await connect(server.port);
      for (const path of acked) {
        const r = await after.request(4, { path, watch: false });
        expect(r.err, `acknowledged ${path} lost`).toBe(0);
        expect(Buffer.compare((r.body as GetDataResponse).data!, value), `${path} data`).toBe(0);
      }
      expect((await after.request(1, { path: '/again', data: null, acl: OPEN, flags: 0 })).err).toBe(0);
      after.destroy();
    } catch (e) {
      console.log(`server output:\n${server.output()}`);
      throw e;
    } finally {
      await server.stop();
    }
  }, 120_000);
});
