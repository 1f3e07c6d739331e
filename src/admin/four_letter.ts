// Four-letter words: the text commands ZooKeeper answers on the client port when the first four
// bytes of a fresh connection spell one (`echo mntr | nc host 2181`). The table says which words
// exist and what they need; the formatters reproduce Apache ZooKeeper 3.9's text line by line
// (FourLetterCommands, StatCommand + ServerStats.toString, MonitorCommand, ConsCommand +
// ServerCnxn.dumpConnectionInfo, WatchCommand + WatchManager, DumpCommand + ExpiryQueue.dump +
// DataTree.dumpEphemerals, ConfCommand + ZooKeeperServer.dumpConf, EnvCommand + Environment).
// Java's PrintWriter.println writes "\n" on Linux, which is what tools expect.
//
// Everything here is pure except collectEnvironment() (reads os/process): the net worker gathers
// a ServerStats snapshot (only the parts the word `needs`) and calls formatFourLetter.

import type { QuotaSample } from '../commit/quota_metrics.js';
import type { BufferSizes } from '../metrics/buffer_stats.js';
import type { FdCounts } from '../metrics/process_fds.js';
import { averageMs, type FsyncTimeStats } from '../metrics/sync_times.js';
import { EOL, homedir, hostname, release, tmpdir, type as osType, userInfo } from 'node:os';
import { delimiter, dirname, sep } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { ServerConfig } from '../config/server_config.js';
import { listingPairs, type WatchListing } from '../watch/watch_listing.js';
import { peerState, type ZabView } from './zab_state.js';

export type { WatchListing } from '../watch/watch_listing.js';
export type { ZabView, ZabMemberView } from './zab_state.js';

// The table of words lives in src/protocol/four_letter_words.ts (read below admin/ too).
export { FOUR_LETTER_WORDS, KNOWN_FOUR_LETTER_WORDS, fourLetterWord, wordToInt, fourLetterFromInt, TELNET_CLOSE_INT, isTelnetClose, isWhitelisted, notWhitelistedReply } from '../protocol/four_letter_words.js';
export type { StatsPart, FourLetterAction, FourLetterWord } from '../protocol/four_letter_words.js';
import { fourLetterWord } from '../protocol/four_letter_words.js';

export const ZK_NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

/** ZooTrace's default text trace mask (CLIENT_REQUEST | SERVER_PACKET | SESSION | WARNING). */
export const DEFAULT_TRACE_MASK = 306n;

// ---------------------------------------------------------------------------------------------
// What the formatters read

export interface ConnectionStats {
  /** Peer IP as Node reports it ('127.0.0.1', '::1', '::ffff:10.0.0.1'). */
  readonly remote_address: string;
  readonly remote_port: number;
  /** ZooKeeper's NIO interest ops: 1 = reading, 0 = reads paused (throttled), 5 = read + write. */
  readonly interest_ops: number;
  /** Requests of this connection read but not yet answered. */
  readonly queued: number;
  readonly packets_received: number;
  readonly packets_sent: number;
  /** 0n until the session is established (then cons shows the session fields). */
  readonly session_id: bigint;
  /** Last op code name as ZooKeeper shows it ('NA', 'PING', 'GETD'...): see lastOpName(). */
  readonly last_op: string;
  readonly established_ms: number;
  readonly timeout_ms: number;
  /** -1 before the first request. */
  readonly last_cxid: number;
  /** -1n before the first reply. */
  readonly last_zxid: bigint;
  readonly last_response_ms: number;
  readonly last_latency_ms: number;
  readonly min_latency_ms: number;
  readonly avg_latency_ms: number;
  readonly max_latency_ms: number;
  /** Deadline bucket of this connection (dump's "Connections Sets"), epoch ms. */
  readonly expire_at_ms: number;
}

export interface SessionStats {
  readonly session_id: bigint;
  readonly timeout_ms: number;
  /** Expiry bucket (tickTime-aligned deadline), epoch ms. */
  readonly expire_at_ms: number;
}

