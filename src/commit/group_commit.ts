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
export type GroupCommitOptions = LogBatcherOptions;

export class GroupCommit {
  private readonly batcher: LogBatcher;
  private readonly gate: ReleaseGate;

  constructor(opts: GroupCommitOptions, start_zxid: number) {
    this.batcher = new LogBatcher(opts, start_zxid);
    this.gate = new ReleaseGate(start_zxid);
  }

  /** Queues the core's publications, in order; txns are encoded into the open batch. */
  add(pubs: readonly Publication[], now_us: number): void {
    for (const pub of pubs) {
      const payload = pub.kind === 'txn' && !this.gate.failed ? this.batcher.add(pub.txn, now_us) : null;
      this.gate.push(pub, payload);
    }
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
  complete(seq: number): void {
    this.gate.commitThrough(this.batcher.complete(seq));
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
