// Every allocation one version of a B+tree refers to (writer thread): its pages, the overflow key
// blobs of its entries (leaf keys and branch separators), and, for the znode tree, each record so
// the caller can take its data and ACL blob addresses. TreeWriter.beginReplace retires them all.
// Page layout: layout.ts. O(pages + entries); a read-only walk (nothing in the arena changes).

import { check } from './errors.js';
import { DEPTH_MAX, KEY_OVERFLOW, PAGE_BRANCH, PAGE_LEAF, PG_KIND, PG_LEFTMOST } from './layout.js';
import type { TreeAccess } from './tree_access.js';

export interface TreeWalkVisitor {
  /** A page of the tree, after everything below it. */
  page(addr: number): void;
  /** An overflow key blob, once even if entries were to share it. */
  keyBlob(addr: number): void;
  /** A leaf entry: its value starts at byte `value_off` of segment `seg` (a record in the znode tree). */
  leafEntry(seg: number, value_off: number): void;
}

/** Walks the tree at `root`; returns its leaf entries. */
export function walkTree(acc: TreeAccess, root: number, visit: TreeWalkVisitor): number {
  const key_blobs = new Set<number>();
  return walkPage(acc, root, 0, visit, key_blobs);
}

function walkPage(acc: TreeAccess, addr: number, depth: number, visit: TreeWalkVisitor, key_blobs: Set<number>): number {
  check(depth < DEPTH_MAX, 'tree walk: tree too deep');
  const mem = acc.mem;
  const seg = mem.segOf(addr);
  const p = mem.offOf(addr);
  const u8 = mem.u8[seg];
  const dv = mem.dv[seg];
  const kind = u8[p + PG_KIND];
  check(kind === PAGE_LEAF || kind === PAGE_BRANCH, 'tree walk: a page is neither leaf nor branch');
  const count = acc.count(u8, p);
  let entries = 0;
  if (kind === PAGE_BRANCH) entries += walkPage(acc, dv.getUint32(p + PG_LEFTMOST), depth + 1, visit, key_blobs);
  for (let i = 0; i < count; i++) {
    const e = acc.entryAt(u8, p, i);
    if (((u8[e] << 8) | u8[e + 1]) >= KEY_OVERFLOW) {
      const blob = dv.getUint32(e + 6);
      if (!key_blobs.has(blob)) {
        key_blobs.add(blob);
        visit.keyBlob(blob);
      }
    }
    const value = e + acc.keyPartBytes(u8, e);
    if (kind === PAGE_LEAF) {
      visit.leafEntry(seg, value);
      entries++;
    } else entries += walkPage(acc, dv.getUint32(value), depth + 1, visit, key_blobs);
  }
  visit.page(addr);
  return entries;
}
