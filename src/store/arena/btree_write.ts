// Copy-on-write B+tree mutation (writer thread only). A batch copies every page on the path it
// changes (the root first); copies are dirty (allocated in the open batch) and are edited in
// place until commit. Pages replaced by a copy, merged away or emptied are released: freed at
// once when dirty (never published), otherwise retired (freed once no pin can reach them).
// Page layout and invariants: layout.ts.

import { copyBytes } from './bytes.js';
import { ArenaInvariantError, check, fail } from './errors.js';
import { CMP_EQUAL, headOf, type SearchKey } from './key.js';
import {
  BRANCH_VALUE_BYTES,
  DEPTH_MAX,
  KEY_OVERFLOW,
  KEY_OVERFLOW_PART_BYTES,
  keyInlineMax,
  leafValueBytes,
  PAGE_BRANCH,
  PAGE_LEAF,
  PG_COUNT,
  PG_GARBAGE,
  PG_GEN,
  PG_HEADER_BYTES,
  PG_HEAP,
  PG_KIND,
  PG_LEFTMOST,
  PG_LEFTMOST_COUNT,
  PG_HEAD_POS,
  PG_SLOTS,
  PG_TREE,
  HEAD_POS_MAX,
  SLOT_BYTES,
} from './layout.js';
import type { ArenaHeap } from './heap.js';
import type { ArenaMemory } from './memory.js';
import { BEFORE_LE, BEFORE_LT, type TreeAccess } from './tree_access.js';

/** Entries gathered for a page rebuild (split, merge, compaction). Reused. */
class EntryList {
  readonly srcs: Uint8Array[] = [];
  offs: Int32Array;
  lens: Int32Array;
  n = 0;

  constructor(capacity: number) {
    this.offs = new Int32Array(capacity);
    this.lens = new Int32Array(capacity);
  }

  add(src: Uint8Array, off: number, len: number): void {
    if (this.n === this.offs.length) {
      const offs = new Int32Array(this.n * 2);
      const lens = new Int32Array(this.n * 2);
      offs.set(this.offs);
      lens.set(this.lens);
      this.offs = offs;
      this.lens = lens;
    }
    this.srcs[this.n] = src;
    this.offs[this.n] = off;
    this.lens[this.n] = len;
    this.n++;
  }

  /** Sum of entry bytes + slots over [from, to). */
  bytes(from: number, to: number): number {
    let sum = 0;
    for (let i = from; i < to; i++) sum += this.lens[i] + SLOT_BYTES;
    return sum;
  }
}

export class BTreeWriter {
  /** Batch generation: written into page headers; retirements are tagged with it. */
  gen = 1;
  /** Root page address per tree (TREE_ZNODES, TREE_OWNERS). */
  readonly roots = [0, 0];
  readonly inline_max: number;
  /** Path of the last descent: page per level, then child index (branch) or entry index (leaf). */
  private readonly st_addr = new Uint32Array(DEPTH_MAX);
  private readonly st_idx = new Int32Array(DEPTH_MAX);
  private st_depth = 0;
  private readonly scratch: Uint8Array;
  private readonly scratch_dv: DataView;
  private readonly list: EntryList;
  private readonly list2: EntryList;
  /** Separator entries on their way up, alternating by level parity (see split). */
  private readonly sep_bufs: Uint8Array[];
  private readonly sep_dvs: DataView[];
  private readonly capacity: number;
  /** The key of the last insert (any tree), to recognize ascending / descending insert runs. */
  private last_key = new Uint8Array(256);
  private last_len = -1;

  constructor(
    private readonly mem: ArenaMemory,
    private readonly heap: ArenaHeap,
    private readonly acc: TreeAccess,
    /** Frees or retires an address the newest tree no longer refers to. */
    private readonly release: (addr: number) => void,
  ) {
    const pb = mem.page_bytes;
    this.inline_max = keyInlineMax(pb);
    this.scratch = new Uint8Array(pb);
    this.scratch_dv = new DataView(this.scratch.buffer);
    this.list = new EntryList(pb / 8);
    this.list2 = new EntryList(pb / 8);
    this.sep_bufs = [new Uint8Array(pb), new Uint8Array(pb)];
    this.sep_dvs = this.sep_bufs.map((b) => new DataView(b.buffer));
    this.capacity = pb - PG_HEADER_BYTES;
  }

  // ---- page primitives ----

  private u8(addr: number): Uint8Array {
    return this.mem.u8[this.mem.segOf(addr)];
  }

