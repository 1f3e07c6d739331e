// The Zab operational surface, from fixed snapshots and a real topology's SABs (no threads, no
// sockets): leader / voting_view / zabstate as ZooKeeper shapes them, mntr of a leader vs a
// follower, isro in read-only mode, and the Zab metric block reaching /metrics under
// ZooKeeper's names.
//
// How these fail: a follower reporting leader-only gauges, a peer state that does not read as
// ZooKeeper's ("following - synchronization - diff"), observers listed as voters, leader_id not
// -1 without a leader, a command that should answer during an election answering 503 (or the
// reverse), isro saying "null" for a replica that serves read-only clients, ACK latencies of two
// followers merged or lost, a Zab family missing from the scrape.

import { NO_SIZES } from '../../src/metrics/buffer_stats.js';
import { describe, expect, it } from 'vitest';
import { confEntries, formatFourLetter, fullVersion, monitorEntries, type ServerStats, type ZabView } from '../../src/admin/four_letter.js';
import { answerAdminHttp } from '../../src/admin/http/admin_router.js';
import { adminDeps } from '../../src/admin/http/replica_sources.js';
import { RecordingControl } from '../support/recording_control.js';
import { peerState } from '../../src/admin/zab_state.js';
import { DEFAULT_CONFIG } from '../../src/config/server_config.js';
import { ACK_PEERS_MAX, readZabMetrics, ZabMetrics } from '../../src/metrics/zab_metrics.js';
import { createTopology } from '../../src/workers/topology.js';
import { familyValue, parseExposition, sampleValue } from '../metrics/prometheus_parse.js';

/** A fixed build time: fullVersion prints it after the version (", built on ..."). */
const BUILT = new Date(Date.UTC(2026, 11, 5, 13, 5, 42));

const MEMBERS: ZabView['members'] = [
  { sid: 1, host: '127.0.0.1', quorum_port: 3001, election_port: 3002, role: 'participant', client_host: '127.0.0.1', client_port: 2181 },
  { sid: 2, host: '127.0.0.1', quorum_port: 3003, election_port: 3004, role: 'participant', client_host: '127.0.0.1', client_port: 2182 },
  { sid: 3, host: '::1', quorum_port: 3005, election_port: 3006, role: 'participant', client_host: null, client_port: null },
  { sid: 4, host: '127.0.0.1', quorum_port: 3007, election_port: 3008, role: 'observer', client_host: '127.0.0.1', client_port: 2184 },
];

const LEADER_VIEW: ZabView = {
  my_sid: 2, state: 'LEADING', phase: 'broadcast', sync_mode: null, leader_sid: 2, members: MEMBERS,
  client_address: '127.0.0.1:2182', last_zxid: 0x300000007n,
};
const FOLLOWER_VIEW: ZabView = { ...LEADER_VIEW, my_sid: 1, state: 'FOLLOWING', client_address: '127.0.0.1:2181' };
const LOOKING_VIEW: ZabView = { ...FOLLOWER_VIEW, state: 'LOOKING', phase: 'election', leader_sid: null };

const BASE: ServerStats = {
  version: fullVersion('0.1.0', BUILT), serving: true, read_only: false, mode: 'leader',
  latency_min_ms: 0, latency_avg_ms: 0, latency_max_ms: 0, packets_received: 0, packets_sent: 0,
  num_alive_connections: 0, outstanding_requests: 0, zxid: 0x300000007n, node_count: 5, watch_count: 0,
  ephemerals_count: 0, approximate_data_size: 0, file_descriptors: null,
  uptime_ms: 1000, global_sessions: 0, data_dir_bytes: 0, log_dir_bytes: 0, trace_mask: 306n, read_workers: 1, quota_samples: [],
  rings: [], extra_metrics: [], client_response: NO_SIZES, zk_counters: [], connections: [], sessions: [], ephemerals: [],
  watch_summary: { connections: 0, paths: 0, total: 0 }, watch_listing: null,
  conf: confEntries(DEFAULT_CONFIG, { client_port: 2182, data_dir_abs: '/d', data_log_dir_abs: '/d', data_dir_bytes: 0, log_dir_bytes: 0 }),
  conf_membership: null,
  fsync_time: { count: 0, sum_ms: 0, min_ms: 0, max_ms: 0, over_threshold: 0 },
  environment: [],
};

