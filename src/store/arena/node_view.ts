// Reads of one tree version given its roots (shared by TreeReader, which pins a published root,
// and by the writer's view of its open batch). Lookups take path BYTES (e.g. a slice of a
// request frame) and compare them as bytes; results are copied into caller buffers. The only
// objects a read makes are the ones the convenience methods marked "allocates" return.

import type { ACL, Stat } from '../../protocol/types.js';
import { decodeAclWire } from './acl_store.js';
import { copyBytes, getI64 } from './bytes.js';
import { check, fail } from './errors.js';
import { CMP_EQUAL, CMP_PREFIX, SearchKey } from './key.js';
import { copyFromShared } from '../../memory/shared_copy.js';
import {
  ACL_LENGTH,
  ACL_SERIAL,
  ACL_WIRE,
  OWNER_KEY_BYTES,
  REC_ACL_ADDR,
  REC_AVERSION,
  REC_CTIME,
  REC_CVERSION,
  REC_CZXID,
  REC_DATA_ADDR,
  REC_DATA_LENGTH,
  RECORD_BYTES,
  REC_MTIME,
  REC_MZXID,
  REC_NUM_CHILDREN,
  REC_OWNER,
  REC_PZXID,
  REC_VERSION,
  STAT_WIRE_BYTES,
} from './layout.js';
import type { ArenaMemory } from './memory.js';
import { copyStat, OWNER_EPHEMERAL, ownerKindOf, readStoredStat, type StoredStat } from './record.js';
import { BEFORE_LT, Cursor, TreeAccess } from './tree_access.js';

const encoder = new TextEncoder();
const SLASH = 0x2f;

const SCAN_NONE = 0;
const SCAN_CHILDREN = 1;
const SCAN_OWNED = 2;
const SCAN_ALL = 3;

export class NodeView {
  readonly acc: TreeAccess;
  /** Roots of the version being read (set by the pin, or by the writer after each change). */
  znode_root = 0;
  owner_root = 0;
  /** False outside a pin (TreeReader): reads then fail loudly instead of reading freed memory. */
  protected readable = true;
  private readonly key = new SearchKey();
  private readonly key2 = new SearchKey();
  private readonly cursor: Cursor;
  private scan = SCAN_NONE;
  /** False until the scan's first advance (the cursor already sits on the first entry). */
  private scan_started = false;
  private scan_skip_equal = false;
  /** Copy of the scan's prefix (the caller's buffer may change while we iterate). */
  private prefix = new Uint8Array(256);
  private prefix_len = 0;
  private path_buf = new Uint8Array(256);
  /** The current node's record: segment and byte offset (-1: none selected). */
  private rec_seg = 0;
  private rec_off = -1;

  constructor(readonly mem: ArenaMemory) {
    this.acc = new TreeAccess(mem);
    this.cursor = new Cursor(this.acc);
  }

  private assertReadable(): void {
    if (!this.readable) check(false, 'tree read outside a pin');
  }

  // ---- lookup ----

  /** Selects the node whose path is buf[off, off + len) (UTF-8). False when there is none. */
  find(buf: Uint8Array, off: number, len: number): boolean {
    this.assertReadable();
    this.rec_off = -1;
    if (len === 0 || !this.key.setPath(buf, off, len)) return false;
    if (!this.acc.find(this.znode_root, this.key)) return false;
    this.selectEntry(this.acc.found_seg, this.acc.found_entry);
    return true;
  }

  /** find() for a path string (encodes it: tests, tools, the writer's own checks). */
  findPath(path: string): boolean {
    const n = this.encodePath(path);
    return this.find(this.path_buf, 0, n);
  }

  private encodePath(path: string): number {
    if (path.length * 3 > this.path_buf.length) this.path_buf = new Uint8Array(path.length * 3);
    return encoder.encodeInto(path, this.path_buf).written;
  }

  /**
   * Selects the record at byte `rec_off` of segment `seg`: the TreeWriter's, for the node it
   * just changed (its own batch's page, which nothing moves until its next change).
   */
  selectRecord(seg: number, rec_off: number): void {
    this.assertReadable();
    this.rec_seg = seg;
    this.rec_off = rec_off;
  }

  private selectEntry(seg: number, e: number): void {
    this.rec_seg = seg;
    this.rec_off = e + this.acc.keyPartBytes(this.mem.u8[seg], e);
  }

  private dv(): DataView {
    check(this.rec_off >= 0, 'no node selected');
    return this.mem.dv[this.rec_seg];
  }

