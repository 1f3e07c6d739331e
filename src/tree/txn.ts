// Transactions: the output of prep (commit worker) and the input of apply (every tree copy).
// A txn is deterministic: applying the same txn sequence to two empty trees gives equal trees.
// Everything a replica needs (sequential names, new versions, the ephemerals a closeSession
// deletes) is decided in prep and carried in the txn, as in Apache ZooKeeper.

import { CONFIG_NODE } from '../protocol/constants.js';
import { Err } from '../protocol/errors.js';
import type { ACL, MultiResult } from '../protocol/types.js';

export interface TxnHeader {
  /** Session that issued the request (0n for server-internal txns such as reaping). */
  session_id: bigint;
  /** The request's xid (cxid in ZooKeeper). */
  cxid: number;
  zxid: number;
  /** Leader wall clock at prep; becomes ctime/mtime. */
  time_ms: number;
}

export type TxnOp =
  | {
      kind: 'create';
      /** Final path (sequential suffix already applied). */
      path: string;
      /** null = the client sent a null buffer (getData then returns null, as in ZooKeeper). */
      data: Uint8Array | null;
      acl: ACL[];
      /** 0n persistent; session id for ephemerals; container / TTL markers (constants.ts). */
      ephemeral_owner: bigint;
      /** The parent's cversion after this create (parent.cversion + 1). */
      parent_cversion: number;
      /** Opcode the client used (1, 15, 19, 21): decides the reply record. */
      opcode: number;
    }
  | { kind: 'delete'; path: string; /** 2 = delete, 20 = deleteContainer (reaper). */ opcode: number }
  | { kind: 'setData'; path: string; data: Uint8Array | null; /** New version after the set. */ version: number }
  | { kind: 'setACL'; path: string; acl: ACL[]; /** New aversion after the set. */ version: number }
  | { kind: 'check'; path: string; version: number }
  /** reconfig: the new /zookeeper/config (quorum_config_text.ts), set with version -1 as
   *  ZooKeeper's reconfig txn does (a SetDataTxn of the config node). */
  | { kind: 'reconfig'; data: Uint8Array }
  | { kind: 'createSession'; timeout_ms: number; passwd: Uint8Array }
  | { kind: 'closeSession'; /** Ephemerals of the session, deleted by this txn. */ paths: string[] }
  | { kind: 'error'; err: number }
  | {
      kind: 'multi';
      /** On failure every op is an 'error' op: 0 before the failing op, its code, then -2. */
      ops: TxnOp[];
    };

/** A reconfig txn as what it does to the tree: ZooKeeper's SetDataTxn of the config node with
 *  version -1 (every applier and the pending view apply it as that). */
export function reconfigAsSetData(op: Extract<TxnOp, { kind: 'reconfig' }>): Extract<TxnOp, { kind: 'setData' }> {
  return { kind: 'setData', path: CONFIG_NODE, data: op.data, version: -1 };
}

export interface Txn {
  header: TxnHeader;
  op: TxnOp;
}

/** ZooKeeper's result for the ops after a failed multi's failing op (RUNTIMEINCONSISTENCY). */
const RUNTIME_INCONSISTENCY = -2;

/**
 * A multi txn's results, applying its ops with `apply` (every applier of txns shares this rule).
 * If any op is an error op the multi failed: nothing is applied and the results are error
 * results, 0 before the first error op and -2 after it (prep already encodes them so; this also
 * covers txns written by other producers).
 */
export function applyMultiOps(ops: readonly TxnOp[], apply: (op: TxnOp) => MultiResult): MultiResult[] {
  const failed = ops.some((op) => op.kind === 'error');
  let after_failure = false;
  const results: MultiResult[] = [];
  for (const op of ops) {
    if (op.kind === 'error') {
      after_failure = true;
      results.push({ type: -1, response: { err: op.err } });
    } else if (failed) {
      results.push({ type: -1, response: { err: after_failure ? RUNTIME_INCONSISTENCY : 0 } });
    } else {
      results.push(apply(op));
    }
  }
  return results;
}

/** A write refused because its session's client moved to another server (CommitCore.holders):
 *  its connection is closed instead of answered. */
export function isSessionMoved(txn: Txn): boolean {
  return txn.op.kind === 'error' && txn.op.err === Err.SESSIONMOVED;
}
