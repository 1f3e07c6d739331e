// The admin HTTP API side by side with Apache ZooKeeper 3.8's (its Jetty AdminServer, with the
// Jetty and Jackson jars Debian's libzookeeper-java depends on): the same commands under the same
// names, each answering the fields ZooKeeper's answers, and the commands that change something
// (stat_reset, connection_stat_reset, set_trace_mask) doing what ZooKeeper's do.
//
// How these fail: a command ZooKeeper serves answered 404 here; a field renamed, missing or
// invented; a reset that answers "done" and resets nothing; a trace mask that does not stick.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Op } from '../../src/protocol/opcodes.js';
import { ADMIN_JARS, startServer, type RunningServer, type ServerKind } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';
import { WireClient } from '../support/wire_client.js';

const zk_missing = missingTools([...APACHE_ZK_FILES, ...ADMIN_JARS], true);
toolPresenceTest("Apache ZooKeeper 3.8's admin server (Jetty, Jackson)", zk_missing);

type Json = Record<string, unknown>;

const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

async function fetchJson(server: RunningServer, command: string): Promise<Json> {
  const r = await fetch(`http://127.0.0.1:${server.adminPort}/commands/${command}`);
  expect(r.status, `${server.kind} ${command}`).toBe(200);
  return (await r.json()) as Json;
}

async function commandNames(server: RunningServer): Promise<string[]> {
  const r = await fetch(`http://127.0.0.1:${server.adminPort}/commands`);
  const html = await r.text();
  return [...html.matchAll(/href="\/commands\/([a-z_]+)"/g)].map((m) => m[1]!).sort();
}

const keys = (o: unknown): string[] => Object.keys(o as Json).sort();

/** What a command is asked with (set_trace_mask needs its argument). */
function request(name: string): string {
  return name === 'set_trace_mask' ? 'set_trace_mask?traceMask=306' : name;
}

/**
 * Commands whose fields are not ZooKeeper's one for one, and why. ZooKeeper's fields must all be
 * there (`extra_ok`: ours may add), or ours must all be ZooKeeper's (`subset_ok`).
 */
const FIELD_RULES: Readonly<Record<string, 'extra_ok' | 'subset_ok'>> = {
  // waitfree's own settings follow ZooKeeper's nine keys.
  configuration: 'extra_ok',
  // "truncated": a listing is cut at waitfree.watch.listingBytesMax.
  watches: 'extra_ok',
  watches_by_path: 'extra_ok',
  // ZooKeeper's metrics registry (hundreds of processor timings) is not waitfree's; what waitfree
  // names it names as ZooKeeper does (its own are waitfree_*, dropped below).
  monitor: 'subset_ok',
  // The JVM's system properties; waitfree's are the process facts under the JVM's names.
  system_properties: 'subset_ok',
};

