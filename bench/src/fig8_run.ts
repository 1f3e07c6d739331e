// Figure 8 against one ensemble: the saturation load with reconnecting clients, throughput in
// fixed buckets, and the failure script run alongside: a follower SIGKILLed and restarted, then
// the leader. Each event is stamped on the buckets' clock (epoch ms since "go").
//
// Bounds: every restart waits at most RESTART_TIMEOUT_MS for the member to serve; the script
// finishes (restarts included) before the point is reported.

import { EVENT_LABELS, failureScript, type EventSpec, type TimelineEvent } from './failure_timeline.js';
import type { BenchMember, LaunchedEnsemble } from './ensemble_launch.js';
import type { LoadResult } from './load_result.js';
import { runPoint, type PointSettings } from './point.js';
import type { Progress } from './progress.js';
import type { Target } from './targets.js';
import type { PointSpec } from './workloads.js';

const RESTART_TIMEOUT_MS = 60_000;
const LEADER_TIMEOUT_MS = 10_000;

function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Runs the script; resolves with what happened once every restarted member serves again. */
async function runScript(e: LaunchedEnsemble, script: readonly EventSpec[], t0_epoch_ms: number, progress: Progress): Promise<TimelineEvent[]> {
  const events: TimelineEvent[] = [];
  const restarts: Promise<void>[] = [];
  let follower: BenchMember | null = null;
  let old_leader: BenchMember | null = null;
  const at_s = (): number => (nowEpochMs() - t0_epoch_ms) / 1000;
  const restart = (m: BenchMember, action: EventSpec['action']): void => {
    const started_s = at_s();
    restarts.push(
      m.restart(RESTART_TIMEOUT_MS).then(() => {
        events.push({ action, at_s: started_s, sid: m.sid, serving_at_s: at_s() });
      }),
    );
  };
  for (const step of script) {
    await sleep(t0_epoch_ms + step.at_ms - nowEpochMs());
    if (step.action === 'kill_follower' || step.action === 'kill_leader') {
      const leader = await e.leader(LEADER_TIMEOUT_MS);
      const victim = step.action === 'kill_leader' ? leader : e.members.find((m) => m !== leader && m.alive());
      if (victim === undefined) throw new Error('fig8: no live follower to kill');
      const t = at_s();
      await victim.kill();
      events.push({ action: step.action, at_s: t, sid: victim.sid, serving_at_s: null });
      if (step.action === 'kill_leader') old_leader = victim;
      else follower = victim;
    } else {
      const m = step.action === 'restart_leader' ? old_leader : follower;
      if (m === null) throw new Error(`fig8: ${step.action} before its kill`);
      restart(m, step.action);
    }
    progress.note(`  ${EVENT_LABELS[step.action]} at ${at_s().toFixed(1)} s`);
  }
  await Promise.all(restarts);
  return events.sort((a, b) => a.at_s - b.at_s);
}

export interface Fig8Result {
  readonly result: LoadResult;
  readonly events: TimelineEvent[];
}

export async function runFig8(s: PointSettings, target: Target, point: PointSpec, bucket_ms: number, root: string, label: string, progress: Progress): Promise<Fig8Result> {
  const e = target.ensemble;
  if (e === null) throw new Error('fig8 needs an ensemble (--ensemble 3 or more)');
  const script = failureScript(s.measure_ms);
  let events: TimelineEvent[] = [];
  const result = await runPoint({ ...s, warmup_ms: 0 }, target, point, root, label, progress, {
    reconnect: true,
    bucket_ms,
    during: async (t0) => {
      events = await runScript(e, script, t0, progress);
    },
  });
  return { result, events };
}
