// The snapshot file format, pure: an encoder that fills chunks and a decoder over a whole file.
//
//   file    = header (32 B) | record* | trailer (8 B)
//   header  = "WFSN" | u32 version | u64 zxid | u64 created_ms | u32 0 | u32 crc32c(bytes 0..28)
//   record  = u8 kind | fields:
//     ACL     (1): u32 index | u32 count | count x (i32 perms | str scheme | str id)
//     NODE    (2): str path | i32 data length (-1 = null) | data | u32 acl index
//                  | u64 czxid | u64 mzxid | u64 pzxid | i64 ctime | i64 mtime
//                  | i32 version | i32 cversion | i32 aversion | i64 ephemeralOwner
//     SESSION (3): i64 session id | i32 timeout_ms | u32 passwd length | passwd
//     END     (4): u64 node count | u32 session count | u32 acl count
//   trailer = u32 crc32c(every byte before the trailer) | "WFSE"
//   str     = u32 length | UTF-8 bytes
//
// Big-endian. ACL lists are written once and referenced by index (most nodes share a few). Nodes
// come in any order (children are linked on load), each exactly once; the session table follows.
// The file is the exact state after txn `zxid`.

import { isUtf8 } from 'node:buffer';
import type { ACL } from '../protocol/types.js';
import { getU64, setU64, viewOf } from '../log/binary.js';
import { crc32c } from '../log/crc32c.js';
import { ZNode } from '../tree/znode.js';
import { utf8Strict } from '../protocol/utf8.js';

export const SNAPSHOT_MAGIC = 0x5746534e; // "WFSN"
export const SNAPSHOT_END_MAGIC = 0x57465345; // "WFSE"
export const SNAPSHOT_VERSION = 1;
export const SNAPSHOT_HEADER_BYTES = 32;
export const SNAPSHOT_TRAILER_BYTES = 8;

export const Rec = { ACL: 1, NODE: 2, SESSION: 3, END: 4 } as const;

const U32 = 0x1_0000_0000;
const CHUNK_BYTES = 1 << 20;
const SLAB_BYTES = 64 * 1024;
const utf8 = new TextEncoder();

export class SnapshotFormatError extends Error {}


export function encodeSnapshotHeader(zxid: number, created_ms: number): Uint8Array {
  const bytes = new Uint8Array(SNAPSHOT_HEADER_BYTES);
  const v = viewOf(bytes);
  v.setUint32(0, SNAPSHOT_MAGIC);
  v.setUint32(4, SNAPSHOT_VERSION);
  setU64(v, 8, zxid);
  setU64(v, 16, created_ms);
  v.setUint32(28, crc32c(bytes.subarray(0, 28)));
  return bytes;
}

export function encodeSnapshotTrailer(crc: number): Uint8Array {
  const bytes = new Uint8Array(SNAPSHOT_TRAILER_BYTES);
  const v = viewOf(bytes);
  v.setUint32(0, crc);
  v.setUint32(4, SNAPSHOT_END_MAGIC);
  return bytes;
}

/** A filled chunk: bytes [0, length) of `buffer` (an ArrayBuffer the caller may transfer). */
export interface Chunk {
  buffer: ArrayBuffer;
  length: number;
}

/** Appends records into fixed-size chunks; a record never spans two chunks. */
export class ChunkWriter {
  private bytes = new Uint8Array(CHUNK_BYTES);
  private view = new DataView(this.bytes.buffer);
  private pos = 0;
  private readonly done: Chunk[] = [];
  bytes_total = 0;

