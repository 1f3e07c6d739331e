// Entry point of one load-generator worker thread: opens its sessions, waits for "go", runs the
// loops for warm-up + measurement, drains, closes the sessions, and reports. Every phase is
// bounded in time; a failed session fails the thread (the driver aborts the run point).

import { parentPort, workerData } from 'node:worker_threads';
import { ClientLoop, type LoopShared } from './client_loop.js';
import { ResilientClient, type LoadClient } from './resilient_client.js';
import { TimelineBuckets } from './timeline_buckets.js';
import { keyPath, OP_KINDS, type OpKind } from './mix.js';
import { clientSeed } from '../../dist/check/prng.js';
import { Recorder } from './recorder.js';
import { BenchSession } from './session.js';
import type { DriverToThread, ThreadInit, ThreadToDriver } from './thread_protocol.js';

const DRAIN_TIMEOUT_MS = 10_000;
const OPEN_LOOP_TICK_MS = 1;

const port = parentPort;
if (port === null) throw new Error('load_thread.js must run in a worker thread');
const init = workerData as ThreadInit;

function post(m: ThreadToDriver): void {
  port!.postMessage(m);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function countedKinds(init: ThreadInit): Set<OpKind> {
  if (init.plan.mode === 'create_sync') return new Set<OpKind>(['create']);
  if (init.plan.mode === 'phases') return new Set<OpKind>(['create', 'write', 'read', 'delete']);
  return new Set<OpKind>(['read', 'write']);
}

async function openSessions(init: ThreadInit): Promise<BenchSession[]> {
  const sessions: BenchSession[] = [];
  try {
    for (const endpoint of init.client_endpoints) sessions.push(await BenchSession.open(endpoint, init.session_timeout_ms));
  } catch (e) {
    for (const s of sessions) void s.close();
    throw e;
  }
  return sessions;
}

async function run(): Promise<void> {
  const recorder = new Recorder(countedKinds(init));
  const shared: LoopShared = {
    keyPath: (k) => keyPath(init.plan.root, k),
    value: new Uint8Array(init.plan.value_bytes).fill(0x78),
    recorder,
  };
  const sessions = await openSessions(init);
  let failure: Error | null = null;
  const resilient: ResilientClient[] = [];
  const loops: LoadClient[] = sessions.map((s, i) => {
    const index = init.client_indexes[i]!;
    const seed = clientSeed(init.seed, index);
    if (!init.reconnect) {
      s.on_failure = (e) => (failure ??= e);
      return new ClientLoop(s, init.plan, shared, seed, `c${index}`);
    }
    const first = init.all_endpoints.findIndex((e) => e.host === init.client_endpoints[i]!.host && e.port === init.client_endpoints[i]!.port);
    const c = new ResilientClient(s, Math.max(0, first), init.all_endpoints, init.plan, shared, seed, `c${index}`, init.session_timeout_ms);
    resilient.push(c);
    return c;
  });
  const go = await waitForGo();
  if (go === null) return closeAll(sessions);
  if (init.bucket_ms > 0) recorder.buckets = new TimelineBuckets(init.bucket_ms, go.t0_epoch_ms, init.bucket_count);
  const t0 = await runPhases(loops, recorder, go, () => failure);
  const undrained = await drain(loops, () => failure);
  await closeAll(init.reconnect ? resilient.map((c) => c.current) : sessions);
  if (failure !== null) throw failure;
  post(doneMessage(recorder, loops, undrained, t0, resilient));
}

function waitForGo(): Promise<{ warmup_ms: number; measure_ms: number; t0_epoch_ms: number } | null> {
  return new Promise((resolve) => {
    port!.once('message', (m: DriverToThread) => resolve(m.type === 'go' ? m : null));
    post({ type: 'ready', thread_index: init.thread_index });
  });
}

async function runPhases(
  loops: LoadClient[],
  recorder: Recorder,
  go: { warmup_ms: number; measure_ms: number },
  failed: () => Error | null,
): Promise<number> {
  const t0 = performance.now();
  const end = t0 + go.warmup_ms + go.measure_ms;
  recorder.setWindow(t0 + go.warmup_ms, end);
  for (const l of loops) l.start(t0);
  let seq = 0;
  const sampler = setInterval(() => post({ type: 'sample', thread_index: init.thread_index, seq: seq++, sample: recorder.takeInterval() }), init.sample_ms);
  const ticker = init.plan.mode === 'open' ? setInterval(() => tickAll(loops), OPEN_LOOP_TICK_MS) : null;
  while (performance.now() < end && failed() === null) await sleep(Math.min(50, Math.max(1, end - performance.now())));
  if (ticker !== null) clearInterval(ticker);
  clearInterval(sampler);
  for (const l of loops) l.stop();
  return t0;
}

function tickAll(loops: LoadClient[]): void {
  const now = performance.now();
  for (const l of loops) l.tick(now);
}

/** Waits until nothing is in flight; returns how many requests were still unanswered. */
async function drain(loops: LoadClient[], failed: () => Error | null): Promise<number> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  const in_flight = (): number => loops.reduce((n, l) => n + l.in_flight, 0);
  while (in_flight() > 0 && performance.now() < deadline && failed() === null) await sleep(5);
  return in_flight();
}

async function closeAll(sessions: BenchSession[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.close()));
}

function doneMessage(recorder: Recorder, loops: LoadClient[], undrained: number, t0: number, resilient: readonly ResilientClient[]): ThreadToDriver {
  const histograms = Object.fromEntries(OP_KINDS.map((k) => [k, recorder.window_hist[k].encode()])) as Record<OpKind, string>;
  return {
    type: 'done',
    thread_index: init.thread_index,
    totals: recorder.totals,
    histograms,
    error_codes: [...recorder.error_codes.entries()],
    dropped: loops.reduce((n, l) => n + l.dropped, 0),
    undrained,
    phases: loops.flatMap((l) => l.phase_log.map((p) => ({ ...p, start_ms: p.start_ms - t0, end_ms: p.end_ms - t0 }))),
    buckets: recorder.buckets?.counts() ?? null,
    reconnects: resilient.reduce((n, c) => n + c.reconnects, 0),
    lost: resilient.reduce((n, c) => n + c.lost, 0),
  };
}

run().catch((e: unknown) => {
  post({ type: 'failed', thread_index: init.thread_index, message: e instanceof Error ? e.message : String(e) });
});
