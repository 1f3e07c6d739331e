// Quota bookkeeping in the Applier (ZooKeeper's DataTree quota code): the stats node of each
// quota follows the committed txns under its path, in the txn's own batch, without a new version
// or a watch event; log replay keeps it the same way; a loaded snapshot is recounted (as
// ZooKeeper's setupQuota does); a replaced tree (Zab TRUNC / SNAP) is read afresh.

import { afterEach, describe, expect, it } from 'vitest';
import { Applier } from '../../src/commit/applier.js';
import { Op } from '../../src/protocol/opcodes.js';
import { recoverIntoArena } from '../../src/recovery/recovery_arena.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';
import type { Txn } from '../../src/tree/txn.js';
import { writeLog, writeSnapshotAfter } from '../durability/datadir.js';
import { removeTempDirs, tempDir } from '../log/zab_fixtures.js';
import { enc, Harness } from '../tree/harness.js';

afterEach(removeTempDirs);

const SMALL = { page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64, reader_slots: 8, root_ring: 8 };

function newWriter(): TreeWriter {
  const w = TreeWriter.create(SMALL);
  w.begin();
  createSystemNodes(w);
  w.commit(0);
  return w;
}

/** The text of a node's data in the writer's newest state (null when there is no node). */
function text(w: TreeWriter, path: string): string | null {
  if (!w.view.findPath(path)) return null;
  const d = w.view.data();
  return d === null ? '' : new TextDecoder().decode(d);
}

const STATS = '/zookeeper/quota/app/zookeeper_stats';

/** setquota -n 10 /app as zkCli does it, with /app (1 byte) and /app/a (5 bytes) there before. */
function withQuota(h: Harness): void {
  h.create('/app', 'x');
  h.create('/app/a', 'hello');
  h.create('/zookeeper/quota/app');
  h.create('/zookeeper/quota/app/zookeeper_limits', 'count=10,bytes=-1');
  h.create(STATS, 'count=0,bytes=0');
}

function applyAll(applier: Applier, txns: readonly Txn[]): void {
  for (const t of txns) applier.apply(t);
  applier.seal();
}