describe.skipIf(zk_missing.length > 0)('admin API side by side with Apache ZooKeeper 3.8', () => {
  const servers = new Map<ServerKind, RunningServer>();
  const clients: WireClient[] = [];

  beforeAll(async () => {
    const [wf, zk] = await Promise.all([startServer('waitfree', { admin: true }), startServer('zookeeper', { admin: true })]);
    servers.set('waitfree', wf);
    servers.set('zookeeper', zk);
    // A session on each, so that connections and stats list one.
    for (const s of [wf, zk]) {
      const { client, outcome } = await WireClient.connect(s.port);
      expect(outcome.kind).toBe('connected');
      clients.push(client);
    }
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await Promise.all([...servers.values()].map((s) => s.stop()));
  });

  const wf = (): RunningServer => servers.get('waitfree')!;
  const zk = (): RunningServer => servers.get('zookeeper')!;

  it('lists the same commands', async () => {
    expect(await commandNames(wf())).toEqual(await commandNames(zk()));
  });

  it("every command answers ZooKeeper's fields, nested ones too", async () => {
    for (const name of await commandNames(zk())) {
      const [ours, theirs] = await Promise.all([fetchJson(wf(), request(name)), fetchJson(zk(), request(name))]);
      expect(ours['error'], `${name}: ${JSON.stringify(ours)}`).toBe(theirs['error']);
      const rule = FIELD_RULES[name];
      const mine = keys(ours).filter((k) => !k.startsWith('waitfree_'));
      if (rule === 'extra_ok') expect(mine, name).toEqual(expect.arrayContaining(keys(theirs)));
      else if (rule === 'subset_ok') expect(keys(theirs), name).toEqual(expect.arrayContaining(mine));
      else expect(mine, name).toEqual(keys(theirs));
    }
    for (const name of ['server_stats', 'stats']) {
      const [ours, theirs] = await Promise.all([fetchJson(wf(), name), fetchJson(zk(), name)]);
      expect(keys(ours['server_stats']), name).toEqual(keys(theirs['server_stats']));
      expect(keys(ours['client_response']), name).toEqual(keys(theirs['client_response']));
    }
    for (const [name, field] of [['connections', 'connections'], ['stats', 'connections']] as const) {
      const [ours, theirs] = await Promise.all([fetchJson(wf(), name), fetchJson(zk(), name)]);
      const a = ours[field] as Json[];
      const b = theirs[field] as Json[];
      expect(a.length, `${name} ${JSON.stringify(a)}`).toBeGreaterThan(0);
      expect(keys(a[0]), name).toEqual(keys(b[0]));
    }
  });

  it('stat_reset, connection_stat_reset and set_trace_mask do what ZooKeeper\'s do', async () => {
    for (const [i, s] of [wf(), zk()].entries()) {
      const c = clients[i]!;
      for (let n = 0; n < 5; n++) expect((await c.request(Op.exists, { path: '/', watch: false })).err).toBe(0);
      const stats = async () => (await fetchJson(s, 'server_stats'))['server_stats'] as Json;
      expect((await stats())['packets_received'], s.kind).toEqual(expect.any(Number));
      expect((await stats())['packets_received'] as number, s.kind).toBeGreaterThanOrEqual(5);
      await new Promise((r) => setTimeout(r, 200)); // every reply counted (see below)
      expect(await fetchJson(s, 'stat_reset'), s.kind).toEqual({ command: 'stat_reset', error: null });
      expect(await stats(), s.kind).toMatchObject({ packets_received: 0, packets_sent: 0, min_latency: 0, max_latency: 0, avg_latency: 0 });

      const row = async () => ((await fetchJson(s, 'connections'))['connections'] as Json[])[0]!;
      expect(await row(), s.kind).toMatchObject({ last_operation: 'EXIS' });
      expect(await fetchJson(s, 'connection_stat_reset'), s.kind).toEqual({ command: 'connection_stat_reset', error: null });
      expect(await row(), s.kind).toMatchObject({ packets_received: 0, packets_sent: 0, last_operation: 'NA', last_cxid: -1, last_zxid: -1 });

      expect(await fetchJson(s, 'get_trace_mask'), s.kind).toEqual({ tracemask: 306, command: 'get_trace_mask', error: null });
      expect(await fetchJson(s, 'set_trace_mask?traceMask=12'), s.kind).toEqual({ tracemask: 12, command: 'set_trace_mask', error: null });
      expect((await fetchJson(s, 'gtmk'))['tracemask'], s.kind).toBe(12);
      await fetchJson(s, 'set_trace_mask?traceMask=306');
    }
  });

  it('the same requests give the same counters and reply sizes on both', async () => {
    const seen = new Map<ServerKind, unknown>();
    for (const [i, s] of [wf(), zk()].entries()) {
      const c = clients[i]!;
      expect((await c.request(Op.create, { path: '/admin-diff', data: new Uint8Array(700), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
      // ZooKeeper counts a reply sent once its selector thread's write returns, which can be after
      // the client has it: a reset right away may land before the create's reply is counted.
      await new Promise((r) => setTimeout(r, 200));
      await fetchJson(s, 'stat_reset');
      await fetchJson(s, 'connection_stat_reset');
      for (let n = 0; n < 3; n++) expect((await c.request(Op.getData, { path: '/admin-diff', watch: false })).err).toBe(0);
      expect((await c.request(Op.exists, { path: '/admin-diff-none', watch: false })).err).not.toBe(0);
      const stats = (await fetchJson(s, 'server_stats'))['server_stats'] as Json;
      const row = ((await fetchJson(s, 'connections'))['connections'] as Json[])[0]!;
      seen.set(s.kind, {
        server: { packets_received: stats['packets_received'], packets_sent: stats['packets_sent'], client_response_stats: stats['client_response_stats'] },
        connection: { packets_received: row['packets_received'], packets_sent: row['packets_sent'], last_operation: row['last_operation'] },
      });
    }
    // 4 requests, 4 replies; the largest a getData of 700 bytes (16 + 4 + 700 + 68), the last an
    // exists answered NONODE (a bare header).
    expect(seen.get('waitfree')).toEqual(seen.get('zookeeper'));
    expect(seen.get('waitfree')).toMatchObject({ server: { packets_received: 4, client_response_stats: { last_buffer_size: 16, max_buffer_size: 788 } } });
  });
});