  // ---- the selected node ----

  /** Writes the node's Stat in wire form (68 bytes) at byte `off` of `out` (a reply writer's
   *  view: the read path's; statTo makes a view per call). */
  statToView(out: DataView, off: number): void {
    this.assertReadable();
    check(this.rec_off >= 0, 'no node selected');
    copyStat(this.mem.dv[this.rec_seg], this.rec_off, out, off);
  }

  /** Writes the node's Stat in wire form (68 bytes) at out[off]. */
  statTo(out: Uint8Array, off: number): void {
    this.statToView(new DataView(out.buffer, out.byteOffset, out.byteLength), off);
  }

  /** Copies the record's first 68 bytes as stored (node stream): see layout.ts. */
  storedStatTo(out: Uint8Array, off: number): void {
    this.assertReadable();
    check(this.rec_off >= 0, 'no node selected');
    copyBytes(out, off, this.mem.u8[this.rec_seg], this.rec_off, STAT_WIRE_BYTES);
  }

  /** Data length, -1 for null data. */
  dataLength(): number {
    return this.dv().getInt32(this.rec_off + REC_DATA_LENGTH);
  }

  /** Copies the data to out[off]; returns the bytes copied (0 for null or empty data). */
  copyData(out: Uint8Array, off: number): number {
    this.assertReadable();
    const len = this.dataLength();
    if (len <= 0) return 0;
    const addr = this.dv().getUint32(this.rec_off + REC_DATA_ADDR);
    if (addr === 0) copyBytes(out, off, this.mem.u8[this.rec_seg], this.rec_off + RECORD_BYTES, len);
    else copyBytes(out, off, this.mem.u8[this.mem.segOf(addr)], this.mem.offOf(addr), len);
    return len;
  }

  /**
   * copyData into local memory (not a SharedArrayBuffer) that has room past the data: up to
   * SKEW_BYTES_MAX bytes there are used as scratch (their contents are lost) so that the copy runs
   * at word speed whatever `off` is (src/memory/shared_copy.ts). Returns the bytes copied.
   */
  copyDataToLocal(out: Uint8Array, off: number): number {
    this.assertReadable();
    const len = this.dataLength();
    if (len <= 0) return 0;
    const addr = this.dv().getUint32(this.rec_off + REC_DATA_ADDR);
    if (addr === 0) copyFromShared(out, off, this.mem.u8[this.rec_seg], this.rec_off + RECORD_BYTES, len);
    else copyFromShared(out, off, this.mem.u8[this.mem.segOf(addr)], this.mem.offOf(addr), len);
    return len;
  }

  version(): number {
    return this.dv().getInt32(this.rec_off + REC_VERSION);
  }

  /** cversion as ZooKeeper stores it (creates); Stat shows cversion * 2 - numChildren. */
  storedCversion(): number {
    return this.dv().getInt32(this.rec_off + REC_CVERSION);
  }

  aversion(): number {
    return this.dv().getInt32(this.rec_off + REC_AVERSION);
  }

  numChildren(): number {
    return this.dv().getInt32(this.rec_off + REC_NUM_CHILDREN);
  }

  czxid(): number {
    return getI64(this.dv(), this.rec_off + REC_CZXID);
  }

  mzxid(): number {
    return getI64(this.dv(), this.rec_off + REC_MZXID);
  }

  pzxid(): number {
    return getI64(this.dv(), this.rec_off + REC_PZXID);
  }

  ctime(): number {
    return getI64(this.dv(), this.rec_off + REC_CTIME);
  }

  mtime(): number {
    return getI64(this.dv(), this.rec_off + REC_MTIME);
  }

  ownerHi(): number {
    return this.dv().getInt32(this.rec_off + REC_OWNER);
  }

  ownerLo(): number {
    return this.dv().getInt32(this.rec_off + REC_OWNER + 4);
  }

  /** The stored ephemeralOwner (a session, or a container / TTL marker); 0n makes no BigInt. */
  ephemeralOwner(): bigint {
    if (this.ownerHi() === 0 && this.ownerLo() === 0) return 0n;
    return this.dv().getBigInt64(this.rec_off + REC_OWNER);
  }

  /** OWNER_PERSISTENT / OWNER_EPHEMERAL / OWNER_CONTAINER / OWNER_TTL (record.ts). */
  ownerKind(): number {
    return ownerKindOf(this.ownerHi(), this.ownerLo());
  }

