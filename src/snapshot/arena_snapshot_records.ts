// Snapshot file records (snapshot_format.ts) fed to the arena's bulk loader
// (src/store/arena/bulk_load.ts, ZnodeBulkLoader) byte for byte, without decoding them into
// objects: the loader's passes over a file that decodeSnapshot has already verified. Each
// node's fields go straight from the file into its leaf entry (no node stream in between).
//
// Field mapping (both big-endian; 64-bit fields two's complement in both):
//   snapshot NODE: path | i32 dataLength (-1 null) | data | u32 acl index | czxid mzxid pzxid
//                  ctime mtime (u64/i64) | version cversion aversion (i32) | i64 owner
//   arena stored stat (68 B, layout.ts): czxid mzxid ctime mtime version cversion aversion
//                  owner dataLength numChildren pzxid
// cversion (as ZooKeeper stores it), the raw owner and dataLength -1 mean the same in both.
//   snapshot ACL: u32 index | u32 count | count x (i32 perms | u32 len + scheme | u32 len + id)
//   arena ACL wire form: vector<ACL> as jute writes it
// The snapshot's bytes from `count` on ARE the jute vector<ACL> (i32 count, i32 perms, ustring =
// i32 length + bytes; every length here is < 2^31), so they are copied as they are.

import {
  REC_AVERSION,
  REC_CTIME,
  REC_CVERSION,
  REC_CZXID,
  REC_DATA_LENGTH,
  REC_MTIME,
  REC_MZXID,
  REC_NUM_CHILDREN,
  REC_OWNER,
  REC_PZXID,
  REC_VERSION,
} from '../store/arena/layout.js';
import type { ZnodeBulkLoader } from '../store/arena/bulk_load.js';
import { Rec, SNAPSHOT_HEADER_BYTES, SNAPSHOT_TRAILER_BYTES, SnapshotFormatError } from './snapshot_format.js';

/** Bytes of the fixed fields after a NODE record's ACL index (5 x 8 + 3 x 4 + 8). */
const NODE_TAIL_BYTES = 60;

/** A cursor over the records of a verified snapshot file; fields describe the current record. */
export class SnapshotRecords {
  private readonly u8: Uint8Array;
  private readonly dv: DataView;
  private readonly text: Buffer;
  private readonly body_end: number;
  private next_at = SNAPSHOT_HEADER_BYTES;
  /** Start of the current record (its kind byte) and its kind (0: none yet). */
  offset = 0;
  kind = 0;
  private end = 0;
  // NODE
  path_off = 0;
  path_len = 0;
  data_len = 0;
  data_off = 0;
  acl_index = 0;
  /** Offset of czxid (the fixed fields after the ACL index). */
  tail_off = 0;
  // ACL
  wire_off = 0;
  wire_len = 0;

  constructor(bytes: Uint8Array) {
    this.u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.body_end = bytes.byteLength - SNAPSHOT_TRAILER_BYTES;
  }

  rewind(): void {
    this.next_at = SNAPSHOT_HEADER_BYTES;
    this.kind = 0;
  }

  /** Moves to the next record; false at the END record (or the body's end). */
  next(): boolean {
    if (this.kind === Rec.END || this.next_at >= this.body_end) return false;
    this.parseAt(this.next_at);
    this.next_at = this.end;
    return this.kind !== Rec.END;
  }

  isNode(): boolean {
    return this.kind === Rec.NODE;
  }

  isAcl(): boolean {
    return this.kind === Rec.ACL;
  }

  /** The current NODE record's path (allocates a string). */
  path(): string {
    return this.text.toString('utf8', this.path_off, this.path_off + this.path_len);
  }

  /** Parses the record starting at byte `o` (a record start a previous pass saw). */
  parseAt(o: number): void {
    const dv = this.dv;
    this.offset = o;
    this.kind = this.u8[o];
    let at = o + 1;
    if (this.kind === Rec.NODE) {
      this.path_len = dv.getUint32(at);
      this.path_off = at + 4;
      at = this.path_off + this.path_len;
      this.data_len = dv.getInt32(at);
      this.data_off = at + 4;
      at = this.data_off + Math.max(0, this.data_len);
      this.acl_index = dv.getUint32(at);
      this.tail_off = at + 4;
      at = this.tail_off + NODE_TAIL_BYTES;
    } else if (this.kind === Rec.ACL) {
      this.acl_index = dv.getUint32(at);
      this.wire_off = at + 4;
      const count = dv.getUint32(this.wire_off);
      at = this.wire_off + 4;
      for (let i = 0; i < count && at < this.body_end; i++) {
        at += 4; // perms
        at += 4 + dv.getUint32(at); // scheme
        at += 4 + dv.getUint32(at); // id
      }
      this.wire_len = at - this.wire_off;
    } else if (this.kind === Rec.SESSION) {
      at += 8 + 4;
      at += 4 + dv.getUint32(at);
    } else if (this.kind === Rec.END) {
      at += 8 + 4 + 4;
    } else {
      throw new SnapshotFormatError(`unknown record kind ${this.kind} at offset ${o}`);
    }
    // decodeSnapshot verified these bytes: a record past the body is a bug in this walk.
    if (at > this.body_end) throw new SnapshotFormatError(`record at offset ${o} runs past the end of the records`);
    this.end = at;
  }

  /** The current ACL record, defined in `loader` as id index + 1. */
  defineAclIn(loader: ZnodeBulkLoader): void {
    loader.defineAcl(this.acl_index + 1, this.u8, this.wire_off, this.wire_len);
  }

  /** The current NODE record, loaded with its children count. */
  loadNodeInto(loader: ZnodeBulkLoader, num_children: number): void {
    const r = loader.beginNode(this.u8, this.dv, this.path_off, this.path_len, this.data_off, this.data_len, this.acl_index + 1, num_children);
    this.storedStatTo(loader.rec_dv, r, num_children);
    loader.endNode();
  }

  /** Writes the arena's stored stat (68 bytes, numChildren given) at out[off]. */
  storedStatTo(out: DataView, off: number, num_children: number): void {
    const t = this.tail_off;
    const dv = this.dv;
    // Word by word (DataView): a third of the time of byte loops.
    out.setInt32(off + REC_CZXID, dv.getInt32(t));
    out.setInt32(off + REC_CZXID + 4, dv.getInt32(t + 4));
    out.setInt32(off + REC_MZXID, dv.getInt32(t + 8));
    out.setInt32(off + REC_MZXID + 4, dv.getInt32(t + 12));
    out.setInt32(off + REC_PZXID, dv.getInt32(t + 16));
    out.setInt32(off + REC_PZXID + 4, dv.getInt32(t + 20));
    out.setInt32(off + REC_CTIME, dv.getInt32(t + 24));
    out.setInt32(off + REC_CTIME + 4, dv.getInt32(t + 28));
    out.setInt32(off + REC_MTIME, dv.getInt32(t + 32));
    out.setInt32(off + REC_MTIME + 4, dv.getInt32(t + 36));
    out.setInt32(off + REC_VERSION, dv.getInt32(t + 40));
    out.setInt32(off + REC_CVERSION, dv.getInt32(t + 44));
    out.setInt32(off + REC_AVERSION, dv.getInt32(t + 48));
    out.setInt32(off + REC_OWNER, dv.getInt32(t + 52));
    out.setInt32(off + REC_OWNER + 4, dv.getInt32(t + 56));
    out.setInt32(off + REC_DATA_LENGTH, this.data_len);
    out.setInt32(off + REC_NUM_CHILDREN, num_children);
  }
}
