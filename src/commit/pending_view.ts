// The tree prep validates against: the shared tree's newest committed state (the Applier's
// NodeView) plus the effects of every txn prepped but not yet applied there. Apache ZooKeeper's
// PrepRequestProcessor does the same with `outstandingChanges` over its committed DataTree.
//
// Invariants (`overlay` holds the pending state of every path a pending txn touched):
// - for a path with a live entry in `overlay`, the entry is the node as the last recorded txn
//   left it (null: deleted); for any other path, the arena shows its latest state (no txn in
//   flight touches it);
// - an entry is retired once the Applier applied every txn up to its `zxid` (the last txn that
//   touched it): the arena then shows exactly the entry, so retiring it changes no answer;
// - `pending_ephemerals` / `pending_containers` / `pending_ttls` hold exactly the live entries'
//   non-null facts of that owner kind (kept by setEntry / retire / clear, the only mutators);
// - `live` counts the live entries; after applied(), retired ones are at most max(live,
//   sweep_min) (sweep).
//
// Why retired entries stay in the map: a Map whose table lives in the old generation gets every
// new table there too (V8 allocates a rehashed table where the old one was), and the table it
// replaces keeps pointing at its keys and values until the next full GC. Deleting every applied
// path rehashed the overlay every few dozen writes, and each dead table kept that moment's young
// entries (paths, facts, ACL lists) alive through scavenges until they were promoted: ~480 KB
// promoted per scavenge at 16 x 1 writes, most of the commit worker's GC pauses. Kept entries
// are reused when their path is written again; the map is rebuilt only when retired ones pile up.
// Nothing here is a request error: record() takes txns prep validated against this very view,
// so a txn that does not fit it is a broken invariant: it throws (leaving the view half
// changed: the commit worker stops, as for any broken invariant).

import type { ACL } from '../protocol/types.js';
import { AclCache } from '../store/arena/acl_cache.js';
import type { NodeView } from '../store/arena/node_view.js';
import { OWNER_TTL, ownerKindOf } from '../store/arena/record.js';
import { CONTAINER_EPHEMERAL_OWNER } from '../protocol/constants.js';
import { parentPath } from '../tree/path_rules.js';
import { reconfigAsSetData, type Txn, type TxnHeader, type TxnOp } from '../tree/txn.js';
import { dataLength, type NodeFacts, ownerKind } from '../tree/znode.js';

/** What prep and the reaper read of a node: NodeFacts plus the mtime the reaper ages TTLs by. */
export interface PendingFacts extends NodeFacts {
  /** Last modification time (ms since the epoch), as ZNode.mtime. */
  readonly mtime: number;
}

interface Entry {
  readonly path: string;
  /** The node after the last recorded txn that touched it; null = deleted (or retired). */
  facts: PendingFacts | null;
  /** zxid of that txn; RETIRED once the arena shows it. */
  zxid: number;
}

/** Entry.zxid of a retired entry: the arena shows the path (any read goes there). */
const RETIRED = -1;
/** Retired entries tolerated before the overlay is rebuilt without them. */
const OVERLAY_SWEEP_MIN = 4096;

/**
 * The entries one recorded txn touched (queued in zxid order for `applied`). An entry object
 * stays the path's entry while it is live (setEntry changes it in place; sweep keeps it), so
 * `applied` needs no lookup: an entry a later txn touched again shows that txn's zxid, and one
 * retired (and perhaps swept out since) shows RETIRED.
 */
interface Touched {
  readonly zxid: number;
  readonly entries: Entry[];
}

/** What an applied queue slot holds until the queue array is compacted. */
const APPLIED: Touched = { zxid: 0, entries: [] };
/** Consumed queue slots tolerated before the queue array is compacted. */
const QUEUE_COMPACT_MIN = 1024;
/** Owner-index prefix of the containers (the 8-byte container owner). */
const CONTAINER_PREFIX = ownerPrefix(CONTAINER_EPHEMERAL_OWNER);
/** Owner-index prefix of the TTL nodes (top byte 0xFF). */
const TTL_PREFIX = new Uint8Array([0xff]);

