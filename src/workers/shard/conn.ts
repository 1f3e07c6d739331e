// One client connection as its session shard sees it: handshake state, the session, the
// connection's authenticated ids, and its FIFO of requests not yet answered.
//
// FIFO invariant: replies leave in the order requests arrived. `queue[0]` is the oldest
// unanswered request; a read or session op is served only when it reaches the head, so it sees
// every write the session sent before it (those writes complete first, via the commit stream).

import type { DigestMd5Server } from '../../auth/digest_md5_server.js';
import type { ServerRequest } from '../../protocol/messages.js';
import type { Id, RequestHeader } from '../../protocol/types.js';
import { addAuthId } from '../../session/auth_id_set.js';

export type ConnState =
  /** Waiting for the ConnectRequest. */
  | 'handshake'
  /** ConnectRequest forwarded to the commit worker; requests queue until it answers. */
  | 'connecting'
  | 'connected'
  /** Closing: nothing more is read or answered. */
  | 'closed';

export interface Pending {
  readonly header: RequestHeader;
  /** The decoded request; null for a direct write's placeholder (the net worker sent the
   *  request to the commit worker itself: NetToShard.DIRECT_WRITE), which is never served here. */
  readonly request: ServerRequest | null;
  /** The raw request payload (forwarded to the commit worker for writes). */
  readonly payload: Uint8Array | null;
  /** True once forwarded to the commit worker: answered when its commit comes back. */
  forwarded: boolean;
  readonly received_ms: number;
}

export class Conn {
  state: ConnState = 'handshake';
  session_id = 0n;
  timeout_ms = 0;
  /** The ConnectRequest's trailing readOnly byte: null if the client omitted it (old clients). */
  read_only_byte: boolean | null = null;
  /** The session was opened while the replica was in read-only mode (readonlymode.enabled):
   *  reads are served, writes answered NOTREADONLY here (read_only_ops.ts), nothing forwarded. */
  read_only = false;
  /** lastZxidSeen of the ConnectRequest: a client must not see the tree go back in time. */
  last_zxid_seen = 0;
  /** Authenticated ids, in the order ZooKeeper iterates them (auth_id_set.ts); no duplicates. */
  readonly auth: Id[] = [];
  is_super = false;
  /** The connection's SASL exchange, from its first sasl packet (when SASL is configured). One
   *  per connection, of fixed size: once it is over, further packets fail and close. */
  sasl: DigestMd5Server | null = null;
  readonly queue: Pending[] = [];
  /** Direct writes completed by the commit stream before their placeholders arrived from the
   *  net worker (the shard reads the commit stream first, and the placeholders ring no doorbell:
   *  several can be committed before the shard reads one), oldest first. Each placeholder is
   *  completed on arrival. Invariant: while this is not empty the FIFO is empty (each write was
   *  sent with nothing but direct writes in flight, completions and placeholders both come in
   *  the session's order, and what the session sent next is behind its placeholder). */
  readonly direct_done: { xid: number; err: number; zxid: number }[] = [];
  /** Direct writes' placeholders in the FIFO, not yet completed. What this shard sends the
   *  commit worker for the connection meanwhile is marked AFTER_DIRECT: it travels on another
   *  ring than the direct writes, and the commit worker must take them first. */
  direct_waiting = 0;
  /** Listed in the shard's touched connections (the session's next TOUCH names it). */
  touched = false;
  /** Reads from the socket are paused because the queue reached its bound. */
  paused = false;
  // Counters for `cons` / `stat`.
  packets_received = 0;
  packets_sent = 0;
  last_op = 'NA';
  last_cxid = -1;
  last_zxid = -1;
  last_response_ms = 0;
  latency_min_ms = Number.POSITIVE_INFINITY;
  latency_max_ms = 0;
  latency_total_ms = 0;
  latency_count = 0;
  /** The latency of the last request answered (cons' llat). */
  last_latency_ms = 0;

  constructor(
    readonly id: number,
    readonly remote_ip: string,
    readonly remote_port: number,
    readonly established_ms: number,
  ) {
    // As ZooKeeper's connection does when it opens (NIOServerCnxn): the peer's ip id is there
    // from the start, and whoAmI lists it where the hash order puts it (auth_id_set.ts).
    this.addAuthId({ scheme: 'ip', id: remote_ip });
  }

  /** Adds an id unless present (in ZooKeeper's order, see auth_id_set.ts); true when added. */
  addAuthId(id: Id): boolean {
    return addAuthId(this.auth, id);
  }

  /** crst (ServerCnxn.resetStats): counters, latency and the last operation as at the start. */
  resetStats(): void {
    this.packets_received = 0;
    this.packets_sent = 0;
    this.last_op = 'NA';
    this.last_cxid = -1;
    this.last_zxid = -1;
    this.last_response_ms = 0;
    this.latency_min_ms = Number.POSITIVE_INFINITY;
    this.latency_max_ms = 0;
    this.latency_total_ms = 0;
    this.latency_count = 0;
    this.last_latency_ms = 0;
  }

  recordLatency(ms: number): void {
    this.last_latency_ms = ms;
    if (ms < this.latency_min_ms) this.latency_min_ms = ms;
    if (ms > this.latency_max_ms) this.latency_max_ms = ms;
    this.latency_total_ms += ms;
    this.latency_count++;
  }
}
