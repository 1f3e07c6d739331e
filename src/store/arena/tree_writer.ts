// The Applier's handle on the shared tree (the commit worker is its only user): batches of
// changes on the newest root, each committed as a new generation, and reclamation of what the
// batches replaced. Layouts and the publication protocol: layout.ts.
//
//   writer.begin();
//   writer.create('/a', data, acl, 0n, zxid, time_ms, parent_cversion); ...
//   writer.commit(last_zxid);           // readers pinning from now on see the batch
//
// Preconditions (a node to create is absent and its parent present, a node to delete has no
// children, ...) are checked before anything changes and throw ArenaInvariantError: prep
// validated the txn, so a violation is a bug upstream, and the batch stays usable. An
// allocation failure (ArenaFullError) in the middle of a change leaves the open batch half
// applied: the writer refuses any further call, while readers keep reading the last published
// root (the replica can go read-only, as it does on a disk fault).

import type { ACL } from '../../protocol/types.js';
import { AclStore } from './acl_store.js';
import { copyBytes, getI64, setI64 } from './bytes.js';
import { BTreeWriter } from './btree_write.js';
import { ARENA_CONFIG_KEYS, type ArenaConfig } from './config.js';
import { Control, readStats, RootInfo, STAT_BYTES_HELD_BACK, STAT_BYTES_IN_USE, STAT_BYTES_RECLAIMED, STAT_BYTES_RETIRED, STAT_BYTES_TOUCHED, STAT_FAILED, STAT_OLDEST_PINNED, STAT_READERS_PINNED, type ArenaStats, type RootDescriptor } from './control.js';
import { ArenaFullError, ArenaInvariantError, check, fail } from './errors.js';
import { genDistance, nextGeneration } from './generation.js';
import { ArenaHeap } from './heap.js';
import { SearchKey } from './key.js';
import {
  dataInline,
  INLINE_DATA_MAX,
  OWNER_KEY_BYTES,
  PAGE_BRANCH,
  PAGE_LEAF,
  PAGE_RUN_HEAD,
  REC_ACL_ADDR,
  REC_AVERSION,
  REC_CTIME,
  REC_CVERSION,
  REC_CZXID,
  REC_DATA_ADDR,
  REC_DATA_LENGTH,
  REC_MTIME,
  REC_MZXID,
  REC_NUM_CHILDREN,
  REC_PZXID,
  REC_VERSION,
  RECORD_BYTES,
  TREE_OWNERS,
  TREE_ZNODES,
} from './layout.js';
import { ArenaMemory, createArenaHandle, type ArenaHandle } from './memory.js';
import { NodeView } from './node_view.js';
import { writeRecord, type StoredStat } from './record.js';
import { RetireQueue } from './retire.js';
import { TreeAccess } from './tree_access.js';
import { walkTree } from './tree_walk.js';

const encoder = new TextEncoder();

/** Stat fields setStat may change (any subset). */
export interface StatUpdate {
  czxid?: number;
  mzxid?: number;
  pzxid?: number;
  ctime?: number;
  mtime?: number;
  version?: number;
  cversion?: number;
  aversion?: number;
}

export class TreeWriter {
  readonly mem: ArenaMemory;
  /** Reads of the newest state, open batch included (what prep validates against). */
  readonly view: NodeView;
  private readonly control: Control;
  readonly heap: ArenaHeap;
  private readonly bt: BTreeWriter;
  private readonly acls: AclStore;
  private readonly retired = new RetireQueue();
  private readonly root_info = new RootInfo();
  private published = 0;
  private batch_open = false;
  private failure: Error | null = null;
  private last_zxid = 0;
  private data_bytes = 0;
  private reclaimed_total = 0;
  private readonly key = new SearchKey();
  private readonly parent_key = new SearchKey();
  private key_buf = new Uint8Array(512);
  private entry_buf = new Uint8Array(512);
  private entry_dv = new DataView(this.entry_buf.buffer);

  /** A writer on a new arena. */
  static create(config: Partial<ArenaConfig> = {}): TreeWriter {
    return new TreeWriter(createArenaHandle(config));
  }

