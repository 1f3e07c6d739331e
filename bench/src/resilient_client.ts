// A load-generator client that outlives its server (Figure 8): when its session breaks (the
// member was killed, or closed its clients while electing), it opens a new session on the next
// member of the ensemble, round robin, and carries on with the same loop settings. Requests in
// flight on the broken session are lost (counted), as a real client sees CONNECTIONLOSS for them.
// Like the paper's clients, it moves only when its connection breaks.
//
// Invariants: one session at a time; reconnect attempts are spaced by RETRY_MS and end when the
// client is stopped; in_flight counts only the live session's requests (a broken one has none
// that can still be answered).

import { ClientLoop, type ClientPlan, type LoopShared } from './client_loop.js';
import type { Endpoint } from './connect_string.js';
import { BenchSession } from './session.js';

const RETRY_MS = 20;
const CONNECT_TIMEOUT_MS = 2_000;

/** What load_thread.ts drives: a ClientLoop, or a ResilientClient around one. */
export interface LoadClient {
  start(now_ms: number): void;
  tick(now_ms: number): void;
  stop(): void;
  readonly in_flight: number;
  readonly dropped: number;
  readonly phase_log: ClientLoop['phase_log'];
}

export class ResilientClient implements LoadClient {
  private loop: ClientLoop;
  private stopping = false;
  private started = false;
  private next_endpoint: number;
  private dropped_before = 0;
  /** Sessions opened after the first. */
  reconnects = 0;
  /** Requests in flight on sessions that broke. */
  lost = 0;

  constructor(
    private session: BenchSession,
    first_endpoint: number,
    private readonly endpoints: readonly Endpoint[],
    private readonly plan: ClientPlan,
    private readonly shared: LoopShared,
    private readonly seed: number,
    private readonly name: string,
    private readonly session_timeout_ms: number,
  ) {
    if (endpoints.length === 0) throw new Error(`client ${name}: no endpoint`);
    this.next_endpoint = first_endpoint + 1;
    this.loop = this.attach(session);
  }

  private attach(session: BenchSession): ClientLoop {
    this.session = session;
    session.on_failure = () => this.onFailure(session);
    return new ClientLoop(session, this.plan, this.shared, this.seed, this.name);
  }

  get in_flight(): number {
    return this.session.failed === null ? this.loop.in_flight : 0;
  }

  get dropped(): number {
    return this.dropped_before + this.loop.dropped;
  }

  get phase_log(): ClientLoop['phase_log'] {
    return this.loop.phase_log;
  }

  /** The current session (to close it at the end). */
  get current(): BenchSession {
    return this.session;
  }

  start(now_ms: number): void {
    this.started = true;
    this.loop.start(now_ms);
  }

  tick(now_ms: number): void {
    if (this.session.failed === null) this.loop.tick(now_ms);
  }

  stop(): void {
    this.stopping = true;
    this.loop.stop();
  }

  private onFailure(session: BenchSession): void {
    if (session !== this.session) return;
    this.lost += session.in_flight;
    this.dropped_before += this.loop.dropped;
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    while (!this.stopping) {
      const endpoint = this.endpoints[this.next_endpoint % this.endpoints.length]!;
      this.next_endpoint++;
      try {
        const s = await BenchSession.open(endpoint, this.session_timeout_ms, CONNECT_TIMEOUT_MS);
        if (this.stopping) {
          await s.close();
          return;
        }
        this.reconnects++;
        this.loop = this.attach(s);
        if (this.started) this.loop.start(performance.now());
        return;
      } catch {
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }
}
