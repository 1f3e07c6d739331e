import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createArenaHandle } from '../../src/store/arena/memory.js';

// Real threads (compiled dist/; run tsc first): one writer thread publishes and reclaims batches
// while two reader threads pin, read and unpin as fast as they can (one of them holding some
// pins for a few ms so the writer publishes and retires past it). Every root a reader pins
// must satisfy its invariant (the node count and version sum the writer stored in /meta of that
// root, every node's data consistent with its stat): a page freed under a pin, or a root
// published before its pages, shows as a torn read. The arena is bounded (32 MiB, ~80x the live
// tree): reclamation that did not free memory would end in ArenaFullError or in the writer's
// bounded wait for reclamation (a reader starved by a loaded machine only delays it); at the
// end, once the readers are gone, the leak audit finds every page in use reachable.

const FIXTURES = new URL('./fixtures/', import.meta.url);
const RUN_MS = 4_000;

interface WriterResult {
  batches: number;
  /** Batches the writer held back while a starved reader's pin kept half the arena retired. */
  backoffs: number;
  max_in_use: number;
  error: string | null;
  audit: { nodes: number; pages: number } | null;
  live: number;
  stats: { bytes_capacity: number; bytes_retired: number };
}
interface ReaderResult {
  rounds: number;
  lookups: number;
  gens: number;
  errors: string[];
  max_held_gens: number;
}

function start<T>(script: string, workerData: object): Promise<T> {
  const worker = new Worker(fileURLToPath(new URL(script, FIXTURES)), { workerData });
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`${script} did not report within ${RUN_MS + 30_000} ms`));
    }, RUN_MS + 30_000);
    worker.once('message', (m: T) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('arena tree under real threads', () => {
  it('readers never see a torn root while the writer publishes and reclaims; memory stays bounded', async () => {
    const handle = createArenaHandle({ page_bytes: 4096, segment_bytes: 1 << 20, segments_max: 32, reader_slots: 4 });
    const flags_sab = new SharedArrayBuffer(16);
    const readers = [
      start<ReaderResult>('stress_reader.mjs', { handle, flags_sab, hold_every: 0 }),
      start<ReaderResult>('stress_reader.mjs', { handle, flags_sab, hold_every: 3 }),
    ];
    const writer = start<WriterResult>('stress_writer.mjs', { handle, flags_sab, run_ms: RUN_MS, readers: readers.length, seed: 12345 });
    const [w, ...rs] = await Promise.all([writer, ...readers]);
    process.stderr.write(`arena threads: ${w.batches} batches (${w.backoffs} held back), max in use ${w.max_in_use} B; readers: ${rs.map((r) => `${r.rounds} rounds / ${r.lookups} lookups / ${r.gens} roots`).join(', ')}\n`);
    expect(w.error).toBe(null);
    for (const r of rs) expect(r.errors).toEqual([]);
    // Enough concurrency happened to mean something.
    expect(w.batches).toBeGreaterThan(50);
    for (const r of rs) {
      expect(r.rounds).toBeGreaterThan(5);
      expect(r.gens).toBeGreaterThan(3);
    }
    expect(rs[1].max_held_gens).toBeGreaterThan(0);
    // Bounded (the writer never failed to allocate), and nothing leaked.
    expect(w.max_in_use).toBeLessThanOrEqual(w.stats.bytes_capacity);
    expect(w.audit).not.toBe(null);
    expect(w.audit!.nodes).toBe(4 + 2 + 20 + w.live);
    expect(w.stats.bytes_retired).toBe(0);
  }, RUN_MS + 60_000);
});
