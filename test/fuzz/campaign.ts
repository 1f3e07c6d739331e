// The fuzz set-up both runs share: a waitfree server as a child process (so a worker that dies
// takes down only that process, and its last output tells why), bystander sessions on every
// shard, the running totals, and the check made after every batch of fuzz connections.

import fc from 'fast-check';
import { launchWaitfree, launchZooKeeper, type LaunchedServer } from '../../src/check/launch.js';
import { bystanderErrors, startBystanders, SUPER_DIGEST, type Bystander } from './bystanders.js';
import { describeScript, runScript, type ConnBounds, type ConnOutcome } from './conn_driver.js';
import { connBatch, FUZZ_SESSION_TIMEOUT_MS, type ConnScript, type FuzzLimits } from './frames.js';

/** Read workers of the server under test: bystanders and fuzz connections spread over both shards. */
export const FUZZ_READ_WORKERS = 2;
/** The server's default jute.maxbuffer (0xfffff), named so the generators aim at it and past it. */
export const FUZZ_LIMITS: FuzzLimits = { jute_max_buffer_bytes: 0xfffff };
/** Three bystanders: shards 0, 1 and 0 again (two sessions sharing a shard with fuzz connections). */
export const BYSTANDERS = 3;

export interface FuzzRig {
  readonly server: LaunchedServer;
  readonly bystanders: Bystander[];
  readonly totals: Totals;
  /** Runs a batch of scripts at the same time; throws on the first stall, bystander error or server exit. */
  runBatch(scripts: readonly ConnScript[], label: string): Promise<void>;
  /** Null when all is well, else why the run fails. */
  problem(): string | null;
  stop(): Promise<void>;
}

export interface Totals {
  connections: number;
  frames_sent: number;
  bytes_sent: number;
  /** Connections the server closed (malformed input, refused session, closeSession, end of stream). */
  closed_by_server: number;
  answers: number;
}

/**
 * The server under test: waitfree, or Apache ZooKeeper 3.8 as the reference (the same fuzz run
 * against it checks the oracle itself: whatever ZooKeeper does to an input must pass).
 */
export type FuzzTarget = 'waitfree' | 'zookeeper';

function launchTarget(target: FuzzTarget): Promise<LaunchedServer> {
  if (target === 'zookeeper') {
    // zoo.cfg keys ZooKeeper does not know become system properties "zookeeper.<key>";
    // its jute.maxbuffer default is the same 0xfffff.
    return launchZooKeeper({ heap_mb: 512, extra_config: [`DigestAuthenticationProvider.superDigest=${SUPER_DIGEST}`, 'extendedTypesEnabled=true'] });
  }
  return launchWaitfree({
    read_workers: FUZZ_READ_WORKERS,
    heap_mb: 512,
    extra_config: [
      `superDigest=${SUPER_DIGEST}`,
      'zookeeper.extendedTypesEnabled=true',
      'admin.enableServer=false',
      `jute.maxbuffer=${FUZZ_LIMITS.jute_max_buffer_bytes}`,
    ],
  });
}

/** How long a failing batch waits for the server process to exit (a worker crash stops it). */
const EXIT_GRACE_MS = 3_000;
/** Server output shown with a failure: enough for a worker's stack trace. */
const OUTPUT_SHOWN_CHARS = 6_000;