  /** Becomes the arena's only writer and publishes generation 1: an empty tree. */
  constructor(readonly handle: ArenaHandle) {
    this.mem = new ArenaMemory(handle);
    this.control = new Control(handle.control);
    this.control.claimWriter();
    this.heap = new ArenaHeap(this.mem);
    const acc = new TreeAccess(this.mem);
    const release = (addr: number): void => this.release(addr);
    this.bt = new BTreeWriter(this.mem, this.heap, acc, release);
    this.acls = new AclStore(this.mem, this.heap, release);
    this.view = new NodeView(this.mem);
    this.bt.gen = 1;
    this.batch_open = true;
    this.bt.roots[TREE_ZNODES] = this.bt.newPage(PAGE_LEAF, TREE_ZNODES);
    this.bt.roots[TREE_OWNERS] = this.bt.newPage(PAGE_LEAF, TREE_OWNERS);
    this.syncView();
    this.commit(0);
  }

  // ---- batches ----

  get generation(): number {
    return this.published;
  }

  /** Descriptor of the newest published root (the same object each time: copy what you keep). */
  get last_root(): RootDescriptor {
    return this.root_info;
  }

  get in_batch(): boolean {
    return this.batch_open;
  }

  /** Reclaims what no pin reaches any more, then opens a batch; returns its generation. */
  begin(): number {
    this.assertUsable();
    check(!this.batch_open, 'begin: a batch is already open');
    this.reclaim();
    this.bt.gen = nextGeneration(this.published);
    this.batch_open = true;
    return this.bt.gen;
  }

  /**
   * Opens a batch whose tree starts EMPTY, to be filled with a whole new state (a Zab TRUNC or
   * SNAP reload: bulkLoad, then an Applier, all in this one batch). Everything the newest root
   * reaches (pages of both trees, key, data and ACL blobs) is retired into this batch, so readers
   * pinning older roots keep reading them and it is freed once every pin is at least this batch.
   * Invariant: nothing between here and commit() publishes, so a reader sees the old tree or the
   * new one, never a mix. The arena holds both trees until then (and while readers pin the old
   * one): its bound is ARENA_CONFIG_KEYS.segments_max. Commit with { rewind: true } when the new
   * state's zxid may be before the old one's. Returns the batch's generation.
   */
  beginReplace(): number {
    const gen = this.begin();
    try {
      this.retireNewestTree();
      this.bt.roots[TREE_ZNODES] = this.bt.newPage(PAGE_LEAF, TREE_ZNODES);
      this.bt.roots[TREE_OWNERS] = this.bt.newPage(PAGE_LEAF, TREE_OWNERS);
      this.data_bytes = 0;
      this.syncView();
    } catch (e) {
      throw this.fail(e);
    }
    return gen;
  }

  /** Releases (retires: nothing is dirty yet in a fresh batch) all the newest tree reaches. */
  private retireNewestTree(): void {
    const release = (addr: number): void => this.release(addr);
    const acl_refs = new Map<number, number>();
    let last_acl = 0;
    let last_refs = 0;
    const nodes = walkTree(this.view.acc, this.bt.roots[TREE_ZNODES], {
      page: release,
      keyBlob: release,
      leafEntry: (seg, r) => {
        const dv = this.mem.dv[seg];
        const data_addr = dv.getUint32(r + REC_DATA_ADDR);
        if (data_addr !== 0) release(data_addr);
        // Runs of nodes share a list: count them without a Map update per node.
        const acl = dv.getUint32(r + REC_ACL_ADDR);
        if (acl !== last_acl) {
          if (last_refs > 0) acl_refs.set(last_acl, (acl_refs.get(last_acl) ?? 0) + last_refs);
          last_acl = acl;
          last_refs = 0;
        }
        last_refs++;
      },
    });
    if (last_refs > 0) acl_refs.set(last_acl, (acl_refs.get(last_acl) ?? 0) + last_refs);
    if (nodes !== this.root_info.node_count) fail(`beginReplace: walked ${nodes} znodes, the newest root holds ${this.root_info.node_count}`);
    walkTree(this.view.acc, this.bt.roots[TREE_OWNERS], { page: release, keyBlob: release, leafEntry: () => {} });
    // Each node holds one reference to its list: dropping them all releases every list.
    for (const [addr, refs] of acl_refs) {
      if (this.acls.refsOf(addr) !== refs) fail(`beginReplace: ACL ${addr} has ${this.acls.refsOf(addr)} references, ${refs} nodes use it`);
      for (let i = 0; i < refs; i++) this.acls.unref(addr);
    }
    check(this.acls.size === 0, 'beginReplace: ACL lists no node uses');
  }

