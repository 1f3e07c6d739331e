// Binary encoding of a Txn, for the ring from the commit worker to the read workers and for the
// durable log. Jute primitives (big-endian, int32-prefixed strings/buffers/vectors, -1 = null).
//
// Layout (format version 1):
//   u8 format_version | long session_id | int cxid | long zxid | long time_ms | op
//   op = u8 tag | fields by tag (OP_TAGS below); a multi is `int count` + that many non-multi ops.
// Round trip is exact: decode(encode(t)) deep-equals t, null data included.

import { JuteError, JuteReader, JuteWriter } from '../protocol/jute.js';
import type { ACL } from '../protocol/types.js';
import type { Txn, TxnOp } from './txn.js';

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
} as const satisfies Record<TxnOp['kind'], number>;

type OpKind = keyof typeof OP_TAGS;

const KIND_BY_TAG: ReadonlyMap<number, OpKind> = new Map(
  (Object.entries(OP_TAGS) as [OpKind, number][]).map(([kind, tag]) => [tag, kind]),
);

/** JuteWriter has no raw byte: reserve one with writeBool and overwrite it in place. */
function writeU8(w: JuteWriter, v: number): void {
  w.writeBool(false);
  w.view_bytes()[w.length - 1] = v;
}

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
  writeU8(w, TXN_FORMAT_VERSION);
  w.writeLong(header.session_id).writeInt(header.cxid).writeLong53(header.zxid).writeLong53(header.time_ms);
  encodeOp(txn.op, w, false);
}

function encodeOp(op: TxnOp, w: JuteWriter, in_multi: boolean): void {
  writeU8(w, OP_TAGS[op.kind]);
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
