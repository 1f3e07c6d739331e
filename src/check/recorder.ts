// Records every operation of a run: invocation and completion times, the result, or the error, or
// "unknown"; the reply header's zxid and arrival order (through the client's onReplyHeader hook,
// which runs synchronously as the reply is read); watch events as they arrive; fault windows.
//
// Outcome rules (invariants of the history):
// - ok: the call resolved; complete_ms is when its reply arrived;
// - fail: the server answered with an error (a reply header was seen): the op did not apply;
// - unknown: anything else (connection loss, timeout, session expired, client closed): the request
//   may or may not have been applied; complete_ms is null (it returns at +infinity).
// Recorded calls never retry (retry: false): a re-sent conditional write that had already applied
// would come back BADVERSION and make the history lie.

import { ZooKeeperClient, ZooKeeperError, type CallOptions, type ClientOptions, type WatchEvent } from '../client/index.js';
import type { EventRecord, FaultRecord, JsonObject, ModelName, OpRecord } from './checker/history.js';

export class Recorder {
  private readonly t0 = performance.now();
  private seq = 0;
  private next_op = 1;
  private next_session = 1;
  readonly ops: OpRecord[] = [];
  readonly events: EventRecord[] = [];
  readonly faults: FaultRecord[] = [];
  /** Faults started and not healed yet (start_ms by index in `faults`). */
  private readonly open_faults = new Map<number, { kind: string; target: string; start_ms: number; detail: string }>();
  private next_fault = 0;

  constructor(
    /** Recording stops (full() is true) at this many ops. */
    readonly ops_max: number,
  ) {}

  now(): number {
    return performance.now() - this.t0;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  nextOpId(): number {
    return this.next_op++;
  }

  newSession(): number {
    return this.next_session++;
  }

  full(): boolean {
    return this.ops.length >= this.ops_max;
  }

  addOp(op: OpRecord): void {
    this.ops.push(op);
  }

  addEvent(session: number, e: WatchEvent): void {
    this.events.push({ type: 'event', session, path: e.path, event: e.type, zxid: e.zxid, at_ms: this.now(), seq: this.nextSeq() });
  }

  /** Opens a fault window; returns a handle for faultHealed. */
  faultStarted(kind: string, target: string, detail: string): number {
    const h = this.next_fault++;
    this.open_faults.set(h, { kind, target, start_ms: this.now(), detail });
    return h;
  }

  faultHealed(handle: number, more_detail = ''): void {
    const f = this.open_faults.get(handle);
    if (f === undefined) return;
    this.open_faults.delete(handle);
    const detail = more_detail === '' ? f.detail : `${f.detail}; ${more_detail}`;
    this.faults.push({ type: 'fault', kind: f.kind, target: f.target, start_ms: f.start_ms, end_ms: this.now(), detail });
  }

  /** Closes any window still open (end_ms null: never healed). */
  closeOpenFaults(): void {
    for (const [, f] of this.open_faults) this.faults.push({ type: 'fault', ...f, end_ms: null });
    this.open_faults.clear();
  }

  /** Whether any fault window overlaps [from_ms, to_ms] (open ones count). */
  faultDuring(from_ms: number, to_ms: number): boolean {
    if (this.open_faults.size > 0) return true;
    return this.faults.some((f) => f.start_ms <= to_ms && (f.end_ms ?? Number.POSITIVE_INFINITY) >= from_ms);
  }
}

export interface OpStart {
  readonly model: ModelName;
  readonly key: string;
  readonly f: string;
  readonly input: JsonObject;
  /** A read after a sync: when the sync was sent, and whether it succeeded (else a plain read). */
  readonly sync?: { readonly sync_ms: number; readonly ok: Promise<boolean> };
}

export interface OpResult<T> {
  readonly op: OpRecord;
  /** The call's value when ok. */
  readonly value: T | undefined;
  /** The ZooKeeper error code name, when not ok. */
  readonly error: string | null;
}

interface Header {
  readonly zxid: number;
  readonly err: number;
  readonly at_ms: number;
  readonly seq: number;
}

/** A ZooKeeperClient whose calls are recorded; one session number per instance. */
export class RecordedClient {
  readonly session: number;

  constructor(
    readonly client: ZooKeeperClient,
    private readonly rec: Recorder,
    readonly process: string,
    private readonly request_timeout_ms: number,
  ) {
    this.session = rec.newSession();
  }

