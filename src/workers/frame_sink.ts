// Where a stage's outgoing link frames go. The sans-IO stages (shard/shard_stage.ts,
// commit_stage.ts) write frames through this port only: a thread driver hands them a LinkWriter
// (a ring producer with its overflow queue), the replica simulator (test/sim/replica_sim.ts) a
// FIFO queue in the same thread.

import type { HeadWriter } from './link.js';

export interface FrameSink {
  /** Sends one frame: `head` then body[body_start, body_end). Both are copied or written before
   *  this returns (the caller reuses its head writer and body buffer at once). Never drops. */
  send(head: HeadWriter, body?: Uint8Array, body_start?: number, body_end?: number): void;
  /** True while frames wait for room (a full ring): the owner stops taking input meanwhile. */
  readonly blocked: boolean;
}
