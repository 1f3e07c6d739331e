// Servers started by src/check/launch.ts (benchmarks, the check tool's readiness probe): the
// readiness probe must not leave a session behind (it used to open a 30 s session per probe and
// drop the connection, so the server held it until it expired), and a launched waitfree must not
// take the admin HTTP server's default port 8080 (two launched servers, or anything else on the
// machine, would fight over it).

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { fourLetter } from '../../src/check/four_letter.js';
import { apacheZkAvailable, handshakeOk, launchWaitfree, launchZooKeeper, type LaunchedServer } from '../../src/check/launch.js';

/** zk_global_sessions from mntr (ZooKeeper's and waitfree's). */
async function globalSessions(port: number): Promise<number> {
  const text = await fourLetter(port, 'mntr', 5_000);
  const m = /^zk_global_sessions\s+(\d+)$/m.exec(text);
  if (m === null) throw new Error(`no zk_global_sessions in mntr:\n${text}`);
  return Number(m[1]);
}

async function probesLeaveNoSession(s: LaunchedServer): Promise<void> {
  try {
    // launch() itself probed until ready; three more probes on top
    for (let i = 0; i < 3; i++) expect(await handshakeOk(s.port, 5_000)).toBe(true);
    expect(await globalSessions(s.port)).toBe(0);
  } finally {
    await s.stop();
  }
}

/** Holds 127.0.0.1:8080 for the duration (if something else already holds it, so much the better). */
async function holdPort8080<T>(body: () => Promise<T>): Promise<T> {
  const srv = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve) => {
    srv.once('error', () => resolve());
    srv.listen(8080, '127.0.0.1', () => resolve());
  });
  try {
    return await body();
  } finally {
    await new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve()));
  }
}

describe('launched servers', () => {
  it('waitfree: the readiness probe closes the sessions it opens', async () => {
    await probesLeaveNoSession(await launchWaitfree({ heap_mb: 256, fsync: 'none' }));
  }, 60_000);

  it.runIf(apacheZkAvailable())('Apache ZooKeeper: the readiness probe closes the sessions it opens', async () => {
    await probesLeaveNoSession(await launchZooKeeper({ heap_mb: 256, fsync: 'none' }));
  }, 90_000);

  it('waitfree does not try to take the admin port 8080', async () => {
    const output = await holdPort8080(async () => {
      const s = await launchWaitfree({ heap_mb: 256, fsync: 'none' });
      // the server answers (it started), then stop() waits for its exit: its output is complete
      expect(await fourLetter(s.port, 'ruok', 5_000)).toBe('imok');
      await s.stop();
      return s.output();
    });
    expect(output).not.toContain('admin server off');
    // Port 8080 as a number of its own: the server's random client port may be 28080 (CI saw it).
    expect(output).not.toMatch(/(?<![0-9])8080(?![0-9])/);
  }, 60_000);
});
