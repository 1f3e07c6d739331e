// The root each session shard serves from, published for the net worker's fast reads
// (net/fast_read.ts). One block of Int32 words per shard in topology.shard_served_root, written
// by that shard only (its thread driver), read by the net worker. A seqlock:
//
//   word 0  seq: even = settled, odd = changing (the shard's output to the net worker may hold
//           frames of a commit batch newer than the root below: watch events the batch fired,
//           replies it answered)
//   1..8    the root: gen, znode root, owner root, node count, last zxid hi/lo, data bytes hi/lo
//
// Invariant the net worker relies on (watch-before-data, read-your-writes without the shard):
// while seq holds the same even value, every frame the shard has published to the net worker's
// ring belongs to roots <= the root in the block, and the shard's tree is pinned at that root.
// The shard makes seq odd BEFORE it publishes (ring flush) frames of a newer batch, and settles
// it on the new root only AFTER they are published and its overflow queue to the net is empty.
// So a reader that reads seq (even), the root, drains the shard's ring, and reads seq again
// unchanged has seen every event and reply that root implies, and none beyond it.

import { RootInfo, type RootDescriptor } from '../store/arena/control.js';

const W_SEQ = 0;
const W_GEN = 1;
const W_ZNODE_ROOT = 2;
const W_OWNER_ROOT = 3;
const W_NODE_COUNT = 4;
const W_ZXID_HI = 5;
const W_ZXID_LO = 6;
const W_DATA_HI = 7;
const W_DATA_LO = 8;
/** Words per shard (padded to a 64-byte line: two shards never share one). */
export const SERVED_ROOT_WORDS = 16;
const U32 = 0x1_0000_0000;

export function createServedRoots(shards: number): SharedArrayBuffer {
  return new SharedArrayBuffer(shards * SERVED_ROOT_WORDS * 4);
}

/** The shard's side: called by its driver around each flush of its output to the net. */
export class ServedRootPublisher {
  private readonly words: Int32Array;
  private settled_gen = -1;

  constructor(sab: SharedArrayBuffer, shard: number) {
    this.words = new Int32Array(sab, shard * SERVED_ROOT_WORDS * 4, SERVED_ROOT_WORDS);
  }

  /**
   * Before the driver flushes its output to the net worker: if what it is about to publish may
   * belong to a root other than the settled one (the shard moved to a new root, or a batch is
   * open), the block becomes "changing" first.
   */
  beforeFlush(gen: number, batch_open: boolean): void {
    const seq = Atomics.load(this.words, W_SEQ);
    if ((seq & 1) === 1) return;
    if (batch_open || gen !== this.settled_gen) Atomics.store(this.words, W_SEQ, seq + 1);
  }

  /** After the flush: settles the block on `root` when nothing newer can be in flight to the
   *  net worker (no open batch, nothing in the overflow queue). */
  afterFlush(root: RootDescriptor, batch_open: boolean, output_blocked: boolean): void {
    const w = this.words;
    const seq = Atomics.load(w, W_SEQ);
    if ((seq & 1) === 0 || batch_open || output_blocked) return;
    w[W_GEN] = root.gen;
    w[W_ZNODE_ROOT] = root.znode_root;
    w[W_OWNER_ROOT] = root.owner_root;
    w[W_NODE_COUNT] = root.node_count;
    w[W_ZXID_HI] = Math.floor(root.last_zxid / U32);
    w[W_ZXID_LO] = root.last_zxid % U32 | 0;
    const data = Math.max(0, Math.floor(root.data_bytes));
    w[W_DATA_HI] = Math.floor(data / U32);
    w[W_DATA_LO] = data % U32 | 0;
    this.settled_gen = root.gen;
    // The release store: the fields above are visible to whoever reads this even value.
    Atomics.store(w, W_SEQ, seq + 1);
  }
}

/** The net worker's side: a consistent copy of a shard's settled root, and a later check that
 *  it is still the settled one. */
export class ServedRootView {
  private readonly words: Int32Array;
  /** The root read by begin() (reused: no allocation per read). */
  readonly root = new RootInfo();

  constructor(sab: SharedArrayBuffer, shard: number) {
    this.words = new Int32Array(sab, shard * SERVED_ROOT_WORDS * 4, SERVED_ROOT_WORDS);
  }

  /** The seq the root was read at, or -1 when the block is changing (or was never settled). */
  begin(): number {
    const w = this.words;
    const seq = Atomics.load(w, W_SEQ);
    if ((seq & 1) === 1 || seq === 0) return -1;
    const r = this.root;
    r.gen = w[W_GEN];
    r.znode_root = w[W_ZNODE_ROOT];
    r.owner_root = w[W_OWNER_ROOT];
    r.node_count = w[W_NODE_COUNT];
    r.last_zxid = w[W_ZXID_HI] * U32 + (w[W_ZXID_LO] >>> 0);
    r.data_bytes = w[W_DATA_HI] * U32 + (w[W_DATA_LO] >>> 0);
    // A torn copy (the shard rewrote the fields meanwhile) shows as a changed seq.
    return Atomics.load(w, W_SEQ) === seq ? seq : -1;
  }

  /** True while the shard is still settled on the root begin() returned `seq` for. */
  unchanged(seq: number): boolean {
    return Atomics.load(this.words, W_SEQ) === seq;
  }
}
