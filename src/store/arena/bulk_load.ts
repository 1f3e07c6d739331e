// Bulk loader (recovery): builds the trees of an empty writer batch bottom-up, in one pass:
// nodes arrive in key order, so leaves are filled left to right and each full page pushes a
// separator into the level above (no descents, no splits). Two inputs:
// - a node stream (node_stream.ts): bulkLoad;
// - any source of nodes in key order that can write a node's stored stat itself:
//   ZnodeBulkLoader (the snapshot loader feeds it straight from the file's records, with no
//   stream in between: arena_snapshot_loader.ts).
// The nodes are checked as they come: strictly increasing keys, every node's parent present
// with a numChildren equal to the children that follow, ACL ids defined, the end's count; a
// stream also for its record bounds. A failed check throws NodeStreamError (the batch must then
// be abandoned with the writer: load into a fresh arena).
//
// The znode tree's leaves are written in place: each entry goes straight into the leaf page (key
// part, record, slot offset), and a page's header and slot heads are written once, when it is
// full (its head position is the common prefix of its first and last key, as a page rebuild
// sets it: layout.ts). The branch levels and the owner index (few entries) go through
// BTreeWriter.appendIfFits.

import type { AclStore } from './acl_store.js';
import type { BTreeWriter } from './btree_write.js';
import { copyBytes } from './bytes.js';
import { ArenaInvariantError, check } from './errors.js';
import { compareBytes, headOf } from './key.js';
import {
  dataInline,
  HEAD_POS_MAX,
  OWNER_KEY_BYTES,
  PAGE_BRANCH,
  PAGE_LEAF,
  PG_COUNT,
  PG_HEAD_POS,
  PG_HEAP,
  PG_SLOTS,
  REC_ACL_ADDR,
  REC_DATA_ADDR,
  REC_DATA_LENGTH,
  REC_NUM_CHILDREN,
  REC_OWNER,
  RECORD_BYTES,
  SLOT_BYTES,
  TREE_OWNERS,
  TREE_ZNODES,
} from './layout.js';
import type { ArenaHeap } from './heap.js';
import type { ArenaMemory } from './memory.js';
import { NODE_STAT_BYTES, NodeStreamError, TAG_ACL, TAG_END, TAG_NODE } from './node_stream.js';
import { TreeAccess } from './tree_access.js';
import type { TreeWriter } from './tree_writer.js';

export interface BulkLoadOptions {
  /** Fraction of each page to fill (0.5 .. 1; default 0.95 leaves room for a few inserts). */
  fill?: number;
}

export interface BulkLoadResult {
  nodes: number;
  /** The last zxid the stream's end record names (pass it to commit). */
  last_zxid: number;
}

function fail(message: string): never {
  throw new NodeStreamError(`node stream: ${message}`);
}

/** The branch levels of one tree, built left to right as its leaves complete. */
class BranchStack {
  /** Separator key part preceding the current page of each level (length -1: first page); level 0: leaves. */
  private readonly seps: Uint8Array[] = [];
  private readonly sep_lens: number[] = [];
  /** Current branch page per level (index 0 unused: leaves). */
  private readonly branches: number[] = [0];
  private readonly tmp: Uint8Array;
  private readonly tmp_dv: DataView;

  constructor(
    private readonly bt: BTreeWriter,
    private readonly tree: number,
    private readonly limit_bytes: number,
    page_bytes: number,
  ) {
    this.tmp = new Uint8Array(page_bytes);
    this.tmp_dv = new DataView(this.tmp.buffer);
    this.seps[0] = new Uint8Array(page_bytes);
    this.sep_lens[0] = -1;
  }

  /** The leaf `leaf` is complete (header written); the key part sep[0, sep_len) precedes the next leaf. */
  leafDone(leaf: number, sep: Uint8Array, sep_len: number): void {
    this.pushUp(1, this.seps[0], this.sep_lens[0], leaf, this.bt.totalUnder(leaf));
    copyBytes(this.seps[0], 0, sep, 0, sep_len);
    this.sep_lens[0] = sep_len;
  }

