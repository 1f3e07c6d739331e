// 64-bit counters in Int32 header words, one writer, any number of readers (seqlock).
//
// Layout at `base`: [seq, c0_hi, c0_lo, c1_hi, c1_lo, ...]. The single writer keeps the values in
// plain JS numbers (exact up to 2^53) and publishes them in a batch: seq odd, words, seq even.
// A reader retries while seq is odd or changed under it. Every access is an Atomics op, so the
// ordering argument is the plain seq-cst one; publishing costs 2 + 2n stores, done once per batch.

const TWO_POW_32 = 4294967296;
const READ_ATTEMPTS_MAX = 1000;

/** The writer's side: owns `values` and copies them into the header on publish(). */
export class CounterBlock {
  /** Current totals, mutated freely by the owning thread; visible to others after publish(). */
  readonly values: Float64Array;
  private seq: number;

  constructor(
    private readonly header: Int32Array,
    private readonly base: number,
    count: number,
  ) {
    this.values = new Float64Array(count);
    // Resume from what is in the SAB (a re-attached producer/consumer keeps its totals).
    readCounters(header, base, this.values);
    this.seq = Atomics.load(header, base) & ~1;
  }

  publish(): void {
    const h = this.header;
    const base = this.base;
    const values = this.values;
    this.seq = (this.seq + 1) | 0;
    Atomics.store(h, base, this.seq);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      Atomics.store(h, base + 1 + 2 * i, Math.floor(v / TWO_POW_32));
      Atomics.store(h, base + 2 + 2 * i, v >>> 0);
    }
    this.seq = (this.seq + 1) | 0;
    Atomics.store(h, base, this.seq);
  }
}

/** Reads a consistent snapshot of `out.length` counters at `base` into `out`. Any thread. */
export function readCounters(header: Int32Array, base: number, out: Float64Array): void {
  for (let attempt = 0; attempt < READ_ATTEMPTS_MAX; attempt++) {
    const seq_before = Atomics.load(header, base);
    if ((seq_before & 1) !== 0) continue;
    readWords(header, base, out);
    if (Atomics.load(header, base) === seq_before) return;
  }
  // The writer died mid-publish (seq stuck odd): these are stats, return what is there.
  readWords(header, base, out);
}

function readWords(header: Int32Array, base: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) {
    const hi = Atomics.load(header, base + 1 + 2 * i) >>> 0;
    const lo = Atomics.load(header, base + 2 + 2 * i) >>> 0;
    out[i] = hi * TWO_POW_32 + lo;
  }
}
