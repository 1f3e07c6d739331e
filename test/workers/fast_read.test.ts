// The net worker's fast reads (src/workers/net/fast_read.ts) against the served-root seqlock a
// shard publishes (src/workers/served_root.ts), step by step in one thread: a real arena, a
// TreeWriter as the commit worker, a ShardTree + ServedRootPublisher as the shard's driver.
// What must hold: a fast read is answered at exactly the root the shard has settled on, never
// while the shard is between roots (its output may hold events of a newer batch), never when the
// shard moved during the drain, and anything the net worker cannot answer alone is forwarded.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/config/server_config.js';
import { Err } from '../../src/protocol/errors.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ACL } from '../../src/protocol/types.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/index.js';
import { KnownCommitWriter } from '../../src/workers/known_commit.js';
import { NetFastRead, type FastReadAnswer } from '../../src/workers/net/fast_read.js';
import { ServedRootPublisher } from '../../src/workers/served_root.js';
import { ShardTree } from '../../src/workers/shard/shard_tree.js';
import { createTopology, type Topology } from '../../src/workers/topology.js';
import { dec, enc, open } from '../tree/harness.js';

const DIGEST_ONLY: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: 'user:hash' } }];

function request(opcode: number, path: string, watch = false, xid = 7): Uint8Array {
  const w = new JuteWriter();
  w.writeInt(xid).writeInt(opcode).writeUString(path).writeBool(watch);
  return w.view_bytes().slice();
}

function reply(a: FastReadAnswer): { xid: number; zxid: number; err: number; data: string | null; version: number } {
  const r = new JuteReader(a.frame);
  expect(r.readInt()).toBe(a.frame.length - 4);
  const xid = r.readInt();
  const zxid = r.readLong53();
  const err = r.readInt();
  if (err !== 0) return { xid, zxid, err, data: null, version: -1 };
  const data = a.opcode === Op.getData ? dec(r.readBuffer()) : null;
  // Stat: czxid, mzxid, ctime, mtime (4 longs), then version.
  for (let i = 0; i < 4; i++) r.readLong();
  return { xid, zxid, err, data, version: r.readInt() };
}

