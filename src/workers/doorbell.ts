// One wake-up word per consuming thread, shared by all of that thread's input rings, so a
// thread with several inputs sleeps in one Atomics.waitAsync instead of one per ring.
//
// Protocol (an eventcount): producers publish frames, then ring(): SEQ += 1, and notify only if
// the consumer said it may be asleep (SLEEPING = 1). The consumer reads SEQ, polls every input,
// and only if all were empty sets SLEEPING, re-checks its inputs, and waits while SEQ is unchanged.
// A publication between the read of SEQ and the wait changes SEQ, so the wait returns at once:
// no lost wake-up. Steady streams pay one Atomics.add per flush and no notify.

const SEQ = 0;
const SLEEPING = 1;
const WAKEUPS = 2;
const WORDS = 4;

export class Doorbell {
  readonly words: Int32Array;
  /** Set when the sleep's timer, not a producer, ended the last sleep (not a wake-up). */
  private timed_out = false;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(WORDS * 4)) {
    this.words = new Int32Array(sab);
  }

  /** Producer side: call after publishing frames to any of the consumer's rings. */
  ring(): void {
    Atomics.add(this.words, SEQ, 1);
    if (Atomics.load(this.words, SLEEPING) !== 0) {
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
