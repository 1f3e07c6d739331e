// The replica simulator's reference model: a plain map of znodes that applies the writes the
// clients saw acknowledged (and the closeSession of an expired session, which nobody
// acknowledges), in zxid order, with ZooKeeper's rules for the few ops the simulated clients
// send (create incl. sequential / ephemeral, delete, setData, check, multi, closeSession). It
// says what each write's reply must have been, what every read at a zxid must have shown, and
// which watch events each txn fires. Written from ZooKeeper's semantics, not from the
// replica's code (only the check order of prep.ts is shared, as ZooKeeper's).

import { CreateMode, EventType } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import type { Stat } from '../../src/protocol/types.js';

export interface RefNode {
  data: Uint8Array | null;
  czxid: number;
  mzxid: number;
  pzxid: number;
  version: number;
  /** As ZooKeeper stores it: the children ever created (a sequential create's suffix). The
   *  Stat shows cversion * 2 - numChildren, which counts deletes too (DataNode.copyStat). */
  cversion: number;
  aversion: number;
  owner: bigint;
  readonly children: Set<string>;
}

/** One op of a write as the simulated client sent it (a multi is a list of these). */
export type RefOp =
  | { kind: 'create'; path: string; data: Uint8Array | null; flags: number }
  | { kind: 'delete'; path: string; version: number }
  | { kind: 'setData'; path: string; data: Uint8Array | null; version: number }
  | { kind: 'check'; path: string; version: number };

export type RefWrite = { kind: 'single'; op: RefOp } | { kind: 'multi'; ops: RefOp[] } | { kind: 'closeSession' };

/** A watch event a txn fires: on `path`, of `type` (EventType). */
export interface RefEvent {
  readonly type: number;
  readonly path: string;
}

/** What a write's reply must carry. */
export interface RefResult {
  /** The reply header's error (0 for a multi, whose ops carry theirs). */
  err: number;
  /** Per op of a multi: 0, the failing op's code, or -2 after it; or the success results. */
  multi: { err: number; path?: string; stat?: Stat }[] | null;
  /** create: the node's path (the sequential suffix included). */
  path?: string;
  /** create2 / setData: the node's stat after the write. */
  stat?: Stat;
}

const SEQUENTIAL_FLAGS: ReadonlySet<number> = new Set([CreateMode.PERSISTENT_SEQUENTIAL, CreateMode.EPHEMERAL_SEQUENTIAL]);
const EPHEMERAL_FLAGS: ReadonlySet<number> = new Set([CreateMode.EPHEMERAL, CreateMode.EPHEMERAL_SEQUENTIAL]);

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function statOf(n: RefNode): Stat {
  return {
    czxid: n.czxid,
    mzxid: n.mzxid,
    // Times are not modelled: compared as 0 (see sameStat).
    ctime: 0,
    mtime: 0,
    version: n.version,
    cversion: (n.cversion * 2 - n.children.size) | 0,
    aversion: n.aversion,
    ephemeralOwner: n.owner,
    dataLength: n.data === null ? 0 : n.data.length,
    numChildren: n.children.size,
    pzxid: n.pzxid,
  };
}

/** Stats equal but for the times (the model does not know a txn's wall time). */
export function sameStat(a: Stat, b: Stat): boolean {
  return (
    a.czxid === b.czxid &&
    a.mzxid === b.mzxid &&
    a.version === b.version &&
    a.cversion === b.cversion &&
    a.aversion === b.aversion &&
    a.ephemeralOwner === b.ephemeralOwner &&
    a.dataLength === b.dataLength &&
    a.numChildren === b.numChildren &&
    a.pzxid === b.pzxid
  );
}

