// Encodes the tree + session table as of zxid Z while txns after Z keep being applied: an exact
// snapshot by copy-on-write, sliced so the commit loop is never blocked for long.
//
// The encoder walks the tree's Map (insertion order; a JS Map iterator survives concurrent inserts
// and deletes). Before apply changes or removes a node the walk has not reached yet, the tree's
// before_change hook hands it here and its Z-state is copied (a handful of fields: children are
// not recorded, they are rebuilt from paths on load). Each node is marked with this snapshot's
// epoch once written or copied, so it is recorded exactly once. Nodes created after Z
// (czxid > Z) are skipped. Invariant: the records written are exactly the nodes of the tree at Z.
//
// The walk must run on the thread that owns the tree (the commit worker's heap); the bytes go to
// a piscina task (snapshot_task.ts) for the checksum, the write, fsync and rename.

import type { DataTree } from '../tree/data_tree.js';
import type { ZNode } from '../tree/znode.js';
import {
  AclTable,
  ChunkWriter,
  encodeSnapshotHeader,
  writeEndRecord,
  writeNodeRecord,
  writeSessionRecord,
  type Chunk,
  type NodeState,
  type SessionState,
} from './snapshot_format.js';

let last_epoch = 0;

function copyState(node: ZNode): NodeState {
  return {
    data: node.data,
    acl: node.acl,
    czxid: node.czxid,
    mzxid: node.mzxid,
    pzxid: node.pzxid,
    ctime: node.ctime,
    mtime: node.mtime,
    version: node.version,
    cversion: node.cversion,
    aversion: node.aversion,
    ephemeralOwner: node.ephemeralOwner,
  };
}

export class SnapshotEncoder {
  private readonly epoch = ++last_epoch;
  private readonly iter: Iterator<[string, ZNode]>;
  /** Z-states of nodes changed or removed before the walk reached them. */
  private readonly saved = new Map<string, NodeState>();
  private readonly w = new ChunkWriter();
  private readonly acls = new AclTable();
  private nodes = 0;
  private walking = true;
  finished = false;

  constructor(
    private readonly tree: DataTree,
    /** The zxid the snapshot is exact at: the tree's last_zxid now. */
    readonly zxid: number,
    /** The session table at zxid (copied by the caller). */
    private readonly sessions: readonly SessionState[],
    created_ms: number,
  ) {
    if (tree.before_change !== null) throw new Error('snapshot encoder: another snapshot is in progress on this tree');
    if (tree.last_zxid !== zxid) throw new Error(`snapshot encoder: tree at ${tree.last_zxid}, snapshot asked at ${zxid}`);
    const header = encodeSnapshotHeader(zxid, created_ms);
    this.w.reserve(header.length);
    this.w.raw(header);
    this.iter = tree.entries();
    tree.before_change = this.beforeChange;
  }

  private readonly beforeChange = (path: string, node: ZNode): void => {
    if (node.snap_epoch === this.epoch || node.czxid > this.zxid) return;
    this.saved.set(path, copyState(node));
    node.snap_epoch = this.epoch;
  };

  /** Encodes up to `nodes_max` more nodes; true once the whole snapshot is encoded. */
  step(nodes_max: number): boolean {
    if (this.finished) return true;
    let n = 0;
    while (this.walking && n < nodes_max) {
      const next = this.iter.next();
      if (next.done === true) {
        this.endWalk();
        break;
      }
      const [path, node] = next.value;
      if (node.snap_epoch === this.epoch || node.czxid > this.zxid) continue;
      node.snap_epoch = this.epoch;
      writeNodeRecord(this.w, this.acls, path, node);
      this.nodes++;
      n++;
    }
    if (!this.walking) this.finish();
    return this.finished;
  }

  private endWalk(): void {
    this.walking = false;
    this.tree.before_change = null;
  }

  private finish(): void {
    for (const [path, state] of this.saved) {
      writeNodeRecord(this.w, this.acls, path, state);
      this.nodes++;
    }
    this.saved.clear();
    for (const s of this.sessions) writeSessionRecord(this.w, s);
    writeEndRecord(this.w, this.nodes, this.sessions.length, this.acls.count);
    this.w.cut();
    this.finished = true;
  }

  /** Chunks encoded so far, in file order (the caller transfers them to the writer task). */
  take(): Chunk[] {
    return this.w.take();
  }

  /** Stops early: the tree is no longer watched. */
  abort(): void {
    if (this.walking) this.endWalk();
    this.finished = true;
  }

  get node_count(): number {
    return this.nodes;
  }
}
