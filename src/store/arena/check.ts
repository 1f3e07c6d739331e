// Full consistency check of one tree version and, for the writer, a leak audit of the arena.
// O(n); for tests, tools and post-mortems, never on a request path. Throws ArenaInvariantError
// naming the first broken invariant (layout.ts lists them).

import { check } from './errors.js';
import { compareBytes as compareRanges, headOf } from './key.js';
import {
  ACL_LENGTH,
  BRANCH_VALUE_BYTES,
  DEPTH_MAX,
  KEY_OVERFLOW,
  INLINE_DATA_MAX,
  leafValueBytes,
  OWNER_KEY_BYTES,
  PAGE_BRANCH,
  PAGE_LEAF,
  PAGE_RUN_HEAD,
  PAGE_SLAB,
  PG_COUNT,
  PG_GARBAGE,
  PG_HEADER_BYTES,
  PG_HEAD_POS,
  PG_HEAP,
  PG_KIND,
  PG_LEFTMOST,
  PG_LEFTMOST_COUNT,
  PG_TREE,
  REC_ACL_ADDR,
  REC_DATA_ADDR,
  REC_DATA_LENGTH,
  REC_NUM_CHILDREN,
  REC_OWNER,
  SLOT_BYTES,
  TREE_OWNERS,
  TREE_ZNODES,
} from './layout.js';
import type { NodeView } from './node_view.js';
import type { TreeWriter } from './tree_writer.js';

export interface TreeCheck {
  nodes: number;
  owned: number;
  znode_depth: number;
  /** Every address the version refers to: pages, data blobs, key blobs, ACL blobs. */
  pages: Set<number>;
  blobs: Set<number>;
}

interface Walk {
  view: NodeView;
  tree: number;
  pages: Set<number>;
  blobs: Set<number>;
  leaf_depth: number;
  /** Keys in order (copied), to check global order and the znode invariants. */
  keys: Uint8Array[];
  /** Per znode key: numChildren, owner (hi:lo) for the cross checks. */
  children: number[];
  owners: string[];
}

function keyAt(w: Walk, seg: number, e: number): Uint8Array {
  w.view.acc.entryKey(seg, e);
  const a = w.view.acc;
  const u8 = a.key_u8;
  const dv = w.view.mem.dv[seg];
  if (((w.view.mem.u8[seg][e] << 8) | w.view.mem.u8[seg][e + 1]) >= KEY_OVERFLOW) w.blobs.add(dv.getUint32(e + 6));
  return u8.slice(a.key_off, a.key_off + a.key_len);
}

