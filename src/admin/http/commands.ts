// The AdminServer commands (`GET /commands/<name>`) that make sense for waitfree, as data: names
// (ZooKeeper's primary name first, then its aliases) and what each answers. Field names are
// ZooKeeper's (admin/Commands.java and the maps it serializes, snake_case as Jackson writes
// them); every answer also carries "command" (the primary name) and "error" (null when fine).
// Pure: the answers are built from one ServerStats snapshot (four_letter.ts) and a few facts.

import { monitorEntries, type ConnectionStats, type ServerStats, type StatsPart, type WatchListing } from '../four_letter.js';
import { leaderInfo, votingView, zabStateInfo } from '../zab_state.js';
import type { JsonValue } from './json.js';
import type { BufferSizes } from '../../metrics/buffer_stats.js';
import type { StatsReset } from '../../workers/control.js';

export type JsonObject = { [key: string]: JsonValue };

/** What a command may read besides the stats snapshot. */
export interface AdminFacts {
  /** The last snapshot's zxid and completion time (epoch ms); -1 and -1 when none yet. */
  readonly last_snapshot: { readonly zxid: number; readonly timestamp_ms: number };
  /** The text trace mask (ZooTrace's; gtmk, stmk). */
  readonly trace_mask: bigint;
  /** The config file's text as the server read it at start (ZooKeeper's getInitialConfig). */
  readonly initial_configuration: string;
  /** The process's properties (sysp): ZooKeeper lists the JVM's system properties. */
  readonly system_properties: readonly (readonly [string, string])[];
}

/** What the commands that change something may do (srst, crst, stmk). */
export interface AdminActions {
  resetStats(scope: StatsReset): Promise<void>;
  setTraceMask(mask: bigint): void;
}

/** A command's query arguments (`?traceMask=12`), as ZooKeeper's kwargs. */
export type AdminArgs = ReadonlyMap<string, string>;

/**
 * Primary name first (the answer's "command"), then aliases, as ZooKeeper's Commands.java.
 * Three kinds: 'stats' commands read one stats snapshot and say which costly parts they read
 * (`needs`, as the four-letter words do), so the counters-only ones (srvr, mntr, wchs...) never
 * wait for a watch listing; 'facts' commands answer without asking the workers (ruok must answer
 * even when they are slow); 'action' commands change something, and when `server_required`
 * (ZooKeeper's isServerRequired) only while the replica serves.
 */
export type AdminCommand =
  | {
      readonly names: readonly string[];
      readonly kind: 'stats';
      readonly needs: readonly StatsPart[];
      /** When it answers (default 'serving': otherwise 503 and ZooKeeper's not-serving error). */
      readonly answers_when?: AnswersWhen;
      run(s: ServerStats): JsonObject;
    }
  | { readonly names: readonly string[]; readonly kind: 'facts'; run(facts: AdminFacts): JsonObject }
  | {
      readonly names: readonly string[];
      readonly kind: 'action';
      readonly server_required: boolean;
      run(actions: AdminActions, args: AdminArgs): Promise<JsonObject> | JsonObject;
    };

/**
 * 'serving': ZooKeeper's server-required commands; 'always': its commands that answer without a
 * running server (zabstate); 'serving_or_read_only': a replica in read-only mode runs a
 * (read-only) server, so isro answers there too.
 */
export type AnswersWhen = 'serving' | 'always' | 'serving_or_read_only';

/** Whether a stats command answers with this snapshot. */
export function answersNow(when: AnswersWhen | undefined, s: ServerStats): boolean {
  if (when === 'always') return true;
  if (when === 'serving_or_read_only') return s.serving || s.read_only;
  return s.serving;
}

/** ZooKeeper's message when a command needs a running server that is not there. */
export const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

