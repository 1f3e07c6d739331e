// What the admin API answers, from a fixed ServerStats and a real topology's SABs, without
// threads or sockets: exact JSON shapes (ZooKeeper's field names, 64-bit ids with every digit),
// the commit worker's metrics reaching /metrics and last_snapshot, and the error paths.
//
// How these fail: a session id rounded through a double, ZooKeeper's maps keyed or nested the
// wrong way, conf keys not renamed (clientPort instead of client_port) or values left as text,
// commit metrics written to a block the scrape does not read, a stats failure answered as 200.

import { NO_SIZES } from '../../src/metrics/buffer_stats.js';
import { describe, expect, it } from 'vitest';
import { confEntries, fullVersion, type ServerStats, type StatsPart } from '../../src/admin/four_letter.js';
import { answerAdminHttp } from '../../src/admin/http/admin_router.js';
import { adminDeps } from '../../src/admin/http/replica_sources.js';
import { RecordingControl } from '../support/recording_control.js';
import { DEFAULT_CONFIG } from '../../src/config/server_config.js';
import { CommitMetrics } from '../../src/metrics/commit_metrics.js';
import { ShardMetrics } from '../../src/metrics/shard_metrics.js';
import { createTopology } from '../../src/workers/topology.js';
import { familyValue, parseExposition, sampleValue } from '../metrics/prometheus_parse.js';

/** A fixed build time: fullVersion prints it after the version (", built on ..."). */
const BUILT = new Date(Date.UTC(2026, 11, 5, 13, 5, 42));

const T0 = 1_700_000_000_000;
const S1 = 0x100000a2b3c0001n; // 72057637346443265: more digits than a double holds exactly
const S2 = 0x100000a2b3c0002n;

const STATS: ServerStats = {
  version: fullVersion('0.1.0', BUILT),
  serving: true,
  read_only: false,
  mode: 'standalone',
  latency_min_ms: 0,
  latency_avg_ms: 0.123456,
  latency_max_ms: 17,
  packets_received: 120,
  packets_sent: 119,
  num_alive_connections: 2,
  outstanding_requests: 3,
  zxid: 0x1an,
  node_count: 8,
  watch_count: 3,
  ephemerals_count: 2,
  approximate_data_size: 456,
  file_descriptors: null,
  uptime_ms: 60000,
  global_sessions: 2,
  data_dir_bytes: 4096,
  log_dir_bytes: 8192,
  trace_mask: 306n,
  read_workers: 2,
  quota_samples: [],
  rings: [{ name: 'commit_stream_0', used_bytes: 128, capacity_bytes: 8388608 }],
  extra_metrics: [],
  client_response: NO_SIZES,
  zk_counters: [['connection_rejected', 2], ['looking_count', 1]],
  connections: [],
  sessions: [
    { session_id: S1, timeout_ms: 30000, expire_at_ms: T0 + 32000 },
    { session_id: S2, timeout_ms: 30000, expire_at_ms: T0 + 30000 },
  ],
  ephemerals: [{ session_id: S1, paths: ['/lock/n-0000000001', '/members/a'] }],
  watch_summary: { connections: 2, paths: 2, total: 3 },
  watch_listing: null,
  conf: confEntries(DEFAULT_CONFIG, { client_port: 2181, data_dir_abs: '/var/lib/waitfree', data_log_dir_abs: '/var/lib/waitfree', data_dir_bytes: 4096, log_dir_bytes: 8192 }),
  conf_membership: null,
  fsync_time: { count: 0, sum_ms: 0, min_ms: 0, max_ms: 0, over_threshold: 0 },
  environment: [['zookeeper.version', fullVersion('0.1.0', BUILT)]],
};

/** What gatherStats adds for a command's needs: the listing in the order asked, nothing else. */
function statsFor(needs: readonly StatsPart[] = []): ServerStats {
  if (needs.includes('watches_by_session')) {
    const groups = new Map([[S1, ['/config', '/members']], [S2, ['/config']]]);
    return { ...STATS, watch_listing: { order: 'by_session', groups, truncated: false, bytes_max: 1 << 20 } };
  }
  if (needs.includes('watches_by_path')) {
    const groups = new Map([['/config', [S1, S2]], ['/members', [S1]]]);
    return { ...STATS, watch_listing: { order: 'by_path', groups, truncated: false, bytes_max: 1 << 20 } };
  }
  return STATS;
}

function setup(stats: (needs?: readonly StatsPart[]) => Promise<ServerStats> = async (needs) => statsFor(needs)) {
  const topology = createTopology({ ...DEFAULT_CONFIG, read_workers: 2, ring_net_to_shard_bytes: 1 << 21, ring_shard_to_net_bytes: 1 << 21, ring_shard_to_commit_bytes: 1 << 21, ring_commit_stream_bytes: 1 << 21 });
  return { topology, deps: adminDeps(topology, stats, new RecordingControl(), '') };
}

