// The control block (a small SAB next to the segments): the published generation, the ring of
// root descriptors, the reader table (LMDB's reader slots) and the writer's stats. The protocol
// is described in layout.ts ("Publication, pinning and reclamation").
//
// Int32 words:
//   | word            | field                                                         |
//   |-----------------|---------------------------------------------------------------|
//   | 0               | magic                                                         |
//   | 1               | layout version                                                |
//   | 2               | published generation (0 before the first commit)              |
//   | 3               | reader slots                                                  |
//   | 4               | root ring size                                                |
//   | 5               | writer attached (0/1)                                         |
//   | 16..47          | stats: 16 float64 (bytes 64..191), written by the writer only |
//   | 64..            | root ring: ring * 8 words (below)                             |
//   | after the ring  | reader slots: slots * 4 words (claimed, pinned gen, 2 spare)  |
// Root descriptor: gen (0 while being rewritten), znode root, owner root, node count,
// last zxid hi/lo, approximate data bytes hi/lo.

import type { ArenaConfig } from './config.js';
import { ArenaInvariantError, check } from './errors.js';
import { genBefore, genDistance } from './generation.js';

const MAGIC = 0x57464152; // "WFAR"
const LAYOUT_VERSION = 1;
const W_MAGIC = 0;
const W_VERSION = 1;
const W_PUBLISHED = 2;
const W_SLOTS = 3;
const W_RING = 4;
const W_WRITER = 5;
const STATS_BYTE = 64;
const STATS_COUNT = 16;
const RING_WORD = 64;
const RING_ENTRY_WORDS = 8;
const SLOT_WORDS = 4;
const SLOT_CLAIMED = 0;
const SLOT_PIN = 1;

/** Stats (float64 indexes), written by the writer after each commit and reclamation. */
export const STAT_BYTES_IN_USE = 0;
export const STAT_BYTES_RETIRED = 1;
export const STAT_BYTES_HELD_BACK = 2;
export const STAT_OLDEST_PINNED = 3;
export const STAT_PINNED_AGE = 4;
export const STAT_BYTES_TOUCHED = 5;
export const STAT_BYTES_RECLAIMED = 6;
export const STAT_READERS_PINNED = 7;
export const STAT_FAILED = 8;

function slotBase(ring: number): number {
  return RING_WORD + ring * RING_ENTRY_WORDS;
}

export function controlBytes(config: ArenaConfig): number {
  return (slotBase(config.root_ring) + config.reader_slots * SLOT_WORDS) * 4;
}

export function initControl(sab: SharedArrayBuffer, config: ArenaConfig): void {
  const w = new Int32Array(sab);
  w[W_MAGIC] = MAGIC;
  w[W_VERSION] = LAYOUT_VERSION;
  w[W_SLOTS] = config.reader_slots;
  w[W_RING] = config.root_ring;
}

/** What names a published root: its generation, tree roots and the facts readers show. */
export interface RootDescriptor {
  readonly gen: number;
  readonly znode_root: number;
  readonly owner_root: number;
  readonly node_count: number;
  readonly last_zxid: number;
  readonly data_bytes: number;
}

/** A root descriptor, copied out of the ring (reused objects: no allocation per pin). */
export class RootInfo implements RootDescriptor {
  gen = 0;
  znode_root = 0;
  owner_root = 0;
  node_count = 0;
  last_zxid = 0;
  data_bytes = 0;
}

const TWO_32 = 0x1_0000_0000;

export class Control {
  readonly words: Int32Array;
  readonly stats: Float64Array;
  readonly slots: number;
  private readonly ring: number;
  private readonly slot_base: number;