async function waitForExit(server: LaunchedServer, timeout_ms: number): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (server.alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** The outcome of a script that could not even connect (the server is gone or refuses). */
function unreachable(script: ConnScript, e: unknown): ConnOutcome {
  return {
    frames_sent: 0,
    bytes_sent: 0,
    frames_complete: 0,
    answers_owed: 0,
    answers: 0,
    closed_by_server: false,
    stall: `could not connect: ${e instanceof Error ? e.message : String(e)} (${script.served.length + script.odd.length} frames not sent)`,
  };
}

export async function startRig(bounds: ConnBounds, bystander_pause_ms = 0, target: FuzzTarget = 'waitfree'): Promise<FuzzRig> {
  if (bounds.reply_wait_ms >= FUZZ_SESSION_TIMEOUT_MS) {
    throw new Error(`reply_wait_ms ${bounds.reply_wait_ms} must stay below the fuzz sessions' timeout (${FUZZ_SESSION_TIMEOUT_MS} ms)`);
  }
  const server = await launchTarget(target);
  let bystanders: Bystander[] = [];
  try {
    bystanders = await startBystanders(server.port, BYSTANDERS, bystander_pause_ms);
  } catch (e) {
    await server.stop();
    throw e;
  }
  const totals: Totals = { connections: 0, frames_sent: 0, bytes_sent: 0, closed_by_server: 0, answers: 0 };

  const problem = (): string | null => {
    if (!server.alive()) return `the server process (pid ${server.pid}) exited\n--- server output (tail) ---\n${server.output()}`;
    const errors = bystanderErrors(bystanders);
    return errors.length === 0 ? null : `bystander errors:\n  ${errors.join('\n  ')}`;
  };

  const count = (o: ConnOutcome): void => {
    totals.connections++;
    totals.frames_sent += o.frames_sent;
    totals.bytes_sent += o.bytes_sent;
    totals.answers += o.answers;
    if (o.closed_by_server) totals.closed_by_server++;
  };

  return {
    server,
    bystanders,
    totals,
    problem,
    async runBatch(scripts, label) {
      const outcomes = await Promise.all(
        scripts.map((script) => runScript(server.port, script, FUZZ_LIMITS.jute_max_buffer_bytes, bounds).catch((e: unknown) => unreachable(script, e))),
      );
      outcomes.forEach(count);
      const stalled = outcomes.findIndex((o) => o.stall !== null);
      if (stalled < 0 && problem() === null) return;
      // Something is wrong. A worker that threw takes a moment to bring the process down: wait
      // for that, so the report leads with the exit and the server's last words.
      await waitForExit(server, EXIT_GRACE_MS);
      const parts = [label];
      if (!server.alive()) parts.push(`the server process (pid ${server.pid}) exited`);
      if (stalled >= 0) parts.push(`connection ${stalled} of the batch stalled: ${outcomes[stalled].stall}\n${describeScript(scripts[stalled])}`);
      const errors = bystanderErrors(bystanders);
      if (errors.length > 0) parts.push(`bystander errors:\n  ${errors.join('\n  ')}`);
      parts.push(`--- server output (tail) ---\n${server.output().slice(-OUTPUT_SHOWN_CHARS)}`);
      throw new Error(parts.join('\n'));
    },
    async stop() {
      await Promise.all(bystanders.map((b) => b.stop()));
      await server.stop();
    },
  };
}

export function bystanderOps(bs: readonly Bystander[]): number {
  return bs.reduce((sum, b) => sum + b.ops, 0);
}

export interface CampaignOptions {
  /** Batch i is drawn from seed + i, so WAITFREE_FUZZ_SEED=<seed + i> replays batch i first. */
  readonly seed: number;
  /** Well-formed frames per connection, at most (then 1-3 odd ones). */
  readonly frames_max: number;
  /** Connections per batch, at most (run at the same time). */
  readonly parallel: number;
  /** Stop once this many frames were sent... */
  readonly frames_target: number;
  /** ...or once this much time has passed (checked between batches: a batch always completes). */
  readonly time_limit_ms: number;
  readonly on_progress?: (elapsed_ms: number) => void;
  readonly progress_every_ms?: number;
}

export interface CampaignResult {
  readonly batches: number;
  readonly stopped_by: 'frames' | 'time';
  readonly elapsed_ms: number;
}

/**
 * Runs batches of fuzz connections until the frame target or the time limit; throws on the first
 * stall, bystander error or server exit, naming the seed that replays the failing batch.
 */
export async function runCampaign(rig: FuzzRig, o: CampaignOptions): Promise<CampaignResult> {
  const batch = connBatch(FUZZ_LIMITS, o.frames_max, o.parallel);
  const started_ms = Date.now();
  let last_progress_ms = started_ms;
  const frames_at_start = rig.totals.frames_sent;
  let batches = 0;
  while (rig.totals.frames_sent - frames_at_start < o.frames_target) {
    if (Date.now() - started_ms >= o.time_limit_ms) return { batches, stopped_by: 'time', elapsed_ms: Date.now() - started_ms };
    const seed = o.seed + batches;
    const [scripts] = fc.sample(batch, { seed, numRuns: 1 });
    // A worker that throws brings the process down a moment later: the input may be in the batch before.
    await rig.runBatch(scripts, `batch ${batches} (replay: WAITFREE_FUZZ_SEED=${seed}; a crash found here may come from the batch before, ${seed - 1})`);
    batches++;
    if (o.on_progress !== undefined && Date.now() - last_progress_ms >= (o.progress_every_ms ?? 30_000)) {
      last_progress_ms = Date.now();
      o.on_progress(last_progress_ms - started_ms);
    }
  }
  return { batches, stopped_by: 'frames', elapsed_ms: Date.now() - started_ms };
}

/** WAITFREE_FUZZ_SEED, or a fresh seed (printed by the callers, so any run can be replayed). */
export function seedFromEnv(): number {
  const raw = process.env['WAITFREE_FUZZ_SEED'];
  if (raw === undefined || raw === '') return Date.now() % 0x7fffffff;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`WAITFREE_FUZZ_SEED=${raw}: expected a non-negative integer`);
  return v;
}