  /** Adds child (with its leaf count and preceding separator) to the branch level `level`. */
  private pushUp(level: number, sep: Uint8Array, sep_len: number, child: number, count: number): void {
    if (this.branches[level] === undefined || this.branches[level] === 0) {
      this.startBranch(level, sep, sep_len, child, count);
      return;
    }
    check(sep_len > 0, 'a separator is missing below a non-first page');
    copyBytes(this.tmp, 0, sep, 0, sep_len);
    this.tmp_dv.setUint32(sep_len, child);
    this.tmp_dv.setUint32(sep_len + 4, count);
    if (this.bt.appendIfFits(this.branches[level], this.tmp, 0, sep_len + 8, this.limit_bytes)) return;
    const full = this.branches[level];
    this.pushUp(level + 1, this.seps[level], this.sep_lens[level], full, this.bt.totalUnder(full));
    this.startBranch(level, sep, sep_len, child, count);
  }

  private startBranch(level: number, sep: Uint8Array, sep_len: number, child: number, count: number): void {
    const page = this.bt.newPage(PAGE_BRANCH, this.tree);
    this.bt.setLeftmost(page, child, count);
    this.branches[level] = page;
    this.seps[level] ??= new Uint8Array(this.tmp.length);
    if (sep_len > 0) copyBytes(this.seps[level], 0, sep, 0, sep_len);
    this.sep_lens[level] = sep_len;
  }

  /** Flushes every level above `last_leaf` (0: no leaf at all); returns the root. */
  finish(last_leaf: number): number {
    if (last_leaf === 0) return this.bt.newPage(PAGE_LEAF, this.tree);
    if (this.branches.length === 1) return last_leaf;
    this.pushUp(1, this.seps[0], this.sep_lens[0], last_leaf, this.bt.totalUnder(last_leaf));
    for (let level = 1; ; level++) {
      const page = this.branches[level];
      if (this.branches[level + 1] === undefined) return page;
      this.pushUp(level + 1, this.seps[level], this.sep_lens[level], page, this.bt.totalUnder(page));
    }
  }
}

/** Builds one tree's pages from entries given in key order, each entry appended with BTreeWriter.appendIfFits. */
class PageStacker {
  private leaf = 0;
  private readonly levels: BranchStack;
  private readonly tmp_sep: Uint8Array;
  private prev: Uint8Array;
  private prev_len = -1;

  constructor(
    private readonly bt: BTreeWriter,
    private readonly tree: number,
    private readonly limit_bytes: number,
    page_bytes: number,
  ) {
    this.levels = new BranchStack(bt, tree, limit_bytes, page_bytes);
    this.tmp_sep = new Uint8Array(page_bytes);
    this.prev = new Uint8Array(256);
  }

  /** Adds the leaf entry src[0, len) whose full key is key[key_off, key_off + key_len). */
  add(src: Uint8Array, len: number, key: Uint8Array, key_off: number, key_len: number): void {
    if (this.prev_len >= 0 && compareBytes(this.prev, 0, this.prev_len, key, key_off, key_len) >= 0) fail('keys not in strictly increasing order');
    if (this.leaf === 0) this.leaf = this.bt.newPage(PAGE_LEAF, this.tree);
    else if (!this.bt.appendIfFits(this.leaf, src, 0, len, this.limit_bytes)) {
      const sep_len = this.bt.separatorPart(this.prev, 0, this.prev_len, key, key_off, key_len, this.tmp_sep);
      this.levels.leafDone(this.leaf, this.tmp_sep, sep_len);
      this.leaf = this.bt.newPage(PAGE_LEAF, this.tree);
    } else {
      this.remember(key, key_off, key_len);
      return;
    }
    check(this.bt.appendIfFits(this.leaf, src, 0, len, Infinity), 'an entry does not fit an empty page');
    this.remember(key, key_off, key_len);
  }

  private remember(key: Uint8Array, off: number, len: number): void {
    if (len > this.prev.length) this.prev = new Uint8Array(len * 2);
    copyBytes(this.prev, 0, key, off, len);
    this.prev_len = len;
  }

  /** Flushes every level; returns the root (an empty leaf when nothing was added). */
  finish(): number {
    return this.levels.finish(this.leaf);
  }
}