  static async connect(rec: Recorder, connect_string: string, process: string, opts: ClientOptions & { requestTimeout_ms: number }): Promise<RecordedClient> {
    const client = await ZooKeeperClient.connect(connect_string, opts);
    return new RecordedClient(client, rec, process, opts.requestTimeout_ms);
  }

  /** A watch listener that records its events under this session. */
  watcher(): (e: WatchEvent) => void {
    return (e) => this.rec.addEvent(this.session, e);
  }

  /** Call options for a recorded call: no retry, a deadline, the header hook. */
  private options(onHeader: (h: Header) => void): CallOptions {
    return {
      retry: false,
      timeout_ms: this.request_timeout_ms,
      onReplyHeader: (h) => onHeader({ zxid: h.zxid, err: h.err, at_ms: this.rec.now(), seq: this.rec.nextSeq() }),
    };
  }

  /**
   * Runs and records one operation. `output` turns the value into the recorded ok output;
   * `answer` may turn an error reply into an ok output (getData NONODE = "absent").
   */
  async run<T>(start: OpStart, call: (opts: CallOptions) => Promise<T>, output: (v: T) => JsonObject, answer?: (code: string) => JsonObject | null): Promise<OpResult<T>> {
    const invoke_ms = this.rec.now();
    const invoke_seq = this.rec.nextSeq();
    let header: Header | null = null;
    const { sync, ...fields } = start;
    const base = { type: 'op' as const, id: this.rec.nextOpId(), session: this.session, process: this.process, ...fields, invoke_ms, invoke_seq };
    let value: T | undefined;
    let failure: unknown = null;
    try {
      value = await call(this.options((h) => (header = h)));
    } catch (e) {
      failure = e;
    }
    // A read counts as synced only if its sync succeeded (FIFO: the sync was sent first).
    const sync_ms = sync !== undefined && (await sync.ok) ? sync.sync_ms : null;
    const op = this.outcome(base, sync_ms, header, failure, value, output, answer);
    this.rec.addOp(op);
    return { op, value: op.outcome === 'ok' && failure === null ? value : undefined, error: op.outcome === 'ok' ? null : op.error };
  }

  private outcome<T>(
    base: Omit<OpRecord, 'outcome' | 'output' | 'error' | 'complete_ms' | 'zxid' | 'reply_seq' | 'sync_ms'>,
    sync_ms: number | null,
    h: Header | null,
    failure: unknown,
    value: T | undefined,
    output: (v: T) => JsonObject,
    answer?: (code: string) => JsonObject | null,
  ): OpRecord {
    const replied = { complete_ms: h?.at_ms ?? this.rec.now(), zxid: h?.zxid ?? null, reply_seq: h?.seq ?? null };
    if (failure === null) return { ...base, sync_ms, outcome: 'ok', output: output(value as T), error: null, ...replied };
    const code = failure instanceof ZooKeeperError ? failure.code : 'CLIENTERROR';
    // Only an error the server itself answered is definite (a failed multi's reply header may say
    // OK while its results carry the error; a reply we could not make sense of is not definite).
    if (h === null || !(failure instanceof ZooKeeperError) || failure.code === 'MARSHALLINGERROR') {
      return { ...base, sync_ms: null, outcome: 'unknown', output: null, error: code, complete_ms: null, zxid: null, reply_seq: null };
    }
    const as_answer = answer?.(code) ?? null;
    if (as_answer !== null) return { ...base, sync_ms, outcome: 'ok', output: as_answer, error: null, ...replied };
    return { ...base, sync_ms, outcome: 'fail', output: errorOutput(failure), error: code, ...replied };
  }

  /** Sends a sync now (no retry): the read sent right after it reflects every write completed before. */
  sync(path: string): { sync_ms: number; ok: Promise<boolean> } {
    const sync_ms = this.rec.now();
    const ok = this.client.sync(path, { retry: false, timeout_ms: this.request_timeout_ms }).then(
      () => true,
      () => false,
    );
    return { sync_ms, ok };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** Extra facts of a failure worth keeping (a failed multi's op index). */
function errorOutput(e: unknown): JsonObject | null {
  const index = (e as { index?: unknown }).index;
  return typeof index === 'number' ? { index } : null;
}
