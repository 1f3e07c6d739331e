// Leader election, selector style (Curator's LeaderSelector): candidates take turns holding a
// lock; the holder runs the application's `lead` function, and leadership ends when it returns.
// `lead` gets an AbortSignal that fires when leadership is lost (session expired or client
// closed), and the fencing token of its term. With `requeue` (the default) a candidate lines up
// again after its term.

import type { ZooKeeperClient } from '../client/index.js';
import { Lock, type LockLease } from './lock.js';

export interface LeadershipTerm {
  /** Aborted when leadership is lost; stop acting as leader then. */
  signal: AbortSignal;
  /** czxid of the term's lock node: strictly increasing across terms. */
  fencingToken: number;
}

export interface SelectorOptions {
  /** Line up again after each term (default true). */
  requeue?: boolean;
  /** Stored in the candidate's node. */
  id?: string;
}

export class LeaderSelector {
  private readonly lock: Lock;
  private readonly stopper = new AbortController();
  private running: Promise<void> | null = null;
  private current: LockLease | null = null;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    private readonly lead: (term: LeadershipTerm) => Promise<void>,
    private readonly opts: SelectorOptions = {},
  ) {
    this.lock = new Lock(client, path, { data: opts.id ?? '' });
  }

  /** True while this candidate's `lead` runs and leadership holds. */
  hasLeadership(): boolean {
    return this.current?.isHeld() ?? false;
  }

  /** Starts taking part; terms run in the background until close(). */
  start(): void {
    if (this.running !== null) throw new Error('LeaderSelector already started');
    this.running = this.loop();
  }

  /** Resolves when the loop ends (after close(), or once the session is gone). */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    do {
      let lease: LockLease;
      try {
        lease = await this.lock.acquire({ signal: this.stopper.signal });
      } catch {
        return; // closed, or the session ended
      }
      await this.term(lease);
    } while (this.opts.requeue !== false && !this.stopper.signal.aborted && this.client.state !== 'expired' && this.client.state !== 'closed');
  }

  private async term(lease: LockLease): Promise<void> {
    this.current = lease;
    const lost = new AbortController();
    void lease.lost.then((reason) => lost.abort(new Error(`leadership lost: ${reason}`)));
    const abortOnStop = () => lost.abort(new Error('selector closed'));
    this.stopper.signal.addEventListener('abort', abortOnStop, { once: true });
    try {
      await this.lead({ signal: lost.signal, fencingToken: lease.fencingToken });
    } catch {
      // A failing term ends the term; the candidate lines up again like after a normal return.
    } finally {
      this.stopper.signal.removeEventListener('abort', abortOnStop);
      this.current = null;
      await lease.release().catch(() => undefined);
    }
  }

  /** Stops taking part; a running term is aborted and its lock released. */
  async close(): Promise<void> {
    this.stopper.abort(new Error('selector closed'));
    await this.running;
  }
}
