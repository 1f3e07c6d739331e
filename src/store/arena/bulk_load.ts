// Bulk loader (recovery): builds the trees of an empty writer batch from a node stream
// (node_stream.ts) bottom-up, in one pass: nodes arrive in key order, so leaves are filled left
// to right and each full page pushes a separator into the level above (no descents, no splits).
// The stream is checked as it is read: record bounds, strictly increasing keys, every node's
// parent present with a numChildren equal to the children that follow, ACL ids defined, the
// end record's count. A stream that fails a check throws NodeStreamError (the batch must then
// be abandoned with the writer: load into a fresh arena).

import type { BTreeWriter } from './btree_write.js';
import { copyBytes } from './bytes.js';
import { ArenaInvariantError, check } from './errors.js';
import { compareBytes } from './key.js';
import {
  OWNER_KEY_BYTES,
  PAGE_BRANCH,
  PAGE_LEAF,
  REC_ACL_ADDR,
  REC_DATA_ADDR,
  REC_DATA_LENGTH,
  REC_NUM_CHILDREN,
  REC_OWNER,
  RECORD_BYTES,
  TREE_OWNERS,
  TREE_ZNODES,
} from './layout.js';
import { NODE_STAT_BYTES, NodeStreamError, TAG_ACL, TAG_END, TAG_NODE } from './node_stream.js';
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

/** Builds one tree's pages level by level from entries given in key order. */
class PageStacker {
  private leaf = 0;
  /** Separator key part preceding the current page of each level (length -1: first page). */
  private readonly seps: Uint8Array[] = [];
  private readonly sep_lens: number[] = [];
  /** Current branch page per level (index 0 unused: leaves). */
  private readonly branches: number[] = [0];
  private readonly tmp: Uint8Array;
  private readonly tmp_sep: Uint8Array;
  private prev: Uint8Array;
  private prev_len = -1;

  constructor(
    private readonly bt: BTreeWriter,
    private readonly tree: number,
    private readonly limit_bytes: number,
    page_bytes: number,
  ) {
    this.tmp = new Uint8Array(page_bytes);
    this.tmp_sep = new Uint8Array(page_bytes);
    this.prev = new Uint8Array(256);
    this.seps[0] = new Uint8Array(page_bytes);
    this.sep_lens[0] = -1;
  }

  /** Adds the leaf entry src[0, len) whose full key is key[key_off, key_off + key_len). */
  add(src: Uint8Array, len: number, key: Uint8Array, key_off: number, key_len: number): void {
    this.checkOrder(key, key_off, key_len);
    if (this.leaf === 0) this.leaf = this.bt.newPage(PAGE_LEAF, this.tree);
    else if (!this.bt.appendIfFits(this.leaf, src, 0, len, this.limit_bytes)) {
      const sep_len = this.bt.separatorPart(this.prev, 0, this.prev_len, key, key_off, key_len, this.tmp_sep);
      this.pushUp(1, this.seps[0], this.sep_lens[0], this.leaf, this.bt.totalUnder(this.leaf));
      copyBytes(this.seps[0], 0, this.tmp_sep, 0, sep_len);
      this.sep_lens[0] = sep_len;
      this.leaf = this.bt.newPage(PAGE_LEAF, this.tree);
    } else {
      this.remember(key, key_off, key_len);
      return;
    }
    check(this.bt.appendIfFits(this.leaf, src, 0, len, Infinity), 'an entry does not fit an empty page');
    this.remember(key, key_off, key_len);
  }

  /** The key must sort after the previous one. */
  checkOrder(key: Uint8Array, key_off: number, key_len: number): void {
    if (this.prev_len >= 0 && compareBytes(this.prev, 0, this.prev_len, key, key_off, key_len) >= 0) fail('keys not in strictly increasing order');
  }

  private remember(key: Uint8Array, off: number, len: number): void {
    if (len > this.prev.length) this.prev = new Uint8Array(len * 2);
    copyBytes(this.prev, 0, key, off, len);
    this.prev_len = len;
  }

