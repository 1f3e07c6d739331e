// The in-memory data tree (Apache ZooKeeper's DataTree): a Map from full path to ZNode plus the
// indexes ZooKeeper keeps (ephemerals by session, containers, TTL nodes). `apply` is the only
// mutator; it executes txns that prep already validated, so an inconsistency there is a bug
// (assertion), not a request error. The replica serves from the shared tree (src/store/arena,
// written by commit/applier.ts); this heap tree is the model tests compare it with, and what
// tools recover into. It keeps no quota stats (commit/quota_tracker.ts): a stats node here holds
// what txns wrote to it.

import { CONFIG_NODE, EventType } from '../protocol/constants.js';
import type { ACL, MultiResult, Stat } from '../protocol/types.js';
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE } from './acl.js';
import { childName, javaTrim, joinPath, parentPath } from './path_rules.js';
import { applyMultiOps, reconfigAsSetData, type Txn, type TxnHeader, type TxnOp } from './txn.js';
import { newZNode, ownerKind, statOf, ZNode } from './znode.js';

/** A watch event a txn triggers. The watch tables decide who receives it. */
export interface WatchTrigger {
  type: number;
  path: string;
  /** ACL of the node the event is about, at trigger time: only sessions with READ get the event. */
  acl: readonly ACL[];
}

export interface ApplyResult {
  /** The reply header's err: the error txn's code, else 0 (also 0 for a failed multi). */
  err: number;
  /** create: the created path (with sequential suffix); delete/setData/setACL/check: the path. */
  path?: string;
  /** create (all opcodes), setData, setACL, check: the client-visible Stat after the txn. */
  stat?: Stat;
  /** multi: one result per op, in the reply's shape. */
  multi?: MultiResult[];
  /** reconfig: the new config (the reply is a GetDataResponse). */
  data?: Uint8Array;
  /** Events in the order ZooKeeper triggers them. */
  events: WatchTrigger[];
}

/** A message built from values goes here behind an if, so it is built only when the check fails
 *  (these checks run per write; a template string would convert its numbers every time). */
function assertFailed(message: string): never {
  throw new Error(`DataTree invariant: ${message}`);
}

function systemNode(acl: readonly ACL[]): ZNode {
  return new ZNode(new Uint8Array(0), acl, 0, 0, 0, 0, 0, 0, 0, 0, 0n);
}

/**
 * Told about every existing node just before apply changes it in place or removes it (a create
 * changes its parent). A snapshot in progress uses this to copy the node's state as of the
 * snapshot's zxid before it is lost (copy-on-write, src/snapshot/snapshot_encoder.ts).
 */
export type BeforeChange = (path: string, node: ZNode) => void;

export class DataTree {
  /** zxid of the last txn applied (error txns included). Non-decreasing. */
  last_zxid = 0;
  /** Every znode by full path. Invariant: a node's parent is present and lists it as a child. */
  private readonly nodes = new Map<string, ZNode>();
  /** Paths of the ephemeral nodes of each session (ownerKind 'ephemeral'). No empty sets kept. */
  private readonly ephemerals_by_session = new Map<bigint, Set<string>>();
  private readonly container_paths = new Set<string>();
  private readonly ttl_paths = new Set<string>();
  /** Sum over nodes of path length (UTF-16 units, as Java's String.length) + data length. */
  private data_size = 0;
  private ephemeral_nodes = 0;
  /** See BeforeChange; null when nobody watches (the common case: one branch per change). */
  before_change: BeforeChange | null = null;

  /** An empty tree as a fresh ZooKeeper has it: /, /zookeeper, /zookeeper/quota, /zookeeper/config. */
  constructor() {
    this.insertSystemNode('/', OPEN_ACL_UNSAFE);
    this.insertSystemNode('/zookeeper', OPEN_ACL_UNSAFE);
    this.insertSystemNode('/zookeeper/quota', OPEN_ACL_UNSAFE);
    // Reconfig data is readable by anyone, writable by nobody but super (ZOOKEEPER-2014).
    this.insertSystemNode('/zookeeper/config', READ_ACL_UNSAFE);
    // ZooKeeper installs this ACL with setACL(path, acl, -1), which stores aversion -1.
    this.nodes.get('/zookeeper/config')!.aversion = -1;
  }

  private insertSystemNode(path: string, acl: readonly ACL[]): void {
    if (path !== '/') this.nodes.get(parentPath(path))!.addChild(childName(path));
    this.nodes.set(path, systemNode(acl));
    this.data_size += path.length;
  }

