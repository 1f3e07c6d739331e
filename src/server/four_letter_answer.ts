// Answers a four-letter word: checks the whitelist, gathers the workers' stats into one
// ServerStats, and formats it the way Apache ZooKeeper does (admin/four_letter.ts). The admin
// HTTP commands (admin/http/) answer from the same gatherStats.
//
// Gathering asks each worker only for what the word needs (StatsDetail): the counters are O(1)
// per worker, connection rows O(connections); only wchc / wchp (and their admin commands) ask
// the shards for a watch listing, which they build in slices while serving their sessions.

import type { BufferSizes } from '../metrics/buffer_stats.js';
import { readNetMetrics } from '../metrics/net_metrics.js';
import { processFdCounts } from '../metrics/process_fds.js';
import { readZabMetrics } from '../metrics/zab_metrics.js';
import type { FsyncTimeStats } from '../metrics/sync_times.js';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  collectEnvironment,
  confEntries,
  formatFourLetter,
  fullVersion,
  isWhitelisted,
  notWhitelistedReply,
  fourLetterWord,
  type ConnectionStats,
  type LeaderStats,
  type ServerStats,
  type ZabView,
  type RingOccupancy,
  type StatsPart,
  type WatchListing,
  type WatchSummaryStats,
} from '../admin/four_letter.js';
import type { QuotaSample } from '../commit/quota_metrics.js';
import { ringSources } from '../admin/http/replica_sources.js';
import { buildTime, packageVersion } from '../cli/version.js';
import type { ServerConfig } from '../config/server_config.js';
import { readRingStats } from '../ring/stats.js';
import { mergeListings, type ListingOrder, type WatchListingPart } from '../watch/watch_listing.js';
import { STATS_SUMMARY, type ShardConnStats, type ShardStats, type StatsDetail } from '../workers/control.js';
import type { Topology } from '../workers/topology.js';
import type { ReplicaWorkers } from './server.js';
import type { ReplicaControl } from './replica_control.js';
import type { FourLetterAction } from '../protocol/four_letter_words.js';

interface CommitStats {
  last_zxid: number;
  /** Why writes are refused (a disk fault), or null while the replica accepts writes. */
  read_only: string | null;
  node_count: number;
  approximate_data_size: number;
  ephemerals_count: number;
  /** Per-namespace quota gauges and exceeded counters (commit/quota_metrics.ts). */
  quota_samples: QuotaSample[];
  sessions: number;
  /** Sessions this replica expired since it started. */
  sessions_expired: number;
  ephemerals: { session_id: string; paths: string[] }[];
  session_list: { session_id: string; timeout_ms: number; expire_at_ms: number }[];
  /** Zab state (src/quorum/quorum_driver.ts stats), null for a standalone replica. */
  quorum: QuorumStats | null;
  /** The membership this replica runs with (membershipText), null for a standalone replica. */
  membership: string | null;
  fsync_time: FsyncTimeStats;
  /** Cut off from the quorum and serving read-only clients (readonlymode.enabled). */
  read_only_mode?: boolean;
}

/** The part of QuorumDriver.stats() read here. */
interface QuorumStats {
  state: string;
  phase: string;
  leader: number | null;
  serving: boolean;
  sync_mode: string | null;
  learners: number;
  synced_followers: number;
  synced_non_voting_followers: number;
  synced_observers: number;
  synced_observer_ids: number[];
  leader_uptime_ms: number;
  pending_syncs: number;
  proposal_sizes: { last: number; min: number; max: number };
}

const MODE_OF_STATE: Readonly<Record<string, string>> = { LEADING: 'leader', FOLLOWING: 'follower', OBSERVING: 'observer', LOOKING: 'looking' };

interface NetStats {
  connections: number;
  packets_received: number;
  client_response: BufferSizes;
}

/** Where a stats snapshot is gathered from, and what the words that change something act on. */
export interface StatsSources {
  /** The config with the ports as bound (clientPort=0 resolved). */
  readonly config: ServerConfig;
  readonly workers: ReplicaWorkers;
  readonly started_ms: number;
  readonly topology?: Topology;
  readonly control: ReplicaControl;
}

/**
 * The reply to a four-letter word; `arg` is what followed it (stmk's int64 mask). A word with an
 * action (srst, crst, stmk) acts once the stats say it may (srst and crst need a serving
 * replica, as ZooKeeper's), then answers as ZooKeeper does.
 */
