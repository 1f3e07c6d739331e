// Page allocator (writer thread only): one bit per page, lowest free page first, so the pages in
// use stay packed at the low end of the arena and RSS follows the high water mark. Runs of
// contiguous pages (never crossing a segment) hold blobs larger than a slab slot. The kind of
// every page is kept here too, so free(address) knows what it frees.
//
// Invariants: a page's bit is set iff its kind is not PAGE_FREE; a run's head page records the
// run length, its other pages are PAGE_RUN_BODY; page 0 of segment 0 is PAGE_RESERVED (address 0
// means null).

import { ARENA_CONFIG_KEYS } from './config.js';
import { ArenaFullError, fail } from './errors.js';
import { PAGE_FREE, PAGE_RESERVED, PAGE_RUN_BODY, PAGE_RUN_HEAD } from './layout.js';
import { IntList } from './int_list.js';
import type { ArenaMemory } from './memory.js';

const DIRTY = 0x80;
const KIND_MASK = 0x7f;

class SegmentMeta {
  readonly bitmap: Int32Array;
  /** Page kind, | DIRTY while the page belongs to the open batch. */
  readonly kind: Uint8Array;
  /** Run length in pages (run heads only). */
  readonly run_pages: Int32Array;

  constructor(pages: number) {
    this.bitmap = new Int32Array(pages >>> 5);
    this.kind = new Uint8Array(pages);
    this.run_pages = new Int32Array(pages);
  }
}

export class PageAllocator {
  private readonly metas: (SegmentMeta | undefined)[] = [];
  private readonly pps: number;
  private readonly pps_shift: number;
  /** Bitmap words per segment, as a shift. */
  private readonly wps_shift: number;
  private readonly total_words: number;
  /** Lowest bitmap word that may have a free page. */
  private hint_word = 0;
  pages_in_use = 0;
  /** One past the highest page number ever allocated. */
  high_water = 0;
  /** Pages allocated since the last commit (their DIRTY flag is cleared at commit). */
  private readonly dirty = new IntList(1024);

  constructor(private readonly mem: ArenaMemory) {
    this.pps = mem.pages_per_segment;
    this.pps_shift = Math.log2(this.pps);
    this.wps_shift = this.pps_shift - 5;
    this.total_words = (mem.config.segments_max * this.pps) >>> 5;
    // Page 0: address 0 is null.
    const m = this.meta(0);
    m.bitmap[0] = 1;
    m.kind[0] = PAGE_RESERVED;
    this.pages_in_use = 1;
    this.high_water = 1;
  }

  private meta(seg: number): SegmentMeta {
    let m = this.metas[seg];
    if (m === undefined) this.metas[seg] = m = new SegmentMeta(this.pps);
    return m;
  }

  private full(what: string): never {
    const c = this.mem.config;
    throw new ArenaFullError(
      `arena full: no ${what} free in ${c.segments_max} segments of ${c.segment_bytes} bytes ` +
        `(${this.pages_in_use} of ${c.segments_max * this.pps} pages of ${c.page_bytes} bytes in use; ` +
        `bound: ${ARENA_CONFIG_KEYS.segments_max} x ${ARENA_CONFIG_KEYS.segment_bytes})`,
    );
  }

  /** One page of `kind`, marked dirty (it belongs to the open batch). Returns its page number. */
  alloc(kind: number): number {
    for (let w = this.hint_word; w < this.total_words; w++) {
      const m = this.meta(w >>> this.wps_shift);
      const lw = w & ((1 << this.wps_shift) - 1);
      const x = m.bitmap[lw];
      if (x === -1) continue;
      const bit = 31 - Math.clz32(~x & (x + 1));
      m.bitmap[lw] = x | (1 << bit);
      this.hint_word = w;
      const page = (w << 5) | bit;
      m.kind[page & (this.pps - 1)] = kind | DIRTY;
      this.taken(page, 1);
      return page;
    }
    this.hint_word = this.total_words;
    return this.full('page');
  }