describe('Applier: quota stats', () => {
  it('counts the subtree when the stats node is created, then follows creates, deletes and resizes', () => {
    const w = newWriter();
    const applier = new Applier(w, 0);
    const h = new Harness();
    withQuota(h);
    applyAll(applier, h.log);
    expect(text(w, STATS)).toBe('count=2,bytes=6');
    const before = h.log.length;
    h.create('/app/b', '1234567890');
    h.create('/app/b/c');
    h.write(Op.setData, { path: '/app/a', data: enc('hi'), version: -1 });
    h.write(Op.delete, { path: '/app/b/c', version: -1 });
    h.create('/other', 'not counted');
    applyAll(applier, h.log.slice(before));
    expect(text(w, STATS)).toBe('count=3,bytes=13');
  });

  it('changes the stats node in place: its version, mzxid and mtime stay, and no watch fires on it', () => {
    const w = newWriter();
    const applier = new Applier(w, 0);
    const h = new Harness();
    withQuota(h);
    applyAll(applier, h.log);
    w.view.findPath(STATS);
    const { version, mzxid, mtime } = w.view.stat();
    const before = h.log.length;
    h.create('/app/b', 'more');
    const results = h.log.slice(before).map((t) => applier.apply(t));
    applier.seal();
    expect(results.flatMap((r) => r.events.map((e) => e.path))).not.toContain(STATS);
    w.view.findPath(STATS);
    expect(w.view.stat()).toMatchObject({ version, mzxid, mtime, dataLength: 'count=3,bytes=10'.length });
    expect(text(w, STATS)).toBe('count=3,bytes=10');
  });

  it('counts toward the deepest quota only, and stops counting once the limit node is deleted', () => {
    const w = newWriter();
    const applier = new Applier(w, 0);
    const h = new Harness();
    withQuota(h);
    h.create('/app/a/deep', 'd');
    h.create('/zookeeper/quota/app/a');
    h.create('/zookeeper/quota/app/a/zookeeper_limits', 'count=5,bytes=-1');
    h.create('/zookeeper/quota/app/a/zookeeper_stats', 'count=0,bytes=0');
    applyAll(applier, h.log);
    expect(text(w, '/zookeeper/quota/app/a/zookeeper_stats')).toBe('count=2,bytes=6');
    const before = h.log.length;
    h.create('/app/a/x', 'xx');
    h.create('/app/y', 'yyy');
    h.write(Op.delete, { path: '/zookeeper/quota/app/zookeeper_limits', version: -1 });
    h.create('/app/z', 'zzzz');
    applyAll(applier, h.log.slice(before));
    expect(text(w, '/zookeeper/quota/app/a/zookeeper_stats')).toBe('count=3,bytes=8');
    // /app counted /app/y (3 bytes), not /app/a/x, and nothing after its limit node went.
    expect(text(w, STATS)).toBe('count=4,bytes=10');
  });

  it('log replay keeps the stats exactly as apply does', () => {
    const h = new Harness();
    withQuota(h);
    h.create('/app/b', '1234567890');
    h.write(Op.setData, { path: STATS, data: enc('count=100,bytes=1;countHardLimit=7'), version: -1 });
    h.create('/app/c', 'abc');
    h.write(Op.delete, { path: '/app/b', version: -1 });
    const applied = newWriter();
    applyAll(new Applier(applied, 0), h.log);
    const replayed = newWriter();
    const replayer = new Applier(replayed, 0);
    for (const t of h.log) replayer.replay(t);
    replayer.seal();
    // A client-written stats text is the base the server counts from (ZooKeeper parses and
    // rewrites it, extra keys kept, after an '=').
    expect(text(applied, STATS)).toBe('count=100,bytes=-6=;countHardLimit=7');
    expect(text(replayed, STATS)).toBe(text(applied, STATS));
  });

  it('recountQuotas sets every stats node from the tree, and writes nothing when they are right', () => {
    const w = newWriter();
    const applier = new Applier(w, 0);
    const h = new Harness();
    withQuota(h);
    h.write(Op.setData, { path: STATS, data: enc('count=99,bytes=99'), version: -1 });
    applyAll(applier, h.log);
    expect(text(w, STATS)).toBe('count=99,bytes=99');
    applier.recountQuotas();
    expect(text(w, STATS)).toBe('count=2,bytes=6');
    applier.seal();
    applier.recountQuotas();
    expect(w.in_batch).toBe(false);
  });

  it('an Applier made for a tree reads its quotas; resetTo reads them again from a replaced tree', () => {
    const w = newWriter();
    const h = new Harness();
    withQuota(h);
    const first = new Applier(w, 0);
    applyAll(first, h.log);
    // A second Applier on the same tree (the commit worker's, after recovery) knows the quota.
    const second = new Applier(w, h.log.length);
    expect(second.quota_count).toBe(1);
    const stale = new Applier(newWriter(), 0);
    expect(stale.quota_count).toBe(0);
    // resetTo: the tree underneath changed.
    const late = new Applier(w, 0);
    h.write(Op.delete, { path: '/zookeeper/quota/app/zookeeper_limits', version: -1 });
    applyAll(second, h.log.slice(-1));
    expect(late.quota_count).toBe(1);
    late.resetTo(h.log.length);
    expect(late.quota_count).toBe(0);
  });

  it('recovery recounts a snapshot\'s stats, then the log after it keeps them', async () => {
    const dir = tempDir();
    const h = new Harness();
    withQuota(h);
    h.create('/app/b', 'bb');
    // A snapshot whose stats node disagrees with its tree (a client wrote it, or a nested
    // quota left it stale): the heap tree the fixture writes it from keeps no quota stats.
    h.write(Op.setData, { path: STATS, data: enc('count=50,bytes=50'), version: -1 });
    const in_snapshot = h.log.length;
    h.create('/app/c', 'ccc');
    h.write(Op.delete, { path: '/app/a', version: -1 });
    writeSnapshotAfter(dir, h.log, in_snapshot);
    await writeLog(dir, h.log);
    const w = TreeWriter.create(SMALL);
    const state = recoverIntoArena(w, { dir, track_sessions: true, warn: () => {} });
    expect(state.last_zxid).toBe(h.log.length);
    // Recounted at load: /app, /app/a, /app/b = 3 nodes, 8 bytes; then +/app/c -/app/a.
    expect(text(w, STATS)).toBe('count=3,bytes=6');
  });
});
