import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ACL } from '../../src/protocol/types.js';
import { bulkLoad } from '../../src/store/arena/bulk_load.js';
import { auditArena, checkTree } from '../../src/store/arena/check.js';
import { NodeStreamError, writeNodeStream } from '../../src/store/arena/node_stream.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';
import { bounded } from '../support/fc_bounds.js';
import { childPath, CONTAINER, expectViewMatches, ModelWriter, TTL_1S } from './model.js';

// Snapshot iteration of a pinned root and the bulk loader: a random tree streamed (in chunks
// as small as 64 bytes) while the writer goes on changing the tree, then loaded into a fresh
// arena, reads exactly like the pinned root; the loaded tree keeps working under further
// changes; and a stream that is malformed or inconsistent is refused with NodeStreamError.

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const ACLS: ACL[][] = [OPEN, [{ perms: 1, id: { scheme: 'digest', id: 'u:x' } }]];
const small = { page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64 };

function systemModel(m: ModelWriter): void {
  const base = { data: new Uint8Array(0), czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0, owner: 0n };
  m.model.set('/', { ...base, acl: OPEN, numChildren: 1 });
  m.model.set('/zookeeper', { ...base, acl: OPEN, numChildren: 2 });
  m.model.set('/zookeeper/quota', { ...base, acl: OPEN, numChildren: 0 });
  m.model.set('/zookeeper/config', { ...base, acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], aversion: -1, numChildren: 0 });
}

/** A writer with system nodes + `creates` random nodes, committed; and its model. */
function buildTree(creates: Create[]): { writer: TreeWriter; m: ModelWriter } {
  const writer = TreeWriter.create(small);
  const m = new ModelWriter(writer);
  writer.begin();
  createSystemNodes(writer);
  systemModel(m);
  const owners = [0n, 0n, 0n, 42n, CONTAINER, TTL_1S];
  for (const c of creates) {
    const all = [...m.model.keys()].sort();
    const parent = all[c.parent % all.length];
    const path = childPath(parent, c.name);
    if (m.model.has(path) || m.model.get(parent)!.owner !== 0n) continue;
    m.create(path, c.size < 0 ? null : new Uint8Array(c.size).fill(c.size & 0xff), ACLS[c.acl % 2], owners[c.owner % owners.length]);
  }
  writer.commit(m.zxid);
  return { writer, m };
}

function stream(reader: TreeReader, chunk_bytes: number, last_zxid: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  writeNodeStream(reader, (c) => chunks.push(c), { chunk_bytes, last_zxid });
  return chunks;
}

function load(chunks: Iterable<Uint8Array>, fill?: number): TreeWriter {
  const w = TreeWriter.create(small);
  w.begin();
  const { last_zxid } = bulkLoad(w, chunks, { fill });
  w.commit(last_zxid);
  return w;
}

/** Offset just past the record at `at` (records: see node_stream.ts; stat bytes 52..55 hold dataLength). */
function recordEnd(b: Buffer, at: number): number {
  const tag = b[at];
  if (tag === 1) return at + 9 + b.readUInt32BE(at + 5);
  if (tag === 2) {
    const pl = b.readUInt32BE(at + 1);
    return at + 5 + pl + 68 + 4 + Math.max(0, b.readInt32BE(at + 5 + pl + 52));
  }
  if (tag === 3) return at + 13;
  throw new Error(`unknown record tag ${tag} at ${at}`);
}

/**
 * The chunking contract of writeNodeStream: every chunk holds whole records, and a chunk longer
 * than chunk_bytes holds exactly one record (one too large for any chunk_bytes chunk). No bound
 * beyond that: a record is as long as its path plus its data.
 */
function expectWholeRecords(chunks: readonly Uint8Array[], chunk_bytes: number): void {
  chunks.forEach((c, i) => {
    const b = Buffer.from(c.buffer, c.byteOffset, c.length);
    let records = 0;
    let at = 0;
    while (at < b.length) {
      at = recordEnd(b, at);
      records++;
    }
    if (at !== b.length) throw new Error(`chunk ${i} (${b.length} bytes): its last record ends at byte ${at}`);
    if (b.length > chunk_bytes && records !== 1) {
      throw new Error(`chunk ${i}: ${b.length} bytes, over chunk_bytes ${chunk_bytes}, holds ${records} records (only a lone record may be longer)`);
    }
  });
}

