// Bounds the requests a client has outstanding: acquire() resolves at once while fewer than
// `permits_max` are held, else waits its turn. Waiters are served strictly in arrival order, so
// the gate never reorders requests (the session's FIFO guarantee starts at submission).

import { Fifo } from './fifo.js';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  /** Set when the waiter gave up (abort); skipped when its turn comes. */
  gone: boolean;
}

export class FifoGate {
  private held = 0;
  private readonly waiters = new Fifo<Waiter>();

  constructor(readonly permits_max: number) {
    if (!(permits_max >= 1)) throw new Error(`permits_max must be >= 1: ${permits_max}`);
  }

  get in_use(): number {
    return this.held;
  }

  /** Resolves when a permit is held; rejects with signal.reason if aborted while waiting. */
  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.held < this.permits_max && this.waiters.length === 0) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, gone: false };
      this.waiters.push(w);
      signal?.addEventListener(
        'abort',
        () => {
          if (w.gone) return;
          w.gone = true;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Synchronous: true and a permit held, or false (someone waits or none left). */
  tryAcquire(): boolean {
    if (this.held < this.permits_max && this.waiters.length === 0) {
      this.held++;
      return true;
    }
    return false;
  }

  release(): void {
    if (this.held <= 0) throw new Error('FifoGate.release without acquire');
    this.held--;
    for (let w = this.waiters.peek(); w !== undefined && this.held < this.permits_max; w = this.waiters.peek()) {
      this.waiters.shift();
      if (w.gone) continue;
      w.gone = true;
      this.held++;
      w.resolve();
    }
  }

  /** Rejects every waiter (client closed). */
  rejectAll(error: unknown): void {
    for (const w of this.waiters.drain()) {
      if (w.gone) continue;
      w.gone = true;
      w.reject(error);
    }
  }
}
