// Small node data lives inline in the leaf entry after the record (layout.ts, "Inline data");
// larger data, and data whose key is too long for it, in a blob. A node's data moving between
// the two (setData of any size to any size, null and empty included) must read back exactly, at
// the newest root and at every root a reader still pins, through a snapshot stream and a bulk
// load too, with no memory leaked (the audit walks every page and blob).

import { describe, expect, it } from 'vitest';
import { auditArena } from '../../src/store/arena/check.js';
import { INLINE_DATA_MAX } from '../../src/store/arena/layout.js';
import { writeNodeStream } from '../../src/store/arena/node_stream.js';
import { bulkLoad } from '../../src/store/arena/bulk_load.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/tree_writer.js';

const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

/** Data sizes in the order setData visits them: every transition inline <-> blob <-> none. */
const SIZES: (number | null)[] = [null, 5, 5, 100, INLINE_DATA_MAX, INLINE_DATA_MAX + 1, 10, 0, INLINE_DATA_MAX, 3000, 1, null, 64];

function read(r: TreeReader, path: string): Uint8Array | null {
  expect(r.findPath(path), path).toBe(true);
  return r.data();
}

describe('inline node data', () => {
  for (const page_bytes of [1024, 4096]) {
    it(`reads back across every inline/blob transition at every pinned root (pages of ${page_bytes} B)`, () => {
      const w = TreeWriter.create({ page_bytes, segment_bytes: 256 * 1024, segments_max: 16, reader_slots: 16 });
      w.begin();
      createSystemNodes(w);
      w.commit(0);
      // A short key (data inline up to INLINE_DATA_MAX), a key too long for inline data, and
      // neighbours whose pages split and merge around the changing entry.
      const long_name = 'k'.repeat(page_bytes >>> 3);
      const paths = ['/a', `/${long_name}`];
      let zxid = 0;
      w.begin();
      for (let i = 0; i < 40; i++) w.create(`/n${String(i).padStart(3, '0')}`, bytes(i * 3, i), ACL, 0n, ++zxid, 0, i + 1);
      for (const p of paths) w.create(p, null, ACL, 0n, ++zxid, 0, 41);
      w.commit(zxid);
      const pins: { reader: TreeReader; want: (Uint8Array | null)[] }[] = [];
      let version = 0;
      for (const [step, size] of SIZES.entries()) {
        w.begin();
        const value = size === null ? null : bytes(size, 0x41 + step);
        for (const p of paths) w.setData(p, value, ++version, ++zxid, step);
        // The writer's view is left on the node it changed.
        expect(w.view.data()).toEqual(value);
        w.commit(zxid);
        const reader = new TreeReader(w.handle);
        reader.pin();
        pins.push({ reader, want: paths.map(() => value) });
        for (const pin of pins) for (const [i, p] of paths.entries()) expect(read(pin.reader, p), `${p} at step ${step}`).toEqual(pin.want[i]);
        for (let i = 0; i < 40; i++) expect(read(reader, `/n${String(i).padStart(3, '0')}`)).toEqual(bytes(i * 3, i));
      }
      // Through a snapshot stream and a bulk load: the same data.
      const chunks: Uint8Array[] = [];
      writeNodeStream(pins[pins.length - 1].reader, (c) => chunks.push(c.slice()), { last_zxid: zxid });
      const loaded = TreeWriter.create({ page_bytes, segment_bytes: 256 * 1024, segments_max: 16 });
      loaded.begin();
      bulkLoad(loaded, chunks);
      loaded.commit(zxid);
      const lr = new TreeReader(loaded.handle);
      lr.pin();
      for (const p of paths) expect(read(lr, p)).toEqual(bytes(64, 0x41 + SIZES.length - 1));
      for (let i = 0; i < 40; i++) expect(read(lr, `/n${String(i).padStart(3, '0')}`)).toEqual(bytes(i * 3, i));
      lr.unpin();
      for (const pin of pins) pin.reader.unpin();
      // Nothing leaked: once unpinned, a commit reclaims what older roots held.
      w.begin();
      w.commit(zxid);
      expect(auditArena(w).nodes).toBeGreaterThan(40);
      expect(auditArena(loaded).nodes).toBeGreaterThan(40);
    });
  }
});
