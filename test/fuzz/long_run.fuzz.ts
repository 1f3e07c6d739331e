// The long protocol fuzz run (issue 10): the CI test's generators and checks
// (test/fuzz/protocol_fuzz.test.ts), run until a frame count or a time bound, with a summary.
// Not part of `npm test` (the name does not end in .test.ts); run it with
//
//   node bench/fuzz/long_run.mjs [--frames 1000000] [--minutes 60] [--seed N] [--parallel 6] [--target waitfree|zookeeper]
//
// which sets the WAITFREE_FUZZ_* variables below and runs this file through vitest.
//
// Each batch is 1..parallel connection scripts drawn by fast-check from seed + batch index, run at
// the same time (test/fuzz/campaign.ts runCampaign); the run stops at the first stall, bystander
// error or server exit, printing the seed that replays that batch and the stalled stream in hex.

import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fourLetter } from '../support/servers.js';
import { WireClient } from '../support/wire_client.js';
import { BYSTANDERS, bystanderOps, runCampaign, seedFromEnv, startRig, type CampaignResult, type FuzzRig, type FuzzTarget } from './campaign.js';
import { SUPER_PASSWORD } from './bystanders.js';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${name}=${raw}: expected a non-negative integer`);
  return v;
}

function envTarget(): FuzzTarget {
  const raw = process.env['WAITFREE_FUZZ_TARGET'] ?? 'waitfree';
  if (raw !== 'waitfree' && raw !== 'zookeeper') throw new Error(`WAITFREE_FUZZ_TARGET=${raw}: expected waitfree or zookeeper`);
  return raw;
}

const FRAMES_TARGET = envInt('WAITFREE_FUZZ_FRAMES', 1_000_000);
const TIME_LIMIT_MS = envInt('WAITFREE_FUZZ_MINUTES', 60) * 60_000;
const SEED = seedFromEnv();
const PARALLEL = Math.max(1, envInt('WAITFREE_FUZZ_PARALLEL', 6));
const TARGET = envTarget();
const SUMMARY_PATH = process.env['WAITFREE_FUZZ_SUMMARY'] ?? '';
const FRAMES_PER_CONN_MAX = 24;
const BOUNDS = { reply_wait_ms: 10_000, close_wait_ms: 10_000 };
const PROGRESS_EVERY_MS = 30_000;

describe(`protocol fuzz long run (${TARGET}, up to ${FRAMES_TARGET} frames or ${TIME_LIMIT_MS / 60_000} min, seed ${SEED})`, () => {
  let rig: FuzzRig;

  beforeAll(async () => {
    rig = await startRig(BOUNDS, 0, TARGET);
  }, 120_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('the server stays up, bystanders see no error, every connection is answered or closed', async () => {
    let result: CampaignResult | null = null;
    let failure: unknown = null;
    const progress = (elapsed_ms: number): void => {
      const t = rig.totals;
      const s = elapsed_ms / 1000;
      console.log(`[${s.toFixed(0)} s] ${t.frames_sent} frames (${(t.frames_sent / s).toFixed(0)}/s), ${t.connections} connections, bystander requests ${bystanderOps(rig.bystanders)}`);
    };
    const started_ms = Date.now();
    try {
      result = await runCampaign(rig, {
        seed: SEED,
        frames_max: FRAMES_PER_CONN_MAX,
        parallel: PARALLEL,
        frames_target: FRAMES_TARGET,
        time_limit_ms: TIME_LIMIT_MS,
        on_progress: progress,
        progress_every_ms: PROGRESS_EVERY_MS,
      });
    } catch (e) {
      failure = e;
    }
    const stopped_by = result?.stopped_by ?? 'failure';
    const elapsed_s = (Date.now() - started_ms) / 1000;
    const problem = rig.problem();
    // The end-of-run checks: a new session works and the server answers ruok.
    const ruok = await fourLetter(rig.server.port, 'ruok').catch((e: unknown) => `ruok failed: ${String(e)}`);
    const fresh = await freshSessionWorks(rig.server.port);
    // The server's own count of frames it cut and served (the fuzz sends frames past a close too).
    const mntr = await fourLetter(rig.server.port, 'mntr').catch(() => '');
    const packets_received = mntrValue(mntr, 'zk_packets_received');
    const t = rig.totals;
    const summary = {
      target: TARGET,
      seed: SEED,
      frames_target: FRAMES_TARGET,
      time_limit_min: TIME_LIMIT_MS / 60_000,
      stopped_by,
      batches: result?.batches ?? null,
      elapsed_s: Math.round(elapsed_s),
      frames_sent: t.frames_sent,
      bytes_sent: t.bytes_sent,
      connections: t.connections,
      closed_by_server: t.closed_by_server,
      answers: t.answers,
      server_packets_received: packets_received,
      bystanders: BYSTANDERS,
      bystander_requests: bystanderOps(rig.bystanders),
      bystander_errors: rig.bystanders.reduce((n, b) => n + b.errors.length, 0),
      server_pid: rig.server.pid,
      // One process for the whole run: a worker that dies stops it, and the run then fails (it is never restarted).
      server_restarts: 0,
      server_alive_at_end: rig.server.alive(),
      ruok_at_end: ruok,
      fresh_session_at_end: fresh,
    };
    console.log(
      [
        `protocol fuzz long run: ${TARGET} (pid ${summary.server_pid}), seed ${SEED}, ${PARALLEL} connections at a time`,
        `  stopped by: ${summary.stopped_by} after ${summary.elapsed_s} s`,
        `  frames sent: ${t.frames_sent} (${t.bytes_sent} bytes) over ${t.connections} connections; ${t.closed_by_server} closed by the server; ${t.answers} answers; the server counted ${packets_received ?? 'n/a'} packets received`,
        `  bystanders: ${BYSTANDERS} sessions, ${summary.bystander_requests} requests answered as expected, errors: ${summary.bystander_errors}`,
        `  server restarts: 0; alive at the end: ${summary.server_alive_at_end}; ruok: ${ruok}; new session: ${fresh}`,
      ].join('\n'),
    );
    if (SUMMARY_PATH !== '') writeFileSync(SUMMARY_PATH, JSON.stringify(summary, null, 2) + '\n');
    if (failure !== null) throw failure;
    expect(problem).toBeNull();
    expect(ruok).toBe('imok');
    expect(fresh).toBe('ok');
  }, TIME_LIMIT_MS + 5 * 60_000);
});

/** A new session can authenticate and read (as the super user: the fuzz may have set any ACL on /). */
async function freshSessionWorks(port: number): Promise<string> {
  try {
    const { client, outcome } = await WireClient.connect(port, { timeout_ms: 30_000 });
    try {
      if (outcome.kind !== 'connected') return 'refused';
      const auth = await client.requestSpecial(-4, 100, { type: 0, scheme: 'digest', auth: new TextEncoder().encode(`super:${SUPER_PASSWORD}`) });
      if (auth.err !== 0) return `super auth answered ${auth.err}`;
      const r = await client.request(3, { path: '/', watch: false });
      return r.err === 0 ? 'ok' : `exists / answered ${r.err}`;
    } finally {
      client.destroy();
    }
  } catch (e) {
    return `failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function mntrValue(mntr: string, key: string): number | null {
  const m = mntr.match(new RegExp(`^${key}\\t(\\d+)$`, 'm'));
  return m === null ? null : Number(m[1]);
}
