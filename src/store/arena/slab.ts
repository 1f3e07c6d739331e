// Slab allocator for small blobs (writer thread only): each slab page holds slots of one size
// class; pages with free slots form a doubly linked list per class; a page whose last slot is
// freed goes back to the page allocator. Page header layout: layout.ts.
//
// Invariants: a page is on its class's list iff 0 < used < slots per page, or it is a fresh
// page (used = 0 only transiently inside alloc); a freed slot's first two bytes link the page's
// free list (it is unreachable from every root by then, so writing it is safe).

import { fail } from './errors.js';
import { PAGE_SLAB, UNIT_BYTES, UNIT_SHIFT } from './layout.js';
import type { ArenaMemory } from './memory.js';
import type { PageAllocator } from './page_alloc.js';

const SLAB_KIND = 0;
const SLAB_CLASS = 1;
const SLAB_USED = 2;
const SLAB_FREE = 4;
const SLAB_BUMP = 6;
const SLAB_PREV = 8;
const SLAB_NEXT = 12;
export const SLAB_HEADER_BYTES = 16;

/** Slot sizes for a page size: 16 B steps to 128 B, then four classes per power of two. */
export function slabClasses(page_bytes: number): number[] {
  const max = Math.floor((page_bytes - SLAB_HEADER_BYTES) / 2 / UNIT_BYTES) * UNIT_BYTES;
  const sizes: number[] = [];
  for (let s = 16; s <= 128; s += 16) sizes.push(s);
  for (let band = 128; sizes[sizes.length - 1] < max; band *= 2) {
    for (let q = 1; q <= 4; q++) {
      const s = Math.min(band + (band / 4) * q, max);
      if (s > sizes[sizes.length - 1]) sizes.push(s);
    }
  }
  return sizes;
}

export class SlabAllocator {
  readonly sizes: number[];
  /** Largest blob a slab slot holds. */
  readonly slot_max: number;
  /** Size class by length in 16-byte units. */
  private readonly class_of_units: Uint8Array;
  private readonly slots_per_page: Int32Array;
  /** Head of each class's list of pages with free slots: page number + 1, 0 = empty. */
  private readonly partial: Int32Array;

  constructor(
    private readonly mem: ArenaMemory,
    private readonly pages: PageAllocator,
  ) {
    this.sizes = slabClasses(mem.page_bytes);
    this.slot_max = this.sizes[this.sizes.length - 1];
    this.class_of_units = new Uint8Array(this.slot_max / UNIT_BYTES + 1);
    let c = 0;
    for (let u = 0; u < this.class_of_units.length; u++) {
      while (this.sizes[c] < u * UNIT_BYTES) c++;
      this.class_of_units[u] = c;
    }
    this.slots_per_page = Int32Array.from(this.sizes, (s) => Math.floor((mem.page_bytes - SLAB_HEADER_BYTES) / s));
    this.partial = new Int32Array(this.sizes.length);
  }

  classOf(bytes: number): number {
    return this.class_of_units[(bytes + UNIT_BYTES - 1) >>> UNIT_SHIFT];
  }

  /** A slot of at least `bytes` (1 .. slot_max). Returns its address. */
  alloc(bytes: number): number {
    if (!(bytes > 0 && bytes <= this.slot_max)) fail(`slab alloc of ${bytes} bytes`);
    const cls = this.classOf(bytes);
    let head = this.partial[cls];
    if (head === 0) head = this.newPage(cls) + 1;
    const page = head - 1;
    const dv = this.mem.dv[this.mem.segOf(this.mem.pageAddr(page))];
    const p = this.mem.offOf(this.mem.pageAddr(page));
    const size = this.sizes[cls];
    let slot: number;
    const free = dv.getUint16(p + SLAB_FREE);
    if (free !== 0) {
      slot = free - 1;
      dv.setUint16(p + SLAB_FREE, dv.getUint16(p + SLAB_HEADER_BYTES + slot * size));
    } else {
      slot = dv.getUint16(p + SLAB_BUMP);
      dv.setUint16(p + SLAB_BUMP, slot + 1);
    }
    const used = dv.getUint16(p + SLAB_USED) + 1;
    dv.setUint16(p + SLAB_USED, used);
    if (used === this.slots_per_page[cls]) this.unlink(cls, page);
    return this.mem.pageAddr(page) + ((SLAB_HEADER_BYTES + slot * size) >>> UNIT_SHIFT);
  }

