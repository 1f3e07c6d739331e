// What every workload gets from the runner, and the recorded znode operations they share.

import type { Stat } from '../../client/index.js';
import type { JsonObject, ModelName } from '../checker/history.js';
import type { FaultProxy } from '../proxy.js';
import type { OpResult, RecordedClient, Recorder } from '../recorder.js';

export type WorkloadName = 'register' | 'queue' | 'lock' | 'ephemeral' | 'multi';
export const WORKLOAD_NAMES: readonly WorkloadName[] = ['register', 'queue', 'lock', 'ephemeral', 'multi'];

export interface ConnectOptions {
  readonly session_timeout_ms?: number;
  /** Connect here instead of the target (a per-session proxy). */
  readonly connect_string?: string;
  /** false: only a server may declare the session expired (see ClientOptions). */
  readonly expire_when_unreachable?: boolean;
}

export interface WorkloadContext {
  readonly rec: Recorder;
  /** This run's own subtree (unique per run, so runs against one server do not collide). */
  readonly root: string;
  /** A seeded stream for one worker (same seed, same choices). */
  rng(stream: string): () => number;
  /** A new recorded session, or null once the run is stopping (retries while the target is down). */
  connect(process: string, opts?: ConnectOptions): Promise<RecordedClient | null>;
  /** True once the run's time is up or the history is full: workers finish their op and return. */
  stopping(): boolean;
  /** Sleeps, cut short when the run stops. */
  pause(ms: number): Promise<void>;
  readonly session_timeout_ms: number;
  /** A proxy to one server for a session the workload wants to cut off (null: not available). */
  proxy(): Promise<FaultProxy | null>;
}

export interface Workload {
  readonly name: WorkloadName;
  readonly workers: number;
  /** Creates what the workers need; recorded where the checker needs the initial state. */
  setup(ctx: WorkloadContext, admin: RecordedClient): Promise<void>;
  run(ctx: WorkloadContext, index: number): Promise<void>;
  /** After healing: reads the final state (synced), so lost writes show. */
  final(ctx: WorkloadContext, reader: RecordedClient): Promise<void>;
}

export function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/** A session that can no longer be used (its requests would all fail). */
export function sessionGone(c: RecordedClient): boolean {
  return c.client.state === 'expired' || c.client.state === 'closed';
}

/** What a getData saw, as a register read output. */
export function readOutput(v: { data: Buffer | null; stat: Stat }): JsonObject {
  return { exists: true, value: v.data?.toString('utf8') ?? '', version: v.stat.version, mzxid: v.stat.mzxid };
}

const ABSENT_OUTPUT: JsonObject = { exists: false };
const absentOnNoNode = (code: string): JsonObject | null => (code === 'NONODE' ? ABSENT_OUTPUT : null);

export interface ReadSpec {
  readonly model: ModelName;
  readonly key: string;
  readonly path: string;
  /** Input fields besides the path (multi: {path}). */
  readonly input?: JsonObject;
  readonly synced: boolean;
  readonly watch?: boolean;
}

/** getData recorded as a register read (NONODE = absent); after a sync when asked. */
export function recordedRead(c: RecordedClient, r: ReadSpec): Promise<OpResult<{ data: Buffer | null; stat: Stat }>> {
  const sync = r.synced ? c.sync(r.path) : undefined;
  const watch = r.watch === true ? c.watcher() : undefined;
  return c.run(
    { model: r.model, key: r.key, f: 'read', input: r.input ?? {}, sync },
    (opts) => c.client.getData(r.path, { ...opts, watch }),
    readOutput,
    absentOnNoNode,
  );
}

/** setData recorded as a register write (version -1: unconditional). */
export function recordedWrite(c: RecordedClient, model: ModelName, key: string, path: string, value: string, version: number, input: JsonObject = {}): Promise<OpResult<Stat>> {
  return c.run(
    { model, key, f: 'write', input: { ...input, value, version } },
    (opts) => c.client.setData(path, value, version, opts),
    (stat) => ({ version: stat.version, mzxid: stat.mzxid }),
  );
}

/** create recorded as a register create. */
export function recordedCreate(c: RecordedClient, model: ModelName, key: string, path: string, value: string, ephemeral: boolean, input: JsonObject = {}): Promise<OpResult<string>> {
  return c.run(
    { model, key, f: 'create', input: { ...input, value } },
    (opts) => c.client.create(path, value, { ...opts, mode: ephemeral ? 'ephemeral' : 'persistent' }),
    () => ({}),
  );
}

/** Unique values: a process name and a counter. */
export class ValueSource {
  private n = 0;
  constructor(private readonly prefix: string) {}
  next(): string {
    return `${this.prefix}-${++this.n}`;
  }
}
