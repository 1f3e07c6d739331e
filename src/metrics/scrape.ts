// One /metrics scrape: reads every thread's metric block, every ring's counters and every
// thread's doorbell, sums what is per thread, and writes the Prometheus exposition. Runs on
// the supervisor (any thread holding the SABs could run it); never on the request path.

import { QUOTA_EXCEEDED_COUNTER, QUOTA_GAUGES, type QuotaSample } from '../commit/quota_metrics.js';
import { readRingStats, type RingStats } from '../ring/stats.js';
import { Doorbell } from '../workers/doorbell.js';
import type { MetricsBlocks } from './blocks.js';
import { readCommitMetrics } from './commit_metrics.js';
import type { ArenaStats } from '../store/arena/index.js';
import { formatExposition, type Family, type Labels, type ScalarSample } from './exposition.js';
import { NET_COUNTERS, readNetMetrics } from './net_metrics.js';
import { sumShardMetrics } from './shard_metrics.js';
import { readZabMetrics, SYNC_MODES } from './zab_metrics.js';

export interface RingSource {
  /** The link's name in the topology: net_to_shard, shard_to_net, shard_to_commit, commit_stream. */
  readonly ring: string;
  /** Which one of that kind (the shard index; 0 for commit_stream). */
  readonly index: number;
  readonly sab: SharedArrayBuffer;
}

export interface DoorbellSource {
  /** net, commit, shard-0, ... */
  readonly thread: string;
  readonly sab: SharedArrayBuffer;
}

export interface ScrapeSources {
  readonly blocks: MetricsBlocks;
  readonly rings: readonly RingSource[];
  readonly doorbells: readonly DoorbellSource[];
  /**
   * ZooKeeper's monitor values (mntr's names without zk_; numeric ones), exposed as gauges
   * under ZooKeeper's own metric names so existing ZooKeeper dashboards find znode_count etc.
   */
  readonly monitor: readonly (readonly [string, number])[];
  /** Per-namespace quota gauges and counters, as ZooKeeper's Prometheus provider shows its
   *  gauge and counter sets: `<metric>{key="<namespace>"}`. */
  readonly quota: readonly QuotaSample[];
  /** The shared data tree's stats (its control block). */
  readonly tree: ArenaStats;
}

const counter = (name: string, help: string, samples: ScalarSample[]): Family => ({ name, help, type: 'counter', samples });
const gauge = (name: string, help: string, samples: ScalarSample[]): Family => ({ name, help, type: 'gauge', samples });
const one = (value: number, labels: Labels = {}): ScalarSample[] => [{ labels, value }];

function requestFamilies(blocks: MetricsBlocks): Family[] {
  const t = sumShardMetrics(blocks.shards);
  return [
    counter('waitfree_requests_total', 'Client requests answered, by opcode (pings included; the handshake is not a request).',
      t.ops.map((o) => ({ labels: { op: o.op }, value: o.requests }))),
    counter('waitfree_request_errors_total', 'Client requests answered with an error code, by opcode.',
      t.ops.map((o) => ({ labels: { op: o.op }, value: o.errors }))),
    { name: 'waitfree_request_latency_seconds', type: 'histogram',
      help: 'Time from a request reaching its session shard to its reply being queued for the socket, by opcode.',
      samples: t.ops.map((o) => ({ labels: { op: o.op }, histogram: o.latency_ms })) },
    counter('waitfree_watch_events_total', 'Watch notifications sent to clients.', one(t.watch_events)),
    counter('waitfree_read_commit_waits_total', 'Times client requests waited for a commit this replica held but had not applied yet (waitfree.readWaitForKnownCommitMs).', one(t.commit_waits)),
    counter('waitfree_read_commit_wait_timeouts_total', 'Of those waits, the ones that ended at waitfree.readWaitForKnownCommitMs, not at the commit.', one(t.commit_wait_timeouts)),
  ];
}

function netFamilies(blocks: MetricsBlocks): Family[] {
  const net = readNetMetrics(blocks.net);
  return NET_COUNTERS.map(([name, help]) => counter(`waitfree_net_${name}_total`, help, one(net[name])));
}