export function sameData(a: Uint8Array | null, b: Uint8Array | null): boolean {
  const x = a ?? new Uint8Array(0);
  const y = b ?? new Uint8Array(0);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function versionOk(expected: number, current: number): boolean {
  return expected === -1 || expected === current;
}

/** A multi's view: the model plus the effects of its earlier ops (copied on first touch). */
class Scratch {
  private readonly changed = new Map<string, RefNode | null>();

  constructor(private readonly base: ReadonlyMap<string, RefNode>) {}

  get(path: string): RefNode | undefined {
    const c = this.changed.get(path);
    if (c !== undefined) return c ?? undefined;
    return this.base.get(path);
  }

  /** A node to change: a copy, so a failed multi leaves the model as it was. */
  edit(path: string): RefNode {
    const n = this.get(path);
    if (n === undefined) throw new Error(`model: edit of missing ${path}`);
    if (this.changed.get(path) === n) return n;
    const copy: RefNode = { ...n, children: new Set(n.children) };
    this.changed.set(path, copy);
    return copy;
  }

  put(path: string, n: RefNode | null): void {
    this.changed.set(path, n);
  }

  commit(into: Map<string, RefNode>): void {
    for (const [path, n] of this.changed) {
      if (n === null) into.delete(path);
      else into.set(path, n);
    }
  }
}

export class ReplicaModel {
  readonly nodes = new Map<string, RefNode>();
  /** Events per path, in zxid order (a watch fires at the first one after its registration). */
  readonly history = new Map<string, { zxid: number; type: number }[]>();
  /** Sessions whose closeSession was applied (by the client or by expiry): every later write
   *  of theirs is SESSIONEXPIRED and changes nothing (the touch in CommitCore.request fails). */
  readonly closed_sessions = new Set<bigint>();
  last_zxid = 0;

  constructor(initial: ReadonlyMap<string, RefNode>) {
    for (const [path, n] of initial) this.nodes.set(path, { ...n, children: new Set(n.children) });
  }

  /** Applies one acknowledged write (its txn's zxid, its session) and says what it returns. */
  apply(zxid: number, session_id: bigint, write: RefWrite): RefResult {
    if (zxid <= this.last_zxid) throw new Error(`model: zxid ${zxid} after ${this.last_zxid}`);
    this.last_zxid = zxid;
    const events: RefEvent[] = [];
    let result: RefResult;
    if (this.closed_sessions.has(session_id)) {
      result = { err: Err.SESSIONEXPIRED, multi: null };
    } else if (write.kind === 'closeSession') {
      // Deepest first is not needed: an ephemeral has no children.
      const s = new Scratch(this.nodes);
      for (const path of this.ephemeralsOf(session_id)) this.remove(s, path, zxid, events);
      s.commit(this.nodes);
      this.closed_sessions.add(session_id);
      result = { err: 0, multi: null };
    } else if (write.kind === 'single') {
      const s = new Scratch(this.nodes);
      const r = this.op(s, write.op, zxid, session_id, events);
      if (r.err === 0) s.commit(this.nodes);
      else events.length = 0;
      result = { err: r.err, multi: null, path: r.path, stat: r.stat };
    } else {
      const s = new Scratch(this.nodes);
      const out: { err: number; path?: string; stat?: Stat }[] = [];
      let failed_at = -1;
      let failed_err = 0;
      for (let i = 0; i < write.ops.length; i++) {
        const r = this.op(s, write.ops[i]!, zxid, session_id, events);
        if (r.err !== 0) {
          failed_at = i;
          failed_err = r.err;
          break;
        }
        out.push(r);
      }
      if (failed_at < 0) {
        s.commit(this.nodes);
        result = { err: 0, multi: out };
      } else {
        events.length = 0;
        const multi = write.ops.map((_, i) => ({ err: i < failed_at ? 0 : i === failed_at ? failed_err : Err.RUNTIMEINCONSISTENCY }));
        result = { err: 0, multi };
      }
    }
    for (const e of events) {
      const h = this.history.get(e.path) ?? [];
      h.push({ zxid, type: e.type });
      this.history.set(e.path, h);
    }
    return result;
  }

  private op(s: Scratch, op: RefOp, zxid: number, session_id: bigint, events: RefEvent[]): { err: number; path?: string; stat?: Stat } {
    switch (op.kind) {
      case 'create': {
        const parent_path = parentOf(op.path);
        const parent = s.get(parent_path);
        if (parent === undefined) return { err: Err.NONODE };
        const path = SEQUENTIAL_FLAGS.has(op.flags) ? op.path + String(parent.cversion).padStart(10, '0') : op.path;
        if (s.get(path) !== undefined) return { err: Err.NODEEXISTS };
        if (parent.owner !== 0n) return { err: Err.NOCHILDRENFOREPHEMERALS };
        const node: RefNode = {
          data: op.data,
          czxid: zxid,
          mzxid: zxid,
          pzxid: zxid,
          version: 0,
          cversion: 0,
          aversion: 0,
          owner: EPHEMERAL_FLAGS.has(op.flags) ? session_id : 0n,
          children: new Set(),
        };
        s.put(path, node);
        const p = s.edit(parent_path);
        p.children.add(nameOf(path));
        p.cversion += 1;
        p.pzxid = zxid;
        events.push({ type: EventType.NodeCreated, path }, { type: EventType.NodeChildrenChanged, path: parent_path });
        return { err: 0, path, stat: statOf(node) };
      }
      case 'delete': {
        if (s.get(parentOf(op.path)) === undefined) return { err: Err.NONODE };
        const node = s.get(op.path);
        if (node === undefined) return { err: Err.NONODE };
        if (!versionOk(op.version, node.version)) return { err: Err.BADVERSION };
        if (node.children.size > 0) return { err: Err.NOTEMPTY };
        this.remove(s, op.path, zxid, events);
        return { err: 0 };
      }
      case 'setData': {
        const node = s.get(op.path);
        if (node === undefined) return { err: Err.NONODE };
        if (!versionOk(op.version, node.version)) return { err: Err.BADVERSION };
        const n = s.edit(op.path);
        n.data = op.data;
        n.version = (n.version + 1) | 0;
        n.mzxid = zxid;
        events.push({ type: EventType.NodeDataChanged, path: op.path });
        return { err: 0, stat: statOf(n) };
      }
      case 'check': {
        const node = s.get(op.path);
        if (node === undefined) return { err: Err.NONODE };
        if (!versionOk(op.version, node.version)) return { err: Err.BADVERSION };
        return { err: 0 };
      }
    }
  }

  /** Deletes a leaf: the parent's pzxid moves forward, its cversion stays (DataTree.deleteNode). */
  private remove(s: Scratch, path: string, zxid: number, events: RefEvent[]): void {
    s.put(path, null);
    const parent_path = parentOf(path);
    const p = s.edit(parent_path);
    p.children.delete(nameOf(path));
    if (zxid > p.pzxid) p.pzxid = zxid;
    events.push({ type: EventType.NodeDeleted, path }, { type: EventType.NodeChildrenChanged, path: parent_path });
  }

  /** The session's ephemeral nodes now, sorted. */
  ephemeralsOf(session_id: bigint): string[] {
    return [...this.nodes.entries()]
      .filter(([, n]) => n.owner === session_id)
      .map(([p]) => p)
      .sort();
  }

  /** The first event after `since` on `path` whose type is one of `types`, or null. */
  firstEvent(path: string, since: number, types: ReadonlySet<number>): { zxid: number; type: number } | null {
    for (const e of this.history.get(path) ?? []) if (e.zxid > since && types.has(e.type)) return e;
    return null;
  }
}
