// Throughput over time in fixed buckets by completion time (Figure 8): each completion lands in
// bucket floor((t - t0) / bucket_ms), so the series does not depend on when a timer happened to
// fire on a busy machine (the threads' 250 ms samples do). Threads fill their own buckets
// against a shared start time (epoch ms) and the driver adds them up.
//
// Invariants: bucket_ms > 0; at most BUCKETS_MAX buckets (a completion past the last bucket is
// counted in `late`, never grows the arrays); counts are non-negative integers.

/** 100 ms buckets for 10 minutes: more than any run point asks for. */
export const BUCKETS_MAX = 6_000;

export interface BucketCounts {
  readonly bucket_ms: number;
  readonly reads: readonly number[];
  readonly writes: readonly number[];
  readonly errors: readonly number[];
  /** Completions after the last bucket or before t0 (should be 0). */
  readonly late: number;
}

export class TimelineBuckets {
  readonly reads: number[];
  readonly writes: number[];
  readonly errors: number[];
  late = 0;

  constructor(
    readonly bucket_ms: number,
    /** Epoch ms of bucket 0's start (the run's "go"). */
    readonly t0_epoch_ms: number,
    buckets: number,
  ) {
    if (!(bucket_ms > 0)) throw new Error(`bucket_ms ${bucket_ms} must be > 0`);
    if (!(Number.isInteger(buckets) && buckets >= 1 && buckets <= BUCKETS_MAX)) throw new Error(`buckets ${buckets} outside 1..${BUCKETS_MAX}`);
    this.reads = new Array<number>(buckets).fill(0);
    this.writes = new Array<number>(buckets).fill(0);
    this.errors = new Array<number>(buckets).fill(0);
  }

  /** Counts one completion at `t_epoch_ms`. */
  record(kind: 'read' | 'write', t_epoch_ms: number, err: number): void {
    const i = Math.floor((t_epoch_ms - this.t0_epoch_ms) / this.bucket_ms);
    if (i < 0 || i >= this.reads.length) {
      this.late++;
      return;
    }
    if (kind === 'read') this.reads[i]!++;
    else this.writes[i]!++;
    if (err !== 0) this.errors[i]!++;
  }

  counts(): BucketCounts {
    return { bucket_ms: this.bucket_ms, reads: [...this.reads], writes: [...this.writes], errors: [...this.errors], late: this.late };
  }
}

/** Buckets needed to cover `duration_ms` (plus one for completions in the drain's first moments). */
export function bucketCount(duration_ms: number, bucket_ms: number): number {
  return Math.min(BUCKETS_MAX, Math.ceil(duration_ms / bucket_ms) + 1);
}

/** Sums the threads' buckets; they must share bucket_ms and length. */
export function mergeBuckets(parts: readonly BucketCounts[]): BucketCounts | null {
  if (parts.length === 0) return null;
  const first = parts[0]!;
  const n = first.reads.length;
  for (const p of parts) {
    if (p.bucket_ms !== first.bucket_ms || p.reads.length !== n) throw new Error(`bucket series differ: ${p.bucket_ms} ms x ${p.reads.length} vs ${first.bucket_ms} ms x ${n}`);
  }
  const sum = (pick: (p: BucketCounts) => readonly number[]): number[] => Array.from({ length: n }, (_, i) => parts.reduce((a, p) => a + pick(p)[i]!, 0));
  return { bucket_ms: first.bucket_ms, reads: sum((p) => p.reads), writes: sum((p) => p.writes), errors: sum((p) => p.errors), late: parts.reduce((a, p) => a + p.late, 0) };
}

/** Ops/s of each bucket (reads + writes), with the bucket's start time in seconds. */
export function opsPerSecond(b: BucketCounts): { t_s: number; ops_per_s: number }[] {
  return b.reads.map((r, i) => ({ t_s: (i * b.bucket_ms) / 1000, ops_per_s: ((r + b.writes[i]!) * 1000) / b.bucket_ms }));
}