type Create = { parent: number; name: string; size: number; acl: number; owner: number };

/**
 * The tree of `creates` is pinned, the writer then changes it (setData on the /zookeeper nodes,
 * a create), the pinned root is streamed in `chunk_bytes` chunks and loaded with `fill`: the
 * loaded tree reads exactly as the pinned root, and its arena has no leaked page.
 */
function streamWhileWriting(creates: Create[], chunk_bytes: number, fill: number): Uint8Array[] {
  const { writer, m } = buildTree(creates);
  const reader = new TreeReader(writer.handle);
  reader.pin();
  const pinned = m.snapshot();
  writer.begin();
  for (const path of [...m.model.keys()].filter((p) => p.startsWith('/zookeeper/'))) m.setData(path, new Uint8Array(700));
  m.create('/later', null, OPEN, 0n);
  writer.commit(m.zxid);
  const chunks = stream(reader, chunk_bytes, m.zxid);
  expectWholeRecords(chunks, chunk_bytes);
  const loaded = load(chunks, fill);
  expectViewMatches(loaded.view, pinned, ['/later']);
  auditArena(loaded);
  reader.close();
  return chunks;
}

const create = fc.record({
  parent: fc.nat(),
  name: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.integer({ min: 130, max: 260 }).map((n) => 'k'.repeat(n))),
  size: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 600, max: 3000 })),
  acl: fc.nat(),
  owner: fc.nat(),
});

