// Reads served from a tree (Apache ZooKeeper's FinalRequestProcessor, 3.9.x): exists, getData,
// getACL, getChildren(2), getAllChildrenNumber, getEphemerals, multiRead. Watches are not
// registered here; the result says which ones the caller must register, so that a watch is
// registered exactly when ZooKeeper registers it.

import { Perms } from '../protocol/constants.js';
import { Err } from '../protocol/errors.js';
import { Op } from '../protocol/opcodes.js';
import type {
  ExistsResponse,
  GetACLRequest,
  GetACLResponse,
  GetAllChildrenNumberRequest,
  GetAllChildrenNumberResponse,
  GetChildren2Response,
  GetChildrenResponse,
  GetDataResponse,
  GetEphemeralsRequest,
  GetEphemeralsResponse,
  Id,
  MultiOp,
  MultiResult,
  PathWatchRequest,
} from '../protocol/types.js';
import type { ACL, Stat } from '../protocol/types.js';
import { checkAcl, redactDigests } from './acl.js';

/**
 * The tree a read is served from. Shards serve from the shared arena (src/store/arena, via
 * workers/shard/arena_read_tree.ts); anything that implements this serves the same answers.
 */
export interface ReadTree {
  /** Selects the node at `path`; the returned view is valid until the next call on this tree. */
  node(path: string): ReadNode | undefined;
  /** getEphemerals (103): the session's ephemerals whose path starts with `prefix`, sorted. */
  getEphemerals(session_id: bigint, prefix: string | null): string[];
  /** Descendants of `path` at any depth (0 when there is no node). */
  getAllChildrenNumber(path: string): number;
}

/** One selected node. Each method returns a fresh value the caller may keep. */
export interface ReadNode {
  acl(): readonly ACL[];
  data(): Uint8Array | null;
  stat(): Stat;
  /** Child names, sorted. */
  children(): string[];
}

export interface ReadContext {
  /** The session's authenticated ids, including its `ip` id. */
  auth: readonly Id[];
  is_super: boolean;
  session_id: bigint;
}

/**
 * Which watch table to register `path` in. 'exist' is an exists() on a missing node: the server
 * keeps it with the data watches (it fires NodeCreated); clients resend it as an exist watch.
 */
export type WatchKind = 'data' | 'exist' | 'child';

export interface WatchRegistration {
  path: string;
  kind: WatchKind;
}

export type ReadRequest =
  | PathWatchRequest
  | GetACLRequest
  | GetAllChildrenNumberRequest
  | GetEphemeralsRequest
  | readonly MultiOp[];

export type ReadResponse =
  | ExistsResponse
  | GetDataResponse
  | GetACLResponse
  | GetChildrenResponse
  | GetChildren2Response
  | GetAllChildrenNumberResponse
  | GetEphemeralsResponse
  | MultiResult[];

export interface ReadResult {
  /** Reply header err. A multiRead has err 0 and per-op errors inline. */
  err: number;
  /** The response record; null when err != 0. */
  response: ReadResponse | null;
  /** Watches to register (only when the request asked for one and ZooKeeper would register it). */
  watches: WatchRegistration[];
}

function failed(err: number, watches: WatchRegistration[] = []): ReadResult {
  return { err, response: null, watches };
}

function ok(response: ReadResponse, watches: WatchRegistration[] = []): ReadResult {
  return { err: 0, response, watches };
}

function canRead(ctx: ReadContext, node: ReadNode, perm: number = Perms.READ): boolean {
  return checkAcl(node.acl(), perm, ctx.auth, ctx.is_super);
}

function watchIf(watch: boolean, path: string, kind: WatchKind): WatchRegistration[] {
  return watch ? [{ path, kind }] : [];
}

/**
 * Serves one read. `request` must be the body the opcode names (MultiOp[] for multiRead).
 * Opcodes that are not tree reads give UNIMPLEMENTED.
 */
export function serveRead(tree: ReadTree, ctx: ReadContext, opcode: number, request: ReadRequest): ReadResult {
  switch (opcode) {
    case Op.exists:
      return exists(tree, ctx, request as PathWatchRequest);
    case Op.getData:
      return getData(tree, ctx, request as PathWatchRequest);
    case Op.getACL:
      return getAcl(tree, ctx, request as GetACLRequest);
    case Op.getChildren:
    case Op.getChildren2:
      return getChildren(tree, ctx, request as PathWatchRequest, opcode === Op.getChildren2);
    case Op.getAllChildrenNumber:
      return getAllChildrenNumber(tree, ctx, request as GetAllChildrenNumberRequest);
    case Op.getEphemerals: {
      const prefix = (request as GetEphemeralsRequest).prefixPath;
      return ok({ ephemerals: tree.getEphemerals(ctx.session_id, prefix) });
    }
    case Op.multiRead:
      return multiRead(tree, ctx, request as readonly MultiOp[]);
    default:
      return failed(Err.UNIMPLEMENTED);
  }
}

