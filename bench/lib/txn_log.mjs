// Writes txns as a real txn log (the product's LogWriter and record format) into a data dir,
// for the benchmarks that build a data dir without a server (recovery_time, restart_memory).
import { requireBuilt } from './require_built.mjs';

const { LogWriter } = await import(requireBuilt('log/log_writer.js'));
const { NODE_LOG_FS } = await import(requireBuilt('log/log_fs.js'));
const { appendRecord } = await import(requireBuilt('log/segment_format.js'));
const { JuteWriter } = await import(requireBuilt('protocol/jute.js'));

/** Appends `txns` (any iterable, in zxid order) to the log in `dir`, in batches of ~batch_bytes,
 *  without fsync (a benchmark's set-up, not a durability claim). */
export async function writeTxnLog(dir, txns, batch_bytes = 512 * 1024) {
  const writer = await LogWriter.open(NODE_LOG_FS, { dir, segment_bytes: 64 << 20, fsync: false, now_ms: Date.now }, null);
  let w = new JuteWriter(2 * batch_bytes);
  let first = -1;
  for (const txn of txns) {
    if (first < 0) first = txn.header.zxid;
    appendRecord(w, txn);
    if (w.length > batch_bytes) {
      await writer.append(w.view_bytes(), 0, w.length, first);
      w = new JuteWriter(2 * batch_bytes);
      first = -1;
    }
  }
  if (w.length > 0) await writer.append(w.view_bytes(), 0, w.length, first);
  await writer.close();
}
