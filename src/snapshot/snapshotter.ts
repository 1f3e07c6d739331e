// Drives background snapshots for the commit worker: when to take one (every ~snapCount txns,
// jittered as ZooKeeper does so that replicas do not all snapshot at once), the sliced encoding
// on the commit thread (a SnapshotSource: in the server, a pinned root of the shared tree,
// arena_snapshot_source.ts; nothing changes under the encoder), the piscina task that writes the file
// (snapshot_task.ts), publishing it (rename) once the log is durable up to its zxid, and purging
// what the newest snapshots no longer need.
//
// One snapshot at a time; if the trigger fires while one is running it waits ("too busy to
// snap" in ZooKeeper). A failed snapshot (e.g. ENOSPC) is logged and retried at the next trigger;
// it never stops writes (the log is what acknowledges them).

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { listDataDir, snapshotName, snapshotTmpName } from '../log/data_dir.js';
import { describeFsError, type LogFs } from '../log/log_fs.js';
import type { Chunk, SessionState } from './snapshot_format.js';
import { purgePlan } from './purge.js';
import type { SnapshotTaskInput, SnapshotTaskMessage, SnapshotTaskOutput } from './snapshot_task.js';

/** A snapshot being encoded in slices (SnapshotEncoder over a heap tree, ArenaSnapshotEncoder). */
export interface SnapshotEncoding {
  readonly zxid: number;
  readonly node_count: number;
  /** Encodes up to nodes_max more nodes; true once everything is encoded. */
  step(nodes_max: number): boolean;
  take(): Chunk[];
  abort(): void;
}

/** Where snapshots come from: begin() captures a state (e.g. pins a root), end() lets it go. */
export interface SnapshotSource {
  begin(sessions: SessionState[], created_ms: number): SnapshotEncoding;
  /** Called once per begin(), when the encoding is complete or abandoned. */
  end(encoding: SnapshotEncoding): void;
}

export interface SnapshotterOptions {
  /** dataDir: snapshots. */
  dir: string;
  /** dataLogDir: log segments (purged with the snapshots that needed them). */
  log_dir: string;
  /** Called when a snapshot of the tree at `zxid` is in place (renamed); it took `duration_ms`. */
  published?(zxid: number, duration_ms: number): void;
  fsync: boolean;
  /** ZooKeeper's snapCount: a snapshot every snapCount/2 + rand(snapCount/2) txns. */
  snap_count: number;
  /** autopurge.snapRetainCount. */
  retain: number;
  /** autopurge.purgeInterval in ms: -1 = purge after every snapshot, 0 = never, N = at most every N ms. */
  purge_interval_ms: number;
  /** Nodes encoded per step() (bounds the time one step takes on the commit thread). */
  nodes_per_step: number;
  random(): number;
  now_ms(): number;
  info(message: string): void;
  warn(message: string): void;
  /** Called from callbacks (acks, task end, publish end) so the owner's loop runs step() again. */
  wake(): void;
}

/** Chunks (of ~1 MiB) sent but not yet written by the task before encoding pauses. */
const UNACKED_CHUNKS_MAX = 8;
/** The snapshot thread exits after this long without a snapshot to write. */
const SNAPSHOT_THREAD_IDLE_MS = 5_000;

type Phase = 'encoding' | 'writing' | 'written' | 'publishing';

interface Job {
  zxid: number;
  encoder: SnapshotEncoding;
  source: SnapshotSource;
  /** source.end() was called. */
  ended: boolean;
  port: MessagePort;
  unacked: number;
  phase: Phase;
  tmp_path: string;
  started_ms: number;
  bytes: number;
}

export class Snapshotter {
  private pool: Piscina | null = null;
  private job: Job | null = null;
  private txns_since = 0;
  /** When purge() last ran (with a positive purge interval). */
  private last_purge_ms = -Infinity;
  /** The purge running or last run: purges are serialized (the start's and a snapshot's must not
   *  unlink the same files). Never rejects. */
  private purging: Promise<void> = Promise.resolve();
  private threshold: number;
  /** Snapshots published by this process, for stats. */
  published = 0;
  last_published_zxid = -1;

