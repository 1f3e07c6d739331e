// Bounds of one arena. Every value is checked here, and an invalid one names its config key
// (the keys the server config will expose; see ARENA_CONFIG_KEYS).

import { ArenaConfigError } from './errors.js';

export interface ArenaConfig {
  /** B+tree page and allocation page size. Power of two, 1 KiB .. 32 KiB. */
  readonly page_bytes: number;
  /** Bytes per SharedArrayBuffer segment. Power of two, >= 64 pages, <= 1 GiB. */
  readonly segment_bytes: number;
  /** Segments the arena may use: the hard memory bound is segments_max * segment_bytes. */
  readonly segments_max: number;
  /** Reader slots (threads or tasks that may pin a root at the same time). */
  readonly reader_slots: number;
  /**
   * Published roots whose descriptors stay readable (a ring). A reader that takes longer than
   * this many publications between reading the generation and its descriptor retries.
   */
  readonly root_ring: number;
}

export const ARENA_CONFIG_KEYS: Readonly<Record<keyof ArenaConfig, string>> = {
  page_bytes: 'waitfree.tree.pageBytes',
  segment_bytes: 'waitfree.tree.segmentBytes',
  segments_max: 'waitfree.tree.segmentsMax',
  reader_slots: 'waitfree.tree.readerSlots',
  root_ring: 'waitfree.tree.rootRing',
};

export const ARENA_DEFAULTS: ArenaConfig = {
  page_bytes: 4096,
  segment_bytes: 64 * 1024 * 1024,
  segments_max: 16,
  reader_slots: 64,
  root_ring: 64,
};

/** Addresses are u32 counts of 16-byte units: the arena can span at most 64 GiB. */
const ADDRESSABLE_BYTES = 2 ** 32 * 16;

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function fail(key: keyof ArenaConfig, value: number, rule: string): never {
  throw new ArenaConfigError(`${ARENA_CONFIG_KEYS[key]}=${value}: ${rule}`);
}

/** Defaults overridden by `partial`, checked. */
export function resolveArenaConfig(partial: Partial<ArenaConfig> = {}): ArenaConfig {
  const c: ArenaConfig = { ...ARENA_DEFAULTS, ...partial };
  if (!isPowerOfTwo(c.page_bytes) || c.page_bytes < 1024 || c.page_bytes > 32768) {
    fail('page_bytes', c.page_bytes, 'must be a power of two from 1024 to 32768');
  }
  if (!isPowerOfTwo(c.segment_bytes) || c.segment_bytes < c.page_bytes * 64 || c.segment_bytes > 2 ** 30) {
    fail('segment_bytes', c.segment_bytes, `must be a power of two from 64 pages (${c.page_bytes * 64}) to 1 GiB`);
  }
  if (!Number.isSafeInteger(c.segments_max) || c.segments_max < 1 || c.segments_max * c.segment_bytes > ADDRESSABLE_BYTES) {
    fail('segments_max', c.segments_max, `must be >= 1 with segments_max * segment_bytes <= 64 GiB`);
  }
  if (!Number.isSafeInteger(c.reader_slots) || c.reader_slots < 1 || c.reader_slots > 4096) {
    fail('reader_slots', c.reader_slots, 'must be an integer from 1 to 4096');
  }
  if (!isPowerOfTwo(c.root_ring) || c.root_ring < 4 || c.root_ring > 4096) {
    fail('root_ring', c.root_ring, 'must be a power of two from 4 to 4096');
  }
  return c;
}