  private dv(addr: number): DataView {
    return this.mem.dv[this.mem.segOf(addr)];
  }

  /** A fresh empty page of `kind` in the open batch. */
  newPage(kind: number, tree: number): number {
    const addr = this.heap.allocPage(kind);
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    dv.setUint8(p + PG_KIND, kind);
    dv.setUint8(p + PG_TREE, tree);
    dv.setUint16(p + PG_COUNT, 0);
    dv.setUint16(p + PG_HEAP, this.mem.page_bytes);
    dv.setUint16(p + PG_GARBAGE, 0);
    dv.setUint32(p + PG_GEN, this.gen);
    dv.setUint32(p + PG_LEFTMOST, 0);
    dv.setUint32(p + PG_LEFTMOST_COUNT, 0);
    dv.setUint32(p + PG_HEAD_POS, 0);
    return addr;
  }

  /** `addr` itself when dirty, else a dirty copy of it (the original is released). */
  private ensureDirty(addr: number): number {
    if (this.heap.isDirtyPage(addr)) return addr;
    const kind = this.u8(addr)[this.mem.offOf(addr) + PG_KIND];
    const copy = this.heap.allocPage(kind);
    copyBytes(this.u8(copy), this.mem.offOf(copy), this.u8(addr), this.mem.offOf(addr), this.mem.page_bytes);
    this.dv(copy).setUint32(this.mem.offOf(copy) + PG_GEN, this.gen);
    this.release(addr);
    return copy;
  }

  private countOf(addr: number): number {
    return this.dv(addr).getUint16(this.mem.offOf(addr) + PG_COUNT);
  }

  private kindOf(addr: number): number {
    return this.u8(addr)[this.mem.offOf(addr) + PG_KIND];
  }

  private treeOf(addr: number): number {
    return this.u8(addr)[this.mem.offOf(addr) + PG_TREE];
  }

  /** Byte offset (in its segment) of entry i of the page at addr. */
  private entryOff(addr: number, i: number): number {
    return this.acc.entryAt(this.u8(addr), this.mem.offOf(addr), i);
  }

  /** Bytes of the entry at segment offset e of a page of `kind` in `tree`. */
  private entryBytes(u8: Uint8Array, e: number, kind: number, tree: number): number {
    const kp = this.acc.keyPartBytes(u8, e);
    return kp + (kind === PAGE_LEAF ? leafValueBytes(tree, u8, e + kp) : BRANCH_VALUE_BYTES);
  }

  private freeBytes(addr: number): number {
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    return dv.getUint16(p + PG_HEAP) - PG_HEADER_BYTES - SLOT_BYTES * dv.getUint16(p + PG_COUNT);
  }

  /** Bytes of live content (slots + entries), excluding the header. */
  private usedBytes(addr: number): number {
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    return SLOT_BYTES * dv.getUint16(p + PG_COUNT) + this.mem.page_bytes - dv.getUint16(p + PG_HEAP) - dv.getUint16(p + PG_GARBAGE);
  }

  /** Inserts an entry at index i of a dirty page with room for it (len + SLOT_BYTES free). */
  private insertAt(addr: number, i: number, src: Uint8Array, off: number, len: number): void {
    const u8 = this.u8(addr);
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    const count = dv.getUint16(p + PG_COUNT);
    const heap = dv.getUint16(p + PG_HEAP) - len;
    copyBytes(u8, p + heap, src, off, len);
    this.lowerHeadPos(addr, heap);
    const slot = p + PG_SLOTS + SLOT_BYTES * i;
    if (i < count) u8.copyWithin(slot + SLOT_BYTES, slot, p + PG_SLOTS + SLOT_BYTES * count);
    dv.setUint16(slot, heap);
    dv.setUint32(slot + 2, this.headOfEntry(this.mem.segOf(addr), p + heap, dv.getUint16(p + PG_HEAD_POS)));
    dv.setUint16(p + PG_HEAP, heap);
    dv.setUint16(p + PG_COUNT, count + 1);
  }