  /** Room for `n` more bytes in the current chunk (a new chunk if needed). */
  reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    this.cut();
    if (n > this.bytes.length) {
      this.bytes = new Uint8Array(n);
      this.view = new DataView(this.bytes.buffer);
    }
  }

  /** Ends the current chunk (if non-empty). */
  cut(): void {
    if (this.pos === 0) return;
    this.done.push({ buffer: this.bytes.buffer as ArrayBuffer, length: this.pos });
    this.bytes_total += this.pos;
    this.bytes = new Uint8Array(CHUNK_BYTES);
    this.view = new DataView(this.bytes.buffer);
    this.pos = 0;
  }

  /** Chunks completed so far (ownership passes to the caller). */
  take(): Chunk[] {
    return this.done.splice(0, this.done.length);
  }

  get pending_bytes(): number {
    return this.pos;
  }

  raw(b: Uint8Array): void {
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }
  u8(v: number): void {
    this.bytes[this.pos++] = v;
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  i32(v: number): void {
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }
  /** A non-negative safe integer (zxids) or any safe integer (times) as a signed 64-bit value. */
  num64(v: number): void {
    const hi = Math.floor(v / U32);
    this.view.setInt32(this.pos, hi);
    this.view.setUint32(this.pos + 4, v - hi * U32);
    this.pos += 8;
  }
  i64(v: bigint): void {
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }
  /** Needs 4 + 3 x s.length bytes reserved (UTF-8 worst case). */
  str(s: string): void {
    const r = utf8.encodeInto(s, this.bytes.subarray(this.pos + 4));
    this.view.setUint32(this.pos, r.written);
    this.pos += 4 + r.written;
  }
}

/** Fixed bytes of a NODE record besides path and data. */
const NODE_FIXED_BYTES = 1 + 4 + 4 + 4 + 8 * 3 + 8 * 2 + 4 * 3 + 8;

/** Interns ACL lists: by identity first (nodes share arrays), then by content. */
export class AclTable {
  private readonly by_ref = new Map<readonly ACL[], number>();
  private readonly by_key = new Map<string, number>();
  count = 0;

  /** The list's index; writes its ACL record first when it is new. */
  indexOf(acl: readonly ACL[], w: ChunkWriter): number {
    const known = this.by_ref.get(acl);
    if (known !== undefined) return known;
    const key = acl.map((a) => `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}`).join('\u0001');
    let index = this.by_key.get(key);
    if (index === undefined) {
      index = this.count++;
      this.by_key.set(key, index);
      writeAclRecord(w, index, acl);
    }
    this.by_ref.set(acl, index);
    return index;
  }
}

function writeAclRecord(w: ChunkWriter, index: number, acl: readonly ACL[]): void {
  let n = 1 + 4 + 4;
  for (const a of acl) n += 4 + 8 + 3 * (a.id.scheme.length + a.id.id.length);
  w.reserve(n);
  w.u8(Rec.ACL);
  w.u32(index);
  w.u32(acl.length);
  for (const a of acl) {
    w.i32(a.perms);
    w.str(a.id.scheme);
    w.str(a.id.id);
  }
}

/** The fields of a node a snapshot records (a ZNode, or a copy saved before a change). */
export interface NodeState {
  data: Uint8Array | null;
  acl: readonly ACL[];
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
}

export function writeNodeRecord(w: ChunkWriter, acls: AclTable, path: string, node: NodeState): void {
  const acl_index = acls.indexOf(node.acl, w);
  const data_len = node.data === null ? 0 : node.data.length;
  w.reserve(NODE_FIXED_BYTES + 3 * path.length + data_len);
  w.u8(Rec.NODE);
  w.str(path);
  if (node.data === null) w.i32(-1);
  else {
    w.i32(node.data.length);
    w.raw(node.data);
  }
  w.u32(acl_index);
  w.num64(node.czxid);
  w.num64(node.mzxid);
  w.num64(node.pzxid);
  w.num64(node.ctime);
  w.num64(node.mtime);
  w.i32(node.version);
  w.i32(node.cversion);
  w.i32(node.aversion);
  w.i64(node.ephemeralOwner);
}

export interface SessionState {
  session_id: bigint;
  timeout_ms: number;
  passwd: Uint8Array;
}

export function writeSessionRecord(w: ChunkWriter, s: SessionState): void {
  w.reserve(1 + 8 + 4 + 4 + s.passwd.length);
  w.u8(Rec.SESSION);
  w.i64(s.session_id);
  w.i32(s.timeout_ms);
  w.u32(s.passwd.length);
  w.raw(s.passwd);
}

export function writeEndRecord(w: ChunkWriter, nodes: number, sessions: number, acls: number): void {
  w.reserve(1 + 8 + 4 + 4);
  w.u8(Rec.END);
  w.num64(nodes);
  w.u32(sessions);
  w.u32(acls);
}

// ---- decoding ----

export interface SnapshotVisitor {
  node(path: string, node: ZNode): void;
  session(s: SessionState): void;
}

