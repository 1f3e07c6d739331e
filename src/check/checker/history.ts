// The history a `waitfree check` run records, and its JSON-lines form. Pure data: the runner
// writes it, the checker reads it, `waitfree check --history FILE` re-checks a saved one.
//
// Time: milliseconds since the run started (performance.now based, fractional). An operation
// occupies the closed interval [invoke_ms, complete_ms]; complete_ms null means the outcome is
// unknown (timeout, connection loss): the operation may have taken effect at any time after its
// invocation, or never, so the checker treats it as returning at +infinity.
//
// Order: one counter (`seq`) numbers every invocation and every reply or watch event as it
// arrives on the client, across all sessions. A session's stream of replies and events, sorted by
// seq, is the order in which its client saw them (FIFO and watch-order checks use it).

export type Outcome = 'ok' | 'fail' | 'unknown';

/** Which model (and so which partitioning) an operation belongs to. */
export type ModelName = 'register' | 'queue' | 'lock' | 'multi';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface OpRecord {
  readonly type: 'op';
  /** Unique within the history. */
  readonly id: number;
  /** Which client (session) issued it: one number per client instance of the run. */
  readonly session: number;
  /** The worker that drove the client, for people reading the history. */
  readonly process: string;
  readonly model: ModelName;
  /** Partition: operations on different keys of one model are independent. */
  readonly key: string;
  /** Operation name within the model ('read', 'write', 'enqueue', 'acquire', ...). */
  readonly f: string;
  readonly input: JsonObject;
  readonly outcome: Outcome;
  /** The result when outcome is 'ok' (model-specific), else null (or error details). */
  readonly output: JsonObject | null;
  /** ZooKeeper error code name when outcome is 'fail' or 'unknown'. */
  readonly error: string | null;
  readonly invoke_ms: number;
  /** null: unknown outcome (returns at +infinity). */
  readonly complete_ms: number | null;
  /** Reads only: the invocation time of the sync sent just before the read by the same session. */
  readonly sync_ms: number | null;
  /** ReplyHeader.zxid of the reply, when the client exposed it. */
  readonly zxid: number | null;
  readonly invoke_seq: number;
  /** Arrival order of the reply (null: no reply seen). */
  readonly reply_seq: number | null;
}

export interface EventRecord {
  readonly type: 'event';
  readonly session: number;
  readonly path: string;
  readonly event: string;
  readonly zxid: number;
  readonly at_ms: number;
  readonly seq: number;
}

export interface FaultRecord {
  readonly type: 'fault';
  /** 'kill', 'pause', 'partition', ... */
  readonly kind: string;
  /** What was hit (server name, link). */
  readonly target: string;
  readonly start_ms: number;
  /** When it was healed (null: never healed, which the runner treats as an error). */
  readonly end_ms: number | null;
  readonly detail: string;
}

export interface MetaRecord {
  readonly type: 'meta';
  readonly format: 1;
  readonly target: string;
  readonly workloads: readonly string[];
  readonly nemesis: readonly string[];
  readonly seed: number;
  readonly started_at: string;
}

export interface EndRecord {
  readonly type: 'end';
  readonly end_ms: number;
}

export type HistoryRecord = OpRecord | EventRecord | FaultRecord | MetaRecord | EndRecord;

export interface History {
  readonly meta: MetaRecord | null;
  readonly ops: readonly OpRecord[];
  readonly events: readonly EventRecord[];
  readonly faults: readonly FaultRecord[];
  readonly end_ms: number;
}

/** Serializes a history as JSON lines: meta, ops, events, faults, end. */
export function formatHistory(h: History): string {
  const lines: string[] = [];
  if (h.meta !== null) lines.push(JSON.stringify(h.meta));
  for (const o of h.ops) lines.push(JSON.stringify(o));
  for (const e of h.events) lines.push(JSON.stringify(e));
  for (const f of h.faults) lines.push(JSON.stringify(f));
  lines.push(JSON.stringify({ type: 'end', end_ms: h.end_ms } satisfies EndRecord));
  return lines.join('\n') + '\n';
}

export class HistoryFormatError extends Error {
  constructor(line: number, message: string) {
    super(`history line ${line}: ${message}`);
    this.name = 'HistoryFormatError';
  }
}