  /**
   * Keeps the page's head position a common prefix of its keys once the entry at page offset
   * `e_rel` (already written) joins them: lowers it (and recomputes every head) when needed.
   */
  private lowerHeadPos(addr: number, e_rel: number): void {
    const u8 = this.u8(addr);
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    const count = dv.getUint16(p + PG_COUNT);
    const hp = dv.getUint16(p + PG_HEAD_POS);
    const seg = this.mem.segOf(addr);
    this.acc.entryKey(seg, p + e_rel);
    const n_u8 = this.acc.key_u8;
    const n_off = this.acc.key_off;
    const n_len = this.acc.key_len;
    let common: number;
    if (count === 0) common = Math.min(n_len, HEAD_POS_MAX);
    else {
      this.acc.entryKey(seg, this.acc.entryAt(u8, p, 0));
      const limit = Math.min(hp, n_len);
      common = 0;
      while (common < limit && n_u8[n_off + common] === this.acc.key_u8[this.acc.key_off + common]) common++;
    }
    if (count > 0 && common >= hp) return;
    dv.setUint16(p + PG_HEAD_POS, common);
    for (let j = 0; j < count; j++) {
      const slot = p + PG_SLOTS + SLOT_BYTES * j;
      dv.setUint32(slot + 2, this.headOfEntry(seg, p + dv.getUint16(slot), common));
    }
  }

  /** The head (key bytes hp..hp+3, 0-padded) of the entry at segment offset e. */
  private headOfEntry(seg: number, e: number, hp: number): number {
    this.acc.entryKey(seg, e);
    return headOf(this.acc.key_u8, this.acc.key_off, this.acc.key_len, hp);
  }

  /** Removes entry i of a dirty page (its bytes become garbage until the next compaction). */
  private removeAt(addr: number, i: number): void {
    const u8 = this.u8(addr);
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    const count = dv.getUint16(p + PG_COUNT);
    const e = this.entryOff(addr, i);
    const bytes = this.entryBytes(u8, e, u8[p + PG_KIND], u8[p + PG_TREE]);
    const slot = p + PG_SLOTS + SLOT_BYTES * i;
    u8.copyWithin(slot, slot + SLOT_BYTES, p + PG_SLOTS + SLOT_BYTES * count);
    dv.setUint16(p + PG_COUNT, count - 1);
    dv.setUint16(p + PG_GARBAGE, dv.getUint16(p + PG_GARBAGE) + bytes);
  }

  /** Appends every entry of the page at addr to `list` (in key order). */
  private gather(list: EntryList, addr: number): void {
    const u8 = this.u8(addr);
    const p = this.mem.offOf(addr);
    const kind = u8[p + PG_KIND];
    const tree = u8[p + PG_TREE];
    const n = this.countOf(addr);
    for (let i = 0; i < n; i++) {
      const e = this.entryOff(addr, i);
      list.add(u8, e, this.entryBytes(u8, e, kind, tree));
    }
  }

  /**
   * Writes entries [from, to) of `list` into the page at `dst` (dirty), through the scratch
   * page, so the sources may lie in `dst` itself.
   */
  private build(dst: number, kind: number, tree: number, list: EntryList, from: number, to: number, leftmost: number, leftmost_count: number): void {
    const s = this.scratch;
    const sdv = this.scratch_dv;
    const hp = to - from < 2 ? 0 : this.commonPrefix(list, from, to - 1);
    let heap = this.mem.page_bytes;
    for (let j = from; j < to; j++) {
      const len = list.lens[j];
      heap -= len;
      copyBytes(s, heap, list.srcs[j], list.offs[j], len);
      const slot = PG_SLOTS + SLOT_BYTES * (j - from);
      sdv.setUint16(slot, heap);
      this.entryKeyOf(list, j);
      sdv.setUint32(slot + 2, headOf(this.acc.key_u8, this.acc.key_off, this.acc.key_len, hp));
    }
    if (PG_SLOTS + SLOT_BYTES * (to - from) > heap) fail(`page build overflow: ${to - from} entries`);
    sdv.setUint16(PG_HEAD_POS, hp);
    sdv.setUint16(PG_HEAD_POS + 2, 0);
    s[PG_KIND] = kind;
    s[PG_TREE] = tree;
    sdv.setUint16(PG_COUNT, to - from);
    sdv.setUint16(PG_HEAP, heap);
    sdv.setUint16(PG_GARBAGE, 0);
    sdv.setUint32(PG_GEN, this.gen);
    sdv.setUint32(PG_LEFTMOST, leftmost);
    sdv.setUint32(PG_LEFTMOST_COUNT, leftmost_count);
    const p = this.mem.offOf(dst);
    const u8 = this.u8(dst);
    copyBytes(u8, p, s, 0, PG_SLOTS + SLOT_BYTES * (to - from));
    copyBytes(u8, p + heap, s, heap, this.mem.page_bytes - heap);
  }

