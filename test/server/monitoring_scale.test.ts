// Monitoring a server where one session holds a great many watches (issue 10, item 7): the
// four-letter words and the admin commands answer with exact counts, and another session on the
// same read worker keeps being served while they are answered, while a watch listing is built
// and while the big session's watches are removed after it closes.
//
// How these fail (as they did before the counts were kept incrementally): every stats request
// made the shard rebuild per-watcher and per-path maps over all watches and ship them by
// postMessage, and the supervisor grouped them in O(n^2): with 200k watches wchs and wchc took
// over a minute (the words time out here), srvr took seconds and stalled the shard (with 10^6
// watches srvr answered "no answer to stats within 5000 ms"); closing the big session removed
// its watches in one go (0.4 s per 200k).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { fourLetter } from '../support/servers.js';
import type { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, asReply, connect, connectClient, mkdir, sleep, startTestServer, type TestServer } from './harness.js';

const N = 200_000;
/** SetWatches frames of this many paths (about 200 KB, under jute.maxbuffer). */
const PATHS_PER_FRAME = 20_000;
/** Generous bound for one word's answer (a listing of 200k watches takes about a second here). */
const WORD_TIMEOUT_MS = 60_000;
const SETWATCHES_XID = -8;
const OP_SET_WATCHES = 101;
const OP_REMOVE_WATCHES = 18;
const WATCHER_TYPE_DATA = 2;

const watchedPath = (i: number): string => `/m/${i}`;

function field(reply: string, pattern: RegExp): string {
  const m = reply.match(pattern);
  if (m === null) throw new Error(`${pattern} not found in:\n${reply.slice(0, 2000)}`);
  return m[1];
}

/** Registers exist watches on /m/from../m/(to-1) (missing nodes) with SetWatches frames. */
async function registerExistWatches(client: WireClient, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += PATHS_PER_FRAME) {
    const paths: string[] = [];
    for (let j = i; j < Math.min(to, i + PATHS_PER_FRAME); j++) paths.push(watchedPath(j));
    const r = await client.requestSpecial(SETWATCHES_XID, OP_SET_WATCHES, { relativeZxid: 0, dataWatches: [], existWatches: paths, childWatches: [] });
    expect(r.err).toBe(0);
  }
}

/**
 * Another session's requests, back to back, until stopped: every reply must come (WireClient
 * fails a request after 10 s) and succeed. Returns how many were answered.
 */
function probe(client: WireClient): { stop(): Promise<number>; answered(): number } {
  let stopping = false;
  let answered = 0;
  let failed: unknown = null;
  const loop = (async () => {
    while (!stopping) {
      const r = await client.request(4, { path: '/', watch: false });
      if (r.err !== 0) throw new Error(`getData / answered ${r.err}`);
      answered++;
    }
  })().catch((e: unknown) => {
    failed = e;
  });
  return {
    answered: () => answered,
    async stop() {
      stopping = true;
      await loop;
      if (failed !== null) throw failed;
      return answered;
    },
  };
}

async function untilCount(port: number, want: string, timeout_ms: number): Promise<string> {
  const deadline = Date.now() + timeout_ms;
  let last = '';
  while (Date.now() < deadline) {
    last = await fourLetter(port, 'wchs', WORD_TIMEOUT_MS);
    if (last === want) return last;
    await sleep(100);
  }
  return last;
}