const MODELS: readonly ModelName[] = ['register', 'queue', 'lock', 'multi'];
const OUTCOMES: readonly Outcome[] = ['ok', 'fail', 'unknown'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(r: Record<string, unknown>, k: string, line: number): number {
  const v = r[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HistoryFormatError(line, `${k} must be a finite number`);
  return v;
}

function numOrNull(r: Record<string, unknown>, k: string, line: number): number | null {
  return r[k] === null || r[k] === undefined ? null : num(r, k, line);
}

function str(r: Record<string, unknown>, k: string, line: number): string {
  const v = r[k];
  if (typeof v !== 'string') throw new HistoryFormatError(line, `${k} must be a string`);
  return v;
}

function objOrNull(r: Record<string, unknown>, k: string, line: number): JsonObject | null {
  const v = r[k];
  if (v === null || v === undefined) return null;
  if (!isObject(v)) throw new HistoryFormatError(line, `${k} must be an object or null`);
  return v as JsonObject;
}

/** Validates one op line (the fields the checker relies on). */
function parseOp(r: Record<string, unknown>, line: number): OpRecord {
  const model = str(r, 'model', line) as ModelName;
  if (!MODELS.includes(model)) throw new HistoryFormatError(line, `unknown model ${JSON.stringify(model)}`);
  const outcome = str(r, 'outcome', line) as Outcome;
  if (!OUTCOMES.includes(outcome)) throw new HistoryFormatError(line, `unknown outcome ${JSON.stringify(outcome)}`);
  const complete_ms = numOrNull(r, 'complete_ms', line);
  const invoke_ms = num(r, 'invoke_ms', line);
  if ((complete_ms === null) !== (outcome === 'unknown')) throw new HistoryFormatError(line, 'complete_ms is null exactly when the outcome is unknown');
  if (complete_ms !== null && complete_ms < invoke_ms) throw new HistoryFormatError(line, 'complete_ms before invoke_ms');
  const input = objOrNull(r, 'input', line);
  if (input === null) throw new HistoryFormatError(line, 'input must be an object');
  return {
    type: 'op',
    id: num(r, 'id', line),
    session: num(r, 'session', line),
    process: typeof r['process'] === 'string' ? r['process'] : '',
    model,
    key: str(r, 'key', line),
    f: str(r, 'f', line),
    input,
    outcome,
    output: objOrNull(r, 'output', line),
    error: typeof r['error'] === 'string' ? r['error'] : null,
    invoke_ms,
    complete_ms,
    sync_ms: numOrNull(r, 'sync_ms', line),
    zxid: numOrNull(r, 'zxid', line),
    invoke_seq: numOrNull(r, 'invoke_seq', line) ?? 0,
    reply_seq: numOrNull(r, 'reply_seq', line),
  };
}

function parseEvent(r: Record<string, unknown>, line: number): EventRecord {
  return {
    type: 'event',
    session: num(r, 'session', line),
    path: str(r, 'path', line),
    event: str(r, 'event', line),
    zxid: num(r, 'zxid', line),
    at_ms: num(r, 'at_ms', line),
    seq: num(r, 'seq', line),
  };
}

function parseFault(r: Record<string, unknown>, line: number): FaultRecord {
  return {
    type: 'fault',
    kind: str(r, 'kind', line),
    target: typeof r['target'] === 'string' ? r['target'] : '',
    start_ms: num(r, 'start_ms', line),
    end_ms: numOrNull(r, 'end_ms', line),
    detail: typeof r['detail'] === 'string' ? r['detail'] : '',
  };
}

/** Parses JSON lines (blank lines ignored). Throws HistoryFormatError naming the line. */
export function parseHistory(text: string): History {
  let meta: MetaRecord | null = null;
  const ops: OpRecord[] = [];
  const events: EventRecord[] = [];
  const faults: FaultRecord[] = [];
  let end_ms = 0;
  const ids = new Set<number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let r: unknown;
    try {
      r = JSON.parse(raw);
    } catch (e) {
      throw new HistoryFormatError(line, `not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!isObject(r)) throw new HistoryFormatError(line, 'not a JSON object');
    switch (r['type']) {
      case 'meta':
        meta = r as unknown as MetaRecord;
        return;
      case 'op': {
        const op = parseOp(r, line);
        if (ids.has(op.id)) throw new HistoryFormatError(line, `duplicate op id ${op.id}`);
        ids.add(op.id);
        ops.push(op);
        end_ms = Math.max(end_ms, op.complete_ms ?? op.invoke_ms);
        return;
      }
      case 'event':
        events.push(parseEvent(r, line));
        return;
      case 'fault':
        faults.push(parseFault(r, line));
        return;
      case 'end':
        end_ms = Math.max(end_ms, num(r, 'end_ms', line));
        return;
      default:
        throw new HistoryFormatError(line, `unknown record type ${JSON.stringify(r['type'])}`);
    }
  });
  return { meta, ops, events, faults, end_ms };
}