describe('node stream and bulk loader', () => {
  it('a pinned root streamed while the writer goes on loads into a tree that reads the same', () => {
    fc.assert(
      fc.property(fc.array(create, { minLength: 0, maxLength: 300, size: 'max' }), fc.integer({ min: 64, max: 4096 }), fc.double({ min: 0.5, max: 1, noNaN: true }), (creates, chunk_bytes, fill) => {
        streamWhileWriting(creates, chunk_bytes, fill);
      }),
      bounded({ numRuns: 25 }),
    );
  });

  // Regression (CI hang; fast-check seed 1, path "232"): a path of four long names (1041 bytes)
  // holding 2994 bytes made a 4112-byte node record, and the property asserted every chunk was
  // at most max(chunk_bytes, 4096) bytes, a bound writeNodeStream never promised (a record
  // larger than chunk_bytes gets a chunk of its own). The fixed case: four 260-byte names deep,
  // 3000 bytes of data, a 4121-byte record, streamed in 64-byte chunks.
  it('a record larger than chunk_bytes and 4 KiB gets a chunk of its own and loads', () => {
    const long = 'k'.repeat(260);
    // parent indexes into the sorted paths: "/", then each new long path sorts right after its parent.
    const creates: Create[] = [0, 1, 2, 3].map((parent) => ({ parent, name: long, size: parent === 3 ? 3000 : -1, acl: 0, owner: 0 }));
    const chunks = streamWhileWriting(creates, 64, 1);
    const record_bytes = 1 + 4 + 4 * (1 + long.length) + 68 + 4 + 3000;
    expect(record_bytes).toBeGreaterThan(4096);
    expect(chunks.filter((c) => c.length === record_bytes).length).toBe(1);
  });

  it('a loaded tree takes further creates, deletes and sets (full pages split, then merge)', () => {
    const creates = Array.from({ length: 400 }, (_, i) => ({ parent: i * 13, name: `n${i}`, size: i % 40, acl: i, owner: i }));
    const { writer, m } = buildTree(creates);
    const reader = new TreeReader(writer.handle);
    reader.pin();
    const loaded = load(stream(reader, 1 << 16, m.zxid), 1);
    const m2 = new ModelWriter(loaded);
    m2.model = m.snapshot();
    m2.zxid = m.zxid;
    loaded.begin();
    for (let i = 0; i < 300; i++) m2.create(`/x${i}`, new Uint8Array(i % 9), OPEN, i % 3 === 0 ? 7n : 0n);
    for (const path of [...m2.model.keys()].filter((p) => p.startsWith('/n') && m2.model.get(p)!.numChildren === 0).slice(0, 200)) m2.delete(path);
    for (const path of [...m2.model.keys()].slice(0, 100)) m2.setData(path, null);
    loaded.commit(m2.zxid);
    expectViewMatches(loaded.view, m2.model);
    auditArena(loaded);
  });

  it('packs pages: a loaded tree uses fewer pages than the same tree built by inserts', () => {
    const creates = Array.from({ length: 2000 }, (_, i) => ({ parent: 0, name: `node-${(i * 7919) % 100_003}`, size: 20, acl: 0, owner: 0 }));
    const { writer, m } = buildTree(creates);
    const reader = new TreeReader(writer.handle);
    reader.pin();
    const loaded = load(stream(reader, 1 << 16, m.zxid), 1);
    const built_pages = checkTree(reader).pages.size;
    const loaded_pages = checkTree(loaded.view).pages.size;
    expect(loaded_pages).toBeLessThan(built_pages * 0.8);
  });

  describe('refuses a malformed or inconsistent stream', () => {
    const { writer, m } = buildTree(Array.from({ length: 30 }, (_, i) => ({ parent: i, name: `c${i}`, size: 5, acl: i, owner: 0 })));
    const reader = new TreeReader(writer.handle);
    reader.pin();
    const good = Buffer.concat(stream(reader, 1 << 16, m.zxid));

    /** Offset of the record after the one at `at`. */
    const next = (at: number): number => recordEnd(good, at);
    /** Offsets of node records (tag 2) in the stream. */
    function nodeRecords(): number[] {
      const offs: number[] = [];
      for (let at = 0; at < good.length; at = next(at)) if (good[at] === 2) offs.push(at);
      return offs;
    }
    const expectRefused = (bytes: Uint8Array, message: RegExp): void => {
      expect(() => load([bytes])).toThrow(NodeStreamError);
      expect(() => load([bytes])).toThrow(message);
    };

    it('loads the unmodified stream', () => {
      expectViewMatches(load([good]).view, m.model);
    });
    it('truncated', () => expectRefused(good.subarray(0, good.length - 20), /truncated|no end record/));
    it('no end record', () => expectRefused(good.subarray(0, good.length - 13), /no end record/));
    it('wrong node count in the end record', () => {
      const bad = Buffer.from(good);
      bad.writeUInt32BE(bad.readUInt32BE(bad.length - 12) + 1, bad.length - 12);
      expectRefused(bad, /end record counts/);
    });
    it('two nodes swapped (keys out of order)', () => {
      // Three node records in a row (no ACL record between them): swap the first two.
      const recs = nodeRecords();
      const i = recs.findIndex((at, j) => j >= 5 && good[recs[j + 2]] === 2 && recs[j + 1] === next(at) && recs[j + 2] === next(recs[j + 1]));
      expect(i).toBeGreaterThan(0);
      const [a, b, c] = [recs[i], recs[i + 1], recs[i + 2]];
      const bad = Buffer.concat([good.subarray(0, a), good.subarray(b, c), good.subarray(a, b), good.subarray(c)]);
      expectRefused(bad, /order|without that parent/);
    });
    it('a node dropped (its parent numChildren no longer matches)', () => {
      const recs = nodeRecords();
      const at = recs[recs.length - 1];
      const bad = Buffer.from(Buffer.concat([good.subarray(0, at), good.subarray(good.length - 13)]));
      bad.writeUInt32BE(recs.length - 1, bad.length - 12);
      expectRefused(bad, /numChildren/);
    });
    it('a numChildren changed', () => {
      const bad = Buffer.from(good);
      const at = nodeRecords()[0]; // "/"
      bad.writeInt32BE(bad.readInt32BE(at + 5 + 1 + 56) + 1, at + 5 + 1 + 56);
      expectRefused(bad, /numChildren/);
    });
    it('an undefined ACL id', () => {
      const bad = Buffer.from(good);
      const at = nodeRecords()[0];
      bad.writeUInt32BE(999, at + 5 + 1 + 68);
      expectRefused(bad, /undefined ACL/);
    });
    it('an unknown record tag', () => {
      const bad = Buffer.from(good);
      bad[nodeRecords()[1]] = 9;
      expectRefused(bad, /unknown record tag/);
    });
  });
});
