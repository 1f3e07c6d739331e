// Runs async tasks one at a time, in the order queued. Caches use it so that every refresh
// (a read issued in reaction to an event) is applied in event order: a read answered before a
// later event is applied before that event is handled, and never overwrites newer state.

export class SerialTasks {
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly onError: (e: unknown) => void) {}

  push(task: () => Promise<void>): void {
    if (this.closed) return;
    this.tail = this.tail.then(() => (this.closed ? undefined : task())).catch((e: unknown) => this.onError(e));
  }

  /** Resolves when every task queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }

  close(): void {
    this.closed = true;
  }
}
