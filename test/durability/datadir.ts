// Builds data directories for recovery tests: a log written by the real LogWriter (in batches,
// like group commit) and snapshots written by the real encoder, from a Workload's txns.

import { NODE_LOG_FS } from '../../src/log/log_fs.js';
import { LogWriter } from '../../src/log/log_writer.js';
import { appendRecord } from '../../src/log/segment_format.js';
import { snapshotName } from '../../src/log/data_dir.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { writeSnapshotSync } from '../../src/snapshot/snapshot_file.js';
import { DataTree } from '../../src/tree/data_tree.js';
import type { Txn } from '../../src/tree/txn.js';
import { join } from 'node:path';

export async function writeLog(dir: string, txns: readonly Txn[], segment_bytes = 8192, batch = 7): Promise<void> {
  const writer = await LogWriter.open(NODE_LOG_FS, { dir, segment_bytes, fsync: false, now_ms: () => 1_700_000_000_000 }, null);
  for (let i = 0; i < txns.length; i += batch) {
    const w = new JuteWriter(4096);
    const part = txns.slice(i, i + batch);
    for (const t of part) appendRecord(w, t);
    await writer.append(w.view_bytes(), 0, w.length, part[0].header.zxid);
  }
  await writer.close();
}

/** The tree after the first `count` txns. */
export function treeAfter(txns: readonly Txn[], count: number): DataTree {
  const tree = new DataTree();
  for (const t of txns.slice(0, count)) tree.apply(t);
  return tree;
}

export function sessionsAfter(txns: readonly Txn[], count: number): Map<bigint, { timeout_ms: number; passwd: Uint8Array }> {
  const out = new Map<bigint, { timeout_ms: number; passwd: Uint8Array }>();
  for (const t of txns.slice(0, count)) {
    if (t.op.kind === 'createSession') out.set(t.header.session_id, { timeout_ms: t.op.timeout_ms, passwd: t.op.passwd });
    if (t.op.kind === 'closeSession') out.delete(t.header.session_id);
  }
  return out;
}

/** Writes snapshot.<zxid> of the state after the first `count` txns; returns its path. */
export function writeSnapshotAfter(dir: string, txns: readonly Txn[], count: number): string {
  const tree = treeAfter(txns, count);
  const sessions = [...sessionsAfter(txns, count)].map(([session_id, s]) => ({ session_id, ...s }));
  const path = join(dir, snapshotName(tree.last_zxid));
  writeSnapshotSync(path, tree, sessions);
  return path;
}