  /** Address of the node's ACL blob: equal addresses + serials mean equal lists. */
  aclAddr(): number {
    return this.dv().getUint32(this.rec_off + REC_ACL_ADDR);
  }

  aclSerial(): number {
    const addr = this.aclAddr();
    return this.mem.dv[this.mem.segOf(addr)].getUint32(this.mem.offOf(addr) + ACL_SERIAL);
  }

  /** Bytes of the ACL list in wire form (vector<ACL>). */
  aclWireLength(): number {
    const addr = this.aclAddr();
    return this.mem.dv[this.mem.segOf(addr)].getUint32(this.mem.offOf(addr) + ACL_LENGTH);
  }

  /** Copies the ACL list in wire form to out[off]; returns its length. */
  copyAcl(out: Uint8Array, off: number): number {
    this.assertReadable();
    const addr = this.aclAddr();
    const len = this.aclWireLength();
    copyBytes(out, off, this.mem.u8[this.mem.segOf(addr)], this.mem.offOf(addr) + ACL_WIRE, len);
    return len;
  }

  /** Allocates: the ACL list as objects (for caches keyed by aclAddr + aclSerial). */
  acl(): ACL[] {
    this.assertReadable();
    const addr = this.aclAddr();
    return decodeAclWire(this.mem.u8[this.mem.segOf(addr)], this.mem.offOf(addr) + ACL_WIRE, this.aclWireLength());
  }

  /** Allocates: the data (null for null data). */
  data(): Uint8Array | null {
    const len = this.dataLength();
    if (len < 0) return null;
    const out = new Uint8Array(len);
    this.copyData(out, 0);
    return out;
  }

  /** Allocates: the client-visible Stat. */
  stat(): Stat {
    // Field by field, not through readStoredStat: one object per call, not two.
    const ephemeral = this.ownerKind() === OWNER_EPHEMERAL;
    const num_children = this.numChildren();
    return {
      czxid: this.czxid(),
      mzxid: this.mzxid(),
      ctime: this.ctime(),
      mtime: this.mtime(),
      version: this.version(),
      cversion: (this.storedCversion() * 2 - num_children) | 0,
      aversion: this.aversion(),
      ephemeralOwner: ephemeral ? this.ephemeralOwner() : 0n,
      dataLength: Math.max(0, this.dataLength()),
      numChildren: num_children,
      pzxid: this.pzxid(),
    };
  }

  /** Allocates: the stored fields (cversion as stored, the raw owner). */
  storedStat(): StoredStat {
    return readStoredStat(this.dv(), this.rec_off);
  }

  // ---- scans ----

  private setPrefix(buf: Uint8Array, off: number, len: number): void {
    if (len + 1 > this.prefix.length) this.prefix = new Uint8Array(2 * (len + 1));
    copyBytes(this.prefix, 0, buf, off, len);
  }

  /**
   * Starts iterating the children of the node at buf[off, off + len), in byte order of their
   * names. False when there is no such node. Then nextChild() until false.
   */
  openChildren(buf: Uint8Array, off: number, len: number): boolean {
    this.scan = SCAN_NONE;
    if (!this.find(buf, off, len)) return false;
    this.setPrefix(buf, off, len);
    this.key2.setChildrenPrefix(this.prefix, 0, len);
    this.prefix_len = this.key2.len;
    this.scan_skip_equal = len === 1;
    // The parent's numChildren says how many keys follow: the scan counts instead of comparing
    // each key with the prefix ("/" first skips its own key, which sorts first in the range).
    this.scan_left = this.numChildren();
    this.cursor.seek(this.znode_root, this.key2, BEFORE_LT);
    if (len === 1 && this.cursor.valid) this.cursor.next();
    this.scan = SCAN_CHILDREN;
    this.scan_started = false;
    return true;
  }

  /** Children not yet returned by nextChild (SCAN_CHILDREN). */
  private scan_left = 0;

  /** openChildren() for a path string. */
  openChildrenPath(path: string): boolean {
    const n = this.encodePath(path);
    return this.openChildren(this.path_buf, 0, n);
  }

  /**
   * Advances to the next child; its name is then available (childNameLength/copyChildName)
   * until the next call of any lookup or scan method.
   */
  nextChild(): boolean {
    if (this.scan !== SCAN_CHILDREN) return false;
    this.assertReadable();
    const c = this.cursor;
    if (this.scan_started) c.next();
    this.scan_started = true;
    if (this.scan_left === 0 || !c.valid) {
      this.scan = SCAN_NONE;
      return false;
    }
    this.scan_left--;
    this.acc.entryKey(c.seg, c.entry);
    return true;
  }