function ownerPrefix(owner: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, owner);
  return b;
}

/** A message built from values goes here behind an if, so it is built only when the check fails
 *  (these checks run per write; a template string would convert its numbers every time). */
function invariantBroken(message: string): never {
  throw new Error(`pending view invariant: ${message}`);
}

/**
 * Every PendingFacts is made here, so all share one shape: the spreads this replaced made
 * objects of several shapes, and the property loads on them went megamorphic.
 */
function makeFacts(acl: readonly ACL[], version: number, cversion: number, aversion: number, owner: bigint, child_count: number, mtime: number, data_length: number): PendingFacts {
  return { acl, version, cversion, aversion, ephemeralOwner: owner, child_count, mtime, data_length };
}

/** A parent after a child create (+1, the txn's cversion) or delete (-1, cversion unchanged). */
function withChildDelta(f: PendingFacts, delta: number, cversion: number): PendingFacts {
  return makeFacts(f.acl, f.version, cversion, f.aversion, f.ephemeralOwner, f.child_count + delta, f.mtime, f.data_length);
}

export class PendingView {
  private overlay = new Map<string, Entry>();
  /** Live (not retired) entries in `overlay`. */
  private live = 0;
  /** Txns with touched paths, in zxid order; queue[queue_head..] are not yet applied. */
  private queue: Touched[] = [];
  private queue_head = 0;
  private readonly pending_ephemerals = new Map<bigint, Set<string>>();
  private readonly pending_containers = new Set<string>();
  private readonly pending_ttls = new Set<string>();
  private readonly acls = new AclCache();
  /** zxid of the last recorded txn (error and check txns included). */
  private recorded_zxid: number;
  /** Every txn <= this zxid is in the arena. */
  private applied_zxid: number;

  /**
   * `view` reads the newest arena state (TreeWriter.view); the arena holds txns <= `arena_zxid`.
   * `sweep_min`: retired entries tolerated before the overlay is rebuilt (tests sweep often).
   */
  constructor(private readonly view: NodeView, arena_zxid: number, private readonly sweep_min = OVERLAY_SWEEP_MIN) {
    if (!(Number.isSafeInteger(sweep_min) && sweep_min >= 0)) invariantBroken(`overlay sweep minimum ${sweep_min}`);
    if (!(Number.isSafeInteger(arena_zxid) && arena_zxid >= 0)) invariantBroken(`arena zxid ${arena_zxid}`);
    this.recorded_zxid = arena_zxid;
    this.applied_zxid = arena_zxid;
  }

  /** zxid of the last recorded txn, or of the arena when it is ahead (nothing pending). */
  get last_zxid(): number {
    return Math.max(this.recorded_zxid, this.applied_zxid);
  }

  /** Paths with pending state (for stats; 0 when the arena shows everything prepped). */
  get size(): number {
    return this.live;
  }

  /**
   * The overlay's last answer: a write looks its path up two or three times in a row (prep's
   * get, record's get, setEntry). Valid while the map is the same and holds the same entry for
   * `looked_path`: forgotten when an entry is added (setEntry), the map is rebuilt (sweep) or
   * replaced (clear). Retiring an entry changes it in place, which keeps the answer valid.
   */
  private looked_path: string | null = null;
  private looked_entry: Entry | undefined = undefined;

  /** The overlay's entry of `path`, live or retired. */
  private entryOf(path: string): Entry | undefined {
    if (path === this.looked_path) return this.looked_entry;
    const entry = this.overlay.get(path);
    this.looked_path = path;
    this.looked_entry = entry;
    return entry;
  }

  private forgetLooked(): void {
    this.looked_path = null;
    this.looked_entry = undefined;
  }

