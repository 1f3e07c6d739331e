// One client connection's requests and replies as the net worker sees them, and the order its
// output goes out in. Sans-IO: no socket, ring, timer or metric here; the net worker
// (net_worker.ts) and the replica simulator (test/sim/replica_sim.ts) drive the same class, with
// each input returning what the caller does (a small number: nothing is allocated per request).
//
// What it keeps:
// - the requests forwarded after the ConnectRequest and the replies written for them (frames
//   with an xid other than a notification's): equal when the session has nothing in flight, as
//   every request gets exactly one reply, in order. Then a read may be answered by the net
//   worker itself (`idle`, fast_read.ts) and a write may go direct;
// - the session its ConnectResponse gave it, if its writes may go direct (direct_write.ts: not
//   when refused or read-only), and whether it ever sent auth / sasl or a request that may set
//   a watch (sticky: no direct write from then on);
// - its direct writes in flight (at most `direct_in_flight_max`, the shard's bound on the
//   session's FIFO, which holds their placeholders);
// - the frames its shard sent while a direct write was in flight (replies to what it pipelined
//   behind the writes, and events): copies, written right after the last direct reply, in the
//   order the shard sent them, and only then counted as answered;
// - a close its shard asked for while a direct write was in flight: done once they are answered.
//
// The inputs, in the order the net worker meets them:
//   route(payload)      a client request (payload[start, end)) it does not answer itself: SHARD, or DIRECT: the
//                       caller tries net_to_commit and calls directSent() if the request went
//                       in; a full ring sends it to the shard, nothing to tell;
//   onShardSend(frame)  ShardToNet.SEND: WRITE_SESSION (the ConnectResponse), WRITE, or HOLD
//                       (kept here: write nothing now);
//   onShardClose()      ShardToNet.CLOSE: CLOSE, or CLOSE_LATER (behind the direct replies);
//   onCommitSend()      CommitToNet.SEND, a direct reply: DROP, WRITE, or WRITE_LAST /
//                       WRITE_LAST_CLOSE (write it, then releaseHeld(), then close);
//   onCommitClose()     CommitToNet.CLOSE: CLOSE (the held frames are dropped: a direct write
//                       will never be answered, nothing behind it can go out in order) or DROP
//                       (nothing in flight: the shard's CLOSE closes it in order).

import { int32At } from '../../protocol/jute.js';
import { Xid } from '../../protocol/constants.js';
import { directSessionOf, isAuthOp, isDirectWriteOp, mayWatch } from './direct_write.js';

/** What the caller does next: each input returns one of a few of these. */
export const Next = {
  // route(): a client request.
  /** To the session's shard (NetToShard.DATA). */
  SHARD: 0,
  /** To the commit worker if net_to_commit takes it now (then directSent()), else to the shard. */
  DIRECT: 1,
  // onShardSend(), onCommitSend(): a frame for the connection.
  /** Write it now. */
  WRITE: 2,
  /** The ConnectResponse: write it now; the connection has its session (or is told it has none). */
  WRITE_SESSION: 3,
  /** Held behind a direct write's reply (the flow keeps a copy): write nothing now. */
  HOLD: 4,
  /** The last direct reply in flight: write it, then the frames releaseHeld() gives, in order. */
  WRITE_LAST: 5,
  /** As WRITE_LAST, then close the connection (its shard closed it meanwhile). */
  WRITE_LAST_CLOSE: 6,
  /** Nothing of the connection is in flight (it was closed meanwhile): ignore the frame. */
  DROP: 7,
  // onShardClose(), onCommitClose().
  /** Write what it has, then close it, now. */
  CLOSE: 8,
  /** Once its direct writes are answered (onCommitSend: WRITE_LAST_CLOSE); read nothing more. */
  CLOSE_LATER: 9,
} as const;
/** The values of Next named by `K`: what one input may return. */
export type Next<K extends keyof typeof Next = keyof typeof Next> = (typeof Next)[K];

export class ConnFlow {
  /** The ConnectRequest (the first request) went to the shard. */
  private handshake_sent = false;
  /** The shard has sent nothing yet: its next SEND is the ConnectResponse. */
  private session_pending = true;
  /** Requests forwarded after the ConnectRequest, and replies written after the ConnectResponse. */
  private forwarded = 0;
  private answered = 0;
  /** The session a direct write carries; 0n: its writes go through the shard. */
  private session_id = 0n;
  /** Sticky: it sent auth / sasl or a request that may set a watch. */
  private refused = false;
  private in_flight = 0;
  /** Copies of what its shard sent while direct writes were in flight, in order; null: none. */
  private held: Uint8Array[] | null = null;
  private close_after_direct = false;

  /**
   * @param direct_writes waitfree.net.directWrites: without it no session is kept, and every
   *   request goes to the shard.
   * @param direct_in_flight_max maxOutstandingPerSession: direct writes in flight at most.
   */
  constructor(
    private readonly direct_writes: boolean,
    private readonly direct_in_flight_max: number,
  ) {}

