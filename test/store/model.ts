// The reference model of the arena tree for the tests: a Map from path to an immutable node,
// copied at every commit, and the comparison of every read a reader (or the writer's view) can
// make against it.

import { expect } from 'vitest';
import { JuteWriter } from '../../src/protocol/jute.js';
import { encodeRecord } from '../../src/protocol/records.js';
import type { ACL, Stat } from '../../src/protocol/types.js';
import { encodeAclWire } from '../../src/store/arena/acl_store.js';
import { checkTree } from '../../src/store/arena/check.js';
import type { NodeView } from '../../src/store/arena/node_view.js';
import type { TreeWriter } from '../../src/store/arena/tree_writer.js';

export interface ModelNode {
  readonly data: Uint8Array | null;
  readonly acl: readonly ACL[];
  readonly czxid: number;
  readonly mzxid: number;
  readonly pzxid: number;
  readonly ctime: number;
  readonly mtime: number;
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly owner: bigint;
  readonly numChildren: number;
}

export type Model = Map<string, ModelNode>;

export const CONTAINER = -0x8000_0000_0000_0000n;
export const TTL_1S = -0x0100_0000_0000_0000n | 1000n;

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i === 0 ? '/' : path.slice(0, i);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Byte order of UTF-8: the order of the arena's keys. */
export const byBytes = (a: string, b: string): number => Buffer.compare(utf8(a), utf8(b));

/** Applies the same changes as TreeWriter to the model (and to the writer when given). */
export class ModelWriter {
  model: Model = new Map();
  zxid = 0;

  constructor(private readonly writer: TreeWriter | null) {}

  private put(path: string, node: ModelNode): void {
    this.model.set(path, node);
  }

  create(path: string, data: Uint8Array | null, acl: readonly ACL[], owner: bigint): void {
    const zxid = ++this.zxid;
    const time = 1_700_000_000_000 + zxid;
    const parent = path === '/' ? undefined : this.model.get(parentOf(path));
    const parent_cversion = parent === undefined ? 0 : parent.cversion + 1;
    this.writer?.create(path, data, acl, owner, zxid, time, parent_cversion);
    if (parent !== undefined) {
      this.put(parentOf(path), { ...parent, numChildren: parent.numChildren + 1, cversion: parent_cversion, pzxid: zxid });
    }
    this.put(path, {
      data, acl, czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: time, mtime: time,
      version: 0, cversion: 0, aversion: 0, owner, numChildren: 0,
    });
  }

  delete(path: string): void {
    const zxid = ++this.zxid;
    this.writer?.delete(path, zxid);
    this.model.delete(path);
    const parent = this.model.get(parentOf(path))!;
    this.put(parentOf(path), { ...parent, numChildren: parent.numChildren - 1, pzxid: Math.max(parent.pzxid, zxid) });
  }

  setData(path: string, data: Uint8Array | null): void {
    const zxid = ++this.zxid;
    const node = this.model.get(path)!;
    const time = 1_700_000_000_000 + zxid;
    this.writer?.setData(path, data, node.version + 1, zxid, time);
    this.put(path, { ...node, data, version: node.version + 1, mzxid: zxid, mtime: time });
  }

  setACL(path: string, acl: readonly ACL[]): void {
    const node = this.model.get(path)!;
    this.writer?.setACL(path, acl, node.aversion + 1);
    this.put(path, { ...node, acl, aversion: node.aversion + 1 });
  }

  /** Immutable copy for a generation (nodes are never mutated, only replaced). */
  snapshot(): Model {
    return new Map(this.model);
  }
}

function ownerKind(owner: bigint): 'persistent' | 'ephemeral' | 'container' | 'ttl' {
  if (owner === 0n) return 'persistent';
  if (owner === CONTAINER) return 'container';
  if ((owner & -0x0100_0000_0000_0000n) === -0x0100_0000_0000_0000n && (owner & 0x00ff_ff00_0000_0000n) === 0n) return 'ttl';
  return 'ephemeral';
}

export function modelStat(n: ModelNode): Stat {
  return {
    czxid: n.czxid,
    mzxid: n.mzxid,
    ctime: n.ctime,
    mtime: n.mtime,
    version: n.version,
    cversion: (n.cversion * 2 - n.numChildren) | 0,
    aversion: n.aversion,
    ephemeralOwner: ownerKind(n.owner) === 'ephemeral' ? n.owner : 0n,
    dataLength: n.data === null ? 0 : n.data.length,
    numChildren: n.numChildren,
    pzxid: n.pzxid,
  };
}

function statWire(stat: Stat): Uint8Array {
  const w = new JuteWriter(128);
  encodeRecord('Stat', stat, w);
  return w.toBytes();
}

interface ModelIndex {
  children: Map<string, string[]>;
  descendants: Map<string, number>;
  owners: Map<bigint, string[]>;
}

const indexes = new WeakMap<Model, ModelIndex>();

