// One recorded run: open the target, set the workloads up, run their workers and the nemesis
// for the given time, heal, read the final state, stop everything we started, return the
// history. Bounded: the workers stop at the deadline (each op has a request timeout), the
// nemesis injects at most faults_max faults and none in the last quiet period, and anything
// still running after the drain bound is cut off by closing its client.

import { clientSeed, mulberry32 } from './prng.js';
import { parseConnectString } from '../client/index.js';
import type { History, MetaRecord } from './checker/history.js';
import { runNemesis, type NemesisKind } from './nemesis.js';
import type { NemesisTargetPolicy } from './nemesis_target.js';
import { FaultProxy } from './proxy.js';
import { RecordedClient, Recorder } from './recorder.js';
import { LAUNCH_DEFAULTS, openTarget, type Target, type TargetSpec } from './targets.js';
import type { ConnectOptions, Workload, WorkloadContext, WorkloadName } from './workloads/common.js';
import { ephemeralWorkload } from './workloads/ephemeral.js';
import { lockWorkload } from './workloads/lock.js';
import { multiWorkload } from './workloads/multi.js';
import { queueWorkload } from './workloads/queue.js';
import { registerWorkload } from './workloads/register.js';

export const WORKLOADS: Readonly<Record<WorkloadName, Workload>> = {
  register: registerWorkload,
  queue: queueWorkload,
  lock: lockWorkload,
  ephemeral: ephemeralWorkload,
  multi: multiWorkload,
};

export interface RunOptions {
  readonly target: TargetSpec;
  readonly workloads: readonly WorkloadName[];
  readonly nemesis: readonly NemesisKind[];
  /** Which server faults hit (default random). */
  readonly nemesis_target?: NemesisTargetPolicy;
  readonly time_s: number;
  readonly seed: number;
  readonly faults_max: number;
  readonly session_timeout_ms: number;
  readonly request_timeout_ms: number;
  readonly ops_max: number;
  /** zoo.cfg lines for every server launched (`--server-config`); none if absent. */
  readonly server_config?: readonly string[];
  readonly log: (line: string) => void;
  /** Where each launched server's output goes at the end (`<name>.log`); none if absent. */
  readonly server_logs_dir?: string;
}

export interface RunResult {
  readonly history: History;
  readonly target: string;
  readonly faults: number;
}

/** No fault starts in the last this-many ms of the run: the system settles before the end. */
const QUIET_END_MS = 2_000;
const FAULT_GAP_MS: readonly [number, number] = [1_000, 3_000];
const FAULT_DURATION_MS: readonly [number, number] = [500, 2_000];
/** After the deadline: how long workers may take to finish before their clients are closed. */
const DRAIN_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;
const CONNECT_RETRY_MS = 200;
/** Final reads: how long to keep trying to reach the target. */
const FINAL_CONNECT_MS = 60_000;

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Run-wide state the workload context closes over. */
class RunState {
  stopping = false;
  private readonly wakers = new Set<() => void>();
  private resolve_stopped!: () => void;
  /** Resolves when the run stops (deadline, full history, or an error). */
  readonly stopped = new Promise<void>((r) => (this.resolve_stopped = r));
  readonly clients = new Set<RecordedClient>();
  readonly proxies = new Set<FaultProxy>();

  stop(): void {
    this.stopping = true;
    this.resolve_stopped();
    for (const w of this.wakers) w();
    this.wakers.clear();
  }

  /** Sleeps; resolves true early when the run stops. */
  pause(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        resolve(false);
      }, ms);
      this.wakers.add(wake);
    });
  }
}

async function connectOnce(rec: Recorder, st: RunState, connect_string: string, process: string, o: RunOptions, c: ConnectOptions): Promise<RecordedClient | null> {
  try {
    const client = await RecordedClient.connect(rec, c.connect_string ?? connect_string, process, {
      sessionTimeout_ms: c.session_timeout_ms ?? o.session_timeout_ms,
      requestTimeout_ms: o.request_timeout_ms,
      connectTimeout_ms: CONNECT_TIMEOUT_MS,
      reconnectDelay_ms: 100,
      expireWhenUnreachable: c.expire_when_unreachable ?? true,
    });
    st.clients.add(client);
    return client;
  } catch {
    return null;
  }
}

