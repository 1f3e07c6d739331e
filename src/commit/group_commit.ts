// Group commit, sans-IO: a standalone replica's commit rule. It puts the log batcher
// (log_batcher.ts: txns become log records, one durable write per batch) in front of the release
// gate (release_gate.ts: publications leave in order once committed) and joins them with the
// rule "committed = durable in the local log". Under Zab the same two parts are joined by
// another rule (a quorum of durable ACKs): only the call to gate.commitThrough moves.
//
// Invariants (of the parts, see their headers): publications are released in emission order; a
// txn only after the batch holding it is durable, anything else only after every txn before it;
// at most one batch in flight; after a failed batch nothing commits and held txns become lost
// connections for their clients.

import type { Publication } from './commit_core.js';
import { type Batch, LogBatcher, type LogBatcherOptions } from './log_batcher.js';
import { ReleaseGate, type ReleaseVisitor } from './release_gate.js';

export type { Batch } from './log_batcher.js';
export type { ReleaseVisitor } from './release_gate.js';
export type GroupCommitOptions = LogBatcherOptions & {
  /** true: standalone, a durable batch commits its txns. false: a Zab replica, commits come from
   *  commitThrough (a quorum of ACKs at the leader, the leader's COMMIT at a follower). */
  commit_on_durable?: boolean;
};

export class GroupCommit {
  private readonly batcher: LogBatcher;
  private readonly gate: ReleaseGate;

  private readonly commit_on_durable: boolean;

  constructor(opts: GroupCommitOptions, start_zxid: number) {
    this.batcher = new LogBatcher(opts, start_zxid);
    this.gate = new ReleaseGate(start_zxid);
    this.commit_on_durable = opts.commit_on_durable ?? true;
  }

  /** A txn encoded elsewhere (a follower logs the leader's proposal bytes); not published here. */
  logEncoded(zxid: number, payload: Uint8Array, now_us: number): void {
    if (!this.gate.failed) this.batcher.addEncoded(zxid, payload, now_us);
  }

  /** Queues a publication whose txn (if any) is already committed and whose payload lives in
   *  `bytes` (a follower publishing what the leader committed). */
  addCommitted(pub: Publication, bytes: Uint8Array | null): void {
    const payload = bytes === null ? null : { source: { backing: bytes }, start: 0, end: bytes.length };
    this.gate.push(pub, payload);
    if (pub.kind === 'txn' && !this.gate.failed) this.gate.commitThrough(pub.txn.header.zxid);
  }

  /** Zab: everything up to zxid is committed (never more than was pushed; never goes back). */
  commitThrough(zxid: number): void {
    if (this.gate.failed) return;
    const to = Math.min(zxid, this.gate.last_pushed_zxid);
    if (to > this.gate.committed_zxid) this.gate.commitThrough(to);
  }

  /** Zab: the leader lost its role; see ReleaseGate.abandonUncommitted. */
  abandonUncommitted(): void {
    this.gate.abandonUncommitted();
  }

  get committed_zxid(): number {
    return this.gate.committed_zxid;
  }

  /** Queues the core's publications, in order; txns are encoded into the open batch, and
   *  `on_txn` sees each one's encoded payload (a Zab leader proposes those bytes). */
  add(pubs: readonly Publication[], now_us: number, on_txn?: (zxid: number, session_id: bigint, bytes: Uint8Array, start: number, end: number) => void): void {
    for (const pub of pubs) {
      const payload = pub.kind === 'txn' && !this.gate.failed ? this.batcher.add(pub.txn, now_us) : null;
      this.gate.push(pub, payload);
      if (payload !== null && on_txn !== undefined && pub.kind === 'txn') on_txn(pub.txn.header.zxid, pub.txn.header.session_id, payload.source.backing, payload.start, payload.end);
    }
  }

  /** Records were added that no write has taken yet. */
  get has_unwritten(): boolean {
    return this.batcher.has_unwritten;
  }

  due(now_us: number): boolean {
    return this.batcher.due(now_us);
  }

  due_at_us(): number | null {
    return this.batcher.due_at_us();
  }

  get full(): boolean {
    return this.batcher.full;
  }

  txn_room(): number {
    return this.batcher.txn_room();
  }

  get in_flight(): boolean {
    return this.batcher.in_flight;
  }

  take(now_us: number): Batch {
    return this.batcher.take(now_us);
  }

  /** The batch in flight is durable: standalone, durable is committed. */
  complete(seq: number): number {
    const durable = this.batcher.complete(seq);
    if (this.commit_on_durable) this.gate.commitThrough(durable);
    return durable;
  }

  /** The batch in flight could not be made durable: nothing commits from now on. */
  fail(seq: number): void {
    this.batcher.fail(seq);
    this.gate.fail();
  }

  /** Visits, in order, every publication that may go out now (see ReleaseGate.release). */
  release(visit: ReleaseVisitor): number {
    const n = this.gate.release(visit);
    this.batcher.recycle(this.gate.released_zxid);
    return n;
  }

  get durable_zxid(): number {
    return this.batcher.durable_zxid;
  }

  get failed(): boolean {
    return this.batcher.failed;
  }

  get batches(): number {
    return this.batcher.batches;
  }

  get txns(): number {
    return this.batcher.txns;
  }

  /** Publications waiting for their commit. */
  get pending(): number {
    return this.gate.pending;
  }
}