/**
 * A visitor of node records as bytes, for passes that only look at paths (no string, no ZNode,
 * no data copy per node: at 1M znodes that was a quarter of a restart). The path is
 * buf[path_off, path_off + path_len), checked to be UTF-8; the record's structure is checked as
 * for a SnapshotVisitor.
 */
export interface SnapshotBytesVisitor {
  nodeBytes(buf: Uint8Array, path_off: number, path_len: number, data_len: number): void;
  session(s: SessionState): void;
}

export interface SnapshotInfo {
  zxid: number;
  created_ms: number;
  nodes: number;
  sessions: number;
}

/** Reads the header only (cheap: to pick a snapshot by zxid before loading it). */
export function readSnapshotHeader(bytes: Uint8Array): { zxid: number; created_ms: number } {
  if (bytes.length < SNAPSHOT_HEADER_BYTES + SNAPSHOT_TRAILER_BYTES) throw new SnapshotFormatError('file too short');
  const v = viewOf(bytes);
  if (v.getUint32(0) !== SNAPSHOT_MAGIC) throw new SnapshotFormatError('not a waitfree snapshot (bad magic)');
  if (v.getUint32(28) !== crc32c(bytes.subarray(0, 28))) throw new SnapshotFormatError('header checksum mismatch');
  const version = v.getUint32(4);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotFormatError(`format version ${version}; this waitfree reads ${SNAPSHOT_VERSION}`);
  return { zxid: getU64(v, 8), created_ms: getU64(v, 16) };
}

/**
 * Verifies the whole file (header, trailer, checksum), then decodes every record into the
 * visitor. Throws SnapshotFormatError on any damage; nothing is visited when the checksum fails.
 */
export function decodeSnapshot(bytes: Uint8Array, visitor: SnapshotVisitor | SnapshotBytesVisitor): SnapshotInfo {
  const header = readSnapshotHeader(bytes);
  const v = viewOf(bytes);
  const body_end = bytes.length - SNAPSHOT_TRAILER_BYTES;
  if (v.getUint32(body_end + 4) !== SNAPSHOT_END_MAGIC) throw new SnapshotFormatError('no end marker (the file is incomplete)');
  if (v.getUint32(body_end) !== crc32c(bytes.subarray(0, body_end))) throw new SnapshotFormatError('checksum mismatch');
  // A plain Uint8Array view: Buffer#slice would return views into the file, not copies.
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new SnapReader(plain, v, SNAPSHOT_HEADER_BYTES, body_end);
  const acls: ACL[][] = [];
  let nodes = 0;
  let sessions = 0;
  for (;;) {
    const kind = r.u8();
    if (kind === Rec.ACL) acls.push(readAclRecord(r, acls.length));
    else if (kind === Rec.NODE) {
      if ('nodeBytes' in visitor) skimNodeRecord(r, acls.length, visitor);
      else {
        const [path, node] = readNodeRecord(r, acls);
        visitor.node(path, node);
      }
      nodes++;
    } else if (kind === Rec.SESSION) {
      visitor.session({ session_id: r.i64(), timeout_ms: r.i32(), passwd: r.bytes(r.u32()) });
      sessions++;
    } else if (kind === Rec.END) {
      const want_nodes = r.num64();
      const want_sessions = r.u32();
      const want_acls = r.u32();
      if (want_nodes !== nodes || want_sessions !== sessions || want_acls !== acls.length || r.offset !== body_end) {
        throw new SnapshotFormatError('record counts do not match the end record');
      }
      return { zxid: header.zxid, created_ms: header.created_ms, nodes, sessions };
    } else throw new SnapshotFormatError(`unknown record kind ${kind} at offset ${r.offset - 1}`);
  }
}

function readAclRecord(r: SnapReader, expected_index: number): ACL[] {
  const index = r.u32();
  if (index !== expected_index) throw new SnapshotFormatError(`ACL index ${index} where ${expected_index} was expected`);
  const count = r.u32();
  const acl: ACL[] = [];
  for (let i = 0; i < count; i++) {
    const perms = r.i32();
    const scheme = r.str();
    acl.push({ perms, id: { scheme, id: r.str() } });
  }
  return acl;
}

