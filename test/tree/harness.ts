// A tiny single-replica write path for tree tests: prep against the tree, give the op a zxid,
// apply it. Mirrors what the commit worker does, without rings or logs.

import { DataTree, type ApplyResult } from '../../src/tree/data_tree.js';
import { prepRequest, type WriteRequest } from '../../src/tree/prep.js';
import type { Txn, TxnOp } from '../../src/tree/txn.js';
import type { ACL, Id } from '../../src/protocol/types.js';
import { OPEN_ACL_UNSAFE } from '../../src/tree/acl.js';

export interface Caller {
  session_id?: bigint;
  auth?: Id[];
  is_super?: boolean;
  ttl_enabled?: boolean;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));
export const open = (): ACL[] => [...OPEN_ACL_UNSAFE];

export class Harness {
  readonly tree = new DataTree();
  readonly log: Txn[] = [];
  zxid = 0;
  time_ms = 1_000_000;

  /** Preps and applies one write; returns the txn op and the apply result. */
  write(opcode: number, request: WriteRequest, caller: Caller = {}): { op: TxnOp; result: ApplyResult; txn: Txn } {
    const session_id = caller.session_id ?? 1n;
    const op = prepRequest(
      {
        tree: this.tree,
        session_id,
        auth: caller.auth ?? [{ scheme: 'ip', id: '127.0.0.1' }],
        is_super: caller.is_super ?? false,
        now_ms: this.time_ms,
        ttl_enabled: caller.ttl_enabled ?? true,
        quota: null,
      },
      opcode,
      request,
    );
    return { op, ...this.commit(op, session_id) };
  }

  /** Gives `op` the next zxid and applies it. */
  commit(op: TxnOp, session_id = 0n): { result: ApplyResult; txn: Txn } {
    this.zxid += 1;
    this.time_ms += 10;
    const txn: Txn = { header: { session_id, cxid: this.zxid, zxid: this.zxid, time_ms: this.time_ms }, op };
    this.log.push(txn);
    return { txn, result: this.tree.apply(txn) };
  }

  create(path: string, data: string | null = '', flags = 0, caller: Caller = {}, acl: ACL[] = open()) {
    return this.write(1, { path, data: data === null ? null : enc(data), acl, flags }, caller);
  }
}
