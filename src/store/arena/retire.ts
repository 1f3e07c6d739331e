// Memory replaced by a batch, waiting until no reader can reach it (layout.ts, "reclamation").
// A FIFO of (generation, address, bytes): generations are appended in increasing order, so
// reclaiming pops from the head while the head's generation is <= the oldest pinned one.

import { genBefore } from './generation.js';

export class RetireQueue {
  private gens = new Int32Array(1024);
  private addrs = new Uint32Array(1024);
  private bytes = new Float64Array(1024);
  private head = 0;
  private tail = 0;
  /** Sum of `bytes` over the queue. */
  pending_bytes = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(gen: number, addr: number, bytes: number): void {
    if (this.tail === this.gens.length) this.makeRoom();
    this.gens[this.tail] = gen;
    this.addrs[this.tail] = addr;
    this.bytes[this.tail] = bytes;
    this.tail++;
    this.pending_bytes += bytes;
  }

  /** Moves the live part to the front, growing when more than half full. */
  private makeRoom(): void {
    const live = this.tail - this.head;
    const capacity = live * 2 > this.gens.length ? this.gens.length * 2 : this.gens.length;
    const gens = new Int32Array(capacity);
    const addrs = new Uint32Array(capacity);
    const bytes = new Float64Array(capacity);
    gens.set(this.gens.subarray(this.head, this.tail));
    addrs.set(this.addrs.subarray(this.head, this.tail));
    bytes.set(this.bytes.subarray(this.head, this.tail));
    this.gens = gens;
    this.addrs = addrs;
    this.bytes = bytes;
    this.head = 0;
    this.tail = live;
  }

  /** Frees every entry retired at a generation <= `oldest`; returns the bytes freed. */
  reclaim(oldest: number, free: (addr: number) => void): number {
    let freed = 0;
    while (this.head < this.tail && !genBefore(oldest, this.gens[this.head])) {
      free(this.addrs[this.head]);
      freed += this.bytes[this.head];
      this.head++;
    }
    this.pending_bytes -= freed;
    if (this.head === this.tail) this.head = this.tail = 0;
    return freed;
  }
}
