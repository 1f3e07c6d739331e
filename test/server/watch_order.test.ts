// Guarantee: a client sees the watch event before it sees the new data. Client A watches a node;
// client B (connected to another shard) changes it; A keeps reads of that node in flight the whole
// time (no watch on them). In A's received stream, the notification must come before the first
// read reply that shows B's change.
//
// Run twice: with 4 reads in flight (the read workers serve them), and with one read at a time,
// which the net worker answers itself (waitfree.net.fastReads: the session has nothing in
// flight), from the root its shard has settled on (served_root.ts); that run checks the path was
// taken (the waitfree_net_fast_reads_total counter).
//
// How this fails if the guarantee breaks: if A's shard served a read from a tree that already has
// B's txn before queueing A's notification (or the net worker reordered A's frames), the first
// reply showing the change is found at an index before the notification, or the notification is
// missing altogether, and the index comparison fails.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { EventType } from '../../src/protocol/constants.js';
import type { ExistsResponse, GetChildrenResponse, GetDataResponse } from '../../src/protocol/types.js';
import type { Received, Reply, WireClient } from '../support/wire_client.js';
import { fastReads, OPEN_ACL, asReply, connectMany, mkdir, startTestServer, utf8, type TestServer } from './harness.js';

const ROUNDS = 25;
const READS_MAX_PER_ROUND = 3_000;
const ROUND_MS_MAX = 8_000;

/**
 * Keeps READ_WINDOW requests of `read` in flight until a reply satisfies `shows_change`, or the
 * round's bound. `write` runs once the first few reads have been answered, so reads are in flight
 * before, during and after the write.
 */
