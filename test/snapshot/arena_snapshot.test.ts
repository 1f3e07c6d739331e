// Snapshots of the shared tree: written from a pinned arena root (ArenaSnapshotEncoder) in the
// existing file format, and loaded into an empty arena (loadSnapshotIntoArena), from files of
// either encoder. Real files in a tmp dir; every tree is compared with the heap tree it came from.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/log/crc32c.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { ACL } from '../../src/protocol/types.js';
import { ArenaSnapshotEncoder } from '../../src/snapshot/arena_snapshot_encoder.js';
import { loadSnapshotFileIntoArena, loadSnapshotIntoArena } from '../../src/snapshot/arena_snapshot_loader.js';
import { writeSnapshotSync } from '../../src/snapshot/snapshot_file.js';
import {
  AclTable,
  ChunkWriter,
  encodeSnapshotHeader,
  encodeSnapshotTrailer,
  SnapshotFormatError,
  writeEndRecord,
  writeNodeRecord,
  type Chunk,
  type SessionState,
} from '../../src/snapshot/snapshot_format.js';
import { loadSnapshot, type SessionTable } from '../../src/snapshot/snapshot_reader.js';
import { auditArena } from '../../src/store/arena/check.js';
import { createArenaHandle, TreeReader, TreeWriter, type ArenaHandle } from '../../src/store/arena/index.js';
import { loadArenaFromTree } from '../../src/store/tree_mirror.js';
import { DataTree } from '../../src/tree/data_tree.js';
import { ZNode } from '../../src/tree/znode.js';
import { Workload } from '../durability/workload.js';
import { arenaDiff } from '../store/tree_equal.js';
import { enc, Harness, open } from '../tree/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'waitfree-arena-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ARENA = { segment_bytes: 1 << 20, segments_max: 32 };
let files = 0;
const fresh = (): string => join(dir, `snap-${++files}`);

const READ_ONLY_IP: ACL[] = [{ perms: 1, id: { scheme: 'ip', id: '10.0.0.1' } }];
const TWO_IPS: ACL[] = [
  { perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } },
  { perms: 3, id: { scheme: 'ip', id: '10.1.0.0/16' } },
];

/** A heap tree with every kind of node the arena must carry through a snapshot. */
function variedTree(): { tree: DataTree; sessions: SessionState[] } {
  const h = new Harness();
  h.create('/app', 'root of app');
  h.create('/app/null', null);
  h.create('/app/empty', '');
  const big = new Uint8Array(150_000).map((_, i) => (i * 7) & 0xff);
  h.write(Op.create, { path: '/app/big', data: big, acl: open(), flags: 0 });
  h.create('/app/ro', 'x', 0, {}, READ_ONLY_IP);
  h.create('/app/two', 'y', 0, {}, TWO_IPS);
  h.create('/app/two2', 'y', 0, {}, [...TWO_IPS]);
  h.create('/app/e1', 'eph', 1, { session_id: 0x51n });
  h.create('/app/e2', null, 1, { session_id: 0x52n });
  h.write(Op.createContainer, { path: '/cont', data: null, acl: open(), flags: 4 });
  h.create('/cont/child', 'c');
  h.write(Op.createTTL, { path: '/ttl', data: enc('t'), acl: open(), flags: 5, ttl: 60_000 });
  h.write(Op.createTTL, { path: '/ttl2', data: null, acl: open(), flags: 5, ttl: 5 });
  // U+FF21 sorts after the surrogates of U+1F600 in UTF-16, before them in UTF-8.
  h.create('/u', 'unicode');
  for (const name of ['\uff21', '\u{1f600}', 'é', 'z', 'a', '\uff21\u{1f600}', '\u{1f600}x']) h.create(`/u/${name}`, name);
  h.create('/u/\u{1f600}/deep', 'deep');
  h.create('/u/\uff21/deep', 'deep');
  h.create('/seq', null);
  for (let i = 0; i < 12; i++) h.create('/seq/s-', `s${i}`, 2);
  h.write(Op.delete, { path: '/seq/s-0000000003', version: -1 });
  h.create('/many', 'm');
  for (let i = 0; i < 400; i++) h.create(`/many/n${(i * 7919) % 1000}`, 'v'.repeat(i % 30));
  // Paths longer than a page's inline key (an overflow key in a blob), as a parent too.
  const long = `/long-${'x'.repeat(700)}`;
  h.create(long, 'long');
  h.create(`${long}/child`, 'c');
  h.create(`${long}/${'y'.repeat(600)}`, null);
  h.create('/a', 'a');
  h.create('/a/b', 'ab');
  h.create('/a/b/c', 'abc');
  h.create('/a!', 'bang');
  h.create('/b', 'b');
  h.write(Op.setData, { path: '/a/b', data: enc('changed'), version: -1 });
  h.write(Op.setACL, { path: '/a/b/c', acl: TWO_IPS, version: -1 });
  h.write(Op.delete, { path: '/many/n0', version: -1 });
  const sessions: SessionState[] = [
    { session_id: 0x51n, timeout_ms: 30_000, passwd: new Uint8Array(16).fill(1) },
    { session_id: 0x52n, timeout_ms: 4_000, passwd: new Uint8Array([9, 8, 7]) },
  ];
  return { tree: h.tree, sessions };
}

