// How long a dialer waits before its next attempt: exponential from connect_retry_ms_min up to
// connect_retry_ms_max, with jitter (uniform between the minimum and the current ceiling) so
// replicas restarted together do not dial in lock-step. A connection the peer sends on resets it
// (not one that only opens: a peer refusing the hello accepts the TCP connection first).

export class DialBackoff {
  /** Failed attempts since the last success; bounded so the ceiling arithmetic stays finite. */
  private failures = 0;
  private static readonly FAILURES_COUNTED_MAX = 30;

  constructor(
    private readonly retry_ms_min: number,
    private readonly retry_ms_max: number,
    private readonly random: () => number,
  ) {
    if (!Number.isFinite(retry_ms_min) || retry_ms_min < 1 || !(retry_ms_max >= retry_ms_min)) {
      throw new Error(`DialBackoff: connect_retry_ms_min ${retry_ms_min} / connect_retry_ms_max ${retry_ms_max} (need 1 <= min <= max)`);
    }
  }

  /** The delay before the next attempt, in [min, max]; each call widens the ceiling. */
  next_ms(): number {
    const ceiling_ms = Math.min(this.retry_ms_max, this.retry_ms_min * 2 ** (this.failures + 1));
    this.failures = Math.min(this.failures + 1, DialBackoff.FAILURES_COUNTED_MAX);
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.round(this.retry_ms_min + r * (Math.max(ceiling_ms, this.retry_ms_min) - this.retry_ms_min));
  }

  reset(): void {
    this.failures = 0;
  }
}
