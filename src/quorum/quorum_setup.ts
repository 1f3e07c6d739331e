// From ZooKeeper's configuration and the recovered disk state to what the Zab core starts with.
//
// Time: the core counts ticks. ZooKeeper's limits are in tickTime units (initLimit, syncLimit),
// but its election and pings run on their own clocks (finalizeWait 200 ms, pings every
// tickTime / 2). The driver ticks every ZAB_TICK_MS and converts every limit to those ticks, so a
// zoo.cfg means what it means for ZooKeeper while elections stay fast.

import type { EnsembleConfig } from '../config/ensemble_config.js';
import type { ServerConfig } from '../config/server_config.js';
import { ZAB_DEFAULTS, type ZabConfig } from '../zab/config.js';
import type { LogEntry } from '../zab/log_window.js';
import type { ZabInit } from '../zab/zab_core.js';
import { membershipOfTxn } from './reconfig_membership.js';
import { zxidOfNumber } from './zxid_number.js';

/** The driver's tick. */
export const ZAB_TICK_MS = 20;
/** ZooKeeper's finalizeWait: once a quorum agrees, wait this long for a better vote. */
const FINALIZE_WAIT_MS = 200;
/** ZooKeeper's maxNotificationInterval. */
const NOTIFY_INTERVAL_MS_MAX = 60_000;

const ticks = (ms: number): number => Math.max(1, Math.ceil(ms / ZAB_TICK_MS));

export function zabConfigFor(config: ServerConfig, ensemble: EnsembleConfig): ZabConfig {
  const voters = ensemble.members.filter((m) => m.role === 'participant').map((m) => m.sid);
  const observers = ensemble.members.filter((m) => m.role === 'observer').map((m) => m.sid);
  const sync_limit_ticks = Math.max(2, ticks(ensemble.sync_limit_ticks * config.tick_time_ms));
  return {
    ...ZAB_DEFAULTS,
    sid: ensemble.my_sid,
    voters,
    observers,
    init_limit_ticks: ticks(ensemble.init_limit_ticks * config.tick_time_ms),
    sync_limit_ticks,
    ping_ticks: Math.min(sync_limit_ticks - 1, ticks(config.tick_time_ms / 2)),
    info_retry_ticks: ticks(FINALIZE_WAIT_MS),
    election: {
      finalize_ticks: ticks(FINALIZE_WAIT_MS),
      notify_ticks_min: ticks(FINALIZE_WAIT_MS),
      notify_ticks_max: ticks(NOTIFY_INTERVAL_MS_MAX),
    },
    in_flight_max: config.zab_in_flight_max,
    // The leader's queue behind the in-flight window must take every txn the pipeline already
    // numbered: its own intake is bounded by zab_in_flight_max (the commit worker's quorumRoom),
    // and each learner has at most zab_in_flight_max writes forwarded (its forward_room) and as
    // many REVALIDATE questions waiting (each answered behind a no-op txn: CommitCore.replicated),
    // so this bound is never reached; a rejection would leave a numbered txn unproposed.
    pending_max: leaderQueueMax(config.zab_in_flight_max, ensemble.members.length),
    membership_of: membershipOfTxn,
  };
}

/** Txns a leader may have numbered and not yet proposed at most (see zabConfigFor). */
export function leaderQueueMax(in_flight_max: number, members: number): number {
  return in_flight_max * (1 + 2 * (members - 1));
}

/** The durable state the core starts from: epochs, and the log after the newest snapshot (which
 *  holds committed state only: a Zab replica publishes a snapshot once it is committed). */
export function zabInitFor(
  epochs: { accepted_epoch: number; current_epoch: number } | null,
  snapshot_zxid: number,
  entries: readonly { zxid: number; bytes: Uint8Array }[],
  membership_version = 0,
): ZabInit {
  const log: LogEntry[] = entries.map((e) => ({ zxid: zxidOfNumber(e.zxid), txn: e.bytes }));
  const base = zxidOfNumber(Math.max(0, snapshot_zxid));
  return {
    accepted_epoch: epochs?.accepted_epoch ?? 0,
    current_epoch: epochs?.current_epoch ?? 0,
    log_base: base,
    log,
    committed: base,
    membership_version: zxidOfNumber(membership_version),
  };
}
