// A Zab TRUNC / SNAP reload straight into the shared tree (reloadIntoArena): the arena holds tree
// A and a reader pins A's root; the state on disk (snapshot S + log L, after a real log
// truncation or snapshot install) is recovered into the same arena as ONE new generation. The
// pinned root still reads A exactly, a pin taken while the reload runs gets A, the new root reads
// exactly what a fresh recoverIntoArena of the same directory gives, and once the reader lets go
// the old tree's memory is all reclaimed (leak audit). Real files in tmp dirs.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listDataDir } from '../../src/log/data_dir.js';
import { NODE_LOG_FS } from '../../src/log/log_fs.js';
import { NODE_SEGMENT_READ_FS } from '../../src/log/segment_file.js';
import { truncateLogAfter } from '../../src/log/truncate_log.js';
import { Op } from '../../src/protocol/opcodes.js';
import { RecoveryError, type RecoveryOptions } from '../../src/recovery/recovery.js';
import { recoverIntoArena, reloadIntoArena, type ArenaRecovered } from '../../src/recovery/recovery_arena.js';
import { ArenaSnapshotEncoder } from '../../src/snapshot/arena_snapshot_encoder.js';
import { writeEncodedSnapshotSync } from '../../src/snapshot/snapshot_file.js';
import { installSnapshot } from '../../src/snapshot/snapshot_install.js';
import { auditArena } from '../../src/store/arena/check.js';
import { createArenaHandle, type ArenaHandle } from '../../src/store/arena/memory.js';
import type { NodeView } from '../../src/store/arena/node_view.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { TreeWriter } from '../../src/store/arena/tree_writer.js';
import { DataTree } from '../../src/tree/data_tree.js';
import type { Txn } from '../../src/tree/txn.js';
import { sessionsAfter, treeAfter, writeLog, writeSnapshotAfter } from '../durability/datadir.js';
import { fork, history, removeTempDirs, tempDir } from '../log/zab_fixtures.js';
import { arenaDiff } from '../store/tree_equal.js';
import { Harness, open } from '../tree/harness.js';

afterEach(removeTempDirs);

/** Small pages: trees of a few hundred nodes are several levels deep. */
const SMALL = { page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64, reader_slots: 8, root_ring: 8 };
const SEGMENT_BYTES = 8192;

function options(dir: string, more: Partial<RecoveryOptions> = {}): RecoveryOptions & { warnings: string[] } {
  const warnings: string[] = [];
  return { dir, track_sessions: true, warn: (m) => void warnings.push(m), warnings, ...more };
}

/** Everything a client or the replica can read of every node, in key order, and the root's descriptor. */
function dump(view: TreeReader): string[] {
  const out = [`root: ${view.nodeCount()} nodes, zxid ${view.last_zxid}, ${view.data_bytes} data bytes`];
  view.openAll();
  while (view.nextNode()) out.push(nodeLine(view));
  return out;
}

function nodeLine(view: NodeView): string {
  const path = new Uint8Array(view.nodePathLength());
  view.copyNodePath(path, 0);
  const data = view.data();
  const stat = view.storedStat();
  return JSON.stringify({
    path: Buffer.from(path).toString('utf8'),
    data: data === null ? null : Buffer.from(data).toString('hex'),
    stat: Object.entries(stat).map(([k, v]) => `${k}=${String(v)}`),
    wire_stat: Buffer.from(wireStat(view)).toString('hex'),
    acl: view.acl(),
  });
}

function wireStat(view: NodeView): Uint8Array {
  const out = new Uint8Array(68);
  view.statTo(out, 0);
  return out;
}

/** Pins the newest root, reads `read` of it, closes. */
function atNewest<T>(handle: ArenaHandle, read: (r: TreeReader) => T): T {
  const r = new TreeReader(handle);
  r.pin();
  try {
    return read(r);
  } finally {
    r.close();
  }
}

/** A fresh arena recovered from `dir`: its newest root's dump, bytes in use, what recovery found. */
function freshRecovery(dir: string): { dump: string[]; bytes_in_use: number; state: ArenaRecovered } {
  const handle = createArenaHandle(SMALL);
  const writer = new TreeWriter(handle);
  const state = recoverIntoArena(writer, options(dir));
  return { dump: atNewest(handle, dump), bytes_in_use: writer.stats().bytes_in_use, state };
}

/** An arena recovered from the log of `txns` (a snapshot after `snapshot_after` of them when > 0). */
async function arenaHolding(dir: string, txns: readonly Txn[], snapshot_after: number): Promise<{ handle: ArenaHandle; writer: TreeWriter }> {
  await writeLog(dir, txns, SEGMENT_BYTES);
  if (snapshot_after > 0) writeSnapshotAfter(dir, txns, snapshot_after);
  const handle = createArenaHandle(SMALL);
  const writer = new TreeWriter(handle);
  recoverIntoArena(writer, options(dir));
  return { handle, writer };
}

