// The failover probe: one writer per ensemble member ("lane"), each keeping one setData in flight
// on its own znode and recording when each was sent and answered, on the clock of the thread that
// also kills the leader (the driver's main thread), so the failover time is measured at the
// client. A lane whose server dies or stops answering opens a new session on the next member
// (round robin); a write without an answer within `request_timeout_ms` is abandoned with its
// session. The earliest committed write among the lanes after the kill ends a failover.
//
// Bounds: at most WRITES_MAX records between two take() calls (later ones are counted, not kept);
// every wait is bounded by a timeout; stop() ends every lane within one request timeout.

import { Err, Op } from '../../dist/protocol/index.js';
import type { Endpoint } from './connect_string.js';
import type { WriteRecord } from './failover_time.js';
import { keyPath } from './mix.js';
import { BenchSession } from './session.js';

export interface ProbeOptions {
  readonly endpoints: readonly Endpoint[];
  /** Parent of the lanes' znodes (keyPath(root, lane) must exist). */
  readonly root: string;
  readonly value_bytes: number;
  readonly request_timeout_ms: number;
  readonly connect_timeout_ms: number;
  readonly session_timeout_ms: number;
}

const WRITES_MAX = 500_000;
/** Pause between failed connection attempts, and after an error reply (no hot loop). */
const RETRY_MS = 10;
/** A write abandoned for lack of an answer is recorded with this code. */
const NO_ANSWER = Err.OPERATIONTIMEOUT;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class FailoverProbe {
  private writes: WriteRecord[] = [];
  private running = false;
  private lanes: Promise<void>[] = [];
  /** Records not kept because WRITES_MAX was reached. */
  overflow = 0;
  /** Sessions opened after the first one of each lane. */
  reconnects = 0;

  constructor(private readonly o: ProbeOptions) {
    if (o.endpoints.length === 0) throw new Error('failover probe: no endpoint');
  }

  start(): void {
    if (this.running) throw new Error('failover probe already running');
    this.running = true;
    this.lanes = this.o.endpoints.map((_, i) => this.lane(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes);
  }

  /** The records since the previous call (and forgets them). */
  take(): WriteRecord[] {
    const out = this.writes;
    this.writes = [];
    return out;
  }

  /** A view of the records since the last take() (not copied: do not keep it). */
  peek(): readonly WriteRecord[] {
    return this.writes;
  }

  private record(w: WriteRecord): void {
    if (this.writes.length < WRITES_MAX) this.writes.push(w);
    else this.overflow++;
  }

  private async lane(index: number): Promise<void> {
    const n = this.o.endpoints.length;
    const path = keyPath(this.o.root, index);
    const value = new Uint8Array(this.o.value_bytes).fill(0x77);
    let session: BenchSession | null = null;
    let next = index;
    let opened = 0;
    while (this.running) {
      if (session === null || session.failed !== null) {
        session = await this.connect(this.o.endpoints[next % n]!);
        next++;
        if (session === null) {
          await sleep(RETRY_MS);
          continue;
        }
        // `next` now names the member after this one: after a loss, that one is tried first.
        if (opened++ > 0) this.reconnects++;
      }
      const sent_ms = performance.now();
      const err = await this.writeOnce(session, path, value);
      this.record({ sent_ms, done_ms: performance.now(), err });
      if (err !== 0) await sleep(RETRY_MS);
    }
    if (session !== null && session.failed === null) await session.close();
  }

  private async connect(e: Endpoint): Promise<BenchSession | null> {
    try {
      return await BenchSession.open(e, this.o.session_timeout_ms, this.o.connect_timeout_ms);
    } catch {
      return null;
    }
  }

  /** The reply's error code; CONNECTIONLOSS when the session broke, NO_ANSWER after the timeout. */
  private async writeOnce(session: BenchSession, path: string, data: Uint8Array): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(NO_ANSWER), this.o.request_timeout_ms);
    });
    try {
      const reply = session
        .request(Op.setData, { path, data, version: -1 }, 'SetDataResponse')
        .then((r) => r.header.err)
        .catch(() => Err.CONNECTIONLOSS);
      const err = await Promise.race([reply, timeout]);
      if (err === NO_ANSWER) session.abort(`no answer to setData ${path} within ${this.o.request_timeout_ms} ms`);
      return err;
    } catch {
      return Err.CONNECTIONLOSS;
    } finally {
      clearTimeout(timer);
    }
  }
}
