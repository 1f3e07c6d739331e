// Prep: turns a write request into a TxnOp (Apache ZooKeeper's PrepRequestProcessor). Pure: it
// reads the tree and never changes it. A request error becomes an `error` op, which still gets a
// zxid and goes through the log like any txn. The order of the checks is ZooKeeper's, because a
// client can see which error comes first.

import {
  CONTAINER_EPHEMERAL_OWNER,
  CreateMode,
  Perms,
} from '../protocol/constants.js';
import { Err } from '../protocol/errors.js';
import type { MalformedRequest } from '../protocol/messages.js';
import { Op } from '../protocol/opcodes.js';
import type {
  CheckVersionRequest,
  ReconfigRequest,
  CreateRequest,
  CreateTTLRequest,
  DeleteRequest,
  Id,
  MultiOp,
  SetACLRequest,
  SetDataRequest,
} from '../protocol/types.js';
import { checkAcl, fixupAcl } from './acl.js';
import { isSpecialPath, isValidPath, parentPath, sequenceSuffix } from './path_rules.js';
import type { QuotaVerdict } from './quota.js';
import type { TxnOp } from './txn.js';
import { dataLength, isValidTtl, type NodeFacts, ownerKind, ttlOwner } from './znode.js';

/**
 * What prep reads: node facts and, for closeSession, the session's ephemerals. Both must include
 * every txn prepped so far, committed or not: the commit worker's PendingView (the committed
 * shared tree + the txns in flight) is one, a DataTree that applies each txn right after prep
 * another.
 */
export interface PrepTree {
  get(path: string): NodeFacts | undefined;
  /** The session's ephemeral paths, sorted in JS string order. */
  ephemerals(session_id: bigint): string[];
}

export interface PrepContext {
  /** The latest state: every earlier txn included, committed or not. */
  tree: PrepTree;
  session_id: bigint;
  /** The session's authenticated ids, including its `ip` id. */
  auth: readonly Id[];
  /** The session authenticated as the super user: ACL checks pass. */
  is_super: boolean;
  now_ms: number;
  /** zookeeper.extendedTypesEnabled: TTL nodes allowed. */
  ttl_enabled: boolean;
  /** zookeeper.enforceQuota: what a write would do to the quota over its path; null = off. */
  quota: QuotaCheck | null;
}

/**
 * ZooKeeperServer.checkQuota: the verdict for a write on `path` that changes the count of its
 * quota's subtree by count_diff and its bytes by bytes_diff ('within' when no quota covers it).
 * ZooKeeper reads the limit and the usage from the committed tree, not from the writes in flight.
 */
export type QuotaCheck = (path: string, bytes_diff: number, count_diff: number) => QuotaVerdict;

/** DeleteContainerRequest: the reaper's request (opcode 20). */
export interface DeleteContainerRequest {
  path: string;
}

/** A write request body; which one is given by the opcode (closeSession has none). A
 *  MalformedRequest is a write whose body did not decode. */
export type WriteRequest =
  | MalformedRequest
  | CreateRequest
  | CreateTTLRequest
  | DeleteRequest
  | DeleteContainerRequest
  | SetDataRequest
  | SetACLRequest
  | CheckVersionRequest
  | ReconfigRequest
  | readonly MultiOp[]
  | null;

/** An op prep knows how to turn into a TxnOp: the multi ops plus setACL and the reaper's delete. */
type PrepOp = MultiOp | { type: 7; request: SetACLRequest } | { type: 20; request: DeleteContainerRequest };

/** What prep reads. DataTree is one; ScratchView layers a multi's earlier ops on top of it. */
interface PrepView {
  get(path: string): NodeFacts | undefined;
}

interface ModeSpec {
  readonly ephemeral: boolean;
  readonly sequential: boolean;
  readonly container: boolean;
  readonly ttl: boolean;
}

