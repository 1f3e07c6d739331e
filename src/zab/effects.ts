// The core's inputs (events) and outputs (effects). See the design note in zab_core.ts for
// what the driver must guarantee about each effect.

import type { LogEntry } from './log_window.js';
import type { PeerMessage, ServerState } from './messages.js';
import type { Zxid } from './zxid.js';

export type ZabEvent =
  /** Enter the first election. Exactly once, before anything else. */
  | { readonly type: 'start' }
  /** One tick of the driver's clock. */
  | { readonly type: 'tick' }
  /** A message from peer `from`, decoded, in the connection's FIFO order. */
  | { readonly type: 'message'; readonly from: number; readonly msg: PeerMessage }
  /** A client write at this replica: the leader proposes it, a follower forwards it (REQUEST). */
  | { readonly type: 'propose'; readonly txn: Uint8Array }
  /** The driver's log is durable up to `zxid` (every entry <= zxid of the current log). */
  | { readonly type: 'persisted'; readonly zxid: Zxid }
  /** Answer to `snapshot_needed`: the committed state at `zxid`, pinned. */
  | { readonly type: 'snapshot_ready'; readonly peer: number; readonly zxid: Zxid; readonly snapshot: Uint8Array }
  /** The connection with `peer` closed (reset, crash, timeout). Before any message of a new one. */
  | { readonly type: 'peer_reset'; readonly peer: number }
  /** The committed membership as the driver's state holds it (after a snapshot is installed, or
   *  a reconfig applied): taken if newer than the core's (membership.ts). */
  | { readonly type: 'membership'; readonly version: Zxid; readonly voters: readonly number[]; readonly observers: readonly number[] }
  /** This replica can make nothing durable any more (its disk failed): it leaves its role for
   *  good and takes no further part, as if it had crashed (see zab_core.ts). */
  | { readonly type: 'halt'; readonly reason: string };

export type Phase = 'election' | 'discovery' | 'sync' | 'broadcast';

export type Effect =
  /** Send on the FIFO connection to `to` (opened by the driver as needed). */
  | { readonly type: 'send'; readonly to: number; readonly msg: PeerMessage }
  /** Close the connection to `peer`: nothing queued may be delivered afterwards. */
  | { readonly type: 'disconnect'; readonly peer: number }
  /** Append to the log (not yet durable); the driver answers with `persisted` later. */
  | { readonly type: 'append'; readonly entries: readonly LogEntry[] }
  /** Make both epochs durable (one atomic write) BEFORE executing the next effect. */
  | { readonly type: 'persist_epochs'; readonly accepted_epoch: number; readonly current_epoch: number }
  /** Drop every log entry after `to`, durably, before the next effect. */
  | { readonly type: 'truncate'; readonly to: Zxid }
  /** Replace state and log by this snapshot, durably, before the next effect. */
  | { readonly type: 'apply_snapshot'; readonly zxid: Zxid; readonly snapshot: Uint8Array }
  /** Every log entry up to `to` is committed: the applier applies them in zxid order. */
  | { readonly type: 'commit'; readonly to: Zxid }
  /** The leader needs a snapshot of committed state at a zxid >= min_zxid for `peer`. */
  | { readonly type: 'snapshot_needed'; readonly peer: number; readonly min_zxid: Zxid }
  /** State or phase changed (metrics, `srvr`); `serving` = may answer clients. */
  | {
      readonly type: 'role';
      readonly state: ServerState;
      readonly phase: Phase;
      readonly leader: number | null;
      readonly epoch: number;
      readonly serving: boolean;
      readonly reason: string;
    }
  /** A write this replica cannot take (not serving, queue full, epoch exhausted). */
  | { readonly type: 'write_rejected'; readonly txn: Uint8Array; readonly reason: string }
  /** A peer sent something impossible for a correct peer; the session with it was ended. */
  | { readonly type: 'protocol_error'; readonly peer: number; readonly detail: string };

/** What the role objects (Leader, Learner) may do through the core. */
export interface CoreContext {
  readonly sid: number;
  now(): number;
  accepted_epoch: number;
  current_epoch: number;
  send(to: number, msg: PeerMessage): void;
  disconnect(peer: number): void;
  emit(e: Effect): void;
  /** Persists (effect) then updates in memory; later effects may depend on it. */
  setAcceptedEpoch(e: number): void;
  setCurrentEpoch(e: number): void;
  append(entry: LogEntry): void;
  /** TRUNC: cuts the log after `z` (effect, durable before the next one). */
  truncateLog(z: Zxid): void;
  /** SNAP: the log is replaced by the snapshot at `z` (effect, durable before the next one). */
  resetLog(z: Zxid, snapshot: Uint8Array): void;
  /** Raises the commit point and emits `commit`; returns the newly committed entries. */
  commitTo(z: Zxid): readonly LogEntry[];
  /** Leave the current role for LOOKING once the current event is handled. */
  stepDown(reason: string): void;
  /** A peer broke the protocol: report it and end that session. */
  protocolError(peer: number, detail: string): void;
  /** The epoch of our leader is known: report it in our vote (see Election.settleEpoch). */
  settleElectionEpoch(epoch: number): void;
  /** Emit a role effect if state/phase changed. */
  announceRole(reason: string): void;
}