async function get(deps: ReturnType<typeof setup>['deps'], url: string) {
  const a = await answerAdminHttp('GET', url, deps);
  return { ...a, json: a.content_type.startsWith('application/json') ? (JSON.parse(a.body) as Record<string, unknown>) : null };
}

describe('admin answers from a fixed snapshot', () => {
  it('watches, watches_by_path, watch_summary: ZooKeeper maps, ids with every digit, duplicates once', async () => {
    const { deps } = setup();
    const wchc = await get(deps, '/commands/watches');
    expect(wchc.body).toContain(`"${S1}" : [ "/config", "/members" ]`);
    expect(wchc.body).toContain(`"${S2}" : [ "/config" ]`);
    const wchp = await get(deps, '/commands/wchp');
    expect(wchp.body).toContain(`"/config" : [ ${S1}, ${S2} ]`);
    expect(wchp.body).toContain(`"/members" : [ ${S1} ]`);
    expect((await get(deps, '/commands/wchs')).json).toEqual({ num_connections: 2, num_paths: 2, num_total_watches: 3, command: 'watch_summary', error: null });
    expect(wchc.json?.['truncated']).toBe(false);
    expect(wchp.json?.['truncated']).toBe(false);
  });

  it('a cut listing says so (truncated: true)', async () => {
    const { deps } = setup(async (needs) => {
      const s = statsFor(needs);
      return { ...s, watch_listing: s.watch_listing === null ? null : { ...s.watch_listing, truncated: true } } as ServerStats;
    });
    expect((await get(deps, '/commands/watches')).json?.['truncated']).toBe(true);
    expect((await get(deps, '/commands/watches_by_path')).json?.['truncated']).toBe(true);
  });

  it('only the watches commands ask for a watch listing, each in its own order', async () => {
    // The listing is O(watches): srvr, mntr, wchs and /metrics must never make the shards build one.
    const asked: (readonly StatsPart[])[] = [];
    const { deps } = setup(async (needs = []) => {
      asked.push(needs);
      return statsFor(needs);
    });
    const listing = (n: readonly StatsPart[]) => n.filter((p) => p.startsWith('watches_'));
    for (const name of ['srvr', 'mntr', 'wchs', 'stat', 'cons', 'conf', 'envi', 'dump', 'dirs', 'isro']) {
      asked.length = 0;
      expect((await get(deps, `/commands/${name}`)).status, name).toBe(200);
      expect(asked.map(listing), name).toEqual([[]]);
    }
    asked.length = 0;
    await get(deps, '/metrics');
    expect(asked.map(listing)).toEqual([[]]);
    asked.length = 0;
    await get(deps, '/commands/wchc');
    await get(deps, '/commands/wchp');
    expect(asked.map(listing)).toEqual([['watches_by_session'], ['watches_by_path']]);
  });

  it('dump: expiry time → session ids (earliest first), session id → ephemeral paths', async () => {
    const { deps } = setup();
    const dump = await get(deps, '/commands/dump');
    expect(dump.body).toMatch(new RegExp(`"expiry_time_to_session_ids" : \\{\\n\\s+"${T0 + 30000}" : \\[ ${S2} \\],\\n\\s+"${T0 + 32000}" : \\[ ${S1} \\]`));
    expect(dump.body).toContain(`"${S1}" : [ "/lock/n-0000000001", "/members/a" ]`);
  });

  it('configuration: ZooKeeper\'s keys and types, waitfree\'s under their zoo.cfg names, no 4lw-only lines', async () => {
    const { deps } = setup();
    const conf = (await get(deps, '/commands/config')).json!;
    expect(conf).toMatchObject({
      client_port: 2181,
      data_dir: '/var/lib/waitfree',
      data_log_dir: '/var/lib/waitfree',
      tick_time: 2000,
      max_client_cnxns: 60,
      min_session_timeout: 4000,
      max_session_timeout: 40000,
      server_id: 1,
      client_port_listen_backlog: -1,
      'zookeeper.extendedTypesEnabled': false,
      '4lw.commands.whitelist': 'srvr',
      command: 'configuration',
      error: null,
    });
    for (const k of ['clientPort', 'secureClientPort', 'dataDirSize', 'dataLogSize']) expect(conf).not.toHaveProperty(k);
  });

  it('monitor and server_stats: numbers stay numbers; zxid is a JSON number', async () => {
    const { deps } = setup();
    const mntr = (await get(deps, '/commands/mntr')).json!;
    expect(mntr).toMatchObject({ znode_count: 8, avg_latency: 0.1235, server_state: 'standalone', outstanding_requests: 3, command: 'monitor' });
    const srvr = (await get(deps, '/commands/srvr')).json!;
    expect(srvr['server_stats']).toMatchObject({ last_processed_zxid: 26, outstanding_requests: 3, num_alive_client_connections: 2, data_dir_size: 4096, log_dir_size: 8192 });
    expect(srvr['client_response']).toEqual({ last_buffer_size: -1, min_buffer_size: -1, max_buffer_size: -1 });
  });

  it('last_snapshot: zxid -1 / timestamp -1 before any, then what the commit worker reported', async () => {
    const { topology, deps } = setup();
    expect((await get(deps, '/commands/lsnp')).json).toEqual({ zxid: 'ffffffffffffffff', timestamp: -1, command: 'last_snapshot', error: null });
    new CommitMetrics(topology.metrics.commit).recoveredFrom(0x10, T0);
    expect((await get(deps, '/commands/lsnp')).json).toMatchObject({ zxid: '10', timestamp: T0 });
    new CommitMetrics(topology.metrics.commit).snapshotSaved(0x2a, 120, T0 + 5000);
    expect((await get(deps, '/commands/last_snapshot')).json).toMatchObject({ zxid: '2a', timestamp: T0 + 5000 });
  });
});