  /** The live overlay entry of `path`, if any. */
  private liveEntry(path: string): Entry | undefined {
    const entry = this.entryOf(path);
    return entry !== undefined && entry.zxid !== RETIRED ? entry : undefined;
  }

  private isPending(path: string): boolean {
    return this.liveEntry(path) !== undefined;
  }

  // ---- reads ----

  /** The node at `path` with every recorded txn applied; undefined when there is none. */
  get(path: string): PendingFacts | undefined {
    const entry = this.liveEntry(path);
    if (entry !== undefined) return entry.facts ?? undefined;
    return this.fromArena(path);
  }

  /** Paths of the session's ephemerals, sorted as DataTree.ephemerals sorts (UTF-16 order). */
  ephemerals(session_id: bigint): string[] {
    if (ownerKind(session_id) !== 'ephemeral') return [];
    const out = this.view.ownedPaths(session_id).filter((p) => !this.isPending(p));
    const pending = this.pending_ephemerals.get(session_id);
    if (pending !== undefined) out.push(...pending);
    return out.sort();
  }

  /** Paths of the container nodes, sorted (UTF-16 order). */
  containers(): string[] {
    return this.withPending(this.scanOwned(CONTAINER_PREFIX, false), this.pending_containers);
  }

  /** Paths of the TTL nodes, sorted (UTF-16 order). */
  ttls(): string[] {
    return this.withPending(this.scanOwned(TTL_PREFIX, true), this.pending_ttls);
  }

  private withPending(committed: string[], pending: ReadonlySet<string>): string[] {
    const out = committed.filter((p) => !this.isPending(p));
    out.push(...pending);
    return out.sort();
  }

  /** Paths in the arena's owner index under `prefix` (TTL scans keep TTL owners only). */
  private scanOwned(prefix: Uint8Array, ttl_only: boolean): string[] {
    const view = this.view;
    const out: string[] = [];
    let buf = new Uint8Array(256);
    view.openOwned(prefix, 0, prefix.length);
    while (view.nextOwned()) {
      if (ttl_only && ownerKindOf(view.ownedOwnerHi(), view.ownedOwnerLo()) !== OWNER_TTL) continue;
      const n = view.ownedPathLength();
      if (n > buf.length) buf = new Uint8Array(2 * n);
      view.copyOwnedPath(buf, 0);
      out.push(Buffer.from(buf.buffer, buf.byteOffset, n).toString('utf8'));
    }
    return out;
  }

  /**
   * fromArena's last answer: record() asks again for what prep just read (a setData's node, a
   * create's parent). Valid while the arena is unchanged: forgotten when the Applier applies
   * (applied), when the view is cleared, and at the end of each record().
   */
  private arena_path: string | null = null;
  private arena_facts: PendingFacts | undefined = undefined;

  private fromArena(path: string): PendingFacts | undefined {
    if (path === this.arena_path) return this.arena_facts;
    const facts = this.lookUpArena(path);
    this.arena_path = path;
    this.arena_facts = facts;
    return facts;
  }

  private forgetArena(): void {
    this.arena_path = null;
    this.arena_facts = undefined;
  }

  private lookUpArena(path: string): PendingFacts | undefined {
    const view = this.view;
    if (!view.findPath(path)) return undefined;
    // Field by field: a StoredStat would be an object, four boxed numbers and a BigInt per write.
    return makeFacts(this.aclOfSelected(), view.version(), view.storedCversion(), view.aversion(), view.ephemeralOwner(), view.numChildren(), view.mtime(), Math.max(0, view.dataLength()));
  }

  /** The selected node's ACL, decoded once per ACL blob (address + serial, as the Applier). */
  private aclOfSelected(): readonly ACL[] {
    return this.acls.of(this.view);
  }

  // ---- changes ----