describe('net worker fast reads over the served-root seqlock', () => {
  let topology: Topology;
  let writer: TreeWriter;
  let shard: ShardTree;
  let served: ServedRootPublisher;
  let fast: NetFastRead;
  let zxid = 0;
  const drained = (): boolean => true;

  /** The shard driver's turn: move to the writer's newest root and settle on it. */
  const shardCatchesUp = (): void => {
    shard.advanceTo(writer.last_root);
    served.beforeFlush(shard.gen, false);
    served.afterFlush(shard.descriptor, false, false);
  };
  let version = 0;
  const setData = (path: string, value: string): void => {
    writer.begin();
    writer.setData(path, enc(value), ++version, ++zxid, 1_000 + zxid);
    writer.commit(zxid);
  };

  beforeEach(() => {
    zxid = 0;
    version = 0;
    const config: ServerConfig = { ...DEFAULT_CONFIG, read_workers: 1 };
    topology = createTopology(config);
    writer = new TreeWriter(topology.arena);
    writer.begin();
    createSystemNodes(writer);
    writer.create('/a', enc('v1'), open(), 0n, ++zxid, 1_000, 0);
    writer.create('/secret', enc('s'), DIGEST_ONLY, 0n, ++zxid, 1_000, 1);
    writer.commit(zxid);
    shard = new ShardTree(topology.arena);
    shard.pinNewest();
    served = new ServedRootPublisher(topology.shard_served_root, 0);
    fast = new NetFastRead(topology, config);
  });
  afterEach(() => {
    fast.close();
    shard.close();
    writer.close();
  });

  it('answers nothing before the shard has settled on a root', () => {
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), drained)).toBeNull();
    shardCatchesUp();
    expect(reply(fast.tryAnswer(0, request(Op.getData, '/a'), drained)!)).toMatchObject({ xid: 7, zxid: 2, err: 0, data: 'v1', version: 0 });
  });

  it("answers only at the shard's settled root when it is the writer's newest, never between roots", () => {
    shardCatchesUp();
    expect(reply(fast.tryAnswer(0, request(Op.getData, '/a'), drained)!)).toMatchObject({ zxid: 2, data: 'v1' });
    setData('/a', 'v2');
    // The writer published v2 and the shard has not processed it: forwarded. Another client may
    // have had its reply to v2, and a read sent after that must see it (as on one ZooKeeper
    // server); the shard reads the commit stream before client frames.
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), drained)).toBeNull();
    // The shard reads the batch's APPLIED frames (events queued) and flushes before its ROOT.
    served.beforeFlush(shard.gen, true);
    served.afterFlush(shard.descriptor, true, false);
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), drained)).toBeNull();
    // ROOT: it moves to the new root; until the flush after it, the block stays "changing".
    shard.advanceTo(writer.last_root);
    served.beforeFlush(shard.gen, false);
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), drained)).toBeNull();
    served.afterFlush(shard.descriptor, false, false);
    expect(reply(fast.tryAnswer(0, request(Op.getData, '/a'), drained)!)).toMatchObject({ zxid: 3, data: 'v2', version: 1 });
  });

  it('a batch opened and closed within one driver turn still goes through "changing" before its flush', () => {
    shardCatchesUp();
    setData('/a', 'v2');
    shard.advanceTo(writer.last_root); // APPLIED ... ROOT all in one poll
    served.beforeFlush(shard.gen, false);
    // The flush publishes the batch's events here: a reader between this and afterFlush forwards.
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), drained)).toBeNull();
    served.afterFlush(shard.descriptor, false, false);
    expect(reply(fast.tryAnswer(0, request(Op.getData, '/a'), drained)!).data).toBe('v2');
  });

  it('leaves a read to the shard while the replica knows of a commit no root holds yet (a follower applying a COMMIT)', () => {
    shardCatchesUp();
    const known = new KnownCommitWriter(topology.known_commit);
    known.advance(2); // what the root holds: answered
    expect(reply(fast.tryAnswer(0, request(Op.getData, '/a'), drained)!)).toMatchObject({ zxid: 2, data: 'v1' });
    // The leader's COMMIT of zxid 3 arrived; the commit worker has not applied it: another client
    // may have had its reply to it from another member, so this read must not be served at 2.
    known.advance(3);
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), drained)).toBeNull();
    setData('/a', 'v2');
    shardCatchesUp();
    expect(reply(fast.tryAnswer(0, request(Op.getData, '/a'), drained)!)).toMatchObject({ zxid: 3, data: 'v2' });
  });

  it('does not settle while frames wait in the overflow queue to the net worker', () => {
    shardCatchesUp();
    setData('/a', 'v2');
    shard.advanceTo(writer.last_root);
    served.beforeFlush(shard.gen, false);
    served.afterFlush(shard.descriptor, false, true);
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), drained)).toBeNull();
    served.beforeFlush(shard.gen, false);
    served.afterFlush(shard.descriptor, false, false);
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), drained)).not.toBeNull();
  });

  it('forwards when the shard moves on while its ring is drained, or the session got busy', () => {
    shardCatchesUp();
    const moves = (): boolean => {
      setData('/a', 'v2');
      shardCatchesUp();
      return true;
    };
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), moves)).toBeNull();
    expect(fast.tryAnswer(0, request(Op.getData, '/a'), () => false)).toBeNull();
    expect(reply(fast.tryAnswer(0, request(Op.getData, '/a'), drained)!).data).toBe('v2');
  });

  it('leaves to the shard what needs it: watches, ACLs, other ops, malformed or invalid requests', () => {
    shardCatchesUp();
    expect(fast.tryAnswer(0, request(Op.getData, '/a', true), drained)).toBeNull();
    expect(fast.tryAnswer(0, request(Op.exists, '/a', true), drained)).toBeNull();
    expect(fast.tryAnswer(0, request(Op.getData, '/secret'), drained)).toBeNull();
    expect(fast.tryAnswer(0, request(Op.getChildren, '/a'), drained)).toBeNull();
    expect(fast.tryAnswer(0, request(Op.getData, 'no-slash'), drained)).toBeNull();
    expect(fast.tryAnswer(0, request(Op.getData, '/a/'), drained)).toBeNull();
    const trailing = new Uint8Array([...request(Op.getData, '/a'), 0]);
    expect(fast.tryAnswer(0, trailing, drained)).toBeNull();
    expect(fast.tryAnswer(0, request(Op.getData, '/a').subarray(0, 12), drained)).toBeNull();
  });

  it('answers exists and a missing node as the shard does', () => {
    shardCatchesUp();
    expect(reply(fast.tryAnswer(0, request(Op.exists, '/a', false, 9), drained)!)).toMatchObject({ xid: 9, err: 0, version: 0 });
    expect(reply(fast.tryAnswer(0, request(Op.getData, '/nope'), drained)!)).toMatchObject({ err: Err.NONODE });
    expect(reply(fast.tryAnswer(0, request(Op.exists, '/nope'), drained)!)).toMatchObject({ err: Err.NONODE });
  });

  it("moves its pins up to the shards' settled roots, so old pages can be reclaimed", () => {
    shardCatchesUp();
    fast.tryAnswer(0, request(Op.getData, '/a'), drained);
    for (let i = 0; i < 5; i++) setData('/a', `v${i + 3}`);
    shardCatchesUp();
    writer.reclaim(); // the stats below are the writer's, as of its last reclamation
    expect(writer.stats().oldest_pinned_gen).toBeLessThan(shard.gen);
    fast.advancePins();
    writer.reclaim();
    expect(writer.stats().oldest_pinned_gen).toBe(shard.gen);
  });
});
