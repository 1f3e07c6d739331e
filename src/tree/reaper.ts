// Container and TTL reaping (Apache ZooKeeper's ContainerManager): which nodes are due, and the
// deleteContainer (opcode 20) txn ops that remove them. The timer that runs it lives with the
// commit worker (ZooKeeper: every znode.container.checkIntervalMs = 60 s, at most
// znode.container.maxPerMinute = 10,000 deletes a minute).

import { Op } from '../protocol/opcodes.js';
import { prepRequest, type PrepTree } from './prep.js';
import type { TxnOp } from './txn.js';
import { type NodeFacts, ttlOf } from './znode.js';

/** What the reaper reads (DataTree and the commit worker's PendingView are both one). */
export interface ReapTree extends PrepTree {
  get(path: string): (NodeFacts & { readonly mtime: number }) | undefined;
  containers(): Iterable<string>;
  ttls(): Iterable<string>;
}

export interface ReapOptions {
  /**
   * znode.container.maxNeverUsedIntervalMs: a container that never had a child is reaped once
   * it is this old (by mtime). 0 = never (ZooKeeper's default).
   */
  never_used_ms?: number;
  /** At most this many candidates (ZooKeeper rate-limits with maxPerMinute instead). */
  limit?: number;
}

/**
 * Paths due for deletion at `now_ms`, sorted: containers with no children that had a child once
 * (cversion > 0); TTL nodes with no children not modified for longer than their TTL.
 * No candidate is an ancestor of another (candidates have no children).
 */
export function reapCandidates(tree: ReapTree, now_ms: number, options: ReapOptions = {}): string[] {
  const never_used_ms = options.never_used_ms ?? 0;
  const out: string[] = [];
  for (const path of tree.containers()) {
    const node = tree.get(path)!;
    if (node.child_count !== 0) continue;
    if (node.cversion > 0 || (never_used_ms !== 0 && now_ms - node.mtime > never_used_ms)) out.push(path);
  }
  for (const path of tree.ttls()) {
    const node = tree.get(path)!;
    const ttl_ms = ttlOf(node.ephemeralOwner);
    if (node.child_count === 0 && ttl_ms !== 0 && now_ms - node.mtime > ttl_ms) out.push(path);
  }
  out.sort();
  return out.slice(0, options.limit ?? out.length);
}

/**
 * One deleteContainer op per candidate, each to become its own txn. They are prepped against the
 * current tree, so apply them back to back (no other txn in between), or prep each one just
 * before use with prepRequest(ctx, Op.deleteContainer, { path }) instead.
 */
export function prepReap(tree: ReapTree, now_ms: number, options: ReapOptions = {}): TxnOp[] {
  const ctx = { tree, session_id: 0n, auth: [], is_super: true, now_ms, ttl_enabled: true, quota: null };
  return reapCandidates(tree, now_ms, options).map((path) => prepRequest(ctx, Op.deleteContainer, { path }));
}