/** The old tree's reader: its dump, and that it still equals `tree`. */
function expectStillReads(pinned: TreeReader, before: string[], tree: DataTree): void {
  expect(dump(pinned)).toEqual(before);
  expect(arenaDiff(pinned, tree)).toEqual([]);
}

/** After the reader lets go: nothing retired, no leak, about the memory of a fresh recovery. */
function expectOldTreeFreed(writer: TreeWriter, fresh_bytes: number): void {
  writer.reclaim();
  expect(writer.stats().bytes_retired).toBe(0);
  auditArena(writer);
  const pages = SMALL.page_bytes;
  expect(writer.stats().bytes_in_use).toBeLessThanOrEqual(fresh_bytes * 1.1 + 8 * pages);
  expect(writer.stats().bytes_in_use).toBeGreaterThanOrEqual(fresh_bytes * 0.8);
}

describe('reloadIntoArena', () => {
  it('TRUNC: snapshot + truncated log become one new root at a LOWER zxid; the pinned old root reads A throughout', async () => {
    const A = history(71, 160);
    const dir = tempDir();
    const { handle, writer } = await arenaHolding(dir, A, 60);
    const pinned = new TreeReader(handle);
    pinned.pin();
    const before = dump(pinned);
    expect(arenaDiff(pinned, treeAfter(A, 160))).toEqual([]);
    await truncateLogAfter(NODE_LOG_FS, dir, A[99].header.zxid, { fsync: false, snapshot_dir: dir });

    // A pin taken while the log is replayed (the snapshot is in the open batch by then) gets A.
    const gen_before = writer.generation;
    const during: { gen: number; dump: string[] }[] = [];
    const read_fs = {
      ...NODE_SEGMENT_READ_FS,
      openRead: (path: string): number => {
        during.push(atNewest(handle, (r) => ({ gen: r.gen, dump: dump(r) })));
        return NODE_SEGMENT_READ_FS.openRead(path);
      },
    };
    const state = reloadIntoArena(writer, options(dir, { read_fs }));

    expect(during.length).toBeGreaterThan(0);
    for (const d of during) expect(d).toEqual({ gen: gen_before, dump: before });
    expect(writer.generation).toBe(gen_before + 1);
    expect(state.snapshot?.zxid).toBe(A[59].header.zxid);
    expect(state.replayed).toBe(40);
    expect(state.last_zxid).toBe(A[99].header.zxid);
    expect(writer.last_root.last_zxid).toBe(A[99].header.zxid);
    expect(state.sessions).toEqual(sessionsAfter(A, 100));
    expectStillReads(pinned, before, treeAfter(A, 160));

    const fresh = freshRecovery(dir);
    expect(atNewest(handle, dump)).toEqual(fresh.dump);
    expect(atNewest(handle, (r) => arenaDiff(r, treeAfter(A, 100)))).toEqual([]);
    expect(state).toEqual(fresh.state);

    // The txns after the cut come again (the new leader's): zxids go on from the reloaded one.
    writer.begin();
    writer.commit(A[99].header.zxid + 1);
    expect(dump(pinned)).toEqual(before);
    pinned.close();
    expectOldTreeFreed(writer, fresh.bytes_in_use);
  });

  it("SNAP: the leader's snapshot of a diverged history (streamed, at a higher zxid) replaces A", async () => {
    const A = history(72, 120);
    const B = fork(A, 40, 150);
    const dir = tempDir();
    const { handle, writer } = await arenaHolding(dir, A, 0);
    const pinned = new TreeReader(handle);
    pinned.pin();
    const before = dump(pinned);
    // The leader's snapshot: its shared tree's, encoded from a pinned root, as a leader sends it.
    const leader = await arenaHolding(tempDir(), B, 0);
    const snap_path = join(tempDir(), 'leader.snap');
    const sessions = [...sessionsAfter(B, B.length)].map(([session_id, s]) => ({ session_id, ...s }));
    atNewest(leader.handle, (r) => writeEncodedSnapshotSync(snap_path, new ArenaSnapshotEncoder(r, r.last_zxid, sessions, 1_700_000_000_000)));
    const zxid = B[B.length - 1].header.zxid;
    await installSnapshot(NODE_LOG_FS, dir, dir, zxid, readFileSync(snap_path), { fsync: false });

    const gen_before = writer.generation;
    const state = reloadIntoArena(writer, options(dir));
    expect(writer.generation).toBe(gen_before + 1);
    expect(state.snapshot_method).toBe('streamed');
    expect(state.last_zxid).toBe(zxid);
    expect(state.sessions).toEqual(sessionsAfter(B, B.length));
    expectStillReads(pinned, before, treeAfter(A, 120));
    const fresh = freshRecovery(dir);
    expect(atNewest(handle, dump)).toEqual(fresh.dump);
    expect(atNewest(handle, (r) => arenaDiff(r, treeAfter(B, B.length)))).toEqual([]);
    pinned.close();
    expectOldTreeFreed(writer, fresh.bytes_in_use);
  });

  it('an empty data dir: the tree a fresh ZooKeeper starts with, at zxid 0', async () => {
    const A = history(73, 100);
    const { handle, writer } = await arenaHolding(tempDir(), A, 50);
    const pinned = new TreeReader(handle);
    pinned.pin();
    const before = dump(pinned);
    const empty = tempDir();
    const state = reloadIntoArena(writer, options(empty));
    expect(state.snapshot).toBeNull();
    expect(state.last_zxid).toBe(0);
    expect(writer.last_root.last_zxid).toBe(0);
    expect(writer.last_root.node_count).toBe(4);
    expectStillReads(pinned, before, treeAfter(A, 100));
    const fresh = freshRecovery(empty);
    expect(atNewest(handle, dump)).toEqual(fresh.dump);
    expect(atNewest(handle, (r) => arenaDiff(r, new DataTree()))).toEqual([]);
    pinned.close();
    expectOldTreeFreed(writer, fresh.bytes_in_use);
  });

  it('a damaged newest snapshot is skipped before anything is written (an older one is used, as at start)', async () => {
    const A = history(74, 150);
    const dir = tempDir();
    const { handle, writer } = await arenaHolding(dir, A, 40);
    writeSnapshotAfter(dir, A, 120);
    const newest = listDataDir(dir).snapshots.at(-1)!;
    const bytes = readFileSync(newest.path);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(newest.path, bytes);
    const opts = options(dir);
    const state = reloadIntoArena(writer, opts);
    expect(opts.warnings.join('\n')).toMatch(/unusable.*trying an older one/);
    expect(state.snapshot?.zxid).toBe(A[39].header.zxid);
    expect(state.last_zxid).toBe(A[149].header.zxid);
    expect(atNewest(handle, dump)).toEqual(freshRecovery(dir).dump);
    expect(atNewest(handle, (r) => arenaDiff(r, treeAfter(A, 150)))).toEqual([]);
    writer.reclaim();
    auditArena(writer);
  });

  it('a log damaged after the snapshot was loaded fails loudly; readers keep A and the half-built batch is never published', async () => {
    const A = history(75, 200);
    const dir = tempDir();
    const { handle, writer } = await arenaHolding(dir, A, 20);
    const pinned = new TreeReader(handle);
    pinned.pin();
    const before = dump(pinned);
    const segments = listDataDir(dir).segments;
    expect(segments.length).toBeGreaterThanOrEqual(3);
    // A segment after the snapshot's zxid, not the last (damage there is no torn tail).
    const damaged = segments.at(-2)!.path;
    const bytes = readFileSync(damaged);
    bytes[200] ^= 0xff;
    writeFileSync(damaged, bytes);
    const gen_before = writer.generation;
    expect(() => reloadIntoArena(writer, options(dir))).toThrow(RecoveryError);
    expect(() => reloadIntoArena(writer, options(dir))).toThrow(/batch open|failed earlier/);
    expect(writer.generation).toBe(gen_before);
    expect(atNewest(handle, dump)).toEqual(before);
    expect(() => writer.commit(0, { rewind: true })).toThrow(/failed earlier.*half way/);
    expectStillReads(pinned, before, treeAfter(A, 200));
    pinned.close();
  });

  it('an arena with no room for the old and the new tree at once fails loudly naming waitfree.tree.segmentsMax', async () => {
    // 120 nodes of 3000 bytes (3-page runs): ~370 KiB of tree, in 2 segments of 256 KiB.
    const h = new Harness();
    h.create('/big', '');
    for (let i = 0; i < 120; i++) h.write(Op.create, { path: `/big/n${i}`, data: new Uint8Array(3000).fill(i), acl: open(), flags: 0 });
    const dir = tempDir();
    await writeLog(dir, h.log, SEGMENT_BYTES);
    writeSnapshotAfter(dir, h.log, h.log.length);
    const handle = createArenaHandle({ ...SMALL, segments_max: 2 });
    const writer = new TreeWriter(handle);
    recoverIntoArena(writer, options(dir));
    expect(writer.stats().bytes_in_use).toBeGreaterThan(SMALL.segment_bytes);
    const pinned = new TreeReader(handle);
    pinned.pin();
    const before = dump(pinned);
    let error: unknown = null;
    try {
      reloadIntoArena(writer, options(dir));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RecoveryError);
    expect((error as Error).message).toMatch(/half way.*arena full.*raise waitfree\.tree\.segmentsMax/);
    expect(atNewest(handle, dump)).toEqual(before);
    expectStillReads(pinned, before, h.tree);
    pinned.close();
  });

  it('refuses a writer with a batch open', () => {
    const writer = TreeWriter.create(SMALL);
    writer.begin();
    expect(() => reloadIntoArena(writer, options(tempDir()))).toThrow(/batch open/);
  });
});