function commitFamilies(blocks: MetricsBlocks): Family[] {
  const c = readCommitMetrics(blocks.commit);
  return [
    { name: 'waitfree_commit_batch_txns', type: 'histogram', help: 'Txns per group-commit batch (one log write + fdatasync each).',
      samples: [{ labels: {}, histogram: c.batch_txns }] },
    counter('waitfree_commit_batch_bytes_total', 'Bytes of log records written by group commit.', one(c.batch_bytes)),
    counter('waitfree_commit_txns_total', 'Txns made durable by group commit.', one(c.txns)),
    counter('waitfree_tree_txns_applied_total', 'Committed txns applied to the shared data tree (once each, by the commit worker).', one(c.applied)),
    { name: 'waitfree_fsync_latency_seconds', type: 'histogram', help: 'Duration of one txn log write + fdatasync.',
      samples: [{ labels: {}, histogram: c.fsync_ms }] },
    { name: 'waitfree_snapshot_duration_seconds', type: 'histogram', help: 'Time to write one snapshot of the tree.',
      samples: [{ labels: {}, histogram: c.snapshot_ms }] },
    gauge('waitfree_last_snapshot_zxid', 'Zxid of the last snapshot written (-1: none yet).', one(c.last_snapshot_zxid)),
    gauge('waitfree_last_snapshot_timestamp_seconds', 'When the last snapshot was complete, Unix time (-1: none yet).',
      one(c.last_snapshot_time_ms < 0 ? -1 : c.last_snapshot_time_ms / 1000)),
  ];
}

/**
 * Zab, under ZooKeeper's ServerMetrics names and units (ms) where it has one: ZooKeeper exposes
 * summaries (quantiles), these are histograms of the same name, so _sum / _count (and rates of
 * them) read the same. trunc_count and the sync bytes are waitfree's, in the same style.
 */
function zabFamilies(blocks: MetricsBlocks): Family[] {
  const z = readZabMetrics(blocks.zab);
  const hist = (name: string, help: string, histogram: typeof z.election_ms): Family => ({ name, help, type: 'histogram', samples: [{ labels: {}, histogram }] });
  return [
    hist('election_time', 'Leader election time, ms: from entering LOOKING to a leader chosen (ZooKeeper election_time).', z.election_ms),
    hist('unavailable_time', 'Time not serving, ms: from entering LOOKING to serving again under a leader (ZooKeeper unavailable_time).', z.unavailable_ms),
    counter('looking_count', 'Times this replica entered LOOKING (ZooKeeper looking_count).', one(z.looking)),
    counter('diff_count', 'Learners this replica, as leader, synchronized by DIFF (ZooKeeper diff_count).', one(z.syncs.diff)),
    counter('snap_count', 'Learners this replica, as leader, synchronized by SNAP (ZooKeeper snap_count).', one(z.syncs.snap)),
    counter('trunc_count', 'Learners this replica, as leader, synchronized by TRUNC (then the txns after the truncation point).', one(z.syncs.trunc)),
    counter('waitfree_sync_bytes_total', 'Bytes of snapshot and txns this replica, as leader, sent in learner sync streams, by sync mode.',
      SYNC_MODES.map((mode) => ({ labels: { mode }, value: z.sync_bytes[mode] }))),
    counter('proposal_count', 'Txns this replica proposed as leader (ZooKeeper proposal_count).', one(z.proposals)),
    hist('quorum_ack_latency', 'Time from a leader\'s proposal to its commit by a quorum of durable ACKs, ms (ZooKeeper quorum_ack_latency).', z.quorum_ack_ms),
    { name: 'ack_latency', type: 'histogram',
      help: 'Time from a leader\'s proposal to one follower\'s durable ACK of it, ms, by follower sid (ZooKeeper ack_latency; key = sid).',
      samples: z.ack_ms.map((a) => ({ labels: { key: String(a.sid) }, histogram: a.latency })) },
    counter('waitfree_ack_untracked_total', 'ACK latencies not kept apart: followers beyond the metric block\'s per-sid slots.', one(z.ack_untracked)),
    counter('waitfree_quorum_links_refused_total',
      'Connections to the quorum port refused for who they are: a hello naming an unknown, removed or lower sid; with quorum TLS a certificate that does not verify, is missing or names another host, or a link of the wrong kind (the log says which).',
      one(z.links_refused)),
  ];
}

