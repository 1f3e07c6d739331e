// Binary encoding of a Txn, for the ring from the commit worker to the read workers and for the
// durable log. Jute primitives (big-endian, int32-prefixed strings/buffers/vectors, -1 = null).
//
// Layout (format version 1):
//   u8 format_version | long session_id | int cxid | long zxid | long time_ms | op
//   op = u8 tag | fields by tag (OP_TAGS below); a multi is `int count` + that many non-multi ops.
// Round trip is exact: decode(encode(t)) deep-equals t, null data included.

import { int32At, JuteError, JuteReader, JuteWriter } from '../protocol/jute.js';
import type { ACL } from '../protocol/types.js';
import type { Txn, TxnHeader, TxnOp } from './txn.js';
import { utf8Lenient } from '../protocol/utf8.js';

export const TXN_FORMAT_VERSION = 1;

/** Op kind -> wire tag. Tags are part of the durable format: never renumber, only append. */
const OP_TAGS = {
  create: 1,
  delete: 2,
  setData: 3,
  setACL: 4,
  check: 5,
  createSession: 6,
  closeSession: 7,
  error: 8,
  multi: 9,
  reconfig: 10,
} as const satisfies Record<TxnOp['kind'], number>;

type OpKind = keyof typeof OP_TAGS;

const KIND_BY_TAG: ReadonlyMap<number, OpKind> = new Map(
  (Object.entries(OP_TAGS) as [OpKind, number][]).map(([kind, tag]) => [tag, kind]),
);

function readU8(r: JuteReader): number {
  if (r.remaining() < 1) throw new JuteError(`truncated: need 1 byte at ${r.offset}`);
  return r.bytes[r.offset++];
}

function writeAcl(w: JuteWriter, acl: ACL): void {
  w.writeInt(acl.perms).writeUString(acl.id.scheme).writeUString(acl.id.id);
}

function readAcl(r: JuteReader): ACL {
  const perms = r.readInt();
  const scheme = r.readString();
  return { perms, id: { scheme, id: r.readString() } };
}

function readAcls(r: JuteReader): ACL[] {
  const acl = r.readVector(readAcl);
  if (acl === null) throw new JuteError('null ACL vector in txn');
  return acl;
}

function readBytes(r: JuteReader): Uint8Array {
  const b = r.readBuffer();
  if (b === null) throw new JuteError('null buffer in txn');
  return b;
}

export function encodeTxn(txn: Txn, w: JuteWriter): void {
  const { header } = txn;
  w.writeByte(TXN_FORMAT_VERSION);
  w.writeLong(header.session_id).writeInt(header.cxid).writeLong53(header.zxid).writeLong53(header.time_ms);
  encodeOp(txn.op, w, false);
}

function encodeOp(op: TxnOp, w: JuteWriter, in_multi: boolean): void {
  w.writeByte(OP_TAGS[op.kind]);
  switch (op.kind) {
    case 'create':
      w.writeUString(op.path).writeBuffer(op.data).writeVector(op.acl, writeAcl);
      w.writeLong(op.ephemeral_owner).writeInt(op.parent_cversion).writeInt(op.opcode);
      return;
    case 'delete':
      w.writeUString(op.path).writeInt(op.opcode);
      return;
    case 'setData':
      w.writeUString(op.path).writeBuffer(op.data).writeInt(op.version);
      return;
    case 'setACL':
      w.writeUString(op.path).writeVector(op.acl, writeAcl).writeInt(op.version);
      return;
    case 'check':
      w.writeUString(op.path).writeInt(op.version);
      return;
    case 'reconfig':
      if (in_multi) throw new JuteError('reconfig inside a multi');
      w.writeBuffer(op.data);
      return;
    case 'createSession':
      w.writeInt(op.timeout_ms).writeBuffer(op.passwd);
      return;
    case 'closeSession':
      w.writeVector(op.paths, (ww, p) => void ww.writeUString(p));
      return;
    case 'error':
      w.writeInt(op.err);
      return;
    case 'multi':
      if (in_multi) throw new JuteError('multi nested in a multi');
      w.writeInt(op.ops.length);
      for (const sub of op.ops) encodeOp(sub, w, true);
      return;
  }
}

/** Reads one txn; the reader is left just after it (the caller checks for trailing bytes). */
export function decodeTxn(r: JuteReader): Txn {
  const version = readU8(r);
  if (version !== TXN_FORMAT_VERSION) throw new JuteError(`unknown txn format version ${version}`);
  const session_id = r.readLong();
  const cxid = r.readInt();
  const zxid = r.readLong53();
  const time_ms = r.readLong53();
  return { header: { session_id, cxid, zxid, time_ms }, op: decodeOp(r, false) };
}