/**
 * The znode tree's leaves, written in place (see the file comment). Entries are placed one at a
 * time (place), their key part and record written by the caller straight into `u8`; a leaf's
 * header and slot heads are written when the next entry does not fit it (or at finish).
 */
class ZnodeLeaves {
  /** The current leaf (0: none yet), its segment's bytes and its byte offset there. */
  leaf = 0;
  u8: Uint8Array;
  dv: DataView;
  private p = 0;
  private count = 0;
  /** Page-relative start of the entries (they fill the page from its end downwards). */
  private heap = 0;
  private readonly page_bytes: number;
  /** Most bytes (entries + slots) a leaf holds before the next entry starts a new one. */
  private readonly limit_bytes: number;
  private readonly capacity: number;
  /** Locates entries' keys (overflow keys included) for finishLeaf. */
  private readonly acc: TreeAccess;

  constructor(
    private readonly bt: BTreeWriter,
    private readonly mem: ArenaMemory,
    limit_bytes: number,
  ) {
    this.acc = new TreeAccess(mem);
    this.page_bytes = mem.page_bytes;
    this.capacity = bt.page_capacity;
    this.limit_bytes = Math.min(limit_bytes, this.capacity);
    this.u8 = mem.u8[0];
    this.dv = mem.dv[0];
  }

  /**
   * Room for an entry of `len` bytes: in the current leaf while it stays within the limit, else
   * in a new one (the current one is then finished: the caller pushes it up). Returns the
   * entry's byte offset in `u8` (the leaf's segment); `this.leaf` is the page it went to.
   */
  place(len: number): number {
    if (this.leaf === 0 || SLOT_BYTES * this.count + this.page_bytes - this.heap + len + SLOT_BYTES > this.limit_bytes) {
      if (this.leaf !== 0) this.finishLeaf();
      if (len + SLOT_BYTES > this.capacity) fail('an entry does not fit an empty page');
      this.leaf = this.bt.newPage(PAGE_LEAF, TREE_ZNODES);
      this.u8 = this.mem.u8[this.mem.segOf(this.leaf)];
      this.dv = this.mem.dv[this.mem.segOf(this.leaf)];
      this.p = this.mem.offOf(this.leaf);
      this.count = 0;
      this.heap = this.page_bytes;
    }
    const heap = this.heap - len;
    this.dv.setUint16(this.p + PG_SLOTS + SLOT_BYTES * this.count, heap);
    this.heap = heap;
    this.count++;
    return this.p + heap;
  }

  /** Writes the current leaf's header and slot heads (its entries are all written). */
  finishLeaf(): void {
    const dv = this.dv;
    const p = this.p;
    const n = this.count;
    const acc = this.acc;
    const seg = this.mem.segOf(this.leaf);
    let hp = 0;
    if (n >= 2) {
      // Keys are in strictly increasing order: the first and last key's common prefix is every key's.
      acc.entryKey(seg, p + dv.getUint16(p + PG_SLOTS));
      const a_u8 = acc.key_u8;
      const a_off = acc.key_off;
      const a_len = acc.key_len;
      acc.entryKey(seg, p + dv.getUint16(p + PG_SLOTS + SLOT_BYTES * (n - 1)));
      const limit = Math.min(a_len, acc.key_len, HEAD_POS_MAX);
      while (hp < limit && a_u8[a_off + hp] === acc.key_u8[acc.key_off + hp]) hp++;
    }
    for (let i = 0; i < n; i++) {
      const slot = p + PG_SLOTS + SLOT_BYTES * i;
      acc.entryKey(seg, p + dv.getUint16(slot));
      dv.setUint32(slot + 2, headOf(acc.key_u8, acc.key_off, acc.key_len, hp));
    }
    dv.setUint16(p + PG_COUNT, n);
    dv.setUint16(p + PG_HEAP, this.heap);
    dv.setUint16(p + PG_HEAD_POS, hp);
  }

}

/**
 * Builds the trees of an empty writer batch from nodes given in key order (see the file
 * comment): defineAcl before a node uses the id, then per node beginNode, the caller writes the
 * record's stored stat, endNode; finish once. Every check of bulkLoad's but the stream's own
 * record bounds is made here.
 */