/** CreateMode.java by flag value. */
const CREATE_MODES: ReadonlyMap<number, ModeSpec> = new Map([
  [CreateMode.PERSISTENT, { ephemeral: false, sequential: false, container: false, ttl: false }],
  [CreateMode.EPHEMERAL, { ephemeral: true, sequential: false, container: false, ttl: false }],
  [CreateMode.PERSISTENT_SEQUENTIAL, { ephemeral: false, sequential: true, container: false, ttl: false }],
  [CreateMode.EPHEMERAL_SEQUENTIAL, { ephemeral: true, sequential: true, container: false, ttl: false }],
  [CreateMode.CONTAINER, { ephemeral: false, sequential: false, container: true, ttl: false }],
  [CreateMode.PERSISTENT_WITH_TTL, { ephemeral: false, sequential: false, container: false, ttl: true }],
  [CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, { ephemeral: false, sequential: true, container: false, ttl: true }],
]);

/** Opcodes prepOne handles when sent on their own. */
const SINGLE_WRITE_OPS: ReadonlySet<number> = new Set([
  Op.create, Op.create2, Op.createContainer, Op.createTTL, Op.delete, Op.deleteContainer,
  Op.setData, Op.setACL, Op.check,
]);

/** Op types a multi may contain (MultiOperationRecord's write ops). */
const MULTI_WRITE_OPS: ReadonlySet<number> = new Set([
  Op.create, Op.create2, Op.createContainer, Op.createTTL, Op.delete, Op.setData, Op.check,
]);

/** True when zookeeper.enforceQuota is on and the write goes over a hard limit. */
function overHardQuota(ctx: PrepContext, path: string, bytes_diff: number, count_diff: number): boolean {
  return ctx.quota !== null && ctx.quota(path, bytes_diff, count_diff) === 'hard';
}

function fail(err: number): TxnOp {
  return { kind: 'error', err };
}

function allowed(ctx: PrepContext, facts: NodeFacts, perm: number): boolean {
  return checkAcl(facts.acl, perm, ctx.auth, ctx.is_super);
}

/** checkAndIncVersion's test: -1 matches any version. */
function versionMatches(expected: number, current: number): boolean {
  return expected === -1 || expected === current;
}

/** Java int increment (wraps at 2^31). */
function nextInt32(v: number): number {
  return (v + 1) | 0;
}

/**
 * Prep of one write request. `request` must be the body the opcode names (MultiOp[] for multi,
 * null for closeSession). Never throws for a bad request: it returns an `error` op.
 * Opcodes that are not writes give UNIMPLEMENTED; reconfig gives RECONFIGDISABLED (ZooKeeper's
 * default, reconfigEnabled=false).
 */
export function prepRequest(ctx: PrepContext, opcode: number, request: WriteRequest): TxnOp {
  // ZooKeeper's prep takes the zxid before it reads the body: a body that does not decode is an
  // error txn (MARSHALLINGERROR) that consumes a zxid like any other.
  if (request !== null && 'malformed' in request) return fail(Err.MARSHALLINGERROR);
  if (opcode === Op.closeSession) return { kind: 'closeSession', paths: ctx.tree.ephemerals(ctx.session_id) };
  if (opcode === Op.multi) return prepMulti(ctx, request as readonly MultiOp[]);
  if (opcode === Op.reconfig) return fail(Err.RECONFIGDISABLED);
  if (!SINGLE_WRITE_OPS.has(opcode)) return fail(Err.UNIMPLEMENTED);
  // The opcode names the body's record: this is the one place the pairing is asserted.
  return prepOne(ctx.tree, ctx, { type: opcode, request } as PrepOp);
}

function prepOne(view: PrepView, ctx: PrepContext, op: PrepOp): TxnOp {
  switch (op.type) {
    case Op.create:
    case Op.create2:
    case Op.createContainer:
      return prepCreate(view, ctx, op.type, op.request, -1);
    case Op.createTTL:
      return prepCreate(view, ctx, op.type, op.request, op.request.ttl);
    case Op.delete:
      return prepDelete(view, ctx, op.request);
    case Op.deleteContainer:
      return prepDeleteContainer(view, op.request);
    case Op.setData:
      return prepSetData(view, ctx, op.request);
    case Op.setACL:
      return prepSetAcl(view, ctx, op.request);
    case Op.check:
      return prepCheck(view, ctx, op.request);
    default:
      // A read op (getData/getChildren) in a write multi: ZooKeeper fails the whole request.
      return fail(Err.MARSHALLINGERROR);
  }
}

