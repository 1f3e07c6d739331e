// The doorbell's eventcount: a sleeper wakes when a producer rings after it read SEQ, when the
// timeout passes (not counted as a wake-up), and never sleeps through a ring that came first.
// With an idle spin, a ring during the spin is seen without a notify, and the event loop keeps
// running while it spins.

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

  it('notifies once per sleep: the first ring takes SLEEPING back, later rings find the consumer awake', async () => {
    const bell = new Doorbell();
    for (let round = 1; round <= 3; round++) {
      const started = performance.now();
      const sleeping = bell.sleep(bell.seq(), 20_000, () => false);
      expect(bell.asleep()).toBe(true);
      bell.ring();
      expect(bell.asleep()).toBe(false);
      bell.ring();
      bell.ring();
      await sleeping;
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(bell.wakeups()).toBe(round);
      expect(bell.asleep()).toBe(false);
    }
  });

  it('with an idle spin, sees a ring from another thread while spinning: no wake-up, no notify', async () => {
    const bell = new Doorbell();
    bell.setIdleSpin(5_000_000); // longer than the test's bound: the ring must end it
    const seen = bell.seq();
    // Rings once the consumer is spinning (SLEEPING stays 0 throughout), then reports whether it
    // ever saw SLEEPING set.
    const ringer = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const w = new Int32Array(workerData);
       const until = Date.now() + 200;
       let saw_sleeping = false;
       while (Date.now() < until) saw_sleeping ||= Atomics.load(w, 1) !== 0;
       Atomics.add(w, 0, 1);
       if (Atomics.load(w, 1) !== 0) Atomics.notify(w, 0);
       parentPort.postMessage(saw_sleeping);`,
      { eval: true, workerData: bell.sab },
    );
    const saw_sleeping = new Promise((resolve) => ringer.once('message', resolve));
    let turns = 0;
    const ticker = setInterval(() => turns++, 5); // timers run while it spins
    const started = performance.now();
    await bell.sleep(seen, 20_000, () => false);
    clearInterval(ticker);
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(await saw_sleeping).toBe(false);
    expect(bell.wakeups()).toBe(0);
    expect(turns).toBeGreaterThan(3);
    await ringer.terminate();
  });

  it('spins no longer than the sleep\'s timeout, and not at all after a sleep its timer ended', async () => {
    const bell = new Doorbell();
    bell.setIdleSpin(5_000_000);
    const started = performance.now();
    await bell.sleep(bell.seq(), 30, () => false); // spin bounded by 30 ms, then a 30 ms sleep
    const first_ms = performance.now() - started;
    expect(first_ms).toBeGreaterThanOrEqual(25);
    expect(first_ms).toBeLessThan(4_000);
    // The timer ended that sleep: the next one sleeps at once (SLEEPING set right away).
    const next = bell.sleep(bell.seq(), 10_000, () => false);
    expect(bell.asleep()).toBe(true);
    bell.ring();
    await next;
    expect(bell.wakeups()).toBe(1);
  });

  it('refuses a negative or fractional spin', () => {
    const bell = new Doorbell();
    expect(() => bell.setIdleSpin(-1)).toThrow(RangeError);
    expect(() => bell.setIdleSpin(0.5)).toThrow(RangeError);
  });
});
