// The Zab operational surface of a real 3-replica ensemble (one process per replica on
// 127.0.0.1), as an operator's tools see it: the admin HTTP commands leader / voting_view /
// zabstate with ZooKeeper's fields, mntr of the leader vs a follower, isro, and /metrics after
// writes (proposal latency, ACK latency per follower, elections), then a follower restart that
// the leader serves with a sync (diff_count / snap_count / trunc_count moves), and a refused
// stranger on the quorum port (waitfree_quorum_links_refused_total moves).
//
// The ensemble helper writes every member with the admin server off; this test turns it on by
// rewriting each member's zoo.cfg (a free admin port) while that member is stopped.

import { readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fourLetter } from '../../src/check/four_letter.js';
import { ZooKeeperClient } from '../../src/client/index.js';
import { freePort } from '../../src/check/launch.js';
import { encodeHello } from '../../src/replication/peer_hello.js';
import { familyValue, parseExposition, sampleValue } from '../metrics/prometheus_parse.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { modeOf, serving } from '../support/ensemble_roles.js';

const SETTLE_MS = 60_000;
const TEST_MS = 180_000;
const HTTP_TIMEOUT_MS = 5_000;
const WRITES = 30;

/** Stops each member, points its admin server at a free port, starts it again: sid -> admin port. */
async function enableAdmin(e: Ensemble): Promise<Map<number, number>> {
  const ports = new Map<number, number>();
  for (const m of e.members) {
    await e.kill(m.sid, 'SIGKILL');
    const port = await freePort();
    const text = readFileSync(m.cfgPath, 'utf8');
    if (!text.includes('admin.enableServer=false\n')) throw new Error(`${m.cfgPath}: no admin.enableServer=false line to replace`);
    writeFileSync(m.cfgPath, text.replace('admin.enableServer=false\n', `admin.serverPort=${port}\nadmin.serverAddress=127.0.0.1\n`));
    ports.set(m.sid, port);
  }
  for (const m of e.members) await e.restart(m.sid);
  return ports;
}

async function http(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  return { status: r.status, body: await r.text() };
}

async function command(port: number, name: string): Promise<Record<string, unknown>> {
  const r = await http(port, `/commands/${name}`);
  expect(r.status, `${name}: ${r.body}`).toBe(200);
  return JSON.parse(r.body) as Record<string, unknown>;
}