  constructor(sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab);
    check(this.words[W_MAGIC] === MAGIC && this.words[W_VERSION] === LAYOUT_VERSION, 'not an arena control block (magic/version)');
    this.stats = new Float64Array(sab, STATS_BYTE, STATS_COUNT);
    this.slots = this.words[W_SLOTS];
    this.ring = this.words[W_RING];
    this.slot_base = slotBase(this.ring);
  }

  published(): number {
    return Atomics.load(this.words, W_PUBLISHED);
  }

  /** The single-writer rule, enforced: a second writer on the same arena is refused. */
  claimWriter(): void {
    if (Atomics.compareExchange(this.words, W_WRITER, 0, 1) !== 0) {
      throw new ArenaInvariantError('arena already has a writer (single-writer structure)');
    }
  }

  releaseWriter(): void {
    Atomics.store(this.words, W_WRITER, 0);
  }

  /** Writer: descriptor first (seqlock), then the generation (release). */
  publish(info: RootInfo): void {
    const w = this.words;
    const e = RING_WORD + (info.gen & (this.ring - 1)) * RING_ENTRY_WORDS;
    Atomics.store(w, e, 0);
    Atomics.store(w, e + 1, info.znode_root | 0);
    Atomics.store(w, e + 2, info.owner_root | 0);
    Atomics.store(w, e + 3, info.node_count | 0);
    Atomics.store(w, e + 4, Math.floor(info.last_zxid / TWO_32) | 0);
    Atomics.store(w, e + 5, info.last_zxid % TWO_32 | 0);
    Atomics.store(w, e + 6, Math.floor(info.data_bytes / TWO_32) | 0);
    Atomics.store(w, e + 7, info.data_bytes % TWO_32 | 0);
    Atomics.store(w, e, info.gen);
    Atomics.store(w, W_PUBLISHED, info.gen);
  }

  /** Copies generation `gen`'s descriptor into `out`; false when the ring slot was reused. */
  readRoot(gen: number, out: RootInfo): boolean {
    const w = this.words;
    const e = RING_WORD + (gen & (this.ring - 1)) * RING_ENTRY_WORDS;
    if (Atomics.load(w, e) !== gen) return false;
    out.znode_root = Atomics.load(w, e + 1) >>> 0;
    out.owner_root = Atomics.load(w, e + 2) >>> 0;
    out.node_count = Atomics.load(w, e + 3) >>> 0;
    out.last_zxid = (Atomics.load(w, e + 4) >>> 0) * TWO_32 + (Atomics.load(w, e + 5) >>> 0);
    out.data_bytes = (Atomics.load(w, e + 6) >>> 0) * TWO_32 + (Atomics.load(w, e + 7) >>> 0);
    out.gen = gen;
    return Atomics.load(w, e) === gen;
  }

  claimSlot(): number {
    for (let s = 0; s < this.slots; s++) {
      if (Atomics.compareExchange(this.words, this.slot_base + s * SLOT_WORDS + SLOT_CLAIMED, 0, 1) === 0) return s;
    }
    return -1;
  }

  releaseSlot(slot: number): void {
    const base = this.slot_base + slot * SLOT_WORDS;
    Atomics.store(this.words, base + SLOT_PIN, 0);
    Atomics.store(this.words, base + SLOT_CLAIMED, 0);
  }

  /**
   * Pins the newest published root in `slot` and copies its descriptor into `out`. Returns the
   * generation. Loops only while the writer publishes between our loads (bounded: a reader that
   * cannot get a stable read in 100,000 tries is reported, not spun on forever).
   */
  pinNewest(slot: number, out: RootInfo): number {
    const w = this.words;
    const pin = this.slot_base + slot * SLOT_WORDS + SLOT_PIN;
    for (let attempt = 0; attempt < 100_000; attempt++) {
      const gen = Atomics.load(w, W_PUBLISHED);
      check(gen !== 0, 'pin: nothing published yet (create the TreeWriter first)');
      Atomics.store(w, pin, gen);
      if (Atomics.load(w, W_PUBLISHED) !== gen) continue;
      if (this.readRoot(gen, out)) return gen;
    }
    Atomics.store(w, pin, 0);
    throw new ArenaInvariantError('pin: no stable root after 100000 attempts (writer publishing faster than the root ring)');
  }

  /** Moves a held pin forward to `gen` (see TreeReader.advanceTo for why that is safe). */
  movePin(slot: number, gen: number): void {
    Atomics.store(this.words, this.slot_base + slot * SLOT_WORDS + SLOT_PIN, gen);
  }

  unpin(slot: number): void {
    Atomics.store(this.words, this.slot_base + slot * SLOT_WORDS + SLOT_PIN, 0);
  }

  pinnedGen(slot: number): number {
    return Atomics.load(this.words, this.slot_base + slot * SLOT_WORDS + SLOT_PIN);
  }

  /** Oldest pinned generation (or `published` when nothing is pinned) and how many pins. */
  oldestPinned(published: number): { oldest: number; pinned: number } {
    let oldest = published;
    let pinned = 0;
    for (let s = 0; s < this.slots; s++) {
      const gen = Atomics.load(this.words, this.slot_base + s * SLOT_WORDS + SLOT_PIN);
      if (gen === 0) continue;
      pinned++;
      if (genBefore(gen, oldest)) oldest = gen;
    }
    return { oldest, pinned };
  }
}

/** The arena's state as any thread sees it (advisory: the writer updates it after each commit). */
export interface ArenaStats {
  published_gen: number;
  /** Oldest generation a reader pins, or null when no reader pins anything. */
  oldest_pinned_gen: number | null;
  /** published_gen - oldest_pinned_gen (0 when nothing is pinned): a stuck reader grows it. */
  pinned_age_gens: number;
  readers_pinned: number;
  /** Bytes of pages in use (B+tree pages, slab pages, blob runs). */
  bytes_in_use: number;
  /** Bytes retired by batches and not freed yet. */
  bytes_retired: number;
  /** Of those, bytes a pin keeps from being freed at the last reclamation. */
  bytes_held_back: number;
  /** High water mark of pages ever used (what RSS follows). */
  bytes_touched: number;
  bytes_capacity: number;
  /** Cumulative bytes freed by reclamation. */
  bytes_reclaimed_total: number;
  /** True after an allocation failed: the writer refuses further batches. */
  writer_failed: boolean;
}

export function readStats(control: Control, capacity_bytes: number): ArenaStats {
  const s = control.stats;
  const published = control.published();
  const oldest = s[STAT_OLDEST_PINNED];
  return {
    published_gen: published >>> 0,
    oldest_pinned_gen: oldest < 0 ? null : oldest,
    pinned_age_gens: oldest < 0 ? 0 : Math.max(0, genDistance(oldest | 0, published)),
    readers_pinned: s[STAT_READERS_PINNED],
    bytes_in_use: s[STAT_BYTES_IN_USE],
    bytes_retired: s[STAT_BYTES_RETIRED],
    bytes_held_back: s[STAT_BYTES_HELD_BACK],
    bytes_touched: s[STAT_BYTES_TOUCHED],
    bytes_capacity: capacity_bytes,
    bytes_reclaimed_total: s[STAT_BYTES_RECLAIMED],
    writer_failed: s[STAT_FAILED] !== 0,
  };
}

/** Any thread's view of an arena's stats, from its control block alone (no reader slot). */
export function arenaStatsOf(control_sab: SharedArrayBuffer, capacity_bytes: number): ArenaStats {
  return readStats(new Control(control_sab), capacity_bytes);
}
