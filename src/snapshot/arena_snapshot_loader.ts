// Loads a snapshot file (snapshot_format.ts) into an empty shared tree (src/store/arena) in ONE
// batch, committed with the snapshot's zxid, through the arena's bulk loader (bulk_load.ts,
// ZnodeBulkLoader), which takes nodes in key order with every node's numChildren, each record's
// fields copied straight from the file into its leaf entry (arena_snapshot_records.ts).
//
// The file format records no numChildren, and in key order a node comes long before its
// children (key = parent path + 0x00 + name: "/b" precedes the children of "/a/x"), so nothing
// is loaded before the whole file has been read once:
// 1. decodeSnapshot verifies the file (checksums, record structure, counts, UTF-8 paths) and
//    visits every node: KeyOrderScan checks the paths (and that they can be keyed) and whether
//    the nodes come in key order; if so it counts each parent's children (they form one
//    contiguous run per parent).
// 2. Key order (files of ArenaSnapshotEncoder), "streamed": a pass over the records assigns
//    each parent its count and checks that every counted parent is a node (it stops at the last
//    parent); then the records go to the loader in file order. Held: the counts of the parents
//    (path -> count) during pass 2, 4 bytes per node during the load.
//    Any other order (files of the heap SnapshotEncoder), "sorted": every path is collected
//    (with its record's offset), grouped by parent and sorted into key order (UTF-8 byte
//    order, as tree_node_stream.ts does for a heap tree), then loaded from the offsets.
// 3. writer.begin(), the load, writer.commit(zxid); the sessions go into the table last.
// Everything that can refuse a file happens before writer.begin(): a refused file leaves the
// writer as it was (empty, no batch open). The loader's own checks (key order, children runs)
// then cannot fail on nodes fed from here; only the arena filling up (ArenaFullError) can: any
// failure once writing began throws SnapshotLoadHalfWayError (the batch holds part of the file
// and cannot be taken back).
// With into_open_batch (a Zab reload, TreeWriter.beginReplace) step 3's begin and commit are
// the caller's: the log after the snapshot goes into the same batch, published once.

import { ArenaInvariantError } from '../store/arena/errors.js';
import { ZnodeBulkLoader } from '../store/arena/bulk_load.js';
import { OWNER_KEY_BYTES } from '../store/arena/layout.js';
import { freeNow } from '../store/arena/free_now.js';
import type { TreeWriter } from '../store/arena/tree_writer.js';
import { compareUtf8, sortUtf8 } from '../store/tree_node_stream.js';
import { decodeSnapshot, SnapshotFormatError, type SessionState, type SnapshotInfo } from './snapshot_format.js';
import { readSnapshotBytes, type SessionTable } from './snapshot_reader.js';
import { SnapshotRecords } from './arena_snapshot_records.js';
import { utf8Lenient } from '../protocol/utf8.js';

export interface ArenaSnapshotLoadOptions {
  /**
   * Load into the batch the caller opened with TreeWriter.beginReplace (its tree empty) and
   * leave it open, uncommitted (the caller applies the log into it and commits once; the
   * snapshot may be older than the arena's published state). Default: the writer is fresh and
   * the load is one batch of its own, committed with the snapshot's zxid.
   */
  into_open_batch?: boolean;
}

/**
 * The load failed after it began writing into the arena: the open batch holds part of the
 * snapshot. No other snapshot can be tried in that batch (recovery must stop).
 */
export class SnapshotLoadHalfWayError extends Error {
  override readonly name = 'SnapshotLoadHalfWayError';

