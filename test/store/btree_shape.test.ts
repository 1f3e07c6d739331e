import { describe, expect, it } from 'vitest';
import type { ACL } from '../../src/protocol/types.js';
import { bulkLoad } from '../../src/store/arena/bulk_load.js';
import { auditArena, checkTree } from '../../src/store/arena/check.js';
import { writeNodeStream } from '../../src/store/arena/node_stream.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';

// The B+tree's shape under the insert orders ZooKeeper sees most: keys created in ascending
// order (sequential znodes, key spaces created by a loop) and in descending order keep pages
// nearly full, random order stays within the usual ~70% fill; deleting most nodes merges pages
// back. (Balanced splits made the ascending tree 1.66x the bulk-loaded one. Keys just outside
// the run travel along with it: the two /zookeeper keys after an ascending run, the root's
// children before a descending one; with 4 KiB pages of ~40 entries they cost ~5%.)

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const config = { page_bytes: 4096, segment_bytes: 1 << 20, segments_max: 64 };

function build(order: number[]): TreeWriter {
  const w = TreeWriter.create(config);
  w.begin();
  createSystemNodes(w);
  w.create('/seq', null, OPEN, 0n, 1, 0, 1);
  let zxid = 1;
  for (const k of order) w.create(`/seq/k${String(k).padStart(7, '0')}`, new Uint8Array(10), OPEN, 0n, ++zxid, 0, k + 1);
  w.commit(zxid);
  return w;
}

function treePages(w: TreeWriter): number {
  return checkTree(w.view).pages.size;
}

function bulkLoadedPages(w: TreeWriter): number {
  const chunks: Uint8Array[] = [];
  writeNodeStream(w.view, (c) => chunks.push(c));
  const fresh = TreeWriter.create(config);
  fresh.begin();
  bulkLoad(fresh, chunks, { fill: 1 });
  fresh.commit(1);
  return treePages(fresh);
}

describe('B+tree shape', () => {
  const n = 20_000;
  const ascending = Array.from({ length: n }, (_, i) => i);

  it('ascending inserts keep pages nearly full', () => {
    const w = build(ascending);
    expect(treePages(w)).toBeLessThanOrEqual(bulkLoadedPages(w) * 1.1);
    auditArena(w);
  });

  it('descending inserts keep pages nearly full', () => {
    const w = build([...ascending].reverse());
    expect(treePages(w)).toBeLessThanOrEqual(bulkLoadedPages(w) * 1.1);
  });

  it('random inserts fill pages to at least half', () => {
    const shuffled = [...ascending];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const w = build(shuffled);
    expect(treePages(w)).toBeLessThanOrEqual(bulkLoadedPages(w) * 2);
  });

  it('deleting most nodes merges pages back', () => {
    const w = build(ascending);
    const full = treePages(w);
    w.begin();
    let zxid = 10_000;
    for (let k = 0; k < n; k++) if (k % 10 !== 0) w.delete(`/seq/k${String(k).padStart(7, '0')}`, ++zxid);
    w.commit(zxid);
    expect(treePages(w)).toBeLessThanOrEqual(full * 0.3);
    auditArena(w);
  });
});
