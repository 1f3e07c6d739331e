// The slow-disk nemesis: waitfree.log.fsyncDelayUs (a fault-injection knob) and the fault file
// a server started with -1 follows. Shown by what a user sees: the fsync latency in /metrics goes
// up while the nemesis' delay is set and comes back down once it is healed, and a `waitfree
// check` run with --nemesis slow-disk records healed slow-disk windows and stays valid. No timing
// bounds: only "slower than without".

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWaitfree, type WaitfreeRun } from '../support/run_waitfree.js';
import { parseHistory } from '../../src/check/checker/history.js';
import { parseCheckArgs } from '../../src/check/cli.js';
import { setFsyncDelay } from '../../src/check/nemesis.js';
import { FSYNC_DELAY_FAULT_FILE, FsyncDelay } from '../../src/log/log_fs.js';
import { connect, mkdir, sleep, startTestServer, type TestServer } from '../server/harness.js';

/** Longer than the server's re-read period of the fault file (1 s). */
const REREAD_WAIT_MS = 1_300;
/** The injected delay per log sync. */
const DELAY_US = 100_000;

/** Sum (s) and count of waitfree_fsync_latency_seconds from /metrics. */
async function fsyncLatency(s: TestServer): Promise<{ sum_s: number; count: number }> {
  const text = await (await fetch(`http://${s.admin!.address}:${s.admin!.port}/metrics`)).text();
  const num = (name: string): number => Number(new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { sum_s: num('waitfree_fsync_latency_seconds_sum'), count: num('waitfree_fsync_latency_seconds_count') };
}

/** Mean fsync latency (s) over `n` sequential creates (each its own log batch). */
async function meanFsyncOver(s: TestServer, create: (i: number) => Promise<void>, n: number): Promise<number> {
  const before = await fsyncLatency(s);
  for (let i = 0; i < n; i++) await create(i);
  const after = await fsyncLatency(s);
  expect(after.count).toBeGreaterThanOrEqual(before.count + n);
  return (after.sum_s - before.sum_s) / (after.count - before.count);
}

describe('slow disk (waitfree.log.fsyncDelayUs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slow-disk-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the nemesis slows log syncs of a server started with -1 (fsync latency in /metrics), and healing restores them', async () => {
    const data_dir = join(dir, 'data');
    const s = await startTestServer({ data_dir, log_fsync_delay_us: -1 });
    const c = await connect(s.port);
    try {
      let n = 0;
      const create = async (): Promise<void> => mkdir(c, `/n${n++}`);
      const base_s = await meanFsyncOver(s, create, 5);

      setFsyncDelay(data_dir, DELAY_US);
      await sleep(REREAD_WAIT_MS);
      await create(); // this sync starts the re-read; the next ones see the delay
      await create();
      const slow_s = await meanFsyncOver(s, create, 4);
      // Larger than without, by a margin the injection itself implies (each of these syncs slept
      // DELAY_US first; half of it leaves room for a batch that missed it): not a speed bound.
      expect(slow_s).toBeGreaterThan(base_s + DELAY_US / 2 / 1e6);

      setFsyncDelay(data_dir, 0);
      await sleep(REREAD_WAIT_MS);
      await create();
      await create();
      const healed_s = await meanFsyncOver(s, create, 4);
      expect(healed_s).toBeLessThan(slow_s);
    } finally {
      c.destroy();
      await s.stop();
    }
  }, 60_000);

  it('0 (the default) installs no delay and ignores the fault file; -1 and N > 0 say so loudly', () => {
    const lines: string[] = [];
    expect(FsyncDelay.fromConfig(0, dir, (l) => lines.push(l))).toBeNull();
    expect(lines).toEqual([]);
    const fixed = FsyncDelay.fromConfig(2_500, dir, (l) => lines.push(l))!;
    expect(fixed.current_us).toBe(2_500);
    expect(lines[0]).toContain('FAULT INJECTION ON (waitfree.log.fsyncDelayUs=2500)');
    FsyncDelay.fromConfig(-1, dir, (l) => lines.push(l));
    expect(lines[1]).toContain(join(dir, FSYNC_DELAY_FAULT_FILE));
  });

  it('a malformed fault file keeps the previous delay and is reported once', async () => {
    const fdir = mkdtempSync(join(dir, 'bad-'));
    const lines: string[] = [];
    const d = FsyncDelay.fromConfig(-1, fdir, (l) => lines.push(l))!;
    setFsyncDelay(fdir, 1_000);
    await d.wait(); // starts the first read
    await waitUntil(() => d.current_us === 1_000);
    writeFileSync(join(fdir, FSYNC_DELAY_FAULT_FILE), 'fast please\n');
    await sleep(REREAD_WAIT_MS);
    await d.wait();
    await waitUntil(() => lines.some((l) => l.includes('nor an integer')));
    expect(d.current_us).toBe(1_000);
    expect(lines.filter((l) => l.includes('nor an integer'))).toHaveLength(1);
  }, 20_000);

  it('`waitfree check --nemesis slow-disk` records healed slow-disk windows against waitfree and stays valid', async () => {
    const out = join(dir, 'run');
    const r = await run(['check', '--launch', 'standalone', '--workload', 'register', '--nemesis', 'slow-disk', '--time', '8', '--seed', '3', '--out', out]);
    expect(r.out, r.out).toMatch(/verdict: valid\n/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/faults: \d+ \(slow-disk x\d+\)/);
    const h = parseHistory(readFileSync(join(out, 'history.jsonl'), 'utf8'));
    expect(h.faults.length).toBeGreaterThan(0);
    expect(h.faults.every((f) => f.kind === 'slow-disk' && f.end_ms !== null)).toBe(true);
    expect(readFileSync(join(out, 'timeline.svg'), 'utf8')).toContain('>slow-disk</text>');
  }, 120_000);

  it('--nemesis all includes slow-disk', () => {
    const p = parseCheckArgs(['--launch', 'standalone', '--nemesis', 'all']);
    expect(p !== 'help' && p.nemesis).toContain('slow-disk');
  });
});

async function waitUntil(cond: () => boolean, timeout_ms = 10_000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

function run(args: readonly string[]): Promise<WaitfreeRun> {
  return runWaitfree(args, 90_000);
}