  private compact(addr: number): void {
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    this.list.n = 0;
    this.gather(this.list, addr);
    this.build(addr, this.kindOf(addr), this.treeOf(addr), this.list, 0, this.list.n, dv.getUint32(p + PG_LEFTMOST), dv.getUint32(p + PG_LEFTMOST_COUNT));
  }

  private setChild(addr: number, i: number, child: number): void {
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    if (i < 0) dv.setUint32(p + PG_LEFTMOST, child);
    else {
      const e = this.entryOff(addr, i);
      dv.setUint32(e + this.acc.keyPartBytes(this.u8(addr), e), child);
    }
  }

  private setChildCount(addr: number, i: number, count: number): void {
    const dv = this.dv(addr);
    const p = this.mem.offOf(addr);
    if (i < 0) dv.setUint32(p + PG_LEFTMOST_COUNT, count);
    else {
      const e = this.entryOff(addr, i);
      dv.setUint32(e + this.acc.keyPartBytes(this.u8(addr), e) + 4, count);
    }
  }

  private childCount(addr: number, i: number): number {
    return this.acc.childCount(this.mem.segOf(addr), this.mem.offOf(addr), i);
  }

  /** Sum of the leaf entries under a branch page, or a leaf's entry count. */
  private pageTotal(addr: number): number {
    return this.acc.total(addr);
  }

  // ---- descent ----

  /**
   * Makes the path from the root of `tree` to the leaf where k belongs dirty, recording it in
   * the stack. Returns true when the leaf holds k (at st_idx of the leaf level).
   */
  private descend(tree: number, k: SearchKey): boolean {
    let addr = this.ensureDirty(this.roots[tree]);
    this.roots[tree] = addr;
    for (let depth = 0; ; depth++) {
      if (depth >= DEPTH_MAX) throw new ArenaInvariantError(`B+tree deeper than ${DEPTH_MAX}`);
      const seg = this.mem.segOf(addr);
      const p = this.mem.offOf(addr);
      this.st_addr[depth] = addr;
      if (this.mem.u8[seg][p + PG_KIND] === PAGE_LEAF) {
        const i = this.acc.partition(k, seg, p, BEFORE_LT);
        this.st_idx[depth] = i;
        this.st_depth = depth + 1;
        return i < this.countOf(addr) && this.acc.compareEntry(k, seg, this.entryOff(addr, i)) === CMP_EQUAL;
      }
      const ci = this.acc.partition(k, seg, p, BEFORE_LE) - 1;
      const child = this.acc.childAt(seg, p, ci);
      const copy = this.ensureDirty(child);
      if (copy !== child) this.setChild(addr, ci, copy);
      this.st_idx[depth] = ci;
      addr = copy;
    }
  }

  private addCountsOnPath(delta: number): void {
    for (let level = 0; level < this.st_depth - 1; level++) {
      const addr = this.st_addr[level];
      const i = this.st_idx[level];
      this.setChildCount(addr, i, this.childCount(addr, i) + delta);
    }
  }

  // ---- operations ----

  /**
   * Locates k for an in-place update of its value: the leaf is a dirty copy, so the caller may
   * write the value at the returned offset (in segment this.mem.segOf(leaf)). -1 when absent.
   */
  locateForUpdate(tree: number, k: SearchKey): number {
    if (!this.descend(tree, k)) return -1;
    const leaf = this.st_addr[this.st_depth - 1];
    const e = this.entryOff(leaf, this.st_idx[this.st_depth - 1]);
    return e + this.acc.keyPartBytes(this.u8(leaf), e);
  }

  /** Segment of the leaf of the last descent. */
  get leaf_seg(): number {
    return this.mem.segOf(this.st_addr[this.st_depth - 1]);
  }

  /**
   * Inserts the entry src[off, off + len) (key part + value) for key k, which must be absent.
   * Returns false (and changes nothing but page copies) when k is already present.
   */
  insert(tree: number, k: SearchKey, src: Uint8Array, off: number, len: number): boolean {
    if (this.descend(tree, k)) return false;
    this.addCountsOnPath(1);
    const leaf_level = this.st_depth - 1;
    this.insertAtLevel(tree, leaf_level, this.st_idx[leaf_level], src, off, len);
    this.rememberInsert(k);
    return true;
  }