  constructor(
    private readonly opts: SnapshotterOptions,
    private readonly fs: LogFs,
    /** Txns already in the log after the newest snapshot (replayed at recovery). */
    txns_since_snapshot: number,
  ) {
    this.threshold = this.roll();
    this.txns_since = txns_since_snapshot;
  }

  private roll(): number {
    const half = Math.floor(this.opts.snap_count / 2);
    return Math.max(1, half + Math.floor(this.opts.random() * Math.max(1, this.opts.snap_count - half)));
  }

  /** Start a snapshot at the next step (a Zab leader needs one for a SNAP sync). */
  requestNow(): void {
    this.txns_since = Math.max(this.txns_since, this.threshold);
  }

  countTxns(n: number): void {
    this.txns_since += n;
  }

  /** There is encoding to do right now (the owner should not go to sleep). */
  get busy(): boolean {
    return this.job !== null && this.job.phase === 'encoding' && this.job.unacked < UNACKED_CHUNKS_MAX;
  }

  get running(): boolean {
    return this.job !== null;
  }

  /**
   * One turn of work: start a snapshot when due, encode a slice, publish a written snapshot
   * once the log is durable up to its zxid. `source`/`sessions` are read only when starting.
   */
  step(source: SnapshotSource, sessions: () => SessionState[], durable_zxid: number, writes_allowed: boolean): void {
    if (this.job === null) {
      if (writes_allowed && this.txns_since >= this.threshold) this.start(source, sessions());
      return;
    }
    const job = this.job;
    if (job.phase === 'encoding' && job.unacked < UNACKED_CHUNKS_MAX) this.encodeSlice(job);
    else if (job.phase === 'written' && durable_zxid >= job.zxid) this.publish(job);
  }

  private start(source: SnapshotSource, sessions: SessionState[]): void {
    this.txns_since = 0;
    this.threshold = this.roll();
    const encoder = source.begin(sessions, this.opts.now_ms());
    const zxid = encoder.zxid;
    const tmp_path = join(this.opts.dir, snapshotTmpName(zxid));
    const { port1, port2 } = new MessageChannel();
    const job: Job = { zxid, encoder, source, ended: false, port: port1, unacked: 0, phase: 'encoding', tmp_path, started_ms: this.opts.now_ms(), bytes: 0 };
    this.job = job;
    port1.on('message', (m: { kind: string }) => {
      if (m.kind === 'ack') job.unacked--;
      this.opts.wake();
    });
    const input: SnapshotTaskInput = { port: port2, tmp_path, fsync: this.opts.fsync };
    this.pool ??= new Piscina({
      // From dist/snapshot/ or the commit worker's bundle in dist/bundle/ alike (rolldown.config.mjs).
      filename: new URL('../snapshot/snapshot_task.js', import.meta.url).href,
      // One thread while snapshots are written; it exits when idle (~9 MiB of RSS a thread),
      // and the next snapshot, at least snapCount/2 txns later, starts a fresh one.
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: SNAPSHOT_THREAD_IDLE_MS,
    });
    (this.pool.run(input, { transferList: [port2] }) as Promise<SnapshotTaskOutput>).then(
      (out) => this.onTaskDone(job, out),
      (e: unknown) => this.onTaskFailed(job, e),
    );
  }

  private encodeSlice(job: Job): void {
    const finished = job.encoder.step(this.opts.nodes_per_step);
    for (const chunk of job.encoder.take()) {
      job.unacked++;
      job.bytes += chunk.length;
      const msg: SnapshotTaskMessage = { kind: 'chunk', buffer: chunk.buffer, length: chunk.length };
      job.port.postMessage(msg, [chunk.buffer]);
    }
    if (finished) {
      job.phase = 'writing';
      this.endSource(job);
      job.port.postMessage({ kind: 'end' } satisfies SnapshotTaskMessage);
    }
  }

