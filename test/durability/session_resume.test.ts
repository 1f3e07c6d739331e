// Sessions resume after a crash with what was left of their timeout (issue: durable replica).
// A child-process server is SIGKILLed while one session has been silent for most of its timeout
// and another keeps pinging. After a restart (delayed on purpose: the outage is not charged to
// the clients), the silent session's ephemeral disappears after the rest of its timeout, well
// before a whole timeout, while the pinging session reattaches and keeps its ephemeral.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WireClient } from '../support/wire_client.js';
import { startServerProcess, type ServerProcess } from './server_process.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const TIMEOUT_MS = 8000;
/** How long the silent session is silent before the kill: it has ~3 s left. */
const SILENT_BEFORE_KILL_MS = 5000;
/** The replica stays down this long: longer than what the silent session has left. */
const OUTAGE_MS = 4000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const root = mkdtempSync(join(tmpdir(), 'waitfree-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function connect(port: number, opts: { sessionId?: bigint; passwd?: Uint8Array } = {}) {
  const { client, outcome } = await WireClient.connect(port, { timeout_ms: TIMEOUT_MS, ...opts });
  if (outcome.kind !== 'connected' || outcome.response.timeOut === 0) throw new Error(`no session: ${JSON.stringify(outcome, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  expect(outcome.response.timeOut).toBe(TIMEOUT_MS);
  return { client, sessionId: outcome.response.sessionId, passwd: outcome.response.passwd };
}

async function exists(c: WireClient, path: string): Promise<boolean> {
  return (await c.request(3, { path, watch: false })).err === 0;
}

describe('sessions after a crash', () => {
  it('resume with the timeout they had left, not a fresh one; the outage is not charged', async () => {
    const data_dir = join(root, 'data');
    const cfg = ['tickTime=200', `maxSessionTimeout=${TIMEOUT_MS}`];
    let server: ServerProcess | null = await startServerProcess(data_dir, join(root, 'zoo.cfg'), cfg);
    try {
      const silent = await connect(server.port);
      expect((await silent.client.request(1, { path: '/silent', data: null, acl: OPEN, flags: 1 })).err).toBe(0);
      silent.client.destroy(); // no closeSession: the session lives on, untouched, until it expires
      const active = await connect(server.port);
      active.client.startKeepalive(300);
      expect((await active.client.request(1, { path: '/active', data: null, acl: OPEN, flags: 1 })).err).toBe(0);
      await sleep(SILENT_BEFORE_KILL_MS);
      await server.kill9();
      active.client.destroy();
      server = null;
      await sleep(OUTAGE_MS);

      server = await startServerProcess(data_dir, join(root, 'zoo.cfg'), cfg);
      const up_ms = Date.now();
      expect(server.output()).toMatch(/2 sessions resume with the time they had left \(0 already due, 0 unknown/);
      // The pinging session comes back within its timeout: the outage was not charged to it.
      const back = await connect(server.port, { sessionId: active.sessionId, passwd: active.passwd });
      expect(back.sessionId).toBe(active.sessionId);
      back.client.startKeepalive(300);
      // The silent session had ~3 s left: still there now (a charged outage would have expired it)...
      expect(await exists(back.client, '/silent')).toBe(true);
      // ... and gone after about those 3 s, far sooner than a fresh 8 s timeout.
      let gone_after_ms = -1;
      while (Date.now() - up_ms < TIMEOUT_MS - 1000) {
        if (!(await exists(back.client, '/silent'))) {
          gone_after_ms = Date.now() - up_ms;
          break;
        }
        await sleep(100);
      }
      expect(gone_after_ms, 'the silent session got a fresh timeout at restart').toBeGreaterThan(0);
      expect(await exists(back.client, '/active')).toBe(true);
      back.client.destroy();
    } finally {
      await server?.kill9();
    }
  }, 60_000);
});