  private insertAtLevel(tree: number, level: number, i: number, src: Uint8Array, off: number, len: number): void {
    const addr = this.st_addr[level];
    if (this.freeBytes(addr) < len + SLOT_BYTES) {
      const garbage = this.dv(addr).getUint16(this.mem.offOf(addr) + PG_GARBAGE);
      if (this.freeBytes(addr) + garbage < len + SLOT_BYTES) {
        this.split(tree, level, i, src, off, len);
        return;
      }
      this.compact(addr);
    }
    this.insertAt(addr, i, src, off, len);
  }

  /** Index k in [lo, hi] that best balances the bytes of [0, k) against [k + skip, n). */
  private splitPoint(list: EntryList, lo: number, hi: number, skip: number): number {
    const total = list.bytes(0, list.n);
    let best = lo;
    let best_diff = Infinity;
    let left = list.bytes(0, lo);
    for (let k = lo; k <= hi; k++) {
      const right = total - left - (skip > 0 ? list.lens[k] + SLOT_BYTES : 0);
      const diff = Math.abs(left - right);
      if (left <= this.capacity && right <= this.capacity && diff < best_diff) {
        best = k;
        best_diff = diff;
      }
      left += list.lens[k] + SLOT_BYTES;
    }
    check(best_diff !== Infinity, 'no split point fits two pages');
    return best;
  }

  /** Splits the page at `level` while inserting the entry at index i; pushes a separator up. */
  private split(tree: number, level: number, i: number, src: Uint8Array, off: number, len: number): void {
    const addr = this.st_addr[level];
    const kind = this.kindOf(addr);
    const list = this.list;
    list.n = 0;
    this.gather(list, addr);
    this.spliceIn(list, i, src, off, len);
    const sep = this.sep_bufs[level & 1];
    const sep_dv = this.sep_dvs[level & 1];
    let sep_key_len: number;
    let right: number;
    let left_count: number;
    let right_count: number;
    // Appends (ascending keys: ZooKeeper's sequential nodes, key spaces created in order) would
    // leave every page half full with a balanced split: an entry inserted at the end (start) of
    // a page instead starts a page of its own, and the old entries stay together.
    const at_end = i === list.n - 1;
    const at_start = i === 0 && list.n > 2;
    if (kind === PAGE_LEAF) {
      const k = this.sequentialSplit(list, i) ?? (at_end ? list.n - 1 : at_start ? 1 : this.splitPoint(list, 1, list.n - 1, 0));
      sep_key_len = this.leafSeparator(list, k, sep);
      right = this.newPage(PAGE_LEAF, tree);
      this.build(right, PAGE_LEAF, tree, list, k, list.n, 0, 0);
      this.build(addr, PAGE_LEAF, tree, list, 0, k, 0, 0);
      left_count = k;
      right_count = list.n - k;
    } else {
      const p = this.mem.offOf(addr);
      const leftmost = this.dv(addr).getUint32(p + PG_LEFTMOST);
      const leftmost_count = this.dv(addr).getUint32(p + PG_LEFTMOST_COUNT);
      const k = at_end ? list.n - 1 : at_start ? 0 : this.splitPoint(list, 0, list.n - 1, 1);
      // The pushed-up entry's key part (and its overflow blob, if any) moves to the parent.
      const pushed = list.srcs[k];
      const pe = list.offs[k];
      sep_key_len = list.lens[k] - BRANCH_VALUE_BYTES;
      copyBytes(sep, 0, pushed, pe, sep_key_len);
      const pushed_dv = new DataView(pushed.buffer, pushed.byteOffset);
      const right_leftmost = pushed_dv.getUint32(pe + sep_key_len);
      const right_leftmost_count = pushed_dv.getUint32(pe + sep_key_len + 4);
      left_count = leftmost_count + this.sumCounts(list, 0, k);
      right_count = right_leftmost_count + this.sumCounts(list, k + 1, list.n);
      right = this.newPage(PAGE_BRANCH, tree);
      this.build(right, PAGE_BRANCH, tree, list, k + 1, list.n, right_leftmost, right_leftmost_count);
      this.build(addr, PAGE_BRANCH, tree, list, 0, k, leftmost, leftmost_count);
    }
    sep_dv.setUint32(sep_key_len, right);
    sep_dv.setUint32(sep_key_len + 4, right_count);
    const sep_len = sep_key_len + BRANCH_VALUE_BYTES;
    if (level === 0) {
      const root = this.newPage(PAGE_BRANCH, tree);
      const p = this.mem.offOf(root);
      this.dv(root).setUint32(p + PG_LEFTMOST, addr);
      this.dv(root).setUint32(p + PG_LEFTMOST_COUNT, left_count);
      this.insertAt(root, 0, sep, 0, sep_len);
      this.roots[tree] = root;
      return;
    }
    const parent = this.st_addr[level - 1];
    const ci = this.st_idx[level - 1];
    this.setChildCount(parent, ci, left_count);
    this.insertAtLevel(tree, level - 1, ci + 1, sep, 0, sep_len);
  }

