// Comparison of an arena tree version with a heap DataTree, for tests: every difference a
// client or the replica could notice, as readable lines. O(n) per call; tests only.

import { JuteWriter } from '../../src/protocol/jute.js';
import { encodeRecord } from '../../src/protocol/records.js';
import type { Stat } from '../../src/protocol/types.js';
import { encodeAclWire } from '../../src/store/arena/acl_store.js';
import { checkTree } from '../../src/store/arena/check.js';
import type { NodeView } from '../../src/store/arena/node_view.js';
import { OWNER_EPHEMERAL, ownerKindOf } from '../../src/store/arena/record.js';
import { TreeReader } from '../../src/store/arena/tree_reader.js';
import { compareUtf8 } from '../../src/store/tree_node_stream.js';
import type { DataTree } from '../../src/tree/data_tree.js';
import { statOf, type ZNode } from '../../src/tree/znode.js';

/** Differences reported before arenaDiff stops looking. */
export const ARENA_DIFF_LIMIT_DEFAULT = 20;

const STAT_FIELDS: readonly (keyof Stat)[] = ['czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren', 'pzxid'];

class Diffs {
  readonly lines: string[] = [];
  constructor(readonly limit: number) {}

  get full(): boolean {
    return this.lines.length >= this.limit;
  }

  add(line: string): void {
    if (!this.full) this.lines.push(line);
  }
}

function statWire(stat: Stat): Uint8Array {
  const w = new JuteWriter(128);
  encodeRecord('Stat', stat, w);
  return w.toBytes();
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.compare(a, b) === 0;
}

function show(bytes: Uint8Array | null): string {
  if (bytes === null) return 'null';
  const head = Buffer.from(bytes.subarray(0, 16)).toString('hex');
  return `${bytes.length} bytes ${head}${bytes.length > 16 ? '...' : ''}`;
}

const list = (xs: readonly string[]): string => JSON.stringify(xs.length > 12 ? [...xs.slice(0, 12), `... ${xs.length} in all`] : xs);

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const owner64 = (hi: number, lo: number): bigint => BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));

/** One heap node against the arena's node at `path` (selected by find). */
function diffNode(view: NodeView, path: string, node: ZNode, d: Diffs): void {
  if (!view.findPath(path)) {
    d.add(`${path}: missing in the arena`);
    return;
  }
  const want = statOf(node);
  const got = view.stat();
  const fields = STAT_FIELDS.filter((f) => got[f] !== want[f]);
  if (fields.length > 0) d.add(`${path}: stat ${fields.map((f) => `${f} ${got[f]} != ${want[f]}`).join(', ')}`);
  const wire = new Uint8Array(68);
  view.statTo(wire, 0);
  if (fields.length === 0 && !sameBytes(wire, statWire(want))) d.add(`${path}: wire stat ${Buffer.from(wire).toString('hex')} != ${Buffer.from(statWire(want)).toString('hex')}`);
  // Hidden from Stat, seen by the replica: creates counted (sequential names), the raw owner.
  if (view.storedCversion() !== node.cversion) d.add(`${path}: stored cversion ${view.storedCversion()} != ${node.cversion}`);
  const owner = owner64(view.ownerHi(), view.ownerLo());
  if (owner !== node.ephemeralOwner) d.add(`${path}: owner ${owner} != ${node.ephemeralOwner}`);
  const data = view.data();
  if (!sameBytes(data, node.data)) d.add(`${path}: data ${show(data)} != ${show(node.data)}`);
  const acl = new Uint8Array(view.aclWireLength());
  view.copyAcl(acl, 0);
  if (!sameBytes(acl, encodeAclWire(node.acl))) d.add(`${path}: ACL ${JSON.stringify(view.acl())} != ${JSON.stringify(node.acl)}`);
  const children = view.children(path) ?? [];
  const want_children = [...node.children].sort(compareUtf8);
  if (!sameList(children, want_children)) d.add(`${path}: children ${list(children)} != ${list(want_children)}`);
}

