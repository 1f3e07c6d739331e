// The Applier: applies each committed txn once per replica, to the shared tree (src/store/arena),
// on the commit worker, and returns what the read workers need of it: the reply result and the
// watch triggers (DataTree.apply's ApplyResult, computed from the new tree state). Txns arrive
// in zxid order, already validated by prep (the leader's, or this replica's when standalone):
// an inconsistency here is a broken invariant, never a request error.
//
// Batches: the first txn after a seal opens a writer batch; seal() publishes its root. The
// commit worker seals once per release round, so one root covers every txn released together
// (a copy-on-write batch copies each touched page once however many txns touch it).

import { CONFIG_NODE, EventType } from '../protocol/constants.js';
import type { ACL, MultiResult, Stat } from '../protocol/types.js';
import { AclCache } from '../store/arena/acl_cache.js';
import type { RootDescriptor, TreeWriter } from '../store/arena/index.js';
import type { ApplyResult, WatchTrigger } from '../tree/data_tree.js';
import { parentPath } from '../tree/path_rules.js';
import { applyMultiOps, reconfigAsSetData, type Txn, type TxnHeader, type TxnOp } from '../tree/txn.js';
import type { QuotaVerdict } from '../tree/quota.js';
import { dataLength, ownerKind } from '../tree/znode.js';
import { QuotaTracker } from './quota_tracker.js';


/** A message built from values goes here behind an if, so it is built only when the check fails
 *  (these checks run per write; a template string would convert its numbers every time). */
function invariantBroken(message: string): never {
  throw new Error(`applier invariant: ${message}`);
}

/**
 * The Stat of a node the txn just created, as NodeView.stat() reads it back (DataTree.createNode:
 * every zxid the txn's, both times its time, versions 0, no children; ephemeralOwner shown for
 * ephemerals only, as container and TTL owners are markers).
 */
function createdStat(op: Extract<TxnOp, { kind: 'create' }>, header: TxnHeader): Stat {
  const zxid = header.zxid;
  return {
    czxid: zxid,
    mzxid: zxid,
    ctime: header.time_ms,
    mtime: header.time_ms,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: ownerKind(op.ephemeral_owner) === 'ephemeral' ? op.ephemeral_owner : 0n,
    dataLength: op.data === null ? 0 : op.data.length,
    numChildren: 0,
    pzxid: zxid,
  };
}

export class Applier {
  private last_zxid: number;
  private applied_total = 0;
  private readonly acls = new AclCache();
  private readonly quota: QuotaTracker;

  /** `writer` holds the tree as of `last_zxid` (its quotas are read from it). */
  constructor(readonly writer: TreeWriter, last_zxid: number) {
    this.last_zxid = last_zxid;
    this.quota = new QuotaTracker(writer);
    this.quota.load();
  }

  /** Quotas in force: paths with a limit node. */
  get quota_count(): number {
    return this.quota.quota_count;
  }

  /** The quota over a write on `path` and what the write would do to it (null: no quota). */
  quotaVerdict(path: string, bytes_diff: number, count_diff: number): { quota: string; verdict: QuotaVerdict } | null {
    return this.quota.verdict(path, bytes_diff, count_diff);
  }

  /**
   * Sets every quota's stats node from the tree as loaded (ZooKeeper does so when it loads a
   * snapshot: stats a client edited, or that a nested quota left stale, are counted afresh).
   */
  recountQuotas(): void {
    this.quota.loadAndRecount();
  }

  /** Txns applied since start (a test shows the replica applies each write once). */
  get applied(): number {
    return this.applied_total;
  }

  /** Applies one committed txn to the newest tree (opening a batch when none is open). */
  apply(txn: Txn): ApplyResult {
    this.enter(txn);
    const events: WatchTrigger[] = [];
    const result = this.applyOp(txn.op, txn.header, events);
    this.leave(txn);
    return result;
  }

  /**
   * apply() for a txn whose result nobody reads (recovery's log replay): the same tree changes,
   * without the reply's Stat (a second lookup) or the watch triggers. Multi and closeSession,
   * rare in a log, take apply()'s path.
   */
  replay(txn: Txn): void {
    const op = txn.op;
    const header = txn.header;
    if ((op.kind !== 'create' && op.kind !== 'delete' && op.kind !== 'setData' && op.kind !== 'setACL') || this.quota.concerns(op.path)) {
      this.apply(txn);
      return;
    }
    this.enter(txn);
    if (op.kind === 'create') this.writer.createReplayed(op.path, op.data, op.acl, op.ephemeral_owner, header.zxid, header.time_ms, op.parent_cversion);
    else if (op.kind === 'delete') this.writer.delete(op.path, header.zxid);
    else if (op.kind === 'setData') this.writer.setData(op.path, op.data, op.version, header.zxid, header.time_ms);
    else this.writer.setACL(op.path, op.acl, op.version);
    this.leave(txn);
  }

  /** Txns come in zxid order; the first after a seal opens a batch. */
  private enter(txn: Txn): void {
    if (!(txn.header.zxid > this.last_zxid)) invariantBroken(`zxid 0x${txn.header.zxid.toString(16)} after 0x${this.last_zxid.toString(16)}`);
    if (!this.writer.in_batch) this.writer.begin();
  }

  private leave(txn: Txn): void {
    this.last_zxid = txn.header.zxid;
    this.applied_total++;
  }

  /** Publishes the open batch as the newest root; null when nothing was applied since. */
  seal(): RootDescriptor | null {
    if (!this.writer.in_batch) return null;
    this.writer.commit(this.last_zxid);
    return this.writer.last_root;
  }