export class ZnodeBulkLoader {
  private readonly bt: BTreeWriter;
  private readonly heap: ArenaHeap;
  private readonly mem: ArenaMemory;
  private readonly acls: AclStore;
  private readonly addDataBytes: (n: number) => void;
  private readonly syncView: () => void;
  private readonly limit: number;
  private readonly leaves: ZnodeLeaves;
  private readonly levels: BranchStack;
  private readonly runs = new ParentRuns();
  private readonly acl_addrs = new Map<number, number>();
  /** References per ACL blob, applied once at the end (not a Map update per node). */
  private readonly acl_refs = new Map<number, { n: number }>();
  private readonly owned: Uint8Array[] = [];
  private readonly inline_max: number;
  private readonly sep_buf: Uint8Array;
  /** The previous node's key, where it is written (a leaf or an overflow blob). */
  private prev_u8: Uint8Array = new Uint8Array(0);
  private prev_dv: DataView = new DataView(new ArrayBuffer(0));
  private prev_off = 0;
  private prev_len = -1;
  /** Where the previous node's last '/' is in its path. */
  private prev_slash = -1;
  private last_acl_id = -1;
  private last_acl_addr = 0;
  private last_acl_refs = { n: 0 };
  private data_bytes = 0;
  /** Nodes begun. */
  nodes = 0;
  /** The current node's record: rec_u8 / rec_dv at offset beginNode returned. */
  rec_u8: Uint8Array;
  rec_dv: DataView;
  private rec = 0;
  private path_src: Uint8Array = new Uint8Array(0);
  private path_off = 0;
  private path_len = 0;
  private finished = false;

  constructor(writer: TreeWriter, options: BulkLoadOptions = {}) {
    const fill = options.fill ?? 0.95;
    if (!(fill >= 0.5 && fill <= 1)) throw new ArenaInvariantError(`bulk load: fill ${fill} outside 0.5 .. 1`);
    check(writer.view.nodeCount() === 0, 'bulk load into a non-empty tree');
    const { bt, acls, addDataBytes, syncView } = writer.loaderAccess();
    this.heap = writer.heap;
    this.bt = bt;
    this.acls = acls;
    this.addDataBytes = addDataBytes;
    this.syncView = syncView;
    this.mem = writer.mem;
    this.limit = Math.floor(bt.page_capacity * fill);
    this.leaves = new ZnodeLeaves(bt, this.mem, this.limit);
    this.levels = new BranchStack(bt, TREE_ZNODES, this.limit, this.mem.page_bytes);
    this.inline_max = bt.inline_max;
    this.sep_buf = new Uint8Array(this.mem.page_bytes);
    this.rec_u8 = this.leaves.u8;
    this.rec_dv = this.leaves.dv;
  }

  /** ACL list `id` of the input, in wire form src[off, off + len) (a jute vector<ACL>). */
  defineAcl(id: number, src: Uint8Array, off: number, len: number): void {
    if (this.acl_addrs.has(id)) fail(`ACL id ${id} defined twice`);
    const addr = this.acls.internWire(src, off, len);
    this.acl_addrs.set(id, addr);
    if (!this.acl_refs.has(addr)) this.acl_refs.set(addr, { n: 0 });
  }