/** What exists / getData decide before any body is built: the reply's error, the watches to
 *  register, and (err 0) the node the body is made of. */
export interface ReadDecision {
  err: number;
  watches: WatchRegistration[];
  /** The readable node (err 0): valid until the next call on the tree. */
  node: ReadNode | undefined;
}

/**
 * exists (READ checked since 3.9.2/3.8.4): a NUL in the path is BADARGUMENTS; an existing node
 * the caller cannot read is NOAUTH and registers nothing; a missing node is NONODE and still
 * registers the watch (it fires when the node is created).
 * getData: NONODE and NOAUTH register nothing.
 * The caller builds the body from `node` (serveRead: objects; a shard: straight into the reply).
 */
export function decideRead(tree: ReadTree, ctx: ReadContext, opcode: typeof Op.exists | typeof Op.getData, req: PathWatchRequest): ReadDecision {
  if (opcode === Op.exists && req.path.includes('\0')) return { err: Err.BADARGUMENTS, watches: [], node: undefined };
  const node = tree.node(req.path);
  const err = node === undefined ? Err.NONODE : canRead(ctx, node) ? 0 : Err.NOAUTH;
  const kind = pathReadWatchKind(opcode, err);
  return { err, watches: kind === null ? [] : watchIf(req.watch, req.path, kind), node: err === 0 ? node : undefined };
}

/** The watch a getData / exists that asked for one registers, by its answer (decideRead's
 *  rule; a shard's read in place applies it too): the node's data watch when it was read, an
 *  exist watch for an exists of a missing node, none otherwise. */
export function pathReadWatchKind(opcode: number, err: number): WatchKind | null {
  if (err === 0) return 'data';
  return err === Err.NONODE && opcode === Op.exists ? 'exist' : null;
}

function exists(tree: ReadTree, ctx: ReadContext, req: PathWatchRequest): ReadResult {
  const d = decideRead(tree, ctx, Op.exists, req);
  return d.node === undefined ? failed(d.err, d.watches) : ok({ stat: d.node.stat() }, d.watches);
}

function getData(tree: ReadTree, ctx: ReadContext, req: PathWatchRequest): ReadResult {
  const d = decideRead(tree, ctx, Op.getData, req);
  return d.node === undefined ? failed(d.err, d.watches) : ok({ data: d.node.data(), stat: d.node.stat() }, d.watches);
}

/**
 * getACL needs READ or ADMIN; without ADMIN the digest ids come back redacted (`user:x`).
 * The super user has every permission.
 */
function getAcl(tree: ReadTree, ctx: ReadContext, req: GetACLRequest): ReadResult {
  const node = tree.node(req.path);
  if (node === undefined) return failed(Err.NONODE);
  if (!canRead(ctx, node, Perms.READ | Perms.ADMIN)) return failed(Err.NOAUTH);
  const acl = canRead(ctx, node, Perms.ADMIN) ? [...node.acl()] : redactDigests(node.acl());
  return ok({ acl, stat: node.stat() });
}

function getChildren(tree: ReadTree, ctx: ReadContext, req: PathWatchRequest, with_stat: boolean): ReadResult {
  const node = tree.node(req.path);
  if (node === undefined) return failed(Err.NONODE);
  if (!canRead(ctx, node)) return failed(Err.NOAUTH);
  const children = node.children();
  const watches = watchIf(req.watch, req.path, 'child');
  return with_stat ? ok({ children, stat: node.stat() }, watches) : ok({ children }, watches);
}

function getAllChildrenNumber(tree: ReadTree, ctx: ReadContext, req: GetAllChildrenNumberRequest): ReadResult {
  const node = tree.node(req.path);
  if (node === undefined) return failed(Err.NONODE);
  if (!canRead(ctx, node)) return failed(Err.NOAUTH);
  return ok({ totalNumber: tree.getAllChildrenNumber(req.path) });
}

/**
 * multiRead: getData / getChildren ops, each served on its own; an op's error becomes its
 * ErrorResult and the header err stays 0. A write op inside fails the whole request
 * (ZooKeeper: "Invalid type of readOp" -> MARSHALLINGERROR).
 */
function multiRead(tree: ReadTree, ctx: ReadContext, ops: readonly MultiOp[]): ReadResult {
  if (ops.some((op) => op.type !== Op.getData && op.type !== Op.getChildren)) return failed(Err.MARSHALLINGERROR);
  const results: MultiResult[] = [];
  const watches: WatchRegistration[] = [];
  for (const op of ops) {
    const read = op.type === Op.getData
      ? getData(tree, ctx, op.request as PathWatchRequest)
      : getChildren(tree, ctx, op.request as PathWatchRequest, false);
    watches.push(...read.watches);
    if (read.err !== 0) results.push({ type: -1, response: { err: read.err } });
    else if (op.type === Op.getData) results.push({ type: 4, response: read.response as GetDataResponse });
    else results.push({ type: 8, response: read.response as GetChildrenResponse });
  }
  return ok(results, watches);
}