/** wchs: over every read worker's watch table (each keeps these counts as it changes). */
export interface WatchSummaryStats {
  /** Connections holding at least one watch. */
  readonly connections: number;
  /** Distinct watched paths, summed over read workers: a path watched from connections on two
   *  read workers counts twice (an exact union would cost O(paths)). */
  readonly paths: number;
  /** Distinct (connection, path) pairs: ZooKeeper's "Total watches". */
  readonly total: number;
}

export interface EphemeralsOfSession {
  readonly session_id: bigint;
  readonly paths: readonly string[];
}

export interface RingOccupancy {
  /** e.g. 'net_to_shard_0', 'commit_stream'. */
  readonly name: string;
  readonly used_bytes: number;
  readonly capacity_bytes: number;
}

export interface ServerStats {
  /** Text after "Zookeeper version: ", e.g. "3.9.4-waitfree-0.1.0, built on 2026-12-05 13:05 UTC" (fullVersion). */
  readonly version: string;
  /** False while starting or stopping: most words answer ZK_NOT_SERVING. */
  readonly serving: boolean;
  readonly read_only: boolean;
  /** 'standalone', or in an ensemble 'leader', 'follower', 'observer' (ZooKeeper's words). */
  readonly mode: string;
  /** The leader's view of its learners (mntr's zk_learners, zk_synced_followers ...), null unless leading. */
  readonly quorum?: LeaderStats | null;
  /** This replica's place in its ensemble (mntr's zk_peer_state, leader / voting_view / zabstate); null standalone. */
  readonly zab?: ZabView | null;
  /** Request latency since the last srst, ms. avg is rounded to 4 decimals when printed. */
  readonly latency_min_ms: number;
  readonly latency_avg_ms: number;
  readonly latency_max_ms: number;
  readonly packets_received: number;
  readonly packets_sent: number;
  readonly num_alive_connections: number;
  readonly outstanding_requests: number;
  /** Last processed zxid. */
  readonly zxid: bigint;
  readonly node_count: number;
  /** Every watch (data, child, persistent), as zk_watch_count. */
  readonly watch_count: number;
  readonly ephemerals_count: number;
  /** Sum of path lengths + data lengths, as ZooKeeper's DataTree.approximateDataSize. */
  readonly approximate_data_size: number;
  /** The txn log's write + sync times (mntr's zk_*_fsynctime) and how many were over
   *  fsync.warningthresholdms. */
  readonly fsync_time: FsyncTimeStats;
  /** Open descriptors and their limit (process_fds.ts); null where they cannot be told, or when
   *  the word does not need them (StatsPart file_descriptors). */
  readonly file_descriptors: FdCounts | null;
  readonly uptime_ms: number;
  readonly global_sessions: number;
  readonly data_dir_bytes: number;
  readonly log_dir_bytes: number;
  readonly trace_mask: bigint;
  /** Per-namespace quota gauges and counters under ZooKeeper's names: mntr prints
   *  zk_<namespace>_quota_count_limit_per_namespace and so on. */
  readonly quota_samples: readonly QuotaSample[];
  /** waitfree's own (mntr lines zk_waitfree_*). */
  readonly read_workers: number;
  readonly rings: readonly RingOccupancy[];
  /** Further waitfree metrics as name → value (mntr prints zk_waitfree_<name>). */
  readonly extra_metrics: readonly (readonly [string, number | string])[];
  /** Sizes of the replies written to clients since start or srst, -1 before the first
   *  (ServerStats.getClientResponseStats; mntr's zk_{last,min,max}_client_response_size). */
  readonly client_response: BufferSizes;
  /** ZooKeeper's ServerMetrics counters that waitfree keeps too, under their mntr names (without
   *  zk_), in ZooKeeper's sense: see zkCounters() in src/server/four_letter_answer.ts. */
  readonly zk_counters: readonly (readonly [string, number])[];
  // Parts gathered only for the words that need them (FourLetterWord.needs); empty otherwise.
  readonly connections: readonly ConnectionStats[];
  readonly sessions: readonly SessionStats[];
  readonly ephemerals: readonly EphemeralsOfSession[];
  /** Always present (counters). */
  readonly watch_summary: WatchSummaryStats;
  /** Present only when a word needs it (watches_by_session / watches_by_path). */
  readonly watch_listing: WatchListing | null;
  /** key=value lines of `conf`, in order: see confEntries(). */
  readonly conf: readonly (readonly [string, string])[];
  /** In an ensemble, the membership `conf` ends with (membershipText: server lines, version=);
   *  null for a standalone replica. */
  readonly conf_membership: string | null;
  /** key=value lines of `envi`, in order: see collectEnvironment(). */
  readonly environment: readonly (readonly [string, string])[];
}

