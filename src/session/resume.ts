// What is left of each recovered session's timeout, pure.
//
// A session's expiry (wall clock) is the latest of what the durable state says about it:
//   - every logged txn of the session (createSession included) is a touch: time_ms + timeout;
//   - the liveness file (liveness_format.ts) lists the time left at the moment it was written.
// It resumes with expiry - last_known_ms, clamped to [0, timeout], where last_known_ms is the
// latest wall time the durable state holds (the last txn, the liveness file). The outage itself
// is not charged to the clients, who could not reach the replica while it was down; what they had
// already used of their timeout before the crash is. The estimate errs only towards keeping a
// session longer (the crash came at or after last_known_ms), never towards expiring it early,
// except by clock steps between writes. A session nothing is known about (the liveness file is
// missing or damaged) gets its whole timeout, as ZooKeeper gives every session.

import type { Liveness } from './liveness_format.js';

export interface ResumeInput {
  /** Recovered sessions and their negotiated timeouts. */
  sessions: ReadonlyMap<bigint, { timeout_ms: number }>;
  /** The time of each session's last logged txn (only for sessions with one in the replayed log). */
  last_txn_ms: ReadonlyMap<bigint, number>;
  liveness: Liveness | null;
  /** The latest wall time the durable state holds: last replayed txn, liveness file, snapshot. */
  last_known_ms: number;
}

export interface Resumed {
  remaining_ms: Map<bigint, number>;
  /** Sessions nothing was known about: they got their whole timeout. */
  unknown: number;
  /** Sessions whose time had run out before the crash: they expire at the first tick. */
  overdue: number;
}

export function resumeTimeouts(input: ResumeInput): Resumed {
  const listed = new Map<bigint, number>();
  if (input.liveness !== null) {
    for (const e of input.liveness.entries) listed.set(e.session_id, input.liveness.written_ms + e.remaining_ms);
  }
  const out: Resumed = { remaining_ms: new Map(), unknown: 0, overdue: 0 };
  for (const [id, { timeout_ms }] of input.sessions) {
    const from_file = listed.get(id);
    const txn_ms = input.last_txn_ms.get(id);
    const from_log = txn_ms === undefined ? undefined : txn_ms + timeout_ms;
    if (from_file === undefined && from_log === undefined) {
      out.unknown++;
      out.remaining_ms.set(id, timeout_ms);
      continue;
    }
    const expiry_ms = Math.max(from_file ?? -Infinity, from_log ?? -Infinity);
    const remaining = Math.min(timeout_ms, Math.max(0, expiry_ms - input.last_known_ms));
    if (remaining === 0) out.overdue++;
    out.remaining_ms.set(id, remaining);
  }
  return out;
}