  /** The state was replaced underneath (Zab TRUNC / SNAP): txns continue after `zxid`. */
  resetTo(zxid: number): void {
    this.last_zxid = zxid;
    this.quota.load();
  }

  private applyOp(op: TxnOp, header: TxnHeader, events: WatchTrigger[]): ApplyResult {
    switch (op.kind) {
      case 'create':
        this.create(op, header, events);
        return { err: 0, path: op.path, stat: createdStat(op, header), events };
      case 'delete':
        this.delete(op.path, header.zxid, events);
        return { err: 0, path: op.path, events };
      case 'setData':
        return { err: 0, path: op.path, stat: this.setData(op, header, events), events };
      case 'setACL':
        this.writer.setACL(op.path, op.acl, op.version);
        return { err: 0, path: op.path, stat: this.writer.view.stat(), events };
      case 'reconfig':
        return { err: 0, path: CONFIG_NODE, data: op.data, stat: this.setData(reconfigAsSetData(op), header, events), events };
      case 'check':
        return { err: 0, path: op.path, stat: this.statOf(op.path), events };
      case 'createSession':
        return { err: 0, events };
      case 'closeSession':
        this.closeSession(header, op.paths, events);
        return { err: 0, events };
      case 'error':
        return { err: op.err, events };
      case 'multi':
        return { err: 0, multi: this.applyMulti(op.ops, header, events), events };
    }
  }

  // The writer's changes leave its view on the node they changed last (the parent for create
  // and delete): the triggers' ACLs and the reply's Stat come from there, with no second lookup.
  // Quota bookkeeping comes last: it moves the view to a stats node.

  private create(op: Extract<TxnOp, { kind: 'create' }>, header: TxnHeader, events: WatchTrigger[]): void {
    this.writer.create(op.path, op.data, op.acl, op.ephemeral_owner, header.zxid, header.time_ms, op.parent_cversion);
    events.push({ type: EventType.NodeCreated, path: op.path, acl: op.acl });
    events.push({ type: EventType.NodeChildrenChanged, path: parentPath(op.path), acl: this.acls.of(this.writer.view) });
    this.quota.created(op.path, dataLength(op.data));
  }

  private delete(path: string, zxid: number, events: WatchTrigger[]): void {
    const acl = this.aclOf(path);
    const data_bytes = Math.max(0, this.writer.view.dataLength());
    this.writer.delete(path, zxid);
    events.push({ type: EventType.NodeDeleted, path, acl });
    events.push({ type: EventType.NodeChildrenChanged, path: parentPath(path), acl: this.acls.of(this.writer.view) });
    this.quota.deleted(path, data_bytes);
  }

  /** Returns the node's new Stat (read before quota bookkeeping moves the view). */
  private setData(op: Extract<TxnOp, { kind: 'setData' }>, header: TxnHeader, events: WatchTrigger[]): Stat {
    const quota = this.quota.quotaOf(op.path);
    const old_bytes = quota === null ? 0 : this.dataBytesOf(op.path);
    this.writer.setData(op.path, op.data, op.version, header.zxid, header.time_ms);
    events.push({ type: EventType.NodeDataChanged, path: op.path, acl: this.acls.of(this.writer.view) });
    const stat = this.writer.view.stat();
    if (quota !== null) this.quota.resized(quota, dataLength(op.data) - old_bytes);
    return stat;
  }

  /**
   * Deletes the txn's paths that still exist (as ZooKeeper does), then any ephemeral of the
   * session the txn did not list (ZooKeeper's killSession does the same).
   */
  private closeSession(header: TxnHeader, paths: readonly string[], events: WatchTrigger[]): void {
    const view = this.writer.view;
    for (const path of paths) if (view.findPath(path)) this.delete(path, header.zxid, events);
    for (const path of view.ownedPaths(header.session_id)) this.delete(path, header.zxid, events);
  }

  /** A multi's ops share the header; applyMultiOps says what a failed one does. */
  private applyMulti(ops: readonly TxnOp[], header: TxnHeader, events: WatchTrigger[]): MultiResult[] {
    return applyMultiOps(ops, (op) => this.applyMultiOp(op, header, events));
  }

  private applyMultiOp(op: TxnOp, header: TxnHeader, events: WatchTrigger[]): MultiResult {
    switch (op.kind) {
      case 'create':
        this.create(op, header, events);
        // OpResult.CreateResult: create and create2 inside a multi answer the path only
        // (type 1); container and TTL creates path and Stat (type 15).
        if (op.opcode === 1 || op.opcode === 15) return { type: 1, response: { path: op.path } };
        return { type: 15, response: { path: op.path, stat: createdStat(op, header) } };
      case 'delete':
        this.delete(op.path, header.zxid, events);
        return { type: 2, response: null };
      case 'setData':
        return { type: 5, response: { stat: this.setData(op, header, events) } };
      case 'check':
        return { type: 13, response: null };
      default:
        throw new Error(`applier invariant: op ${op.kind} inside a multi`);
    }
  }

  private statOf(path: string): Stat {
    const view = this.writer.view;
    if (!view.findPath(path)) invariantBroken(`no node ${path}`);
    return view.stat();
  }

  private dataBytesOf(path: string): number {
    const view = this.writer.view;
    if (!view.findPath(path)) invariantBroken(`no node ${path}`);
    return Math.max(0, view.dataLength());
  }

  /** The ACL of the node at `path` (decoded once per distinct list); leaves the view on it. */
  private aclOf(path: string): readonly ACL[] {
    const view = this.writer.view;
    if (!view.findPath(path)) invariantBroken(`no node ${path}`);
    return this.acls.of(view);
  }
}