function writerWith(tree: DataTree): { handle: ArenaHandle; writer: TreeWriter } {
  const handle = createArenaHandle(ARENA);
  const writer = new TreeWriter(handle);
  loadArenaFromTree(writer, tree);
  return { handle, writer };
}

/** Runs the encoder to the end in slices of `nodes_max`; returns the file bytes. */
function encodeAll(encoder: ArenaSnapshotEncoder, nodes_max: number, between: () => void = () => {}): Uint8Array {
  const chunks: Chunk[] = [];
  for (let turn = 0; turn < 1_000_000; turn++) {
    const done = encoder.step(nodes_max);
    chunks.push(...encoder.take());
    if (done) return fileOf(chunks);
    between();
  }
  throw new Error('encoder did not finish');
}

function fileOf(chunks: readonly Chunk[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total + 8);
  let at = 0;
  for (const c of chunks) {
    out.set(new Uint8Array(c.buffer, 0, c.length), at);
    at += c.length;
  }
  out.set(encodeSnapshotTrailer(crc32c(out.subarray(0, total))), total);
  return out;
}

/** The snapshot file of the arena's newest root, encoded in slices of `nodes_max`. */
function arenaSnapshot(handle: ArenaHandle, sessions: readonly SessionState[], nodes_max: number): Uint8Array {
  const reader = new TreeReader(handle);
  reader.pin();
  try {
    return encodeAll(new ArenaSnapshotEncoder(reader, reader.last_zxid, sessions, 1234), nodes_max);
  } finally {
    reader.close();
  }
}

function heapLoad(bytes: Uint8Array): { tree: DataTree; sessions: SessionTable; zxid: number } {
  const path = fresh();
  writeFileSync(path, bytes);
  const tree = new DataTree();
  const sessions: SessionTable = new Map();
  const info = loadSnapshot(path, tree, sessions);
  return { tree, sessions, zxid: info.zxid };
}

/** arenaDiff of the newest root of `handle` against `tree`. */
function diffNewest(handle: ArenaHandle, tree: DataTree): string[] {
  const reader = new TreeReader(handle);
  reader.pin();
  try {
    return arenaDiff(reader, tree);
  } finally {
    reader.close();
  }
}

const tableOf = (sessions: readonly SessionState[]): SessionTable => new Map(sessions.map((s) => [s.session_id, { timeout_ms: s.timeout_ms, passwd: s.passwd }]));

