// One znode of the in-memory tree, the ephemeralOwner encoding (EphemeralType.java) and the
// client-visible Stat (DataNode.copyStat).

import {
  CONTAINER_EPHEMERAL_OWNER,
  TTL_EPHEMERAL_OWNER_MASK,
  TTL_MAX_MS,
} from '../protocol/constants.js';
import type { ACL, Stat } from '../protocol/types.js';

const NO_CHILDREN: ReadonlySet<string> = new Set<string>();

/** What kind of znode an ephemeralOwner value denotes. */
export type OwnerKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

/** Low 40 bits of a TTL owner carry the TTL in ms; bits 40..55 must be zero (feature "TTL" = 0). */
const TTL_VALUE_MASK = 0xff_ffff_ffffn;
const TTL_RESERVED_MASK = 0x00ff_ff00_0000_0000n;

/**
 * Classifies an ephemeralOwner. Session ids never have the top byte 0xFF (server ids are <= 254,
 * as ZooKeeper requires when TTL nodes are enabled), so the TTL marker cannot collide with one.
 */
export function ownerKind(owner: bigint): OwnerKind {
  if (owner === 0n) return 'persistent';
  if (owner === CONTAINER_EPHEMERAL_OWNER) return 'container';
  if ((owner & TTL_EPHEMERAL_OWNER_MASK) === TTL_EPHEMERAL_OWNER_MASK && (owner & TTL_RESERVED_MASK) === 0n) {
    return 'ttl';
  }
  return 'ephemeral';
}

export function isValidTtl(ttl_ms: number): boolean {
  return Number.isSafeInteger(ttl_ms) && ttl_ms > 0 && ttl_ms <= TTL_MAX_MS;
}

/** The ephemeralOwner of a TTL node. Requires isValidTtl(ttl_ms). */
export function ttlOwner(ttl_ms: number): bigint {
  if (!isValidTtl(ttl_ms)) throw new Error(`ttlOwner: invalid ttl ${ttl_ms}`);
  return TTL_EPHEMERAL_OWNER_MASK | BigInt(ttl_ms);
}

/** TTL in ms of a TTL owner (0 when `owner` is not one). */
export function ttlOf(owner: bigint): number {
  return ownerKind(owner) === 'ttl' ? Number(owner & TTL_VALUE_MASK) : 0;
}

/**
 * The facts prep reads about a node. ZNode satisfies it; prep's scratch view for multi stores
 * plain objects of this shape for nodes created or changed by earlier ops of the same multi.
 */
export interface NodeFacts {
  readonly acl: readonly ACL[];
  readonly version: number;
  /** ZooKeeper's stored cversion: the number of child creates (see ZNode.cversion). */
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: bigint;
  readonly child_count: number;
  /** Bytes of data (0 for null): the quota check of a setData (zookeeper.enforceQuota). */
  readonly data_length: number;
}

/**
 * A znode. Mutated in place by DataTree.apply only. `acl` arrays are shared between nodes and
 * txns and never mutated.
 */
export class ZNode implements NodeFacts {
  /**
   * Names (last segments) of the children. Invariant: DataTree holds a node for each. Allocated
   * on the first child: most znodes are leaves, and an empty Set per node costs ~100 bytes and
   * an allocation (a million of them dominate loading a snapshot).
   */
  private kids: Set<string> | null = null;
  /**
   * The snapshot (by epoch number) that already has this node's state: set by the snapshot
   * encoder when it writes or copies the node, so it is written exactly once per snapshot.
   */
  snap_epoch = 0;

  constructor(
    /** null when the client created/set the node with a null buffer (getData returns null). */
    public data: Uint8Array | null,
    public acl: readonly ACL[],
    public czxid: number,
    public mzxid: number,
    /** zxid of the last child create or delete (the node's own czxid until then). */
    public pzxid: number,
    public ctime: number,
    public mtime: number,
    public version: number,
    /**
     * Number of child creates ever made (int32, wraps), as ZooKeeper stores it. Deletes do not
     * change it, so it also names the next sequential child. Clients see stat().cversion, which
     * is derived from it and counts deletes too.
     */
    public cversion: number,
    public aversion: number,
    /** 0n persistent; a session id (ephemeral); container / TTL markers. See ownerKind. */
    public ephemeralOwner: bigint,
  ) {}

  /** Read-only view of the children's names (a shared empty set for a leaf). */
  get children(): ReadonlySet<string> {
    return this.kids ?? NO_CHILDREN;
  }

  get child_count(): number {
    return this.kids === null ? 0 : this.kids.size;
  }

  /** DataTree.apply / restore only. */
  addChild(name: string): void {
    (this.kids ??= new Set()).add(name);
  }

  /** DataTree.apply only. */
  removeChild(name: string): void {
    this.kids?.delete(name);
  }

  get data_length(): number {
    return dataLength(this.data);
  }
}

/** Bytes of a node's data; null data has none. */
export function dataLength(data: Uint8Array | null): number {
  return data === null ? 0 : data.length;
}

/** A node created by a txn: all zxids = zxid, both times = time_ms, versions 0. */
export function newZNode(
  data: Uint8Array | null,
  acl: readonly ACL[],
  ephemeral_owner: bigint,
  zxid: number,
  time_ms: number,
): ZNode {
  return new ZNode(data, acl, zxid, zxid, zxid, time_ms, time_ms, 0, 0, 0, ephemeral_owner);
}

/**
 * The Stat a client sees (DataNode.copyStat):
 * - cversion = stored cversion * 2 - numChildren (int32): each create adds 2 and a present child
 *   subtracts 1, so the result counts creates + deletes ("v3 semantics");
 * - ephemeralOwner = 0 for containers and TTL nodes (only sessions are shown).
 */
export function statOf(node: ZNode): Stat {
  const child_count = node.child_count;
  return {
    czxid: node.czxid,
    mzxid: node.mzxid,
    ctime: node.ctime,
    mtime: node.mtime,
    version: node.version,
    cversion: (node.cversion * 2 - child_count) | 0,
    aversion: node.aversion,
    ephemeralOwner: ownerKind(node.ephemeralOwner) === 'ephemeral' ? node.ephemeralOwner : 0n,
    dataLength: node.data_length,
    numChildren: child_count,
    pzxid: node.pzxid,
  };
}