/** What a leader reports about its learners and proposals (LeaderZooKeeperServer's gauges). */
export interface LeaderStats {
  /** Learner sessions (followers and observers, synced or not): zk_learners. */
  readonly followers: number;
  readonly synced_followers: number;
  /** Synced followers that are not voters of the membership in force (a reconfig's newcomers). */
  readonly synced_non_voting_followers?: number;
  readonly synced_observers?: number;
  /** Since this replica began to lead, ms (Leader.getUptime). */
  readonly leader_uptime_ms?: number;
  /** The ids of the synced observers (the admin observers command). */
  readonly synced_observer_ids?: readonly number[];
  readonly pending_syncs: number;
  /** Proposal sizes since this leadership began, bytes; -1 before the first (ZooKeeper's BufferStats). */
  readonly last_proposal_size?: number;
  readonly min_proposal_size?: number;
  readonly max_proposal_size?: number;
}

/** The ZooKeeper release whose protocol and text formats we follow. */
export const ZK_COMPAT_VERSION = '3.9.4';

/**
 * ZooKeeper's Version.getFullVersion(): the version, then ", built on yyyy-MM-dd HH:mm UTC", as
 * srvr, stat, mntr (zk_version) and envi (zookeeper.version) print it. Clients parse it: the Go
 * client's FLWSrvr, which its test clusters wait on, accepts no srvr answer without the
 * "built on" part.
 */
export function fullVersion(waitfree_version: string, built: Date): string {
  return `${ZK_COMPAT_VERSION}-waitfree-${waitfree_version}, built on ${builtOnText(built)}`;
}

