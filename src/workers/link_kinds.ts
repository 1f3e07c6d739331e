// Frame kinds on each link of a replica. First byte of every link frame.
//
//   net ──NetToShard──▶ shard ──ShardToCommit──▶ commit ──CommitStream (broadcast)──▶ every shard
//   net ◀──ShardToNet── shard
//   net ──NetToCommit──▶ commit ──CommitToNet──▶ net      (direct writes: net/direct_write.ts)
//
// Kind 0 is reserved on every link for the pieces of a message larger than the ring's frame
// bound (LINK_PIECE, see link.ts): a reply of many MiB or a txn deleting 10^5 ephemerals travels
// as consecutive pieces that the reading side reassembles before its handler sees the message.

/** Kind byte of a piece of a large message, on every link. Layout: u8 LINK_PIECE, u8 first (1|0),
 *  first piece only: u32 message_bytes; then the piece's bytes. Pieces of one message are
 *  consecutive in the ring (one producer per ring, written in one call). */
export const LINK_PIECE = 0;

/** Largest message a link carries in pieces. A larger one is a broken invariant of the sender:
 *  client-facing bounds (jute.maxbuffer, waitfree.replyBytesMax) are checked before this. */
export const LINK_MESSAGE_BYTES_MAX = 1024 * 1024 * 1024;

/** net worker → session shard. Layouts: see net_worker.ts / shard_worker.ts. */
export const NetToShard = {
  /** u32 conn_id, str8 remote_ip, u32 remote_port */
  OPEN: 1,
  /** u32 conn_id, then one client frame payload (without the length prefix) */
  DATA: 2,
  /** u32 conn_id: the socket closed (peer, error, or malformed input) */
  CLOSED: 3,
  /** u32 conn_id, i32 xid, i32 opcode, i32 err, i64 zxid, f64 latency_ms: a read the net worker
   *  answered itself (net/fast_read.ts), for the session's touch and the shard's counters only.
   *  Sent without a doorbell: the shard takes it on its next turn. */
  SERVED: 4,
  /** u32 conn_id, i32 xid, i32 opcode, f64 received_ms (epoch): a write the net worker sent
   *  straight to the commit worker (NetToCommit.REQUEST, net/direct_write.ts). The shard holds
   *  its place in the session's FIFO until the commit stream completes it; it never answers it
   *  (the commit worker does). Published before the request, without a doorbell. */
  DIRECT_WRITE: 5,
} as const;

/** Where the body of a ShardToNet.SEND frame starts in its ring slot, mod 8: ring frames start
 *  8-aligned, with a u32 length, then the u8 kind and the u32 conn_id. A reply encoded at this
 *  alignment is copied into the ring at word speed (V8 copies to a SharedArrayBuffer byte by
 *  byte when the addresses disagree mod 8: memory/shared_copy.ts). */
export const SEND_BODY_ALIGN_BYTES = (4 + 1 + 4) % 8;

/** session shard → net worker. */
export const ShardToNet = {
  /** u32 conn_id, then bytes to write (one or more length-prefixed frames) */
  SEND: 1,
  /** u32 conn_id: flush what was sent, then close the socket */
  CLOSE: 2,
  /** u32 conn_id: stop reading from the socket (the session has too many requests in flight) */
  PAUSE: 3,
  /** u32 conn_id: resume reading */
  RESUME: 4,
} as const;

/** session shard → commit worker. */
export const ShardToCommit = {
  /** u32 conn_id, i64 session_id, u8 flags (REQUEST_BARRIER, AFTER_DIRECT), then the request
   *  (jute header + body) */
  REQUEST: 1,
  /** u32 conn_id, i32 timeout_ms (negotiated), u8 allows_read_only: create a session for this connection */
  SESSION_CREATE: 2,
  /** u32 conn_id, i64 session_id, i32 timeout_ms, 16 B passwd, u8 allows_read_only: reattach an existing session */
  SESSION_REATTACH: 3,
  /** u32 conn_id, then the id (auth_frame.ts): the connection authenticated as this id */
  AUTH_ADD: 4,
  /** u32 count, then count × i64 session ids that sent something since the last touch */
  TOUCH: 5,
  /** u32 conn_id, i64 session_id (0 if none), u8 flags (AFTER_DIRECT): the connection is gone */
  CONN_GONE: 6,
} as const;

