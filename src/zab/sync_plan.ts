// How the leader brings one learner to its history, from the learner's last zxid alone
// (ZooKeeper's LearnerHandler.syncFollower, with the in-memory committed log as the source).
//
// Zab's prefix property makes this decidable: two logs that hold the same zxid agree on every
// txn up to it (zxid (e, c) was numbered by the one leader of epoch e, which sent its history in
// order), and a log holding (e, c) holds every txn of epoch e before it. So:
// - DIFF: the learner's last zxid is in our window (or is its base): send what follows it.
// - TRUNC: the learner's last zxid is not ours, but we hold an earlier txn of the same epoch:
//   the learner has that txn, and everything after it on the learner is a suffix no quorum
//   committed (else we, the leader, would hold it). It truncates there; we send what follows.
// - SNAP: no common point is provable from our window (the learner is older than the window,
//   or its last epoch is one we never saw): send a snapshot of our committed state.

import type { LogWindow } from './log_window.js';
import { zxidLt, type Zxid } from './zxid.js';

export type SyncPlan =
  | { readonly kind: 'DIFF'; readonly point: Zxid }
  | { readonly kind: 'TRUNC'; readonly point: Zxid }
  | { readonly kind: 'SNAP' };

/** The sync for a learner whose log ends at `peer_last`. `point` = where our stream resumes. */
export function planSync(w: LogWindow, peer_last: Zxid): SyncPlan {
  if (w.holdsPoint(peer_last)) return { kind: 'DIFF', point: peer_last };
  const same_epoch = w.lastOfEpochBefore(peer_last);
  if (same_epoch !== null) return { kind: 'TRUNC', point: same_epoch };
  // No entry of that epoch in the window: the base itself may still be one (counter 0 names
  // no txn, so only a base with counter >= 1 proves the learner holds it).
  const b = w.base;
  if (b.epoch === peer_last.epoch && b.counter >= 1 && zxidLt(b, peer_last)) return { kind: 'TRUNC', point: b };
  return { kind: 'SNAP' };
}
