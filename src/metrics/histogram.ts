// Fixed-bucket histograms in a metric block. The slots of one histogram are its bucket counts
// (one per upper bound, then the +Inf bucket), not cumulative, followed by the sum of observed
// values. There is no count slot: a reader derives the count from the buckets, so _count always
// equals the +Inf bucket even when a scrape lands between the owner's two stores.

/** Bucket upper bounds (ascending, finite) in the unit values are observed in. */
export interface HistogramSpec {
  readonly bounds: readonly number[];
  /** Multiplier from the observed unit to the exposed one (ms observed, seconds exposed: 1e-3). */
  readonly scale: number;
}

export function histogramSpec(bounds: readonly number[], scale = 1): HistogramSpec {
  for (let i = 0; i < bounds.length; i++) {
    if (!Number.isFinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      throw new RangeError(`histogram bounds must be finite and ascending: ${bounds.join(',')}`);
    }
  }
  return { bounds, scale };
}

/** Request, fsync and other short latencies: 50 µs .. 10 s, observed in ms, exposed in seconds. */
export const LATENCY_MS = histogramSpec(
  [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000],
  1e-3,
);

/** Long operations (snapshots): 10 ms .. 5 min, observed in ms, exposed in seconds. */
export const DURATION_MS = histogramSpec([10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000], 1e-3);

/**
 * Zab latencies under ZooKeeper's metric names (quorum_ack_latency, ack_latency): observed and
 * exposed in milliseconds, the unit ZooKeeper's summaries of those names carry, so a dashboard
 * built for ZooKeeper reads the same numbers. 50 µs .. 10 s.
 */
export const ZAB_LATENCY_MS = histogramSpec([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000]);

/** Election and unavailability times (ZooKeeper's election_time, unavailable_time): ms, 1 ms .. 5 min. */
export const ELECTION_MS = histogramSpec([1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000]);

/** Batch sizes (txns per group commit): powers of two up to 4096. */
export const BATCH_TXNS = histogramSpec([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);

/** Slots one histogram of `spec` takes: a bucket per bound, the +Inf bucket, the sum. */
export function histogramSlots(spec: HistogramSpec): number {
  return spec.bounds.length + 2;
}

/** Owner side: records one value into the histogram at slot `at`. */
export function observe(view: Float64Array, at: number, spec: HistogramSpec, value: number): void {
  const bounds = spec.bounds;
  let b = 0;
  // Linear scan: most values fall in the first few buckets, and there are at most ~16.
  while (b < bounds.length && value > bounds[b]) b++;
  view[at + b]++;
  view[at + bounds.length + 1] += value;
}

/** What a reader sees: per-bucket counts (not cumulative; last = +Inf), sum, count. */
export interface HistogramSnapshot {
  readonly spec: HistogramSpec;
  readonly counts: number[];
  sum: number;
  count: number;
}

export function emptyHistogram(spec: HistogramSpec): HistogramSnapshot {
  return { spec, counts: new Array<number>(spec.bounds.length + 1).fill(0), sum: 0, count: 0 };
}

/** Reader side: adds the histogram at slot `at` of `view` into `into` (summing threads). */
export function addHistogram(into: HistogramSnapshot, view: Float64Array, at: number): HistogramSnapshot {
  const n = into.spec.bounds.length + 1;
  for (let b = 0; b < n; b++) {
    const c = view[at + b];
    into.counts[b] += c;
    into.count += c;
  }
  into.sum += view[at + n];
  return into;
}

export function readHistogram(view: Float64Array, at: number, spec: HistogramSpec): HistogramSnapshot {
  return addHistogram(emptyHistogram(spec), view, at);
}
