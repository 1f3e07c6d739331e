// Encodes the shared tree (src/store/arena) at a pinned root + the session table as a snapshot
// file (snapshot_format.ts, version 1: the same bytes every reader of snapshot files reads).
//
// A pinned root never changes, so unlike the heap encoder (snapshot_encoder.ts) there is no
// copy-on-write hook: the walk is a plain in-order scan of the root (reader.openAll/nextNode),
// and nodes come out in the arena's key order (each parent before its children), which lets
// the loader (arena_snapshot_loader.ts) stream the file straight into the bulk loader.
// The snapshot is exact at the pinned root's last_zxid.
//
// Stored fields (the format's NODE record vs the arena's Znode record, layout.ts): both keep
// cversion as ZooKeeper stores it (child creates), the raw ephemeralOwner (container and TTL
// markers included), dataLength -1 for null data, and 64-bit fields as big-endian two's
// complement (setI64 / ChunkWriter.num64). So a NODE record is assembled from the record's
// bytes by copying them, never through numbers or a NodeState object.
//
// Allocation per node: none in steady state. The record is assembled in a scratch buffer and
// handed to the format's ChunkWriter (which only takes whole Uint8Arrays) through a view cached
// per record length. ACL lists are decoded once per distinct list (by blob address + serial).
//
// The encoder does not own the reader: the caller pins it before constructing the encoder,
// must not use it for other reads or move its pin until the encoder is finished (or aborted),
// and unpins it afterwards. It may run on any thread that has the arena (e.g. a piscina task).

import { copyBytes } from '../store/arena/bytes.js';
import type { TreeReader } from '../store/arena/tree_reader.js';
import { STAT_WIRE_BYTES } from '../store/arena/layout.js';
import {
  AclTable,
  ChunkWriter,
  encodeSnapshotHeader,
  Rec,
  writeEndRecord,
  writeSessionRecord,
  type Chunk,
  type SessionState,
} from './snapshot_format.js';

const TWO_32 = 0x1_0000_0000;
/** NODE record bytes besides path and data (snapshot_format.ts NODE_FIXED_BYTES). */
const NODE_FIXED_BYTES = 1 + 4 + 4 + 4 + 8 * 3 + 8 * 2 + 4 * 3 + 8;
/** Records up to this many bytes reuse a cached view of the scratch buffer. */
const VIEW_CACHE_BYTES_MAX = 4096;

// Offsets in the arena's stored stat (the Znode record's first 68 bytes, layout.ts).
const ST_CZXID_MZXID = 0; // czxid, mzxid: 16 bytes
const ST_CTIME_MTIME = 16; // ctime, mtime: 16 bytes
const ST_VERSIONS = 32; // version, cversion (as stored), aversion: 12 bytes
const ST_OWNER = 44; // raw ephemeralOwner: 8 bytes
const ST_DATA_LENGTH = 52; // i32, -1 for null data
const ST_PZXID = 60;

export class ArenaSnapshotEncoder {
  private readonly w = new ChunkWriter();
  private readonly acls = new AclTable();
  /** AclTable index by ACL blob (address * 2^32 + serial: equal keys mean equal lists). */
  private readonly acl_index = new Map<number, number>();
  private last_acl_key = -1;
  private last_acl_index = 0;
  /** The generation pinned at construction: the walk is only valid over that root. */
  private readonly gen: number;
  private readonly stat = new Uint8Array(STAT_WIRE_BYTES);
  private rec = new Uint8Array(1024);
  private rec_dv = new DataView(this.rec.buffer);
  /** views[n] = rec.subarray(0, n), made on first use (cleared when rec grows). */
  private views: (Uint8Array | undefined)[] = [];
  private nodes = 0;
  private walking = true;
  finished = false;

  constructor(
    private readonly reader: TreeReader,
    /** The zxid the snapshot is exact at: the pinned root's last_zxid. */
    readonly zxid: number,
    /** The session table at zxid (copied by the caller). */
    private readonly sessions: readonly SessionState[],
    created_ms: number,
  ) {
    if (!reader.pinned) throw new Error('arena snapshot encoder: the reader holds no pin (pin it before encoding)');
    if (reader.last_zxid !== zxid) throw new Error(`arena snapshot encoder: pinned root at zxid ${reader.last_zxid}, snapshot asked at ${zxid}`);
    this.gen = reader.gen;
    const header = encodeSnapshotHeader(zxid, created_ms);
    this.w.reserve(header.length);
    this.w.raw(header);
    reader.openAll();
  }