/** yyyy-MM-dd HH:mm UTC (ZooKeeper 3.7 and later). */
function builtOnText(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

// ---------------------------------------------------------------------------------------------
// Java-compatible value formatting

/** Long.toHexString: two's complement for negatives (-1 → ffffffffffffffff). */
export function javaHex(n: bigint | number): string {
  return BigInt.asUintN(64, BigInt(n)).toString(16);
}

/** Double.toString for the values we print: "0.0", "1.5", "1.0E-4", "1.2345E7". */
export function javaDouble(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return '0.0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e7) return Number.isInteger(x) ? `${x}.0` : String(x);
  const [mantissa, exponent] = x.toExponential().split('e') as [string, string];
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${Number(exponent)}`;
}

/** AvgMinMaxCounter.getAvg: rounded HALF_UP to 4 decimals. */
function roundAvg(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** java.util.Date.toString in UTC: "Thu Jan 01 00:00:00 UTC 1970". */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const time = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${time} UTC ${d.getUTCFullYear()}`;
}

/** InetSocketAddress.toString of an address without host name: "/127.0.0.1:5000", "/[::1]:5000". */
function socketAddress(address: string, port: number): string {
  return address.includes(':') ? `/[${address}]:${port}` : `/${address}:${port}`;
}

// ---------------------------------------------------------------------------------------------
// Formatters, one per word family

/** ServerCnxn.dumpConnectionInfo: brief for stat, full for cons and dump. */
export function formatConnection(c: ConnectionStats, brief: boolean): string {
  let s = ` ${socketAddress(c.remote_address, c.remote_port)}[${c.interest_ops === 0 ? '0' : c.interest_ops.toString(16)}]`;
  s += `(queued=${c.queued},recved=${c.packets_received},sent=${c.packets_sent}`;
  if (!brief && c.session_id !== 0n) {
    s += `,sid=0x${javaHex(c.session_id)},lop=${c.last_op},est=${c.established_ms},to=${c.timeout_ms}`;
    if (c.last_cxid >= 0) s += `,lcxid=0x${javaHex(c.last_cxid)}`;
    s += `,lzxid=0x${javaHex(c.last_zxid)},lresp=${c.last_response_ms},llat=${c.last_latency_ms}`;
    s += `,minlat=${c.min_latency_ms},avglat=${Math.trunc(c.avg_latency_ms)},maxlat=${c.max_latency_ms}`;
  }
  return s + ')';
}

/** srvr and stat (StatCommand). */
function formatStat(s: ServerStats, with_clients: boolean): string {
  let out = `Zookeeper version: ${s.version}\n`;
  if (s.read_only) out += 'READ-ONLY mode; serving only read-only clients\n';
  if (with_clients) {
    out += 'Clients:\n';
    for (const c of s.connections) out += formatConnection(c, true) + '\n';
    out += '\n';
  }
  out += `Latency min/avg/max: ${s.latency_min_ms}/${javaDouble(roundAvg(s.latency_avg_ms))}/${s.latency_max_ms}\n`;
  out += `Received: ${s.packets_received}\nSent: ${s.packets_sent}\n`;
  out += `Connections: ${s.num_alive_connections}\nOutstanding: ${s.outstanding_requests}\n`;
  out += `Zxid: 0x${javaHex(s.zxid)}\nMode: ${s.mode}\nNode count: ${s.node_count}\n`;
  // A leader's proposal sizes (its BufferStats' toString), last, as ZooKeeper's StatCommand prints
  // them: clients parse srvr's lines up to Node count as one block (go-zookeeper's FLWSrvr).
  const q = s.quorum;
  if (q) out += `Proposal sizes last/min/max: ${q.last_proposal_size ?? -1}/${q.min_proposal_size ?? -1}/${q.max_proposal_size ?? -1}\n`;
  return out;
}

/** ZooKeeper prints the two descriptor lines only on a Unix JVM, where it can count them. */
function fdEntries(fds: FdCounts | null): [string, number][] {
  if (fds === null) return [];
  return [
    ['open_file_descriptor_count', fds.open],
    ['max_file_descriptor_count', fds.max],
  ];
}

/** mntr: the classic key order (zookeeperAdmin.md), then 3.6+ gauges, then waitfree's own. */
export function monitorEntries(s: ServerStats): [string, string][] {
  const e: [string, string | number][] = [
    ['version', s.version],
    ['avg_latency', javaDouble(roundAvg(s.latency_avg_ms))],
    ['max_latency', s.latency_max_ms],
    ['min_latency', s.latency_min_ms],
    ['packets_received', s.packets_received],
    ['packets_sent', s.packets_sent],
    ['num_alive_connections', s.num_alive_connections],
    ['outstanding_requests', s.outstanding_requests],
    ['server_state', s.mode],
    ['znode_count', s.node_count],
    ['watch_count', s.watch_count],
    ['ephemerals_count', s.ephemerals_count],
    ['approximate_data_size', s.approximate_data_size],
    ...fdEntries(s.file_descriptors),
    ['uptime', s.uptime_ms],
    ['global_sessions', s.global_sessions],
    ['local_sessions', 0],
    ['avg_fsynctime', javaDouble(roundAvg(averageMs(s.fsync_time)))],
    ['min_fsynctime', s.fsync_time.min_ms],
    ['max_fsynctime', s.fsync_time.max_ms],
    ['cnt_fsynctime', s.fsync_time.count],
    ['sum_fsynctime', s.fsync_time.sum_ms],
    ['last_client_response_size', s.client_response.last],
    ['max_client_response_size', s.client_response.max],
    ['min_client_response_size', s.client_response.min],
    ...s.zk_counters.map(([k, v]): [string, number] => [k, v]),
    ['waitfree_read_workers', s.read_workers],
  ];
  // A quorum server's gauges (QuorumZooKeeperServer); a member in read-only mode serves as
  // ZooKeeper's ReadOnlyZooKeeperServer, which has none.
  if (s.zab && s.mode !== 'read-only') {
    e.push(['peer_state', peerState(s.zab)], ['quorum_size', s.zab.members.filter((m) => m.role === 'participant').length]);
  }
  if (s.quorum) {
    const q = s.quorum;
    e.push(
      ['learners', q.followers],
      ['synced_followers', q.synced_followers],
      ['synced_non_voting_followers', q.synced_non_voting_followers ?? 0],
      ['synced_observers', q.synced_observers ?? 0],
      ['pending_syncs', q.pending_syncs],
      ['leader_uptime', q.leader_uptime_ms ?? 0],
      ['last_proposal_size', q.last_proposal_size ?? -1],
      ['max_proposal_size', q.max_proposal_size ?? -1],
      ['min_proposal_size', q.min_proposal_size ?? -1],
    );
  }
  for (const q of s.quota_samples) e.push([`${q.namespace}_${q.metric}`, q.value]);
  for (const r of s.rings) {
    e.push([`waitfree_ring_${r.name}_used_bytes`, r.used_bytes], [`waitfree_ring_${r.name}_capacity_bytes`, r.capacity_bytes]);
  }
  for (const [k, v] of s.extra_metrics) e.push([`waitfree_${k}`, v]);
  return e.map(([k, v]) => [`zk_${k}`, String(v)]);
}

function formatMonitor(s: ServerStats): string {
  return monitorEntries(s)
    .map(([k, v]) => `${k}\t${v}\n`)
    .join('');
}

/** wchs (WatchManager.toString + println). */
function formatWatchSummary(w: WatchSummaryStats): string {
  return `${w.connections} connections watching ${w.paths} paths\nTotal watches:${w.total}\n`;
}

/**
 * wchc (by session) and wchp (by path) (WatchManager.dumpWatches + println): ZooKeeper's text,
 * then, only when the listing was cut at waitfree.watch.listingBytesMax, one more line saying
 * so (after ZooKeeper's closing blank line, so tools that stop there read ZooKeeper's format).
 */
function formatWatches(s: ServerStats, order: WatchListing['order']): string {
  const listing = s.watch_listing;
  if (listing === null || listing.order !== order) throw new RangeError(`the ${order} watch listing was not gathered`);
  const parts: string[] = [];
  if (listing.order === 'by_path') {
    // Few sessions, many paths: format each session id once.
    const lines = new Map<bigint, string>();
    const line = (id: bigint): string => lines.get(id) ?? lines.set(id, `\t0x${javaHex(id)}\n`).get(id)!;
    for (const [path, ids] of listing.groups) {
      parts.push(`${path}\n`);
      for (const id of ids) parts.push(line(id));
    }
  } else {
    for (const [id, paths] of listing.groups) {
      parts.push(`0x${javaHex(id)}\n`);
      for (const path of paths) parts.push(`\t${path}\n`);
    }
  }
  parts.push('\n');
  if (listing.truncated) parts.push(truncationNote(listing, s.watch_summary));
  return parts.join('');
}

/** The line a cut listing ends with. */
export function truncationNote(listing: WatchListing, summary: WatchSummaryStats): string {
  return `(listing cut at waitfree.watch.listingBytesMax=${listing.bytes_max}: ${listingPairs(listing)} of ${summary.total} watches shown)\n`;
}

/** Groups items by key, keeping first-appearance order: O(items). */
function groupBy<K, V>(pairs: Iterable<readonly [K, V]>): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (const [k, v] of pairs) {
    const list = out.get(k);
    if (!list) out.set(k, [v]);
    else list.push(v);
  }
  return out;
}