  /** Publishes the batch as the newest root; returns its generation. */
  commit(last_zxid: number, opts: { rewind?: boolean } = {}): number {
    this.assertUsable();
    check(this.batch_open, 'commit: no open batch');
    // zxids only grow, except when the whole state is replaced by an older one (a Zab TRUNC of
    // txns that recovery had replayed from the log but no quorum ever committed).
    const ok = Number.isSafeInteger(last_zxid) && last_zxid >= 0 && (opts.rewind === true || last_zxid >= this.last_zxid);
    if (!ok) fail(`commit: zxid ${last_zxid} after ${this.last_zxid}`);
    this.heap.pages.commitDirty();
    const info = this.root_info;
    info.gen = this.bt.gen;
    info.znode_root = this.bt.roots[TREE_ZNODES];
    info.owner_root = this.bt.roots[TREE_OWNERS];
    info.node_count = this.view.acc.total(info.znode_root);
    info.last_zxid = last_zxid;
    info.data_bytes = this.data_bytes;
    this.control.publish(info);
    this.published = info.gen;
    this.last_zxid = last_zxid;
    this.batch_open = false;
    this.reclaim();
    return info.gen;
  }

  /**
   * Frees everything retired at a generation no pin can reach (<= the oldest pinned one, or
   * the published one when nothing is pinned) and refreshes the stats. Returns bytes freed.
   */
  reclaim(): number {
    const { oldest, pinned } = this.control.oldestPinned(this.published);
    const freed = this.retired.reclaim(oldest, (addr) => this.heap.free(addr));
    this.reclaimed_total += freed;
    const s = this.control.stats;
    s[STAT_BYTES_IN_USE] = this.heap.bytes_in_use;
    s[STAT_BYTES_RETIRED] = this.retired.pending_bytes;
    // Outside a batch everything still retired is kept only by pins.
    s[STAT_BYTES_HELD_BACK] = this.batch_open ? 0 : this.retired.pending_bytes;
    s[STAT_OLDEST_PINNED] = pinned === 0 ? -1 : oldest >>> 0;
    s[STAT_BYTES_TOUCHED] = this.heap.bytes_touched;
    s[STAT_BYTES_RECLAIMED] = this.reclaimed_total;
    s[STAT_READERS_PINNED] = pinned;
    return freed;
  }

  stats(): ArenaStats {
    return readStats(this.control, this.mem.capacity_bytes);
  }

  /** Memory the newest tree no longer refers to: freed now if never published, else retired. */
  private release(addr: number): void {
    const page = this.mem.pageOf(addr);
    const kind = this.heap.pages.kindOf(page);
    const whole_page = kind === PAGE_LEAF || kind === PAGE_BRANCH || kind === PAGE_RUN_HEAD;
    if (whole_page && this.heap.pages.isDirty(page)) {
      this.heap.free(addr);
      return;
    }
    this.retired.push(this.bt.gen, addr, this.heap.bytesOf(addr));
  }

  private assertUsable(): void {
    if (this.failure !== null) throw new ArenaInvariantError(`tree writer failed earlier: ${this.failure.message}`);
  }

  private assertInBatch(): void {
    this.assertUsable();
    check(this.batch_open, 'change outside a batch (call begin() first)');
  }

  /** Marks the writer failed (a change was interrupted); returns the error to throw. */
  private fail(e: unknown): Error {
    const error = e instanceof Error ? e : new Error(String(e));
    if (error instanceof ArenaFullError) {
      const { oldest, pinned } = this.control.oldestPinned(this.published);
      error.message +=
        `; ${this.retired.pending_bytes} bytes retired await reclamation` +
        (pinned > 0 ? `, oldest pinned generation ${oldest >>> 0} is ${genDistance(oldest, this.published)} generations old` : '');
    }
    this.failure = error;
    this.control.stats[STAT_FAILED] = 1;
    return error;
  }

  /**
   * The open batch cannot be completed (a reload failed half way): every later call throws, so
   * it is never published; readers keep the last published root.
   */
  abandon(reason: string): void {
    if (this.failure === null) this.fail(new ArenaInvariantError(reason));
  }