/** Children (byte order), descendant counts and owner lists of a model, computed once. */
function indexOf(model: Model): ModelIndex {
  let ix = indexes.get(model);
  if (ix !== undefined) return ix;
  ix = { children: new Map(), descendants: new Map(), owners: new Map() };
  for (const path of model.keys()) {
    ix.children.set(path, []);
    ix.descendants.set(path, 0);
  }
  for (const [path, node] of model) {
    if (node.owner !== 0n) ix.owners.set(node.owner, [...(ix.owners.get(node.owner) ?? []), path]);
    if (path === '/') continue;
    ix.children.get(parentOf(path))!.push(path.slice(path.lastIndexOf('/') + 1));
    for (let p = parentOf(path); ; p = parentOf(p)) {
      ix.descendants.set(p, ix.descendants.get(p)! + 1);
      if (p === '/') break;
    }
  }
  for (const names of ix.children.values()) names.sort(byBytes);
  for (const paths of ix.owners.values()) paths.sort(byBytes);
  indexes.set(model, ix);
  return ix;
}

export function modelChildren(model: Model, path: string): string[] {
  return indexOf(model).children.get(path) ?? [];
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.compare(a, b) === 0;
}

function sameList(a: readonly string[] | null, b: readonly string[]): boolean {
  return a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Fails the test with the mismatch shown (expect is only reached on a mismatch: it is slow). */
function agree(ok: boolean, what: string, got: unknown, want: unknown): void {
  if (!ok) expect(got, what).toEqual(want);
}

/**
 * Every read of `view` agrees with `model`: node count, lookups (stat as object and as wire
 * bytes, data, ACL as objects and wire bytes), children of every node in byte order,
 * descendant counts, the owner index, absent paths, the full scan; plus checkTree.
 */
export function expectViewMatches(view: NodeView, model: Model, absent: readonly string[] = []): void {
  const ix = indexOf(model);
  agree(view.nodeCount() === model.size, 'node count', view.nodeCount(), model.size);
  const out = new Uint8Array(128);
  for (const [path, node] of model) {
    agree(view.findPath(path), `find ${path}`, false, true);
    const stat = modelStat(node);
    view.statTo(out, 3);
    const wire = statWire(stat);
    agree(sameBytes(out.subarray(3, 71), wire), `wire stat of ${path}`, view.stat(), stat);
    agree(sameBytes(view.data(), node.data), `data of ${path}`, view.data(), node.data);
    const acl_wire = new Uint8Array(view.aclWireLength());
    view.copyAcl(acl_wire, 0);
    agree(sameBytes(acl_wire, encodeAclWire(node.acl)), `ACL of ${path}`, view.acl(), node.acl);
    const children = view.children(path);
    agree(sameList(children, ix.children.get(path)!), `children of ${path}`, children, ix.children.get(path));
    const n = view.countDescendantsPath(path);
    agree(n === ix.descendants.get(path), `descendants of ${path}`, n, ix.descendants.get(path));
  }
  for (const path of absent) {
    if (model.has(path)) continue;
    agree(!view.findPath(path), `find absent ${path}`, true, false);
    agree(view.children(path) === null, `children of absent ${path}`, view.children(path), null);
  }
  for (const [owner, paths] of ix.owners) {
    const got = view.ownedPaths(owner);
    agree(sameList(got, paths), `owned by ${owner}`, got, paths);
  }
  const stat = modelStat(model.get('/')!);
  agree(view.findPath('/') && view.stat().pzxid === stat.pzxid, 'root', view.stat(), stat);
  const check = checkTree(view);
  agree(check.nodes === model.size, 'checkTree nodes', check.nodes, model.size);
  const owned = [...model.values()].filter((n) => n.owner !== 0n).length;
  agree(check.owned === owned, 'checkTree owned', check.owned, owned);
  agree(viewDigest(view) === modelDigest(model), 'full scan digest', viewDigest(view), modelDigest(model));
}

/** FNV-1a over a byte range. */
function fnv(h: number, b: Uint8Array, off = 0, len = b.length): number {
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

/** Order-independent digest of everything a full scan reads: path, wire stat, data, ACL bytes. */
export function viewDigest(view: NodeView): string {
  const buf = new Uint8Array(65536);
  let sum = 0;
  let count = 0;
  view.openAll();
  while (view.nextNode()) {
    let h = fnv(0x811c9dc5, buf, 0, view.copyNodePath(buf, 0));
    view.statTo(buf, 0);
    h = fnv(h, buf, 0, 68);
    const data = view.data();
    h = fnv(h, Uint8Array.of(data === null ? 1 : 0));
    if (data !== null) h = fnv(h, data);
    const n = view.copyAcl(buf, 0);
    h = fnv(h, buf, 0, n);
    sum = (sum + h) % 0x1_0000_0000;
    count++;
  }
  return `${count}:${sum}`;
}

export function modelDigest(model: Model): string {
  let sum = 0;
  for (const [path, node] of model) {
    let h = fnv(0x811c9dc5, Buffer.from(path, 'utf8'));
    h = fnv(h, statWire(modelStat(node)));
    h = fnv(h, Uint8Array.of(node.data === null ? 1 : 0));
    if (node.data !== null) h = fnv(h, node.data);
    h = fnv(h, encodeAclWire(node.acl));
    sum = (sum + h) % 0x1_0000_0000;
  }
  return `${model.size}:${sum}`;
}