/**
 * Error code for a create's mode, or 0. As in ZooKeeper (PrepRequestProcessor), the mode comes
 * from the flags and the opcode only picks the reply record: createContainer with flags 0 makes a
 * persistent node, create with flags 4 a container. A TTL mode needs a valid ttl (only createTTL
 * carries one) and createTTL a TTL mode (ZooKeeper: "ttl not valid for mode" -> BADARGUMENTS).
 */
function createModeError(ctx: PrepContext, opcode: number, flags: number, ttl: number): number {
  const mode = CREATE_MODES.get(flags);
  if (mode === undefined) return Err.BADARGUMENTS;
  if (mode.ttl && !ctx.ttl_enabled) return Err.UNIMPLEMENTED;
  if (mode.ttl ? !isValidTtl(ttl) : ttl >= 0) return Err.BADARGUMENTS;
  if (opcode === Op.createTTL && !mode.ttl) return Err.BADARGUMENTS;
  return 0;
}

function ownerFor(mode: ModeSpec, session_id: bigint, ttl: number): bigint {
  if (mode.container) return CONTAINER_EPHEMERAL_OWNER;
  if (mode.ttl) return ttlOwner(ttl);
  return mode.ephemeral ? session_id : 0n;
}

/**
 * create / create2 / createContainer / createTTL. Check order (PrepRequestProcessor): mode,
 * TTL, path has a '/' and no NUL, ACL (INVALIDACL, or MARSHALLINGERROR for a null id), parent
 * exists (NONODE), CREATE on parent (NOAUTH), sequential suffix from the parent's cversion, full
 * path validation, NODEEXISTS, ephemeral parent (NOCHILDRENFOREPHEMERALS), quota (QUOTAEXCEEDED,
 * with zookeeper.enforceQuota).
 */
function prepCreate(view: PrepView, ctx: PrepContext, opcode: number, req: CreateRequest, ttl: number): TxnOp {
  const mode_err = createModeError(ctx, opcode, req.flags, ttl);
  if (mode_err !== 0) return fail(mode_err);
  const mode = CREATE_MODES.get(req.flags)!;
  if (req.path.lastIndexOf('/') < 0 || req.path.includes('\0')) return fail(Err.BADARGUMENTS);
  const acl = fixupAcl(req.acl, ctx.auth);
  if (typeof acl === 'number') return fail(acl);
  const parent = view.get(parentPath(req.path));
  if (parent === undefined) return fail(Err.NONODE);
  if (!allowed(ctx, parent, Perms.CREATE)) return fail(Err.NOAUTH);
  // The client validated `path + "1"` for sequential nodes, so '/a/' becomes '/a/0000000007'.
  const path = mode.sequential ? req.path + sequenceSuffix(parent.cversion) : req.path;
  if (!isValidPath(path)) return fail(Err.BADARGUMENTS);
  if (view.get(path) !== undefined) return fail(Err.NODEEXISTS);
  if (ownerKind(parent.ephemeralOwner) === 'ephemeral') return fail(Err.NOCHILDRENFOREPHEMERALS);
  if (overHardQuota(ctx, path, dataLength(req.data), 1)) return fail(Err.QUOTAEXCEEDED);
  return {
    kind: 'create',
    path,
    data: req.data,
    acl,
    ephemeral_owner: ownerFor(mode, ctx.session_id, ttl),
    parent_cversion: nextInt32(parent.cversion),
    opcode,
  };
}