  /** Overlays the effects of `txn`, the txn prep made last (zxids strictly increase). */
  record(txn: Txn): void {
    const zxid = txn.header.zxid;
    if (!(Number.isSafeInteger(zxid) && zxid > this.last_zxid)) invariantBroken(`zxid 0x${zxid.toString(16)} after 0x${this.last_zxid.toString(16)}`);
    const touched: Entry[] = [];
    this.recordOp(txn.op, txn.header, touched);
    this.forgetArena();
    this.recorded_zxid = zxid;
    if (touched.length > 0) this.queue.push({ zxid, entries: touched });
  }

  private recordOp(op: TxnOp, header: TxnHeader, touched: Entry[]): void {
    switch (op.kind) {
      case 'create':
        this.create(op, header, touched);
        return;
      case 'delete':
        this.delete(op.path, header.zxid, touched);
        return;
      case 'setData': {
        const f = this.mustGet(op.path);
        this.setEntry(op.path, makeFacts(f.acl, op.version, f.cversion, f.aversion, f.ephemeralOwner, f.child_count, header.time_ms, dataLength(op.data)), header.zxid, touched);
        return;
      }
      case 'reconfig':
        this.recordOp(reconfigAsSetData(op), header, touched);
        return;
      case 'setACL': {
        const f = this.mustGet(op.path);
        this.setEntry(op.path, makeFacts(op.acl, f.version, f.cversion, op.version, f.ephemeralOwner, f.child_count, f.mtime, f.data_length), header.zxid, touched);
        return;
      }
      case 'closeSession':
        // As the Applier: the listed paths still there, then any ephemeral of the session left.
        for (const path of op.paths) if (this.get(path) !== undefined) this.delete(path, header.zxid, touched);
        for (const path of this.ephemerals(header.session_id)) this.delete(path, header.zxid, touched);
        return;
      case 'multi':
        // A multi holding an error op failed: it changes nothing.
        if (op.ops.some((o) => o.kind === 'error')) return;
        for (const o of op.ops) this.recordOp(o, header, touched);
        return;
      case 'check':
      case 'createSession':
      case 'error':
        return;
    }
  }

  private create(op: Extract<TxnOp, { kind: 'create' }>, header: TxnHeader, touched: Entry[]): void {
    if (this.get(op.path) !== undefined) invariantBroken(`create of existing ${op.path}`);
    const parent_path = parentPath(op.path);
    const parent = this.mustGet(parent_path);
    this.setEntry(parent_path, withChildDelta(parent, +1, op.parent_cversion), header.zxid, touched);
    this.setEntry(op.path, makeFacts(op.acl, 0, 0, 0, op.ephemeral_owner, 0, header.time_ms, dataLength(op.data)), header.zxid, touched);
  }

  /** Deletes a leaf; the parent loses a child, its cversion stays (creates only). */
  private delete(path: string, zxid: number, touched: Entry[]): void {
    const node = this.mustGet(path);
    if (node.child_count !== 0) invariantBroken(`delete of non-empty ${path}`);
    const parent_path = parentPath(path);
    const parent = this.mustGet(parent_path);
    this.setEntry(parent_path, withChildDelta(parent, -1, parent.cversion), zxid, touched);
    this.setEntry(path, null, zxid, touched);
  }

  private mustGet(path: string): PendingFacts {
    const facts = this.get(path);
    if (facts === undefined) invariantBroken(`no node ${path}`);
    return facts;
  }

  private setEntry(path: string, facts: PendingFacts | null, zxid: number, touched: Entry[]): void {
    let entry = this.entryOf(path);
    if (entry === undefined) {
      entry = { path, facts, zxid };
      this.overlay.set(path, entry);
      this.forgetLooked();
      this.live++;
    } else {
      if (entry.zxid === RETIRED) this.live++;
      else if (entry.facts !== null) this.indexPending(path, entry.facts.ephemeralOwner, false);
      entry.facts = facts;
      entry.zxid = zxid;
    }
    if (facts !== null) this.indexPending(path, facts.ephemeralOwner, true);
    touched.push(entry);
  }

