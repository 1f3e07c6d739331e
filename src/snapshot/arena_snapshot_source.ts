// Snapshots of the shared tree: each one encodes a pinned root (the newest published when it
// starts: committed txns only), so the writer goes on while it is encoded and nothing hooks the
// apply path. The pin is held from begin() until the encoding is complete or abandoned; while it
// is, the arena keeps what later batches replaced (waitfree_tree_bytes_held_back shows it).

import type { ArenaHandle } from '../store/arena/memory.js';
import { TreeReader } from '../store/arena/tree_reader.js';
import { ArenaSnapshotEncoder } from './arena_snapshot_encoder.js';
import type { SessionState } from './snapshot_format.js';
import type { SnapshotEncoding, SnapshotSource } from './snapshotter.js';

export class ArenaSnapshotSource implements SnapshotSource {
  /** One reader slot, for the replica's life: one snapshot at a time. */
  private readonly reader: TreeReader;

  constructor(handle: ArenaHandle) {
    this.reader = new TreeReader(handle);
  }

  begin(sessions: SessionState[], created_ms: number): SnapshotEncoding {
    if (this.reader.pinned) throw new Error('arena snapshot source: a snapshot is already in progress');
    this.reader.pin();
    return new ArenaSnapshotEncoder(this.reader, this.reader.last_zxid, sessions, created_ms);
  }

  end(): void {
    if (this.reader.pinned) this.reader.unpin();
  }

  close(): void {
    this.reader.close();
  }
}