  /** No ConnectResponse from its shard yet. */
  get awaiting_session(): boolean {
    return this.session_pending;
  }

  /** Its session began and every request it sent since was answered: nothing in flight. */
  get idle(): boolean {
    return !this.session_pending && this.forwarded === this.answered;
  }

  /** The session a direct write carries (NetToCommit.REQUEST); 0n: its writes may not go direct. */
  get direct_session(): bigint {
    return this.session_id;
  }

  /** Direct writes waiting for their replies. */
  get direct_in_flight(): number {
    return this.in_flight;
  }

  /** Frames held behind the direct replies. */
  get held_frames(): number {
    return this.held?.length ?? 0;
  }

  /** Its shard closed it while direct writes were in flight: closed once they are answered. */
  get close_deferred(): boolean {
    return this.close_after_direct;
  }

  /**
   * A client request (its payload, without the length prefix) the net worker does not answer
   * itself; the first is the ConnectRequest. DIRECT for a write of a session with nothing in
   * flight but earlier direct writes (they reach the commit worker in order, on one ring), fewer
   * than direct_in_flight_max of them, unless the connection is `closing`. Anything else goes to
   * the shard; auth / sasl or a request that may set a watch rules direct writes out for good.
   */
  route(payload: Uint8Array, closing: boolean, start = 0, end = payload.length): Next<'SHARD' | 'DIRECT'> {
    if (!this.handshake_sent) {
      this.handshake_sent = true;
      return Next.SHARD;
    }
    this.forwarded++;
    const in_flight = this.in_flight;
    if (
      this.session_id !== 0n &&
      !closing &&
      this.forwarded === this.answered + in_flight + 1 &&
      in_flight < this.direct_in_flight_max &&
      isDirectWriteOp(payload, start, end)
    ) {
      return Next.DIRECT;
    }
    if (!this.refused && (isAuthOp(payload, start, end) || mayWatch(payload, start, end))) {
      this.refused = true;
      this.session_id = 0n;
    }
    return Next.SHARD;
  }

  /** The request route() sent DIRECT went into net_to_commit (its placeholder to the shard). */
  directSent(): void {
    this.in_flight++;
  }

  /** A frame its shard sent (ShardToNet.SEND): the frame with its length prefix, bytes[at, end). */
  onShardSend(bytes: Uint8Array, at: number, end: number): Next<'WRITE_SESSION' | 'WRITE' | 'HOLD'> {
    if (this.session_pending) {
      this.session_pending = false;
      // Unless it already sent something that rules direct writes out.
      if (this.direct_writes && !this.refused) this.session_id = directSessionOf(bytes, at, end);
      return Next.WRITE_SESSION;
    }
    if (this.in_flight > 0) {
      (this.held ??= []).push(bytes.slice(at, end));
      return Next.HOLD;
    }
    if (isReply(bytes, at)) this.answered++;
    return Next.WRITE;
  }

  /** Its shard closed it (ShardToNet.CLOSE). With direct writes in flight (committed or closed by
   *  the commit worker ahead of this), their replies come first, then what the shard sent (a
   *  closeSession's reply), then the close. */
  onShardClose(): Next<'CLOSE' | 'CLOSE_LATER'> {
    if (this.in_flight === 0) return Next.CLOSE;
    this.close_after_direct = true;
    return Next.CLOSE_LATER;
  }

  /** A direct write's reply (CommitToNet.SEND). */
  onCommitSend(): Next<'DROP' | 'WRITE' | 'WRITE_LAST' | 'WRITE_LAST_CLOSE'> {
    if (this.in_flight === 0) return Next.DROP;
    this.in_flight--;
    this.answered++;
    if (this.in_flight > 0) return Next.WRITE;
    return this.close_after_direct ? Next.WRITE_LAST_CLOSE : Next.WRITE_LAST;
  }

  /**
   * Once the last direct reply is written (WRITE_LAST, WRITE_LAST_CLOSE): the frames held
   * meanwhile, to write right behind it in this order, now counted as answered; null when none
   * (and while a direct write is in flight).
   */
  releaseHeld(): readonly Uint8Array[] | null {
    const held = this.held;
    if (held === null || this.in_flight > 0) return null;
    this.held = null;
    for (const frame of held) {
      if (isReply(frame, 0)) this.answered++;
    }
    return held;
  }

  /** The commit worker closed it (CommitToNet.CLOSE): a direct write of it is never answered. */
  onCommitClose(): Next<'CLOSE' | 'DROP'> {
    if (this.in_flight === 0) return Next.DROP;
    this.held = null;
    this.in_flight = 0;
    return Next.CLOSE;
  }
}

/** Whether a frame from a shard (length prefix at `at`) is a reply: its xid is not a
 *  notification's. Every request gets exactly one reply. */
function isReply(bytes: Uint8Array, at: number): boolean {
  return int32At(bytes, at + 4) !== Xid.NOTIFICATION;
}