  private newPage(cls: number): number {
    const page = this.pages.alloc(PAGE_SLAB);
    const addr = this.mem.pageAddr(page);
    const dv = this.mem.dv[this.mem.segOf(addr)];
    const p = this.mem.offOf(addr);
    dv.setUint8(p + SLAB_KIND, PAGE_SLAB);
    dv.setUint8(p + SLAB_CLASS, cls);
    dv.setUint16(p + SLAB_USED, 0);
    dv.setUint16(p + SLAB_FREE, 0);
    dv.setUint16(p + SLAB_BUMP, 0);
    dv.setUint32(p + SLAB_PREV, 0);
    dv.setUint32(p + SLAB_NEXT, 0);
    this.link(cls, page);
    return page;
  }

  /** Frees the slot at `addr` (a slab page). Returns the slot size in bytes. */
  free(addr: number): number {
    const page = this.mem.pageOf(addr);
    const page_addr = this.mem.pageAddr(page);
    const dv = this.mem.dv[this.mem.segOf(page_addr)];
    const p = this.mem.offOf(page_addr);
    const cls = dv.getUint8(p + SLAB_CLASS);
    const size = this.sizes[cls];
    const in_page = (addr - page_addr) << UNIT_SHIFT;
    const slot = (in_page - SLAB_HEADER_BYTES) / size;
    if (!(Number.isInteger(slot) && slot >= 0 && slot < dv.getUint16(p + SLAB_BUMP))) fail(`slab free of ${addr}: not a slot`);
    const used = dv.getUint16(p + SLAB_USED);
    if (used === 0) fail(`slab free of ${addr}: page has no slot in use`);
    dv.setUint16(p + in_page, dv.getUint16(p + SLAB_FREE));
    dv.setUint16(p + SLAB_FREE, slot + 1);
    dv.setUint16(p + SLAB_USED, used - 1);
    if (used === this.slots_per_page[cls]) this.link(cls, page);
    if (used === 1) {
      this.unlink(cls, page);
      this.pages.free(page);
    }
    return size;
  }

  /** Bytes of the slot at `addr`. */
  slotBytes(addr: number): number {
    const page_addr = this.mem.pageAddr(this.mem.pageOf(addr));
    return this.sizes[this.mem.dv[this.mem.segOf(page_addr)].getUint8(this.mem.offOf(page_addr) + SLAB_CLASS)];
  }

  private headerView(page: number): { dv: DataView; p: number } {
    const addr = this.mem.pageAddr(page);
    return { dv: this.mem.dv[this.mem.segOf(addr)], p: this.mem.offOf(addr) };
  }

  private link(cls: number, page: number): void {
    const { dv, p } = this.headerView(page);
    const head = this.partial[cls];
    dv.setUint32(p + SLAB_PREV, 0);
    dv.setUint32(p + SLAB_NEXT, head);
    if (head !== 0) {
      const h = this.headerView(head - 1);
      h.dv.setUint32(h.p + SLAB_PREV, page + 1);
    }
    this.partial[cls] = page + 1;
  }

  private unlink(cls: number, page: number): void {
    const { dv, p } = this.headerView(page);
    const prev = dv.getUint32(p + SLAB_PREV);
    const next = dv.getUint32(p + SLAB_NEXT);
    if (prev === 0) {
      if (this.partial[cls] !== page + 1) fail(`slab page ${page} unlinked but not the head of class ${cls}`);
      this.partial[cls] = next;
    } else {
      const v = this.headerView(prev - 1);
      v.dv.setUint32(v.p + SLAB_NEXT, next);
    }
    if (next !== 0) {
      const v = this.headerView(next - 1);
      v.dv.setUint32(v.p + SLAB_PREV, prev);
    }
    dv.setUint32(p + SLAB_PREV, 0);
    dv.setUint32(p + SLAB_NEXT, 0);
  }
}
