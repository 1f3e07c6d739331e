// Leader election, latch style (Curator's LeaderLatch): every candidate creates a protected
// ephemeral-sequential node; the lowest is the leader; every other candidate watches only the
// node just before its own, so when the leader goes, exactly one candidate (the next) wakes up.
//
// Leadership is only claimed while connected: on a disconnection the leader reports 'follower'
// (it may have lost the lead: the session may expire while it cannot hear), and checks again
// when it reconnects. When the session ends the latch is 'lost' for good (the client never opens
// a new session by itself); close() withdraws the candidacy.

import { isZooKeeperError, type ZooKeeperClient } from '../client/index.js';
import { deleteOwnNode, createContender } from './lock.js';
import { childPath, sortedBySequence } from './sequence.js';
import { PREDECESSOR, waitForTurn } from './turn.js';
import { waitBounded } from './wait.js';

const MARKER = 'latch-';

export type LatchState = 'idle' | 'follower' | 'leader' | 'lost' | 'closed';

export type LatchListener = (state: LatchState) => void;

export class LeaderLatch {
  private state_: LatchState = 'idle';
  private node: { path: string; name: string; czxid: number } | null = null;
  private readonly listeners = new Set<LatchListener>();
  private off_session: (() => void) | null = null;
  /** Bumped on every (re)check so a stale waiter's result is ignored. */
  private generation = 0;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    /** Stored in the candidate's node (e.g. the candidate's address). */
    readonly id: string = '',
  ) {}

  get state(): LatchState {
    return this.state_;
  }

  hasLeadership(): boolean {
    return this.state_ === 'leader';
  }

  /** czxid of the candidate node: a fencing token for what the leader does. */
  get fencingToken(): number | null {
    return this.node?.czxid ?? null;
  }

  /** The candidate's node path (null before start). */
  get nodePath(): string | null {
    return this.node?.path ?? null;
  }

  onChange(listener: LatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Joins the election; resolves once the candidate node exists (not when leading). */
  async start(): Promise<void> {
    if (this.state_ !== 'idle') throw new Error(`LeaderLatch already ${this.state_}`);
    this.node = await createContender(this.client, this.path, MARKER, this.id);
    this.off_session = this.client.on('state', (e) => {
      if (e.state === 'expired' || e.state === 'closed') this.set('lost');
      else if (e.state === 'disconnected' && this.state_ === 'leader') this.set('follower');
      else if (e.state === 'connected' && this.state_ === 'follower') this.check();
    });
    this.set('follower');
    this.check();
  }

  /** Resolves when this candidate leads; rejects if the latch is lost/closed or on abort. */
  async awaitLeadership(opts: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.state_ === 'leader') return;
    const became = new Promise<void>((resolve, reject) => {
      const off = this.onChange((s) => {
        if (s === 'leader') {
          off();
          resolve();
        } else if (s === 'lost' || s === 'closed') {
          off();
          reject(new Error(`LeaderLatch ${s}`));
        }
      });
    });
    await waitBounded(this.client, became, opts);
  }

  /** Withdraws: deletes the candidate node (the next candidate takes over). */
  async close(): Promise<void> {
    if (this.state_ === 'closed') return;
    const node = this.node;
    this.off_session?.();
    this.generation++;
    this.set('closed');
    if (node !== null) await deleteOwnNode(this.client, node.path);
  }

  /** Waits for our turn in the background; one waiter per generation. */
  private check(): void {
    const gen = ++this.generation;
    const node = this.node;
    if (node === null) return;
    waitForTurn(this.client, this.path, node.name, [MARKER], PREDECESSOR).then(
      () => {
        if (gen === this.generation && this.state_ === 'follower' && this.client.state === 'connected') this.set('leader');
      },
      (e: unknown) => {
        if (gen !== this.generation || this.state_ === 'closed' || this.state_ === 'lost') return;
        // Our node is gone although the session lives (deleted by an operator): candidacy over.
        if (isZooKeeperError(e, 'NONODE')) this.set('lost');
        else if (this.client.state === 'connected') setTimeout(() => this.check(), 100);
      },
    );
  }

  private set(state: LatchState): void {
    if (this.state_ === state) return;
    if (this.state_ === 'lost' || this.state_ === 'closed') return;
    this.state_ = state;
    if (state === 'lost') this.off_session?.();
    for (const l of [...this.listeners]) l(state);
  }

  /** Candidates' ids in line order (leader first). */
  async participants(): Promise<string[]> {
    const nodes = sortedBySequence(await this.client.getChildren(this.path), [MARKER]);
    const out: string[] = [];
    for (const n of nodes) {
      const got = await this.client.getData(childPath(this.path, n.name)).catch(() => null);
      if (got !== null) out.push(got.data?.toString() ?? '');
    }
    return out;
  }
}
