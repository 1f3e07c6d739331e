// mntr's quota gauges (ZooKeeper 3.7+'s QuotaMetricsUtils): per top-level namespace (the first
// segment of the quota'd path), the sum of its quotas' limits (a hard limit in place of the soft
// one when set) and of their usage, read from the limit and stats nodes under /zookeeper/quota.
// Walked on demand (when a client asks for mntr), on the commit worker's view of the tree.

import type { NodeView } from '../store/arena/index.js';
import { StatsTrack } from '../tree/quota.js';
import { listQuotaNodes } from './quota_tracker.js';

/** ZooKeeper's metric names, in the order mntr prints them here (as `zk_<namespace>_<name>`). */
export const QUOTA_GAUGES = [
  'quota_count_limit_per_namespace',
  'quota_bytes_limit_per_namespace',
  'quota_count_usage_per_namespace',
  'quota_bytes_usage_per_namespace',
] as const;

export type QuotaGauge = (typeof QUOTA_GAUGES)[number];

/** The counter of writes refused QUOTAEXCEEDED, per namespace (zookeeper.enforceQuota). */
export const QUOTA_EXCEEDED_COUNTER = 'quota_exceeded_error_per_namespace';

/** PathUtils.getTopNamespace: "/a/b" -> "a"; null for "/". */
export function topNamespace(path: string): string | null {
  const parts = path.split('/');
  return parts.length > 1 && parts[1] !== '' ? parts[1] : null;
}

/** Gauge -> namespace -> value; a namespace appears under a gauge when it has such a node. */
export type QuotaGauges = Map<QuotaGauge, Map<string, number>>;

function addTo(gauges: QuotaGauges, gauge: QuotaGauge, namespace: string, value: bigint): void {
  let by_namespace = gauges.get(gauge);
  if (by_namespace === undefined) gauges.set(gauge, (by_namespace = new Map()));
  by_namespace.set(namespace, (by_namespace.get(namespace) ?? 0) + Number(value));
}

/** The hard limit when set, else the soft one (QuotaMetricsUtils.getQuotaLimit). */
function limitOf(hard: bigint, soft: bigint): bigint {
  return hard > -1n ? hard : soft;
}

/** Every limit and stats node under /zookeeper/quota, summed per namespace. */
export function quotaGauges(view: NodeView): QuotaGauges {
  const gauges: QuotaGauges = new Map();
  for (const node of listQuotaNodes(view)) {
    const namespace = topNamespace(node.quota_path);
    if (namespace === null || !view.findPath(node.path)) continue;
    const data = view.data();
    if (data === null) continue;
    const track = StatsTrack.parse(data);
    if (node.kind === 'limit') {
      addTo(gauges, 'quota_count_limit_per_namespace', namespace, limitOf(track.count_hard_limit, track.count));
      addTo(gauges, 'quota_bytes_limit_per_namespace', namespace, limitOf(track.byte_hard_limit, track.bytes));
    } else {
      addTo(gauges, 'quota_count_usage_per_namespace', namespace, track.count);
      addTo(gauges, 'quota_bytes_usage_per_namespace', namespace, track.bytes);
    }
  }
  return gauges;
}

/** One value of a per-namespace metric: mntr prints `zk_<namespace>_<metric>`, /metrics
 *  `<metric>{key="<namespace>"}` (as ZooKeeper's Prometheus provider labels its sets). */
export interface QuotaSample {
  readonly metric: QuotaGauge | typeof QUOTA_EXCEEDED_COUNTER;
  readonly namespace: string;
  readonly value: number;
}

/** The gauges and the exceeded counter as samples, by metric then namespace. */
export function quotaSamples(gauges: QuotaGauges, exceeded: ReadonlyMap<string, number>): QuotaSample[] {
  const out: QuotaSample[] = [];
  for (const metric of QUOTA_GAUGES) {
    const by_namespace = gauges.get(metric);
    if (by_namespace === undefined) continue;
    for (const namespace of [...by_namespace.keys()].sort()) out.push({ metric, namespace, value: by_namespace.get(namespace)! });
  }
  for (const namespace of [...exceeded.keys()].sort()) out.push({ metric: QUOTA_EXCEEDED_COUNTER, namespace, value: exceeded.get(namespace)! });
  return out;
}