export async function answerFourLetter(cmd: string, arg: Uint8Array | null, sources: StatsSources): Promise<string> {
  const config = sources.config;
  // ZooKeeper adds isro to the whitelist when read-only mode is on (FourLetterCommands).
  const allowed = isWhitelisted(cmd, config.four_letter_whitelist) || (cmd === 'isro' && config.read_only_mode_enabled);
  if (!allowed) return notWhitelistedReply(cmd);
  if (cmd === 'ruok') return 'imok';
  try {
    const word = fourLetterWord(cmd);
    const stats = await gatherStats(sources, word?.needs ?? []);
    const mask = int64Argument(arg);
    if (word?.action !== undefined && (stats.serving || !word.needs_serving)) await act(word.action, mask, sources.control);
    return formatFourLetter(cmd, stats, mask);
  } catch (e) {
    return `Error: ${String(e)}\n`;
  }
}

/** stmk's mask: the 8 bytes after the word, big-endian (ByteBuffer.getLong); 0 without them. */
function int64Argument(arg: Uint8Array | null): bigint {
  if (arg === null || arg.length < 8) return 0n;
  return Buffer.from(arg.buffer, arg.byteOffset, 8).readBigInt64BE(0);
}

function act(action: FourLetterAction, mask: bigint, control: ReplicaControl): Promise<void> {
  switch (action) {
    case 'reset_server_stats':
      return control.resetStats('server');
    case 'reset_connection_stats':
      return control.resetStats('connections');
    case 'set_trace_mask':
      control.setTraceMask(mask);
      return Promise.resolve();
  }
}

/** cons/dump show when a connection's session expires; a connection without one, when it would. */
function connectionStats(c: ShardConnStats, expiry_by_session: Map<string, number>, fallback_ms: number): ConnectionStats {
  return {
    remote_address: c.remote_ip,
    remote_port: c.remote_port,
    // NIOServerCnxn.getInterestOps: OP_READ (1) unless reading is throttled.
    interest_ops: c.paused ? 0 : 1,
    queued: c.queued,
    packets_received: c.received,
    packets_sent: c.sent,
    session_id: BigInt(c.session_id),
    last_op: c.last_op,
    established_ms: c.established_ms,
    timeout_ms: c.timeout_ms,
    last_cxid: c.last_cxid,
    last_zxid: BigInt(c.last_zxid),
    last_response_ms: c.last_response_ms,
    last_latency_ms: c.last_latency_ms,
    min_latency_ms: c.latency_min_ms,
    avg_latency_ms: c.latency_avg_ms,
    max_latency_ms: c.latency_max_ms,
    expire_at_ms: expiry_by_session.get(c.session_id) ?? fallback_ms,
  };
}

/** Occupancy of every ring (mntr's zk_waitfree_ring_* lines), read straight from the SABs. */
function ringOccupancy(topology: Topology | undefined): RingOccupancy[] {
  if (topology === undefined) return [];
  return ringSources(topology).map((r) => {
    const s = readRingStats(r.sab);
    return { name: `${r.ring}_${r.index}`, used_bytes: s.used_bytes, capacity_bytes: s.capacity_bytes };
  });
}

/** Bytes of the regular files directly in `dir` (what ZooKeeper's `dirs` reports); 0 if unreadable. */
async function dirBytes(dir: string): Promise<number> {
  try {
    const sizes = await Promise.all((await readdir(dir)).map((name) => stat(join(dir, name)).then((s) => (s.isFile() ? s.size : 0), () => 0)));
    return sizes.reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  }
}

/** What the shards must add to their counters for these parts. */
function shardDetail(needs: readonly StatsPart[], config: ServerConfig): StatsDetail {
  const order: ListingOrder | null = needs.includes('watches_by_session') ? 'by_session' : needs.includes('watches_by_path') ? 'by_path' : null;
  return {
    connections: needs.includes('connections'),
    watches: order === null ? null : { order, bytes_max: config.watch_listing_bytes_max },
    sessions: needs.includes('connections') || needs.includes('sessions'),
    ephemerals: needs.includes('ephemerals'),
    quotas: needs.includes('quotas'),
  };
}

type Gathered = { shards: ShardStats[]; listing: WatchListing };

