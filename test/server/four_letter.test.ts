// Four-letter words on the client port, answered from the live workers' stats.
//
// How these fail: a word not recognised in the first 4 bytes is taken for a frame length and the
// connection closes with no text; stats not gathered from the commit worker leave Node count
// unchanged after creates; connections not counted leave zk_num_alive_connections below the
// number of open sessions; a whitelist not applied answers mntr with the metrics.

import { readFileSync, statSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { maxOpenFilesOf } from '../../src/metrics/process_fds.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireClient } from '../support/wire_client.js';
import { fourLetter } from '../support/servers.js';
import { OPEN_ACL, asReply, connectClient, connectMany, sleep, startTestServer, type TestServer } from './harness.js';

function field(reply: string, pattern: RegExp): string {
  const m = reply.match(pattern);
  if (m === null) throw new Error(`${pattern} not found in:\n${reply}`);
  return m[1];
}

describe('four-letter words, whitelist *', () => {
  let server: TestServer;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2, four_letter_whitelist: '*' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('ruok answers imok; isro answers rw', async () => {
    expect(await fourLetter(server.port, 'ruok')).toBe('imok');
    expect(await fourLetter(server.port, 'isro')).toBe('rw');
  });

  it('srvr and stat report version, standalone mode, and a node count that grows by N after N creates', async () => {
    const { client: c } = await connectClient(server.port);
    clients.push(c);
    const before = await fourLetter(server.port, 'srvr');
    expect(before).toContain('Zookeeper version:');
    expect(before).toContain('Mode: standalone');
    const n0 = Number(field(before, /^Node count: (\d+)$/m));
    const N = 7;
    for (let i = 0; i < N; i++) expect(asReply(await c.request(1, { path: `/count-${i}`, data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const after = await fourLetter(server.port, 'srvr');
    expect(Number(field(after, /^Node count: (\d+)$/m))).toBe(n0 + N);
    const stat = await fourLetter(server.port, 'stat');
    expect(stat).toContain('Zookeeper version:');
    expect(stat).toContain('Mode: standalone');
    expect(stat).toContain('Clients:');
    expect(Number(field(stat, /^Node count: (\d+)$/m))).toBe(n0 + N);
  });

  // The Go client's FLWSrvr (go-zookeeper/zk flw.go) parses srvr with one pattern and waits on
  // it to see a test cluster up; an answer it does not match makes every one of its cluster
  // tests fail to start. Its parts, as that client writes them:
  it('srvr matches what the Go client parses: version, "built on" this build\'s time, latency, counters, zxid, mode', async () => {
    const version = String.raw`^Zookeeper version: ([A-Za-z0-9\.\-]+), built on ((\d\d/\d\d/\d\d\d\d|\d\d\d\d-\d\d-\d\d) \d\d:\d\d [A-Za-z0-9:\+\-]+)`;
    const latency = String.raw`^Latency min/avg/max: (\d+)/([0-9.]+)/(\d+)`;
    const counters = String.raw`^Received: (\d+).*\n^Sent: (\d+).*\n^Connections: (\d+).*\n^Outstanding: (\d+)`;
    const state = String.raw`^Zxid: (0x[A-Za-z0-9]+).*\n^Mode: (\w+).*\n^Node count: (\d+)`;
    const go_flw_srvr = new RegExp(`^${version}.*\n${latency}.*\n${counters}.*\n${state}`, 'm');
    const srvr = await fourLetter(server.port, 'srvr');
    const m = go_flw_srvr.exec(srvr);
    expect(m, srvr).not.toBeNull();
    expect(m![12]).toBe('standalone');
    // The build time is the compiled code's (dist/cli/version.js, written by the build).
    const built = statSync(new URL('../../dist/cli/version.js', import.meta.url)).mtime;
    const at = new Date(`${m![2]!.replace(' UTC', 'Z').replace(' ', 'T')}`);
    expect(Math.abs(at.getTime() - built.getTime())).toBeLessThan(60_000);
  });

  it('mntr has zk_znode_count and zk_num_alive_connections counting the open sessions', async () => {
    const opened = await connectMany(server.port, 3);
    clients.push(...opened);
    const mntr = await fourLetter(server.port, 'mntr');
    const znodes = Number(field(mntr, /^zk_znode_count\t(\d+)$/m));
    expect(znodes).toBeGreaterThanOrEqual(2); // at least / and /zookeeper
    const alive = Number(field(mntr, /^zk_num_alive_connections\t(\d+)$/m));
    expect(alive).toBeGreaterThanOrEqual(clients.filter((c) => !c.isClosed()).length);
    // Closing sessions lowers the count again.
    for (const c of opened) c.destroy();
    const settled = async (): Promise<number> => Number(field(await fourLetter(server.port, 'mntr'), /^zk_num_alive_connections\t(\d+)$/m));
    let now = await settled();
    for (let i = 0; i < 50 && now > alive - opened.length; i++) {
      await sleep(20);
      now = await settled();
    }
    expect(now).toBeLessThanOrEqual(alive - opened.length);
  });

  it("mntr's ZooKeeper counters follow the traffic: connection requests, bytes in and out", async () => {
    const counter = (mntr: string, name: string): number => Number(field(mntr, new RegExp(`^zk_${name}\\t(\\d+)$`, 'm')));
    const before = await fourLetter(server.port, 'mntr');
    const opened = await connectMany(server.port, 3);
    clients.push(...opened);
    expect(asReply(await opened[0]!.request(1, { path: '/mntr-counters', data: Buffer.alloc(1000), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    const after = await fourLetter(server.port, 'mntr');
    // 3 sessions and the second mntr's own connection.
    expect(counter(after, 'connection_request_count') - counter(before, 'connection_request_count')).toBe(4);
    expect(counter(after, 'bytes_received_count') - counter(before, 'bytes_received_count')).toBeGreaterThan(1000);
    expect(counter(after, 'response_bytes')).toBeGreaterThan(counter(before, 'response_bytes'));
    expect(counter(after, 'connection_rejected')).toBe(0);
    expect(counter(after, 'looking_count')).toBe(0); // standalone: never in an election
  });

  it('mntr counts the open file descriptors (client and server sockets, both in this process) and gives the limit', async () => {
    const fds = async (): Promise<number> => Number(field(await fourLetter(server.port, 'mntr'), /^zk_open_file_descriptor_count\t(\d+)$/m));
    const before = await fds();
    const opened = await connectMany(server.port, 10);
    try {
      // Client and server run in this one process: 10 connections are at least 10 more sockets.
      expect((await fds()) - before).toBeGreaterThanOrEqual(10);
    } finally {
      for (const c of opened) c.destroy();
    }
    const max = Number(field(await fourLetter(server.port, 'mntr'), /^zk_max_file_descriptor_count\t(\d+)$/m));
    expect(max).toBe(maxOpenFilesOf(readFileSync('/proc/self/limits', 'utf8')));
    // The admin server's monitor command asks for them too (its needs name them).
    const monitor = (await (await fetch(`http://127.0.0.1:${server.admin!.port}/commands/monitor`)).json()) as Record<string, unknown>;
    expect(monitor['max_file_descriptor_count']).toBe(max);
    expect(monitor['open_file_descriptor_count']).toBeGreaterThan(0);
  });

  it('wchs, wchc, wchp, dump and envi show a session, its watch and its ephemeral', async () => {
    // Fails if watch tables or ephemerals are not gathered from the shards / commit worker.
    const { client: c, response } = await connectClient(server.port);
    clients.push(c);
    const sid = `0x${response.sessionId.toString(16)}`;
    expect(asReply(await c.request(1, { path: '/w4', data: null, acl: OPEN_ACL, flags: 1 })).err).toBe(0);
    expect(asReply(await c.request(4, { path: '/w4', watch: true })).err).toBe(0);
    expect(await fourLetter(server.port, 'wchs')).toMatch(/^\d+ connections watching \d+ paths\nTotal watches:\d+/);
    expect(await fourLetter(server.port, 'wchc')).toContain(`${sid}\n\t/w4`);
    expect(await fourLetter(server.port, 'wchp')).toContain(`/w4\n\t${sid}`);
    const dump = await fourLetter(server.port, 'dump');
    expect(dump).toContain('Sessions with Ephemerals');
    expect(dump).toContain(`${sid}:\n\t/w4`);
    expect(await fourLetter(server.port, 'envi')).toMatch(/^Environment:\nzookeeper\.version=/);
  });

  it('conf lists clientPort as the port actually bound', async () => {
    // With clientPort=0 the kernel picks the port; ZooKeeper's conf prints the bound port
    // (ZooKeeperServer.getClientPort() = serverCnxnFactory.getLocalPort()).
    const conf = await fourLetter(server.port, 'conf');
    expect(conf).toMatch(/^clientPort=\d+$/m);
    expect(Number(field(conf, /^clientPort=(\d+)$/m))).toBe(server.port);
  });

  it('cons lists a connected client with its session id', async () => {
    const { client, response } = await connectClient(server.port);
    clients.push(client);
    expect(asReply(await client.request(3, { path: '/', watch: false })).err).toBe(0);
    const cons = await fourLetter(server.port, 'cons');
    const sid = BigInt.asUintN(64, response.sessionId).toString(16);
    expect(cons).toContain(`sid=0x${sid}`);
    expect(cons).toMatch(/\/127\.0\.0\.1:\d+\[/);
  });
});

describe('four-letter words, default whitelist', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 1 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('mntr answers the not-whitelisted text; srvr still works', async () => {
    expect(await fourLetter(server.port, 'mntr')).toBe('mntr is not executed because it is not in the whitelist.');
    const srvr = await fourLetter(server.port, 'srvr');
    expect(srvr).toContain('Zookeeper version:');
    expect(srvr).toContain('Mode: standalone');
  });
});

/** Sends `parts` on one connection, `gap_ms` apart, half-closes when `end`, and resolves with
 *  what the server wrote and whether it closed the connection. */
function rawWord(port: number, parts: readonly Buffer[], end: boolean, gap_ms = 50): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connectTcp({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ text, closed: false });
    }, 3_000);
    sock.on('data', (b) => (text += b.toString('utf8')));
    sock.on('error', reject);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    void (async () => {
      for (const p of parts) {
        sock.write(p);
        await sleep(gap_ms);
      }
      if (end) sock.end();
    })();
  });
}

function stmk(mask: bigint): Buffer {
  const b = Buffer.alloc(12);
  b.write('stmk', 0, 'latin1');
  b.writeBigInt64BE(mask, 4);
  return b;
}

describe('four-letter words that change something: srst, crst, stmk', () => {
  let server: TestServer;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2, four_letter_whitelist: '*' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('srst resets what srvr counts (Received, Sent, latency); the sessions and the tree stay', async () => {
    const { client: c } = await connectClient(server.port);
    clients.push(c);
    for (let i = 0; i < 12; i++) expect(asReply(await c.request(1, { path: `/srst-${i}`, data: Buffer.alloc(64), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    // A getData of 1000 bytes: its reply is 16 (header) + 4 + 1000 (data) + 68 (Stat) bytes.
    expect(asReply(await c.request(1, { path: '/srst-big', data: Buffer.alloc(1000), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    expect(asReply(await c.request(4, { path: '/srst-big', watch: false })).err).toBe(0);
    const sizes = await fourLetter(server.port, 'mntr');
    expect(field(sizes, /^zk_last_client_response_size\t(-?\d+)$/m)).toBe('1088');
    expect(field(sizes, /^zk_max_client_response_size\t(-?\d+)$/m)).toBe('1088');
    expect(Number(field(sizes, /^zk_min_client_response_size\t(-?\d+)$/m))).toBeLessThan(1088);
    const before = await fourLetter(server.port, 'srvr');
    expect(Number(field(before, /^Received: (\d+)$/m))).toBeGreaterThanOrEqual(12);
    expect(Number(field(before, /^Sent: (\d+)$/m))).toBeGreaterThanOrEqual(12);
    expect(await fourLetter(server.port, 'srst')).toBe('Server stats reset.\n');
    const after = await fourLetter(server.port, 'srvr');
    expect(field(after, /^Received: (\d+)$/m)).toBe('0');
    expect(field(after, /^Sent: (\d+)$/m)).toBe('0');
    expect(field(after, /^Latency min\/avg\/max: (.*)$/m)).toBe('0/0.0/0');
    expect(field(after, /^Node count: (\d+)$/m)).toBe(field(before, /^Node count: (\d+)$/m));
    expect(await fourLetter(server.port, 'mntr')).toMatch(/^zk_last_client_response_size\t-1\nzk_max_client_response_size\t-1\nzk_min_client_response_size\t-1$/m);
    // Counting starts again from the reset.
    expect(asReply(await c.request(3, { path: '/srst-0', watch: false })).err).toBe(0);
    const again = await fourLetter(server.port, 'srvr');
    expect(field(again, /^Received: (\d+)$/m)).toBe('1');
    expect(field(again, /^Sent: (\d+)$/m)).toBe('1');
  });

  it('crst resets every connection\'s counters and last operation in cons', async () => {
    const { client: c, response } = await connectClient(server.port);
    clients.push(c);
    for (let i = 0; i < 5; i++) expect(asReply(await c.request(4, { path: '/', watch: false })).err).toBe(0);
    const sid = `sid=0x${BigInt.asUintN(64, response.sessionId).toString(16)}`;
    const line = (cons: string): string => cons.split('\n').find((l) => l.includes(sid)) ?? '';
    const before = line(await fourLetter(server.port, 'cons'));
    expect(field(before, /recved=(\d+)/)).toBe('6'); // the ConnectRequest and 5 getData
    expect(field(before, /lop=(\w+)/)).toBe('GETD');
    expect(await fourLetter(server.port, 'crst')).toBe('Connection stats reset.\n');
    const after = line(await fourLetter(server.port, 'cons'));
    expect(field(after, /recved=(\d+)/)).toBe('0');
    expect(field(after, /sent=(\d+)/)).toBe('0');
    expect(field(after, /lop=(\w+)/)).toBe('NA');
    expect(field(after, /lzxid=(0x[0-9a-f]+|-?\w+)/)).toBe('0xffffffffffffffff');
    // The session goes on.
    expect(asReply(await c.request(4, { path: '/', watch: false })).err).toBe(0);
  });

  it('gtmk answers 306 until stmk sets the mask from its 8-byte argument, however that arrives', async () => {
    expect(await fourLetter(server.port, 'gtmk')).toBe('306');
    expect(await rawWord(server.port, [stmk(12n)], true)).toEqual({ text: '12', closed: true });
    expect(await fourLetter(server.port, 'gtmk')).toBe('12');
    // The argument in two pieces, the word without its last byte in the first.
    const b = stmk(-2n);
    expect(await rawWord(server.port, [b.subarray(0, 3), b.subarray(3, 7), b.subarray(7)], false)).toEqual({ text: '-2', closed: true });
    expect(await fourLetter(server.port, 'gtmk')).toBe('-2');
  });

  it('stmk whose argument ends short is closed unanswered and changes nothing', async () => {
    expect(await rawWord(server.port, [stmk(99n).subarray(0, 7)], true)).toEqual({ text: '', closed: true });
    expect(await fourLetter(server.port, 'gtmk')).not.toBe('99');
  });
});

describe('mntr zk_stale_sessions_expired', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ tick_time_ms: 100, read_workers: 1, four_letter_whitelist: '*' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('counts the sessions the server expired, not the ones closed by their client', async () => {
    const expired = async (): Promise<number> => Number(field(await fourLetter(server.port, 'mntr'), /^zk_stale_sessions_expired\t(\d+)$/m));
    expect(await expired()).toBe(0);
    const { client: closed } = await connectClient(server.port, { timeout_ms: 400 });
    expect(asReply(await closed.request(-11, null)).err).toBe(0); // closeSession
    closed.destroy();
    const gone = await connectMany(server.port, 2, { timeout_ms: 400 });
    for (const c of gone) c.destroy(); // the sessions live on until they expire
    for (let i = 0; i < 100 && (await expired()) < 2; i++) await sleep(50);
    expect(await expired()).toBe(2);
  });
});
