// Snapshot file records (snapshot_format.ts) turned into arena node-stream records
// (src/store/arena/node_stream.ts) byte for byte, without decoding them into objects: the
// loader's passes over a file that decodeSnapshot has already verified.
//
// Field mapping (both big-endian; 64-bit fields two's complement in both):
//   snapshot NODE: path | i32 dataLength (-1 null) | data | u32 acl index | czxid mzxid pzxid
//                  ctime mtime (u64/i64) | version cversion aversion (i32) | i64 owner
//   stream  node: path | 68 B stored stat = czxid mzxid ctime mtime version cversion aversion
//                  owner dataLength numChildren pzxid | u32 acl id | data
// cversion (as ZooKeeper stores it), the raw owner and dataLength -1 mean the same in both.
//   snapshot ACL: u32 index | u32 count | count x (i32 perms | u32 len + scheme | u32 len + id)
//   stream  ACL: u32 id | u32 length | vector<ACL> as jute writes it
// The snapshot's bytes from `count` on ARE the jute vector<ACL> (i32 count, i32 perms, ustring =
// i32 length + bytes; every length here is < 2^31), so they are copied as they are.

import { copyBytes } from '../store/arena/bytes.js';
import {
  REC_CTIME,
  REC_CZXID,
  REC_DATA_LENGTH,
  REC_NUM_CHILDREN,
  REC_OWNER,
  REC_PZXID,
  REC_VERSION,
} from '../store/arena/layout.js';
import { NODE_STAT_BYTES, TAG_ACL, TAG_END, TAG_NODE } from '../store/arena/node_stream.js';
import { Rec, SNAPSHOT_HEADER_BYTES, SNAPSHOT_TRAILER_BYTES, SnapshotFormatError } from './snapshot_format.js';

const TWO_32 = 0x1_0000_0000;
/** Node-stream chunk size: large enough that per-chunk costs vanish. */
const STREAM_CHUNK_BYTES = 1 << 20;
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

  /** Copies the current NODE record's path to out[off]. */
  copyPath(out: Uint8Array, off: number): void {
    copyBytes(out, off, this.u8, this.path_off, this.path_len);
  }

  copyData(out: Uint8Array, off: number): void {
    if (this.data_len > 0) copyBytes(out, off, this.u8, this.data_off, this.data_len);
  }

  copyWire(out: Uint8Array, off: number): void {
    copyBytes(out, off, this.u8, this.wire_off, this.wire_len);
  }

  /** Writes the node-stream stored stat (68 bytes, numChildren given) at out[off]. */
  storedStatTo(out: Uint8Array, out_dv: DataView, off: number, num_children: number): void {
    const t = this.tail_off;
    const u8 = this.u8;
    copyBytes(out, off + REC_CZXID, u8, t, 16); // czxid, mzxid
    copyBytes(out, off + REC_CTIME, u8, t + 24, 16); // ctime, mtime
    copyBytes(out, off + REC_VERSION, u8, t + 40, 12); // version, cversion, aversion
    copyBytes(out, off + REC_OWNER, u8, t + 52, 8);
    out_dv.setInt32(off + REC_DATA_LENGTH, this.data_len);
    out_dv.setInt32(off + REC_NUM_CHILDREN, num_children);
    copyBytes(out, off + REC_PZXID, u8, t + 16, 8);
  }
}

/** Builds node-stream chunks; filled chunks wait in `ready` (fresh buffers, the consumer's). */
export class NodeStreamSink {
  readonly ready: Uint8Array[] = [];
  private chunk = new Uint8Array(STREAM_CHUNK_BYTES);
  private dv = new DataView(this.chunk.buffer);
  private at = 0;

  /** Room for `bytes` more (a record larger than a chunk gets a chunk of its own). */
  private ensure(bytes: number): void {
    if (this.at + bytes <= this.chunk.length) return;
    if (this.at > 0) this.ready.push(this.chunk.subarray(0, this.at));
    this.chunk = new Uint8Array(Math.max(STREAM_CHUNK_BYTES, bytes));
    this.dv = new DataView(this.chunk.buffer);
    this.at = 0;
  }

  /** The current ACL record of `r`, as stream ACL id index + 1. */
  acl(r: SnapshotRecords): void {
    this.ensure(9 + r.wire_len);
    const at = this.at;
    this.chunk[at] = TAG_ACL;
    this.dv.setUint32(at + 1, r.acl_index + 1);
    this.dv.setUint32(at + 5, r.wire_len);
    r.copyWire(this.chunk, at + 9);
    this.at = at + 9 + r.wire_len;
  }

  /** The current NODE record of `r`, with its children count. */
  node(r: SnapshotRecords, num_children: number): void {
    const data = Math.max(0, r.data_len);
    this.ensure(1 + 4 + r.path_len + NODE_STAT_BYTES + 4 + data);
    const c = this.chunk;
    let at = this.at;
    c[at] = TAG_NODE;
    this.dv.setUint32(at + 1, r.path_len);
    r.copyPath(c, at + 5);
    at += 5 + r.path_len;
    r.storedStatTo(c, this.dv, at, num_children);
    at += NODE_STAT_BYTES;
    this.dv.setUint32(at, r.acl_index + 1);
    at += 4;
    r.copyData(c, at);
    this.at = at + data;
  }

  /** The end record; flushes the last chunk. */
  end(nodes: number, last_zxid: number): void {
    this.ensure(13);
    const at = this.at;
    this.chunk[at] = TAG_END;
    this.dv.setUint32(at + 1, nodes);
    this.dv.setUint32(at + 5, Math.floor(last_zxid / TWO_32));
    this.dv.setUint32(at + 9, last_zxid % TWO_32);
    this.at = at + 13;
    this.ready.push(this.chunk.subarray(0, this.at));
    this.chunk = new Uint8Array(0);
    this.at = 0;
  }
}