  /** The arena shows `entry` now: it stops answering (it stays in the map; see the top). */
  private retire(entry: Entry): void {
    if (entry.facts !== null) this.indexPending(entry.path, entry.facts.ephemeralOwner, false);
    entry.facts = null;
    entry.zxid = RETIRED;
    this.live--;
  }

  /** Rebuilds the overlay without its retired entries once they outnumber the live ones. */
  private sweep(): void {
    const retired = this.overlay.size - this.live;
    if (retired < this.sweep_min || retired < this.live) return;
    const kept = new Map<string, Entry>();
    for (const [path, entry] of this.overlay) if (entry.zxid !== RETIRED) kept.set(path, entry);
    if (kept.size !== this.live) invariantBroken(`overlay holds ${kept.size} live entries, counted ${this.live}`);
    this.overlay = kept;
    this.forgetLooked();
  }

  private indexPending(path: string, owner: bigint, add: boolean): void {
    switch (ownerKind(owner)) {
      case 'container':
        if (add) this.pending_containers.add(path);
        else this.pending_containers.delete(path);
        return;
      case 'ttl':
        if (add) this.pending_ttls.add(path);
        else this.pending_ttls.delete(path);
        return;
      case 'ephemeral': {
        let paths = this.pending_ephemerals.get(owner);
        if (add) {
          if (paths === undefined) this.pending_ephemerals.set(owner, (paths = new Set()));
          paths.add(path);
        } else if (paths !== undefined) {
          paths.delete(path);
          if (paths.size === 0) this.pending_ephemerals.delete(owner);
        }
        return;
      }
      case 'persistent':
        return;
    }
  }

  /**
   * The Applier applied every txn <= `zxid` to the arena: retires the entries it now shows.
   * O(entries those txns touched): only their queue items are visited, no lookups.
   */
  applied(zxid: number): void {
    if (!(Number.isSafeInteger(zxid) && zxid >= this.applied_zxid)) invariantBroken(`applied zxid 0x${zxid.toString(16)} before 0x${this.applied_zxid.toString(16)}`);
    this.applied_zxid = zxid;
    this.forgetArena();
    const queue = this.queue;
    while (this.queue_head < queue.length && queue[this.queue_head].zxid <= zxid) {
      for (const entry of queue[this.queue_head].entries) {
        // A later txn (still pending) touched it again: its entry stays until that one applies.
        if (entry.zxid !== RETIRED && entry.zxid <= zxid) this.retire(entry);
      }
      // Let go of the paths now, not at the next compaction (as release_gate.ts RELEASED).
      queue[this.queue_head++] = APPLIED;
    }
    if (this.queue_head === queue.length) {
      this.queue = [];
      this.queue_head = 0;
    } else if (this.queue_head >= QUEUE_COMPACT_MIN && this.queue_head * 2 >= queue.length) {
      this.queue = queue.slice(this.queue_head);
      this.queue_head = 0;
    }
    this.sweep();
  }

  /**
   * The txns in flight are gone (a leader lost its quorum; those that did commit come back as
   * commits through the Applier): only the arena remains.
   */
  clear(): void {
    this.forgetArena();
    this.overlay = new Map();
    this.forgetLooked();
    this.live = 0;
    this.queue = [];
    this.queue_head = 0;
    this.pending_ephemerals.clear();
    this.pending_containers.clear();
    this.pending_ttls.clear();
    this.recorded_zxid = this.applied_zxid;
  }

  /**
   * The arena was replaced underneath (Zab TRUNC / SNAP, reloadIntoArena): nothing is pending
   * and the arena holds every txn <= `arena_zxid`, which may be before the last applied one.
   */
  resetTo(arena_zxid: number): void {
    if (!(Number.isSafeInteger(arena_zxid) && arena_zxid >= 0)) invariantBroken(`arena zxid ${arena_zxid}`);
    this.applied_zxid = arena_zxid;
    this.clear();
  }
}
