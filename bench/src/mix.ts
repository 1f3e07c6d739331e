// The workload mix: which op a closed- or open-loop client sends next, and on which key.
// Reads are getData of a 1 KiB (value_bytes) znode, writes are setData of the same size, as in
// the paper's Figure 5 (§5.1). Keys are drawn uniformly from the key space.

import { mulberry32 } from '../../dist/check/prng.js';

export type OpKind = 'read' | 'write' | 'create' | 'delete';
export const OP_KINDS: readonly OpKind[] = ['read', 'write', 'create', 'delete'];

export interface MixChoice {
  readonly kind: 'read' | 'write';
  readonly key: number;
}

export class OpMix {
  private readonly random: () => number;

  constructor(
    /** Fraction of reads, 0..1. 0 and 1 are exact (never a write at 1, never a read at 0). */
    readonly read_fraction: number,
    readonly key_count: number,
    seed: number,
  ) {
    if (!(read_fraction >= 0 && read_fraction <= 1)) throw new Error(`read fraction ${read_fraction} outside 0..1`);
    if (!Number.isInteger(key_count) || key_count < 1) throw new Error(`key count ${key_count} must be >= 1`);
    this.random = mulberry32(seed);
  }

  next(): MixChoice {
    const kind = this.random() < this.read_fraction ? 'read' : 'write';
    const key = Math.floor(this.random() * this.key_count);
    return { kind, key };
  }
}

/** Path of key `k` under the run's root: fixed width so every request has the same size. */
export function keyPath(root: string, k: number): string {
  return `${root}/k${String(k).padStart(7, '0')}`;
}