  /** Releases the writer role (the arena stays readable). */
  close(): void {
    this.control.releaseWriter();
  }

  // ---- keys ----

  /** Encodes `path` into key_buf; sets key (and parent_key unless the path is "/"). */
  private setKeys(path: string): number {
    if (path.length * 3 > this.key_buf.length) this.key_buf = new Uint8Array(path.length * 3 + 16);
    const n = encoder.encodeInto(path, this.key_buf).written;
    this.assertBlobFits(n + OWNER_KEY_BYTES, 'a path');
    if (!(n > 0 && this.key_buf[0] === 0x2f)) fail(`not an absolute path: ${JSON.stringify(path)}`);
    if (!this.key.setPath(this.key_buf, 0, n)) fail(`no '/' in ${JSON.stringify(path)}`);
    const slash = this.key.patch_at;
    if (n > 1) this.parent_key.setPath(this.key_buf, 0, slash === 0 ? 1 : slash);
    return n;
  }

  /**
   * A blob (data or an overflow key) must fit in one segment: refused before anything changes,
   * naming the bound (the server must keep jute.maxbuffer below it), so the writer stays usable.
   */
  private assertBlobFits(bytes: number, what: string): void {
    if (bytes > this.mem.config.segment_bytes) {
      throw new ArenaFullError(`${what} of ${bytes} bytes does not fit in a segment of ${this.mem.config.segment_bytes} bytes (${ARENA_CONFIG_KEYS.segment_bytes})`);
    }
  }

  private ensureEntryRoom(bytes: number): void {
    if (bytes <= this.entry_buf.length) return;
    this.entry_buf = new Uint8Array(bytes * 2);
    this.entry_dv = new DataView(this.entry_buf.buffer);
  }

  /** The owner-index key (owner + path) in entry_buf[0, 8 + n); n = path bytes in key_buf. */
  private ownerKey(owner: bigint, n: number): SearchKey {
    this.ensureEntryRoom(2 * (OWNER_KEY_BYTES + n) + 16);
    const at = OWNER_KEY_BYTES + n + 16; // key bytes after the room for the entry itself
    this.entry_dv.setBigInt64(at, owner);
    copyBytes(this.entry_buf, at + OWNER_KEY_BYTES, this.key_buf, 0, n);
    return new SearchKey().setRaw(this.entry_buf, at, OWNER_KEY_BYTES + n);
  }

  private syncView(): void {
    this.view.znode_root = this.bt.roots[TREE_ZNODES];
    this.view.owner_root = this.bt.roots[TREE_OWNERS];
  }

  // ---- changes ----

  /**
   * Creates a node (DataTree.createNode): all zxids = zxid, both times = time_ms, versions 0.
   * Its parent gets numChildren + 1, cversion = parent_cversion, pzxid = zxid. "/" may only be
   * created in an empty tree (parent_cversion is then ignored). Leaves `view` selected on the
   * parent (for "/": as it was).
   */
  create(path: string, data: Uint8Array | null, acl: readonly ACL[], owner: bigint, zxid: number, time_ms: number, parent_cversion: number): void {
    this.createNode(path, data, acl, owner, zxid, time_ms, parent_cversion, true);
  }

  /**
   * create() for a txn replayed from the log at start, without the two lookups that make a
   * broken invariant fail before anything changes (the node absent, its parent present): the
   * insert and the parent's update find both anyway, but then fail the writer (unusable), which
   * at start stops the recovery all the same. Two B+tree descents of four per replayed create.
   */
  createReplayed(path: string, data: Uint8Array | null, acl: readonly ACL[], owner: bigint, zxid: number, time_ms: number, parent_cversion: number): void {
    this.createNode(path, data, acl, owner, zxid, time_ms, parent_cversion, false);
  }