  /**
   * Starts the node whose path is src[p, p + path_len) (absolute), with data src[d, d +
   * data_len) (data_len -1: null), ACL `acl_id` and `num_children` children to follow; `src_dv`
   * views the same bytes as `src`. Returns the offset of its record in rec_u8 / rec_dv: the
   * caller writes the 68-byte stored stat there (dataLength and numChildren as given here), then
   * calls endNode().
   */
  beginNode(src: Uint8Array, src_dv: DataView, p: number, path_len: number, d: number, data_len: number, acl_id: number, num_children: number): number {
    let acl: number;
    if (acl_id === this.last_acl_id) acl = this.last_acl_addr;
    else {
      const found = this.acl_addrs.get(acl_id);
      if (found === undefined) fail('node refers to an undefined ACL id');
      acl = found;
      this.last_acl_id = acl_id;
      this.last_acl_addr = acl;
      this.last_acl_refs = this.acl_refs.get(acl)!;
    }
    this.last_acl_refs.n++;
    if (data_len < -1) fail('node data length out of bounds');
    if (path_len === 0 || src[p] !== 0x2f) fail('node path not absolute');
    let slash = path_len - 1;
    while (slash > 0 && src[p + slash] !== 0x2f) slash--;
    const overflow = path_len > this.inline_max;
    const kp_len = this.bt.keyPartBytesFor(path_len);
    const inline = dataInline(kp_len, data_len, this.inline_max);
    const prev_leaf = this.leaves.leaf;
    const e = this.leaves.place(kp_len + RECORD_BYTES + (inline ? data_len : 0));
    const split = prev_leaf !== 0 && this.leaves.leaf !== prev_leaf;
    const u8 = this.leaves.u8;
    const dv = this.leaves.dv;
    // Key = path with its last '/' as 0x00.
    let key_u8: Uint8Array;
    let key_off: number;
    let ascii: boolean;
    if (!overflow) {
      u8[e] = path_len >>> 8;
      u8[e + 1] = path_len & 0xff;
      ascii = copyWords(dv, e + 2, src_dv, p, path_len) < 0x80;
      u8[e + 2 + slash] = 0;
      key_u8 = u8;
      key_off = e + 2;
    } else {
      ascii = false;
      this.bt.writeKeyPart(u8, e, src, p, path_len, slash, 0);
      const blob = dv.getUint32(e + 6);
      key_u8 = this.mem.u8[this.mem.segOf(blob)];
      key_off = this.mem.offOf(blob);
    }
    const key_dv = overflow ? this.mem.dv[this.mem.segOf(dv.getUint32(e + 6))] : dv;
    // The key must sort after the previous one; where they first differ also tells whether the
    // node has the previous one's parent (same last '/', equal bytes before it).
    let same_parent = false;
    const prev_len = this.prev_len;
    if (prev_len >= 0) {
      const n = prev_len < path_len ? prev_len : path_len;
      const d = commonPrefix(this.prev_dv, this.prev_off, key_dv, key_off, n);
      if (d === n ? prev_len >= path_len : this.prev_u8[this.prev_off + d] > key_u8[key_off + d]) fail('keys not in strictly increasing order');
      same_parent = prev_len > 1 && this.prev_slash === slash && d >= slash;
    }
    this.runs.node(src, p, path_len, slash, num_children, same_parent);
    if (split) {
      const sep_len = this.bt.separatorPart(this.prev_u8, this.prev_off, prev_len, key_u8, key_off, path_len, this.sep_buf);
      this.levels.leafDone(prev_leaf, this.sep_buf, sep_len);
    }
    this.prev_u8 = key_u8;
    this.prev_dv = key_dv;
    this.prev_off = key_off;
    this.prev_len = path_len;
    this.prev_slash = slash;
    const r = e + kp_len;
    let data_addr = 0;
    if (inline) copyWords(dv, r + RECORD_BYTES, src_dv, d, data_len);
    else if (data_len > 0) {
      data_addr = this.heap.allocBlob(data_len);
      copyWords(this.mem.dv[this.mem.segOf(data_addr)], this.mem.offOf(data_addr), src_dv, d, data_len);
    }
    dv.setUint32(r + REC_DATA_ADDR, data_addr);
    dv.setUint32(r + REC_ACL_ADDR, acl);
    // ZooKeeper's approximate data size counts the path in UTF-16 units.
    this.data_bytes += (ascii ? path_len : utf16Length(src, p, path_len)) + (data_len > 0 ? data_len : 0);
    this.nodes++;
    this.rec_u8 = u8;
    this.rec_dv = dv;
    this.rec = r;
    this.path_src = src;
    this.path_off = p;
    this.path_len = path_len;
    return r;
  }

  /** Ends the node beginNode started (its stored stat is written). */
  endNode(): void {
    const dv = this.rec_dv;
    const r = this.rec;
    if (dv.getInt32(r + REC_OWNER) !== 0 || dv.getInt32(r + REC_OWNER + 4) !== 0) {
      const k = new Uint8Array(OWNER_KEY_BYTES + this.path_len);
      copyBytes(k, 0, this.rec_u8, r + REC_OWNER, OWNER_KEY_BYTES);
      copyBytes(k, OWNER_KEY_BYTES, this.path_src, this.path_off, this.path_len);
      this.owned.push(k);
    }
  }

