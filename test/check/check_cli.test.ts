// `waitfree check` end to end, through the real binary: a short run against a standalone waitfree
// with the kill nemesis must come out valid (and record the kills), and the same pipeline must
// find a violation planted in a recorded history (re-checked with --history).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHistory, formatHistory, type OpRecord } from '../../src/check/checker/history.js';
import { runWaitfree, type WaitfreeRun } from '../support/run_waitfree.js';
import { TLS_FIXTURES, TLS_STORE_PASSWORD } from '../support/servers.js';

const RUN_TIMEOUT_MS = 90_000;

function waitfree(args: readonly string[]): Promise<WaitfreeRun> {
  return runWaitfree(args, RUN_TIMEOUT_MS);
}

describe('waitfree check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'check-cli-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run_dir = join(dir, 'run');

  it('a short run against waitfree with the kill nemesis is valid; the history and timeline are written', async () => {
    const r = await waitfree(['check', '--launch', 'standalone', '--workload', 'register', '--nemesis', 'kill', '--time', '8', '--seed', '7', '--out', run_dir]);
    expect(r.err).toBe('');
    expect(r.out, r.out).toMatch(/verdict: valid\n/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/faults: \d+ \(kill x\d+\)/);
    const history = parseHistory(readFileSync(join(run_dir, 'history.jsonl'), 'utf8'));
    expect(history.faults.length).toBeGreaterThan(0);
    expect(history.faults.every((f) => f.kind === 'kill' && f.end_ms !== null)).toBe(true);
    expect(history.ops.length).toBeGreaterThan(50);
    // a reply's zxid and arrival order were recorded (the client hook), and no retries blurred
    // outcomes: ops cut by the kill are unknown, not failed
    expect(history.ops.filter((o) => o.outcome === 'ok').every((o) => o.zxid !== null && o.reply_seq !== null)).toBe(true);
    const svg = readFileSync(join(run_dir, 'timeline.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('>kill</text>');
    // The server's output, every restart of it, is kept beside the history.
    const log = readFileSync(join(run_dir, 'waitfree.log'), 'utf8');
    expect(log.match(/waitfree listening on 127\.0\.0\.1:/g)?.length).toBe(history.faults.length + 1);
  }, 120_000);

  it('finds a lost write planted in that recorded history (--history), and marks it in the timeline', async () => {
    const h = parseHistory(readFileSync(join(run_dir, 'history.jsonl'), 'utf8'));
    // The final synced read of r0 is made to return the initial value: every acknowledged write
    // to r0 would have been lost.
    const final = h.ops.filter((o) => o.process === 'final' && o.key.endsWith('/register/r0'))[0]!;
    const writes_to_r0 = h.ops.filter((o) => o.key === final.key && o.f === 'write' && o.outcome === 'ok');
    expect(writes_to_r0.length).toBeGreaterThan(0);
    const planted: OpRecord = { ...final, output: { exists: true, value: 'init-0', version: 0, mzxid: final.output!['mzxid']! } };
    const file = join(dir, 'planted.jsonl');
    writeFileSync(file, formatHistory({ ...h, ops: h.ops.map((o) => (o.id === final.id ? planted : o)) }));
    const r = await waitfree(['check', '--history', file, '--out', join(dir, 'planted')]);
    expect(r.out).toMatch(/verdict: invalid\n/);
    expect(r.code).toBe(1);
    expect(r.out).toContain('linearizability: register');
    expect(r.out).toContain(`op ${final.id} could not be placed`);
    expect(readFileSync(join(dir, 'planted', 'timeline.svg'), 'utf8')).toContain('stroke="#e00000"');
    // the unmodified history re-checks as valid
    const again = await waitfree(['check', '--history', join(run_dir, 'history.jsonl'), '--out', join(dir, 'again')]);
    expect(again.code).toBe(0);
  }, 60_000);

  it('refuses faults against servers it did not start, and names bad options (exit 2)', async () => {
    const cases: ReadonlyArray<readonly [readonly string[], string]> = [
      [['--connect', '127.0.0.1:1', '--nemesis', 'kill'], 'only --nemesis none'],
      [['--launch', 'standalone', '--workload', 'regster'], '--workload: unknown "regster"'],
      [['--launch', 'standalone', '--time', '0'], '--time must be an integer from 1 to 86400'],
      [['--launch', 'ensemble:3', '--server-config', 'clientPort=2181'], '--server-config:1: clientPort: set by the ensemble layout for each member'],
      [['--launch', 'standalone', '--server-config', 'sslQuorum'], '--server-config "sslQuorum": not KEY=VALUE'],
      [['--connect', '127.0.0.1:1', '--server-config', 'tickTime=100'], '--server-config: only with --launch'],
    ];
    for (const [args, message] of cases) {
      const r = await waitfree(['check', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(message);
    }
  });

  it('--server-config: an ensemble on quorum TLS under crashes and replica partitions is valid', async () => {
    const out = join(dir, 'quorum-tls');
    const tls = [
      'sslQuorum=true',
      `ssl.quorum.keyStore.location=${join(TLS_FIXTURES, 'server.p12')}`,
      `ssl.quorum.keyStore.password=${TLS_STORE_PASSWORD}`,
      `ssl.quorum.trustStore.location=${join(TLS_FIXTURES, 'ca.pem')}`,
    ].flatMap((line) => ['--server-config', line]);
    const r = await waitfree(['check', '--launch', 'ensemble:3', '--workload', 'register', '--nemesis', 'kill,partition-peers', '--time', '8', '--seed', '3', ...tls, '--out', out]);
    expect(r.out, r.out).toMatch(/verdict: valid\n/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/faults: [1-9]\d* \(/);
    // Every member ran its links over TLS (through the nemesis' TCP proxies).
    for (const name of ['r1', 'r2', 'r3']) expect(readFileSync(join(out, `${name}.log`), 'utf8')).toMatch(/quorum port \d+: takes TLS links only, dials with TLS/);
  }, 120_000);
});