describe('ArenaSnapshotEncoder', () => {
  it('writes a file the heap loader reads back as the same tree, sessions and zxid', () => {
    const { tree, sessions } = variedTree();
    const { handle } = writerWith(tree);
    const bytes = arenaSnapshot(handle, sessions, 7);
    const back = heapLoad(bytes);
    expect(back.zxid).toBe(tree.last_zxid);
    expect(back.tree.digest()).toBe(tree.digest());
    expect(back.tree.node_count).toBe(tree.node_count);
    expect(back.tree.approximate_data_size).toBe(tree.approximate_data_size);
    expect(back.tree.get('/app/null')?.data).toBeNull();
    expect(back.tree.get('/app/empty')?.data).toEqual(new Uint8Array(0));
    expect(back.tree.get('/seq')?.cversion).toBe(tree.get('/seq')?.cversion);
    expect(back.tree.get('/ttl')?.ephemeralOwner).toBe(tree.get('/ttl')?.ephemeralOwner);
    expect(back.sessions).toEqual(tableOf(sessions));
  });

  it('gives the same bytes whatever the slice size', () => {
    const { tree, sessions } = variedTree();
    const { handle } = writerWith(tree);
    const whole = arenaSnapshot(handle, sessions, 1_000_000);
    // Buffer.compare: a deep toEqual over ~300 KB of bytes takes seconds.
    for (const nodes_max of [1, 97]) expect(Buffer.compare(arenaSnapshot(handle, sessions, nodes_max), whole), `slices of ${nodes_max}`).toBe(0);
  });

  it('stays exact at the pinned root while the writer commits more changes between slices', () => {
    const { tree, sessions } = variedTree();
    const { handle, writer } = writerWith(tree);
    const reader = new TreeReader(handle);
    reader.pin();
    let zxid = tree.last_zxid;
    let k = 0;
    const encoder = new ArenaSnapshotEncoder(reader, zxid, sessions, 1);
    const bytes = encodeAll(encoder, 50, () => {
      writer.begin();
      zxid++;
      writer.create(`/later${zxid}`, enc('new'), open(), 0n, zxid, 1, 0);
      writer.setData('/a/b', enc(`v${zxid}`), 10 + zxid, zxid, 2);
      writer.delete(`/many/n${(++k * 7919) % 1000}`, zxid);
      writer.commit(zxid);
    });
    reader.close();
    expect(zxid).toBeGreaterThan(tree.last_zxid + 3);
    const back = heapLoad(bytes);
    expect(back.zxid).toBe(tree.last_zxid);
    expect(back.tree.digest()).toBe(tree.digest());
  });

  it('refuses a reader without a pin, a zxid other than the root\'s, and a pin moved mid-walk', () => {
    const { tree } = variedTree();
    const { handle, writer } = writerWith(tree);
    const reader = new TreeReader(handle);
    expect(() => new ArenaSnapshotEncoder(reader, tree.last_zxid, [], 1)).toThrow(/no pin/);
    reader.pin();
    expect(() => new ArenaSnapshotEncoder(reader, tree.last_zxid - 1, [], 1)).toThrow(/snapshot asked at/);
    const encoder = new ArenaSnapshotEncoder(reader, tree.last_zxid, [], 1);
    encoder.step(10);
    writer.begin();
    writer.create('/moved', null, open(), 0n, tree.last_zxid + 1, 1, 0);
    writer.commit(tree.last_zxid + 1);
    reader.advanceTo(writer.last_root);
    expect(() => encoder.step(10)).toThrow(/pin moved/);
    reader.close();
  });
});