  /** Adds child (with its leaf count and preceding separator) to the branch level `level`. */
  private pushUp(level: number, sep: Uint8Array, sep_len: number, child: number, count: number): void {
    if (this.branches[level] === undefined || this.branches[level] === 0) {
      this.startBranch(level, sep, sep_len, child, count);
      return;
    }
    check(sep_len > 0, 'a separator is missing below a non-first page');
    copyBytes(this.tmp, 0, sep, 0, sep_len);
    const dv = new DataView(this.tmp.buffer);
    dv.setUint32(sep_len, child);
    dv.setUint32(sep_len + 4, count);
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

  /** Flushes every level; returns the root (an empty leaf when nothing was added). */
  finish(): number {
    if (this.leaf === 0) return this.bt.newPage(PAGE_LEAF, this.tree);
    if (this.branches.length === 1) return this.leaf;
    this.pushUp(1, this.seps[0], this.sep_lens[0], this.leaf, this.bt.totalUnder(this.leaf));
    for (let level = 1; ; level++) {
      const page = this.branches[level];
      if (this.branches[level + 1] === undefined) return page;
      this.pushUp(level + 1, this.seps[level], this.sep_lens[level], page, this.bt.totalUnder(page));
    }
  }
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

/** Checks that each parent's children follow it in one run of the size its numChildren says. */
class ParentRuns {
  /** Path (latin1 of its bytes) -> numChildren, for nodes with children not yet seen. */
  private readonly expected = new Map<string, number>();
  private run = new Uint8Array(256);
  private run_len = -1;
  private seen = 0;
  private expect_count = 0;

  node(path: Uint8Array, off: number, path_len: number, parent_len: number, children: number): void {
    if (children < 0) fail('negative numChildren');
    if (path_len === 1) {
      if (this.run_len >= 0 || this.expected.size > 0) fail('"/" is not the first node');
    } else this.child(path, off, parent_len);
    if (children > 0) this.expected.set(Buffer.from(path.buffer, path.byteOffset + off, path_len).toString('latin1'), children);
  }

  /** A node whose parent path is path[off, off + parent_len) (parent_len 0: "/"). */
  private child(path: Uint8Array, off: number, parent_len: number): void {
    if (this.run_len === parent_len && compareBytes(this.run, 0, parent_len, path, off, parent_len) === 0) {
      this.seen++;
      return;
    }
    this.close();
    const key = parent_len === 0 ? '/' : Buffer.from(path.buffer, path.byteOffset + off, parent_len).toString('latin1');
    const expected = this.expected.get(key);
    if (expected === undefined) fail(`node under ${JSON.stringify(Buffer.from(key, 'latin1').toString())} without that parent (or its numChildren is 0)`);
    this.expected.delete(key);
    if (parent_len > this.run.length) this.run = new Uint8Array(parent_len * 2);
    copyBytes(this.run, 0, path, off, parent_len);
    this.run_len = parent_len;
    this.seen = 1;
    this.expect_count = expected;
  }

  close(): void {
    if (this.run_len >= 0 && this.seen !== this.expect_count) fail(`a node has numChildren ${this.expect_count} but ${this.seen} children follow`);
    this.run_len = -1;
  }

  finish(): void {
    this.close();
    if (this.expected.size > 0) fail(`${this.expected.size} nodes have numChildren > 0 but no children`);
  }
}

/**
 * Loads a node stream into the open batch of `writer`, whose tree must be empty (a fresh
 * writer after begin()). Commit afterwards with the returned last_zxid.
 */
export function bulkLoad(writer: TreeWriter, chunks: Iterable<Uint8Array>, options: BulkLoadOptions = {}): BulkLoadResult {
  const fill = options.fill ?? 0.95;
  if (!(fill >= 0.5 && fill <= 1)) throw new ArenaInvariantError(`bulk load: fill ${fill} outside 0.5 .. 1`);
  check(writer.view.nodeCount() === 0, 'bulk load into a non-empty tree');
  const { bt, acls, addDataBytes, syncView } = writer.loaderAccess();
  const mem = writer.mem;
  const limit = Math.floor(bt.page_capacity * fill);
  const znodes = new PageStacker(bt, TREE_ZNODES, limit, mem.page_bytes);
  const runs = new ParentRuns();
  const acl_addrs = new Map<number, number>();
  /** References per ACL blob, applied once at the end (not a Map update per node). */
  const acl_refs = new Map<number, { n: number }>();
  const owned: Uint8Array[] = [];
  let entry = new Uint8Array(mem.page_bytes);
  let entry_dv = new DataView(entry.buffer);
  let key = new Uint8Array(256);
  let nodes = 0;
  let data_bytes = 0;
  let last_acl_id = -1;
  let last_acl_refs = { n: 0 };
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
    const acl_id = dv.getUint32(s + NODE_STAT_BYTES);
    const acl = acl_addrs.get(acl_id);
    if (acl === undefined) fail('node refers to an undefined ACL id');
    if (acl_id !== last_acl_id) {
      last_acl_id = acl_id;
      last_acl_refs = acl_refs.get(acl)!;
    }
    last_acl_refs.n++;
    let slash = path_len - 1;
    while (c[p + slash] !== 0x2f) slash--;
    // Key = path with its last '/' as 0x00.
    if (path_len > key.length) key = new Uint8Array(path_len * 2);
    copyBytes(key, 0, c, p, path_len);
    key[slash] = 0;
    znodes.checkOrder(key, 0, path_len);
    runs.node(c, p, path_len, slash, dv.getInt32(s + REC_NUM_CHILDREN));
    if (path_len + RECORD_BYTES + 16 > entry.length) {
      entry = new Uint8Array((path_len + RECORD_BYTES) * 2);
      entry_dv = new DataView(entry.buffer);
    }
    const kp = bt.writeKeyPart(entry, 0, key, 0, path_len);
    copyBytes(entry, kp, c, s, NODE_STAT_BYTES);
    let data_addr = 0;
    if (data_len > 0) {
      data_addr = writer.heap.allocBlob(data_len);
      copyBytes(mem.u8[mem.segOf(data_addr)], mem.offOf(data_addr), c, d, data_len);
    }
    entry_dv.setUint32(kp + REC_DATA_ADDR, data_addr);
    entry_dv.setUint32(kp + REC_ACL_ADDR, acl);
    znodes.add(entry, kp + RECORD_BYTES, key, 0, path_len);
    if (dv.getInt32(s + REC_OWNER) !== 0 || dv.getInt32(s + REC_OWNER + 4) !== 0) {
      const k = new Uint8Array(OWNER_KEY_BYTES + path_len);
      copyBytes(k, 0, c, s + REC_OWNER, OWNER_KEY_BYTES);
      copyBytes(k, OWNER_KEY_BYTES, c, p, path_len);
      owned.push(k);
    }
    data_bytes += utf16Length(c, p, path_len) + Math.max(0, data_len);
    nodes++;
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
        if (acl_addrs.has(id)) fail(`ACL id ${id} defined twice`);
        const addr = acls.internWire(c, at + 8, len);
        acl_addrs.set(id, addr);
        if (!acl_refs.has(addr)) acl_refs.set(addr, { n: 0 });
        at += 8 + len;
      } else if (tag === TAG_END) {
        if (at + 12 > c.length) fail('end record truncated');
        end = { nodes: dv.getUint32(at), zxid: dv.getUint32(at + 4) * 0x1_0000_0000 + dv.getUint32(at + 8) };
        at += 12;
      } else fail(`unknown record tag ${tag}`);
    }
  }
  if (end === null) fail('no end record');
  if (end.nodes !== nodes) fail(`end record counts ${end.nodes} nodes, the stream holds ${nodes}`);
  if (nodes === 0) fail('no nodes (not even "/")');
  runs.finish();
  for (const [addr, refs] of acl_refs) acls.refBy(addr, refs.n);
  // The stream's own references to its ACLs (one per definition) were only for interning.
  for (const addr of acl_addrs.values()) acls.unref(addr);
  bt.replaceRoot(TREE_ZNODES, znodes.finish());
  owned.sort((a, b) => compareBytes(a, 0, a.length, b, 0, b.length));
  const owners = new PageStacker(bt, TREE_OWNERS, limit, mem.page_bytes);
  for (const k of owned) {
    const kp = bt.writeKeyPart(entry, 0, k, 0, k.length);
    owners.add(entry, kp, k, 0, k.length);
  }
  bt.replaceRoot(TREE_OWNERS, owners.finish());
  addDataBytes(data_bytes);
  syncView();
  return { nodes, last_zxid: end.zxid };
}
