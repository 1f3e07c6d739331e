// The Applier's quota bookkeeping (ZooKeeper's DataTree: pTrie, updateQuotaStat,
// updateQuotaForPath, setupQuota): which paths have a quota, and the stats node of each kept
// equal to its subtree as committed txns change it. It writes the stats nodes through the
// Applier's TreeWriter, in the batch of the txn that changed them, so every replica, applying
// the same txns, holds the same stats. Text formats and the rules: tree/quota.ts.
//
// While no quota exists (the common case) the apply path pays one Set size test per write.

import type { NodeView, TreeWriter } from '../store/arena/index.js';
import { joinPath } from '../tree/path_rules.js';
import {
  QUOTA_ROOT,
  quotaLimitPath,
  quotaNodeOf,
  QuotaPaths,
  quotaStatPath,
  quotaVerdict,
  StatsTrack,
  underQuotaRoot,
  type QuotaNode,
  type QuotaVerdict,
} from '../tree/quota.js';

/** A limit or stats node found in the tree. */
export interface QuotaNodeAt extends QuotaNode {
  readonly path: string;
}

/** Every limit and stats node under /zookeeper/quota (a walk of its subtree). */
export function listQuotaNodes(view: NodeView): QuotaNodeAt[] {
  const found: QuotaNodeAt[] = [];
  const stack = [QUOTA_ROOT];
  while (stack.length > 0) {
    const parent = stack.pop()!;
    for (const name of view.children(parent) ?? []) {
      const path = joinPath(parent, name);
      const node = quotaNodeOf(path);
      if (node !== null) found.push({ ...node, path });
      stack.push(path);
    }
  }
  return found;
}

/** The StatsTrack held by the node at `path`, or null when there is none. */
function readTrack(view: NodeView, path: string): StatsTrack | null {
  return view.findPath(path) ? StatsTrack.parse(view.data()) : null;
}

export class QuotaTracker {
  private readonly paths = new QuotaPaths();

  constructor(private readonly writer: TreeWriter) {}

  /** Quotas in force (limit nodes in the tree). */
  get quota_count(): number {
    return this.paths.size;
  }

  /**
   * Reads which paths have a quota from the tree (a writer on a recovered or reloaded tree):
   * every zookeeper_limits node under /zookeeper/quota.
   */
  load(): void {
    this.paths.clear();
    for (const node of listQuotaNodes(this.writer.view)) if (node.kind === 'limit') this.paths.add(node.quota_path);
  }

  /**
   * load(), then each quota's stats node set from its subtree as it is now (ZooKeeper's
   * setupQuota, run when a snapshot is loaded). Writes only the stats that differ (opening a
   * batch then, which the txns replayed next join).
   */
  loadAndRecount(): void {
    this.load();
    for (const path of this.paths) this.recount(path);
  }

  /** True when a txn on `path` may touch quota bookkeeping (recovery's replay fast path). */
  concerns(path: string): boolean {
    return this.paths.size > 0 || underQuotaRoot(path);
  }

  /** The quota a write on `path` counts toward, or null (the Applier reads old sizes only then). */
  quotaOf(path: string): string | null {
    return this.paths.maxPrefix(path);
  }

  /**
   * zookeeper.enforceQuota's check of a write on `path` (ZooKeeperServer.checkQuota): the
   * quota over it, its limit and usage as the tree holds them now. 'within' when no quota
   * covers the path or a node of it is missing (ZooKeeper logs that and lets the write through).
   */
  verdict(path: string, bytes_diff: number, count_diff: number): { quota: string; verdict: QuotaVerdict } | null {
    const quota = this.paths.maxPrefix(path);
    if (quota === null) return null;
    const limit = readTrack(this.writer.view, quotaLimitPath(quota));
    const usage = limit === null ? null : readTrack(this.writer.view, quotaStatPath(quota));
    if (limit === null || usage === null) return null;
    return { quota, verdict: quotaVerdict(limit, usage, BigInt(bytes_diff), BigInt(count_diff)) };
  }

  /** After a create of `path` with `data_bytes` of data (DataTree.createNode's quota part). */
  created(path: string, data_bytes: number): void {
    const node = quotaNodeOf(path);
    if (node?.kind === 'limit') this.paths.add(node.quota_path);
    else if (node?.kind === 'stat') this.recount(node.quota_path);
    const quota = this.paths.maxPrefix(path);
    if (quota !== null) this.adjust(quota, data_bytes, 1);
  }

  /** After a delete of `path`, which had `data_bytes` of data (DataTree.deleteNode's part). */
  deleted(path: string, data_bytes: number): void {
    const node = quotaNodeOf(path);
    if (node?.kind === 'limit') this.paths.delete(node.quota_path);
    const quota = this.paths.maxPrefix(path);
    if (quota !== null) this.adjust(quota, -data_bytes, -1);
  }

  /** After a setData on `quota`'s subtree that changed the data's size by bytes_diff. */
  resized(quota: string, bytes_diff: number): void {
    if (bytes_diff !== 0) this.adjust(quota, bytes_diff, 0);
  }

  /**
   * updateQuotaStat: the stats node's count and bytes move; its Stat stays (the same version,
   * mzxid and mtime are written back). A missing stats node (deleted, or not yet created by
   * setquota) is skipped, as ZooKeeper does.
   */
  private adjust(quota: string, bytes_diff: number, count_diff: number): void {
    const stat_path = quotaStatPath(quota);
    const view = this.writer.view;
    const track = readTrack(view, stat_path);
    if (track === null) return;
    track.add(BigInt(bytes_diff), BigInt(count_diff));
    this.writer.setData(stat_path, track.toBytes(), view.version(), view.mzxid(), view.mtime());
  }

  /**
   * updateQuotaForPath: the stats node set to the count and bytes of the subtree at `quota` (no
   * node there: count 0, bytes 0, as ZooKeeper's getCounts leaves them). One pass over the
   * subtree's keys on the commit thread, as ZooKeeper walks it in its apply: ~0.1 µs per node
   * here (bench/micro/quota.bench.mjs).
   */
  private recount(quota: string): void {
    const view = this.writer.view;
    const usage = view.subtreeUsage(quota) ?? { count: 0, bytes: 0 };
    const stat_path = quotaStatPath(quota);
    if (!view.findPath(stat_path)) return;
    const data = StatsTrack.usage(BigInt(usage.count), BigInt(usage.bytes)).toBytes();
    const old = view.data();
    if (old !== null && Buffer.compare(old, data) === 0) return;
    if (!this.writer.in_batch) this.writer.begin();
    this.writer.setData(stat_path, data, view.version(), view.mzxid(), view.mtime());
  }
}
