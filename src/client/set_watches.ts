// Re-registering watches after a reconnect (ClientCnxn.primeConnection): the watch lists go out
// as SetWatches packets (xid -8) of at most ~128 KB of paths each, so thousands of watches never
// make a frame the server refuses (ZOOKEEPER-706). SetWatches2 (opcode 105) is used only when
// persistent watches exist, so servers older than 3.6 still accept the packet otherwise.

import { Op } from '../protocol/opcodes.js';
import type { SetWatches, SetWatches2 } from '../protocol/types.js';

export const SET_WATCHES_BATCH_BYTES_MAX = 128 * 1024;

/** Server paths (chroot applied) of every watch the client holds. */
export interface WatchLists {
  data: readonly string[];
  exist: readonly string[];
  child: readonly string[];
  persistent: readonly string[];
  persistentRecursive: readonly string[];
}

export type SetWatchesPacket =
  | { type: typeof Op.setWatches; body: SetWatches }
  | { type: typeof Op.setWatches2; body: SetWatches2 };

const LIST_NAMES = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const;
type ListName = (typeof LIST_NAMES)[number];

type Batch = Record<ListName, string[]>;

function emptyBatch(): Batch {
  return { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
}

function batchPacket(b: Batch, relative_zxid: number): SetWatchesPacket {
  const base = { relativeZxid: relative_zxid, dataWatches: b.data, existWatches: b.exist, childWatches: b.child };
  if (b.persistent.length === 0 && b.persistentRecursive.length === 0) return { type: Op.setWatches, body: base };
  return {
    type: Op.setWatches2,
    body: { ...base, persistentWatches: b.persistent, persistentRecursiveWatches: b.persistentRecursive },
  };
}

/**
 * Splits the lists into packets. A batch closes before the path that would take it past
 * `batch_bytes_max` (UTF-8 bytes of paths); every batch holds at least one path.
 */
export function setWatchesPackets(
  lists: WatchLists,
  relative_zxid: number,
  batch_bytes_max = SET_WATCHES_BATCH_BYTES_MAX,
): SetWatchesPacket[] {
  const packets: SetWatchesPacket[] = [];
  let batch = emptyBatch();
  let bytes = 0;
  let paths = 0;
  for (const name of LIST_NAMES) {
    for (const path of lists[name]) {
      const len = Buffer.byteLength(path, 'utf8');
      if (paths > 0 && bytes + len > batch_bytes_max) {
        packets.push(batchPacket(batch, relative_zxid));
        batch = emptyBatch();
        bytes = 0;
        paths = 0;
      }
      batch[name].push(path);
      bytes += len;
      paths++;
    }
  }
  if (paths > 0) packets.push(batchPacket(batch, relative_zxid));
  return packets;
}