  /** Number of znodes, root included. (ZooKeeper's zk_znode_count is one more: it counts '' too.) */
  get node_count(): number {
    return this.nodes.size;
  }

  get approximate_data_size(): number {
    return this.data_size;
  }

  get ephemerals_count(): number {
    return this.ephemeral_nodes;
  }

  /** The node at `path`. Callers outside apply must not mutate it. */
  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  stat(path: string): Stat | undefined {
    const node = this.nodes.get(path);
    return node === undefined ? undefined : statOf(node);
  }

  /** Child names, sorted (ZooKeeper returns hash order and clients sort). undefined if no node. */
  getChildren(path: string): string[] | undefined {
    const node = this.nodes.get(path);
    return node === undefined ? undefined : [...node.children].sort();
  }

  /** Paths of the session's ephemeral nodes, sorted. */
  ephemerals(session_id: bigint): string[] {
    const paths = this.ephemerals_by_session.get(session_id);
    return paths === undefined ? [] : [...paths].sort();
  }

  /**
   * getEphemerals (103): the session's ephemerals whose path starts with `prefix` as a string
   * (so '/a' matches '/ab'); a blank or '/' prefix returns them all. Sorted.
   */
  getEphemerals(session_id: bigint, prefix: string | null): string[] {
    const all = this.ephemerals(session_id);
    if (prefix === null) return all;
    const trimmed = javaTrim(prefix);
    if (trimmed === '' || trimmed === '/') return all;
    return all.filter((p) => p.startsWith(prefix));
  }

  /** Sessions that own at least one ephemeral node. */
  sessions(): bigint[] {
    return [...this.ephemerals_by_session.keys()];
  }

  containers(): ReadonlySet<string> {
    return this.container_paths;
  }

  ttls(): ReadonlySet<string> {
    return this.ttl_paths;
  }

  /** Number of descendants of `path` (all depths); 0 if there is no node. */
  getAllChildrenNumber(path: string): number {
    const node = this.nodes.get(path);
    if (node === undefined) return 0;
    let count = 0;
    const stack: string[] = [path];
    while (stack.length > 0) {
      const at = stack.pop()!;
      for (const name of this.nodes.get(at)!.children) {
        count++;
        stack.push(joinPath(at, name));
      }
    }
    return count;
  }

  /** Every (path, node), in no particular order. Do not mutate the nodes. */
  entries(): IterableIterator<[string, ZNode]> {
    return this.nodes.entries();
  }

  forEach(visit: (path: string, node: ZNode) => void): void {
    for (const [path, node] of this.nodes) visit(path, node);
  }

  // ---- restore (recovery from a snapshot) ----

  /** Empties the tree (system nodes included) before restoreNode calls. */
  beginRestore(): void {
    this.nodes.clear();
    this.ephemerals_by_session.clear();
    this.container_paths.clear();
    this.ttl_paths.clear();
    this.data_size = 0;
    this.ephemeral_nodes = 0;
    this.last_zxid = 0;
  }

  /** Adds one node as a snapshot recorded it, in any order (children are linked at the end). */
  restoreNode(path: string, node: ZNode): void {
    const before = this.nodes.size;
    this.nodes.set(path, node);
    if (this.nodes.size !== before + 1) assertFailed(`snapshot holds ${path} twice`);
  }

  /** Links every node to its parent, rebuilds the indexes and sizes; the tree is at `last_zxid`. */
  endRestore(last_zxid: number): void {
    if (!this.nodes.has('/')) assertFailed('snapshot has no root node');
    for (const [path, node] of this.nodes) {
      this.data_size += path.length + node.data_length;
      this.index(path, node.ephemeralOwner);
      if (path === '/') continue;
      const parent = this.nodes.get(parentPath(path));
      if (parent === undefined) assertFailed(`snapshot holds ${path} without its parent`);
      parent.addChild(childName(path));
    }
    this.last_zxid = last_zxid;
  }

  /**
   * A 64-bit fingerprint of every node (path, data, acl, stat fields, owner), as 16 hex digits.
   * Order-independent (a sum of per-node hashes), so two trees with equal contents are equal
   * whatever order their nodes were inserted in. For tests and replica comparison; O(n).
   */
  digest(): string {
    let lo = 0;
    let hi = 0;
    for (const [path, node] of this.nodes) {
      const [a, b] = hashNode(path, node);
      lo = (lo + a) >>> 0;
      hi = (hi + b) >>> 0;
    }
    return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  }

