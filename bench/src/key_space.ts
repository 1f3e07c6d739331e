// Creates the znodes a run reads and writes (root + key_count children of value_bytes) before
// the clock starts, and removes everything under the root afterwards. Pipelined, bounded window.

import { Err, Op, Perms } from '../../dist/protocol/index.js';
import type { ACL } from '../../dist/protocol/index.js';
import type { Endpoint } from './connect_string.js';
import { keyPath } from './mix.js';
import { BenchSession } from './session.js';

const WINDOW = 256;
const OPEN_ACL: ACL[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

async function withSession<T>(endpoint: Endpoint, body: (s: BenchSession) => Promise<T>): Promise<T> {
  const s = await BenchSession.open(endpoint, 30_000);
  try {
    return await body(s);
  } finally {
    await s.close();
  }
}

/** Runs `make(i)` for i in 0..count-1 with at most WINDOW requests in flight. */
async function pipelined(count: number, make: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await make(next++);
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, lane));
}

function check(err: number, allowed: readonly number[], what: string): void {
  if (err !== 0 && !allowed.includes(err)) throw new Error(`${what}: server answered error ${err}`);
}

export async function createKeySpace(endpoint: Endpoint, root: string, key_count: number, value_bytes: number): Promise<void> {
  const value = new Uint8Array(value_bytes).fill(0x78);
  await withSession(endpoint, async (s) => {
    const r = await s.request(Op.create, { path: root, data: new Uint8Array(0), acl: OPEN_ACL, flags: 0 }, 'CreateResponse');
    check(r.header.err, [Err.NODEEXISTS], `create ${root}`);
    await pipelined(key_count, async (k) => {
      const path = keyPath(root, k);
      const c = await s.request(Op.create, { path, data: value, acl: OPEN_ACL, flags: 0 }, 'CreateResponse');
      check(c.header.err, [Err.NODEEXISTS], `create ${path}`);
    });
  });
}

/** Deletes every child of `root`, then `root`. Missing nodes are fine. */
export async function removeKeySpace(endpoint: Endpoint, root: string): Promise<void> {
  await withSession(endpoint, async (s) => {
    const list = await s.request(Op.getChildren, { path: root, watch: false }, 'GetChildrenResponse');
    if (list.header.err === Err.NONODE) return;
    check(list.header.err, [], `getChildren ${root}`);
    const children = list.body?.children ?? [];
    await pipelined(children.length, async (i) => {
      const d = await s.request(Op.delete, { path: `${root}/${children[i]}`, version: -1 }, null);
      check(d.header.err, [Err.NONODE], `delete ${root}/${children[i]}`);
    });
    const d = await s.request(Op.delete, { path: root, version: -1 }, null);
    check(d.header.err, [Err.NONODE], `delete ${root}`);
  });
}

/**
 * Waits until every endpoint (ensemble member) sees the whole key space: sync, then the last key
 * must exist. A follower may apply a committed create a moment after the leader answered it, and
 * a client reading there first would count NONODE errors.
 */
export async function awaitKeySpace(endpoints: readonly Endpoint[], root: string, key_count: number): Promise<void> {
  const last = key_count > 0 ? keyPath(root, key_count - 1) : root;
  for (const e of endpoints) {
    await withSession(e, async (s) => {
      const y = await s.request(Op.sync, { path: root }, 'SyncResponse');
      check(y.header.err, [], `sync ${root} at ${e.host}:${e.port}`);
      const x = await s.request(Op.exists, { path: last, watch: false }, 'ExistsResponse');
      check(x.header.err, [], `exists ${last} at ${e.host}:${e.port}`);
    });
  }
}