  /** The state the encoding read can go (a pinned root is unpinned). */
  private endSource(job: Job): void {
    if (job.ended) return;
    job.ended = true;
    job.source.end(job.encoder);
  }

  private onTaskDone(job: Job, out: SnapshotTaskOutput): void {
    if (this.job !== job) return;
    if (out.outcome === 'aborted') this.drop(job);
    else job.phase = 'written';
    this.opts.wake();
  }

  private onTaskFailed(job: Job, e: unknown): void {
    if (this.job !== job) return;
    this.opts.warn(`snapshot at zxid 0x${job.zxid.toString(16)} failed: ${describeFsError(e)}; will retry after more txns`);
    job.encoder.abort();
    this.drop(job);
    this.opts.wake();
  }

  private drop(job: Job): void {
    this.endSource(job);
    job.port.close();
    if (this.job === job) this.job = null;
  }

  private publish(job: Job): void {
    job.phase = 'publishing';
    const final_path = join(this.opts.dir, snapshotName(job.zxid));
    void (async () => {
      try {
        await this.fs.rename(job.tmp_path, final_path);
        if (this.opts.fsync) await this.fs.fsyncDir(this.opts.dir);
        this.published++;
        this.last_published_zxid = job.zxid;
        const ms = this.opts.now_ms() - job.started_ms;
        this.opts.published?.(job.zxid, ms);
        this.opts.info(`snapshot ${final_path}: ${job.encoder.node_count} znodes, ${job.bytes} bytes, ${ms} ms`);
        await this.purge();
      } catch (e) {
        this.opts.warn(`publishing snapshot ${final_path} failed: ${describeFsError(e)}`);
      } finally {
        this.drop(job);
        this.opts.wake();
      }
    })();
  }

  /**
   * Autopurge once at start, as ZooKeeper's cleanup task runs first at start: a process killed
   * between publishing a snapshot and the purge that follows it left one snapshot too many, and
   * kills in a row would otherwise pile them up. Failures are logged (the next purge retries).
   */
  purgeAtStart(): Promise<void> {
    return this.purge().catch((e: unknown) => this.opts.warn(`autopurge at start failed: ${describeFsError(e)}`));
  }

  /** purgeNow() once any purge still running has ended. */
  private purge(): Promise<void> {
    const run = this.purging.then(() => this.purgeNow());
    this.purging = run.catch(() => undefined);
    return run;
  }

  private async purgeNow(): Promise<void> {
    const every_ms = this.opts.purge_interval_ms;
    if (every_ms === 0) return;
    const now = this.opts.now_ms();
    if (every_ms > 0 && now - this.last_purge_ms < every_ms) return;
    this.last_purge_ms = now;
    const plan = purgePlan(listDataDir(this.opts.dir, this.opts.log_dir), this.opts.retain);
    for (const path of [...plan.snapshots, ...plan.segments]) await this.fs.unlink(path);
    if (!this.opts.fsync) return;
    if (plan.snapshots.length > 0) await this.fs.fsyncDir(this.opts.dir);
    if (plan.segments.length > 0 && this.opts.log_dir !== this.opts.dir) await this.fs.fsyncDir(this.opts.log_dir);
  }

  /** Stops a snapshot in progress (disk fault, shutdown). */
  abort(): void {
    const job = this.job;
    if (job === null) return;
    job.encoder.abort();
    this.endSource(job);
    if (job.phase === 'encoding' || job.phase === 'writing') job.port.postMessage({ kind: 'abort' } satisfies SnapshotTaskMessage);
    else this.drop(job);
  }

  async close(): Promise<void> {
    this.abort();
    const pool = this.pool;
    this.pool = null;
    if (pool !== null) await pool.destroy();
  }

  stats(): Record<string, unknown> {
    return {
      snapshots_published: this.published,
      last_snapshot_zxid: this.last_published_zxid,
      snapshot_running: this.job?.phase ?? null,
      txns_since_snapshot: this.txns_since,
      next_snapshot_after_txns: this.threshold,
    };
  }
}