/** Walks the subtree at addr; keys must lie in [lo, hi) (null = unbounded). Returns its count. */
function walk(w: Walk, addr: number, depth: number, lo: Uint8Array | null, hi: Uint8Array | null): number {
  const mem = w.view.mem;
  check(depth < DEPTH_MAX, 'tree too deep');
  check(!w.pages.has(addr), `page ${addr} reachable twice`);
  w.pages.add(addr);
  const seg = mem.segOf(addr);
  const p = mem.offOf(addr);
  const u8 = mem.u8[seg];
  const dv = mem.dv[seg];
  const kind = u8[p + PG_KIND];
  check(kind === PAGE_LEAF || kind === PAGE_BRANCH, `page ${addr}: kind ${kind}`);
  check(u8[p + PG_TREE] === w.tree, `page ${addr}: tree ${u8[p + PG_TREE]}, expected ${w.tree}`);
  const count = dv.getUint16(p + PG_COUNT);
  const heap = dv.getUint16(p + PG_HEAP);
  check(PG_HEADER_BYTES + SLOT_BYTES * count <= heap && heap <= mem.page_bytes, `page ${addr}: slots overlap the heap`);
  const hp = dv.getUint16(p + PG_HEAD_POS);
  let live = 0;
  const keys: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const e = w.view.acc.entryAt(u8, p, i);
    check(e >= p + heap && e < p + mem.page_bytes, `page ${addr}: entry ${i} outside the heap`);
    keys.push(keyAt(w, seg, e));
    const kp = w.view.acc.keyPartBytes(u8, e);
    live += kp + (kind === PAGE_LEAF ? leafValueBytes(w.tree, u8, e + kp) : BRANCH_VALUE_BYTES);
  }
  check(live + dv.getUint16(p + PG_GARBAGE) === mem.page_bytes - heap, `page ${addr}: garbage count off`);
  for (let i = 0; i < count; i++) {
    check(keys[i].length >= hp && compareBytes(keys[i].subarray(0, hp), keys[0].subarray(0, hp)) === 0, `page ${addr}: key ${i} lacks the page's common prefix`);
    check(w.view.acc.headAt(dv, p, i) === headOf(keys[i], 0, keys[i].length, hp), `page ${addr}: head of slot ${i}`);
    if (i > 0) check(compareBytes(keys[i - 1], keys[i]) < 0, `page ${addr}: keys ${i - 1}, ${i} out of order`);
    if (lo !== null) check(compareBytes(lo, keys[i]) <= 0, `page ${addr}: key below its separator`);
    if (hi !== null) check(compareBytes(keys[i], hi) < 0, `page ${addr}: key above the next separator`);
  }
  if (kind === PAGE_LEAF) {
    if (w.leaf_depth < 0) w.leaf_depth = depth;
    check(w.leaf_depth === depth, `leaves at depths ${w.leaf_depth} and ${depth}`);
    for (let i = 0; i < count; i++) {
      w.keys.push(keys[i]);
      if (w.tree === TREE_ZNODES) leafRecord(w, seg, w.view.acc.entryAt(u8, p, i));
    }
    return count;
  }
  let total = 0;
  const leftmost_count = walk(w, dv.getUint32(p + PG_LEFTMOST), depth + 1, lo, count > 0 ? keys[0] : hi);
  check(leftmost_count === dv.getUint32(p + PG_LEFTMOST_COUNT), `page ${addr}: leftmost count`);
  total += leftmost_count;
  for (let i = 0; i < count; i++) {
    const e = w.view.acc.entryAt(u8, p, i);
    const v = e + w.view.acc.keyPartBytes(u8, e);
    const n = walk(w, dv.getUint32(v), depth + 1, keys[i], i + 1 < count ? keys[i + 1] : hi);
    check(n === dv.getUint32(v + 4), `page ${addr}: count of child ${i}`);
    total += n;
  }
  return total;
}

function leafRecord(w: Walk, seg: number, e: number): void {
  const mem = w.view.mem;
  const dv = mem.dv[seg];
  const r = e + w.view.acc.keyPartBytes(mem.u8[seg], e);
  const len = dv.getInt32(r + REC_DATA_LENGTH);
  const data = dv.getUint32(r + REC_DATA_ADDR);
  // Data of 1..INLINE_DATA_MAX bytes may be inline (address 0); a blob only ever holds data.
  check(len >= -1 && (data === 0 ? len <= INLINE_DATA_MAX : len > 0), `record ${r}: data length ${len} with address ${data}`);
  if (data !== 0) w.blobs.add(data);
  const acl = dv.getUint32(r + REC_ACL_ADDR);
  check(acl !== 0, `record ${r}: no ACL`);
  check(mem.dv[mem.segOf(acl)].getUint32(mem.offOf(acl) + ACL_LENGTH) >= 4, 'ACL blob too short');
  w.blobs.add(acl);
  w.children.push(dv.getInt32(r + REC_NUM_CHILDREN));
  w.owners.push(`${dv.getInt32(r + REC_OWNER)}:${dv.getInt32(r + REC_OWNER + 4)}`);
}

/** The parent's key of a znode key (P 00 name -> parent's own key). null for the root. */
function parentKey(key: Uint8Array): Uint8Array | null {
  const zero = key.indexOf(0);
  if (key.length === 1) return null; // "/" (00)
  const parent = key.slice(0, zero === 0 ? 1 : zero);
  if (zero === 0) return Uint8Array.of(0); // parent is "/"
  const slash = parent.lastIndexOf(0x2f);
  parent[slash] = 0;
  return parent;
}