const LEADER: ServerStats = {
  ...BASE,
  zab: LEADER_VIEW,
  quorum: { followers: 3, synced_followers: 2, synced_non_voting_followers: 0, synced_observers: 1, synced_observer_ids: [4], pending_syncs: 0, leader_uptime_ms: 5400, last_proposal_size: 120, min_proposal_size: 40, max_proposal_size: 900 },
};
const FOLLOWER: ServerStats = { ...BASE, mode: 'follower', zab: FOLLOWER_VIEW, quorum: null };
const LOOKING: ServerStats = { ...BASE, mode: 'looking', serving: false, zab: LOOKING_VIEW, quorum: null };

function setup(stats: ServerStats) {
  const topology = createTopology({ ...DEFAULT_CONFIG, read_workers: 1, ring_net_to_shard_bytes: 1 << 21, ring_shard_to_net_bytes: 1 << 21, ring_shard_to_commit_bytes: 1 << 21, ring_commit_stream_bytes: 1 << 21 });
  return { topology, deps: adminDeps(topology, async () => stats, new RecordingControl(), '') };
}

async function command(stats: ServerStats, name: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const a = await answerAdminHttp('GET', `/commands/${name}`, setup(stats).deps);
  return { status: a.status, json: JSON.parse(a.body) as Record<string, unknown> };
}

describe('peer state (mntr zk_peer_state, zabstate)', () => {
  it('reads as ZooKeeper getDetailedPeerState', () => {
    expect(peerState(LEADER_VIEW)).toBe('leading - broadcast');
    expect(peerState(FOLLOWER_VIEW)).toBe('following - broadcast');
    expect(peerState({ ...FOLLOWER_VIEW, phase: 'sync', sync_mode: 'diff' })).toBe('following - synchronization - diff');
    expect(peerState({ ...FOLLOWER_VIEW, phase: 'discovery' })).toBe('following - discovery');
    expect(peerState(LOOKING_VIEW)).toBe('looking');
  });
});

describe('admin commands leader, voting_view, zabstate', () => {
  it('leader: is_leader, leader_id, leader_ip on the leader and on a follower', async () => {
    expect(await command(LEADER, 'leader')).toEqual({ status: 200, json: { is_leader: true, leader_id: 2, leader_ip: '127.0.0.1', command: 'leader', error: null } });
    expect((await command(FOLLOWER, 'lead')).json).toMatchObject({ is_leader: false, leader_id: 2, leader_ip: '127.0.0.1', command: 'leader' });
  });

  it('observers: the leader lists its synced observers by id; elsewhere none', async () => {
    expect(await command(LEADER, 'observers')).toEqual({ status: 200, json: { synced_observers: 1, observers: [{ sid: 4 }], command: 'observers', error: null } });
    expect((await command(FOLLOWER, 'obsr')).json).toEqual({ synced_observers: 0, observers: [], command: 'observers', error: null });
    expect((await command(LOOKING, 'observers')).status).toBe(503);
  });

  it('leader and voting_view need a serving server; zabstate answers during an election', async () => {
    expect((await command(LOOKING, 'leader')).status).toBe(503);
    expect((await command(LOOKING, 'voting_view')).status).toBe(503);
    const z = await command(LOOKING, 'zabstate');
    expect(z.status).toBe(200);
    expect(z.json).toMatchObject({ myid: 1, is_leader: false, zabstate: 'election', peer_state: 'looking', voting: true });
  });

  it('voting_view lists the voting members only, by sid, in ZooKeeper text', async () => {
    expect((await command(FOLLOWER, 'voting_view')).json).toEqual({
      current_config: {
        '1': '127.0.0.1:3001:3002:participant;127.0.0.1:2181',
        '2': '127.0.0.1:3003:3004:participant;127.0.0.1:2182',
        '3': '[::1]:3005:3006:participant',
      },
      command: 'voting_view',
      error: null,
    });
  });

  it('zabstate: ZooKeeper 3.9 fields (last zxid split into epoch and counter) and the peer state', async () => {
    expect((await command(LEADER, 'zabstate')).json).toEqual({
      myid: 2,
      is_leader: true,
      quorum_address: '127.0.0.1:3003',
      election_address: '127.0.0.1:3004',
      client_address: '127.0.0.1:2182',
      voting: true,
      last_zxid: '0x300000007',
      zab_epoch: 3,
      zab_counter: 7,
      zabstate: 'broadcast',
      peer_state: 'leading - broadcast',
      command: 'zabstate',
      error: null,
    });
    const observer = await command({ ...FOLLOWER, zab: { ...FOLLOWER_VIEW, my_sid: 4, state: 'OBSERVING' } }, 'zabstate');
    expect(observer.json).toMatchObject({ myid: 4, voting: false, peer_state: 'observing - broadcast' });
  });

  it('a standalone server answers as ZooKeeper outside a quorum', async () => {
    const standalone: ServerStats = { ...BASE, mode: 'standalone', zab: null, quorum: null };
    expect((await command(standalone, 'leader')).json).toMatchObject({ error: 'server is not initialized' });
    expect((await command(standalone, 'voting_view')).json).toMatchObject({ current_config: {}, error: null });
    expect((await command(standalone, 'zabstate')).json).toMatchObject({ voting: false, zabstate: '' });
  });
});

