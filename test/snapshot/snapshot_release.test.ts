// A snapshot file read for loading gives its memory back when the load is done, not when V8
// next collects (an idle commit worker may not collect for minutes: a restarted server kept a
// 180 MiB snapshot file in its RSS). Real files in a tmp dir; RSS from the process itself.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSnapshotBytes } from '../../src/snapshot/snapshot_reader.js';
import { freeNow } from '../../src/store/arena/free_now.js';

const dir = mkdtempSync(join(tmpdir(), 'waitfree-snap-release-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILE_BYTES = 96 * 1024 * 1024;
/** Most of the file must leave the RSS (other allocations of the test process move it a little). */
const DROP_BYTES_MIN = 64 * 1024 * 1024;
const WAIT_MS_MAX = 2_000;

const turn = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('readSnapshotBytes', () => {
  it('hands back the file, and release() frees its memory while the object is still referenced', async () => {
    const path = join(dir, 'big');
    const content = Buffer.alloc(FILE_BYTES, 0x5a);
    content[FILE_BYTES - 1] = 0x01;
    writeFileSync(path, content);
    freeNow(content.buffer);
    const file = readSnapshotBytes(path);
    expect(file.bytes.length).toBe(FILE_BYTES);
    expect(file.bytes[0]).toBe(0x5a);
    expect(file.bytes[FILE_BYTES - 1]).toBe(0x01);
    const rss_loaded = process.memoryUsage.rss();
    file.release();
    file.release(); // idempotent
    expect(file.bytes.length).toBe(0);
    // `file` stays referenced below, so no GC can be what frees it.
    let rss = process.memoryUsage.rss();
    const deadline = Date.now() + WAIT_MS_MAX;
    while (rss_loaded - rss < DROP_BYTES_MIN && Date.now() < deadline) {
      await turn();
      rss = process.memoryUsage.rss();
    }
    expect(rss_loaded - rss).toBeGreaterThanOrEqual(DROP_BYTES_MIN);
    expect(file.bytes.byteLength).toBe(0);
  });

  it('freeNow leaves buffers it cannot take (empty, shared) as they are', () => {
    const sab = new SharedArrayBuffer(16);
    freeNow(sab);
    expect(sab.byteLength).toBe(16);
    const empty = new ArrayBuffer(0);
    expect(() => freeNow(empty)).not.toThrow();
  });
});