const compareBytes = (a: Uint8Array, b: Uint8Array): number => compareRanges(a, 0, a.length, b, 0, b.length);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Checks both trees of the version `view` reads (see layout.ts for the invariants). */
export function checkTree(view: NodeView): TreeCheck {
  const pages = new Set<number>();
  const blobs = new Set<number>();
  const z: Walk = { view, tree: TREE_ZNODES, pages, blobs, leaf_depth: -1, keys: [], children: [], owners: [] };
  const nodes = walk(z, view.znode_root, 0, null, null);
  check(nodes === z.keys.length, 'znode count differs from the keys walked');
  const index = new Map<string, number>();
  z.keys.forEach((k, i) => index.set(hex(k), i));
  const child_counts = new Array<number>(z.keys.length).fill(0);
  for (const k of z.keys) {
    const parent = parentKey(k);
    if (parent === null) continue;
    const at = index.get(hex(parent));
    check(at !== undefined, `node ${hex(k)} has no parent`);
    child_counts[at]++;
  }
  child_counts.forEach((n, i) => check(n === z.children[i], `node ${hex(z.keys[i])}: numChildren ${z.children[i]}, children ${n}`));
  const o: Walk = { view, tree: TREE_OWNERS, pages, blobs, leaf_depth: -1, keys: [], children: [], owners: [] };
  const owned = walk(o, view.owner_root, 0, null, null);
  const expected = new Set<string>();
  z.keys.forEach((k, i) => {
    if (z.owners[i] === '0:0') return;
    const path = Buffer.from(k.map((b) => (b === 0 ? 0x2f : b)));
    const [hi, lo] = z.owners[i].split(':').map(Number);
    const key = Buffer.alloc(OWNER_KEY_BYTES + path.length);
    key.writeInt32BE(hi, 0);
    key.writeInt32BE(lo, 4);
    path.copy(key, OWNER_KEY_BYTES);
    expected.add(key.toString('hex'));
  });
  check(expected.size === owned, `owner index holds ${owned} keys, nodes with owners: ${expected.size}`);
  for (const k of o.keys) check(expected.has(hex(k)), `owner index key ${hex(k)} has no node`);
  return { nodes, owned, znode_depth: z.leaf_depth + 1, pages, blobs };
}

/**
 * Leak audit (writer, outside a batch, nothing retired pending): every page in use is a page of
 * the newest tree, a run or slab page holding one of its blobs, and every slab page's used slot
 * count equals the blobs of the tree in it. Returns the check of the newest tree.
 */
export function auditArena(writer: TreeWriter): TreeCheck {
  check(!writer.in_batch, 'audit inside a batch');
  check(writer.stats().bytes_retired === 0, 'audit with retired memory pending (a reader pins)');
  const result = checkTree(writer.view);
  const mem = writer.mem;
  const pages = writer.heap.pages;
  const slab_blobs = new Map<number, number>();
  const run_heads = new Set<number>();
  for (const blob of result.blobs) {
    const page = mem.pageOf(blob);
    const kind = pages.kindOf(page);
    if (kind === PAGE_SLAB) slab_blobs.set(page, (slab_blobs.get(page) ?? 0) + 1);
    else {
      check(kind === PAGE_RUN_HEAD && mem.pageAddr(page) === blob, `blob ${blob} in a page of kind ${kind}`);
      run_heads.add(page);
    }
  }
  let expected_pages = 1 + result.pages.size + slab_blobs.size;
  for (const head of run_heads) expected_pages += pages.runPages(head);
  for (const [page, n] of slab_blobs) {
    const addr = mem.pageAddr(page);
    const used = mem.dv[mem.segOf(addr)].getUint16(mem.offOf(addr) + 2);
    check(used === n, `slab page ${page}: ${used} slots in use, ${n} reachable`);
  }
  for (const addr of result.pages) check(pages.kindOf(mem.pageOf(addr)) !== 0, `tree page ${addr} is free`);
  check(pages.pages_in_use === expected_pages, `${pages.pages_in_use} pages in use, ${expected_pages} reachable (leak)`);
  return result;
}
