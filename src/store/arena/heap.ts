// The writer's allocator facade: B+tree pages, and blobs of any size (slab slots up to
// slot_max, page runs above). free(address) dispatches on the kind of the page it points into.

import { fail } from './errors.js';
import { PAGE_BRANCH, PAGE_LEAF, PAGE_RUN_HEAD, PAGE_SLAB } from './layout.js';
import type { ArenaMemory } from './memory.js';
import { PageAllocator } from './page_alloc.js';
import { SlabAllocator } from './slab.js';

export class ArenaHeap {
  readonly pages: PageAllocator;
  readonly slab: SlabAllocator;

  constructor(private readonly mem: ArenaMemory) {
    this.pages = new PageAllocator(mem);
    this.slab = new SlabAllocator(mem, this.pages);
  }

  /** A fresh (dirty) B+tree page; its address. */
  allocPage(kind: number): number {
    return this.mem.pageAddr(this.pages.alloc(kind));
  }

  /** A blob of `bytes` (> 0); its address. Contiguous within one segment. */
  allocBlob(bytes: number): number {
    if (bytes <= this.slab.slot_max) return this.slab.alloc(bytes);
    return this.mem.pageAddr(this.pages.allocRun(Math.ceil(bytes / this.mem.page_bytes)));
  }

  /** Bytes the allocation at `addr` occupies. */
  bytesOf(addr: number): number {
    const page = this.mem.pageOf(addr);
    switch (this.pages.kindOf(page)) {
      case PAGE_SLAB:
        return this.slab.slotBytes(addr);
      case PAGE_RUN_HEAD:
        return this.pages.runPages(page) * this.mem.page_bytes;
      default:
        return this.mem.page_bytes;
    }
  }

  /** Frees a page, slot or run; returns the bytes freed. */
  free(addr: number): number {
    const page = this.mem.pageOf(addr);
    const kind = this.pages.kindOf(page);
    if (kind === PAGE_SLAB) return this.slab.free(addr);
    if (this.mem.pageAddr(page) !== addr) fail(`free of ${addr}: not a page start (page kind ${kind})`);
    if (!(kind === PAGE_LEAF || kind === PAGE_BRANCH || kind === PAGE_RUN_HEAD)) fail(`free of ${addr}: page kind ${kind}`);
    const bytes = kind === PAGE_RUN_HEAD ? this.pages.runPages(page) * this.mem.page_bytes : this.mem.page_bytes;
    this.pages.free(page);
    return bytes;
  }

  isDirtyPage(addr: number): boolean {
    return this.pages.isDirty(this.mem.pageOf(addr));
  }

  get bytes_in_use(): number {
    return this.pages.pages_in_use * this.mem.page_bytes;
  }

  get bytes_touched(): number {
    return this.pages.high_water * this.mem.page_bytes;
  }
}