function decodeOp(r: JuteReader, in_multi: boolean): TxnOp {
  const tag = readU8(r);
  const kind = KIND_BY_TAG.get(tag);
  switch (kind) {
    case 'create': {
      const path = r.readString();
      const data = r.readBuffer();
      const acl = readAcls(r);
      return { kind, path, data, acl, ephemeral_owner: r.readLong(), parent_cversion: r.readInt(), opcode: r.readInt() };
    }
    case 'delete':
      return { kind, path: r.readString(), opcode: r.readInt() };
    case 'setData': {
      const path = r.readString();
      return { kind, path, data: r.readBuffer(), version: r.readInt() };
    }
    case 'setACL': {
      const path = r.readString();
      return { kind, path, acl: readAcls(r), version: r.readInt() };
    }
    case 'check':
      return { kind, path: r.readString(), version: r.readInt() };
    case 'reconfig':
      if (in_multi) throw new JuteError('reconfig inside a multi');
      return { kind, data: readBytes(r) };
    case 'createSession':
      return { kind, timeout_ms: r.readInt(), passwd: readBytes(r) };
    case 'closeSession': {
      const paths = r.readVector((rr) => rr.readString());
      if (paths === null) throw new JuteError('null path vector in closeSession');
      return { kind, paths };
    }
    case 'error':
      return { kind, err: r.readInt() };
    case 'multi':
      return decodeMulti(r, in_multi);
    case undefined:
      throw new JuteError(`unknown txn op tag ${tag}`);
  }
}

function decodeMulti(r: JuteReader, in_multi: boolean): TxnOp {
  if (in_multi) throw new JuteError('multi nested in a multi');
  const count = r.readInt();
  // Every op takes at least two bytes (tag + a field), so a larger count is malformed.
  if (count < 0 || count > r.remaining()) throw new JuteError(`bad multi op count ${count}`);
  const ops: TxnOp[] = [];
  for (let i = 0; i < count; i++) ops.push(decodeOp(r, true));
  return { kind: 'multi', ops };
}

/** Where a txn's op tag lies: after the version byte, session id, cxid, zxid and time. */
const OP_TAG_OFFSET = 1 + 8 + 4 + 8 + 8;

/** Whether these bytes (one encoded txn) are a reconfig, read from the op tag alone (no decode). */
export function isReconfigTxn(bytes: Uint8Array): boolean {
  return bytes.length > OP_TAG_OFFSET && bytes[0] === TXN_FORMAT_VERSION && bytes[OP_TAG_OFFSET] === OP_TAGS.reconfig;
}

/** The encoding of one txn as a fresh byte array. */
export function txnToBytes(txn: Txn): Uint8Array {
  const w = new JuteWriter(128);
  encodeTxn(txn, w);
  return w.toBytes();
}

/** Decodes exactly one txn spanning all of `bytes` (trailing bytes are an error). */
export function txnFromBytes(bytes: Uint8Array): Txn {
  const r = new JuteReader(bytes);
  const txn = decodeTxn(r);
  r.expectEnd();
  return txn;
}

const TWO_32 = 0x1_0000_0000;
const ascii_latin1 = (b: Buffer, start: number, end: number): string => b.toString('latin1', start, end);

/**
 * Decodes many txns in a row (recovery's log replay) with fewer objects than decodeTxn: the
 * common ops (create, setData, delete) are read straight from the bytes, an ACL list equal byte
 * for byte to the previous one is the same array again (lists are never mutated), and with
 * `data_views` a data field is a view of the input, not a copy (only for a consumer that copies
 * what it keeps before the input changes: the shared tree's Applier). Anything else, and any
 * field out of the ordinary (a null string, a bad length, trailing bytes...), goes to
 * decodeTxn, which decodes it or throws exactly as it would have: the result is always what
 * txnFromBytes gives (deep-equal).
 */
export class TxnBulkDecoder {
  private ab: ArrayBufferLike | null = null;
  private dv: DataView | null = null;
  private text: Buffer | null = null;
  private acl_bytes = new Uint8Array(0);
  private acl_len = -1;
  private acl: ACL[] = [];

  constructor(private readonly data_views: boolean) {}