  private createNode(path: string, data: Uint8Array | null, acl: readonly ACL[], owner: bigint, zxid: number, time_ms: number, parent_cversion: number, look_first: boolean): void {
    this.assertInBatch();
    if (data !== null) this.assertBlobFits(data.length, 'data');
    const n = this.setKeys(path);
    this.syncView();
    if (n === 1) {
      check(this.view.nodeCount() === 0, 'create of / in a non-empty tree');
    } else if (look_first) {
      if (this.view.find(this.key_buf, 0, n)) fail(`create of existing ${path}`);
      if (!this.view.find(this.key_buf, 0, this.parent_key.len)) fail(`create of ${path}: no parent`);
    }
    try {
      const stat: StoredStat = {
        czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: time_ms, mtime: time_ms,
        version: 0, cversion: 0, aversion: 0, ephemeralOwner: owner, numChildren: 0,
      };
      this.insertNode(n, stat, data, this.acls.intern(acl));
      // The parent after the insert, which may have split its page: its record stays where
      // updateParent found it (the owner index is another tree), for the view to select.
      const parent_r = n > 1 ? this.updateParent(zxid, +1, parent_cversion) : -1;
      const parent_seg = this.bt.leaf_seg;
      if (owner !== 0n) this.insertOwned(owner, n);
      this.data_bytes += path.length + (data === null ? 0 : data.length);
      this.syncView();
      if (parent_r >= 0) this.view.selectRecord(parent_seg, parent_r);
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** Inserts the node keyed by key (key_buf[0, n)) with its record (and its data, inline or in a blob). */
  private insertNode(n: number, stat: StoredStat, data: Uint8Array | null, acl_addr: number): void {
    const len = data === null ? 0 : data.length;
    const inline = dataInline(this.bt.keyPartBytesFor(n), len, this.bt.inline_max);
    const data_addr = inline ? 0 : this.storeData(data);
    this.ensureEntryRoom(n + RECORD_BYTES + INLINE_DATA_MAX + 16);
    const kp = this.bt.writeKeyPart(this.entry_buf, 0, this.key_buf, 0, n, this.key.patch_at, 0);
    writeRecord(this.entry_dv, kp, stat, data === null ? -1 : len, data_addr, acl_addr);
    if (inline) copyBytes(this.entry_buf, kp + RECORD_BYTES, data!, 0, len);
    check(this.bt.insert(TREE_ZNODES, this.key, this.entry_buf, 0, kp + RECORD_BYTES + (inline ? len : 0)), 'insert of an existing key');
  }

  private storeData(data: Uint8Array | null): number {
    if (data === null || data.length === 0) return 0;
    const addr = this.heap.allocBlob(data.length);
    copyBytes(this.mem.u8[this.mem.segOf(addr)], this.mem.offOf(addr), data, 0, data.length);
    return addr;
  }

  private insertOwned(owner: bigint, n: number): void {
    const k = this.ownerKey(owner, n);
    const kp = this.bt.writeKeyPart(this.entry_buf, 0, k.buf, k.off, k.len);
    check(this.bt.insert(TREE_OWNERS, k, this.entry_buf, 0, kp), 'owner index already holds the node');
  }

  /**
   * numChildren += delta on the parent; pzxid = zxid (create) or max(pzxid, zxid) (delete).
   * Returns the parent record's offset in segment this.bt.leaf_seg.
   */
  private updateParent(zxid: number, delta: number, cversion: number): number {
    const r = this.bt.locateForUpdate(TREE_ZNODES, this.parent_key);
    check(r >= 0, 'parent vanished');
    const dv = this.mem.dv[this.bt.leaf_seg];
    dv.setInt32(r + REC_NUM_CHILDREN, dv.getInt32(r + REC_NUM_CHILDREN) + delta);
    if (delta > 0) {
      dv.setInt32(r + REC_CVERSION, cversion);
      setI64(dv, r + REC_PZXID, zxid);
    } else if (zxid > getI64(dv, r + REC_PZXID)) {
      setI64(dv, r + REC_PZXID, zxid);
    }
    return r;
  }

  /**
   * Deletes a leaf node (DataTree.deleteNode): the parent's pzxid moves forward, cversion stays.
   * Leaves `view` selected on the parent.
   */
  delete(path: string, zxid: number): void {
    this.assertInBatch();
    const n = this.setKeys(path);
    this.syncView();
    check(n > 1, 'delete of /');
    if (!this.view.find(this.key_buf, 0, n)) fail(`delete of missing ${path}`);
    if (this.view.numChildren() !== 0) fail(`delete of non-empty ${path}`);
    const owner = this.view.ephemeralOwner();
    const data_length = Math.max(0, this.view.dataLength());
    try {
      this.bt.remove(TREE_ZNODES, this.key, (seg, r) => {
        const dv = this.mem.dv[seg];
        const data_addr = dv.getUint32(r + REC_DATA_ADDR);
        if (data_addr !== 0) this.release(data_addr);
        this.acls.unref(dv.getUint32(r + REC_ACL_ADDR));
      });
      const parent_r = this.updateParent(zxid, -1, 0);
      const parent_seg = this.bt.leaf_seg;
      if (owner !== 0n && !this.bt.remove(TREE_OWNERS, this.ownerKey(owner, n))) fail(`owner index lacks ${path}`);
      this.data_bytes -= path.length + data_length;
      this.syncView();
      this.view.selectRecord(parent_seg, parent_r);
    } catch (e) {
      throw this.fail(e);
    }
  }

  /**
   * Locates the node for an in-place update (one descent, copying the path): returns the
   * record's offset in segment this.loc_dv. A missing node throws before anything semantic
   * changed (the descent only copied unchanged pages), so the batch stays usable.
   */
  private locate(path: string): number {
    this.setKeys(path);
    let r: number;
    try {
      r = this.bt.locateForUpdate(TREE_ZNODES, this.key);
    } catch (e) {
      throw this.fail(e);
    }
    this.syncView();
    if (r < 0) fail(`no node ${path}`);
    this.loc_seg = this.bt.leaf_seg;
    this.loc_dv = this.mem.dv[this.loc_seg];
    return r;
  }

  private loc_seg = 0;
  private loc_dv: DataView = new DataView(new ArrayBuffer(8));

  /** setData: new data, version (the txn's), mzxid and mtime. Leaves `view` selected on the node. */
  setData(path: string, data: Uint8Array | null, version: number, zxid: number, time_ms: number): void {
    this.assertInBatch();
    if (data !== null) this.assertBlobFits(data.length, 'data');
    const r = this.locate(path);
    const dv = this.loc_dv;
    try {
      const old_len = Math.max(0, dv.getInt32(r + REC_DATA_LENGTH));
      const old_addr = dv.getUint32(r + REC_DATA_ADDR);
      const old_inline = old_len > 0 && old_addr === 0;
      const len = data === null ? 0 : data.length;
      const inline = dataInline(this.bt.keyPartBytesFor(this.key.len), len, this.bt.inline_max);
      this.data_bytes += len - old_len;
      // The entry changes size: rebuilt. Otherwise the record is changed in place.
      if (old_inline !== inline || (inline && old_len !== len)) {
        this.rebuildWithData(r, data, inline, version, zxid, time_ms);
        return;
      }
      if (inline) copyBytes(this.mem.u8[this.loc_seg], r + RECORD_BYTES, data!, 0, len);
      else {
        const addr = this.storeData(data);
        // storeData may not move the leaf (only the writer's B+tree code moves pages).
        dv.setInt32(r + REC_DATA_LENGTH, data === null ? -1 : len);
        dv.setUint32(r + REC_DATA_ADDR, addr);
        if (old_addr !== 0) this.release(old_addr);
      }
      dv.setInt32(r + REC_VERSION, version);
      setI64(dv, r + REC_MZXID, zxid);
      setI64(dv, r + REC_MTIME, time_ms);
      this.syncView();
      this.view.selectRecord(this.loc_seg, r);
    } catch (e) {
      throw this.fail(e);
    }
  }

  /**
   * setData whose entry changes size (data moving into or out of the entry, or inline data of
   * another length), at record r located for update: the entry is removed and inserted again
   * (the leaf may split or merge; the record's other fields and its ACL stay). Leaves `view`
   * selected on the node.
   */
  private rebuildWithData(r: number, data: Uint8Array | null, inline: boolean, version: number, zxid: number, time_ms: number): void {
    const len = data === null ? 0 : data.length;
    const n = this.key.len;
    this.ensureEntryRoom(n + RECORD_BYTES + INLINE_DATA_MAX + 16);
    // The new entry: the old record, its data fields changed (the key part comes last: an
    // overflow key gets a new blob, and the removal below releases the old one).
    const kp = this.bt.keyPartBytesFor(n);
    copyBytes(this.entry_buf, kp, this.mem.u8[this.loc_seg], r, RECORD_BYTES);
    const e = this.entry_dv;
    const old_addr = e.getUint32(kp + REC_DATA_ADDR);
    const addr = inline ? 0 : this.storeData(data);
    e.setInt32(kp + REC_DATA_LENGTH, data === null ? -1 : len);
    e.setUint32(kp + REC_DATA_ADDR, addr);
    e.setInt32(kp + REC_VERSION, version);
    setI64(e, kp + REC_MZXID, zxid);
    setI64(e, kp + REC_MTIME, time_ms);
    if (inline) copyBytes(this.entry_buf, kp + RECORD_BYTES, data!, 0, len);
    check(this.bt.remove(TREE_ZNODES, this.key), 'setData: the node vanished');
    if (old_addr !== 0) this.release(old_addr);
    check(this.bt.writeKeyPart(this.entry_buf, 0, this.key_buf, 0, n, this.key.patch_at, 0) === kp, 'setData: key part size');
    check(this.bt.insert(TREE_ZNODES, this.key, this.entry_buf, 0, kp + RECORD_BYTES + (inline ? len : 0)), 'setData: the node is back');
    this.syncView();
    check(this.view.find(this.key_buf, 0, n), 'setData: the node is gone');
  }

  /** setACL: new ACL list and aversion (the txn's). Leaves `view` selected on the node. */
  setACL(path: string, acl: readonly ACL[], aversion: number): void {
    this.assertInBatch();
    const r = this.locate(path);
    const dv = this.loc_dv;
    try {
      const addr = this.acls.intern(acl);
      this.acls.unref(dv.getUint32(r + REC_ACL_ADDR));
      dv.setUint32(r + REC_ACL_ADDR, addr);
      dv.setInt32(r + REC_AVERSION, aversion);
      this.syncView();
      this.view.selectRecord(this.loc_seg, r);
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** Sets any of the node's stat fields (numChildren and the owner are derived, not settable). */
  setStat(path: string, update: StatUpdate): void {
    this.assertInBatch();
    const r = this.locate(path);
    const dv = this.loc_dv;
    try {
      if (update.czxid !== undefined) setI64(dv, r + REC_CZXID, update.czxid);
      if (update.mzxid !== undefined) setI64(dv, r + REC_MZXID, update.mzxid);
      if (update.pzxid !== undefined) setI64(dv, r + REC_PZXID, update.pzxid);
      if (update.ctime !== undefined) setI64(dv, r + REC_CTIME, update.ctime);
      if (update.mtime !== undefined) setI64(dv, r + REC_MTIME, update.mtime);
      if (update.version !== undefined) dv.setInt32(r + REC_VERSION, update.version);
      if (update.cversion !== undefined) dv.setInt32(r + REC_CVERSION, update.cversion);
      if (update.aversion !== undefined) dv.setInt32(r + REC_AVERSION, update.aversion);
      this.syncView();
    } catch (e) {
      throw this.fail(e);
    }
  }

  /** Approximate data size of the newest tree (path lengths + data bytes, as mntr reports). */
  get approximate_data_bytes(): number {
    return this.data_bytes;
  }

  /** Distinct ACL lists in the newest tree. */
  get acl_lists(): number {
    return this.acls.size;
  }

  /** Loader hook (bulk_load.ts): the internals it builds pages with. */
  loaderAccess(): { bt: BTreeWriter; acls: AclStore; addDataBytes: (n: number) => void; syncView: () => void } {
    this.assertInBatch();
    return {
      bt: this.bt,
      acls: this.acls,
      addDataBytes: (n) => {
        this.data_bytes += n;
      },
      syncView: () => this.syncView(),
    };
  }
}

/** The nodes a fresh ZooKeeper has (DataTree's constructor): /, /zookeeper, quota, config. */
export function createSystemNodes(writer: TreeWriter): void {
  const world = { scheme: 'world', id: 'anyone' };
  const open: ACL[] = [{ perms: 31, id: world }];
  const read: ACL[] = [{ perms: 1, id: world }];
  const empty = new Uint8Array(0);
  writer.create('/', empty, open, 0n, 0, 0, 0);
  writer.create('/zookeeper', empty, open, 0n, 0, 0, 0);
  writer.create('/zookeeper/quota', empty, open, 0n, 0, 0, 0);
  writer.create('/zookeeper/config', empty, read, 0n, 0, 0, 0);
  // ZooKeeper installs the config ACL with setACL(path, acl, -1), which stores aversion -1.
  writer.setStat('/zookeeper/config', { aversion: -1 });
}