/** This replica's place in its ensemble (config + driver stats); null when standalone. */
function zabView(config: ServerConfig, q: QuorumStats | null, last_zxid: number): ZabView | null {
  const ensemble = config.ensemble;
  if (ensemble === null || q === null) return null;
  return {
    my_sid: ensemble.my_sid,
    state: q.state,
    phase: q.phase,
    sync_mode: q.sync_mode,
    leader_sid: q.leader,
    members: ensemble.members,
    client_address: `${config.client_port_address}:${config.client_port}`,
    last_zxid: BigInt(last_zxid),
  };
}

/** The leader's gauges; null unless leading. */
function leaderStats(q: QuorumStats | null): LeaderStats | null {
  if (q === null || q.state !== 'LEADING') return null;
  return {
    followers: q.learners,
    synced_followers: q.synced_followers,
    synced_non_voting_followers: q.synced_non_voting_followers,
    synced_observers: q.synced_observers,
    synced_observer_ids: q.synced_observer_ids,
    leader_uptime_ms: q.leader_uptime_ms,
    pending_syncs: q.pending_syncs,
    last_proposal_size: q.proposal_sizes.last,
    min_proposal_size: q.proposal_sizes.min,
    max_proposal_size: q.proposal_sizes.max,
  };
}

/**
 * Watch listings in flight per replica (a process may run several, as the tests do), one per
 * order: requests that arrive while one is being built share it (an operator's wchc loop or
 * several dashboards cost one listing, not one each), so at most two listings are ever built at
 * once, each bounded by waitfree.watch.listingBytesMax.
 */
const listings_in_flight = new WeakMap<ReplicaWorkers, Map<ListingOrder, Promise<Gathered>>>();

function shardStatsWithListing(workers: ReplicaWorkers, detail: StatsDetail): Promise<Gathered> {
  const request = detail.watches;
  if (request === null) throw new Error('no listing asked');
  let in_flight = listings_in_flight.get(workers);
  if (in_flight === undefined) {
    in_flight = new Map();
    listings_in_flight.set(workers, in_flight);
  }
  const shared = in_flight.get(request.order);
  if (shared !== undefined) return shared;
  const gathering = (async () => {
    const shards = (await Promise.all(workers.shards.map((s) => s.request('stats', detail)))) as ShardStats[];
    const parts = shards.map((s) => s.listing).filter((p): p is WatchListingPart => p !== null);
    return { shards, listing: mergeListings(request.order, parts, request.bytes_max) };
  })().finally(() => in_flight.delete(request.order));
  in_flight.set(request.order, gathering);
  return gathering;
}

/** wchs's numbers over every shard (each shard's are exact; see WatchSummaryStats.paths). */
function watchSummary(shards: readonly ShardStats[]): WatchSummaryStats {
  let connections = 0;
  let paths = 0;
  let total = 0;
  for (const s of shards) {
    connections += s.watch_summary.watchers;
    paths += s.watch_summary.paths;
    total += s.watch_summary.pairs;
  }
  return { connections, paths, total };
}

/**
 * ZooKeeper's ServerMetrics counters that the threads' metric blocks hold in the same sense, under
 * mntr's names: connections and bytes as the net worker counts them, and the Zab counters (0 on a
 * standalone server, as ZooKeeper's). Read from the blocks (SABs), not asked of the threads.
 */
function zkCounters(t: Topology): [string, number][] {
  const net = readNetMetrics(t.metrics.net);
  const zab = readZabMetrics(t.metrics.zab);
  return [
    ['bytes_received_count', net.bytes_received],
    ['connection_request_count', net.connections_accepted],
    ['connection_rejected', net.connections_rejected],
    ['sessionless_connections_expired', net.sessionless_closes],
    ['unsuccessful_handshake', net.tls_handshake_failures],
    ['response_bytes', net.bytes_sent],
    ['looking_count', zab.looking],
    ['diff_count', zab.syncs.diff],
    ['snap_count', zab.syncs.snap],
    ['proposal_count', zab.proposals],
  ];
}

/**
 * One ServerStats snapshot. `needs` are the costly parts the caller reads (FourLetterWord.needs,
 * AdminCommand.needs); without them the shards answer with their counters only.
 */