/** getParentPathAndValidate: a '/' somewhere, no NUL, not one of ZooKeeper's own nodes. */
function isDeletablePath(path: string): boolean {
  return path.lastIndexOf('/') >= 0 && !path.includes('\0') && !isSpecialPath(path);
}

/** delete: path (BADARGUMENTS), parent (NONODE), DELETE on parent (NOAUTH), node, version, NOTEMPTY. */
function prepDelete(view: PrepView, ctx: PrepContext, req: DeleteRequest): TxnOp {
  if (!isDeletablePath(req.path)) return fail(Err.BADARGUMENTS);
  const parent = view.get(parentPath(req.path));
  if (parent === undefined) return fail(Err.NONODE);
  if (!allowed(ctx, parent, Perms.DELETE)) return fail(Err.NOAUTH);
  const node = view.get(req.path);
  if (node === undefined) return fail(Err.NONODE);
  if (!versionMatches(req.version, node.version)) return fail(Err.BADVERSION);
  if (node.child_count > 0) return fail(Err.NOTEMPTY);
  return { kind: 'delete', path: req.path, opcode: Op.delete };
}

/**
 * deleteContainer (the reaper; no ACL check): path, node (NONODE), NOTEMPTY, kind, parent.
 * ZooKeeper only refuses ephemeral nodes here (BADVERSION); we also refuse persistent ones, so
 * a stale candidate (a container deleted and re-created as a plain node) is never reaped.
 */
function prepDeleteContainer(view: PrepView, req: DeleteContainerRequest): TxnOp {
  if (!isDeletablePath(req.path)) return fail(Err.BADARGUMENTS);
  const node = view.get(req.path);
  if (node === undefined) return fail(Err.NONODE);
  if (node.child_count > 0) return fail(Err.NOTEMPTY);
  const kind = ownerKind(node.ephemeralOwner);
  if (kind !== 'container' && kind !== 'ttl') return fail(Err.BADVERSION);
  if (view.get(parentPath(req.path)) === undefined) return fail(Err.NONODE);
  return { kind: 'delete', path: req.path, opcode: Op.deleteContainer };
}

/** setData: path, node, WRITE, quota (QUOTAEXCEEDED), version. The new version wraps like a Java int. */
function prepSetData(view: PrepView, ctx: PrepContext, req: SetDataRequest): TxnOp {
  if (!isValidPath(req.path)) return fail(Err.BADARGUMENTS);
  const node = view.get(req.path);
  if (node === undefined) return fail(Err.NONODE);
  if (!allowed(ctx, node, Perms.WRITE)) return fail(Err.NOAUTH);
  if (overHardQuota(ctx, req.path, dataLength(req.data) - node.data_length, 0)) return fail(Err.QUOTAEXCEEDED);
  if (!versionMatches(req.version, node.version)) return fail(Err.BADVERSION);
  return { kind: 'setData', path: req.path, data: req.data, version: nextInt32(node.version) };
}

/** setACL: path, ACL (INVALIDACL), node, ADMIN, aversion. */
function prepSetAcl(view: PrepView, ctx: PrepContext, req: SetACLRequest): TxnOp {
  if (!isValidPath(req.path)) return fail(Err.BADARGUMENTS);
  const acl = fixupAcl(req.acl, ctx.auth);
  if (typeof acl === 'number') return fail(acl);
  const node = view.get(req.path);
  if (node === undefined) return fail(Err.NONODE);
  if (!allowed(ctx, node, Perms.ADMIN)) return fail(Err.NOAUTH);
  if (!versionMatches(req.version, node.aversion)) return fail(Err.BADVERSION);
  return { kind: 'setACL', path: req.path, acl, version: nextInt32(node.aversion) };
}

/** check: path, node, READ, version. The txn carries the version that was checked. */
function prepCheck(view: PrepView, ctx: PrepContext, req: CheckVersionRequest): TxnOp {
  if (!isValidPath(req.path)) return fail(Err.BADARGUMENTS);
  const node = view.get(req.path);
  if (node === undefined) return fail(Err.NONODE);
  if (!allowed(ctx, node, Perms.READ)) return fail(Err.NOAUTH);
  if (!versionMatches(req.version, node.version)) return fail(Err.BADVERSION);
  return { kind: 'check', path: req.path, version: node.version };
}