/** Paths in the owner index under a 1..8 byte prefix, in index order. */
function ownedUnder(view: NodeView, prefix: Uint8Array): string[] {
  view.openOwned(prefix, 0, prefix.length);
  const out: string[] = [];
  while (view.nextOwned()) {
    const buf = new Uint8Array(view.ownedPathLength());
    view.copyOwnedPath(buf, 0);
    out.push(Buffer.from(buf).toString('utf8'));
  }
  return out;
}

function ownerPrefix(owner: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, owner);
  return b;
}

function diffOwnerList(what: string, got: readonly string[], want: readonly string[], d: Diffs): void {
  if (!sameList(got, want)) d.add(`${what}: arena ${list(got)} != tree ${list(want)}`);
}

/** UTF-16 length of a path, as ZooKeeper's approximate data size counts it. */
const approxBytes = (path: string, data_length: number): number => path.length + Math.max(0, data_length);

/**
 * The differences between the version `view` reads and `tree` (empty when they are equal):
 * arena invariants (checkTree), node count, every node's client-visible Stat (as object and in
 * wire form), stored cversion, raw owner, data (null differs from empty), ACL, children in byte
 * order; nodes only the arena has; ephemerals per session, containers, TTL nodes; approximate
 * data size; for a TreeReader also its root's data size and last zxid. Stops after `limit`.
 */
export function arenaDiff(view: NodeView, tree: DataTree, limit: number = ARENA_DIFF_LIMIT_DEFAULT): string[] {
  if (!(Number.isSafeInteger(limit) && limit >= 1)) throw new RangeError(`arenaDiff: limit ${limit}`);
  const d = new Diffs(limit);
  try {
    checkTree(view);
  } catch (e) {
    d.add(`arena invariant: ${(e as Error).message}`);
  }
  if (view.nodeCount() !== tree.node_count) d.add(`node count ${view.nodeCount()} != ${tree.node_count}`);
  for (const [path, node] of tree.entries()) {
    if (d.full) return d.lines;
    diffNode(view, path, node, d);
  }
  // Nodes only the arena has; its approximate data size; the sessions owning its ephemerals.
  const arena_sessions = new Set<bigint>();
  let approx = 0;
  view.openAll();
  while (view.nextNode() && !d.full) {
    const buf = new Uint8Array(view.nodePathLength());
    view.copyNodePath(buf, 0);
    const path = Buffer.from(buf).toString('utf8');
    approx += approxBytes(path, view.dataLength());
    if (!tree.has(path)) d.add(`${path}: only in the arena`);
    if (ownerKindOf(view.ownerHi(), view.ownerLo()) === OWNER_EPHEMERAL) arena_sessions.add(owner64(view.ownerHi(), view.ownerLo()));
  }
  if (approx !== tree.approximate_data_size) d.add(`approximate data size ${approx} != ${tree.approximate_data_size}`);
  const sessions = new Set([...tree.sessions(), ...arena_sessions]);
  for (const s of sessions) {
    diffOwnerList(`ephemerals of session 0x${BigInt.asUintN(64, s).toString(16)}`, ownedUnder(view, ownerPrefix(s)), [...tree.ephemerals(s)].sort(compareUtf8), d);
  }
  const container = -(1n << 63n);
  diffOwnerList('containers', ownedUnder(view, ownerPrefix(container)), [...tree.containers()].sort(compareUtf8), d);
  // TTL owners share the top byte 0xFF; the index orders them by TTL, then path.
  const ttls = [...tree.ttls()].sort((a, b) => {
    const ta = BigInt.asUintN(64, tree.get(a)!.ephemeralOwner);
    const tb = BigInt.asUintN(64, tree.get(b)!.ephemeralOwner);
    return ta !== tb ? (ta < tb ? -1 : 1) : compareUtf8(a, b);
  });
  diffOwnerList('TTL nodes', ownedUnder(view, new Uint8Array([0xff])), ttls, d);
  if (view instanceof TreeReader) {
    if (view.data_bytes !== tree.approximate_data_size) d.add(`root descriptor data size ${view.data_bytes} != ${tree.approximate_data_size}`);
    if (view.last_zxid !== tree.last_zxid) d.add(`root descriptor last zxid ${view.last_zxid} != ${tree.last_zxid}`);
  }
  return d.lines;
}