describe('/metrics from the SABs', () => {
  it('commit batches, fsync latency, snapshots and per-op shard counters appear, summed, in a parseable scrape', async () => {
    const { topology, deps } = setup();
    const commit = new CommitMetrics(topology.metrics.commit);
    commit.batch(1, 100);
    commit.batch(50, 9000);
    commit.fsync(0.7);
    commit.snapshotSaved(0x2a, 1500, T0);
    new ShardMetrics(topology.metrics.shards[0]).request(1, 2, 0);
    new ShardMetrics(topology.metrics.shards[1]).request(1, 3, -110);
    const a = await answerAdminHttp('GET', '/metrics', deps);
    expect(a.status).toBe(200);
    const families = parseExposition(a.body);
    expect(familyValue(families, 'waitfree_commit_txns_total')).toBe(51);
    expect(familyValue(families, 'waitfree_commit_batch_bytes_total')).toBe(9100);
    expect(sampleValue(a.body, 'waitfree_commit_batch_txns_bucket{le="1"}')).toBe(1);
    expect(sampleValue(a.body, 'waitfree_commit_batch_txns_bucket{le="64"}')).toBe(2);
    expect(sampleValue(a.body, 'waitfree_fsync_latency_seconds_count')).toBe(1);
    expect(sampleValue(a.body, 'waitfree_snapshot_duration_seconds_sum')).toBe(1.5);
    expect(familyValue(families, 'waitfree_last_snapshot_zxid')).toBe(42);
    expect(familyValue(families, 'waitfree_requests_total', { op: 'create' })).toBe(2);
    expect(familyValue(families, 'waitfree_request_errors_total', { op: 'create' })).toBe(1);
    // ZooKeeper's gauges under ZooKeeper's names; our own mntr extras only as labelled families.
    expect(familyValue(families, 'znode_count')).toBe(8);
    expect(familyValue(families, 'global_sessions')).toBe(2);
    expect(families.some((f) => f.name.startsWith('waitfree_ring_commit_stream'))).toBe(false);
    expect(families.some((f) => f.name === 'version' || f.name === 'server_state')).toBe(false);
    // A ZooKeeper counter in mntr is a gauge here unless a family already carries it: looking_count
    // is the Zab counter's (its value from the SAB, 0), listed once.
    expect(familyValue(families, 'connection_rejected')).toBe(2);
    expect(families.filter((f) => f.name === 'looking_count').map((f) => [f.type, familyValue(families, 'looking_count')])).toEqual([['COUNTER', 0]]);
  });

  it('stats that cannot be gathered: 503, never a partial 200', async () => {
    const { deps } = setup(async () => {
      throw new Error('shard-1: no answer to stats within 5000 ms');
    });
    const m = await answerAdminHttp('GET', '/metrics', deps);
    expect(m.status).toBe(503);
    const c = await get(deps, '/commands/mntr');
    expect(c.status).toBe(503);
    expect(c.json!['error']).toMatch(/^This ZooKeeper instance is not currently serving requests: shard-1/);
    // ruok needs no stats.
    expect((await get(deps, '/commands/ruok')).status).toBe(200);
  });

  it('not serving: 503 with ZooKeeper\'s message', async () => {
    const { deps } = setup(async () => ({ ...STATS, serving: false }));
    const c = await get(deps, '/commands/srvr');
    expect(c.status).toBe(503);
    expect(c.json).toEqual({ command: 'server_stats', error: 'This ZooKeeper instance is not currently serving requests' });
  });

  it('paths: trailing slash and query ignored, percent-decoding, bad escapes', async () => {
    const { deps } = setup();
    expect((await answerAdminHttp('GET', '/commands/ruok/?x=1', deps)).status).toBe(200);
    expect((await answerAdminHttp('GET', '/commands/%72uok', deps)).status).toBe(200);
    expect((await answerAdminHttp('GET', '/commands/%zz', deps)).status).toBe(400);
    expect((await answerAdminHttp('GET', '/metrics?name[]=x', deps)).status).toBe(200);
  });
});
