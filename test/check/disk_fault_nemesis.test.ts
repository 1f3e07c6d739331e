// The disk-fault nemesis: the fault file a server started with waitfree.log.fsyncDelayUs=-1
// follows can make every txn log sync fail with EIO (a dying disk); `waitfree check` uses it to
// fail one server's disk for a window, then restarts that server on a healed disk. Shown by what
// a user sees: the sync fails with EIO while the file says so and works again after; a check run
// against an ensemble records healed disk-fault windows and stays linearizable (the member whose
// disk failed leaves its ensemble, the others go on, and it comes back after the restart).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWaitfree, type WaitfreeRun } from '../support/run_waitfree.js';
import { parseHistory } from '../../src/check/checker/history.js';
import { parseCheckArgs } from '../../src/check/cli.js';
import { setFsyncDelay, setFsyncFailing } from '../../src/check/nemesis.js';
import { FsyncDelay } from '../../src/log/log_fs.js';

/** Longer than the server's re-read period of the fault file (1 s). */
const REREAD_WAIT_MS = 1_300;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Calls wait() (each call may start a re-read) until it settles the way `want` says. */
async function waitFor(d: FsyncDelay, want: 'fails' | 'passes', timeout_ms = 10_000): Promise<unknown> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const error = await d.wait().then(
      () => null,
      (e: unknown) => e,
    );
    if ((error !== null) === (want === 'fails')) return error;
    if (Date.now() > deadline) throw new Error(`the fault file's sync never ${want}`);
    await sleep(REREAD_WAIT_MS / 4);
  }
}

describe('disk fault (waitfree.log.fsyncDelayUs=-1, fault file "eio")', () => {
  const dir = mkdtempSync(join(tmpdir(), 'disk-fault-nemesis-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('log syncs fail with EIO while the file says "eio", loudly, and pass again once it says 0', async () => {
    const lines: string[] = [];
    const d = FsyncDelay.fromConfig(-1, dir, (l) => lines.push(l))!;
    await d.wait(); // no file: no delay, no failure
    setFsyncFailing(dir);
    const e = (await waitFor(d, 'fails')) as NodeJS.ErrnoException;
    expect(e.code).toBe('EIO');
    expect(lines.some((l) => l.includes('FAULT INJECTION: txn log syncs now fail with EIO'))).toBe(true);
    setFsyncDelay(dir, 0);
    await waitFor(d, 'passes');
    expect(lines.some((l) => l.includes('no longer fail'))).toBe(true);
  }, 30_000);

  it('`waitfree check --nemesis disk-fault` against an ensemble records healed disk-fault windows and stays valid', async () => {
    const out = join(dir, 'run');
    const r = await run(['check', '--launch', 'ensemble:3', '--workload', 'register', '--nemesis', 'disk-fault', '--time', '12', '--seed', '5', '--out', out]);
    expect(r.out, r.out + r.err).toMatch(/verdict: valid\n/);
    expect(r.code).toBe(0);
    const h = parseHistory(readFileSync(join(out, 'history.jsonl'), 'utf8'));
    expect(h.faults.length).toBeGreaterThan(0);
    expect(h.faults.every((f) => f.kind === 'disk-fault' && f.end_ms !== null && f.detail.includes('restarted'))).toBe(true);
    // Writes went on across the faults: some completed after the first fault began.
    const first = h.faults[0]!.start_ms;
    expect(h.ops.some((o) => o.outcome === 'ok' && o.invoke_ms > first && o.f !== 'read')).toBe(true);
    expect(readFileSync(join(out, 'timeline.svg'), 'utf8')).toContain('>disk-fault</text>');
    // Each victim said why it left its ensemble (its output is kept beside the history).
    for (const f of h.faults) {
      expect(readFileSync(join(out, `${f.target}.log`), 'utf8')).toMatch(/FATAL DISK ERROR: the txn log cannot be written: EIO .*This member leaves the ensemble/);
    }
  }, 150_000);

  it('--nemesis all includes disk-fault', () => {
    const p = parseCheckArgs(['--launch', 'standalone', '--nemesis', 'all']);
    expect(p !== 'help' && p.nemesis).toContain('disk-fault');
  });
});

function run(args: readonly string[]): Promise<WaitfreeRun> {
  return runWaitfree(args, 140_000);
}