/** ExpiryQueue.dump: "Sets (buckets)/(elements):" then each bucket in deadline order. */
function formatExpiry<T>(items: readonly T[], expire_at: (t: T) => number, show: (t: T) => string): string {
  const buckets = groupBy(items.map((t) => [expire_at(t), t] as const));
  let out = `Sets (${buckets.size})/(${items.length}):\n`;
  for (const at of [...buckets.keys()].sort((a, b) => a - b)) {
    const set = buckets.get(at)!;
    out += `${set.length} expire at ${javaDate(at)}:\n` + set.map((t) => `\t${show(t)}\n`).join('');
  }
  return out;
}

/**
 * A learner's session tracker (LearnerSessionTracker.dumpSessions): it expires nothing, so it
 * lists the global sessions it knows, by id, with their timeouts.
 */
function formatGlobalSessions(sessions: ServerStats['sessions']): string {
  // A TreeSet<Long>: Java's signed order.
  const sorted = [...sessions].sort((a, b) => (BigInt.asIntN(64, a.session_id) < BigInt.asIntN(64, b.session_id) ? -1 : 1));
  return `Global Sessions(${sorted.length}):\n` + sorted.map((x) => `0x${javaHex(x.session_id)}\t${x.timeout_ms}ms\n`).join('');
}

