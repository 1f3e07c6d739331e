// The doorbell's eventcount: a sleeper wakes when a producer rings after it read SEQ, when the
// timeout passes (not counted as a wake-up), and never sleeps through a ring that came first.

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Doorbell } from '../../src/workers/doorbell.js';

describe('Doorbell', () => {
  it('returns after the timeout when nobody rings, without counting a wake-up', async () => {
    const bell = new Doorbell();
    const started = performance.now();
    await bell.sleep(bell.seq(), 30, () => false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(bell.wakeups()).toBe(0);
    expect(bell.asleep()).toBe(false);
  });

  it('does not sleep when a producer rang after SEQ was read', async () => {
    const bell = new Doorbell();
    const seen = bell.seq();
    bell.ring();
    const started = performance.now();
    await bell.sleep(seen, 10_000, () => false);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('does not sleep when input arrived before it announced sleep', async () => {
    const bell = new Doorbell();
    const started = performance.now();
    await bell.sleep(bell.seq(), 10_000, () => true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('is woken by a ring from another thread long before its timeout, and counts it', async () => {
    const bell = new Doorbell();
    const seen = bell.seq();
    const ringer = new Worker(
      `const { workerData } = require('node:worker_threads');
       const w = new Int32Array(workerData);
       const until = Date.now() + 10_000;
       while (Atomics.load(w, 1) === 0 && Date.now() < until) {} // until the consumer sleeps
       Atomics.add(w, 0, 1);
       Atomics.notify(w, 0);`,
      { eval: true, workerData: bell.sab },
    );
    const started = performance.now();
    await bell.sleep(seen, 20_000, () => false);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(bell.wakeups()).toBe(1);
    await ringer.terminate();
  });
});
