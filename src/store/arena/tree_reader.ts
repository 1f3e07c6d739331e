// A read worker's handle on the shared tree: a reader slot (LMDB's reader table) and the
// NodeView reads over the root it pins. Usage per batch of reads:
//   const gen = reader.pin(); ...reader.find(frame, off, len)...; reader.unpin();
// A pin holds back reclamation of everything the pinned root reaches: keep pins short (one
// batch of requests), or the arena's stats show a stuck reader (age in generations, bytes
// held back) and a bounded arena eventually refuses the writer's allocations.

import { ArenaFullError, ArenaInvariantError, check, fail } from './errors.js';
import { Control, RootInfo, readStats, type ArenaStats, type RootDescriptor } from './control.js';
import { genBefore } from './generation.js';
import { ARENA_CONFIG_KEYS } from './config.js';
import { ArenaMemory, type ArenaHandle } from './memory.js';
import { NodeView } from './node_view.js';

export class TreeReader extends NodeView {
  readonly slot: number;
  private readonly control: Control;
  private readonly root = new RootInfo();
  private closed = false;

  /** Attaches to the arena and claims a free reader slot. */
  constructor(handle: ArenaHandle) {
    super(new ArenaMemory(handle));
    this.control = new Control(handle.control);
    this.slot = this.control.claimSlot();
    if (this.slot < 0) {
      throw new ArenaFullError(`no free reader slot (${this.control.slots} in use; ${ARENA_CONFIG_KEYS.reader_slots})`);
    }
    this.readable = false;
  }

  /** Pins the newest published root; returns its generation. Unpin before pinning again. */
  pin(): number {
    check(!this.closed, 'reader closed');
    check(!this.readable, 'pin while pinned');
    const gen = this.control.pinNewest(this.slot, this.root);
    this.znode_root = this.root.znode_root;
    this.owner_root = this.root.owner_root;
    this.readable = true;
    return gen;
  }

  /**
   * Moves the pin forward to a root published after the pinned one, named by its descriptor
   * (a reader that must serve from exactly the root a producer told it about, not the newest:
   * a session shard at its place in the commit stream). Safe because the pin held on the older
   * generation g kept everything the roots g..newest reach: the writer frees what batch b
   * replaced only once every pin is >= b, so `root` is intact when the pin moves onto it.
   */
  advanceTo(root: RootDescriptor): void {
    check(!this.closed, 'reader closed');
    check(this.readable, 'advanceTo without a pin');
    if (genBefore(root.gen, this.root.gen)) fail(`advanceTo: generation ${root.gen} is before the pinned ${this.root.gen}`);
    this.control.movePin(this.slot, root.gen);
    const r = this.root;
    r.gen = root.gen;
    r.znode_root = root.znode_root;
    r.owner_root = root.owner_root;
    r.node_count = root.node_count;
    r.last_zxid = root.last_zxid;
    r.data_bytes = root.data_bytes;
    this.znode_root = root.znode_root;
    this.owner_root = root.owner_root;
  }

  /** The generation the writer published last (whatever this reader pins). */
  newestGen(): number {
    return this.control.published();
  }

  unpin(): void {
    this.readable = false;
    this.control.unpin(this.slot);
  }

  get pinned(): boolean {
    return this.readable;
  }

  /** The pinned root's descriptor (a live view: it changes when the pin moves). */
  get descriptor(): RootDescriptor {
    return this.root;
  }

  /** Generation of the pinned root. */
  get gen(): number {
    return this.root.gen;
  }

  /** zxid of the last txn applied in the pinned root (as the writer committed it). */
  get last_zxid(): number {
    return this.root.last_zxid;
  }

  /** Nodes in the pinned root ("/" included), from its descriptor. */
  override nodeCount(): number {
    check(this.readable, 'tree read outside a pin');
    return this.root.node_count;
  }

  /** Approximate data size (path lengths + data bytes, as ZooKeeper's mntr reports it). */
  get data_bytes(): number {
    return this.root.data_bytes;
  }

  stats(): ArenaStats {
    return readStats(this.control, this.mem.capacity_bytes);
  }

  /**
   * Supervisor only: frees the slot of a reader whose thread is known to be gone (it exited
   * or crashed while pinned), so its pin stops holding memory back. Never for a live reader.
   */
  static releaseSlotOf(handle: ArenaHandle, slot: number): void {
    const control = new Control(handle.control);
    if (!Number.isInteger(slot) || slot < 0 || slot >= control.slots) throw new ArenaInvariantError(`no reader slot ${slot}`);
    control.releaseSlot(slot);
  }

  /** Unpins and gives the slot back. */
  close(): void {
    if (this.closed) return;
    this.readable = false;
    this.control.releaseSlot(this.slot);
    this.closed = true;
  }
}
