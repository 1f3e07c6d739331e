// The arena's memory: a fixed table of SharedArrayBuffer segments, created up front (untouched
// SAB pages cost no RSS), and the address arithmetic over them (layout.ts, "Memory").

import type { ArenaConfig } from './config.js';
import { resolveArenaConfig } from './config.js';
import { fail } from './errors.js';
import { controlBytes, initControl } from './control.js';
import { UNIT_SHIFT } from './layout.js';

/** What a thread needs to attach the arena: structured-clone it (workerData, postMessage). */
export interface ArenaHandle {
  readonly config: ArenaConfig;
  readonly control: SharedArrayBuffer;
  readonly segments: readonly SharedArrayBuffer[];
}

/** Allocates the control block and every segment (virtual memory only until touched). */
export function createArenaHandle(partial: Partial<ArenaConfig> = {}): ArenaHandle {
  const config = resolveArenaConfig(partial);
  const control = new SharedArrayBuffer(controlBytes(config));
  initControl(control, config);
  const segments: SharedArrayBuffer[] = [];
  for (let i = 0; i < config.segments_max; i++) segments.push(new SharedArrayBuffer(config.segment_bytes));
  return { config, control, segments };
}

/** Views over every segment plus address arithmetic. One per thread; never written by readers. */
export class ArenaMemory {
  readonly config: ArenaConfig;
  readonly u8: Uint8Array[] = [];
  readonly dv: DataView[] = [];
  /** addr >>> seg_shift = segment index. */
  readonly seg_shift: number;
  /** addr & unit_mask = offset in 16-byte units within the segment. */
  readonly unit_mask: number;
  readonly page_bytes: number;
  /** Units per page, as a shift: page number = addr >>> page_unit_shift. */
  readonly page_unit_shift: number;
  readonly pages_per_segment: number;

  constructor(handle: ArenaHandle) {
    const c = resolveArenaConfig(handle.config);
    if (handle.segments.length !== c.segments_max) fail(`arena handle has ${handle.segments.length} segments, config says ${c.segments_max}`);
    this.config = c;
    for (const sab of handle.segments) {
      if (sab.byteLength !== c.segment_bytes) fail(`segment of ${sab.byteLength} bytes, config says ${c.segment_bytes}`);
      this.u8.push(new Uint8Array(sab));
      this.dv.push(new DataView(sab));
    }
    this.seg_shift = Math.log2(c.segment_bytes) - UNIT_SHIFT;
    this.unit_mask = (1 << this.seg_shift) - 1;
    this.page_bytes = c.page_bytes;
    this.page_unit_shift = Math.log2(c.page_bytes) - UNIT_SHIFT;
    this.pages_per_segment = c.segment_bytes / c.page_bytes;
  }

  segOf(addr: number): number {
    return addr >>> this.seg_shift;
  }

  /** Byte offset of `addr` within its segment. */
  offOf(addr: number): number {
    return (addr & this.unit_mask) << UNIT_SHIFT;
  }

  /** Global page number of the page holding `addr`. */
  pageOf(addr: number): number {
    return addr >>> this.page_unit_shift;
  }

  /** Address of global page number `page`. */
  pageAddr(page: number): number {
    return page * (1 << this.page_unit_shift);
  }

  /** Bytes of arena memory in the configured segments. */
  get capacity_bytes(): number {
    return this.config.segments_max * this.config.segment_bytes;
  }
}
