// A watch as an async iterator: `for await (const ev of stream)`. Events are buffered until the
// consumer takes them, up to `buffered_max`; past that the stream ends with WatchOverflowError
// rather than grow without bound or drop events silently. close() (or breaking out of the
// for-await loop) removes the watch from the server.

import { WatchOverflowError } from './errors.js';
import type { WatchEvent, WatchListener } from './watch_registry.js';

export const WATCH_BUFFERED_MAX_DEFAULT = 10_000;

export class WatchStream implements AsyncIterable<WatchEvent> {
  private readonly buffered: WatchEvent[] = [];
  private waiter: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void } | null = null;
  /** Set once the stream ended: undefined = still open, null = ended cleanly, else the error. */
  private ending: unknown = undefined;
  private ended = false;
  private closing: Promise<void> | null = null;
  /** What the client's registry calls. */
  readonly listener: WatchListener = (e) => this.push(e);

  constructor(
    readonly path: string,
    private readonly remove: () => Promise<void>,
    private readonly buffered_max = WATCH_BUFFERED_MAX_DEFAULT,
  ) {}

  push(event: WatchEvent): void {
    if (this.ended) return;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: event, done: false });
      return;
    }
    if (this.buffered.length >= this.buffered_max) {
      this.end(new WatchOverflowError(this.path, this.buffered_max));
      void this.remove().catch(() => undefined);
      return;
    }
    this.buffered.push(event);
  }

  /** Ends the stream (buffered events are still delivered first). Does not touch the server. */
  end(error: unknown = null): void {
    if (this.ended) return;
    this.ended = true;
    this.ending = error;
    if (this.waiter !== null && this.buffered.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      if (error === null) w.resolve({ value: undefined, done: true });
      else w.reject(error);
    }
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    const event = this.buffered.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.ended) {
      if (this.ending === null) return Promise.resolve({ value: undefined, done: true });
      const e = this.ending;
      this.ending = null;
      return Promise.reject(e);
    }
    if (this.waiter !== null) return Promise.reject(new Error('WatchStream: next() called again before the previous call settled'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Removes the watch on the server and ends the stream. Idempotent. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.end();
      this.buffered.length = 0;
      this.closing = this.remove();
    }
    return this.closing;
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close().catch(() => undefined);
        return { value: undefined, done: true };
      },
    };
  }
}