  /**
   * When the new entry (at i) lands right after (before) the previous insert, keys arrive in
   * ascending (descending) order, also when other keys follow them in the page: split at the
   * insertion point so the filled side stays full. null: not sequential, or a side would not fit.
   */
  private sequentialSplit(list: EntryList, i: number): number | null {
    if (this.last_len < 0) return null;
    let k: number;
    let kept: number;
    if (i > 0 && this.listKeyIs(list, i - 1)) {
      k = i;
      kept = list.bytes(0, k);
    } else if (i + 1 < list.n && this.listKeyIs(list, i + 1)) {
      k = i + 1;
      kept = list.bytes(k, list.n);
    } else return null;
    if (k < 1 || k > list.n - 1) return null;
    // The side left behind must be at least half full (what a balanced split guarantees), so
    // an order that only looks sequential now and then cannot leave a trail of small pages.
    if (kept < this.capacity / 2) return null;
    return list.bytes(0, k) <= this.capacity && list.bytes(k, list.n) <= this.capacity ? k : null;
  }

  /** True when list entry j's key is the last inserted key. */
  private listKeyIs(list: EntryList, j: number): boolean {
    this.entryKeyOf(list, j);
    const a = this.acc;
    if (a.key_len !== this.last_len) return false;
    for (let b = 0; b < a.key_len; b++) if (a.key_u8[a.key_off + b] !== this.last_key[b]) return false;
    return true;
  }

  private rememberInsert(k: SearchKey): void {
    if (k.len > this.last_key.length) this.last_key = new Uint8Array(k.len * 2);
    for (let b = 0; b < k.len; b++) this.last_key[b] = k.byteAt(b);
    this.last_len = k.len;
  }

  private spliceIn(list: EntryList, i: number, src: Uint8Array, off: number, len: number): void {
    list.add(src, off, len);
    const n = list.n - 1;
    for (let j = n; j > i; j--) {
      list.srcs[j] = list.srcs[j - 1];
      list.offs[j] = list.offs[j - 1];
      list.lens[j] = list.lens[j - 1];
    }
    list.srcs[i] = src;
    list.offs[i] = off;
    list.lens[i] = len;
  }

  private sumCounts(list: EntryList, from: number, to: number): number {
    let sum = 0;
    for (let j = from; j < to; j++) {
      const src = list.srcs[j];
      const end = list.offs[j] + list.lens[j];
      sum += ((src[end - 4] << 24) | (src[end - 3] << 16) | (src[end - 2] << 8) | src[end - 1]) >>> 0;
    }
    return sum;
  }

  /**
   * The shortest key s with last(left) < s <= first(right) (suffix truncation), written as a
   * key part into `out`. Returns the key part's length.
   */
  private leafSeparator(list: EntryList, k: number, out: Uint8Array): number {
    this.entryKeyOf(list, k - 1);
    const a_u8 = this.acc.key_u8;
    const a_off = this.acc.key_off;
    const a_len = this.acc.key_len;
    this.entryKeyOf(list, k);
    return this.separatorPart(a_u8, a_off, a_len, this.acc.key_u8, this.acc.key_off, this.acc.key_len, out);
  }

  /** Key part (into out[0..]) of the shortest s with a < s <= b, given keys a < b. */
  separatorPart(a: Uint8Array, a_off: number, a_len: number, b: Uint8Array, b_off: number, b_len: number, out: Uint8Array): number {
    let c = 0;
    while (c < a_len && c < b_len && a[a_off + c] === b[b_off + c]) c++;
    check(c < b_len && (c === a_len || a[a_off + c] < b[b_off + c]), 'keys out of order at a separator');
    return this.writeKeyPart(out, 0, b, b_off, c + 1);
  }

  // ---- building pages in key order (bulk loading) ----

