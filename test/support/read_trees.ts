// The trees read ops are served from, for tests: the heap DataTree behind the ReadTree interface
// (what shards served from before the shared tree), and the shared arena tree a shard reads
// (loaded from the same DataTree), so one test suite checks that both give the same answers.

import { createArenaHandle, TreeWriter } from '../../src/store/arena/index.js';
import { loadArenaFromTree } from '../../src/store/tree_mirror.js';
import type { DataTree } from '../../src/tree/data_tree.js';
import type { ReadNode, ReadTree } from '../../src/tree/read_ops.js';
import { statOf } from '../../src/tree/znode.js';
import { ShardTree } from '../../src/workers/shard/shard_tree.js';
import { PendingView } from '../../src/commit/pending_view.js';

export function heapReadTree(tree: DataTree): ReadTree {
  return {
    node(path: string): ReadNode | undefined {
      const n = tree.get(path);
      if (n === undefined) return undefined;
      return { acl: () => n.acl, data: () => n.data, stat: () => statOf(n), children: () => [...n.children].sort() };
    },
    getEphemerals: (session_id, prefix) => tree.getEphemerals(session_id, prefix),
    getAllChildrenNumber: (path) => tree.getAllChildrenNumber(path),
  };
}

/** A shard's view of a shared tree loaded from `tree` (a fresh small arena per call). */
export function arenaReadTree(tree: DataTree): ShardTree {
  const handle = createArenaHandle({ segment_bytes: 1 << 20, segments_max: 64 });
  const writer = new TreeWriter(handle);
  loadArenaFromTree(writer, tree);
  const shard = new ShardTree(handle);
  shard.pinNewest();
  return shard;
}

/** The commit core's working tree over a shared tree loaded from `tree` (the server's shape). */
export function workingTreeOf(tree: DataTree): PendingView {
  const writer = new TreeWriter(createArenaHandle({ segment_bytes: 1 << 20, segments_max: 64 }));
  loadArenaFromTree(writer, tree);
  return new PendingView(writer.view, tree.last_zxid);
}
