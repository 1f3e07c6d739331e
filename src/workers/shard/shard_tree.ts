// A shard's view of the replica's one shared tree (src/store/arena): the root it serves reads
// from, and the ReadTree the read ops use.
//
// Invariant (watch-before-data, FIFO): the shard holds a pin on the root of the last commit batch
// it has fully processed from the commit stream, and only moves it when it reaches that batch's
// ROOT frame (after the batch's watch events went out, before its writes are answered). A pin is
// held at all times: moving it forward from g to g' > g is safe because the pin on g kept every
// page that roots g..newest reach (the writer frees what batch b replaced only once every pin is
// >= b), so g' is intact when the pin moves onto it.

import { Perms } from '../../protocol/constants.js';
import { Err } from '../../protocol/errors.js';
import type { JuteWriter } from '../../protocol/jute.js';
import { Op } from '../../protocol/opcodes.js';
import type { PathReadFrame } from '../../protocol/path_read.js';
import type { ACL, Id, Stat } from '../../protocol/types.js';
import { STAT_WIRE_BYTES } from '../../store/arena/layout.js';
import type { RootDescriptor } from '../../store/arena/control.js';
import { AclCache } from '../../store/arena/acl_cache.js';
import type { ArenaHandle } from '../../store/arena/memory.js';
import { TreeReader } from '../../store/arena/tree_reader.js';
import { checkAcl } from '../../tree/acl.js';
import { javaTrim } from '../../tree/path_rules.js';
import type { ReadNode, ReadTree } from '../../tree/read_ops.js';


export class ShardTree implements ReadTree, ReadNode {
  private readonly reader: TreeReader;
  private path = '';
  private readonly acls = new AclCache();

  constructor(handle: ArenaHandle) {
    this.reader = new TreeReader(handle);
  }

  /** Start-up: pins the newest root (the commit worker has published the recovered tree and
   *  sends nothing on the commit stream before it serves, so newest == the stream's start). */
  pinNewest(): void {
    if (this.reader.pinned) this.reader.unpin();
    this.reader.pin();
  }

  /** A commit batch's ROOT frame: serve from its root from now on. */
  advanceTo(root: RootDescriptor): void {
    this.reader.advanceTo(root);
  }

  get pinned(): boolean {
    return this.reader.pinned;
  }

  /** zxid of the last txn in the root this shard serves. */
  get last_zxid(): number {
    return this.reader.last_zxid;
  }

  get gen(): number {
    return this.reader.gen;
  }

  /** The generation the commit worker published last (it may be ahead of this shard's). */
  newestGen(): number {
    return this.reader.newestGen();
  }

  /** The root this shard serves from (a live view; see served_root.ts). */
  get descriptor(): RootDescriptor {
    return this.reader.descriptor;
  }

  get node_count(): number {
    return this.reader.nodeCount();
  }

  close(): void {
    this.reader.close();
  }

  // ---- reply bodies written straight from the shared tree (the node node() selected) ----

  /** buf is the reply writer's (local memory; room past the data is free: JuteWriter.writeFilled). */
  private readonly copyData = (buf: Uint8Array, off: number): void => void this.reader.copyDataToLocal(buf, off);
  private readonly copyStat = (view: DataView, off: number): void => this.reader.statToView(view, off);

  /** GetDataResponse of the selected node: its data (copied once, from the tree into the reply)
   *  and its Stat. Requires node() to have selected it with no tree call since. */
  readonly writeGetData = (w: JuteWriter): void => {
    const len = this.reader.dataLength();
    w.writeInt(len < 0 ? -1 : len);
    if (len > 0) w.writeFilled(len, this.copyData);
    w.writeFilledView(STAT_WIRE_BYTES, this.copyStat);
  };

  /** ExistsResponse of the selected node: its Stat. Same requirement as writeGetData. */
  readonly writeExists = (w: JuteWriter): void => {
    w.writeFilledView(STAT_WIRE_BYTES, this.copyStat);
  };

  /** The body writer of a getData or exists reply (for the node selected last). */
  bodyWriter(opcode: number): (w: JuteWriter) => void {
    return opcode === Op.getData ? this.writeGetData : this.writeExists;
  }

  /**
   * decideRead (tree/read_ops.ts) for a getData / exists read in place: the reply's err, the node
   * selected when 0 (bodyWriter then writes the body); the watch is the caller's
   * (pathReadWatchKind). The path bytes are compared as they are (a plain path: path_read.ts),
   * no string is made.
   */
  decidePathRead(frame: PathReadFrame, payload: Uint8Array, auth: readonly Id[], is_super: boolean): number {
    if (!this.reader.find(payload, frame.path_off, frame.path_len)) return Err.NONODE;
    if (!checkAcl(this.acl(), Perms.READ, auth, is_super)) return Err.NOAUTH;
    return 0;
  }

  // ---- ReadTree ----

  node(path: string): ReadNode | undefined {
    if (!this.reader.findPath(path)) return undefined;
    this.path = path;
    return this;
  }

  getEphemerals(session_id: bigint, prefix: string | null): string[] {
    const all = this.reader.ownedPaths(session_id);
    if (prefix === null) return all;
    const trimmed = javaTrim(prefix);
    if (trimmed === '' || trimmed === '/') return all;
    return all.filter((p) => p.startsWith(prefix));
  }

  getAllChildrenNumber(path: string): number {
    return this.reader.countDescendantsPath(path);
  }

  // ---- ReadNode (the node selected by node()) ----

  acl(): readonly ACL[] {
    return this.acls.of(this.reader);
  }

  data(): Uint8Array | null {
    return this.reader.data();
  }

  /** The selected node's Stat; with a path, that node's (setWatches: what fired meanwhile). */
  stat(): Stat;
  stat(path: string): Stat | undefined;
  stat(path?: string): Stat | undefined {
    if (path === undefined) return this.reader.stat();
    return this.reader.findPath(path) ? this.reader.stat() : undefined;
  }

  children(): string[] {
    return this.reader.children(this.path) ?? [];
  }
}