  /**
   * After the last node: checks the count (`expected_nodes`, the input's own) and the parents'
   * children, installs both trees' roots and the ACL references. Returns the nodes loaded.
   */
  finish(expected_nodes: number): number {
    check(!this.finished, 'bulk load: finished twice');
    this.finished = true;
    const nodes = this.nodes;
    if (expected_nodes !== nodes) fail(`end record counts ${expected_nodes} nodes, the stream holds ${nodes}`);
    if (nodes === 0) fail('no nodes (not even "/")');
    this.runs.finish();
    if (this.leaves.leaf !== 0) this.leaves.finishLeaf();
    for (const [addr, refs] of this.acl_refs) this.acls.refBy(addr, refs.n);
    // The input's own references to its ACLs (one per definition) were only for interning.
    for (const addr of this.acl_addrs.values()) this.acls.unref(addr);
    const bt = this.bt;
    bt.replaceRoot(TREE_ZNODES, this.levels.finish(this.leaves.leaf));
    const owned = this.owned;
    owned.sort((a, b) => compareBytes(a, 0, a.length, b, 0, b.length));
    const page_bytes = this.mem.page_bytes;
    const owners = new PageStacker(bt, TREE_OWNERS, this.limit, page_bytes);
    let entry = new Uint8Array(page_bytes);
    for (const k of owned) {
      if (k.length + 16 > entry.length) entry = new Uint8Array(k.length * 2 + 16);
      const kp = bt.writeKeyPart(entry, 0, k, 0, k.length);
      owners.add(entry, kp, k, 0, k.length);
    }
    bt.replaceRoot(TREE_OWNERS, owners.finish());
    this.addDataBytes(this.data_bytes);
    this.syncView();
    return nodes;
  }
}

/**
 * Copies n bytes from src at s to dst at d, four at a time (DataView words: about 3x a byte loop
 * for a 68-byte stat, and no view allocated as subarray().set() does); returns the OR of the
 * bytes (< 0x80: all ASCII).
 */
export function copyWords(dst: DataView, d: number, src: DataView, s: number, n: number): number {
  let or = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = src.getInt32(s + i);
    dst.setInt32(d + i, w);
    or |= w;
  }
  or = (or | (or >>> 8) | (or >>> 16) | (or >>> 24)) & 0xff;
  for (; i < n; i++) {
    const b = src.getUint8(s + i);
    dst.setUint8(d + i, b);
    or |= b;
  }
  return or;
}

/** UTF-16 length of UTF-8 bytes (what ZooKeeper's approximate data size counts for a path). */
function utf16Length(u8: Uint8Array, off: number, len: number): number {
  let n = 0;
  for (let i = off; i < off + len; i++) {
    const b = u8[i];
    if ((b & 0xc0) !== 0x80) n += b >= 0xf0 ? 2 : 1;
  }
  return n;
}

/**
 * Checks that each parent's children follow it in one run of the size its numChildren says.
 * Nodes come in strictly increasing key order, so the node before a child is either in the
 * child's run (it has the same parent: the caller compares the two keys anyway, see
 * ZnodeBulkLoader.beginNode) or the run starts at the child.
 */
class ParentRuns {
  /** Path (latin1 of its bytes) -> numChildren, for nodes with children not yet seen. */
  private readonly expected = new Map<string, number>();
  private in_run = false;
  private seen = 0;
  private expect_count = 0;

  /** The node path[off, off + path_len), its parent path[off, off + parent_len) ("/": 0). */
  node(path: Uint8Array, off: number, path_len: number, parent_len: number, children: number, same_parent_as_previous: boolean): void {
    if (children < 0) fail('negative numChildren');
    if (path_len === 1) {
      if (this.in_run || this.expected.size > 0) fail('"/" is not the first node');
    } else if (same_parent_as_previous && this.in_run) this.seen++;
    else this.startRun(path, off, parent_len);
    if (children > 0) this.expected.set(Buffer.from(path.buffer, path.byteOffset + off, path_len).toString('latin1'), children);
  }

