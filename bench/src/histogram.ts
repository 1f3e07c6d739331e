// Latency histograms (HdrHistogram, 3 significant digits, microseconds). Worker threads record
// into their own histograms and ship them to the driver as compressed base64 (HdrHistogram's
// standard encoding), where they are merged: percentiles of the merge are exact to the
// histogram's precision, unlike averaging per-thread percentiles.

import hdr from 'hdr-histogram-js';

type Histogram = ReturnType<typeof hdr.build>;

/** Latencies above this are clamped (and still counted): a run never lasts 10 minutes per op. */
export const LATENCY_US_MAX = 600_000_000;

export interface LatencySummary {
  readonly count: number;
  readonly mean_us: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly p999_us: number;
  readonly max_us: number;
}

export const EMPTY_SUMMARY: LatencySummary = { count: 0, mean_us: 0, p50_us: 0, p99_us: 0, p999_us: 0, max_us: 0 };

export class LatencyHistogram {
  private constructor(private readonly h: Histogram) {}

  static create(): LatencyHistogram {
    return new LatencyHistogram(
      hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_US_MAX, numberOfSignificantValueDigits: 3 }),
    );
  }

  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(hdr.decodeFromCompressedBase64(encoded));
  }

  /** Records one latency; sub-microsecond values count as 1 µs, huge ones as LATENCY_US_MAX. */
  record(latency_us: number): void {
    const v = Math.min(LATENCY_US_MAX, Math.max(1, Math.round(latency_us)));
    this.h.recordValue(v);
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Adds every recorded value of `other` into this one. */
  add(other: LatencyHistogram): void {
    this.h.add(other.h);
  }

  reset(): void {
    this.h.reset();
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  /** The value at percentile p (0..100), in µs; 0 when empty. */
  percentile(p: number): number {
    return this.h.totalCount === 0 ? 0 : this.h.getValueAtPercentile(p);
  }

  summary(): LatencySummary {
    if (this.h.totalCount === 0) return EMPTY_SUMMARY;
    return {
      count: this.h.totalCount,
      mean_us: Math.round(this.h.mean),
      p50_us: this.h.getValueAtPercentile(50),
      p99_us: this.h.getValueAtPercentile(99),
      p999_us: this.h.getValueAtPercentile(99.9),
      // Like the percentiles, the highest value equivalent to the largest recorded one (within
      // the histogram's precision), so a merged histogram reports what its parts would.
      max_us: this.h.getValueAtPercentile(100),
    };
  }
}

/** Merges encoded histograms (one per worker thread) into one. */
export function mergeEncoded(encoded: readonly string[]): LatencyHistogram {
  const out = LatencyHistogram.create();
  for (const e of encoded) out.add(LatencyHistogram.decode(e));
  return out;
}