/** ShardToCommit flag: a read of the connection waits between this request and an earlier
 *  unanswered one (shard_session.ts needsBarrier): they must not share a root. */
export const REQUEST_BARRIER = 1;
/** ShardToCommit flag: the connection has a direct write (NetToCommit.REQUEST) the shard has
 *  not seen completed. That write is already in the net worker's ring (published before its
 *  placeholder, which the shard has read); the commit worker takes everything in that ring
 *  before this frame, so the connection's order holds across the two rings. */
export const AFTER_DIRECT = 2;

/** net worker → commit worker (net/direct_write.ts). */
export const NetToCommit = {
  /** u8 shard, u32 conn_id, i64 session_id, then the request (jute header + body): a write of a
   *  session with nothing in flight, its placeholder already in the shard's ring. The commit
   *  worker answers it itself (CommitToNet.SEND) and tells the shard (APPLIED_WRITE_ANSWERED,
   *  or CommitStream.ERROR with answered = 1). */
  REQUEST: 1,
} as const;

/** commit worker → net worker: the replies to direct writes. */
export const CommitToNet = {
  /** u32 conn_id, then one reply frame (length prefix included). Published only after the
   *  commit-stream frames and the root that hold its txn (a read sent after it sees the write). */
  SEND: 1,
  /** u32 conn_id: the commit worker closed this connection (CommitStream.CLOSE_CONN: a failed
   *  log batch, a lost quorum, a decoder bug): a direct write of it in flight will never be
   *  answered, so the net worker closes it at once, writing nothing more (what is held behind
   *  that write cannot go out in order). A connection without one waits for its shard's CLOSE. */
  CLOSE: 2,
} as const;

/** commit worker → every session shard (broadcast). `origin` = u8 shard, u32 conn_id, i32 xid. */
export const CommitStream = {
  /** origin, i64 zxid, u8 what (APPLIED_*), i32 err, [APPLIED_CREATE_SESSION: i64 session_id,
   *  i32 timeout_ms, 16 B passwd], then the body of applied_frame.ts (watch triggers, reply
   *  body): a committed txn, applied once by the commit worker. Every shard fires the triggers;
   *  the origin answers once the batch's ROOT arrives. */
  APPLIED: 1,
  /** origin, i64 session_id, i32 timeout_ms, 16 B passwd, u8 ok (0 refused, 1 ok, 2 ok as a
   *  read-only session): answer to SESSION_CREATE and SESSION_REATTACH */
  SESSION: 2,
  /** origin, str8... path follows as jute ustring: answer to sync, ordered after earlier writes */
  SYNC: 3,
  /** u8 shard, u32 conn_id: close this connection (its session expired or moved away) */
  CLOSE_CONN: 4,
  /** origin, i32 err, u8 answered (1: a direct write, the commit worker sent the reply itself):
   *  a request answered with an error without a txn */
  ERROR: 5,
  /** origin (none), i64 zxid: Zab replaced this replica's state (TRUNC / SNAP): every shard drops
   *  its connections and reloads its tree from the data dir, up to zxid (what the commit worker
   *  recovered; the log may already hold more by the time the shard reads it). */
  RELOAD: 6,
  /** origin (none), u32 gen, u32 znode_root, u32 owner_root, u32 node_count, i64 last_zxid,
   *  f64 data_bytes: the shared tree's root after the APPLIED frames above it (one per commit
   *  batch). A shard fires a batch's watches, then moves its pin to this root, then answers
   *  the batch's writes: watch-before-data and read-your-writes both hold. */
  ROOT: 7,
} as const;

/** CommitStream.APPLIED's `what`: how the origin shard completes the txn. */
export const APPLIED_WRITE = 0;
export const APPLIED_CREATE_SESSION = 1;
export const APPLIED_CLOSE_SESSION = 2;
/** A direct write (NetToCommit.REQUEST): the commit worker sent its reply to the net worker; the
 *  origin shard completes the write's placeholder in the session's FIFO without answering. */
export const APPLIED_WRITE_ANSWERED = 3;

/** Origin shard value for txns the server made itself (expiry, reaping). */
export const NO_SHARD = 255;
