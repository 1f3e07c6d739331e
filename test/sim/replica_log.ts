// What the replica simulator's fake disk holds: every log batch the commit stage wrote, decoded
// with the product's own txn codec (src/tree/txn_codec.ts), and which of them became durable.
// The final checks replay the durable txns in zxid order (replica_checks.ts): the ones no
// client acknowledged too, such as an expired session's closeSession.

import type { Batch } from '../../src/commit/group_commit.js';
import { RECORD_HEADER_BYTES } from '../../src/log/segment_format.js';
import { JuteReader } from '../../src/protocol/jute.js';
import { decodeTxn } from '../../src/tree/txn_codec.js';
import type { TxnOp } from '../../src/tree/txn.js';

/** One txn of the log, reduced to what the checks need (copied: batch buffers are reused). */
export interface LoggedTxn {
  readonly zxid: number;
  readonly session_id: bigint;
  readonly cxid: number;
  /** Wall-clock ms at prep (CommitCore's clock: the simulation's epoch plus its time). */
  readonly time_ms: number;
  readonly kind: TxnOp['kind'];
  /** closeSession: the ephemerals it deletes. */
  readonly paths: readonly string[];
  /** error: its code. */
  readonly err: number;
}

export class SimLog {
  /** Written and not yet settled, by batch seq. */
  private readonly pending = new Map<number, LoggedTxn[]>();
  /** Every durable txn, zxid order. */
  readonly durable: LoggedTxn[] = [];
  readonly by_zxid = new Map<number, LoggedTxn>();
  /** The durable closeSession txn of each closed session (at most one: checked). */
  readonly closes = new Map<bigint, LoggedTxn>();

  constructor(private readonly fail: (message: string) => never) {}

  /** A batch handed to the disk: its records, decoded. */
  written(b: Batch): void {
    const txns: LoggedTxn[] = [];
    const view = new DataView(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
    let at = b.start;
    while (at < b.end) {
      const len = view.getUint32(at + 4);
      const r = new JuteReader(b.bytes, at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len);
      const { header, op } = decodeTxn(r);
      txns.push({
        zxid: header.zxid,
        session_id: header.session_id,
        cxid: header.cxid,
        time_ms: header.time_ms,
        kind: op.kind,
        paths: op.kind === 'closeSession' ? [...op.paths].sort() : [],
        err: op.kind === 'error' ? op.err : 0,
      });
      at += RECORD_HEADER_BYTES + len;
    }
    if (txns.length !== b.count) this.fail(`log batch ${b.seq} holds ${txns.length} records, the batch says ${b.count}`);
    if (txns.length > 0 && (txns[0]!.zxid !== b.first_zxid || txns[txns.length - 1]!.zxid !== b.last_zxid)) {
      this.fail(`log batch ${b.seq} holds zxids ${txns[0]!.zxid}..${txns[txns.length - 1]!.zxid}, the batch says ${b.first_zxid}..${b.last_zxid}`);
    }
    this.pending.set(b.seq, txns);
  }

  /** The disk settled batch `seq`: durable, or failed (its txns never happened). */
  settled(seq: number, durable: boolean): void {
    const txns = this.pending.get(seq);
    if (txns === undefined) this.fail(`log batch ${seq} settled but never written`);
    this.pending.delete(seq);
    if (!durable) return;
    for (const t of txns) {
      const last = this.durable[this.durable.length - 1];
      if (last !== undefined && t.zxid !== last.zxid + 1) this.fail(`log: zxid ${t.zxid} follows ${last.zxid}`);
      this.durable.push(t);
      this.by_zxid.set(t.zxid, t);
      if (t.kind !== 'closeSession') continue;
      // Exactly once: a session's ephemerals go with one closeSession txn, never a second.
      const before = this.closes.get(t.session_id);
      if (before !== undefined) this.fail(`session 0x${t.session_id.toString(16)} closed twice: closeSession txns at zxid ${before.zxid} and ${t.zxid}`);
      this.closes.set(t.session_id, t);
    }
  }
}