describe('mntr: leader vs follower', () => {
  it('the leader adds learners and proposal sizes; a follower only its peer state', () => {
    const leader = new Map(monitorEntries(LEADER));
    expect(leader.get('zk_server_state')).toBe('leader');
    expect(leader.get('zk_peer_state')).toBe('leading - broadcast');
    expect(leader.get('zk_quorum_size')).toBe('3');
    expect(leader.get('zk_learners')).toBe('3');
    expect(leader.get('zk_synced_followers')).toBe('2');
    expect(leader.get('zk_synced_observers')).toBe('1');
    expect(leader.get('zk_pending_syncs')).toBe('0');
    expect(leader.get('zk_last_proposal_size')).toBe('120');
    expect(leader.get('zk_min_proposal_size')).toBe('40');
    expect(leader.get('zk_max_proposal_size')).toBe('900');
    expect(leader.get('zk_synced_non_voting_followers')).toBe('0');
    expect(leader.get('zk_leader_uptime')).toBe('5400');
    // ZooKeeper 3.5+ names them learners only.
    expect(leader.has('zk_followers')).toBe(false);
    // srvr's leader line, the proposal sizes as BufferStats prints them.
    expect(formatFourLetter('srvr', LEADER)).toMatch(/Mode: leader\nNode count: 5\nProposal sizes last\/min\/max: 120\/40\/900\n$/);
    expect(formatFourLetter('srvr', FOLLOWER)).not.toContain('Proposal sizes');
    const follower = new Map(monitorEntries(FOLLOWER));
    expect(follower.get('zk_peer_state')).toBe('following - broadcast');
    for (const k of ['zk_learners', 'zk_synced_followers', 'zk_pending_syncs', 'zk_last_proposal_size']) expect(follower.has(k), k).toBe(false);
    // In read-only mode a member serves as ZooKeeper's ReadOnlyZooKeeperServer: no quorum gauges.
    const read_only = new Map(monitorEntries({ ...FOLLOWER, mode: 'read-only' }));
    expect(read_only.get('zk_server_state')).toBe('read-only');
    expect(read_only.has('zk_peer_state') || read_only.has('zk_quorum_size')).toBe(false);
  });
});

describe('dump', () => {
  it("a learner lists the global sessions by id with their timeouts (LearnerSessionTracker); a leader its expiry buckets", () => {
    const sessions = [
      { session_id: 0x300005a518b0001n, timeout_ms: 10000, expire_at_ms: 1_700_000_010_000 },
      { session_id: 0x100005a518b0000n, timeout_ms: 30000, expire_at_ms: 1_700_000_030_000 },
    ];
    const follower = formatFourLetter('dump', { ...FOLLOWER, sessions });
    expect(follower).toMatch(/^SessionTracker dump:\nGlobal Sessions\(2\):\n0x100005a518b0000\t30000ms\n0x300005a518b0001\t10000ms\nephemeral nodes dump:\n/);
    expect(formatFourLetter('dump', { ...LEADER, sessions })).toMatch(/^SessionTracker dump:\nSession Sets \(2\)\/\(2\):\n/);
  });
});

describe('isro', () => {
  it('rw while serving, ro in read-only mode (even outside a quorum), null when not serving', async () => {
    expect(formatFourLetter('isro', FOLLOWER)).toBe('rw');
    expect(formatFourLetter('isro', { ...LOOKING, read_only: true })).toBe('ro');
    expect(formatFourLetter('isro', LOOKING)).toBe('null');
    expect((await command({ ...LOOKING, read_only: true }, 'isro')).json).toMatchObject({ read_only: true, error: null });
    expect((await command(LOOKING, 'is_read_only')).status).toBe(503);
  });
});

