// The node stream: a pinned root serialized node by node in key order (every parent before its
// children), for snapshots, and the input of the bulk loader (recovery). Written from a pinned
// TreeReader, e.g. in a piscina thread while the writer goes on (no copy-on-write hooks: the
// pinned root does not change). Records never span chunks. All integers big-endian:
//
//   | record | bytes                                                                        |
//   |--------|------------------------------------------------------------------------------|
//   | ACL    | u8 1, u32 acl id, u32 length, vector<ACL> as jute writes it                   |
//   | node   | u8 2, u32 path length, path (UTF-8), 68 B stored stat (record bytes 0..67:    |
//   |        | cversion as stored, raw ephemeralOwner, dataLength -1 for null), u32 acl id,  |
//   |        | data (max(0, dataLength) bytes)                                               |
//   | end    | u8 3, u32 node count, u32 last zxid high, u32 last zxid low                   |
//
// An ACL record precedes the first node that uses it; acl ids are only meaningful in one stream.

import { check } from './errors.js';
import { STAT_WIRE_BYTES } from './layout.js';
import type { NodeView } from './node_view.js';

export const TAG_ACL = 1;
export const TAG_NODE = 2;
export const TAG_END = 3;
/** Stored stat bytes in a node record (the record's first 68 bytes). */
export const NODE_STAT_BYTES = STAT_WIRE_BYTES;

const TWO_32 = 0x1_0000_0000;

/** A node stream that is malformed or inconsistent (the bulk loader refuses it). */
export class NodeStreamError extends Error {
  override readonly name = 'NodeStreamError';
}

export interface NodeStreamOptions {
  /** Bytes per chunk (a record larger than this gets a chunk of its own). */
  chunk_bytes?: number;
  /** The tree's last zxid, written in the end record. */
  last_zxid?: number;
}

/**
 * Writes every node of the version `view` reads (a pinned TreeReader) as chunks passed to
 * `sink`; each chunk is a fresh buffer the sink may keep. Returns the number of nodes.
 */
export function writeNodeStream(view: NodeView, sink: (chunk: Uint8Array) => void, options: NodeStreamOptions = {}): number {
  const chunk_bytes = options.chunk_bytes ?? 1 << 20;
  check(chunk_bytes >= 64, 'chunk_bytes < 64');
  let chunk = new Uint8Array(chunk_bytes);
  let dv = new DataView(chunk.buffer);
  let at = 0;
  const ensure = (bytes: number): void => {
    if (at + bytes <= chunk.length) return;
    if (at > 0) sink(chunk.subarray(0, at));
    chunk = new Uint8Array(Math.max(chunk_bytes, bytes));
    dv = new DataView(chunk.buffer);
    at = 0;
  };
  const acl_ids = new Map<number, number>();
  let nodes = 0;
  view.openAll();
  while (view.nextNode()) {
    const acl_key = view.aclAddr() * TWO_32 + view.aclSerial();
    let acl_id = acl_ids.get(acl_key);
    if (acl_id === undefined) {
      acl_id = acl_ids.size + 1;
      acl_ids.set(acl_key, acl_id);
      const len = view.aclWireLength();
      ensure(9 + len);
      chunk[at] = TAG_ACL;
      dv.setUint32(at + 1, acl_id);
      dv.setUint32(at + 5, len);
      view.copyAcl(chunk, at + 9);
      at += 9 + len;
    }
    const path_len = view.nodePathLength();
    const data_len = Math.max(0, view.dataLength());
    ensure(1 + 4 + path_len + NODE_STAT_BYTES + 4 + data_len);
    chunk[at] = TAG_NODE;
    dv.setUint32(at + 1, path_len);
    let o = at + 5 + view.copyNodePath(chunk, at + 5);
    view.storedStatTo(chunk, o);
    o += NODE_STAT_BYTES;
    dv.setUint32(o, acl_id);
    o += 4;
    o += view.copyData(chunk, o);
    at = o;
    nodes++;
  }
  ensure(13);
  const zxid = options.last_zxid ?? 0;
  chunk[at] = TAG_END;
  dv.setUint32(at + 1, nodes);
  dv.setUint32(at + 5, Math.floor(zxid / TWO_32));
  dv.setUint32(at + 9, zxid % TWO_32);
  at += 13;
  sink(chunk.subarray(0, at));
  return nodes;
}