  /**
   * Appends an entry after the last one of a dirty page when the page's content stays within
   * `limit_bytes` (<= the page's capacity). Entries must arrive in key order.
   */
  appendIfFits(addr: number, src: Uint8Array, off: number, len: number, limit_bytes: number): boolean {
    if (this.usedBytes(addr) + len + SLOT_BYTES > Math.min(limit_bytes, this.capacity) || this.freeBytes(addr) < len + SLOT_BYTES) return false;
    this.insertAt(addr, this.countOf(addr), src, off, len);
    return true;
  }

  /** Installs a new root for `tree` (built by the loader); the old root page is released. */
  replaceRoot(tree: number, root: number): void {
    this.release(this.roots[tree]);
    this.roots[tree] = root;
  }

  setLeftmost(addr: number, child: number, count: number): void {
    this.setChild(addr, -1, child);
    this.setChildCount(addr, -1, count);
  }

  /** Leaf entries under a page (its own entries for a leaf). */
  totalUnder(addr: number): number {
    return this.pageTotal(addr);
  }

  /** Bytes a page can hold beyond its header. */
  get page_capacity(): number {
    return this.capacity;
  }

  /** Length of the common prefix of the keys of list entries a and b (capped). */
  private commonPrefix(list: EntryList, a: number, b: number): number {
    this.entryKeyOf(list, a);
    const a_u8 = this.acc.key_u8;
    const a_off = this.acc.key_off;
    const a_len = this.acc.key_len;
    this.entryKeyOf(list, b);
    const limit = Math.min(a_len, this.acc.key_len, HEAD_POS_MAX);
    let c = 0;
    while (c < limit && a_u8[a_off + c] === this.acc.key_u8[this.acc.key_off + c]) c++;
    return c;
  }

  /** Locates the key of list entry j (acc.key_u8/key_off/key_len). */
  private entryKeyOf(list: EntryList, j: number): void {
    const src = list.srcs[j];
    const e = list.offs[j];
    const klen = (src[e] << 8) | src[e + 1];
    if (klen < KEY_OVERFLOW) {
      this.acc.key_u8 = src;
      this.acc.key_off = e + 2;
      this.acc.key_len = klen;
      return;
    }
    const dv = new DataView(src.buffer, src.byteOffset);
    const blob = dv.getUint32(e + 6);
    this.acc.key_u8 = this.mem.u8[this.mem.segOf(blob)];
    this.acc.key_off = this.mem.offOf(blob);
    this.acc.key_len = dv.getUint32(e + 2);
  }

  /** Bytes of the key part writeKeyPart writes for a key of `len` bytes. */
  keyPartBytesFor(len: number): number {
    return len <= this.inline_max ? 2 + len : KEY_OVERFLOW_PART_BYTES;
  }

  /**
   * Writes a key part for key[off, off + len) at out[at]: inline, or an overflow reference to a
   * new blob holding the key. Returns the key part's length (keyPartBytesFor(len)).
   */
  writeKeyPart(out: Uint8Array, at: number, key: Uint8Array, off: number, len: number, patch_at = -1, patch_byte = 0): number {
    if (len <= this.inline_max) {
      out[at] = len >>> 8;
      out[at + 1] = len & 0xff;
      copyBytes(out, at + 2, key, off, len);
      if (patch_at >= 0) out[at + 2 + patch_at] = patch_byte;
      return 2 + len;
    }
    const blob = this.heap.allocBlob(len);
    const b_u8 = this.mem.u8[this.mem.segOf(blob)];
    const b_off = this.mem.offOf(blob);
    copyBytes(b_u8, b_off, key, off, len);
    if (patch_at >= 0) b_u8[b_off + patch_at] = patch_byte;
    const dv = new DataView(out.buffer, out.byteOffset);
    dv.setUint16(at, KEY_OVERFLOW);
    dv.setUint32(at + 2, len);
    dv.setUint32(at + 6, blob);
    return KEY_OVERFLOW_PART_BYTES;
  }

  /** Releases the overflow blob of the entry at segment offset e, if it has one. */
  private releaseKeyBlob(u8: Uint8Array, dv: DataView, e: number): void {
    if (((u8[e] << 8) | u8[e + 1]) >= KEY_OVERFLOW) this.release(dv.getUint32(e + 6));
  }