  /** Applies one committed txn and sets last_zxid to its zxid. */
  apply(txn: Txn): ApplyResult {
    const { header, op } = txn;
    if (!(header.zxid >= this.last_zxid)) assertFailed(`zxid ${header.zxid} after ${this.last_zxid}`);
    const events: WatchTrigger[] = [];
    const result = this.applyOp(op, header, events);
    this.last_zxid = header.zxid;
    return result;
  }

  private applyOp(op: TxnOp, header: TxnHeader, events: WatchTrigger[]): ApplyResult {
    switch (op.kind) {
      case 'create': {
        const node = this.createNode(op, header, events);
        return { err: 0, path: op.path, stat: statOf(node), events };
      }
      case 'delete':
        this.deleteNode(op.path, header.zxid, events);
        return { err: 0, path: op.path, events };
      case 'setData':
        return { err: 0, path: op.path, stat: this.setData(op, header, events), events };
      case 'reconfig': {
        const stat = this.setData(reconfigAsSetData(op), header, events);
        return { err: 0, path: CONFIG_NODE, data: op.data, stat, events };
      }
      case 'setACL':
        return { err: 0, path: op.path, stat: this.setAcl(op), events };
      case 'check':
        return { err: 0, path: op.path, stat: statOf(this.mustGet(op.path)), events };
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

  private mustGet(path: string): ZNode {
    const node = this.nodes.get(path);
    if (node === undefined) assertFailed(`no node ${path}`);
    return node;
  }

  private createNode(op: Extract<TxnOp, { kind: 'create' }>, header: TxnHeader, events: WatchTrigger[]): ZNode {
    const parent_path = parentPath(op.path);
    const parent = this.mustGet(parent_path);
    if (this.nodes.has(op.path)) assertFailed(`create of existing ${op.path}`);
    this.before_change?.(parent_path, parent);
    const node = newZNode(op.data, op.acl, op.ephemeral_owner, header.zxid, header.time_ms);
    parent.addChild(childName(op.path));
    // ZooKeeper only raises cversion when the txn's value is larger (for fuzzy-snapshot replay).
    // We never replay onto a fuzzy snapshot, so we take the value as is; this keeps the int32 wrap
    // of cversion (and of sequential names) that clients of ZooKeeper observe through prep.
    parent.cversion = op.parent_cversion;
    parent.pzxid = header.zxid;
    this.nodes.set(op.path, node);
    this.data_size += op.path.length + node.data_length;
    this.index(op.path, op.ephemeral_owner);
    events.push({ type: EventType.NodeCreated, path: op.path, acl: node.acl });
    events.push({ type: EventType.NodeChildrenChanged, path: parent_path, acl: parent.acl });
    return node;
  }

  /** Removes a leaf. The parent's pzxid moves forward; its cversion does not change. */
  private deleteNode(path: string, zxid: number, events: WatchTrigger[]): void {
    const node = this.mustGet(path);
    if (node.child_count !== 0) assertFailed(`delete of non-empty ${path}`);
    const parent_path = parentPath(path);
    const parent = this.mustGet(parent_path);
    if (this.before_change !== null) {
      this.before_change(path, node);
      this.before_change(parent_path, parent);
    }
    parent.removeChild(childName(path));
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    this.nodes.delete(path);
    this.data_size -= path.length + node.data_length;
    this.unindex(path, node.ephemeralOwner);
    events.push({ type: EventType.NodeDeleted, path, acl: node.acl });
    events.push({ type: EventType.NodeChildrenChanged, path: parent_path, acl: parent.acl });
  }

  private setData(op: Extract<TxnOp, { kind: 'setData' }>, header: TxnHeader, events: WatchTrigger[]): Stat {
    const node = this.mustGet(op.path);
    this.before_change?.(op.path, node);
    this.data_size += (op.data === null ? 0 : op.data.length) - node.data_length;
    node.data = op.data;
    node.version = op.version;
    node.mzxid = header.zxid;
    node.mtime = header.time_ms;
    events.push({ type: EventType.NodeDataChanged, path: op.path, acl: node.acl });
    return statOf(node);
  }

  private setAcl(op: Extract<TxnOp, { kind: 'setACL' }>): Stat {
    const node = this.mustGet(op.path);
    this.before_change?.(op.path, node);
    node.acl = op.acl;
    node.aversion = op.version;
    return statOf(node);
  }

  /**
   * Deletes the txn's paths (skipping ones already gone, as ZooKeeper does), then any ephemeral of
   * the session the txn did not list (ZooKeeper's killSession does the same, with a warning).
   */
  private closeSession(header: TxnHeader, paths: readonly string[], events: WatchTrigger[]): void {
    for (const path of paths) if (this.nodes.has(path)) this.deleteNode(path, header.zxid, events);
    for (const path of this.ephemerals(header.session_id)) this.deleteNode(path, header.zxid, events);
  }

  /** A multi's ops share the header (one zxid, one time); applyMultiOps says what a failed one does. */
  private applyMulti(ops: readonly TxnOp[], header: TxnHeader, events: WatchTrigger[]): MultiResult[] {
    return applyMultiOps(ops, (op) => this.applyMultiOp(op, header, events));
  }

  private applyMultiOp(op: TxnOp, header: TxnHeader, events: WatchTrigger[]): MultiResult {
    switch (op.kind) {
      case 'create': {
        const node = this.createNode(op, header, events);
        // OpResult.CreateResult: ZooKeeper answers create and create2 inside a multi with the
        // path only (type 1); container and TTL creates with path and Stat (type 15).
        if (op.opcode === 1 || op.opcode === 15) return { type: 1, response: { path: op.path } };
        return { type: 15, response: { path: op.path, stat: statOf(node) } };
      }
      case 'delete':
        this.deleteNode(op.path, header.zxid, events);
        return { type: 2, response: null };
      case 'setData':
        return { type: 5, response: { stat: this.setData(op, header, events) } };
      case 'check':
        return { type: 13, response: null };
      default:
        throw new Error(`DataTree invariant: op ${op.kind} inside a multi`);
    }
  }

  private index(path: string, owner: bigint): void {
    switch (ownerKind(owner)) {
      case 'container':
        this.container_paths.add(path);
        return;
      case 'ttl':
        this.ttl_paths.add(path);
        return;
      case 'ephemeral': {
        let paths = this.ephemerals_by_session.get(owner);
        if (paths === undefined) this.ephemerals_by_session.set(owner, (paths = new Set()));
        paths.add(path);
        this.ephemeral_nodes++;
        return;
      }
      case 'persistent':
        return;
    }
  }

  private unindex(path: string, owner: bigint): void {
    switch (ownerKind(owner)) {
      case 'container':
        this.container_paths.delete(path);
        return;
      case 'ttl':
        this.ttl_paths.delete(path);
        return;
      case 'ephemeral': {
        const paths = this.ephemerals_by_session.get(owner);
        if (!(paths !== undefined && paths.delete(path))) assertFailed(`ephemeral ${path} not indexed`);
        if (paths.size === 0) this.ephemerals_by_session.delete(owner);
        this.ephemeral_nodes--;
        return;
      }
      case 'persistent':
        return;
    }
  }
}

/** Two independent 32-bit lanes of a multiply-xorshift hash over everything a node holds. */
function hashNode(path: string, node: ZNode): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  const feed = (v: number): void => {
    a = Math.imul(a ^ v, 0x5bd1e995);
    a ^= a >>> 15;
    b = Math.imul(b ^ v, 0x85ebca6b);
    b ^= b >>> 13;
  };
  const feedNumber = (n: number): void => {
    feed(n >>> 0);
    feed(Math.floor(n / 0x1_0000_0000) >>> 0);
  };
  const feedString = (s: string): void => {
    feed(s.length);
    for (let i = 0; i < s.length; i++) feed(s.charCodeAt(i));
  };
  feedString(path);
  if (node.data === null) feed(0xffffffff);
  else {
    feed(node.data.length);
    for (const byte of node.data) feed(byte);
  }
  for (const n of [node.czxid, node.mzxid, node.pzxid, node.ctime, node.mtime]) feedNumber(n);
  for (const n of [node.version, node.cversion, node.aversion, node.child_count]) feed(n | 0);
  feed(Number(BigInt.asUintN(32, node.ephemeralOwner)));
  feed(Number(BigInt.asUintN(32, node.ephemeralOwner >> 32n)));
  feed(node.acl.length);
  for (const entry of node.acl) {
    feed(entry.perms | 0);
    feedString(entry.id.scheme);
    feedString(entry.id.id);
  }
  return [a >>> 0, b >>> 0];
}
