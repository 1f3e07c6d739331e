// Loads a snapshot file into a tree (and, for the commit worker, a session table).

import { readFileSync } from 'node:fs';
import type { DataTree } from '../tree/data_tree.js';
import { decodeSnapshot, type SessionState, type SnapshotInfo } from './snapshot_format.js';

export type SessionTable = Map<bigint, { timeout_ms: number; passwd: Uint8Array }>;

/**
 * Replaces `tree`'s content with the snapshot's and fills `sessions`. Throws (SnapshotFormatError
 * or an fs error) when the file is damaged; the tree is then unusable and must be discarded.
 */
export function loadSnapshot(path: string, tree: DataTree, sessions: SessionTable | null): SnapshotInfo {
  const bytes = readFileSync(path);
  tree.beginRestore();
  const info = decodeSnapshot(bytes, {
    node: (p, node) => tree.restoreNode(p, node),
    session: (s: SessionState) => void sessions?.set(s.session_id, { timeout_ms: s.timeout_ms, passwd: s.passwd }),
  });
  tree.endRestore(info.zxid);
  return info;
}