  /** The first child of the parent path[off, off + parent_len) (parent_len 0: "/"). */
  private startRun(path: Uint8Array, off: number, parent_len: number): void {
    this.close();
    const key = parent_len === 0 ? '/' : Buffer.from(path.buffer, path.byteOffset + off, parent_len).toString('latin1');
    const expected = this.expected.get(key);
    if (expected === undefined) fail(`node under ${JSON.stringify(Buffer.from(key, 'latin1').toString())} without that parent (or its numChildren is 0)`);
    this.expected.delete(key);
    this.in_run = true;
    this.seen = 1;
    this.expect_count = expected;
  }

  close(): void {
    if (this.in_run && this.seen !== this.expect_count) fail(`a node has numChildren ${this.expect_count} but ${this.seen} children follow`);
    this.in_run = false;
  }

  finish(): void {
    this.close();
    if (this.expected.size > 0) fail(`${this.expected.size} nodes have numChildren > 0 but no children`);
  }
}

/** Length of the common prefix of a[ao, ao + n) and b[bo, bo + n), four bytes at a time. */
function commonPrefix(a: DataView, ao: number, b: DataView, bo: number, n: number): number {
  let i = 0;
  while (i + 4 <= n && a.getInt32(ao + i) === b.getInt32(bo + i)) i += 4;
  while (i < n && a.getUint8(ao + i) === b.getUint8(bo + i)) i++;
  return i;
}

/**
 * Loads a node stream into the open batch of `writer`, whose tree must be empty (a fresh
 * writer after begin()). Commit afterwards with the returned last_zxid.
 */
export function bulkLoad(writer: TreeWriter, chunks: Iterable<Uint8Array>, options: BulkLoadOptions = {}): BulkLoadResult {
  const loader = new ZnodeBulkLoader(writer, options);
  let end: { nodes: number; zxid: number } | null = null;

  const loadNode = (c: Uint8Array, dv: DataView, at: number, limit_at: number): number => {
    if (at + 4 > limit_at) fail('node record truncated');
    const path_len = dv.getUint32(at);
    const p = at + 4;
    const s = p + path_len;
    if (path_len === 0 || s + NODE_STAT_BYTES + 4 > limit_at || c[p] !== 0x2f) fail('node record truncated or path not absolute');
    const data_len = dv.getInt32(s + REC_DATA_LENGTH);
    const d = s + NODE_STAT_BYTES + 4;
    if (data_len < -1 || d + Math.max(0, data_len) > limit_at) fail('node data length out of bounds');
    const r = loader.beginNode(c, dv, p, path_len, d, data_len, dv.getUint32(s + NODE_STAT_BYTES), dv.getInt32(s + REC_NUM_CHILDREN));
    copyWords(loader.rec_dv, r, dv, s, NODE_STAT_BYTES);
    loader.endNode();
    return d + Math.max(0, data_len);
  };

  for (const c of chunks) {
    const dv = new DataView(c.buffer, c.byteOffset, c.byteLength);
    let at = 0;
    while (at < c.length) {
      if (end !== null) fail('records after the end record');
      const tag = c[at++];
      if (tag === TAG_NODE) at = loadNode(c, dv, at, c.length);
      else if (tag === TAG_ACL) {
        if (at + 8 > c.length) fail('ACL record truncated');
        const id = dv.getUint32(at);
        const len = dv.getUint32(at + 4);
        if (at + 8 + len > c.length || len < 4) fail('ACL record truncated');
        loader.defineAcl(id, c, at + 8, len);
        at += 8 + len;
      } else if (tag === TAG_END) {
        if (at + 12 > c.length) fail('end record truncated');
        end = { nodes: dv.getUint32(at), zxid: dv.getUint32(at + 4) * 0x1_0000_0000 + dv.getUint32(at + 8) };
        at += 12;
      } else fail(`unknown record tag ${tag}`);
    }
  }
  if (end === null) fail('no end record');
  const nodes = loader.finish(end.nodes);
  return { nodes, last_zxid: end.zxid };
}