/** dump (DumpCommand, with NIOServerCnxnFactory's connection dump). */
function formatDump(s: ServerStats): string {
  let out = 'SessionTracker dump:\n';
  out += s.mode === 'follower' || s.mode === 'observer' ? formatGlobalSessions(s.sessions) : 'Session ' + formatExpiry(s.sessions, (x) => x.expire_at_ms, (x) => `0x${javaHex(x.session_id)}`);
  out += 'ephemeral nodes dump:\n';
  out += `Sessions with Ephemerals (${s.ephemerals.length}):\n`;
  for (const e of s.ephemerals) out += `0x${javaHex(e.session_id)}:\n` + e.paths.map((p) => `\t${p}\n`).join('');
  out += 'Connections dump:\nConnections ';
  out += formatExpiry(s.connections, (c) => c.expire_at_ms, dumpConnection);
  return out;
}

/** NIOServerCnxn.toString, which the connection dump prints: "ip: /ADDR:PORT sessionId: 0x..". */
function dumpConnection(c: ConnectionStats): string {
  return `ip: ${socketAddress(c.remote_address, c.remote_port)} sessionId: 0x${javaHex(c.session_id)}`;
}

function formatLines(entries: readonly (readonly [string, string])[]): string {
  return entries.map(([k, v]) => `${k}=${v}\n`).join('');
}

/** QuorumZooKeeperServer.dumpConf ends with "membership: " and the QuorumVerifier's text, which
 *  has no newline after its last line (version=). */
function formatConf(s: ServerStats): string {
  const lines = formatLines(s.conf);
  return s.conf_membership === null ? lines : `${lines}membership: \n${s.conf_membership}`;
}

function formatCons(s: ServerStats): string {
  return s.connections.map((c) => formatConnection(c, false) + '\n').join('') + '\n';
}

type Formatter = (s: ServerStats, stmk_mask: bigint) => string;

const FORMATTERS: Readonly<Record<string, Formatter>> = {
  ruok: () => 'imok',
  srvr: (s) => formatStat(s, false),
  stat: (s) => formatStat(s, true),
  mntr: (s) => formatMonitor(s),
  cons: (s) => formatCons(s),
  wchs: (s) => formatWatchSummary(s.watch_summary),
  wchc: (s) => formatWatches(s, 'by_session'),
  wchp: (s) => formatWatches(s, 'by_path'),
  dump: (s) => formatDump(s),
  conf: formatConf,
  envi: (s) => 'Environment:\n' + formatLines(s.environment),
  isro: (s) => (s.read_only ? 'ro' : 'rw'),
  crst: () => 'Connection stats reset.\n',
  srst: () => 'Server stats reset.\n',
  dirs: (s) => `datadir_size: ${s.data_dir_bytes}\nlogdir_size: ${s.log_dir_bytes}\n`,
  gtmk: (s) => String(s.trace_mask),
  stmk: (_s, mask) => BigInt.asIntN(64, mask).toString(),
  hash: () => '',
};

/** What a word answers while the server is not serving (most print ZK_NOT_SERVING + newline). */
function notServingReply(cmd: string): string {
  if (cmd === 'isro') return 'null';
  if (cmd === 'hash') return ZK_NOT_SERVING;
  return `${ZK_NOT_SERVING}\n`;
}

/**
 * The full reply text of a known, whitelisted word. The caller checks the whitelist
 * (isWhitelisted / notWhitelistedReply), performs the word's `action`, writes the text, closes.
 * `stmk_mask` is stmk's 8-byte argument (big-endian int64).
 */
