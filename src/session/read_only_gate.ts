// When an ensemble member runs in read-only mode (readonlymode.enabled; ZooKeeper's
// ReadOnlyZooKeeperServer, ZOOKEEPER-704). Sans-IO: the commit worker passes its Zab role and the
// time in and acts on the transitions.
//
// ZooKeeper's rule (QuorumPeer.run, case LOOKING): a peer that starts looking for a leader waits a
// grace period of max(2 s, tickTime) before deciding it is partitioned and starting its read-only
// server; it shuts that server down (closing every connection) as soon as the election ends, i.e.
// when it stops LOOKING, even before it has synced with the new leader.
//
// Invariant: active implies the last role seen was LOOKING and not serving, continuously for at
// least grace_ms.

import assert from 'node:assert/strict';

/** ZooKeeper's lower bound of the grace period (QuorumPeer: `sleep(Math.max(2000, tickTime))`). */
export const READ_ONLY_GRACE_MS_MIN = 2000;

/** The part of a Zab role (src/quorum/quorum_driver.ts QuorumRole) the gate looks at. */
export interface GateRole {
  readonly state: string;
  readonly serving: boolean;
}

export type GateTransition = 'enter' | 'leave' | null;

export class ReadOnlyGate {
  /** Since when the replica has been LOOKING (not serving), or null. */
  private looking_since_ms: number | null = null;
  private active_ = false;

  constructor(readonly grace_ms: number) {
    assert(Number.isFinite(grace_ms) && grace_ms >= 0, `read-only grace period must be >= 0 ms: ${grace_ms}`);
  }

  /** The grace period ZooKeeper uses for a tick length. */
  static forTick(tick_ms: number): ReadOnlyGate {
    return new ReadOnlyGate(Math.max(READ_ONLY_GRACE_MS_MIN, tick_ms));
  }

  get active(): boolean {
    return this.active_;
  }

  /** Feeds the current role; returns what changed ('enter': start serving read-only clients,
   *  'leave': close them all). Call on every role change and periodically (the grace timer). */
  step(role: GateRole, now_ms: number): GateTransition {
    const cut_off = role.state === 'LOOKING' && !role.serving;
    if (!cut_off) {
      this.looking_since_ms = null;
      if (!this.active_) return null;
      this.active_ = false;
      return 'leave';
    }
    this.looking_since_ms ??= now_ms;
    if (this.active_ || now_ms - this.looking_since_ms < this.grace_ms) return null;
    this.active_ = true;
    return 'enter';
  }
}