  /** Moves the cursor to the next entry within the scan's prefix (first call: the first). */
  private advance(): boolean {
    this.assertReadable();
    const c = this.cursor;
    if (this.scan_started) c.next();
    this.scan_started = true;
    for (; c.valid; c.next()) {
      const cmp = this.acc.compareEntry(this.key2, c.seg, c.entry);
      if (cmp === CMP_EQUAL && this.scan_skip_equal) continue;
      if (cmp !== CMP_PREFIX && cmp !== CMP_EQUAL) break;
      this.acc.entryKey(c.seg, c.entry);
      return true;
    }
    this.scan = SCAN_NONE;
    return false;
  }

  /** Length of the current child's name (bytes). */
  childNameLength(): number {
    return this.acc.key_len - this.prefix_len;
  }

  /** Copies the current child's name to out[off]; returns its length. */
  copyChildName(out: Uint8Array, off: number): number {
    const n = this.acc.key_len - this.prefix_len;
    copyBytes(out, off, this.acc.key_u8, this.acc.key_off + this.prefix_len, n);
    return n;
  }

  /** Allocates: the current child's name as a string. */
  childName(): string {
    return Buffer.from(this.acc.key_u8.buffer, this.acc.key_u8.byteOffset + this.acc.key_off + this.prefix_len, this.childNameLength()).toString('utf8');
  }

  /** Allocates: the children names of a path, in byte order (null when there is no node). */
  children(path: string): string[] | null {
    if (!this.openChildrenPath(path)) return null;
    const names: string[] = [];
    while (this.nextChild()) names.push(this.childName());
    return names;
  }

  /**
   * Starts iterating the owner index over keys starting with prefix[0, len): 8 bytes of owner
   * (a session's ephemerals, or the containers), or 1 byte 0xFF (TTL nodes). Paths come in
   * byte order per owner. Then nextOwned() until false.
   */
  openOwned(prefix: Uint8Array, off: number, len: number): void {
    if (!(len >= 1 && len <= OWNER_KEY_BYTES)) fail(`owner prefix of ${len} bytes`);
    this.setPrefix(prefix, off, len);
    this.key2.setRaw(this.prefix, 0, len);
    this.prefix_len = OWNER_KEY_BYTES;
    this.scan_skip_equal = false;
    this.cursor.seek(this.owner_root, this.key2, BEFORE_LT);
    this.scan = SCAN_OWNED;
    this.scan_started = false;
  }

  /** openOwned() for one owner. */
  openOwner(owner_hi: number, owner_lo: number): void {
    const b = this.path_buf;
    for (let i = 0; i < 4; i++) {
      b[i] = (owner_hi >>> (24 - 8 * i)) & 0xff;
      b[4 + i] = (owner_lo >>> (24 - 8 * i)) & 0xff;
    }
    this.openOwned(b, 0, OWNER_KEY_BYTES);
  }

  nextOwned(): boolean {
    return this.scan === SCAN_OWNED && this.advance();
  }

  /** Owner of the current owner-index entry (high / low int32). */
  ownedOwnerHi(): number {
    const k = this.acc.key_u8;
    const o = this.acc.key_off;
    return (k[o] << 24) | (k[o + 1] << 16) | (k[o + 2] << 8) | k[o + 3];
  }

  ownedOwnerLo(): number {
    const k = this.acc.key_u8;
    const o = this.acc.key_off + 4;
    return (k[o] << 24) | (k[o + 1] << 16) | (k[o + 2] << 8) | k[o + 3];
  }

  ownedPathLength(): number {
    return this.acc.key_len - OWNER_KEY_BYTES;
  }

  copyOwnedPath(out: Uint8Array, off: number): number {
    const n = this.ownedPathLength();
    copyBytes(out, off, this.acc.key_u8, this.acc.key_off + OWNER_KEY_BYTES, n);
    return n;
  }