function makeContext(rec: Recorder, st: RunState, target: Target, connect_string: string, o: RunOptions, root: string): WorkloadContext {
  const first = parseConnectString(target.connect_string).hosts[0]!;
  return {
    rec,
    root,
    rng: (stream) => mulberry32(clientSeed(o.seed, hashString(stream))),
    async connect(process, c = {}) {
      while (!st.stopping) {
        const client = await connectOnce(rec, st, connect_string, process, o, c);
        if (client !== null) return client;
        await st.pause(CONNECT_RETRY_MS);
      }
      return null;
    },
    stopping: () => st.stopping || rec.full(),
    pause: async (ms) => void (await st.pause(ms)),
    session_timeout_ms: o.session_timeout_ms,
    async proxy() {
      const p = await FaultProxy.start(first.host, first.port).catch(() => null);
      if (p !== null) st.proxies.add(p);
      return p;
    },
  };
}

/** A client that must get through (setup, final reads), bounded by time. */
async function mustConnect(rec: Recorder, st: RunState, connect_string: string, process: string, o: RunOptions, bound_ms: number): Promise<RecordedClient> {
  const deadline = performance.now() + bound_ms;
  while (performance.now() < deadline) {
    const c = await connectOnce(rec, st, connect_string, process, o, {});
    if (c !== null) return c;
    await sleep(CONNECT_RETRY_MS);
  }
  throw new Error(`could not open a session on ${connect_string} within ${bound_ms} ms`);
}

/** Waits for the workers; past the drain bound, closes every client so pending calls fail. */
async function drain(workers: Promise<unknown>, st: RunState, log: (l: string) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([workers.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), DRAIN_MS)))]);
  clearTimeout(timer);
  if (!late) return;
  log(`workers still busy ${DRAIN_MS} ms after the deadline: closing their sessions`);
  await Promise.all([...st.clients].map((c) => c.close()));
  await workers;
}

/** Restarts any node a fault left dead (a restart that failed during the run). */
async function reviveAll(target: Target, log: (l: string) => void): Promise<void> {
  for (const n of target.nodes) {
    n.resume();
    if (!n.alive()) log(`${n.name} was down at the end: restarting it (${(await target.restart(n)) ? 'ready' : 'NOT ready'})`);
  }
}

/** Where clients connect: through one partitioning proxy per server when partitions are wanted. */
async function clientLinks(target: Target, o: RunOptions, st: RunState): Promise<{ connect_string: string; proxies: FaultProxy[] }> {
  if (!o.nemesis.includes('partition')) return { connect_string: target.connect_string, proxies: [] };
  const proxies = await Promise.all(target.nodes.map((n) => FaultProxy.start('127.0.0.1', n.port)));
  for (const p of proxies) st.proxies.add(p);
  return { connect_string: proxies.length > 0 ? proxies.map((p) => p.connect_string).join(',') : target.connect_string, proxies };
}

/** Workers and nemesis for time_s (or until the history is full); returns the faults injected. */
async function loadPhase(ctx: WorkloadContext, workloads: readonly Workload[], target: Target, proxies: readonly FaultProxy[], o: RunOptions, st: RunState): Promise<number> {
  const rec = ctx.rec;
  const end_ms = rec.now() + o.time_s * 1000;
  const timer = setTimeout(() => st.stop(), o.time_s * 1000);
  const full_poll = setInterval(() => {
    if (rec.full()) st.stop();
  }, 250);
  try {
    const workers = Promise.all(workloads.flatMap((w) => Array.from({ length: w.workers }, (_, i) => w.run(ctx, i).catch((e: unknown) => o.log(`${w.name}-${i}: ${String(e)}`)))));
    const rng = mulberry32(clientSeed(o.seed, hashString('nemesis')));
    const opts = { kinds: o.nemesis, faults_max: o.faults_max, gap_ms: FAULT_GAP_MS, duration_ms: FAULT_DURATION_MS, until_ms: end_ms - QUIET_END_MS, target_policy: o.nemesis_target ?? 'random' };
    const reconfig_rng = mulberry32(clientSeed(o.seed, hashString('reconfig nemesis')));
    const faults = await runNemesis(opts, { rec, target, proxies, rng, reconfig_rng, pause: (ms) => st.pause(ms), log: o.log });
    await st.stopped;
    await drain(workers, st, o.log);
    return faults;
  } finally {
    clearTimeout(timer);
    clearInterval(full_poll);
  }
}

