// The release gate, sans-IO: holds the commit core's publications, in the order the core emitted
// them, until what they announce is committed, then hands them to the commit stream.
//
// "Committed" is a zxid the caller advances with commitThrough(). A standalone replica advances it
// when a log batch is durable (group_commit.ts); under Zab the leader advances it when a quorum has
// acknowledged a proposal, a follower when the leader's COMMIT arrives. The gate itself does not
// know which: that is the seam.
//
// Invariants:
// - publications leave in exactly the order they were pushed;
// - a txn publication leaves only once committed_zxid >= its zxid; anything else (sync, session
//   answers, errors, close_conn) only once every txn pushed before it is committed: a `sync` is
//   answered after every earlier write, as ZooKeeper's sync promises;
// - committed_zxid never decreases;
// - after fail() nothing is released as committed that was not committed before it: every txn
//   still waiting for its commit (and every later one) becomes a close_conn for its connection,
//   because its outcome is unknown to the client.

import type { Publication } from './commit_core.js';

/** Where a held txn's encoded payload is (the commit stream carries these bytes as they are).
 *  The source is asked for its backing array at release (no view per txn): a batch buffer may
 *  have been reallocated (grown) since the txn was encoded into it; [start, end) index it. */
export interface Payload {
  source: { readonly backing: Uint8Array };
  start: number;
  end: number;
}

export type ReleaseVisitor = (pub: Publication, body: Uint8Array | null, start: number, end: number) => void;

interface Entry {
  pub: Publication;
  /** Released once committed_zxid >= wait_zxid (0 = at once). */
  wait_zxid: number;
  payload: Payload | null;
}

/** A server-made txn (no connection) that was lost: nothing to tell anybody. */
const NOBODY = -1;

/**
 * What a released slot holds until the array is compacted. The slot lets go of its publication
 * at once: under a steady stream the gate is rarely empty, so the array is compacted only every
 * few thousand releases, and until then its slots kept every released txn, result and payload
 * view alive (and the pooled chunks of request data those views hold: jute.ts).
 */
const RELEASED: Entry = { pub: { kind: 'close_conn', shard: NOBODY, conn_id: 0 }, wait_zxid: 0, payload: null };

export class ReleaseGate {
  private entries: Entry[] = [];
  private head = 0;
  /** zxid of the last txn pushed (non-txn publications wait for it). */
  private last_txn_zxid: number;
  committed_zxid: number;
  /** zxid of the newest txn whose publication has left: its payload (and every older one) is no
   *  longer referenced, so the log batcher may reuse the buffers holding them. */
  released_zxid: number;
  /** Set once the txns held could no longer commit: see fail(). */
  failed = false;

  constructor(
    /** Everything up to this zxid is committed already (the recovered state). */
    start_zxid: number,
  ) {
    this.committed_zxid = start_zxid;
    this.released_zxid = start_zxid;
    this.last_txn_zxid = start_zxid;
  }

  /** Queues a publication; a txn comes with where its encoded payload lives. */
  push(pub: Publication, payload: Payload | null): void {
    if (pub.kind !== 'txn') {
      const wait_zxid = this.last_txn_zxid > this.committed_zxid ? this.last_txn_zxid : 0;
      this.entries.push({ pub, wait_zxid, payload: null });
      return;
    }
    if (this.failed) {
      this.pushLost(pub);
      return;
    }
    const zxid = pub.txn.header.zxid;
    if (zxid <= this.last_txn_zxid) throw new Error(`release gate: txn zxid ${zxid} after ${this.last_txn_zxid}`);
    if (payload === null) throw new Error(`release gate: txn ${zxid} without a payload`);
    this.last_txn_zxid = zxid;
    this.entries.push({ pub, wait_zxid: zxid, payload });
  }

  /** Everything up to `zxid` is committed (durable here, or acknowledged by a quorum). */
  commitThrough(zxid: number): void {
    if (this.failed) throw new Error('release gate: commit after a failure');
    if (zxid < this.committed_zxid) throw new Error(`release gate: committed zxid went back from ${this.committed_zxid} to ${zxid}`);
    if (zxid > this.last_txn_zxid) throw new Error(`release gate: commit through ${zxid}, but the last txn is ${this.last_txn_zxid}`);
    this.committed_zxid = zxid;
  }

  /**
   * The txns held may never commit (a Zab leader lost its quorum): every publication still held
   * becomes a close_conn for its connection (the client cannot know the outcome; ZooKeeper closes
   * every connection when a server leaves its role), and later txns may commit again. The caller
   * closes every client connection anyway; this keeps the gate's order invariant simple.
   */
  abandonUncommitted(): void {
    if (this.failed) return;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.wait_zxid <= this.committed_zxid) continue;
      e.wait_zxid = 0;
      if (e.pub.kind === 'close_conn') continue;
      // A REVALIDATE answer goes nowhere: the learner drops its question on the role change.
      const o = e.pub.kind === 'revalidated' ? null : e.pub.origin;
      e.pub = o === null ? { kind: 'close_conn', shard: NOBODY, conn_id: 0 } : { kind: 'close_conn', shard: o.shard, conn_id: o.conn_id };
      e.payload = null;
    }
    this.last_txn_zxid = this.committed_zxid;
  }

  /** zxid of the last txn pushed. */
  get last_pushed_zxid(): number {
    return this.last_txn_zxid;
  }

  /** The txns held can no longer commit (the log cannot be written): see the header. Txns
   *  already committed (durable in an earlier batch, released in this same turn) still go out
   *  as committed: the log holds them, so the shared tree and their clients must too (the
   *  replica simulator found a failed write right after a durable one dropping them). */
  fail(): void {
    this.failed = true;
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.wait_zxid <= this.committed_zxid) continue;
      if (e.pub.kind === 'txn') {
        const o = e.pub.origin;
        e.pub = o === null ? { kind: 'close_conn', shard: NOBODY, conn_id: 0 } : { kind: 'close_conn', shard: o.shard, conn_id: o.conn_id };
        e.payload = null;
      }
      e.wait_zxid = 0;
    }
    this.last_txn_zxid = this.committed_zxid; // later publications go out at once
  }

  private pushLost(pub: Extract<Publication, { kind: 'txn' }>): void {
    const o = pub.origin;
    if (o !== null) this.entries.push({ pub: { kind: 'close_conn', shard: o.shard, conn_id: o.conn_id }, wait_zxid: 0, payload: null });
  }

  /**
   * Visits, in order, every publication that may leave now; a txn comes with its payload (valid
   * during the visit only). Returns how many were visited.
   */
  release(visit: ReleaseVisitor): number {
    let n = 0;
    while (this.head < this.entries.length) {
      const e = this.entries[this.head];
      if (e.wait_zxid > this.committed_zxid) break;
      this.entries[this.head++] = RELEASED;
      n++;
      if (e.pub.kind === 'close_conn' && e.pub.shard === NOBODY) continue;
      if (e.payload === null) {
        visit(e.pub, null, 0, 0);
        continue;
      }
      visit(e.pub, e.payload.source.backing, e.payload.start, e.payload.end);
      if (e.pub.kind === 'txn') this.released_zxid = e.pub.txn.header.zxid;
    }
    this.compact();
    return n;
  }

  private compact(): void {
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Publications waiting for their commit. */
  get pending(): number {
    return this.entries.length - this.head;
  }
}
