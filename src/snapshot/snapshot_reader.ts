// Loads a snapshot file into a tree (and, for the commit worker, a session table), and reads a
// snapshot file's bytes into memory that is given back the moment the load is done.

import { readFileSync } from 'node:fs';
import { freeNow } from '../store/arena/free_now.js';
import type { DataTree } from '../tree/data_tree.js';
import { decodeSnapshot, type SessionState, type SnapshotInfo } from './snapshot_format.js';

export type SessionTable = Map<bigint, { timeout_ms: number; passwd: Uint8Array }>;

/** A snapshot file in memory; `bytes` is unusable (empty) once release() ran. */
export interface SnapshotBytes {
  readonly bytes: Uint8Array;
  /** Gives the memory back now (store/arena/free_now.ts); idempotent. */
  release(): void;
}

/**
 * Reads the whole file at `path` (the format is verified over the whole file before decoding),
 * into memory release() frees at once: a Buffer left to the GC stayed in a restarted server's
 * RSS (~180 MiB for 1M znodes of 100 B; free_now.ts says why).
 */
export function readSnapshotBytes(path: string): SnapshotBytes {
  const bytes = readFileSync(path);
  return { bytes, release: () => freeNow(bytes.buffer) };
}

/**
 * Replaces `tree`'s content with the snapshot's and fills `sessions`. Throws (SnapshotFormatError
 * or an fs error) when the file is damaged; the tree is then unusable and must be discarded.
 * Everything the tree keeps is copied out of the file (snapshot_format.ts), so the file's
 * memory is released when this returns.
 */
export function loadSnapshot(path: string, tree: DataTree, sessions: SessionTable | null): SnapshotInfo {
  const file = readSnapshotBytes(path);
  try {
    tree.beginRestore();
    const info = decodeSnapshot(file.bytes, {
      node: (p, node) => tree.restoreNode(p, node),
      session: (s: SessionState) => void sessions?.set(s.session_id, { timeout_ms: s.timeout_ms, passwd: s.passwd }),
    });
    tree.endRestore(info.zxid);
    return info;
  } finally {
    file.release();
  }
}

/** The data of one znode as a snapshot file holds it (null: no such node, or null data). Decodes
 *  the whole file without building a tree: for a rare look at one node (a membership at start). */
export function readSnapshotNodeData(path: string, node_path: string): Uint8Array | null {
  const file = readSnapshotBytes(path);
  try {
    let data: Uint8Array | null = null;
    decodeSnapshot(file.bytes, {
      node: (p, node) => {
        if (p === node_path) data = node.data === null ? null : node.data.slice();
      },
      session: () => {},
    });
    return data;
  } finally {
    file.release();
  }
}