  constructor(cause: unknown) {
    super(`loading into the shared tree failed half way: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** What loadSnapshotIntoArena did. */
export interface ArenaSnapshotLoad extends SnapshotInfo {
  /**
   * 'streamed': the nodes were in key order and went from the file into the arena without
   * being collected; 'sorted': they were not (a file of the heap encoder), and were collected
   * and sorted first.
   */
  method: 'streamed' | 'sorted';
}


/**
 * Pass 1 (the decodeSnapshot visitor, on the records' bytes: no string or object per node):
 * checks each path and data size, detects whether the nodes come in key order and, while they
 * do, counts the children of each parent: in key order the children of a parent are one
 * contiguous run, so a Map update per run suffices.
 */
class KeyOrderScan {
  in_key_order = true;
  /** Parent path ("/" for the root) -> children, complete once finish() ran (key order only). */
  readonly counts = new Map<string, number>();
  nodes = 0;
  /** The previous node's path: buf[prev_off, prev_off + prev_len), its last '/' at prev_slash. */
  private prev_off = 0;
  private prev_len = 0;
  private prev_slash = -1;
  /** The current run's parent: the path bytes before its children's last '/' (-1: no run). */
  private run_off = 0;
  private run_len = -1;
  private run_buf: Uint8Array | null = null;
  private run_count = 0;

  constructor(
    private readonly data_bytes_max: number,
    private readonly path_bytes_max: number,
  ) {}

  readonly session = (s: SessionState): void => void this.sessions.push(s);
  readonly sessions: SessionState[] = [];

  readonly nodeBytes = (buf: Uint8Array, off: number, len: number, data_len: number): void => {
    const slash = checkPathBytes(buf, off, len);
    if (len > this.path_bytes_max) throw new SnapshotFormatError(`snapshot node path of ${len} bytes is longer than an arena key may be (${this.path_bytes_max})`);
    if (data_len > this.data_bytes_max) {
      throw new SnapshotFormatError(`snapshot node ${pathString(buf, off, len)} holds ${data_len} data bytes, more than an arena segment (${this.data_bytes_max})`);
    }
    this.nodes++;
    if (!this.in_key_order) return;
    if (this.nodes === 1) {
      if (len !== 1) this.leaveKeyOrder();
      this.prev_off = off;
      this.prev_len = len;
      this.prev_slash = slash;
      this.run_buf = buf;
      return;
    }
    // The raw bytes the path shares with the previous one, then their order as keys.
    const a = this.prev_off;
    const a_len = this.prev_len;
    const a_slash = this.prev_slash;
    const n = a_len < len ? a_len : len;
    let d = 0;
    while (d < n && buf[a + d] === buf[off + d]) d++;
    if (keyOrder(buf, a, a_len, a_slash, off, len, slash, d) >= 0) {
      this.leaveKeyOrder();
      return;
    }
    this.prev_off = off;
    this.prev_len = len;
    this.prev_slash = slash;
    // The previous node is in the current run (if any): same parent iff same last '/' and the
    // bytes before it are equal.
    if (this.run_len >= 0 && slash === this.run_len && d >= slash) {
      this.run_count++;
      return;
    }
    this.closeRun();
    this.run_off = off;
    this.run_len = slash;
    this.run_count = 1;
  };

  private closeRun(): void {
    if (this.run_len < 0 || this.run_buf === null) return;
    // Strictly increasing keys: a parent's children are one run, so the parent is new here.
    this.counts.set(this.run_len === 0 ? '/' : pathString(this.run_buf, this.run_off, this.run_len), this.run_count);
  }

  private leaveKeyOrder(): void {
    this.in_key_order = false;
    this.counts.clear();
    this.run_len = -1;
  }

  finish(): void {
    if (this.in_key_order) this.closeRun();
    this.run_len = -1;
    this.run_buf = null;
  }
}


function pathString(buf: Uint8Array, off: number, len: number): string {
  return utf8Lenient.decode(buf.subarray(off, off + len));
}

/**
 * An absolute path the arena can key: "/", or '/'-separated non-empty names without NUL.
 * Returns the index of its last '/'.
 */
function checkPathBytes(buf: Uint8Array, off: number, len: number): number {
  let ok = len > 0 && buf[off] === 0x2f && (len === 1 || buf[off + len - 1] !== 0x2f);
  let slash = 0;
  let prev = 0x2f;
  for (let i = 1; ok && i < len; i++) {
    const c = buf[off + i];
    if (c === 0x2f) {
      if (prev === 0x2f) ok = false;
      slash = i;
    } else if (c === 0) ok = false;
    prev = c;
  }
  if (!ok) throw new SnapshotFormatError(`snapshot holds the invalid path ${JSON.stringify(pathString(buf, off, len))}`);
  return slash;
}

/**
 * The key order of paths a and b in buf (key = path with its last '/' as 0x00; byte order),
 * given d, the length of their common prefix of raw bytes (< min(a_len, b_len) unless one is
 * a prefix of the other). Both are valid paths (no NUL byte). Negative when a < b.
 */
function keyOrder(buf: Uint8Array, a: number, a_len: number, a_slash: number, b: number, b_len: number, b_slash: number, d: number): number {
  if (a_slash < d || b_slash < d) {
    // At the first of the two last slashes, that key has 0x00 and the other still '/', unless
    // both last slashes are at the same place: then the keys differ where the bytes first do.
    if (a_slash !== b_slash) return a_slash < b_slash ? -1 : 1;
    return d === a_len || d === b_len ? a_len - b_len : buf[a + d] - buf[b + d];
  }
  // Neither last '/' comes before d, so d < both lengths (each path's last '/' is within it).
  return (d === a_slash ? 0 : buf[a + d]) - (d === b_slash ? 0 : buf[b + d]);
}

/** A load ready to run: every check done, nothing written yet. */
interface LoadPlan {
  method: 'streamed' | 'sorted';
  /** Feeds every ACL and node to the loader, in key order; returns the nodes fed. */
  load(loader: ZnodeBulkLoader): number;
  /** Frees the plan's per-node arrays (4-16 bytes a node) at once (free_now.ts): call when the load is over. */
  release(): void;
}

/** Paths longer than this cannot be keyed (an overflow key is one blob in one segment). */
function pathBytesMax(writer: TreeWriter): number {
  return writer.mem.config.segment_bytes - OWNER_KEY_BYTES;
}

/**
 * Key order: pass 2 gives each node its children count (by ordinal) and checks that every
 * counted parent is a node; the load feeds the records to the bulk loader in file order.
 */
function planStreamed(records: SnapshotRecords, scan: KeyOrderScan): LoadPlan {
  const children = new Int32Array(scan.nodes);
  const counts = scan.counts;
  let i = 0;
  records.rewind();
  // Parents come before their children, so this pass ends at the last parent, often early.
  while (counts.size > 0 && records.next()) {
    if (!records.isNode()) continue;
    const path = records.path();
    const n = counts.get(path);
    if (n !== undefined) {
      children[i] = n;
      counts.delete(path);
    }
    i++;
  }
  if (counts.size > 0) {
    const [parent] = counts.keys();
    throw new SnapshotFormatError(`snapshot holds children of ${JSON.stringify(parent)} but not that node (${counts.size} such parents)`);
  }
  return {
    method: 'streamed',
    release: () => freeNow(children.buffer),
    load(loader: ZnodeBulkLoader): number {
      let ordinal = 0;
      records.rewind();
      while (records.next()) {
        if (records.isAcl()) records.defineAclIn(loader);
        else if (records.isNode()) records.loadNodeInto(loader, children[ordinal++]);
      }
      return ordinal;
    },
  };
}

/** Ordinals of one parent's children, sorted by path in UTF-8 byte order (= by name). */
function sortGroup(group: number[], paths: readonly string[]): number[] {
  group.sort((a, b) => (paths[a] < paths[b] ? -1 : paths[a] > paths[b] ? 1 : 0));
  for (let k = 1; k < group.length; k++) {
    if (compareUtf8(paths[group[k - 1]], paths[group[k]]) > 0) return group.sort((a, b) => compareUtf8(paths[a], paths[b]));
  }
  return group;
}

/**
 * Any order: collects every path with its record's offset, groups the nodes by parent and
 * orders them as key order does ("/", the children of "/", then each parent's children with
 * the parents in byte order of their paths; see tree_node_stream.ts). ACL records all go
 * first (the stream needs each before its first use). Only offsets, counts and the order stay
 * held while the stream is consumed.
 */
function planSorted(records: SnapshotRecords, nodes: number, path_bytes_max: number): LoadPlan {
  const offsets = new Float64Array(nodes);
  const paths: string[] = [];
  const acl_offsets: number[] = [];
  const ordinal_of = new Map<string, number>();
  const groups = new Map<string, number[]>();
  records.rewind();
  while (records.next()) {
    if (records.isAcl()) acl_offsets.push(records.offset);
    if (!records.isNode()) continue;
    if (records.path_len > path_bytes_max) throw new SnapshotFormatError(`snapshot node path of ${records.path_len} bytes is longer than an arena key may be (${path_bytes_max})`);
    const i = paths.length;
    const path = records.path();
    if (ordinal_of.has(path)) throw new SnapshotFormatError(`snapshot holds ${JSON.stringify(path)} twice`);
    ordinal_of.set(path, i);
    paths.push(path);
    offsets[i] = records.offset;
    if (path === '/') continue;
    const slash = path.lastIndexOf('/');
    const parent = slash === 0 ? '/' : path.slice(0, slash);
    let group = groups.get(parent);
    if (group === undefined) groups.set(parent, (group = []));
    group.push(i);
  }
  const root = ordinal_of.get('/');
  if (root === undefined) throw new SnapshotFormatError('snapshot has no root node "/"');
  const children = new Int32Array(nodes);
  for (const [parent, group] of groups) {
    const p = ordinal_of.get(parent);
    if (p === undefined) throw new SnapshotFormatError(`snapshot holds ${JSON.stringify(paths[group[0]])} without its parent ${JSON.stringify(parent)}`);
    children[p] = group.length;
  }
  const order = new Int32Array(nodes);
  let n = 0;
  order[n++] = root;
  const root_group = groups.get('/');
  groups.delete('/');
  if (root_group !== undefined) for (const i of sortGroup(root_group, paths)) order[n++] = i;
  for (const parent of sortUtf8([...groups.keys()])) for (const i of sortGroup(groups.get(parent)!, paths)) order[n++] = i;
  if (n !== nodes) throw new ArenaInvariantError(`snapshot load: ordered ${n} nodes of ${nodes}`);
  return {
    method: 'sorted',
    release: () => {
      freeNow(offsets.buffer);
      freeNow(children.buffer);
      freeNow(order.buffer);
    },
    load(loader: ZnodeBulkLoader): number {
      for (const at of acl_offsets) {
        records.parseAt(at);
        records.defineAclIn(loader);
      }
      for (let k = 0; k < nodes; k++) {
        records.parseAt(offsets[order[k]]);
        records.loadNodeInto(loader, children[order[k]]);
      }
      return nodes;
    },
  };
}

/**
 * Loads the snapshot in `bytes` into `writer`'s arena, which must hold an empty tree (a fresh
 * TreeWriter: not even "/"), as one batch committed with the snapshot's zxid (or into the open
 * batch of TreeWriter.beginReplace, left open: opts.into_open_batch), and adds its sessions to
 * `sessions`. Throws SnapshotFormatError for a damaged or inconsistent file, before anything
 * changes (the writer stays empty and usable); SnapshotLoadHalfWayError for a failure after.
 */
export function loadSnapshotIntoArena(bytes: Uint8Array, writer: TreeWriter, sessions: SessionTable | null, opts: ArenaSnapshotLoadOptions = {}): ArenaSnapshotLoad {
  const open = opts.into_open_batch === true;
  if (open) {
    if (!writer.in_batch) throw new ArenaInvariantError('loadSnapshotIntoArena: into_open_batch without an open batch (TreeWriter.beginReplace)');
    const held = writer.view.nodeCount();
    if (held !== 0) throw new ArenaInvariantError(`loadSnapshotIntoArena: the open batch already holds ${held} nodes`);
  } else {
    if (writer.in_batch) throw new ArenaInvariantError('loadSnapshotIntoArena: the writer has a batch open');
    const held = writer.last_root.node_count;
    if (held !== 0) throw new ArenaInvariantError(`loadSnapshotIntoArena: the arena already holds ${held} nodes (load into a fresh arena)`);
  }
  const scan = new KeyOrderScan(writer.mem.config.segment_bytes, pathBytesMax(writer));
  const info = decodeSnapshot(bytes, scan);
  scan.finish();
  const found = scan.sessions;
  // A reload replaces the published state, which may be newer (a TRUNC rewinds it).
  if (!open && info.zxid < writer.last_root.last_zxid) {
    throw new ArenaInvariantError(`loadSnapshotIntoArena: snapshot zxid ${info.zxid} is before the arena's ${writer.last_root.last_zxid}`);
  }
  const records = new SnapshotRecords(bytes);
  const path_max = pathBytesMax(writer);
  const plan = scan.in_key_order ? planStreamed(records, scan) : planSorted(records, info.nodes, path_max);
  let writing = false;
  try {
    if (!open) writer.begin();
    writing = true;
    // Leaves packed full (not bulkLoad's default 0.95): a recovered tree is mostly read, and
    // under copy-on-write a leaf is copied at its first change anyway; the room left would only
    // delay a split by an insert or two. Saves ~5 % of the leaves (~5 MiB at 1M znodes).
    const loader = new ZnodeBulkLoader(writer, { fill: 1 });
    const loaded = loader.finish(plan.load(loader));
    if (loaded !== info.nodes) throw new ArenaInvariantError(`loadSnapshotIntoArena: loaded ${loaded} nodes of ${info.nodes}`);
    if (!open) writer.commit(info.zxid);
  } catch (e) {
    if (writing) throw new SnapshotLoadHalfWayError(e);
    throw e;
  } finally {
    plan.release();
  }
  if (sessions !== null) for (const s of found) sessions.set(s.session_id, { timeout_ms: s.timeout_ms, passwd: s.passwd });
  return { ...info, method: plan.method };
}

/**
 * loadSnapshotIntoArena for a file (read whole: the format is verified before decoding). The
 * file's memory is given back as soon as the load returns or fails (readSnapshotBytes): the
 * arena holds copies of everything, and a restarted server would otherwise carry the file in
 * its RSS until a GC that an idle commit worker may never run.
 */
export function loadSnapshotFileIntoArena(path: string, writer: TreeWriter, sessions: SessionTable | null, opts: ArenaSnapshotLoadOptions = {}): ArenaSnapshotLoad {
  const file = readSnapshotBytes(path);
  try {
    return loadSnapshotIntoArena(file.bytes, writer, sessions, opts);
  } catch (e) {
    if (e instanceof SnapshotFormatError) e.message = `${path}: ${e.message}`;
    throw e;
  } finally {
    file.release();
  }
}