/**
 * multi: ops are prepped in order, each against the tree plus the effects of the earlier ops.
 * On the first failure the multi becomes all error ops: 0 before it, its code, -2
 * (RUNTIMEINCONSISTENCY) after it; later ops are not prepped at all (as in ZooKeeper).
 */
function prepMulti(ctx: PrepContext, ops: readonly MultiOp[]): TxnOp {
  if (ops.some((op) => !MULTI_WRITE_OPS.has(op.type))) return fail(Err.MARSHALLINGERROR);
  const view = new ScratchView(ctx.tree);
  const prepped: TxnOp[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = prepOne(view, ctx, ops[i]);
    // MARSHALLINGERROR is what ZooKeeper answers when its prep throws something other than a
    // KeeperException (a null ACL id): that escapes the multi's per-op handling and fails the
    // whole request with a plain error reply, not a MultiResponse.
    if (op.kind === 'error' && op.err === Err.MARSHALLINGERROR) return op;
    if (op.kind === 'error') return { kind: 'multi', ops: failedMultiOps(ops.length, i, op.err) };
    view.record(op);
    prepped.push(op);
  }
  return { kind: 'multi', ops: prepped };
}

function failedMultiOps(count: number, failed_at: number, err: number): TxnOp[] {
  const ops: TxnOp[] = [];
  for (let i = 0; i < count; i++) {
    ops.push(fail(i < failed_at ? Err.OK : i === failed_at ? err : Err.RUNTIMEINCONSISTENCY));
  }
  return ops;
}

function copyFacts(facts: NodeFacts): NodeFacts {
  return {
    acl: facts.acl,
    version: facts.version,
    cversion: facts.cversion,
    aversion: facts.aversion,
    ephemeralOwner: facts.ephemeralOwner,
    child_count: facts.child_count,
    data_length: facts.data_length,
  };
}

/** The tree as a multi's earlier ops left it. Only the touched paths are stored. */
class ScratchView implements PrepView {
  /** Changed node facts by path; null = deleted by an earlier op. */
  private readonly changed = new Map<string, NodeFacts | null>();

  constructor(private readonly tree: PrepTree) {}

  get(path: string): NodeFacts | undefined {
    const changed = this.changed.get(path);
    if (changed !== undefined) return changed ?? undefined;
    return this.tree.get(path);
  }

  private mustGet(path: string): NodeFacts {
    const facts = this.get(path);
    if (facts === undefined) throw new Error(`ScratchView invariant: no node ${path}`);
    return facts;
  }

  /** Records the effect of a successfully prepped op. */
  record(op: TxnOp): void {
    switch (op.kind) {
      case 'create': {
        const parent_path = parentPath(op.path);
        const parent = this.mustGet(parent_path);
        this.changed.set(parent_path, { ...copyFacts(parent), cversion: op.parent_cversion, child_count: parent.child_count + 1 });
        this.changed.set(op.path, { acl: op.acl, version: 0, cversion: 0, aversion: 0, ephemeralOwner: op.ephemeral_owner, child_count: 0, data_length: dataLength(op.data) });
        return;
      }
      case 'delete': {
        const parent_path = parentPath(op.path);
        const parent = this.mustGet(parent_path);
        this.changed.set(parent_path, { ...copyFacts(parent), child_count: parent.child_count - 1 });
        this.changed.set(op.path, null);
        return;
      }
      case 'setData':
        this.changed.set(op.path, { ...copyFacts(this.mustGet(op.path)), version: op.version, data_length: dataLength(op.data) });
        return;
      case 'setACL':
        this.changed.set(op.path, { ...copyFacts(this.mustGet(op.path)), acl: op.acl, aversion: op.version });
        return;
      default:
        return;
    }
  }
}