function readNodeRecord(r: SnapReader, acls: readonly ACL[][]): [string, ZNode] {
  const path = r.str();
  const data_len = r.i32();
  const data = data_len === -1 ? null : r.slabBytes(data_len);
  const acl_index = r.u32();
  const acl = acls[acl_index];
  if (acl === undefined) throw new SnapshotFormatError(`node ${path} refers to unknown ACL ${acl_index}`);
  const czxid = r.num64();
  const mzxid = r.num64();
  const pzxid = r.num64();
  const ctime = r.num64();
  const mtime = r.num64();
  const version = r.i32();
  const cversion = r.i32();
  const aversion = r.i32();
  return [path, new ZNode(data, acl, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, r.i64())];
}

/** Stat fields after a node record's ACL index: czxid, mzxid, pzxid, ctime, mtime, version,
 *  cversion, aversion, ephemeralOwner. */
const NODE_RECORD_TAIL_BYTES = 5 * 8 + 3 * 4 + 8;

/** readNodeRecord's checks without decoding: the visitor gets the path's bytes. */
function skimNodeRecord(r: SnapReader, acl_count: number, visitor: SnapshotBytesVisitor): void {
  const path_len = r.u32();
  const path_off = r.skip(path_len);
  if (!isUtf8Path(r.buffer, path_off, path_len)) throw new SnapshotFormatError(`node path at offset ${path_off} is not UTF-8`);
  const data_len = r.i32();
  if (data_len < -1) throw new SnapshotFormatError(`node data length ${data_len} at offset ${r.offset - 4}`);
  if (data_len > 0) r.skip(data_len);
  const acl_index = r.u32();
  if (acl_index >= acl_count) throw new SnapshotFormatError(`node at offset ${path_off} refers to unknown ACL ${acl_index}`);
  r.skip(NODE_RECORD_TAIL_BYTES);
  visitor.nodeBytes(r.buffer, path_off, path_len, data_len);
}

/** Whether buf[off, off + len) is UTF-8: a loop for ASCII (almost every path), isUtf8 (a native call) for the rest. */
function isUtf8Path(buf: Uint8Array, off: number, len: number): boolean {
  let or = 0;
  for (let i = off; i < off + len; i++) or |= buf[i];
  return or < 0x80 || isUtf8(buf.subarray(off, off + len));
}

class SnapReader {
  constructor(
    private readonly buf: Uint8Array,
    private readonly view: DataView,
    public offset: number,
    private readonly end: number,
  ) {}

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.end) throw new SnapshotFormatError(`record truncated at offset ${this.offset}`);
  }
  get buffer(): Uint8Array {
    return this.buf;
  }
  /** Steps over n bytes; returns where they start. */
  skip(n: number): number {
    this.need(n);
    const at = this.offset;
    this.offset += n;
    return at;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.offset++];
  }
  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.offset);
    this.offset += 4;
    return x;
  }
  i32(): number {
    this.need(4);
    const x = this.view.getInt32(this.offset);
    this.offset += 4;
    return x;
  }
  num64(): number {
    this.need(8);
    const x = this.view.getInt32(this.offset) * U32 + this.view.getUint32(this.offset + 4);
    this.offset += 8;
    return x;
  }
  i64(): bigint {
    this.need(8);
    const x = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return x;
  }
  /** Where slabBytes copies small values: one allocation per SLAB_BYTES, not one per node. */
  private slab = new Uint8Array(0);
  private slab_at = 0;

  /**
   * A copy of n bytes in a shared slab (a view): a fresh ArrayBuffer per node costs ~3 us, a
   * slab view well under 1 us (measured in BENCHMARKS.md). A slab lives while any of its views
   * does, so at most the snapshot's data bytes stay pinned.
   */
  slabBytes(n: number): Uint8Array {
    if (n > SLAB_BYTES / 8) return this.bytes(n);
    this.need(n);
    if (this.slab_at + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.slab_at = 0;
    }
    const at = this.slab_at;
    const src = this.offset;
    for (let i = 0; i < n; i++) this.slab[at + i] = this.buf[src + i];
    this.offset += n;
    this.slab_at += n;
    return this.slab.subarray(at, at + n);
  }

  /** A copy (the file buffer is dropped after loading). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
  str(): string {
    const n = this.u32();
    this.need(n);
    const s = utf8Strict.decode(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return s;
  }
}