async function session(target: Target, o: RunOptions, rec: Recorder, st: RunState): Promise<number> {
  const links = await clientLinks(target, o, st);
  const root = `/waitfree-check/${Date.now().toString(36)}-${o.seed}`;
  const ctx = makeContext(rec, st, target, links.connect_string, o, root);
  const workloads = o.workloads.map((w) => WORKLOADS[w]);
  const admin = await mustConnect(rec, st, links.connect_string, 'setup', o, FINAL_CONNECT_MS);
  for (const w of workloads) await w.setup(ctx, admin);
  const faults = await loadPhase(ctx, workloads, target, links.proxies, o, st);
  await reviveAll(target, o.log);
  const reader = await mustConnect(rec, st, target.connect_string, 'final', o, FINAL_CONNECT_MS);
  for (const w of workloads) await w.final(ctx, reader);
  await finalOnEachMember(target, workloads, ctx, rec, st, o);
  if (o.target.kind === 'connect') await cleanup(admin, root, o.log);
  return faults;
}

/**
 * The final reads again through each member of a launched ensemble (a session on that member
 * alone, each read after a sync): every member must hold the history's final state, not only the
 * one the first final reader reached. A member that took a txn the others did not (or missed one)
 * shows as a read no linearization explains. A member that cannot be reached is logged; its
 * reads are missing, not failed.
 */
async function finalOnEachMember(target: Target, workloads: readonly Workload[], ctx: WorkloadContext, rec: Recorder, st: RunState, o: RunOptions): Promise<void> {
  if (target.nodes.length < 2) return;
  for (const node of target.nodes) {
    const process = `final@${node.name}`;
    const reader = await mustConnect(rec, st, `127.0.0.1:${node.port}`, process, o, FINAL_CONNECT_MS).catch((e: unknown) => {
      o.log(`${process}: ${String(e)}: its final reads are missing`);
      return null;
    });
    if (reader === null) continue;
    for (const w of workloads) await w.final(ctx, reader);
    await reader.close();
  }
}

/** Removes this run's subtree from servers we do not own (and the common parent once empty). */
async function cleanup(admin: RecordedClient, root: string, log: (l: string) => void): Promise<void> {
  try {
    await admin.client.deleteAll(root);
    await admin.client.delete(root.slice(0, root.lastIndexOf('/')), -1).catch(() => undefined);
  } catch (e) {
    log(`cleanup of ${root} failed: ${String(e)}`);
  }
}

export async function recordRun(o: RunOptions): Promise<RunResult> {
  const started_at = new Date().toISOString();
  const target = await openTarget(o.target, { ...LAUNCH_DEFAULTS, reconfig: o.nemesis.includes('reconfig'), server_config: o.server_config ?? [] });
  o.log(`target: ${target.description}`);
  const rec = new Recorder(o.ops_max);
  const st = new RunState();
  let faults = 0;
  try {
    faults = await session(target, o, rec, st);
  } finally {
    st.stop();
    rec.closeOpenFaults();
    await Promise.all([...st.clients].map((c) => c.close()));
    await Promise.all([...st.proxies].map((p) => p.close()));
    await target.stop(o.server_logs_dir);
  }
  const meta: MetaRecord = { type: 'meta', format: 1, target: target.description, workloads: o.workloads, nemesis: o.nemesis, seed: o.seed, started_at };
  const history: History = { meta, ops: [...rec.ops].sort((a, b) => a.id - b.id), events: rec.events, faults: rec.faults, end_ms: rec.now() };
  return { history, target: target.description, faults };
}