describe('loadSnapshotIntoArena', () => {
  it('streams a file of the arena encoder into an empty arena equal to the tree', () => {
    const { tree, sessions } = variedTree();
    const { handle } = writerWith(tree);
    const path = fresh();
    writeFileSync(path, arenaSnapshot(handle, sessions, 64));
    const target = createArenaHandle(ARENA);
    const writer = new TreeWriter(target);
    const loaded: SessionTable = new Map();
    const info = loadSnapshotFileIntoArena(path, writer, loaded);
    expect(info.method).toBe('streamed');
    expect(info).toMatchObject({ zxid: tree.last_zxid, nodes: tree.node_count, sessions: 2, created_ms: 1234 });
    expect(writer.last_root.last_zxid).toBe(tree.last_zxid);
    expect(diffNewest(target, tree)).toEqual([]);
    // Pages, blobs and the owner index are sound: /app/e1, /app/e2, /cont, /ttl and /ttl2 have owners.
    expect(auditArena(writer).owned).toBe(5);
    expect(loaded).toEqual(tableOf(sessions));
    // The loaded arena is live: the writer goes on from it.
    writer.begin();
    writer.create('/after', enc('x'), open(), 0n, tree.last_zxid + 1, 1, 0);
    writer.commit(tree.last_zxid + 1);
    const reader = new TreeReader(target);
    reader.pin();
    expect(reader.findPath('/after')).toBe(true);
    expect(reader.nodeCount()).toBe(tree.node_count + 1);
    reader.close();
  });

  it('sorts a file of the heap encoder (nodes in map order) and loads the same tree', () => {
    const { tree, sessions } = variedTree();
    const path = fresh();
    writeSnapshotSync(path, tree, sessions, 99);
    const target = createArenaHandle(ARENA);
    const loaded: SessionTable = new Map();
    const writer = new TreeWriter(target);
    const info = loadSnapshotFileIntoArena(path, writer, loaded);
    expect(info.method).toBe('sorted');
    expect(info.nodes).toBe(tree.node_count);
    expect(diffNewest(target, tree)).toEqual([]);
    auditArena(writer);
    expect(loaded).toEqual(tableOf(sessions));
  });

  it('holds for random workloads, through both encoders', () => {
    for (const seed of [3, 17, 2024]) {
      const w = new Workload(seed);
      w.run(600);
      const sessions = [...w.sessions()].map(([session_id, s]) => ({ session_id, ...s }));
      const { handle } = writerWith(w.tree);
      const arena_file = arenaSnapshot(handle, sessions, 33);
      expect(heapLoad(arena_file).tree.digest(), `seed ${seed}`).toBe(w.tree.digest());
      const streamed = createArenaHandle(ARENA);
      const streamed_writer = new TreeWriter(streamed);
      expect(loadSnapshotIntoArena(arena_file, streamed_writer, null).method).toBe('streamed');
      expect(diffNewest(streamed, w.tree), `seed ${seed}`).toEqual([]);
      auditArena(streamed_writer);
      const heap_path = fresh();
      writeSnapshotSync(heap_path, w.tree, sessions);
      const sorted = createArenaHandle(ARENA);
      const sorted_writer = new TreeWriter(sorted);
      loadSnapshotFileIntoArena(heap_path, sorted_writer, null);
      expect(diffNewest(sorted, w.tree), `seed ${seed}`).toEqual([]);
      auditArena(sorted_writer);
    }
  });

  it('refuses a damaged file before touching the arena, which then loads a good one', () => {
    const { tree, sessions } = variedTree();
    const { handle } = writerWith(tree);
    const good = arenaSnapshot(handle, sessions, 1000);
    const target = createArenaHandle(ARENA);
    const writer = new TreeWriter(target);
    const table: SessionTable = new Map();
    const flipped = good.slice();
    flipped[Math.floor(good.length / 2)] ^= 0x10;
    const damaged = [flipped, good.slice(0, good.length - 100), good.slice(0, 20)];
    for (const bytes of damaged) {
      expect(() => loadSnapshotIntoArena(bytes, writer, table)).toThrow(SnapshotFormatError);
      expect(writer.in_batch).toBe(false);
      expect(writer.last_root.node_count).toBe(0);
      expect(table.size).toBe(0);
    }
    const path = fresh();
    writeFileSync(path, flipped);
    expect(() => loadSnapshotFileIntoArena(path, writer, table)).toThrow(path);
    expect(loadSnapshotIntoArena(good, writer, table).method).toBe('streamed');
    expect(diffNewest(target, tree)).toEqual([]);
  });

  it('refuses a well-formed file whose nodes do not make a tree, in either order', () => {
    const node = (data: string | null = 'x'): ZNode => new ZNode(data === null ? null : enc(data), open(), 1, 1, 1, 1, 1, 0, 0, 0, 0n);
    const cases: [string, string[], RegExp][] = [
      ['orphan, key order', ['/', '/a/b'], /children of "\/a" but not that node/],
      ['orphan, other order', ['/', '/z/q', '/b'], /without its parent "\/z"/],
      ['duplicate', ['/', '/a', '/a'], /twice/],
      ['no root', ['/a'], /no root/],
      ['bad path', ['/', '/a/'], /invalid path/],
      ['empty name', ['/', '/a', '/a//b'], /invalid path/],
      ['NUL in a name', ['/', '/a\u0000b'], /invalid path/],
      ['relative path', ['/', 'a'], /invalid path/],
    ];
    for (const [what, paths, message] of cases) {
      const bytes = craftedFile(paths.map((p) => [p, node()]));
      const writer = new TreeWriter(createArenaHandle(ARENA));
      expect(() => loadSnapshotIntoArena(bytes, writer, null), what).toThrow(message);
      expect(writer.in_batch, what).toBe(false);
      expect(writer.last_root.node_count, what).toBe(0);
    }
  });

  it('refuses an arena that is not empty', () => {
    const { tree, sessions } = variedTree();
    const { handle, writer } = writerWith(tree);
    expect(() => loadSnapshotIntoArena(arenaSnapshot(handle, sessions, 100), writer, null)).toThrow(/already holds/);
  });
});

/** A file in the snapshot format with exactly these node records (checksums valid). */
function craftedFile(nodes: [string, ZNode][]): Uint8Array {
  const w = new ChunkWriter();
  const acls = new AclTable();
  const header = encodeSnapshotHeader(5, 1);
  w.reserve(header.length);
  w.raw(header);
  for (const [path, node] of nodes) writeNodeRecord(w, acls, path, node);
  writeEndRecord(w, nodes.length, 0, acls.count);
  w.cut();
  return fileOf(w.take());
}