async function readAcrossWrite(
  window: number,
  read: () => Promise<Reply>,
  shows_change: (r: Reply) => boolean,
  write: () => Promise<void>,
): Promise<boolean> {
  const deadline = Date.now() + ROUND_MS_MAX;
  let sent = 0;
  let answered = 0;
  let seen = false;
  let write_started: Promise<void> | null = null;
  await new Promise<void>((resolve, reject) => {
    let in_flight = 0;
    const pump = (): void => {
      while (!seen && in_flight < window && sent < READS_MAX_PER_ROUND && Date.now() < deadline) {
        sent++;
        in_flight++;
        read().then((r) => {
          in_flight--;
          answered++;
          if (shows_change(r)) seen = true;
          if (write_started === null && answered >= 3) write_started = write();
          if (in_flight === 0 && (seen || sent >= READS_MAX_PER_ROUND || Date.now() >= deadline)) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  await (write_started ?? Promise.resolve());
  return seen;
}

type Notification = Extract<Received, { kind: 'notification' }>;

function isEvent(r: Received, type: number, path: string): r is Notification {
  return r.kind === 'notification' && r.event.type === type && r.event.path === path;
}

/** Index of the notification and of the first reply (from `from` on) satisfying `shows_change`. */
function order(observer: WireClient, from: number, type: number, path: string, shows_change: (r: Reply) => boolean) {
  const tail = observer.received.slice(from);
  const event_at = tail.findIndex((r) => isEvent(r, type, path));
  const data_at = tail.findIndex((r) => r.kind === 'reply' && shows_change(r.reply));
  return { event_at, data_at };
}

describe.each([
  { window: 4, how: 'reads in flight: served by the read workers' },
  { window: 1, how: 'one read at a time: answered by the net worker' },
])('watch event before data (read_workers 2, watcher and writer on different shards, $how)', ({ window }) => {
  let server: TestServer;
  let a: WireClient;
  let b: WireClient;
  let fast_before = 0;

  beforeAll(async () => {
    server = await startTestServer({ read_workers: 2 });
    // Consecutive connections: a and b land on different shards.
    [a, b] = await connectMany(server.port, 2);
    fast_before = await fastReads(server);
  });
  afterAll(async () => {
    if (window === 1 && server !== undefined) {
      // The sequential reads took the net worker's path (most of them: it steps aside when busy).
      expect(await fastReads(server)).toBeGreaterThan(fast_before + ROUNDS);
    }
    a?.destroy();
    b?.destroy();
    await server?.stop();
  });

  it('data watch: NodeDataChanged precedes the first getData reply showing the new version', async () => {
    await mkdir(a, '/wx', 'v0');
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate roles so both shards take the observer's side.
      const [observer, writer] = round % 2 === 0 ? [a, b] : [b, a];
      const armed = asReply(await observer.request(4, { path: '/wx', watch: true }));
      expect(armed.err).toBe(0);
      const old_version = (armed.body as GetDataResponse).stat.version;
      const from = observer.received.length;
      const shows = (r: Reply): boolean => r.err === 0 && (r.body as GetDataResponse | null)?.stat?.version === old_version + 1;
      const seen = await readAcrossWrite(
        window,
        () => observer.request(4, { path: '/wx', watch: false }),
        shows,
        async () => {
          const w = await writer.request(5, { path: '/wx', data: utf8(`v${round + 1}`), version: old_version });
          expect(w.err, `round ${round}: setData`).toBe(0);
        },
      );
      expect(seen, `round ${round}: the observer never saw version ${old_version + 1}`).toBe(true);
      const { event_at, data_at } = order(observer, from, EventType.NodeDataChanged, '/wx', shows);
      expect(event_at, `round ${round}: NodeDataChanged /wx missing`).toBeGreaterThanOrEqual(0);
      expect(event_at, `round ${round}: event at ${event_at}, new data at ${data_at}`).toBeLessThan(data_at);
    }
  });

  it('child watch: NodeChildrenChanged precedes the first getChildren reply listing the new child', async () => {
    await mkdir(a, '/wkids');
    for (let round = 0; round < ROUNDS; round++) {
      const [observer, writer] = round % 2 === 0 ? [a, b] : [b, a];
      const child = `c${round}`;
      expect((await observer.request(8, { path: '/wkids', watch: true })).err).toBe(0);
      const from = observer.received.length;
      const shows = (r: Reply): boolean => r.err === 0 && ((r.body as GetChildrenResponse | null)?.children ?? []).includes(child);
      const seen = await readAcrossWrite(
        window,
        () => observer.request(8, { path: '/wkids', watch: false }),
        shows,
        async () => {
          const w = await writer.request(1, { path: `/wkids/${child}`, data: null, acl: OPEN_ACL, flags: 0 });
          expect(w.err, `round ${round}: create`).toBe(0);
        },
      );
      expect(seen, `round ${round}: the observer never saw ${child}`).toBe(true);
      const { event_at, data_at } = order(observer, from, EventType.NodeChildrenChanged, '/wkids', shows);
      expect(event_at, `round ${round}: NodeChildrenChanged /wkids missing`).toBeGreaterThanOrEqual(0);
      expect(event_at, `round ${round}: event at ${event_at}, new child at ${data_at}`).toBeLessThan(data_at);
    }
  });

  it('exists watch on a missing node: NodeCreated precedes the first exists reply that finds it', async () => {
    await mkdir(a, '/wexists');
    for (let round = 0; round < ROUNDS; round++) {
      const [observer, writer] = round % 2 === 0 ? [a, b] : [b, a];
      const path = `/wexists/e${round}`;
      // exists on a missing node answers NONODE and still registers the watch.
      expect((await observer.request(3, { path, watch: true })).err).toBe(Err.NONODE);
      const from = observer.received.length;
      const shows = (r: Reply): boolean => r.err === 0 && (r.body as ExistsResponse | null)?.stat !== undefined;
      const seen = await readAcrossWrite(
        window,
        () => observer.request(3, { path, watch: false }),
        shows,
        async () => {
          const w = await writer.request(1, { path, data: utf8('here'), acl: OPEN_ACL, flags: 0 });
          expect(w.err, `round ${round}: create`).toBe(0);
        },
      );
      expect(seen, `round ${round}: the observer never saw ${path}`).toBe(true);
      const { event_at, data_at } = order(observer, from, EventType.NodeCreated, path, shows);
      expect(event_at, `round ${round}: NodeCreated ${path} missing`).toBeGreaterThanOrEqual(0);
      expect(event_at, `round ${round}: event at ${event_at}, node visible at ${data_at}`).toBeLessThan(data_at);
    }
  });
});
