import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../../src/ring/ring.js';

// Real threads: one producer worker and 1-2 consumer workers pass 200k frames of seeded random
// sizes through a small ring (forcing wrap-around and backpressure). Consumers check every byte
// and the checksum. Each scenario is bounded: workers are terminated after RUN_MS_MAX, and every
// single wait in a worker fails after 5 s, so a lost wake-up shows as a failure, not a slow pass.
// (The SPMC scenario is the one that caught a lost producer wake-up; see announcementStands.)

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = new URL('./fixtures/', import.meta.url);
const RUN_MS_MAX = 40_000;
const TEST_MS_MAX = RUN_MS_MAX + 5_000;

interface Result {
  frames: number;
  checksum: number;
  errors?: string[];
  wait_ms_max: number;
}

function start(script: string, workerData: object): { worker: Worker; done: Promise<Result> } {
  const worker = new Worker(new URL(script, FIXTURES), { workerData });
  const done = new Promise<Result>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${script} exited (code ${code}) before reporting`)));
  });
  return { worker, done };
}

interface Scenario {
  capacity_bytes: number;
  body_bytes_max: number;
  frames: number;
  batch: number;
  producer_mode: 'block' | 'async';
  consumer_modes: ('block' | 'async')[];
}

async function run(s: Scenario) {
  const seed = 0x5eed ^ s.frames ^ s.capacity_bytes;
  const sab = Ring.create({ capacity_bytes: s.capacity_bytes, consumers: s.consumer_modes.length });
  const consumers = s.consumer_modes.map((mode, consumer_index) =>
    start('consumer.mjs', { sab, consumer_index, seed, body_bytes_max: s.body_bytes_max, max_frames: 64, mode }),
  );
  const producer = start('producer.mjs', { sab, seed, frames: s.frames, body_bytes_max: s.body_bytes_max, batch: s.batch, mode: s.producer_mode });
  const all = [producer, ...consumers];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`ring threads scenario did not finish within ${RUN_MS_MAX} ms`)), RUN_MS_MAX);
  });
  try {
    const [sent, ...received] = await Promise.race([Promise.all(all.map((w) => w.done)), deadline]);
    return { sent, received, stats: Ring.stats(sab) };
  } finally {
    clearTimeout(timer);
    await Promise.all(all.map((w) => w.worker.terminate()));
  }
}

describe('ring between real worker threads', () => {
  beforeAll(() => {
    // dist/ is built by `npm test` before vitest starts (never rebuilt here: other test files run
    // workers from dist/ concurrently). Check that dist/ring is fresh.
    for (const name of readdirSync(`${ROOT}/src/ring`)) {
      const js = `${ROOT}/dist/ring/${name.replace(/\.ts$/, '.js')}`;
      expect(statSync(js).mtimeMs, `${js} is stale`).toBeGreaterThanOrEqual(statSync(`${ROOT}/src/ring/${name}`).mtimeMs);
    }
  }, 120_000);

  const scenarios: [string, Scenario][] = [
    ['SPSC, blocking waits (Atomics.wait)', { capacity_bytes: 4096, body_bytes_max: 300, frames: 200_000, batch: 16, producer_mode: 'block', consumer_modes: ['block'] }],
    ['SPSC, async waits (Atomics.waitAsync)', { capacity_bytes: 8192, body_bytes_max: 600, frames: 200_000, batch: 8, producer_mode: 'async', consumer_modes: ['async'] }],
    ['SPMC, two consumers (one blocking, one async), async producer', { capacity_bytes: 16384, body_bytes_max: 800, frames: 200_000, batch: 32, producer_mode: 'async', consumer_modes: ['block', 'async'] }],
  ];

  for (const [name, s] of scenarios) {
    it(name, async () => {
      const { sent, received, stats } = await run(s);
      expect(sent.frames).toBe(s.frames);
      for (const r of received) {
        expect(r.errors).toEqual([]);
        expect(r.frames).toBe(s.frames);
        expect(r.checksum).toBe(sent.checksum);
      }
      // The small ring really wrapped many times and pushed back on the producer.
      expect(stats.write_cursor === stats.consumers[0].read_cursor).toBe(true);
      expect(stats.producer.frames).toBe(s.frames);
      expect(stats.producer.full_rejects).toBeGreaterThan(0);
      expect(stats.used_bytes).toBe(0);
      for (const c of stats.consumers) expect(c.frames).toBe(s.frames);
    }, TEST_MS_MAX);
  }
});