async function mntr(client_port: number): Promise<Map<string, string>> {
  const text = await fourLetter(client_port, 'mntr', HTTP_TIMEOUT_MS);
  return new Map(text.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t') as [string, string]));
}

/** Learner syncs the leader served so far, every mode. */
function syncsServed(metrics_text: string): number {
  const f = parseExposition(metrics_text);
  return familyValue(f, 'diff_count') + familyValue(f, 'snap_count') + familyValue(f, 'trunc_count');
}

/** Bytes the leader sent in learner sync streams so far, every mode. */
function syncBytes(metrics_text: string): number {
  const f = parseExposition(metrics_text);
  return ['diff', 'snap', 'trunc'].reduce((n, mode) => n + familyValue(f, 'waitfree_sync_bytes_total', { mode }), 0);
}

describe('Zab operations on a 3-replica ensemble', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it('admin leader / voting_view / zabstate, mntr of leader vs follower, /metrics after writes and after a follower restart', async () => {
    e = await startEnsemble({ replicas: 3 });
    const ens = e;
    const admin = await enableAdmin(ens);
    const answers = await ens.waitFor(serving(ens), SETTLE_MS);
    const leader = ens.members.find((m) => modeOf(answers.get(m.sid)) === 'leader')!;
    const followers = ens.members.filter((m) => m.sid !== leader.sid);
    const adminOf = (sid: number): number => admin.get(sid)!;

    // leader: ZooKeeper's three fields, the same leader seen from every member.
    for (const m of ens.members) {
      expect(await command(adminOf(m.sid), 'leader')).toEqual({
        is_leader: m.sid === leader.sid,
        leader_id: leader.sid,
        leader_ip: '127.0.0.1',
        command: 'leader',
        error: null,
      });
    }

    // voting_view: every participant, host:quorum:election:participant;client.
    const view = await command(adminOf(followers[0]!.sid), 'voting_view');
    expect(view['current_config']).toEqual(
      Object.fromEntries(ens.members.map((m) => [String(m.sid), `127.0.0.1:${m.quorum_port}:${m.election_port}:participant;127.0.0.1:${m.client_port}`])),
    );

    // zabstate: myid, role, addresses, the Zab phase and the peer state line.
    for (const m of ens.members) {
      const z = await command(adminOf(m.sid), 'zabstate');
      expect(z).toMatchObject({
        myid: m.sid,
        is_leader: m.sid === leader.sid,
        quorum_address: `127.0.0.1:${m.quorum_port}`,
        election_address: `127.0.0.1:${m.election_port}`,
        client_address: `127.0.0.1:${m.client_port}`,
        voting: true,
        zabstate: 'broadcast',
        peer_state: m.sid === leader.sid ? 'leading - broadcast' : 'following - broadcast',
      });
      expect(z['last_zxid']).toMatch(/^0x[0-9a-f]+$/);
    }

    // Writes through a follower (forwarded) and through the leader.
    const clients = await Promise.all(
      [followers[0]!, leader].map((m) => ZooKeeperClient.connect(`127.0.0.1:${m.client_port}`, { sessionTimeout_ms: 10_000 })),
    );
    try {
      for (let i = 0; i < WRITES; i++) await clients[i % 2]!.create(`/ops-${i}`, 'x'.repeat(10 + i * 10));
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    }

    // mntr: the leader reports its learners and proposal sizes; a follower does not.
    const lm = await mntr(leader.client_port);
    expect(lm.get('zk_server_state')).toBe('leader');
    expect(lm.get('zk_peer_state')).toBe('leading - broadcast');
    expect(lm.get('zk_learners')).toBe('2');
    expect(lm.get('zk_synced_followers')).toBe('2');
    expect(lm.get('zk_pending_syncs')).toBe('0');
    expect(lm.get('zk_quorum_size')).toBe('3');
    const max_size = Number(lm.get('zk_max_proposal_size'));
    const min_size = Number(lm.get('zk_min_proposal_size'));
    expect(min_size).toBeGreaterThan(0);
    expect(max_size).toBeGreaterThan(min_size); // the data sizes differ by 290 bytes
    expect(Number(lm.get('zk_last_proposal_size'))).toBeGreaterThan(0);
    const fm = await mntr(followers[0]!.client_port);
    expect(fm.get('zk_server_state')).toBe('follower');
    expect(fm.get('zk_peer_state')).toBe('following - broadcast');
    expect(fm.has('zk_learners')).toBe(false);
    expect(fm.has('zk_max_proposal_size')).toBe(false);
    expect(await fourLetter(followers[1]!.client_port, 'isro', HTTP_TIMEOUT_MS)).toBe('rw');
    expect(await command(adminOf(leader.sid), 'isro')).toMatchObject({ read_only: false });

    // /metrics on the leader: a quorum latency per proposal, ACK latencies of both followers.
    const before = await http(adminOf(leader.sid), '/metrics');
    expect(before.status).toBe(200);
    const lf = parseExposition(before.body);
    expect(familyValue(lf, 'proposal_count')).toBeGreaterThanOrEqual(WRITES);
    expect(sampleValue(before.body, 'quorum_ack_latency_count')).toBeGreaterThanOrEqual(WRITES);
    for (const f of followers) expect(sampleValue(before.body, `ack_latency_count{key="${f.sid}"}`), `ACKs of ${f.sid}`).toBeGreaterThan(0);
    // Milliseconds, measured on one clock: positive, and far below the test's own duration.
    const mean_quorum_ms = sampleValue(before.body, 'quorum_ack_latency_sum') / sampleValue(before.body, 'quorum_ack_latency_count');
    expect(mean_quorum_ms).toBeGreaterThan(0);
    expect(mean_quorum_ms).toBeLessThan(5_000);
    expect(familyValue(lf, 'learners')).toBe(2);
    for (const m of ens.members) {
      const text = (await http(adminOf(m.sid), '/metrics')).body;
      expect(sampleValue(text, 'election_time_count'), `election_time of ${m.sid}`).toBeGreaterThanOrEqual(1);
      expect(familyValue(parseExposition(text), 'looking_count'), `looking_count of ${m.sid}`).toBeGreaterThanOrEqual(1);
    }

    // A follower restart: the leader syncs it (DIFF here), and says so.
    const served_before = syncsServed(before.body);
    const bytes_before = syncBytes(before.body);
    const writer = await ZooKeeperClient.connect(`127.0.0.1:${leader.client_port}`, { sessionTimeout_ms: 10_000 });
    try {
      await ens.kill(followers[1]!.sid, 'SIGKILL');
      for (let i = 0; i < 10; i++) await writer.create(`/while-down-${i}`);
      await ens.restart(followers[1]!.sid);
      await ens.waitFor(serving(ens), SETTLE_MS);
    } finally {
      await writer.close().catch(() => undefined);
    }
    const after = (await http(adminOf(leader.sid), '/metrics')).body;
    expect(syncsServed(after)).toBeGreaterThan(served_before);
    expect(syncBytes(after)).toBeGreaterThan(bytes_before); // at least the 10 txns it missed

    // A hello naming a sid that is no member: refused, and counted.
    const refused = (text: string): number => familyValue(parseExposition(text), 'waitfree_quorum_links_refused_total');
    const refused_before = refused(after);
    const stranger = net.connect({ host: '127.0.0.1', port: leader.quorum_port });
    stranger.on('error', () => {});
    stranger.write(encodeHello(99));
    await new Promise<void>((r) => stranger.once('close', () => r()));
    expect(refused((await http(adminOf(leader.sid), '/metrics')).body)).toBe(refused_before + 1);
  }, TEST_MS);
});
