// ZooKeeper's BufferStats: the last, smallest and largest of a series of sizes, -1 each before the
// first one (what mntr's zk_last_proposal_size / zk_min_proposal_size / zk_max_proposal_size show
// for a leader's proposals, and zk_{last,min,max}_client_response_size for the replies to
// clients). Plain numbers: owned by one thread, reported through its stats. add() allocates
// nothing: the net worker calls it for every reply it writes.

export interface BufferSizes {
  readonly last: number;
  readonly min: number;
  readonly max: number;
}

export const NO_SIZES: BufferSizes = { last: -1, min: -1, max: -1 };

export class BufferStats {
  private last = -1;
  private min = -1;
  private max = -1;

  add(bytes: number): void {
    this.last = bytes;
    if (this.min === -1 || bytes < this.min) this.min = bytes;
    if (bytes > this.max) this.max = bytes;
  }

  reset(): void {
    this.last = -1;
    this.min = -1;
    this.max = -1;
  }

  get value(): BufferSizes {
    return { last: this.last, min: this.min, max: this.max };
  }
}
