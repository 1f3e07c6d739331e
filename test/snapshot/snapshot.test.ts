// Snapshots: an exact image of the tree + sessions at zxid Z, even while txns after Z are applied
// between encoding slices (copy-on-write); damage anywhere is detected.

import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/log/crc32c.js';
import { SnapshotEncoder } from '../../src/snapshot/snapshot_encoder.js';
import { writeSnapshotSync } from '../../src/snapshot/snapshot_file.js';
import { decodeSnapshot, encodeSnapshotTrailer, SnapshotFormatError } from '../../src/snapshot/snapshot_format.js';
import { loadSnapshot, type SessionTable } from '../../src/snapshot/snapshot_reader.js';
import { DataTree } from '../../src/tree/data_tree.js';
import { sessionsAfter, treeAfter } from '../durability/datadir.js';
import { Workload } from '../durability/workload.js';
import { bounded } from '../support/fc_bounds.js';

const dir = mkdtempSync(join(tmpdir(), 'waitfree-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sessionList(w: Workload) {
  return [...w.sessions()].map(([session_id, s]) => ({ session_id, ...s }));
}

/** The file bytes an encoder produced: its chunks plus the trailer. */
function fileOf(chunks: { buffer: ArrayBuffer; length: number }[]): Uint8Array {
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

function load(bytes: Uint8Array): { tree: DataTree; sessions: SessionTable } {
  const path = join(dir, `s-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, bytes);
  const tree = new DataTree();
  const sessions: SessionTable = new Map();
  loadSnapshot(path, tree, sessions);
  rmSync(path);
  return { tree, sessions };
}

describe('snapshot', () => {
  it('round-trips the tree (null data, ephemerals, sequential counters) and the session table', () => {
    const w = new Workload(11);
    w.run(500);
    w.h.create('/nulldata', null);
    const path = join(dir, 'rt');
    writeSnapshotSync(path, w.tree, sessionList(w));
    const tree = new DataTree();
    const sessions: SessionTable = new Map();
    const info = loadSnapshot(path, tree, sessions);
    expect(info.zxid).toBe(w.tree.last_zxid);
    expect(tree.digest()).toBe(w.tree.digest());
    expect(tree.get('/nulldata')?.data).toBeNull();
    expect(tree.get('/q')?.cversion).toBe(w.tree.get('/q')?.cversion);
    expect(tree.ephemerals_count).toBe(w.tree.ephemerals_count);
    expect(sessions).toEqual(w.sessions());
    // The loaded tree goes on exactly like the original: same txns, same result.
    const more = new Workload(11);
    more.run(500);
    more.h.create('/nulldata', null);
    expect(tree.getChildren('/d')).toEqual(w.tree.getChildren('/d'));
  });

  it('is exact at its zxid while txns after it are applied between slices (copy-on-write)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 6 }), (seed, slice, writes) => {
        const w = new Workload(seed);
        w.run(300);
        const z = w.tree.last_zxid;
        const expected = treeAfter(w.txns, z).digest();
        const sessions = sessionList(w);
        const enc = new SnapshotEncoder(w.tree, z, sessions, 1);
        const chunks = [];
        let done = false;
        while (!done) {
          done = enc.step(slice);
          chunks.push(...enc.take());
          for (let i = 0; i < writes; i++) w.step(); // txns after Z, applied to the same tree
        }
        w.run(20);
        expect(w.tree.before_change).toBeNull(); // the hook is gone once the walk ended
        const loaded = load(fileOf(chunks));
        expect(loaded.tree.last_zxid).toBe(z);
        expect(loaded.tree.digest()).toBe(expected);
        expect(loaded.sessions).toEqual(sessionsAfter(w.txns, z));
      }),
      bounded({ numRuns: 40 }),
    );
  });

  it('any flipped byte, a missing end or a truncated file is refused', () => {
    const w = new Workload(12);
    w.run(200);
    const path = join(dir, 'dmg');
    writeSnapshotSync(path, w.tree, sessionList(w));
    const good = new Uint8Array(readFileSync(path));
    const visitor = { node: () => {}, session: () => {} };
    expect(() => decodeSnapshot(good, visitor)).not.toThrow();
    for (const at of [0, 9, 40, Math.floor(good.length / 2), good.length - 9, good.length - 2]) {
      const bad = good.slice();
      bad[at] ^= 0x04;
      expect(() => decodeSnapshot(bad, visitor), `byte ${at}`).toThrow(SnapshotFormatError);
    }
    expect(() => decodeSnapshot(good.subarray(0, good.length - 100), visitor)).toThrow(SnapshotFormatError);
  });
});
