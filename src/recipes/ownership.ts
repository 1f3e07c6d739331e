// What a recipe holder (lock lease, semaphore lease, leadership, membership) knows about its
// claim, driven by the session: 'held' while connected, 'suspended' while disconnected (the
// claim may be lost: stop acting on it unless you use the fencing token), 'lost' once the session
// expired or the client closed (the server has deleted the ephemeral node, someone else may hold
// the claim now), 'released' after the holder gave it up.

import type { SessionEvent, ZooKeeperClient } from '../client/index.js';

export type OwnershipState = 'held' | 'suspended' | 'lost' | 'released';

export type LostReason = 'session_expired' | 'client_closed' | 'node_deleted';

export type OwnershipListener = (state: OwnershipState, reason?: LostReason) => void;

export class Ownership {
  private state_: OwnershipState = 'held';
  private readonly listeners = new Set<OwnershipListener>();
  private readonly off_state: () => void;
  private resolve_lost!: (reason: LostReason) => void;
  /** Resolves (never rejects) when the claim is lost; stays pending if it is released. */
  readonly lost: Promise<LostReason> = new Promise((r) => (this.resolve_lost = r));

  constructor(client: ZooKeeperClient) {
    this.off_state = client.on('state', (e) => this.onSession(e));
    if (client.state === 'expired' || client.state === 'closed') this.markLost(client.state === 'expired' ? 'session_expired' : 'client_closed');
    else if (client.state !== 'connected') this.set('suspended');
  }

  get state(): OwnershipState {
    return this.state_;
  }

  /** Calls `listener` on every change; returns the unsubscribe function. */
  onChange(listener: OwnershipListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  markLost(reason: LostReason): void {
    if (this.state_ === 'lost' || this.state_ === 'released') return;
    this.off_state();
    this.set('lost', reason);
    this.resolve_lost(reason);
  }

  markReleased(): void {
    if (this.state_ === 'lost' || this.state_ === 'released') return;
    this.off_state();
    this.set('released');
  }

  private onSession(e: SessionEvent): void {
    if (e.state === 'expired') return this.markLost('session_expired');
    if (e.state === 'closed') return this.markLost('client_closed');
    if (e.state === 'disconnected' && this.state_ === 'held') this.set('suspended');
    if (e.state === 'connected' && this.state_ === 'suspended') this.set('held');
  }

  private set(state: OwnershipState, reason?: LostReason): void {
    this.state_ = state;
    for (const l of [...this.listeners]) l(state, reason);
  }
}