export async function gatherStats(sources: StatsSources, needs: readonly StatsPart[] = []): Promise<ServerStats> {
  const { config, workers, started_ms, topology } = sources;
  const detail = shardDetail(needs, config);
  const [net, commit, gathered] = await Promise.all([
    workers.net.request('stats') as Promise<NetStats>,
    workers.commit.request('stats', { ...STATS_SUMMARY, sessions: detail.sessions, ephemerals: detail.ephemerals, quotas: detail.quotas }) as Promise<CommitStats>,
    detail.watches === null
      ? Promise.all(workers.shards.map((s) => s.request('stats', detail) as Promise<ShardStats>)).then((shards) => ({ shards, listing: null }))
      : shardStatsWithListing(workers, detail),
  ]);
  const shards = gathered.shards;
  const conns = shards.flatMap((s) => s.conns);
  const served = shards.filter((s) => s.requests_served > 0);
  const count = served.reduce((n, s) => n + s.requests_served, 0);
  const total = served.reduce((n, s) => n + s.latency_total_ms, 0);
  const data_dir_abs = resolve(config.data_dir);
  const data_log_dir_abs = resolve(config.data_log_dir);
  const data_dir_bytes = await dirBytes(data_dir_abs);
  const fds = needs.includes('file_descriptors') ? await processFdCounts() : null;
  // One directory: ZooKeeper reports it twice (same dir, both sizes); so do we.
  const log_dir_bytes = data_log_dir_abs === data_dir_abs ? data_dir_bytes : await dirBytes(data_log_dir_abs);
  const expiry_by_session = new Map(commit.session_list.map((s) => [s.session_id, s.expire_at_ms]));
  return {
    version: fullVersion(packageVersion(), buildTime()),
    // An ensemble member serves only once synced with a leader (ZooKeeper: "not currently serving").
    serving: commit.quorum === null || commit.quorum.serving,
    read_only: commit.read_only !== null,
    mode: commit.quorum === null ? 'standalone' : commit.read_only_mode === true ? 'read-only' : (MODE_OF_STATE[commit.quorum.state] ?? 'looking'),
    quorum: leaderStats(commit.quorum),
    zab: zabView(config, commit.quorum, commit.last_zxid),
    latency_min_ms: count ? Math.min(...served.map((s) => s.latency_min_ms)) : 0,
    latency_avg_ms: count ? total / count : 0,
    latency_max_ms: shards.reduce((m, s) => Math.max(m, s.latency_max_ms), 0),
    packets_received: net.packets_received,
    packets_sent: shards.reduce((n, s) => n + s.packets_sent, 0),
    num_alive_connections: net.connections,
    outstanding_requests: shards.reduce((n, s) => n + s.outstanding, 0),
    zxid: BigInt(commit.last_zxid),
    // ZooKeeper's DataTree maps both "" and "/" to the root, and its node count counts both.
    node_count: commit.node_count + 1,
    watch_count: shards.reduce((n, s) => n + s.watch_count, 0),
    ephemerals_count: commit.ephemerals_count,
    approximate_data_size: commit.approximate_data_size,
    fsync_time: commit.fsync_time,
    file_descriptors: fds,
    uptime_ms: Date.now() - started_ms,
    global_sessions: commit.sessions,
    data_dir_bytes,
    log_dir_bytes,
    trace_mask: sources.control.trace_mask,
    read_workers: config.read_workers,
    rings: ringOccupancy(topology),
    quota_samples: commit.quota_samples,
    extra_metrics: [],
    client_response: net.client_response,
    zk_counters: [...(topology === undefined ? [] : zkCounters(topology)), ['stale_sessions_expired', commit.sessions_expired]],
    connections: conns.map((c) => connectionStats(c, expiry_by_session, Date.now() + config.max_session_timeout_ms)),
    sessions: commit.session_list.map((s) => ({
      session_id: BigInt(s.session_id),
      timeout_ms: s.timeout_ms,
      expire_at_ms: s.expire_at_ms,
    })),
    ephemerals: commit.ephemerals.map((e) => ({ session_id: BigInt(e.session_id), paths: e.paths })),
    watch_summary: watchSummary(shards),
    watch_listing: gathered.listing,
    conf: confEntries(config, {
      client_port: config.client_port,
      data_dir_abs,
      data_log_dir_abs,
      data_dir_bytes,
      log_dir_bytes,
    }),
    conf_membership: commit.membership,
    environment: collectEnvironment(fullVersion(packageVersion(), buildTime())),
  };
}
