// One wake-up word per consuming thread, shared by all of that thread's input rings, so a
// thread with several inputs sleeps in one Atomics.waitAsync instead of one per ring.
//
// Protocol (an eventcount): producers publish frames, then ring(): SEQ += 1, and notify only if
// the consumer said it may be asleep (SLEEPING = 1), which the notifying producer takes back to 0
// (one notify per sleep, whatever the number of producers). The consumer reads SEQ, polls every input,
// and only if all were empty sets SLEEPING, re-checks its inputs, and waits while SEQ is unchanged.
// A publication between the read of SEQ and the wait changes SEQ, so the wait returns at once:
// no lost wake-up. Steady streams pay one Atomics.add per flush and no notify.
//
// Idle spin (waitfree.idleSpinUs, off by default): before announcing sleep, a consumer that was
// woken by work (not by its timer) turns its event loop for up to spin_us, checking SEQ and its
// inputs each turn. A producer that rings meanwhile finds SLEEPING unset and notifies nobody: the
// consumer sees SEQ move on its next turn. This trades CPU for the wake-up of a sleeping thread,
// which on a VM that halts idle vCPUs costs tens of microseconds (measured in BENCHMARKS.md).

import { setImmediate as turn } from 'node:timers/promises';

const SEQ = 0;
const SLEEPING = 1;
const WAKEUPS = 2;
const WORDS = 4;

export class Doorbell {
  readonly words: Int32Array;
  /** Set when the sleep's timer, not a producer, ended the last sleep (not a wake-up). */
  private timed_out = false;
  /** Consumer side: µs to spin before sleeping (0: sleep at once). */
  private spin_us = 0;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(WORDS * 4)) {
    this.words = new Int32Array(sab);
  }

  /** Consumer side: spin up to `spin_us` before each sleep that follows work (0: never). */
  setIdleSpin(spin_us: number): void {
    if (!(Number.isInteger(spin_us) && spin_us >= 0)) throw new RangeError(`idle spin ${spin_us} µs: must be an integer >= 0`);
    this.spin_us = spin_us;
  }

  /**
   * Producer side: call after publishing frames to any of the consumer's rings. Of the rings that
   * find the consumer announced asleep, only the first notifies: it takes SLEEPING back to 0, so
   * the rest (the same producer's next flushes, other producers) see an awake consumer. Why: a
   * sleeping thread takes tens of microseconds to wake on a VM, and every Atomics.notify in that
   * window went through V8's process-wide futex lock again (measured: the commit worker's ring()
   * was 3.7 % of its profile at 32 x 100 setData for ~600 wake-ups of its consumers).
   * Safe: the SEQ increment precedes the exchange, so a consumer that has not begun to wait yet
   * sees SEQ moved and does not block; one that waits is notified by whoever took SLEEPING.
   */
  ring(): void {
    Atomics.add(this.words, SEQ, 1);
    if (Atomics.load(this.words, SLEEPING) !== 0 && Atomics.compareExchange(this.words, SLEEPING, 1, 0) === 1) {
      Atomics.notify(this.words, SEQ);
    }
  }

  /** Consumer side: the value to pass to sleep() after finding every input empty. */
  seq(): number {
    return Atomics.load(this.words, SEQ);
  }

  /**
   * Consumer side: sleeps until a producer rings after `seen` was read, or timeout_ms passes.
   * `has_input` is re-checked after announcing sleep (closes the race with a producer that
   * published before seeing SLEEPING). Pending waitAsync does not keep a worker alive: the caller
   * keeps a timer or socket open.
   */
  async sleep(seen: number, timeout_ms: number, has_input: () => boolean): Promise<void> {
    // Not after a sleep its timer ended: an idle thread spins once per burst of work, not per tick.
    // The spin counts against the timeout (a due batch or tick is not delayed by it).
    if (this.spin_us > 0 && !this.timed_out) {
      const spun_from_ms = performance.now();
      if (await this.spin(seen, Math.min(this.spin_us, timeout_ms * 1000), has_input)) return;
      timeout_ms = Math.max(0, timeout_ms - (performance.now() - spun_from_ms));
    }
    Atomics.store(this.words, SLEEPING, 1);
    try {
      if (has_input()) return;
      // No timeout for V8: with one, each waitAsync posts a delayed task, which Node's platform
      // announces by writing this thread's own eventfd, so every sleep cost a syscall and an
      // extra event loop turn (seen in strace: one per sleep of each worker). A libuv timer,
      // cleared when a producer rings first, costs no syscall.
      const r = Atomics.waitAsync(this.words, SEQ, seen);
      if (!r.async) return;
      this.timed_out = false;
      const timer = setTimeout(this.onTimeout, timeout_ms);
      const outcome = await r.value;
      clearTimeout(timer);
      if (outcome === 'ok' && !this.timed_out) Atomics.add(this.words, WAKEUPS, 1);
    } finally {
      Atomics.store(this.words, SLEEPING, 0);
    }
  }

  /** Turns the event loop (sockets and timers run) until SEQ moves, input shows, or spin_us passes. */
  private async spin(seen: number, spin_us: number, has_input: () => boolean): Promise<boolean> {
    const until_ms = performance.now() + spin_us / 1000;
    do {
      await turn();
      if (Atomics.load(this.words, SEQ) !== seen || has_input()) return true;
    } while (performance.now() < until_ms);
    return false;
  }

  private readonly onTimeout = (): void => {
    this.timed_out = true;
    // Only this thread waits on its own doorbell's SEQ.
    Atomics.notify(this.words, SEQ);
  };

  /** Producer side: whether the consumer is (about to be) asleep, so that new input would cost
   *  it a wake-up. A hint: it may change right after. */
  asleep(): boolean {
    return Atomics.load(this.words, SLEEPING) !== 0;
  }

  wakeups(): number {
    return Atomics.load(this.words, WAKEUPS);
  }
}
