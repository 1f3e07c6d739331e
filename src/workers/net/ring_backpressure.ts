// Backpressure from one net -> shard link to the sockets that feed it. When the link's ring is
// full the LinkWriter parks frames in its overflow queue (it never drops one); every connection
// whose data went in while the link was blocked stops being read, and all of them are read again
// once the overflow has drained into the ring, however long that takes.
//
// Invariants: a connection is in `paused` exactly while this class holds it paused (it called
// hooks.pause and not yet hooks.resume); while `paused` is not empty, or the link is blocked,
// exactly one drain loop runs (until stop()). The drain loop waits in bounded steps of
// `wait_step_ms` only so that stop() is noticed; a step that ends with the ring still full just
// starts the next one (before: a step that timed out returned without resuming anyone, and the
// connection was never read again).

/** The part of LinkWriter this needs (a seam for tests). */
export interface DrainableLink {
  readonly blocked: boolean;
  /** Resolves true once the overflow is empty, false if `timeout_ms` passed first. */
  drainAsync(timeout_ms: number): Promise<boolean>;
}

export interface PauseHooks<C> {
  /** Stop reading this connection's socket. */
  pause(conn: C): void;
  /** It may be read again (the owner still keeps it paused for other reasons, e.g. its shard's bound). */
  resume(conn: C): void;
}

export class RingBackpressure<C> {
  private readonly paused = new Set<C>();
  private draining = false;
  private stopped = false;
  /** Drain steps that ended with the ring still full (a consumer held it full that long). */
  long_waits = 0;

  constructor(
    private readonly link: DrainableLink,
    private readonly hooks: PauseHooks<C>,
    private readonly wait_step_ms: number,
  ) {}

  /**
   * Call after every flush on the link. If it is blocked: pause `conn` (the connection whose data
   * just went in, if any) and make sure a drain loop runs, so frames parked by anyone (an OPEN or
   * CLOSED notice too) reach the ring.
   */
  afterSend(conn: C | null): void {
    if (!this.link.blocked || this.stopped) return;
    if (conn !== null && !this.paused.has(conn)) {
      this.paused.add(conn);
      this.hooks.pause(conn);
    }
    if (!this.draining) void this.drainLoop();
  }

  isPaused(conn: C): boolean {
    return this.paused.has(conn);
  }

  /** The connection is gone: never resume it. */
  forget(conn: C): void {
    this.paused.delete(conn);
  }

  /** Ends the drain loop at its next step; nobody is resumed after this. */
  stop(): void {
    this.stopped = true;
    this.paused.clear();
  }

  private async drainLoop(): Promise<void> {
    this.draining = true;
    try {
      while (!this.stopped && !(await this.link.drainAsync(this.wait_step_ms))) this.long_waits++;
    } finally {
      this.draining = false;
    }
    if (this.stopped) return;
    const resumed = [...this.paused];
    this.paused.clear();
    for (const conn of resumed) this.hooks.resume(conn);
  }
}
