// A thread's metric block: Float64 slots in a SharedArrayBuffer of its own, written only by the
// thread that owns it and read by anyone (the supervisor, when /metrics is scraped).
//
// Same discipline as the ring counters (src/ring/counters.ts): the owner updates its slots with
// plain loads and stores, readers use plain loads. An aligned Float64Array element access does
// not tear ([[NoTear]]), integers stay exact up to 2^53, and counters need no ordering with
// anything else, so the hot path pays a few plain stores and never a lock or an Atomics op.
// A reader may see a value a few requests old; a scrape is a sample, never a transaction.

/** Hands out consecutive slot indices; a block's layout is computed once, at module load. */
export class SlotLayout {
  private next = 0;

  /** One slot; returns its index. */
  scalar(): number {
    return this.next++;
  }

  /** `n` consecutive slots; returns the first index. */
  array(n: number): number {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`metrics: slot array of ${n}`);
    const at = this.next;
    this.next += n;
    return at;
  }

  get slots(): number {
    return this.next;
  }
}

/** A zeroed block for a layout of `slots` slots. */
export function createBlock(slots: number): SharedArrayBuffer {
  return new SharedArrayBuffer(slots * Float64Array.BYTES_PER_ELEMENT);
}

/** The block's slots; throws if the SAB was made for another layout (wrong role or version). */
export function blockView(sab: SharedArrayBuffer, slots: number, what: string): Float64Array {
  if (sab.byteLength !== slots * Float64Array.BYTES_PER_ELEMENT) {
    throw new Error(`metrics: ${what} block is ${sab.byteLength} bytes, its layout needs ${slots * 8}`);
  }
  return new Float64Array(sab);
}
