// Writes the net worker sends straight to the commit worker (waitfree.net.directWrites). Through
// the shard a write crosses four threads' wake-ups (net → shard → commit → shard → net), each
// ~25-40 µs of a VM's kernel time, more than the write's own work. A write of a session with
// nothing in flight but earlier direct writes goes net → commit → net instead (a pipelined burst
// of writes goes direct as a whole; at most maxOutstandingPerSession at a time):
//
//   net:    NetToShard.DIRECT_WRITE (the placeholder, no doorbell) to the session's shard, then
//           NetToCommit.REQUEST to the commit worker;
//   commit: prep, log, release as for any write; the APPLIED frame (APPLIED_WRITE_ANSWERED) and
//           the ROOT go on the commit stream, and once they are published the reply goes to the
//           net worker (CommitToNet.SEND);
//   shard:  fires the txn's watches as for any write, and at ROOT completes the placeholder
//           without answering; what the session sent behind the write waited behind it.
//
// Why each guarantee holds:
// - FIFO: the session had nothing in flight but direct writes (every request the net worker
//   forwarded to the shard was answered), and those reach the commit worker before it on the
//   same ring; what the session sends next through the shard waits behind the placeholders and
//   is served only after their commits, from their root, and what the shard forwards for it
//   meanwhile is marked AFTER_DIRECT (the commit worker takes the net worker's ring first). Its
//   replies can still reach the net worker before the writes' own (two rings): the net worker
//   holds a connection's shard frames while any direct write of it is unanswered, and counts
//   them as answered only once written (conn_flow.ts: the per-connection state and these
//   decisions, driven by net_worker.ts and by the replica simulator).
// - Read-your-writes and linearizable writes: the reply is published after the stream frames
//   and the root that hold the write (commit_worker.ts publishOutputs); any read sent after it
//   is served at that root or a newer one (a shard reads the stream before client frames; a fast
//   read takes only the newest root).
// - Watch-before-data: another session's events come from its shard as for any write. The
//   writer's own events would come from its shard and could follow the reply; so a session that
//   may have a watch never writes directly (mayWatch below: sticky for the connection, ConnFlow).
// - Auth: the commit worker checks ACLs with the connection's ids, which the shard sends it
//   (AUTH_ADD). An auth packet's ids could still be on their way behind the write, so a
//   connection that ever sent auth or sasl never writes directly.
//
// The rule is conservative and per connection: anything else (sync, closeSession, session ops,
// reads) takes the usual path through the shard.

import { int32At } from '../../protocol/jute.js';
import { isCredentialOp, Op, TXN_WRITE_OPS } from '../../protocol/opcodes.js';

/** Reads whose body ends with a `bool watch`. */
const WATCH_FLAG_LAST: ReadonlySet<number> = new Set([Op.getData, Op.exists, Op.getChildren, Op.getChildren2]);

/** Requests that set watches whatever their body says (or whose body this module does not read). */
const SETS_WATCHES: ReadonlySet<number> = new Set([Op.setWatches, Op.setWatches2, Op.addWatch, Op.multiRead]);

/** xid + opcode: a payload shorter than this is the shard's to refuse. */
const HEADER_BYTES = 8;

// Each takes a client frame without its length prefix, payload[start, end) (the whole array by
// default).

/** The opcode of a client frame, or null if it has no header. */
function opcodeOf(payload: Uint8Array, start: number, end: number): number | null {
  return end - start < HEADER_BYTES ? null : int32At(payload, start + 4);
}

/** Whether a payload is a write that may go direct: one whose prep always makes a txn
 *  (TXN_WRITE_OPS; its body is the commit worker's to check). */
export function isDirectWriteOp(payload: Uint8Array, start = 0, end = payload.length): boolean {
  const opcode = opcodeOf(payload, start, end);
  return opcode !== null && TXN_WRITE_OPS.has(opcode);
}

/**
 * Whether a request the connection sent may leave a watch on the session: a read with its watch
 * flag set (or a body too short to tell), or a request that sets watches. Conservative: a flag
 * set on a malformed body counts too.
 */
export function mayWatch(payload: Uint8Array, start = 0, end = payload.length): boolean {
  const opcode = opcodeOf(payload, start, end);
  if (opcode === null) return false;
  if (SETS_WATCHES.has(opcode)) return true;
  if (!WATCH_FLAG_LAST.has(opcode)) return false;
  return end - start <= HEADER_BYTES || payload[end - 1] !== 0;
}

/** Whether a request carries credentials (auth, sasl): the connection's ACL ids may change. */
export function isAuthOp(payload: Uint8Array, start = 0, end = payload.length): boolean {
  const opcode = opcodeOf(payload, start, end);
  return opcode !== null && isCredentialOp(opcode);
}

/** ConnectResponse: protocolVersion, timeOut, sessionId, passwd (int length + bytes), [readOnly]. */
const SESSION_ID_AT = 4 + 4 + 4;
const PASSWD_LENGTH_AT = SESSION_ID_AT + 8;

/**
 * The session a ConnectResponse frame (length prefix included, at `at`) gives its connection:
 * 0n when it is refused (sessionId 0), or when the session is read-only (its writes are answered
 * NOTREADONLY by the shard), or the frame is too short to tell.
 */
export function directSessionOf(bytes: Uint8Array, at: number, end: number): bigint {
  if (end - at < PASSWD_LENGTH_AT + 4) return 0n;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, end - at);
  const session_id = view.getBigInt64(SESSION_ID_AT);
  const passwd_bytes = view.getInt32(PASSWD_LENGTH_AT);
  if (passwd_bytes < 0) return 0n;
  const read_only_at = PASSWD_LENGTH_AT + 4 + passwd_bytes;
  if (read_only_at < end - at && bytes[at + read_only_at] !== 0) return 0n;
  return session_id;
}