describe(`monitoring with ${N} watches on one session (one read worker for both sessions)`, () => {
  let server: TestServer;
  let big: WireClient;
  let big_sid: string;
  let other: WireClient;

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 1, four_letter_whitelist: '*' });
    const c = await connectClient(server.port);
    big = c.client;
    big_sid = `0x${BigInt.asUintN(64, c.response.sessionId).toString(16)}`;
    big.startKeepalive(1000);
    other = await connect(server.port);
    other.startKeepalive(1000);
    await mkdir(other, '/m');
    // N exist watches (data table) and one getChildren watch on /m (child table).
    await registerExistWatches(big, 0, N);
    expect(asReply(await big.request(8, { path: '/m', watch: true })).err).toBe(0);
  }, 120_000);

  afterAll(async () => {
    big?.destroy();
    other?.destroy();
    await server?.stop();
  });

  it('srvr, mntr, wchs, cons and stat answer with exact counts while the other session is served', async () => {
    const p = probe(other);
    const srvr = await fourLetter(server.port, 'srvr', WORD_TIMEOUT_MS);
    const mntr = await fourLetter(server.port, 'mntr', WORD_TIMEOUT_MS);
    const wchs = await fourLetter(server.port, 'wchs', WORD_TIMEOUT_MS);
    const cons = await fourLetter(server.port, 'cons', WORD_TIMEOUT_MS);
    const stat = await fourLetter(server.port, 'stat', WORD_TIMEOUT_MS);
    expect(await p.stop()).toBeGreaterThan(0);
    expect(srvr).toMatch(/^Zookeeper version: /);
    expect(srvr).toMatch(/^Node count: \d+$/m);
    expect(Number(field(mntr, /^zk_watch_count\t(\d+)$/m))).toBe(N + 1);
    expect(wchs).toBe(`1 connections watching ${N + 1} paths\nTotal watches:${N + 1}\n`);
    expect(cons).toContain(`sid=${big_sid}`);
    expect(stat).toContain('Clients:');
  });

  it('wchc and wchp list every watch; the other session is answered while the listing is built', async () => {
    for (const word of ['wchc', 'wchp'] as const) {
      const p = probe(other);
      let answered_before = -1;
      const text = await fourLetter(server.port, word, WORD_TIMEOUT_MS).then((t) => {
        answered_before = p.answered();
        return t;
      });
      await p.stop();
      expect(answered_before, `${word}: the other session got replies before the listing was done`).toBeGreaterThan(0);
      const lines = text.split('\n');
      if (word === 'wchc') {
        // ZooKeeper's format: the session, then a tab and a path per watch; a blank line ends it.
        expect(lines[0]).toBe(big_sid);
        const paths = new Set(lines.slice(1).filter((l) => l.startsWith('\t')).map((l) => l.slice(1)));
        expect(paths.size).toBe(N + 1);
        for (const i of [0, 1, N / 2, N - 1]) expect(paths.has(watchedPath(i))).toBe(true);
        expect(paths.has('/m')).toBe(true);
      } else {
        const groups = lines.filter((l) => l.startsWith('/'));
        expect(groups.length).toBe(N + 1);
        expect(lines.filter((l) => l === `\t${big_sid}`).length).toBe(N + 1);
      }
      expect(text.endsWith('\n\n')).toBe(true);
      expect(text).not.toContain('listing cut');
    }
  }, 120_000);

  it('the admin watch_summary and watches commands agree with the words', async () => {
    const admin = server.admin;
    expect(admin).not.toBeNull();
    const get = async (name: string): Promise<Record<string, unknown>> => {
      const r = await fetch(`http://127.0.0.1:${admin!.port}/commands/${name}`);
      expect(r.status).toBe(200);
      return (await r.json()) as Record<string, unknown>;
    };
    expect(await get('watch_summary')).toMatchObject({ num_connections: 1, num_paths: N + 1, num_total_watches: N + 1 });
    const watches = await get('watches');
    expect(watches['truncated']).toBe(false);
    const by_session = watches['session_id_to_watched_paths'] as Record<string, string[]>;
    expect(Object.values(by_session).map((paths) => paths.length)).toEqual([N + 1]);
  }, 120_000);

  it('counts stay exact through triggers, removeWatches and the close, and the other session is served meanwhile', async () => {
    const K = 100;
    // Triggers: creating /m/0../m/(K-1) fires their exist watches and /m's child watch (one-shot).
    for (let i = 0; i < K; i++) await mkdir(other, watchedPath(i));
    expect(await big.until(() => big.notificationCount() >= K + 1, 10_000)).toBe(true);
    expect(await fourLetter(server.port, 'wchs', WORD_TIMEOUT_MS)).toBe(`1 connections watching ${N - K} paths\nTotal watches:${N - K}\n`);
    // removeWatches of K more.
    for (let i = K; i < 2 * K; i++) {
      expect(asReply(await big.request(OP_REMOVE_WATCHES, { path: watchedPath(i), type: WATCHER_TYPE_DATA })).err).toBe(0);
    }
    const mntr = await fourLetter(server.port, 'mntr', WORD_TIMEOUT_MS);
    expect(Number(field(mntr, /^zk_watch_count\t(\d+)$/m))).toBe(N - 2 * K);
    // Close: the big session's watches are removed in slices while the other session is served.
    const p = probe(other);
    big.stopKeepalive();
    expect(asReply(await big.request(-11, null)).err).toBe(0);
    const settled = await untilCount(server.port, '0 connections watching 0 paths\nTotal watches:0\n', 30_000);
    expect(await p.stop()).toBeGreaterThan(0);
    expect(settled).toBe('0 connections watching 0 paths\nTotal watches:0\n');
    expect(Number(field(await fourLetter(server.port, 'mntr'), /^zk_watch_count\t(\d+)$/m))).toBe(0);
    // The other session is still there and still served.
    expect(asReply(await other.request(3, { path: '/m', watch: false })).err).toBe(0);
  }, 120_000);
});

describe('a watch listing longer than waitfree.watch.listingBytesMax', () => {
  let server: TestServer;
  let client: WireClient;
  const WATCHES = 2_000;
  const BYTES_MAX = 4096;

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2, four_letter_whitelist: '*', watch_listing_bytes_max: BYTES_MAX });
    client = await connect(server.port);
    await registerExistWatches(client, 0, WATCHES);
  });

  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  it('is cut near the bound and says so after ZooKeeper\'s text; the counts stay whole', async () => {
    const text = await fourLetter(server.port, 'wchp', WORD_TIMEOUT_MS);
    const [listing, note] = text.split('\n\n');
    const shown = listing.split('\n').filter((l) => l.startsWith('/')).length;
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThan(WATCHES);
    // Each listed path costs its bytes + 5, and its session 9, in the bound.
    expect(shown * (5 + '/m/0'.length + 9)).toBeLessThanOrEqual(BYTES_MAX);
    expect(note).toBe(`(listing cut at waitfree.watch.listingBytesMax=${BYTES_MAX}: ${shown} of ${WATCHES} watches shown)\n`);
    expect(await fourLetter(server.port, 'wchs')).toBe(`1 connections watching ${WATCHES} paths\nTotal watches:${WATCHES}\n`);
    const r = await fetch(`http://127.0.0.1:${server.admin!.port}/commands/watches_by_path`);
    expect(((await r.json()) as Record<string, unknown>)['truncated']).toBe(true);
  });

  it('an invalid bound is refused, naming the key', () => {
    expect(() => loadConfig({ text: 'waitfree.watch.listingBytesMax=10\n' })).toThrow(/waitfree\.watch\.listingBytesMax/);
    expect(() => loadConfig({ text: 'waitfree.watch.sliceEntries=0\n' })).toThrow(/waitfree\.watch\.sliceEntries/);
    expect(loadConfig({ text: 'waitfree.watch.sliceEntries=64\nwaitfree.watch.listingBytesMax=1048576\n' }).config).toMatchObject({
      watch_slice_entries: 64,
      watch_listing_bytes_max: 1 << 20,
    });
  });
});