function ringFamilies(rings: readonly RingSource[]): Family[] {
  const stats: [Labels, RingStats][] = rings.map((r) => [{ ring: r.ring, index: String(r.index) }, readRingStats(r.sab)]);
  const per = (f: (s: RingStats) => number): ScalarSample[] => stats.map(([labels, s]) => ({ labels, value: f(s) }));
  const perConsumer = (f: (c: RingStats['consumers'][number]) => number): ScalarSample[] =>
    stats.flatMap(([labels, s]) => s.consumers.map((c, i) => ({ labels: { ...labels, consumer: String(i) }, value: f(c) })));
  return [
    gauge('waitfree_ring_capacity_bytes', 'Ring capacity.', per((s) => s.capacity_bytes)),
    gauge('waitfree_ring_used_bytes', 'Ring occupancy: bytes published and not yet consumed by the slowest consumer.', per((s) => s.used_bytes)),
    counter('waitfree_ring_frames_total', 'Frames published on the ring.', per((s) => s.producer.frames)),
    counter('waitfree_ring_bytes_total', 'Payload bytes published on the ring.', per((s) => s.producer.bytes)),
    counter('waitfree_ring_full_total', 'Writes refused because the ring was full (the link parks the frame: backpressure).', per((s) => s.producer.full_rejects)),
    counter('waitfree_ring_notifies_total', 'Wake-ups sent by the ring itself to a consumer asleep on it.', per((s) => s.producer.notifies)),
    counter('waitfree_ring_consumer_batches_total', 'Polls that took at least one frame (frames / batches = batch size).', perConsumer((c) => c.batches)),
    counter('waitfree_ring_consumer_waits_total', 'Times a consumer slept on the ring waiting for data.', perConsumer((c) => c.data_waits)),
  ];
}

function treeFamilies(t: ArenaStats): Family[] {
  return [
    gauge('waitfree_tree_bytes_in_use', 'Bytes of shared data tree pages in use (B+tree pages, slabs, blobs).', one(t.bytes_in_use)),
    gauge('waitfree_tree_bytes_capacity', 'The shared data tree\'s memory bound (waitfree.tree.segmentsMax x segmentBytes).', one(t.bytes_capacity)),
    gauge('waitfree_tree_bytes_touched', 'High water mark of shared data tree memory ever used (what RSS follows).', one(t.bytes_touched)),
    gauge('waitfree_tree_bytes_retired', 'Bytes replaced by commit batches and not freed yet.', one(t.bytes_retired)),
    gauge('waitfree_tree_bytes_held_back', 'Of the retired bytes, those a pinned older root keeps from being freed.', one(t.bytes_held_back)),
    gauge('waitfree_tree_pinned_age_generations', 'Published roots between the newest and the oldest a reader pins (a stuck reader grows it).', one(t.pinned_age_gens)),
    gauge('waitfree_tree_readers_pinned', 'Reader slots holding a pin.', one(t.readers_pinned)),
    gauge('waitfree_tree_generation', 'Generation of the newest published root.', one(t.published_gen)),
  ];
}

function doorbellFamilies(doorbells: readonly DoorbellSource[]): Family[] {
  return [
    counter('waitfree_thread_wakeups_total',
      'Times a thread asleep on its doorbell (shared by all of its input rings) was woken by a producer.',
      doorbells.map((d) => ({ labels: { thread: d.thread }, value: new Doorbell(d.sab).wakeups() }))),
  ];
}

function monitorFamilies(monitor: ScrapeSources['monitor']): Family[] {
  return monitor.map(([name, value]) => gauge(name, `ZooKeeper's ${name} (as in mntr and /commands/monitor).`, one(value)));
}

function quotaFamilies(samples: readonly QuotaSample[]): Family[] {
  const families: Family[] = [];
  for (const metric of [...QUOTA_GAUGES, QUOTA_EXCEEDED_COUNTER]) {
    const of_metric = samples.filter((q) => q.metric === metric).map((q) => ({ labels: { key: q.namespace }, value: q.value }));
    if (of_metric.length === 0) continue;
    const help = `ZooKeeper's ${metric}, by top-level namespace (key).`;
    families.push(metric === QUOTA_EXCEEDED_COUNTER ? counter(metric, help, of_metric) : gauge(metric, help, of_metric));
  }
  return families;
}

export function scrapeFamilies(src: ScrapeSources): Family[] {
  const own = [
    ...quotaFamilies(src.quota),
    ...requestFamilies(src.blocks),
    ...netFamilies(src.blocks),
    ...commitFamilies(src.blocks),
    ...treeFamilies(src.tree),
    ...zabFamilies(src.blocks),
    ...ringFamilies(src.rings),
    ...doorbellFamilies(src.doorbells),
  ];
  // A monitor value that a family here already carries (looking_count, a Zab counter) is left to
  // that family, which has its type and help: a name is listed once.
  const names = new Set(own.map((f) => f.name));
  return [...monitorFamilies(src.monitor.filter(([name]) => !names.has(name))), ...own];
}

export function scrapeMetrics(src: ScrapeSources): string {
  return formatExposition(scrapeFamilies(src));
}
