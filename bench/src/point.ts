// One run point against one target: the key space (visible on every member), the load, cleanup.

import { ownsKeys } from './client_loop.js';
import { parseConnectString } from './connect_string.js';
import { runLoad, type LoadOptions } from './driver.js';
import { awaitKeySpace, createKeySpace, removeKeySpace } from './key_space.js';
import type { LoadResult } from './load_result.js';
import type { Progress } from './progress.js';
import type { Target } from './targets.js';
import type { PointSpec } from './workloads.js';

export interface PointSettings {
  readonly loadgen_threads: number;
  readonly seed: number;
  readonly warmup_ms: number;
  readonly measure_ms: number;
}

/** Options of the load beyond the plan (Figure 8: reconnecting clients, buckets, the script). */
export type PointExtras = Pick<LoadOptions, 'reconnect' | 'bucket_ms' | 'during'>;

export async function runPoint(
  s: PointSettings,
  target: Target,
  point: PointSpec,
  root: string,
  label: string,
  progress: Progress,
  extras: PointExtras = {},
): Promise<LoadResult> {
  if (!target.alive()) throw new Error(`${target.kind} (pids ${target.pids().join(', ')}) is no longer running:\n${target.output()}`);
  const endpoints = parseConnectString(target.connect);
  const plan = { ...point.plan, root };
  const keys = ownsKeys(plan.mode) ? 0 : plan.key_count;
  await createKeySpace(endpoints[0]!, root, keys, plan.value_bytes);
  if (endpoints.length > 1) await awaitKeySpace(endpoints, root, keys);
  try {
    return await runLoad({
      endpoints, plan, clients: point.clients, threads: s.loadgen_threads, warmup_ms: s.warmup_ms, measure_ms: s.measure_ms,
      sample_ms: 250, session_timeout_ms: 30_000, seed: s.seed, server_pids: target.pids(), label, progress: progress.show, ...extras,
    });
  } finally {
    progress.done();
    await removeKeySpace(endpoints[0]!, root);
  }
}
