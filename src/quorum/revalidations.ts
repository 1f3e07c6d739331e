// A learner's reattaches waiting for their leader's word (ZooKeeper's Learner.validateSession and
// its pendingRevalidations). A client reconnecting to a learner is answered only once the leader,
// which alone decides expiry, says the session lives: the learner's own table may lag (it may
// still hold a session the leader expired, or not yet hold one just created), and a learner that
// lost its leader without noticing yet must not take clients it is about to drop.
//
// Sans-IO: the driver sends the questions and hands over the answers. Invariants: a question is
// answered at most once (its token is forgotten on its answer); a connection that closed, and
// every question on a role change, is dropped, so a late answer finds nothing.

import type { Origin } from '../commit/commit_core.js';

/** A reattach waiting for the leader. */
export interface PendingRevalidation {
  /** Its question's token (on the wire; traces and the simulator pair answers by it). */
  readonly token: number;
  readonly origin: Origin;
  readonly session_id: bigint;
  readonly passwd: Uint8Array;
  readonly timeout_ms: number;
}

export class Revalidations {
  private readonly pending = new Map<number, PendingRevalidation>();
  private next_token = 1;

  constructor(
    /** Questions in flight at most; beyond it a reattach is refused a place (its connection closes). */
    readonly pending_max: number,
  ) {
    if (!Number.isInteger(pending_max) || pending_max < 1) throw new Error(`revalidations: pending_max ${pending_max}`);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Remembers a reattach; returns the token of its question, or null when the bound is reached. */
  begin(p: Omit<PendingRevalidation, 'token'>): number | null {
    if (this.pending.size >= this.pending_max) return null;
    const token = this.next_token;
    // i32 on the wire; tokens of a learner's questions in flight never collide (bound << 2^31).
    this.next_token = this.next_token >= 0x7fff_ffff ? 1 : this.next_token + 1;
    this.pending.set(token, { token, ...p });
    return token;
  }

  /** The leader answered `token` for `session_id`: the reattach it was for, or undefined (dropped,
   *  or an answer no question of ours asked). */
  settle(token: number, session_id: bigint): PendingRevalidation | undefined {
    const p = this.pending.get(token);
    if (p === undefined || p.session_id !== session_id) return undefined;
    this.pending.delete(token);
    return p;
  }

  /** The client's connection closed before the answer: nobody is waiting for it. */
  dropConn(shard: number, conn_id: number): void {
    for (const [token, p] of this.pending) {
      if (p.origin.shard === shard && p.origin.conn_id === conn_id) this.pending.delete(token);
    }
  }

  /** The role changed: every question is void; returns the connections that were waiting. */
  drain(): Origin[] {
    const out = [...this.pending.values()].map((p) => p.origin);
    this.pending.clear();
    return out;
  }
}