export function formatFourLetter(cmd: string, stats: ServerStats, stmk_mask = 0n): string {
  const word = fourLetterWord(cmd);
  const format = FORMATTERS[cmd];
  if (!word || !format) throw new RangeError(`unknown four-letter word ${JSON.stringify(cmd)}`);
  // A replica in read-only mode serves read-only clients while outside a quorum: it says so.
  if (cmd === 'isro' && stats.read_only) return 'ro';
  if (word.needs_serving && !stats.serving) return notServingReply(cmd);
  return format(stats, stmk_mask);
}

// ---------------------------------------------------------------------------------------------
// Helpers that build parts of ServerStats

export { LAST_OP_NONE, lastOpName } from '../protocol/opcodes.js';

export interface ConfFacts {
  /** The port actually bound (differs from config.client_port when that is 0). */
  readonly client_port: number;
  /** Absolute data directory. */
  readonly data_dir_abs: string;
  /** Absolute txn log directory (dataLogDir; the data directory when unset). */
  readonly data_log_dir_abs: string;
  readonly data_dir_bytes: number;
  readonly log_dir_bytes: number;
}

/**
 * `conf` lines: ZooKeeperServer.dumpConf's keys in its order, in an ensemble then
 * QuorumZooKeeperServer's (quorumConfEntries), then waitfree's keys. The super digest is a
 * secret and is never listed. (The membership follows them: ServerStats.conf_membership.)
 */
export function confEntries(c: ServerConfig, f: ConfFacts): [string, string][] {
  return [
    ...zooKeeperServerConfEntries(c, f),
    ...quorumConfEntries(c),
    ...waitfreeConfEntries(c),
  ];
}

function zooKeeperServerConfEntries(c: ServerConfig, f: ConfFacts): [string, string][] {
  return [
    ['clientPort', String(f.client_port)],
    ['secureClientPort', String(c.secure_client_port)],
    ['dataDir', f.data_dir_abs],
    ['dataDirSize', String(f.data_dir_bytes)],
    ['dataLogDir', f.data_log_dir_abs],
    ['dataLogSize', String(f.log_dir_bytes)],
    ['tickTime', String(c.tick_time_ms)],
    ['maxClientCnxns', String(c.max_client_cnxns)],
    ['minSessionTimeout', String(c.min_session_timeout_ms)],
    ['maxSessionTimeout', String(c.max_session_timeout_ms)],
    ['clientPortListenBacklog', '-1'],
    ['serverId', String(c.server_id)],
  ];
}

/** QuorumZooKeeperServer.dumpConf's keys: electionAlg 3 is the only one ZooKeeper has left (fast
 *  leader election); peerType is LearnerType's ordinal (0 participant, 1 observer). */
function quorumConfEntries(c: ServerConfig): [string, string][] {
  const e = c.ensemble;
  if (e === null) return [];
  const me = e.members.find((m) => m.sid === e.my_sid);
  if (me === undefined) throw new Error(`conf: server ${e.my_sid} is not among its ensemble's members`);
  return [
    ['initLimit', String(e.init_limit_ticks)],
    ['syncLimit', String(e.sync_limit_ticks)],
    ['electionAlg', '3'],
    ['electionPort', String(me.election_port)],
    ['quorumPort', String(me.quorum_port)],
    ['peerType', me.role === 'observer' ? '1' : '0'],
  ];
}