/** Jackson's InetSocketAddress text: "127.0.0.1:5000", "[::1]:5000". */
function socketAddress(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** ServerCnxn.getConnectionInfo(brief). */
export function connectionInfo(c: ConnectionStats, brief: boolean): JsonObject {
  const info: JsonObject = {
    remote_socket_address: socketAddress(c.remote_address, c.remote_port),
    interest_ops: c.interest_ops,
    outstanding_requests: c.queued,
    packets_received: c.packets_received,
    packets_sent: c.packets_sent,
  };
  if (brief) return info;
  return {
    ...info,
    session_id: c.session_id,
    last_operation: c.last_op,
    established: c.established_ms,
    session_timeout: c.timeout_ms,
    last_cxid: c.last_cxid,
    last_zxid: c.last_zxid,
    last_response_time: c.last_response_ms,
    last_latency: c.last_latency_ms,
    min_latency: c.min_latency_ms,
    avg_latency: c.avg_latency_ms,
    max_latency: c.max_latency_ms,
  };
}

/** mntr's values under their JSON names (no zk_ prefix); numbers stay numbers. */
export function monitorValues(s: ServerStats): [string, string | number][] {
  return monitorEntries(s).map(([k, v]) => {
    const name = k.replace(/^zk_/, '');
    const n = Number(v);
    return [name, v !== '' && Number.isFinite(n) ? n : v];
  });
}

/** ServerStats as the srvr/stats JSON shows it (Jackson's bean properties, snake_case). */
function serverStats(s: ServerStats): JsonObject {
  return {
    packets_sent: s.packets_sent,
    packets_received: s.packets_received,
    fsync_threshold_exceed_count: s.fsync_time.over_threshold,
    client_response_stats: bufferStats(s.client_response),
    data_dir_size: s.data_dir_bytes,
    log_dir_size: s.log_dir_bytes,
    last_processed_zxid: s.zxid,
    outstanding_requests: s.outstanding_requests,
    server_state: s.mode,
    avg_latency: Math.round(s.latency_avg_ms * 1e4) / 1e4,
    max_latency: s.latency_max_ms,
    min_latency: s.latency_min_ms,
    num_alive_client_connections: s.num_alive_connections,
    provider_null: false,
    uptime: s.uptime_ms,
    auth_failed_count: 0,
    non_mtlsremote_conn_count: 0,
    non_mtlslocal_conn_count: 0,
  };
}

/** BufferStats as Jackson writes it: ZooKeeper's "none yet" is -1. */
function bufferStats(b: BufferSizes): JsonObject {
  return { last_buffer_size: b.last, min_buffer_size: b.min, max_buffer_size: b.max };
}

function srvr(s: ServerStats): JsonObject {
  const q = s.quorum;
  return {
    version: s.version,
    read_only: s.read_only,
    server_stats: serverStats(s),
    client_response: bufferStats(s.client_response),
    // A leader's (SrvrCommand: leader.getProposalStats()).
    ...(q ? { proposal_stats: bufferStats({ last: q.last_proposal_size ?? -1, min: q.min_proposal_size ?? -1, max: q.max_proposal_size ?? -1 }) } : {}),
    node_count: s.node_count,
  };
}

/**
 * wchc / wchp as ZooKeeper's maps (session id → paths, path → session ids), plus `truncated`:
 * true when the listing was cut at waitfree.watch.listingBytesMax.
 */
function watchMap(s: ServerStats, order: WatchListing['order'], field: string): JsonObject {
  const listing = s.watch_listing;
  if (listing === null || listing.order !== order) throw new RangeError(`the ${order} watch listing was not gathered`);
  const map: { [key: string]: JsonValue } = {};
  if (listing.order === 'by_session') for (const [id, paths] of listing.groups) map[id.toString()] = [...paths];
  else for (const [path, ids] of listing.groups) map[path] = [...ids];
  return { [field]: map, truncated: listing.truncated };
}

function watchSummary(s: ServerStats): JsonObject {
  const w = s.watch_summary;
  return { num_connections: w.connections, num_paths: w.paths, num_total_watches: w.total };
}

/**
 * SessionTracker.getSessionExpiryMap: expiry time → ids of the sessions expiring then; empty on a
 * follower or observer, whose LearnerSessionTracker expires nothing.
 */
function dump(s: ServerStats): JsonObject {
  const expiry = new Map<string, bigint[]>();
  const learner = s.mode === 'follower' || s.mode === 'observer';
  for (const x of learner ? [] : [...s.sessions].sort((a, b) => a.expire_at_ms - b.expire_at_ms)) {
    const key = String(x.expire_at_ms);
    expiry.set(key, [...(expiry.get(key) ?? []), x.session_id]);
  }
  const ephemerals = Object.fromEntries(s.ephemerals.map((e) => [e.session_id.toString(), [...e.paths]]));
  return { expiry_time_to_session_ids: Object.fromEntries(expiry), session_id_to_ephemeral_paths: ephemerals };
}

/** zoo.cfg name in `conf` → ZooKeeperServerConf.toMap's key; entries absent here keep their name. */
const CONF_KEYS: Readonly<Record<string, string | null>> = {
  clientPort: 'client_port',
  dataDir: 'data_dir',
  dataLogDir: 'data_log_dir',
  tickTime: 'tick_time',
  maxClientCnxns: 'max_client_cnxns',
  minSessionTimeout: 'min_session_timeout',
  maxSessionTimeout: 'max_session_timeout',
  serverId: 'server_id',
  clientPortListenBacklog: 'client_port_listen_backlog',
  // Shown by the four-letter word only.
  secureClientPort: null,
  dataDirSize: null,
  dataLogSize: null,
};

/** ZooKeeper's nine keys, then waitfree's own settings under their zoo.cfg names, typed. */
function conf(s: ServerStats): JsonObject {
  const out: JsonObject = {};
  for (const [name, text] of s.conf) {
    const key = name in CONF_KEYS ? CONF_KEYS[name] : name;
    if (key === null) continue;
    out[key] = typedConfValue(key, text);
  }
  return out;
}

function typedConfValue(key: string, text: string): JsonValue {
  if (text === 'true' || text === 'false') return text === 'true';
  const n = Number(text);
  // Paths and lists stay text even when they look numeric.
  return text !== '' && Number.isFinite(n) && !key.includes('dir') && !key.includes('whitelist') ? n : text;
}

/**
 * set_trace_mask's argument: a decimal long, as Long.parseLong reads it (an optional sign, no
 * spaces, within int64); null when it is not one.
 */
export function parseTraceMask(text: string): bigint | null {
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const n = BigInt(text);
  return n === BigInt.asIntN(64, n) ? n : null;
}

async function setTraceMask(actions: AdminActions, args: AdminArgs): Promise<JsonObject> {
  const text = args.get('traceMask');
  if (text === undefined) return { error: 'setTraceMask requires long traceMask argument' };
  const mask = parseTraceMask(text);
  if (mask === null) return { error: `setTraceMask requires long traceMask argument, got ${text}` };
  actions.setTraceMask(mask);
  return { tracemask: mask };
}

/** SyncedObserverConsCommand: a leader's synced observers (by id: waitfree keeps no per-link
 *  packet counters); 0 and none elsewhere. */
function observers(s: ServerStats): JsonObject {
  const ids = s.quorum?.synced_observer_ids ?? [];
  return { synced_observers: ids.length, observers: ids.map((sid) => ({ sid })) };
}

/** stat_reset / connection_stat_reset: server-required, answer nothing but command and error. */
function resetCommand(names: readonly string[], scope: StatsReset): AdminCommand {
  return {
    names,
    kind: 'action',
    server_required: true,
    run: async (a) => {
      await a.resetStats(scope);
      return {};
    },
  };
}

export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  { names: ['configuration', 'conf', 'config'], kind: 'stats', needs: ['conf'], run: (s) => conf(s) },
  resetCommand(['connection_stat_reset', 'crst'], 'connections'),
  { names: ['connections', 'cons'], kind: 'stats', needs: ['connections'], run: (s) => ({ connections: s.connections.map((c) => connectionInfo(c, false)), secure_connections: [] }) },
  { names: ['dirs'], kind: 'stats', needs: [], run: (s) => ({ datadir_size: s.data_dir_bytes, logdir_size: s.log_dir_bytes }) },
  { names: ['dump'], kind: 'stats', needs: ['sessions', 'ephemerals'], run: (s) => dump(s) },
  { names: ['environment', 'env', 'envi'], kind: 'stats', needs: ['environment'], run: (s) => Object.fromEntries(s.environment) },
  { names: ['get_trace_mask', 'gtmk'], kind: 'facts', run: (f) => ({ tracemask: f.trace_mask }) },
  // ZooKeeper's digest log (zookeeper.digest.enabled): waitfree keeps no tree digests.
  { names: ['hash'], kind: 'stats', needs: [], run: () => ({ digests: [] }) },
  { names: ['initial_configuration', 'icfg'], kind: 'facts', run: (f) => ({ initial_configuration: f.initial_configuration }) },
  { names: ['is_read_only', 'isro'], kind: 'stats', needs: [], answers_when: 'serving_or_read_only', run: (s) => ({ read_only: s.read_only }) },
  {
    names: ['last_snapshot', 'lsnp'],
    kind: 'facts',
    run: (f) => ({ zxid: BigInt.asUintN(64, BigInt(f.last_snapshot.zxid)).toString(16), timestamp: f.last_snapshot.timestamp_ms }),
  },
  // A standalone server has no leader: ZooKeeper answers an error there, and an empty voting view
  // and zab state (admin/zab_state.ts).
  { names: ['leader', 'lead'], kind: 'stats', needs: [], run: (s) => leaderInfo(s.zab ?? null) },
  { names: ['monitor', 'mntr'], kind: 'stats', needs: ['file_descriptors', 'quotas'], run: (s) => Object.fromEntries(monitorValues(s)) },
  // Resets the observer links' counters, which waitfree does not keep: nothing to reset.
  { names: ['observer_connection_stat_reset', 'orst'], kind: 'action', server_required: true, run: () => ({}) },
  { names: ['observers', 'obsr'], kind: 'stats', needs: [], run: (s) => observers(s) },
  { names: ['ruok'], kind: 'facts', run: () => ({}) },
  { names: ['set_trace_mask', 'stmk'], kind: 'action', server_required: false, run: (a, args) => setTraceMask(a, args) },
  { names: ['server_stats', 'srvr'], kind: 'stats', needs: [], run: (s) => srvr(s) },
  // Every connection, TLS ones too, is in "connections" (one listener answers both ports).
  {
    names: ['stats', 'stat'],
    kind: 'stats',
    needs: ['connections'],
    run: (s) => ({ ...srvr(s), connections: s.connections.map((c) => connectionInfo(c, true)), secure_connections: [] }),
  },
  resetCommand(['stat_reset', 'srst'], 'server'),
  { names: ['system_properties', 'sysp'], kind: 'facts', run: (f) => Object.fromEntries(f.system_properties) },
  { names: ['voting_view'], kind: 'stats', needs: [], run: (s) => votingView(s.zab ?? null) },
  { names: ['watch_summary', 'wchs'], kind: 'stats', needs: [], run: (s) => watchSummary(s) },
  { names: ['watches', 'wchc'], kind: 'stats', needs: ['watches_by_session'], run: (s) => watchMap(s, 'by_session', 'session_id_to_watched_paths') },
  { names: ['watches_by_path', 'wchp'], kind: 'stats', needs: ['watches_by_path'], run: (s) => watchMap(s, 'by_path', 'path_to_session_ids') },
  // Not server-required in ZooKeeper: it answers during an election too (peer_state "looking").
  { names: ['zabstate'], kind: 'stats', needs: [], answers_when: 'always', run: (s) => zabStateInfo(s.zab ?? null) },
];

const BY_NAME = new Map<string, AdminCommand>(ADMIN_COMMANDS.flatMap((c) => c.names.map((n) => [n, c] as const)));

export function adminCommand(name: string): AdminCommand | undefined {
  return BY_NAME.get(name);
}

/** CommandResponse.toMap: data, then command and error, then data again (a data "error" wins). */
export function commandResponse(primary: string, error: string | null, data: JsonObject = {}): JsonObject {
  return { ...data, command: primary, error, ...data };
}
