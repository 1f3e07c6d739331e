// The crash test (issue 3): a child-process server under concurrent write load from several
// clients is killed with SIGKILL at random moments, many times. After each restart:
// - every write whose reply a client received is there, with its exact data and version;
// - nothing is there that no client sent (no invented znodes, data always matches version);
// - sequential counters never go back;
// - ephemerals of the sessions that died with the server are gone after their timeout.
// Snapshots (small snapCount) and segment rolls (small segments) happen during the load.
// Seed printed on failure; bounded in rounds and time.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listDataDir } from '../../src/log/data_dir.js';
import type { GetDataResponse, Stat } from '../../src/protocol/types.js';
import { WireClient } from '../support/wire_client.js';
import { startServerProcess, type ServerProcess } from './server_process.js';
import { rng } from './workload.js';

const ROUNDS = 8;
const CLIENTS = 4;
const WINDOW = 8;
const SESSION_TIMEOUT_MS = 1000;
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null): string => (b === null ? '<null>' : new TextDecoder().decode(b));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const root = mkdtempSync(join(tmpdir(), 'waitfree-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What the clients know, across rounds. */
interface Ledger {
  /** Created paths whose create was acknowledged -> their data. */
  acked_creates: Map<string, string>;
  /** Every create ever sent -> its data (acknowledged or not). */
  sent_creates: Map<string, string>;
  /** Counter node per client -> highest acknowledged version. */
  counter_versions: Map<string, number>;
  /** Highest acknowledged sequential suffix. */
  seq_max: number;
  /** Ephemerals created by sessions that died with the server. */
  dead_ephemerals: string[];
}

async function connect(port: number): Promise<WireClient> {
  const { client, outcome } = await WireClient.connect(port, { timeout_ms: SESSION_TIMEOUT_MS, handshakeTimeout_ms: 10_000 });
  if (outcome.kind !== 'connected') throw new Error('no session');
  client.startKeepalive(SESSION_TIMEOUT_MS / 4);
  return client;
}

async function ok(c: WireClient, type: number, body: unknown): Promise<void> {
  const r = await c.request(type as 1, body as never);
  if (r.err !== 0 && r.err !== -110) throw new Error(`op ${type} failed: ${r.err}`);
}

/** Checks everything the ledger promises against the restarted server. */
async function verify(c: WireClient, ledger: Ledger, seed: number): Promise<void> {
  const ctx = `seed ${seed}`;
  for (const [path, data] of ledger.acked_creates) {
    const r = await c.request(4, { path, watch: false });
    expect(r.err, `${ctx}: acknowledged ${path} is missing`).toBe(0);
    const body = r.body as GetDataResponse;
    expect(text(body.data), `${ctx}: ${path}`).toBe(data);
    expect(body.stat.version, `${ctx}: ${path} version`).toBe(0);
  }
  const children = (await c.request(8, { path: '/w', watch: false })).body as { children: string[] };
  for (const name of children.children) {
    const path = `/w/${name}`;
    expect(ledger.sent_creates.has(path), `${ctx}: ${path} was never sent (invented)`).toBe(true);
    const r = await c.request(4, { path, watch: false });
    expect(text((r.body as GetDataResponse).data), `${ctx}: ${path} data`).toBe(ledger.sent_creates.get(path));
  }
  for (const [path, acked] of ledger.counter_versions) {
    const r = await c.request(4, { path, watch: false });
    const { data, stat } = r.body as { data: Uint8Array; stat: Stat };
    expect(stat.version, `${ctx}: ${path} went back`).toBeGreaterThanOrEqual(acked);
    expect(text(data), `${ctx}: ${path} data matches its version`).toBe(String(stat.version));
  }
  // Sequential counters never go back: a new sequential node is numbered above every acked one.
  const probe = await c.request(1, { path: '/seq/s-', data: utf8('probe'), acl: OPEN, flags: 2 });
  expect(probe.err).toBe(0);
  const n = Number((probe.body as { path: string }).path.slice('/seq/s-'.length));
  expect(n, `${ctx}: sequential counter went back`).toBeGreaterThan(ledger.seq_max);
  ledger.seq_max = n;
}

/** Pipelined writes from one client until the server dies; records what was acknowledged. */
async function load(c: WireClient, id: number, round: number, ledger: Ledger, stop: { killed: boolean }): Promise<void> {
  const counter = `/ctr/c${id}`;
  let version = ledger.counter_versions.get(counter) ?? 0;
  // The counter's version after restart may be above the acked one (an unacknowledged set landed).
  const cur = await c.request(4, { path: counter, watch: false }).catch(() => null);
  if (cur !== null && cur.err === 0) version = (cur.body as { stat: Stat }).stat.version;
  const eph = `/eph/r${round}-c${id}`;
  if ((await c.request(1, { path: eph, data: utf8('e'), acl: OPEN, flags: 1 }).catch(() => null))?.err === 0) {
    ledger.dead_ephemerals.push(eph);
  }
  const inflight = new Set<Promise<void>>();
  for (let n = 0; !stop.killed && !c.isClosed(); n++) {
    let p: Promise<void>;
    if (n % 3 === 0) {
      const path = `/w/r${round}-c${id}-${n}`;
      const data = `d${round}.${id}.${n}`;
      ledger.sent_creates.set(path, data);
      p = c.request(1, { path, data: utf8(data), acl: OPEN, flags: 0 }).then((r) => {
        if (r.err === 0) ledger.acked_creates.set(path, data);
      });
    } else if (n % 3 === 1) {
      const next = version + 1;
      p = c.request(5, { path: counter, data: utf8(String(next)), version }).then((r) => {
        if (r.err === 0) ledger.counter_versions.set(counter, Math.max(ledger.counter_versions.get(counter) ?? 0, next));
      });
      version = next;
    } else {
      p = c.request(1, { path: '/seq/s-', data: utf8('s'), acl: OPEN, flags: 2 }).then((r) => {
        if (r.err === 0) ledger.seq_max = Math.max(ledger.seq_max, Number((r.body as { path: string }).path.slice(7)));
      });
    }
    const tracked: Promise<void> = p.catch(() => {}).finally(() => inflight.delete(tracked));
    inflight.add(tracked);
    if (inflight.size >= WINDOW) await Promise.race(inflight);
  }
  await Promise.allSettled(inflight);
}

describe('crash recovery under load (SIGKILL at random moments)', () => {
  it(`keeps every acknowledged write over ${ROUNDS} kills`, async () => {
    const seed = Number(process.env.WAITFREE_CRASH_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const data_dir = join(root, 'data');
    const cfg = [`tickTime=100`, `snapCount=300`, `waitfree.log.segmentBytes=64KiB`, `waitfree.readWorkers=2`];
    const ledger: Ledger = { acked_creates: new Map(), sent_creates: new Map(), counter_versions: new Map(), seq_max: -1, dead_ephemerals: [] };
    let server: ServerProcess | null = null;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        server = await startServerProcess(data_dir, join(root, 'zoo.cfg'), cfg);
        const admin = await connect(server.port);
        if (round === 0) for (const p of ['/w', '/ctr', '/seq', '/eph']) await ok(admin, 1, { path: p, data: null, acl: OPEN, flags: 0 });
        if (round === 0) for (let i = 0; i < CLIENTS; i++) await ok(admin, 1, { path: `/ctr/c${i}`, data: utf8('0'), acl: OPEN, flags: 0 });
        await verify(admin, ledger, seed);
        // The sessions that died with the server come back from the log, then expire: their
        // ephemerals are gone soon after the timeout (bounded wait: a loaded CI machine is slow).
        await sleep(SESSION_TIMEOUT_MS);
        let eph: string[] = [];
        for (let waited = 0; waited < 10_000; waited += 100) {
          eph = ((await admin.request(8, { path: '/eph', watch: false })).body as { children: string[] }).children;
          if (eph.length === 0) break;
          await sleep(100);
        }
        expect(eph, `seed ${seed}: ephemerals of dead sessions outlived their timeout`).toEqual([]);
        ledger.dead_ephemerals = [];
        const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(server!.port)));
        const stop = { killed: false };
        const loads = clients.map((c, i) => load(c, i, round, ledger, stop));
        await sleep(100 + Math.floor(random() * 500));
        stop.killed = true;
        await server.kill9();
        await Promise.all(loads);
        admin.destroy();
        for (const c of clients) c.destroy();
      }
      server = await startServerProcess(data_dir, join(root, 'zoo.cfg'), cfg);
      const last = await connect(server.port);
      await verify(last, ledger, seed);
      last.destroy();
      expect(ledger.acked_creates.size, 'the load did acknowledge writes').toBeGreaterThan(ROUNDS * 10);
      // Autopurge kept the newest 3 snapshots and only the log they need; a 4th may be there when
      // a kill came between writing a snapshot and the purge that follows it (the next start, or
      // the next snapshot, purges it).
      const listing = listDataDir(data_dir);
      expect(listing.snapshots.length).toBeLessThanOrEqual(4);
      expect(listing.segments[0].zxid).toBeLessThanOrEqual(listing.snapshots[0].zxid + 1);
      // Snapshots were taken under load and the last start used one.
      expect(server.output()).toMatch(/recovered zxid 0x[0-9a-f]+ from snapshot 0x[0-9a-f]+ \+ \d+ logged txns/);
    } finally {
      await server?.stop();
    }
  }, 120_000);
});