  /** Decodes exactly one txn spanning all of `bytes` (trailing bytes are an error). */
  decode(bytes: Uint8Array): Txn {
    return this.fast(bytes) ?? txnFromBytes(bytes);
  }

  /** Views of the whole buffer under `bytes`, made once per buffer (a log reader reuses one). */
  private attach(bytes: Uint8Array): void {
    if (bytes.buffer === this.ab) return;
    this.ab = bytes.buffer;
    this.dv = new DataView(bytes.buffer);
    this.text = Buffer.from(bytes.buffer);
  }

  private fast(bytes: Uint8Array): Txn | null {
    const end = bytes.length;
    // version, session, cxid, zxid, time, tag, and a 4-byte length or int at least.
    if (end < 1 + 8 + 4 + 8 + 8 + 1 + 4 || bytes[0] !== TXN_FORMAT_VERSION) return null;
    const tag = bytes[29];
    if (tag !== OP_TAGS.create && tag !== OP_TAGS.setData && tag !== OP_TAGS.delete) return null;
    this.attach(bytes);
    const dv = this.dv!;
    const base = bytes.byteOffset;
    const session_id = dv.getBigInt64(base + 1);
    const cxid = int32At(bytes, 9);
    const zxid = int32At(bytes, 13) * TWO_32 + (int32At(bytes, 17) >>> 0);
    const time_ms = int32At(bytes, 21) * TWO_32 + (int32At(bytes, 25) >>> 0);
    if (!Number.isSafeInteger(zxid) || !Number.isSafeInteger(time_ms)) return null;
    const header: TxnHeader = { session_id, cxid, zxid, time_ms };
    // The path: a non-null string.
    const path_len = int32At(bytes, 30);
    let at = 34;
    if (path_len < 0 || path_len > end - at) return null;
    const path = this.string(bytes, at, path_len);
    at += path_len;
    if (tag === OP_TAGS.delete) {
      if (end - at !== 4) return null;
      return { header, op: { kind: 'delete', path, opcode: int32At(bytes, at) } };
    }
    // Data: a buffer, null for length -1.
    if (end - at < 4) return null;
    const data_len = int32At(bytes, at);
    at += 4;
    if (data_len < -1 || data_len > end - at) return null;
    let data: Uint8Array | null = null;
    if (data_len >= 0) {
      data = this.data_views ? bytes.subarray(at, at + data_len) : bytes.slice(at, at + data_len);
      at += data_len;
    }
    if (tag === OP_TAGS.setData) {
      if (end - at !== 4) return null;
      return { header, op: { kind: 'setData', path, data, version: int32At(bytes, at) } };
    }
    const acl = this.aclList(bytes, at);
    if (acl === null) return null;
    at += this.acl_len;
    // ephemeral owner (8), parent cversion (4), opcode (4), and nothing after.
    if (end - at !== 16) return null;
    const ephemeral_owner = int32At(bytes, at) === 0 && int32At(bytes, at + 4) === 0 ? 0n : dv.getBigInt64(base + at);
    return {
      header,
      op: { kind: 'create', path, data, acl, ephemeral_owner, parent_cversion: int32At(bytes, at + 8), opcode: int32At(bytes, at + 12) },
    };
  }

  /** bytes[at, at + len) as a string, as JuteReader reads it (UTF-8, lenient). */
  private string(bytes: Uint8Array, at: number, len: number): string {
    let or = 0;
    for (let i = at; i < at + len; i++) or |= bytes[i];
    if (or < 0x80) return ascii_latin1(this.text!, bytes.byteOffset + at, bytes.byteOffset + at + len);
    return utf8Lenient.decode(bytes.subarray(at, at + len));
  }

  /** The ACL vector at bytes[at]: the previous list when the bytes are the same; its length in acl_len. */
  private aclList(bytes: Uint8Array, at: number): ACL[] | null {
    const n = this.acl_len;
    if (n > 0 && n <= bytes.length - at) {
      const prev = this.acl_bytes;
      let i = 0;
      while (i < n && prev[i] === bytes[at + i]) i++;
      // The same bytes decode to the same list and end at the same place.
      if (i === n) return this.acl;
    }
    const r = new JuteReader(bytes, at);
    let acl: ACL[] | null;
    try {
      acl = r.readVector(readAcl);
    } catch {
      return null;
    }
    if (acl === null) return null;
    this.acl = acl;
    this.acl_len = r.offset - at;
    this.acl_bytes = bytes.slice(at, r.offset);
    return acl;
  }
}
