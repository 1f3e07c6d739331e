// Which new connections the net worker accepts: ZooKeeper's two bounds, checked in its order
// (NIOServerCnxnFactory.AcceptThread.doAccept): first the total (`maxCnxns`, ZooKeeper 3.7+,
// counted over every open connection, four-letter ones included), then the per-IP one
// (`maxClientCnxns`). 0 turns a bound off. A refused socket is closed at once by the caller.
//
// Invariant: `total` = number of admitted connections not yet released = sum of `per_ip`.

export type Refusal = { readonly bound: 'maxCnxns' | 'maxClientCnxns'; readonly message: string };

export class ConnAdmission {
  private readonly per_ip = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly max_cnxns: number,
    private readonly max_client_cnxns: number,
  ) {}

  /** Counts the connection in and returns null, or says which bound refuses it (nothing counted). */
  admit(ip: string): Refusal | null {
    if (this.max_cnxns > 0 && this.total >= this.max_cnxns) {
      return { bound: 'maxCnxns', message: `too many connections ${this.total} - max is ${this.max_cnxns} (maxCnxns)` };
    }
    const count = this.per_ip.get(ip) ?? 0;
    if (this.max_client_cnxns > 0 && count >= this.max_client_cnxns) {
      return { bound: 'maxClientCnxns', message: `too many connections from ${ip} - max is ${this.max_client_cnxns}` };
    }
    this.per_ip.set(ip, count + 1);
    this.total++;
    return null;
  }

  /** An admitted connection closed. */
  release(ip: string): void {
    const left = (this.per_ip.get(ip) ?? 0) - 1;
    if (left < 0) return;
    if (left === 0) this.per_ip.delete(ip);
    else this.per_ip.set(ip, left);
    this.total--;
  }

  get open(): number {
    return this.total;
  }
}

/**
 * A warning that a flood must not turn into a flood of log lines (ZooKeeper rate-limits its
 * accept errors the same way, RateLogger): the first line goes out, then at most one per
 * `interval_ms`, saying how many were left out since.
 */
export class RateLimitedWarning {
  private last_ms = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly interval_ms: number,
    private readonly write: (line: string) => void,
    private readonly now_ms: () => number = Date.now,
  ) {}

  warn(line: string): void {
    const now = this.now_ms();
    if (now - this.last_ms < this.interval_ms) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed > 0 ? ` (${this.suppressed} more like it since the last one)` : '';
    this.suppressed = 0;
    this.last_ms = now;
    this.write(line + more);
  }
}