  /** `n` contiguous pages in one segment (first fit); the head page number. */
  allocRun(n: number): number {
    if (n > this.pps) {
      throw new ArenaFullError(`blob of ${n} pages exceeds a segment of ${this.pps} pages (raise ${ARENA_CONFIG_KEYS.segment_bytes})`);
    }
    const first_seg = this.hint_word >>> this.wps_shift;
    for (let seg = first_seg; seg < this.mem.config.segments_max; seg++) {
      const start = this.findRun(this.meta(seg), n);
      if (start >= 0) return this.takeRun(seg, start, n);
    }
    return this.full(`run of ${n} contiguous pages`);
  }

  /** First index of `n` free pages in a row within the segment, or -1. */
  private findRun(m: SegmentMeta, n: number): number {
    const bm = m.bitmap;
    let run = 0;
    let start = 0;
    let i = 0;
    while (i < this.pps) {
      if ((i & 31) === 0) {
        const x = bm[i >>> 5];
        if (x === -1) {
          run = 0;
          i += 32;
          continue;
        }
        if (x === 0 && run + 32 < n) {
          if (run === 0) start = i;
          run += 32;
          i += 32;
          continue;
        }
      }
      if ((bm[i >>> 5] & (1 << (i & 31))) !== 0) {
        run = 0;
      } else {
        if (run === 0) start = i;
        if (++run === n) return start;
      }
      i++;
    }
    return -1;
  }

  private takeRun(seg: number, start: number, n: number): number {
    const m = this.meta(seg);
    for (let i = start; i < start + n; i++) {
      m.bitmap[i >>> 5] |= 1 << (i & 31);
      m.kind[i] = i === start ? PAGE_RUN_HEAD | DIRTY : PAGE_RUN_BODY;
    }
    m.run_pages[start] = n;
    const page = seg * this.pps + start;
    this.taken(page, n);
    return page;
  }

  private taken(page: number, n: number): void {
    this.dirty.push(page);
    this.pages_in_use += n;
    if (page + n > this.high_water) this.high_water = page + n;
  }

  /** Frees a page, or a whole run given its head. */
  free(page: number): void {
    const seg = page >>> this.pps_shift;
    const m = this.meta(seg);
    const local = page & (this.pps - 1);
    const kind = m.kind[local] & KIND_MASK;
    if (!(kind !== PAGE_FREE && kind !== PAGE_RESERVED && kind !== PAGE_RUN_BODY)) fail(`free of page ${page} of kind ${kind}`);
    const n = kind === PAGE_RUN_HEAD ? m.run_pages[local] : 1;
    for (let i = local; i < local + n; i++) {
      m.bitmap[i >>> 5] &= ~(1 << (i & 31));
      m.kind[i] = PAGE_FREE;
    }
    this.pages_in_use -= n;
    const w = page >>> 5;
    if (w < this.hint_word) this.hint_word = w;
  }

  kindOf(page: number): number {
    const m = this.metas[page >>> this.pps_shift];
    return m === undefined ? PAGE_FREE : m.kind[page & (this.pps - 1)] & KIND_MASK;
  }

  runPages(page: number): number {
    return this.meta(page >>> this.pps_shift).run_pages[page & (this.pps - 1)];
  }

  /** True while the page belongs to the open batch (allocated since the last commit). */
  isDirty(page: number): boolean {
    const m = this.metas[page >>> this.pps_shift];
    return m !== undefined && (m.kind[page & (this.pps - 1)] & DIRTY) !== 0;
  }

  /**
   * At commit: every page of the batch is published and immutable from now on. (A page freed and
   * reallocated within the batch may be listed twice; a freed one has no flag to clear.)
   */
  commitDirty(): void {
    for (let i = 0; i < this.dirty.length; i++) {
      const page = this.dirty.get(i);
      const m = this.meta(page >>> this.pps_shift);
      m.kind[page & (this.pps - 1)] &= KIND_MASK;
    }
    this.dirty.clear();
  }
}
