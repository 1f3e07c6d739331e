// Failover time against one ensemble: the probe writes continuously from every member's side;
// each repeat SIGKILLs the current leader, waits for the first committed write sent after the
// kill, restarts the old leader, and waits until every member serves and writes flow again.
//
// Bounds: each wait has a timeout (FAILOVER_TIMEOUT_MS for the new leader's first commit,
// RESTART_TIMEOUT_MS for the restart, STEADY_TIMEOUT_MS for writes to flow); a repeat that
// times out is recorded with failover_ms null and the run goes on.

import { parseConnectString } from './connect_string.js';
import type { LaunchedEnsemble } from './ensemble_launch.js';
import { FailoverProbe } from './failover_probe.js';
import { failoverMs, lastCommitBeforeMs } from './failover_time.js';
import { createKeySpace, removeKeySpace, awaitKeySpace } from './key_space.js';
import type { Progress } from './progress.js';

export interface FailoverSample {
  readonly system: string;
  readonly timing: string;
  readonly tick_ms: number;
  readonly repeat: number;
  readonly killed_sid: number;
  readonly new_leader_sid: number | null;
  /** Leader SIGKILL to the first committed write sent after it, at the client; null = timed out. */
  readonly failover_ms: number | null;
  /** How long before the kill the last write committed (shows the probe was writing). */
  readonly last_commit_before_ms: number | null;
  /** Probe writes committed per second in the second before the kill. */
  readonly writes_per_s_before: number;
}

const FAILOVER_TIMEOUT_MS = 60_000;
const RESTART_TIMEOUT_MS = 60_000;
const STEADY_TIMEOUT_MS = 30_000;
const POLL_MS = 5;
/** Writes must have committed this recently before a kill (the probe is steady). */
const STEADY_WINDOW_MS = 200;
/** Settle time after a restarted member serves, before the next kill. */
const SETTLE_MS = 1_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(timeout_ms: number, cond: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = performance.now() + timeout_ms;
  while (performance.now() < deadline) {
    if (await cond()) return true;
    await sleep(POLL_MS);
  }
  return false;
}

export interface FailoverSettings {
  readonly system: string;
  readonly timing: string;
  readonly tick_ms: number;
  readonly repeats: number;
  readonly value_bytes: number;
  readonly root: string;
}

export async function runFailover(e: LaunchedEnsemble, s: FailoverSettings, progress: Progress): Promise<FailoverSample[]> {
  const endpoints = parseConnectString(e.connect);
  await createKeySpace(endpoints[0]!, s.root, endpoints.length, s.value_bytes);
  await awaitKeySpace(endpoints, s.root, endpoints.length);
  const probe = new FailoverProbe({
    endpoints, root: s.root, value_bytes: s.value_bytes,
    // Long enough not to abandon a write the new leader would still commit.
    request_timeout_ms: 5_000, connect_timeout_ms: 2_000, session_timeout_ms: 30_000,
  });
  const out: FailoverSample[] = [];
  probe.start();
  try {
    for (let rep = 0; rep < s.repeats; rep++) out.push(await oneRepeat(e, probe, s, rep, progress));
  } finally {
    await probe.stop();
  }
  await removeKeySpace(endpoints[0]!, s.root);
  return out;
}

async function oneRepeat(e: LaunchedEnsemble, probe: FailoverProbe, s: FailoverSettings, rep: number, progress: Progress): Promise<FailoverSample> {
  const steady = await waitFor(STEADY_TIMEOUT_MS, () => {
    const now = performance.now();
    return probe.peek().some((w) => w.err === 0 && w.done_ms >= now - STEADY_WINDOW_MS);
  });
  if (!steady) throw new Error(`failover ${s.system}: no write committed for ${STEADY_TIMEOUT_MS} ms before a kill:\n${e.output()}`);
  const leader = await e.leader(10_000);
  probe.take(); // forget what came before: only this repeat's writes are read
  await sleep(1_000);
  const kill_ms = performance.now();
  await leader.kill();
  await waitFor(FAILOVER_TIMEOUT_MS, () => failoverMs(probe.peek(), kill_ms) !== null);
  const writes = probe.take();
  const failover_ms = failoverMs(writes, kill_ms);
  const before = writes.filter((w) => w.err === 0 && w.done_ms > kill_ms - 1_000 && w.done_ms <= kill_ms).length;
  const new_leader = await e.leader(10_000).catch(() => null);
  progress.note(`  [failover ${s.system} ${s.timing} ${rep + 1}/${s.repeats}] leader ${leader.sid} killed; first commit after ${failover_ms === null ? 'none' : `${failover_ms.toFixed(0)} ms`}; new leader ${new_leader?.sid ?? '?'}`);
  await leader.restart(RESTART_TIMEOUT_MS);
  await waitFor(RESTART_TIMEOUT_MS, async () => (await Promise.all(e.members.map((m) => m.mode()))).every((m) => m !== null));
  await sleep(SETTLE_MS);
  return {
    system: s.system, timing: s.timing, tick_ms: s.tick_ms, repeat: rep, killed_sid: leader.sid, new_leader_sid: new_leader?.sid ?? null,
    failover_ms, last_commit_before_ms: lastCommitBeforeMs(writes, kill_ms), writes_per_s_before: before,
  };
}
