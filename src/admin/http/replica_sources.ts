// Where the admin answers read from in one replica: the topology's rings, doorbells and metric
// blocks (SABs, read without the workers' help) and the workers' stats (gathered over
// postMessage by the caller). Wires admin_router.ts to a running server.

import { readCommitMetrics } from '../../metrics/commit_metrics.js';
import { arenaStatsOf } from '../../store/arena/index.js';
import { scrapeMetrics, type DoorbellSource, type RingSource } from '../../metrics/scrape.js';
import type { Topology } from '../../workers/topology.js';
import { systemProperties, type ServerStats, type StatsPart } from '../four_letter.js';
import type { AdminDeps } from './admin_router.js';
import { monitorValues, type AdminActions } from './commands.js';

export function ringSources(t: Topology): RingSource[] {
  const each = (ring: string, sabs: readonly SharedArrayBuffer[]): RingSource[] => sabs.map((sab, index) => ({ ring, index, sab }));
  return [
    ...each('net_to_shard', t.net_to_shard),
    ...each('shard_to_net', t.shard_to_net),
    ...each('shard_to_commit', t.shard_to_commit),
    { ring: 'commit_stream', index: 0, sab: t.commit_stream },
    { ring: 'net_to_commit', index: 0, sab: t.net_to_commit },
    { ring: 'commit_to_net', index: 0, sab: t.commit_to_net },
  ];
}

export function doorbellSources(t: Topology): DoorbellSource[] {
  return [
    { thread: 'net', sab: t.net_doorbell },
    { thread: 'commit', sab: t.commit_doorbell },
    ...t.shard_doorbells.map((sab, i) => ({ thread: `shard-${i}`, sab })),
  ];
}

/**
 * mntr's numeric values for /metrics, under ZooKeeper's names. Our own zk_waitfree_* lines are
 * left out: /metrics has them as labelled waitfree_* families; so are the per-namespace quota
 * lines, which /metrics labels by namespace (a namespace is no part of a metric name there).
 */
function monitorGauges(stats: ServerStats): [string, number][] {
  return monitorValues({ ...stats, quota_samples: [] }).filter((e): e is [string, number] => typeof e[1] === 'number' && !e[0].startsWith('waitfree_'));
}

/** The replica's actions (srst, crst, stmk) and the trace mask they set. */
export interface AdminControl extends AdminActions {
  readonly trace_mask: bigint;
}

export function adminDeps(
  t: Topology,
  stats: (needs?: readonly StatsPart[]) => Promise<ServerStats>,
  control: AdminControl,
  initial_configuration: string,
): AdminDeps {
  return {
    stats,
    facts: () => {
      const c = readCommitMetrics(t.metrics.commit);
      return {
        last_snapshot: { zxid: c.last_snapshot_zxid, timestamp_ms: c.last_snapshot_time_ms },
        trace_mask: control.trace_mask,
        initial_configuration,
        system_properties: systemProperties(),
      };
    },
    actions: control,
    metrics: (s) =>
      scrapeMetrics({
        blocks: t.metrics,
        rings: ringSources(t),
        doorbells: doorbellSources(t),
        monitor: monitorGauges(s),
        quota: s.quota_samples,
        tree: arenaStatsOf(t.arena.control, t.arena.config.segments_max * t.arena.config.segment_bytes),
      }),
  };
}