function waitfreeConfEntries(c: ServerConfig): [string, string][] {
  return [
    ['clientPortAddress', c.client_port_address],
    ['maxCnxns', String(c.max_cnxns)],
    ['jute.maxbuffer', String(c.jute_max_buffer_bytes)],
    ['4lw.commands.whitelist', c.four_letter_whitelist.join(',')],
    ['globalOutstandingLimit', String(c.global_outstanding_limit)],
    ['zookeeper.extendedTypesEnabled', String(c.extended_types_enabled)],
    ['znode.container.checkIntervalMs', String(c.container_check_interval_ms)],
    ['znode.container.maxPerMinute', String(c.container_max_per_minute)],
    ['waitfree.readWorkers', String(c.read_workers)],
    ['waitfree.ring.netToShardBytes', String(c.ring_net_to_shard_bytes)],
    ['waitfree.ring.shardToNetBytes', String(c.ring_shard_to_net_bytes)],
    ['waitfree.ring.shardToCommitBytes', String(c.ring_shard_to_commit_bytes)],
    ['waitfree.ring.commitStreamBytes', String(c.ring_commit_stream_bytes)],
    ['waitfree.ring.netToCommitBytes', String(c.ring_net_to_commit_bytes)],
    ['waitfree.ring.commitToNetBytes', String(c.ring_commit_to_net_bytes)],
    ['waitfree.maxOutstandingPerSession', String(c.max_outstanding_per_session)],
    ['waitfree.watch.sliceEntries', String(c.watch_slice_entries)],
    ['waitfree.watch.listingBytesMax', String(c.watch_listing_bytes_max)],
    ['waitfree.fsync', c.fsync],
    ['waitfree.commit.batchTxnsMax', String(c.commit_batch_txns_max)],
    ['waitfree.commit.batchBytesMax', String(c.commit_batch_bytes_max)],
    ['waitfree.commit.batchWaitUs', String(c.commit_batch_wait_us)],
    ['waitfree.log.segmentBytes', String(c.log_segment_bytes)],
    ['waitfree.log.syncMethod', c.log_sync_method],
    ['waitfree.log.inlineSyncTxnsMax', String(c.log_inline_sync_txns_max)],
    ['waitfree.commit.youngGenerationMb', String(c.commit_young_generation_mb)],
    ['waitfree.idleSpinUs', String(c.idle_spin_us)],
    ['snapCount', String(c.snap_count)],
    ['autopurge.snapRetainCount', String(c.snap_retain_count)],
    ['autopurge.purgeInterval', String(c.purge_interval_hours)],
  ];
}

/** os.arch as Java's os.arch spells it. */
const JAVA_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: 'x86', arm64: 'aarch64' };

function safe(read: () => string): string {
  try {
    return read();
  } catch {
    return '<NA>';
  }
}

/** `envi` lines: Environment.list()'s keys in order, with Node's facts (java.* = the runtime). */
export function collectEnvironment(version: string): [string, string][] {
  const heap = getHeapStatistics();
  const mb = (n: number) => `${Math.floor(n / (1024 * 1024))}MB`;
  return [
    ['zookeeper.version', version],
    ['host.name', safe(hostname)],
    ['java.version', process.versions.node],
    ['java.vendor', 'Node.js'],
    ['java.home', dirname(dirname(process.execPath))],
    ['java.class.path', process.argv[1] ?? '<NA>'],
    ['java.library.path', process.env['LD_LIBRARY_PATH'] ?? '<NA>'],
    ['java.io.tmpdir', tmpdir()],
    ['java.compiler', '<NA>'],
    ['os.name', osType()],
    ['os.arch', JAVA_ARCH[process.arch] ?? process.arch],
    ['os.version', release()],
    ['user.name', safe(() => userInfo().username)],
    ['user.home', safe(homedir)],
    ['user.dir', process.cwd()],
    ['os.memory.free', mb(heap.total_heap_size - heap.used_heap_size)],
    ['os.memory.max', mb(heap.heap_size_limit)],
    ['os.memory.total', mb(heap.total_heap_size)],
  ];
}

/**
 * sysp (SystemPropertiesCommand) lists the JVM's system properties, sorted by name; waitfree's
 * are the process facts `envi` shows under the same names, and the platform's separators.
 */
export function systemProperties(): [string, string][] {
  const env = new Map(collectEnvironment(''));
  const from_env = ['java.class.path', 'java.home', 'java.io.tmpdir', 'java.library.path', 'java.vendor', 'java.version', 'os.arch', 'os.name', 'os.version', 'user.dir', 'user.home', 'user.name'];
  const props: [string, string][] = [
    ['file.encoding', 'UTF-8'],
    ['file.separator', sep],
    ['line.separator', EOL],
    ['path.separator', delimiter],
    ...from_env.map((k): [string, string] => [k, env.get(k) ?? '<NA>']),
  ];
  return props.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