describe('Zab metrics in /metrics', () => {
  it('election, syncs, proposals and per-follower ACK latency appear under ZooKeeper names', async () => {
    const { topology, deps } = setup(LEADER);
    const z = new ZabMetrics(topology.metrics.zab);
    z.looking();
    z.electionDone(180);
    z.unavailableDone(420);
    z.syncServed('diff');
    z.syncBytes('diff', 300);
    z.syncServed('snap');
    z.syncBytes('snap', 5000);
    for (let i = 0; i < 3; i++) z.proposal();
    z.quorumAck(0.8);
    z.quorumAck(3);
    z.ack(3, 0.7);
    z.ack(1, 2);
    z.ack(3, 30);
    const a = await answerAdminHttp('GET', '/metrics', deps);
    expect(a.status).toBe(200);
    const families = parseExposition(a.body);
    expect(familyValue(families, 'looking_count')).toBe(1);
    expect(familyValue(families, 'diff_count')).toBe(1);
    expect(familyValue(families, 'snap_count')).toBe(1);
    expect(familyValue(families, 'trunc_count')).toBe(0);
    expect(familyValue(families, 'waitfree_sync_bytes_total', { mode: 'snap' })).toBe(5000);
    expect(familyValue(families, 'proposal_count')).toBe(3);
    expect(sampleValue(a.body, 'election_time_sum')).toBe(180);
    expect(sampleValue(a.body, 'election_time_bucket{le="250"}')).toBe(1);
    expect(sampleValue(a.body, 'unavailable_time_count')).toBe(1);
    expect(sampleValue(a.body, 'quorum_ack_latency_count')).toBe(2);
    expect(sampleValue(a.body, 'quorum_ack_latency_bucket{le="1"}')).toBe(1);
    expect(sampleValue(a.body, 'ack_latency_count{key="3"}')).toBe(2);
    expect(sampleValue(a.body, 'ack_latency_sum{key="3"}')).toBeCloseTo(30.7);
    expect(sampleValue(a.body, 'ack_latency_count{key="1"}')).toBe(1);
    // mntr's leader gauges reach /metrics too (learner count under ZooKeeper's name).
    expect(familyValue(families, 'learners')).toBe(3);
    expect(familyValue(families, 'max_proposal_size')).toBe(900);
  });

  it('keeps ACK_PEERS_MAX followers apart, counts the rest, and a new writer finds the claimed slots', () => {
    const { topology } = setup(LEADER);
    const z = new ZabMetrics(topology.metrics.zab);
    for (let sid = 1; sid <= ACK_PEERS_MAX + 2; sid++) z.ack(sid, 1);
    new ZabMetrics(topology.metrics.zab).ack(5, 1);
    const t = readZabMetrics(topology.metrics.zab);
    expect(t.ack_ms).toHaveLength(ACK_PEERS_MAX);
    expect(t.ack_ms.find((x) => x.sid === 5)!.latency.count).toBe(2);
    expect(t.ack_untracked).toBe(2);
    expect(() => z.syncServed('bogus' as 'diff')).toThrow(/bogus/);
  });

  it('server 0 is a follower like any other (ZooKeeper accepts server.0), also for a new writer', () => {
    const { topology } = setup(LEADER);
    new ZabMetrics(topology.metrics.zab).ack(0, 3);
    new ZabMetrics(topology.metrics.zab).ack(0, 5);
    const t = readZabMetrics(topology.metrics.zab);
    expect(t.ack_ms.map((x) => [x.sid, x.latency.count])).toEqual([[0, 2]]);
    expect(t.ack_untracked).toBe(0);
  });
});

describe('an admin answer that fails', () => {
  it('is a 500 naming the failure, never a request left open', async () => {
    const { deps } = setup(LEADER);
    const failing = { ...deps, metrics: () => { throw new RangeError('metrics: bad metric name "x-y"'); } };
    const a = await answerAdminHttp('GET', '/metrics', failing);
    expect(a.status).toBe(500);
    expect(a.body).toBe('internal error answering /metrics: metrics: bad metric name "x-y"\n');
  });
});
