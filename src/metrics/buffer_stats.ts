// ZooKeeper's BufferStats: the last, smallest and largest of a series of sizes, -1 each before the
// first one (what mntr's zk_last_proposal_size / zk_min_proposal_size / zk_max_proposal_size show
// for a leader's proposals). Plain numbers: owned by one thread, reported through its stats.

export interface BufferSizes {
  readonly last: number;
  readonly min: number;
  readonly max: number;
}

export const NO_SIZES: BufferSizes = { last: -1, min: -1, max: -1 };

export class BufferStats {
  private sizes: BufferSizes = NO_SIZES;

  add(bytes: number): void {
    const s = this.sizes;
    this.sizes = s.last === -1 ? { last: bytes, min: bytes, max: bytes } : { last: bytes, min: Math.min(s.min, bytes), max: Math.max(s.max, bytes) };
  }

  reset(): void {
    this.sizes = NO_SIZES;
  }

  get value(): BufferSizes {
    return this.sizes;
  }
}