  /** Encodes up to `nodes_max` more nodes; true once the whole snapshot is encoded. */
  step(nodes_max: number): boolean {
    if (this.finished) return true;
    if (!(Number.isSafeInteger(nodes_max) && nodes_max >= 1)) throw new RangeError(`arena snapshot encoder: nodes_max ${nodes_max}`);
    this.assertPinUnchanged();
    const r = this.reader;
    for (let n = 0; n < nodes_max; n++) {
      if (!r.nextNode()) {
        this.walking = false;
        break;
      }
      this.writeNode();
    }
    if (!this.walking) this.finish();
    return this.finished;
  }

  /** The scan and every address it holds are only valid over the root pinned at the start. */
  private assertPinUnchanged(): void {
    if (!this.reader.pinned || this.reader.gen !== this.gen) {
      throw new Error(`arena snapshot encoder: the reader's pin moved (generation ${this.gen} -> ${this.reader.pinned ? this.reader.gen : 'unpinned'}) during the walk`);
    }
  }

  /** The current node's AclTable index (writes the ACL record first when the list is new). */
  private aclIndexOfCurrent(): number {
    const r = this.reader;
    const key = r.aclAddr() * TWO_32 + r.aclSerial();
    // Neighbours in key order mostly share a list: skip the Map (a double key) for a repeat.
    if (key === this.last_acl_key) return this.last_acl_index;
    let index = this.acl_index.get(key);
    if (index === undefined) {
      index = this.acls.indexOf(r.acl(), this.w);
      this.acl_index.set(key, index);
    }
    this.last_acl_key = key;
    this.last_acl_index = index;
    return index;
  }

  /** Room for a record of `bytes` in the scratch buffer. */
  private ensureRec(bytes: number): void {
    if (bytes <= this.rec.length) return;
    this.rec = new Uint8Array(bytes * 2);
    this.rec_dv = new DataView(this.rec.buffer);
    this.views = [];
  }

  /** rec[0, n) as a view (cached for short records: no allocation per node). */
  private recView(n: number): Uint8Array {
    if (n > VIEW_CACHE_BYTES_MAX) return this.rec.subarray(0, n);
    return (this.views[n] ??= this.rec.subarray(0, n));
  }

  /** Writes the selected node as a NODE record (layout in snapshot_format.ts). */
  private writeNode(): void {
    const r = this.reader;
    const acl_index = this.aclIndexOfCurrent();
    const stat = this.stat;
    r.storedStatTo(stat, 0);
    const data_len = r.dataLength();
    const path_len = r.nodePathLength();
    const bytes = NODE_FIXED_BYTES + path_len + Math.max(0, data_len);
    this.ensureRec(bytes);
    const rec = this.rec;
    const dv = this.rec_dv;
    rec[0] = Rec.NODE;
    dv.setUint32(1, path_len);
    let o = 5 + r.copyNodePath(rec, 5);
    // dataLength as stored: -1 for null data, as the format wants it.
    copyBytes(rec, o, stat, ST_DATA_LENGTH, 4);
    o += 4;
    o += r.copyData(rec, o);
    dv.setUint32(o, acl_index);
    o += 4;
    // Format order: czxid mzxid pzxid ctime mtime version cversion aversion owner.
    copyBytes(rec, o, stat, ST_CZXID_MZXID, 16);
    copyBytes(rec, o + 16, stat, ST_PZXID, 8);
    copyBytes(rec, o + 24, stat, ST_CTIME_MTIME, 16);
    copyBytes(rec, o + 40, stat, ST_VERSIONS, 12);
    copyBytes(rec, o + 52, stat, ST_OWNER, 8);
    o += 60;
    if (o !== bytes) throw new Error(`arena snapshot encoder: NODE record of ${o} bytes, ${bytes} expected`);
    this.w.reserve(bytes);
    this.w.raw(this.recView(bytes));
    this.nodes++;
  }

  private finish(): void {
    // The root descriptor counts the nodes of the pinned root: a walk that saw fewer or more
    // would write a file that loads as a different tree.
    const expected = this.reader.nodeCount();
    if (this.nodes !== expected) throw new Error(`arena snapshot encoder: walked ${this.nodes} nodes, the pinned root holds ${expected}`);
    for (const s of this.sessions) writeSessionRecord(this.w, s);
    writeEndRecord(this.w, this.nodes, this.sessions.length, this.acls.count);
    this.w.cut();
    this.finished = true;
  }

  /** Chunks encoded so far, in file order (the caller transfers them to the writer task). */
  take(): Chunk[] {
    return this.w.take();
  }

  /** Stops early (the caller may unpin the reader afterwards). */
  abort(): void {
    this.walking = false;
    this.finished = true;
  }

  get node_count(): number {
    return this.nodes;
  }
}