  /**
   * Removes key k (which must be present: false otherwise, nothing changed but page copies).
   * `before_remove` sees the leaf entry's value offset first (e.g. to release its data blob).
   */
  remove(tree: number, k: SearchKey, before_remove?: (seg: number, value_off: number) => void): boolean {
    if (!this.descend(tree, k)) return false;
    const leaf_level = this.st_depth - 1;
    const leaf = this.st_addr[leaf_level];
    const e = this.entryOff(leaf, this.st_idx[leaf_level]);
    before_remove?.(this.mem.segOf(leaf), e + this.acc.keyPartBytes(this.u8(leaf), e));
    this.releaseKeyBlob(this.u8(leaf), this.dv(leaf), e);
    this.removeAt(leaf, this.st_idx[leaf_level]);
    this.addCountsOnPath(-1);
    for (let level = leaf_level; level > 0; level--) this.rebalance(tree, level);
    this.collapseRoot(tree);
    return true;
  }

  /** A root branch without entries hands the root to its only child. */
  private collapseRoot(tree: number): void {
    for (;;) {
      const root = this.roots[tree];
      if (this.kindOf(root) !== PAGE_BRANCH || this.countOf(root) > 0) return;
      this.roots[tree] = this.dv(root).getUint32(this.mem.offOf(root) + PG_LEFTMOST);
      this.release(root);
    }
  }

  /**
   * Merges the page at `level` with a sibling when it is under a quarter full and both fit in one
   * page. The merged page is the dirty one on the path; the sibling is released.
   */
  private rebalance(tree: number, level: number): void {
    const addr = this.st_addr[level];
    if (this.usedBytes(addr) >= this.capacity / 4) return;
    const ci = this.st_idx[level - 1];
    // The right sibling first, then the left one (deletes in key order leave sparse pages on
    // the left while the right sibling is still full).
    if (ci + 1 < this.countOf(this.st_addr[level - 1]) && this.mergeWith(tree, level, ci + 1)) return;
    if (ci >= 0) this.mergeWith(tree, level, ci);
  }

  /**
   * Merges the page at `level` with the sibling across separator `sep_index` of its parent
   * (sep_index = own child index + 1: the right sibling; = own child index: the left one) when
   * both fit in one page. Returns false (nothing changed) when they do not.
   */
  private mergeWith(tree: number, level: number, sep_index: number): boolean {
    const addr = this.st_addr[level];
    const parent = this.st_addr[level - 1];
    const ci = this.st_idx[level - 1];
    const pseg = this.mem.segOf(parent);
    const pp = this.mem.offOf(parent);
    const left = sep_index === ci + 1 ? addr : this.acc.childAt(pseg, pp, ci - 1);
    const right = sep_index === ci + 1 ? this.acc.childAt(pseg, pp, ci + 1) : addr;
    const kind = this.kindOf(addr);
    const sep_e = this.entryOff(parent, sep_index);
    const parent_u8 = this.u8(parent);
    const sep_key_bytes = this.acc.keyPartBytes(parent_u8, sep_e);
    const merged_bytes = this.usedBytes(left) + this.usedBytes(right) + (kind === PAGE_BRANCH ? sep_key_bytes + BRANCH_VALUE_BYTES + SLOT_BYTES : 0);
    if (merged_bytes > this.capacity) return false;
    const list = this.list2;
    list.n = 0;
    this.gather(list, left);
    const merged_count = this.pageTotal(left) + this.pageTotal(right);
    const lp = this.mem.offOf(left);
    const leftmost = this.dv(left).getUint32(lp + PG_LEFTMOST);
    const leftmost_count = this.dv(left).getUint32(lp + PG_LEFTMOST_COUNT);
    if (kind === PAGE_BRANCH) {
      // The separator comes down (with its overflow blob) as the entry for right's leftmost.
      const rp = this.mem.offOf(right);
      const down = this.sep_bufs[0];
      copyBytes(down, 0, parent_u8, sep_e, sep_key_bytes);
      const down_dv = this.sep_dvs[0];
      down_dv.setUint32(sep_key_bytes, this.dv(right).getUint32(rp + PG_LEFTMOST));
      down_dv.setUint32(sep_key_bytes + 4, this.dv(right).getUint32(rp + PG_LEFTMOST_COUNT));
      list.add(down, 0, sep_key_bytes + BRANCH_VALUE_BYTES);
    } else {
      this.releaseKeyBlob(parent_u8, this.dv(parent), sep_e);
    }
    this.gather(list, right);
    this.build(addr, kind, tree, list, 0, list.n, leftmost, leftmost_count);
    this.release(addr === left ? right : left);
    this.removeAt(parent, sep_index);
    const keep = sep_index - 1;
    this.setChild(parent, keep, addr);
    this.setChildCount(parent, keep, merged_count);
    this.st_idx[level - 1] = keep;
    return true;
  }
}
