// The admin HTTP API over real HTTP, on both backends: uWebSockets.js and the native-free
// node:http twin. Every endpoint is hit; values are the ones an operator reads.
//
// How these fail: the net worker not forwarding (timeouts, 503), the supervisor answering from
// stale or partial stats (znode_count unchanged after creates), counters not written on the
// reply path or not summed over shards (per-op counter short of M), a scrape the Prometheus
// parser rejects, ZooKeeper's field names misspelt, aliases not resolved to the primary name.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_COMMANDS } from '../../src/admin/http/commands.js';
import type { WireClient } from '../support/wire_client.js';
import { familyValue, parseExposition, sampleValue } from '../metrics/prometheus_parse.js';
import { OPEN_ACL, asReply, connectClient, connectMany, nativeFromEnv, startTestServer, type TestServer } from '../server/harness.js';

interface Fetched {
  status: number;
  type: string;
  text: string;
}

async function get(server: TestServer, path: string, method = 'GET'): Promise<Fetched> {
  if (server.admin === null) throw new Error('admin server is off');
  const r = await fetch(`http://${server.admin.address}:${server.admin.port}${path}`, { method });
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

/** GET /commands/<name>, expecting a 200 JSON answer. */
async function command(server: TestServer, name: string): Promise<Record<string, unknown>> {
  const r = await get(server, `/commands/${name}`);
  expect(r.status, `${name}: ${r.text}`).toBe(200);
  expect(r.type).toContain('application/json');
  return JSON.parse(r.text) as Record<string, unknown>;
}

async function scrape(server: TestServer): Promise<string> {
  const r = await get(server, '/metrics');
  expect(r.status).toBe(200);
  expect(r.type).toContain('text/plain; version=0.0.4');
  return r.text;
}

// WAITFREE_NATIVE=false (CI's native-free step) overrides waitfree.native for the whole process.
const BACKENDS = [
  { native: true, backend: nativeFromEnv() ? 'uWebSockets.js' : 'node:http' },
  { native: false, backend: 'node:http' },
];

describe.each(BACKENDS)('admin HTTP API on $backend', ({ native, backend }) => {
  let server: TestServer;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2, native, four_letter_whitelist: '*' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('listens on loopback with the chosen backend', () => {
    expect(server.admin).toMatchObject({ address: '127.0.0.1', backend });
    expect(server.admin!.port).toBeGreaterThan(0);
  });

  it('ruok answers {"command":"ruok","error":null}', async () => {
    expect(await command(server, 'ruok')).toEqual({ command: 'ruok', error: null });
  });

  it('every command answers under its primary name and each alias', async () => {
    for (const cmd of ADMIN_COMMANDS) {
      for (const name of cmd.names) {
        // set_trace_mask needs its argument (an error without it, as ZooKeeper's).
        const body = await command(server, cmd.names[0] === 'set_trace_mask' ? `${name}?traceMask=306` : name);
        expect(body['command'], name).toBe(cmd.names[0]);
        // A standalone server has no leader: ZooKeeper answers that error outside a quorum.
        expect(body['error'], name).toBe(name === 'leader' || name === 'lead' ? 'server is not initialized' : null);
      }
    }
  });

  it('stat_reset and connection_stat_reset reset what server_stats and connections show', async () => {
    const { client: c } = await connectClient(server.port);
    clients.push(c);
    for (let i = 0; i < 6; i++) expect(asReply(await c.request(4, { path: '/', watch: false })).err).toBe(0);
    const stats = async () => (await command(server, 'server_stats'))['server_stats'] as Record<string, number>;
    expect((await stats())['packets_received']).toBeGreaterThanOrEqual(7);
    expect(await command(server, 'stat_reset')).toEqual({ command: 'stat_reset', error: null });
    expect(await stats()).toMatchObject({ packets_received: 0, packets_sent: 0, min_latency: 0, avg_latency: 0, max_latency: 0 });
    const mine = async () => ((await command(server, 'connections'))['connections'] as Record<string, unknown>[]).filter((x) => x['packets_received'] !== 0 || x['last_operation'] !== 'NA');
    expect((await mine()).length).toBeGreaterThanOrEqual(1);
    expect(await command(server, 'crst')).toEqual({ command: 'connection_stat_reset', error: null });
    expect(await mine()).toEqual([]);
  });

  it('get_trace_mask and set_trace_mask (traceMask argument, ZooKeeper\'s errors)', async () => {
    expect(await command(server, 'set_trace_mask?traceMask=4096')).toEqual({ tracemask: 4096, command: 'set_trace_mask', error: null });
    expect(await command(server, 'gtmk')).toEqual({ tracemask: 4096, command: 'get_trace_mask', error: null });
    const missing = await get(server, '/commands/stmk');
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.text)).toEqual({ command: 'set_trace_mask', error: 'setTraceMask requires long traceMask argument' });
    const bad = await get(server, '/commands/stmk?traceMask=12x');
    expect(JSON.parse(bad.text)['error']).toBe('setTraceMask requires long traceMask argument, got 12x');
    expect((await command(server, 'gtmk'))['tracemask']).toBe(4096);
    expect(await command(server, 'set_trace_mask?traceMask=306')).toMatchObject({ tracemask: 306 });
  });

  it('observers (none on a standalone server), system_properties, initial_configuration', async () => {
    expect(await command(server, 'obsr')).toEqual({ synced_observers: 0, observers: [], command: 'observers', error: null });
    const sysp = await command(server, 'sysp');
    expect(sysp).toMatchObject({ 'java.version': process.versions.node, 'user.dir': process.cwd(), 'path.separator': ':' });
    // An in-process server has no config file: ZooKeeper's is the file's text.
    expect(await command(server, 'icfg')).toEqual({ initial_configuration: '', command: 'initial_configuration', error: null });
  });

  it('GET /commands links every command; unknown commands and paths are 404; POST is 405', async () => {
    const index = await get(server, '/commands');
    expect(index.status).toBe(200);
    for (const cmd of ADMIN_COMMANDS) expect(index.text).toContain(`href="/commands/${cmd.names[0]}"`);
    const unknown = await get(server, '/commands/nosuch');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toEqual({ command: 'nosuch', error: 'Unknown command: nosuch' });
    expect((await get(server, '/nothing/here')).status).toBe(404);
    expect((await get(server, '/commands/ruok', 'POST')).status).toBe(405);
  });

  it('monitor and srvr: znode_count and node_count grow by N after N creates', async () => {
    const { client: c } = await connectClient(server.port);
    clients.push(c);
    const before = await command(server, 'mntr');
    const srvr_before = await command(server, 'srvr');
    const N = 6;
    for (let i = 0; i < N; i++) expect(asReply(await c.request(1, { path: `/admin-${backend}-${i}`, data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const after = await command(server, 'monitor');
    expect(after['znode_count']).toBe((before['znode_count'] as number) + N);
    expect(after['server_state']).toBe('standalone');
    expect(after['version']).toMatch(/^3\.9\.4-waitfree-/);
    expect(after['num_alive_connections']).toBeGreaterThanOrEqual(1);
    const srvr = await command(server, 'server_stats');
    expect(srvr['node_count']).toBe((srvr_before['node_count'] as number) + N);
    expect(srvr['read_only']).toBe(false);
    expect(srvr['server_stats']).toMatchObject({ server_state: 'standalone', provider_null: false });
    expect((srvr['server_stats'] as Record<string, number>)['packets_received']).toBeGreaterThan(0);
  });

  it('cons and stats list a connected client with its session id (every digit)', async () => {
    const { client, response } = await connectClient(server.port);
    clients.push(client);
    expect(asReply(await client.request(3, { path: '/', watch: false })).err).toBe(0);
    const raw = (await get(server, '/commands/cons')).text;
    expect(raw).toContain(`"session_id" : ${response.sessionId.toString()}`);
    const cons = JSON.parse(raw) as { connections: Record<string, unknown>[]; secure_connections: unknown[] };
    expect(cons.secure_connections).toEqual([]);
    const mine = cons.connections.filter((c) => c['last_operation'] === 'EXIS');
    expect(mine.length).toBeGreaterThanOrEqual(1);
    expect(mine[0]['remote_socket_address']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Object.keys(mine[0])).toEqual([
      'remote_socket_address', 'interest_ops', 'outstanding_requests', 'packets_received', 'packets_sent', 'session_id',
      'last_operation', 'established', 'session_timeout', 'last_cxid', 'last_zxid', 'last_response_time', 'last_latency',
      'min_latency', 'avg_latency', 'max_latency',
    ]);
    const stats = await command(server, 'stats');
    const brief = stats['connections'] as Record<string, unknown>[];
    expect(brief.length).toBe(cons.connections.length);
    expect(Object.keys(brief[0])).toEqual(['remote_socket_address', 'interest_ops', 'outstanding_requests', 'packets_received', 'packets_sent']);
  });

  it('watches, watches_by_path, watch_summary and dump show a session, its watch and its ephemeral', async () => {
    const { client: c, response } = await connectClient(server.port);
    clients.push(c);
    const sid = response.sessionId.toString();
    const path = `/eph-${backend}`;
    expect(asReply(await c.request(1, { path, data: null, acl: OPEN_ACL, flags: 1 })).err).toBe(0);
    expect(asReply(await c.request(4, { path, watch: true })).err).toBe(0);
    const wchc = (await get(server, '/commands/wchc')).text;
    expect(wchc).toMatch(new RegExp(`"${sid}" : \\[ "${path}" \\]`));
    const wchp = (await get(server, '/commands/watches_by_path')).text;
    expect(wchp).toContain(`"${path}" : [ ${sid} ]`);
    const wchs = await command(server, 'wchs');
    expect(wchs['num_total_watches']).toBeGreaterThanOrEqual(1);
    expect(wchs['num_paths']).toBeGreaterThanOrEqual(1);
    expect(wchs['num_connections']).toBeGreaterThanOrEqual(1);
    const dump = (await get(server, '/commands/dump')).text;
    expect(dump).toContain(`"${sid}" : [ "${path}" ]`);
    const expiry = (JSON.parse(dump) as { expiry_time_to_session_ids: Record<string, unknown[]> }).expiry_time_to_session_ids;
    expect(dump).toMatch(new RegExp(`"\\d+" : \\[[^\\]]*\\b${sid}\\b`));
    expect(Object.keys(expiry).length).toBeGreaterThanOrEqual(1);
  });

  it('configuration, environment, dirs, isro, lsnp, voting_view, zabstate', async () => {
    const conf = await command(server, 'conf');
    expect(conf['client_port']).toBe(server.port);
    expect(conf['tick_time']).toBe(2000);
    expect(conf['waitfree.readWorkers']).toBe(2);
    expect(typeof conf['data_dir']).toBe('string');
    const env = await command(server, 'environment');
    expect(env['zookeeper.version']).toMatch(/^3\.9\.4-waitfree-/);
    expect(env['java.vendor']).toBe('Node.js');
    expect(await command(server, 'dirs')).toMatchObject({ datadir_size: expect.any(Number), logdir_size: expect.any(Number) });
    expect(await command(server, 'is_read_only')).toMatchObject({ read_only: false });
    const lsnp = await command(server, 'last_snapshot');
    expect(typeof lsnp['zxid']).toBe('string');
    expect(lsnp['zxid']).toMatch(/^[0-9a-f]+$/);
    expect(typeof lsnp['timestamp']).toBe('number');
    expect(await command(server, 'voting_view')).toMatchObject({ current_config: {} });
    expect(await command(server, 'zabstate')).toMatchObject({ voting: false, zabstate: '' });
  });

  it('/metrics parses; after M getData the per-op counter and latency count grow by M; znode_count by N', async () => {
    const opened = await connectMany(server.port, 2);
    clients.push(...opened);
    const before_text = await scrape(server);
    const before = parseExposition(before_text);
    const M = 25;
    const N = 4;
    for (let i = 0; i < M; i++) expect(asReply(await opened[i % 2].request(4, { path: '/', watch: false })).err).toBe(0);
    for (let i = 0; i < N; i++) expect(asReply(await opened[0].request(1, { path: `/m-${backend}-${i}`, data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    // A request for a node that does not exist is answered with an error: counted as one.
    expect(asReply(await opened[1].request(4, { path: '/no/such/node', watch: false })).err).toBe(-101);
    const after_text = await scrape(server);
    const after = parseExposition(after_text);
    const delta = (name: string, labels: Record<string, string> = {}) => familyValue(after, name, labels) - familyValue(before, name, labels);
    expect(delta('waitfree_requests_total', { op: 'getData' })).toBe(M + 1);
    expect(delta('waitfree_request_errors_total', { op: 'getData' })).toBe(1);
    expect(delta('waitfree_requests_total', { op: 'create' })).toBe(N);
    const count = (t: string) => sampleValue(t, 'waitfree_request_latency_seconds_count{op="getData"}');
    expect(count(after_text) - count(before_text)).toBe(M + 1);
    expect(sampleValue(after_text, 'waitfree_request_latency_seconds_bucket{op="getData",le="+Inf"}')).toBe(count(after_text));
    expect(delta('znode_count')).toBe(N);
    expect(familyValue(after, 'num_alive_connections')).toBeGreaterThanOrEqual(2);
    expect(delta('waitfree_net_packets_received_total')).toBeGreaterThanOrEqual(M + N + 1);
    // Rings: one series per ring; the commit stream has one consumer per shard.
    expect(familyValue(after, 'waitfree_ring_capacity_bytes', { ring: 'net_to_shard', index: '1' })).toBeGreaterThan(0);
    const batches = after.find((f) => f.name === 'waitfree_ring_consumer_batches_total')!;
    expect(batches.metrics.filter((m) => m.labels?.['ring'] === 'commit_stream').map((m) => m.labels?.['consumer'])).toEqual(['0', '1']);
    // Writes reach the commit worker through a shard, or straight from the net worker (direct writes).
    const to_commit = (ring: string, index: string): number => delta('waitfree_ring_frames_total', { ring, index });
    expect(to_commit('shard_to_commit', '0') + to_commit('shard_to_commit', '1') + to_commit('net_to_commit', '0')).toBeGreaterThanOrEqual(N);
    expect(after.find((f) => f.name === 'waitfree_thread_wakeups_total')!.metrics.map((m) => m.labels?.['thread'])).toEqual(['net', 'commit', 'shard-0', 'shard-1']);
    for (const name of ['waitfree_commit_batch_txns', 'waitfree_fsync_latency_seconds', 'waitfree_snapshot_duration_seconds']) {
      expect(after.find((f) => f.name === name)?.type, name).toBe('HISTOGRAM');
    }
    // The commit worker reports its group commit: every create reaches the log in some batch,
    // and each batch is one write + fsync.
    expect(delta('waitfree_commit_txns_total')).toBeGreaterThanOrEqual(N);
    const fsyncs = (t: string) => sampleValue(t, 'waitfree_fsync_latency_seconds_count');
    const batches_n = (t: string) => sampleValue(t, 'waitfree_commit_batch_txns_count');
    expect(fsyncs(after_text) - fsyncs(before_text)).toBeGreaterThanOrEqual(1);
    expect(batches_n(after_text) - batches_n(before_text)).toBe(fsyncs(after_text) - fsyncs(before_text));
  });

  it('quota gauges: monitor has them under ZooKeeper\'s names; /metrics labels them by namespace, whatever its characters', async () => {
    const [c] = await connectMany(server.port, 1);
    clients.push(c);
    // A namespace no Prometheus metric name could hold.
    const ns = `my-app.${backend}`;
    const create = async (path: string, data: string) =>
      expect(asReply(await c.request(1, { path, data: new TextEncoder().encode(data), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    await create(`/${ns}`, 'abc');
    await create(`/zookeeper/quota/${ns}`, '');
    await create(`/zookeeper/quota/${ns}/zookeeper_limits`, 'count=10,bytes=-1=;countHardLimit=20');
    await create(`/zookeeper/quota/${ns}/zookeeper_stats`, 'count=0,bytes=0');
    await create(`/${ns}/child`, '12');
    const monitor = await command(server, 'monitor');
    expect(monitor[`${ns}_quota_count_limit_per_namespace`]).toBe(20);
    expect(monitor[`${ns}_quota_count_usage_per_namespace`]).toBe(2);
    expect(monitor[`${ns}_quota_bytes_usage_per_namespace`]).toBe(5);
    const families = parseExposition(await scrape(server));
    expect(familyValue(families, 'quota_count_limit_per_namespace', { key: ns })).toBe(20);
    expect(familyValue(families, 'quota_count_usage_per_namespace', { key: ns })).toBe(2);
    expect(familyValue(families, 'quota_bytes_usage_per_namespace', { key: ns })).toBe(5);
    expect(families.some((f) => f.name.includes('my-app'))).toBe(false);
  });
});

describe('admin server configuration', () => {
  it('admin.enableServer=false: no admin server', async () => {
    const server = await startTestServer({ read_workers: 1, admin_enable_server: false });
    try {
      expect(server.admin).toBeNull();
    } finally {
      await server.stop();
    }
  });

  it.each([true, false])('a port already in use leaves the replica serving without the admin API (native=%s)', async (native) => {
    const first = await startTestServer({ read_workers: 1, native });
    try {
      const second = await startTestServer({ read_workers: 1, native, admin_server_port: first.admin!.port });
      try {
        expect(second.admin).toBeNull();
        const { client } = await connectClient(second.port);
        client.destroy();
      } finally {
        await second.stop();
      }
      expect((await get(first, '/commands/ruok')).status).toBe(200);
    } finally {
      await first.stop();
    }
  });
});
