// The body of a CommitStream.APPLIED frame: what a session shard needs of a committed txn, made
// once per replica by the commit worker's Applier: the watch triggers every shard fires, and
// the reply body the origin shard answers with. Shards never decode or apply txns.
// Both sides import this module. Layout (jute integers, big-endian):
//
//   int  trigger count
//   per trigger: int event type, bool anyone_may_read, [buffer: the node's ACL as vector<ACL>
//                when not anyone_may_read: the shard filters the event by it], ustring path
//   int  reply body bytes (the reply record without its header; 0: the header alone)
//   the reply body

import { Perms } from '../protocol/constants.js';
import { JuteReader, type JuteWriter } from '../protocol/jute.js';
import { encodeReplyBody } from '../protocol/messages.js';
import type { ACL } from '../protocol/types.js';
import { decodeAclWire, encodeAclWire } from '../store/arena/acl_store.js';
import { anyoneMay } from '../tree/acl.js';
import type { ApplyResult } from '../tree/data_tree.js';
import { writeReplyBody } from '../tree/write_reply.js';

/** Writes the body of an APPLIED frame for `result`; `opcode` picks the reply record. */
export function encodeApplied(w: JuteWriter, opcode: number, result: ApplyResult): void {
  w.writeInt(result.events.length);
  for (const ev of result.events) {
    w.writeInt(ev.type);
    const open = anyoneMay(ev.acl, Perms.READ);
    w.writeBool(open);
    if (!open) w.writeBuffer(encodeAclWire(ev.acl));
    w.writeUString(ev.path);
  }
  const at = w.beginFrame();
  const reply = writeReplyBody(opcode, result);
  if (reply.name !== null && reply.body !== null) encodeReplyBody(reply.name, reply.body as never, w);
  w.finishFrame(at);
}

/** One trigger as the shard reads it; `acl` is null when anyone may read the node. */
export interface AppliedTrigger {
  type: number;
  path: string;
  acl: readonly ACL[] | null;
}

/**
 * Reads an APPLIED body: the triggers (visited in order; skipped unread when `onTrigger` is null:
 * a shard that holds no watch), then the reply body (a copy: it is answered later), or null
 * without reading it when the caller does not answer this txn (every shard but the origin's).
 */
export function readApplied(bytes: Uint8Array, start: number, end: number, onTrigger: ((t: AppliedTrigger) => void) | null, keep_body: boolean): Uint8Array | null {
  if (onTrigger === null && !keep_body) return null;
  const r = new JuteReader(bytes, start, end);
  // ACL wire bytes are decoded at once, while the ring's frame is still valid: no copy.
  r.buffers_as_views = true;
  const count = r.readInt();
  const t: AppliedTrigger = { type: 0, path: '', acl: null };
  for (let i = 0; i < count; i++) {
    t.type = r.readInt();
    const open = r.readBool();
    if (onTrigger === null) {
      if (!open) r.skipBuffer();
      r.skipBuffer(); // the path: a string has a buffer's length prefix
      continue;
    }
    if (open) t.acl = null;
    else {
      const wire = r.readBuffer() ?? new Uint8Array(0);
      t.acl = decodeAclWire(wire, 0, wire.length);
    }
    t.path = r.readString();
    onTrigger(t);
  }
  if (!keep_body) return null;
  const body = r.readBuffer();
  return body === null ? new Uint8Array(0) : body.slice();
}

