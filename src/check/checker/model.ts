// What the linearizability search needs from a data type: an initial state, a step function, a
// hash of states (the memo key), plus what the zxid checks need (which ops read, which write).
//
// Invariants every model keeps:
// - step never mutates its input state (the search keeps old states on its stack);
// - step is deterministic given the op's recorded outcome. An op with an unknown outcome takes
//   effect if it can at that point (else leaves the state alone, as the error it may have had);
//   "it never happened" needs no branch: the search can linearize it last, since it returns at
//   +infinity;
// - equal hashes mean equal states (the memo would otherwise prune a live branch).

import type { ModelName, OpRecord } from './history.js';

export interface Model<S> {
  readonly name: ModelName;
  init(): S;
  /** The state after `op` took effect here, or null when its recorded outcome is impossible here. */
  step(state: S, op: OpRecord): S | null;
  hash(state: S): string;
  /** Short text for reports. */
  describe(state: S): string;
  /**
   * Ops the search may leave out: taking effect or not makes no difference to any other op
   * (e.g. an enqueue with an unknown outcome whose item nobody ever saw: it can only have taken
   * effect after everything that could have seen it, which is the same as never).
   */
  negligible?(op: OpRecord): boolean;
}

/** A model is built per partition, from that partition's ops (some need facts seen anywhere in it). */
export type ModelFactory = (ops: readonly OpRecord[]) => Model<unknown>;

/** A write's effect on one znode, for the zxid checks (known only when the reply was seen). */
export interface WriteEffect {
  /** Path of the znode. */
  readonly path: string;
  /** New data (null: the node was deleted). */
  readonly value: string | null;
  /** New data version (when known). */
  readonly version: number | null;
}

/** What a plain read returned about one znode. */
export interface ReadView {
  readonly path: string;
  readonly exists: boolean;
  readonly value: string | null;
  readonly version: number | null;
  /** Stat.mzxid of the node read (null when absent or unknown). */
  readonly mzxid: number | null;
}

/** The zxid checks' view of a model's operations. */
export interface OpSemantics {
  /** A read: no effect on the state. */
  isRead(op: OpRecord): boolean;
  /** The znode changes an op makes if it took effect (empty for reads and failures). */
  writeEffects(op: OpRecord): readonly WriteEffect[];
  /** For plain single-znode reads: what was seen. */
  readView(op: OpRecord): ReadView | null;
  /** Data an op may have written (ok or unknown outcome), by path: where a read's value can come from. */
  valuesWritten(op: OpRecord): readonly { readonly path: string; readonly value: string }[];
  /** Paths an op may have deleted at a zxid the history does not know. */
  mayDelete(op: OpRecord): readonly string[];
}