  /** Allocates: the paths owned by `owner`, in byte order. */
  ownedPaths(owner: bigint): string[] {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, owner);
    this.openOwned(b, 0, 8);
    const paths: string[] = [];
    while (this.nextOwned()) {
      paths.push(Buffer.from(this.acc.key_u8.buffer, this.acc.key_u8.byteOffset + this.acc.key_off + OWNER_KEY_BYTES, this.ownedPathLength()).toString('utf8'));
    }
    return paths;
  }

  /** Number of owner-index keys starting with prefix[0, len) (O(log n)). */
  countOwned(prefix: Uint8Array, off: number, len: number): number {
    this.assertReadable();
    this.key2.setRaw(prefix, off, len);
    return this.acc.countPrefix(this.owner_root, this.key2);
  }

  /** Starts iterating every node in key order (each parent before its children). */
  openAll(): void {
    this.assertReadable();
    this.cursor.first(this.znode_root);
    this.scan = SCAN_ALL;
    this.scan_started = false;
  }

  /** Advances to the next node and selects it (its stat/data/acl accessors, nodePath). */
  nextNode(): boolean {
    if (this.scan !== SCAN_ALL) return false;
    this.assertReadable();
    const c = this.cursor;
    if (this.scan_started) c.next();
    this.scan_started = true;
    if (!c.valid) {
      this.scan = SCAN_NONE;
      return false;
    }
    this.acc.entryKey(c.seg, c.entry);
    this.selectEntry(c.seg, c.entry);
    return true;
  }

  /** Length of the current node's path (= its key's length). */
  nodePathLength(): number {
    return this.acc.key_len;
  }

  /** Copies the current node's path (its key with 0x00 read as '/'); returns its length. */
  copyNodePath(out: Uint8Array, off: number): number {
    const n = this.acc.key_len;
    copyBytes(out, off, this.acc.key_u8, this.acc.key_off, n);
    for (let i = 0; i < n; i++) if (out[off + i] === 0) out[off + i] = SLASH;
    return n;
  }

  // ---- counts ----

  /** Nodes in the tree, "/" included (O(1) for readers: from the root descriptor). */
  nodeCount(): number {
    this.assertReadable();
    return this.acc.total(this.znode_root);
  }

  /**
   * getAllChildrenNumber: descendants of the node at buf[off, off + len) at any depth (0 when
   * there is no node). Two rank differences: keys starting with P 00 (children) and P '/'.
   */
  countDescendants(buf: Uint8Array, off: number, len: number): number {
    if (!this.find(buf, off, len)) return 0;
    if (len === 1) return this.acc.total(this.znode_root) - 1;
    this.setPrefix(buf, off, len);
    this.key2.setChildrenPrefix(this.prefix, 0, len);
    const children = this.acc.countPrefix(this.znode_root, this.key2);
    this.key2.setDeepPrefix(this.prefix, 0, len);
    return children + this.acc.countPrefix(this.znode_root, this.key2);
  }

  /**
   * Nodes and data bytes of the subtree at `path`, the node itself included (a quota's usage:
   * DataTree.getCounts); null when there is no node. One pass over the two key ranges holding
   * the descendants (P 00 children, P '/' deeper), no lookup per node. Leaves no node selected.
   */
  subtreeUsage(path: string): { count: number; bytes: number } | null {
    const n = this.encodePath(path);
    if (!this.find(this.path_buf, 0, n)) return null;
    const usage = { count: 1, bytes: Math.max(0, this.dataLength()) };
    const c = this.cursor;
    if (n === 1) {
      // The root's subtree is the whole tree; the root's own key sorts first.
      for (c.first(this.znode_root), c.next(); c.valid; c.next()) this.addUsage(usage, c.seg, c.entry);
    } else {
      this.setPrefix(this.path_buf, 0, n);
      for (let range = 0; range < 2; range++) {
        if (range === 0) this.key2.setChildrenPrefix(this.prefix, 0, n);
        else this.key2.setDeepPrefix(this.prefix, 0, n);
        for (c.seek(this.znode_root, this.key2, BEFORE_LT); c.valid; c.next()) {
          if (this.acc.compareEntry(this.key2, c.seg, c.entry) !== CMP_PREFIX) break;
          this.addUsage(usage, c.seg, c.entry);
        }
      }
    }
    this.scan = SCAN_NONE;
    this.rec_off = -1;
    return usage;
  }

  /** Adds the node at entry e of segment seg to `usage`. */
  private addUsage(usage: { count: number; bytes: number }, seg: number, e: number): void {
    this.selectEntry(seg, e);
    usage.count++;
    usage.bytes += Math.max(0, this.dataLength());
  }

  countDescendantsPath(path: string): number {
    const n = this.encodePath(path);
    return this.countDescendants(this.path_buf, 0, n);
  }
}
