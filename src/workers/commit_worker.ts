// The commit worker: the replica's single writer. At start it recovers the tree and sessions
// (newest snapshot + log), reports the zxid to the supervisor and waits for 'serve' (every shard
// has recovered the same state by then). Then it drains the shards' write rings, runs the sans-IO
// CommitCore (prep -> zxid -> apply), logs every txn with group commit, and publishes on the
// commit stream only what is durable. Snapshots are encoded in slices here and written by a
// piscina task.
//
// Loop invariant: at most one log write (write + fdatasync) is in flight; while it is, requests
// keep being prepped into the next batch (pipelining) until that batch reaches its bounds.

import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CommitCore, type Origin, type Publication } from '../commit/commit_core.js';
import { GroupCommit, type Batch } from '../commit/group_commit.js';
import type { ServerConfig } from '../config/server_config.js';
import { ensureDataDir, listDataDir, loadOrCreateSecret } from '../log/data_dir.js';
import { describeFsError, FsyncDelay, NODE_LOG_FS } from '../log/log_fs.js';
import { LogWriter } from '../log/log_writer.js';
import { recover, zeroRunBytesFor, type Recovered } from '../recovery/recovery.js';
import { JuteReader, JuteWriter } from '../protocol/jute.js';
import { isMalformed, readServerRequest } from '../protocol/messages.js';
import { Ring } from '../ring/ring.js';
import { Snapshotter } from '../snapshot/snapshotter.js';
import { LivenessWriter, readLivenessFile } from '../session/liveness_file.js';
import { resumeTimeouts } from '../session/resume.js';
import { CommitMetrics } from '../metrics/commit_metrics.js';
import type { WriteRequest } from '../tree/prep.js';
import { decodeAuthId } from './auth_frame.js';
import { Doorbell } from './doorbell.js';
import { HeadReader, HeadWriter, LinkReader, LinkWriter } from './link.js';
import { CommitStream, NO_SHARD, ShardToCommit } from './link_kinds.js';
import type { WorkerInit } from './topology.js';
import { serveControl, type StatsDetail } from './control.js';

const POLL_FRAMES_MAX = 1024;
const IDLE_WAIT_MS_MAX = 50;
/** Snapshot encoding slice per loop turn: ~1 ms of the commit thread (~1 us per node, BENCHMARKS.md). */
const SNAPSHOT_NODES_PER_STEP = 1000;

const nowUs = (): number => performance.now() * 1000;

interface FlushResult {
  seq: number;
  error: unknown;
}

class CommitWorker {
  private readonly core: CommitCore;
  private readonly gc: GroupCommit;
  private readonly snapshots: Snapshotter;
  private readonly inputs: LinkReader[];
  private readonly stream: LinkWriter;
  private readonly doorbell: Doorbell;
  private readonly head = new HeadWriter();
  private readonly reader = new HeadReader();
  private readonly body = new JuteWriter(256);
  private current_shard = 0;
  private stopping = false;
  /** Set by the completion of the write in flight; consumed by the loop. */
  private flushed: FlushResult | null = null;
  private flush_started_us = 0;
  /** Frames decoded per shard ring (for stats). */
  readonly frames_in: number[];
  fsync_us_max = 0;
  fsync_us_total = 0;
  /** Lock-free counters for /metrics: batch sizes, fsync latency, snapshots. */
  private readonly metrics: CommitMetrics;
  /** Size of the batch being flushed, counted in the metrics once it is durable. */
  private flush_txns = 0;
  private flush_bytes = 0;
  /** Session liveness (session/liveness_file.ts): rewritten at most once per tick, when changed. */
  private readonly liveness: LivenessWriter;
  private liveness_version = -1;
  private next_liveness_ms = 0;
  private liveness_warned_ms = -Infinity;

  constructor(
    private readonly init: WorkerInit,
    recovered: Recovered,
    private writer: LogWriter | null,
    secret: Uint8Array,
  ) {
    const { config, topology } = init;
    const reap_interval_ms = config.container_check_interval_ms;
    this.core = new CommitCore(
      {
        server_id: config.server_id,
        tick_ms: config.tick_time_ms,
        ttl_enabled: config.extended_types_enabled,
        secret,
        reap_interval_ms,
        reap_per_check_max: Math.max(1, Math.ceil((config.container_max_per_minute * reap_interval_ms) / 60_000)),
      },
      { now_ms: () => Date.now() },
      { tree: recovered.tree, sessions: resumeSessions(recovered, config.data_dir) },
    );
    this.liveness = new LivenessWriter(NODE_LOG_FS, { dir: config.data_dir, fsync: config.fsync === 'always' });
    this.gc = new GroupCommit(
      { txns_max: config.commit_batch_txns_max, bytes_max: config.commit_batch_bytes_max, wait_us: config.commit_batch_wait_us },
      recovered.last_zxid,
    );
    this.doorbell = new Doorbell(topology.commit_doorbell);
    this.metrics = new CommitMetrics(topology.metrics.commit);
    if (recovered.snapshot !== null) {
      this.metrics.recoveredFrom(recovered.snapshot.zxid, statSync(recovered.snapshot.path).mtimeMs);
    }
    this.snapshots = new Snapshotter(
      {
        dir: config.data_dir,
        log_dir: config.data_log_dir,
        purge_interval_ms: config.purge_interval_hours <= 0 ? config.purge_interval_hours : config.purge_interval_hours * 3_600_000,
        published: (zxid, ms) => this.metrics.snapshotSaved(zxid, ms),
        fsync: config.fsync === 'always',
        snap_count: config.snap_count,
        retain: config.snap_retain_count,
        nodes_per_step: SNAPSHOT_NODES_PER_STEP,
        random: Math.random,
        now_ms: Date.now,
        info: (m) => console.log(`waitfree: ${m}`),
        warn: (m) => console.warn(`waitfree: warning: ${m}`),
        wake: () => this.doorbell.ring(),
      },
      NODE_LOG_FS,
      recovered.replayed,
    );
    this.inputs = topology.shard_to_commit.map((sab) => new LinkReader(Ring.attachConsumer(sab, 0)));
    this.frames_in = this.inputs.map(() => 0);
    const shard_bells = topology.shard_doorbells.map((sab) => new Doorbell(sab));
    this.stream = new LinkWriter(Ring.attachProducer(topology.commit_stream), shard_bells);
    if (writer === null) this.core.setReadOnly('the txn log could not be opened');
  }

  async run(): Promise<void> {
    // A pending Atomics.waitAsync does not keep a worker alive; this timer does.
    const keepalive = setInterval(() => {}, 1 << 30);
    while (!this.stopping) {
      const seen = this.doorbell.seq();
      this.settleFlush();
      const frames = this.stream.blocked ? 0 : this.pollInputs(); // reads only what group commit has room for
      if (Date.now() >= this.core.next_tick_ms()) this.core.tick();
      this.maybeWriteLiveness();
      this.stage();
      this.maybeFlush();
      this.snapshots.step(this.core.tree, () => this.core.sessionStates(), this.gc.durable_zxid, this.core.read_only === null);
      this.gc.release(this.publish);
      this.stream.flush();
      if (this.stream.blocked) {
        await this.stream.drainAsync(IDLE_WAIT_MS_MAX);
        continue;
      }
      if (frames === 0 && !this.snapshots.busy && this.flushed === null) {
        await this.doorbell.sleep(seen, this.sleepMs(), () => this.hasWork());
      }
    }
    clearInterval(keepalive);
  }

  private hasWork(): boolean {
    if (this.flushed !== null) return true;
    return !this.gc.full && this.inputs.some((r) => r.hasData());
  }

  private sleepMs(): number {
    let until_ms = Math.min(IDLE_WAIT_MS_MAX, this.core.next_tick_ms() - Date.now());
    const due_us = this.gc.due_at_us();
    if (due_us !== null) until_ms = Math.min(until_ms, (due_us - nowUs()) / 1000);
    return Math.max(0.05, until_ms);
  }

  /** Rewrites the liveness file once per tick when a session was added, removed or touched. */
  private maybeWriteLiveness(): void {
    const now = Date.now();
    const version = this.core.sessions.version;
    if (now < this.next_liveness_ms || version === this.liveness_version || this.liveness.busy) return;
    if (this.core.read_only !== null) return;
    this.next_liveness_ms = now + this.init.config.tick_time_ms;
    void this.liveness.write(this.core.liveness(), (e) => this.livenessFailed(e)).then((ok) => {
      if (ok) this.liveness_version = version;
    });
  }

  private livenessFailed(e: unknown): void {
    const now = Date.now();
    if (now - this.liveness_warned_ms < 60_000) return;
    this.liveness_warned_ms = now;
    console.warn(
      `waitfree: warning: cannot write the session liveness file (${describeFsError(e)}); after a restart sessions may get more time than they had left`,
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.doorbell.ring();
    if (!this.liveness.busy && this.core.read_only === null) await this.liveness.write(this.core.liveness(), (e) => this.livenessFailed(e));
    await this.snapshots.close();
    await this.writer?.close();
  }

  /** Moves the core's publications into group commit (txns become log records). */
  private stage(): void {
    const pubs = this.core.take();
    if (pubs.length === 0) return;
    let txns = 0;
    for (const p of pubs) if (p.kind === 'txn') txns++;
    this.gc.add(pubs, nowUs());
    this.snapshots.countTxns(txns);
  }

  private maybeFlush(): void {
    const writer = this.writer;
    if (writer === null || !this.gc.due(nowUs())) return;
    const batch: Batch = this.gc.take(nowUs());
    this.flush_txns = batch.count;
    this.flush_bytes = batch.end - batch.start;
    this.flush_started_us = nowUs();
    writer.append(batch.bytes, batch.start, batch.end, batch.first_zxid).then(
      () => this.onFlushed({ seq: batch.seq, error: null }),
      (error: unknown) => this.onFlushed({ seq: batch.seq, error }),
    );
  }

  private onFlushed(result: FlushResult): void {
    this.flushed = result;
    this.doorbell.ring();
  }

  private settleFlush(): void {
    const r = this.flushed;
    if (r === null) return;
    this.flushed = null;
    const took_us = nowUs() - this.flush_started_us;
    this.fsync_us_total += took_us;
    if (took_us > this.fsync_us_max) this.fsync_us_max = took_us;
    this.metrics.fsync(took_us / 1000);
    if (r.error === null) {
      this.gc.complete(r.seq);
      this.metrics.batch(this.flush_txns, this.flush_bytes);
      return;
    }
    this.gc.fail(r.seq);
    this.diskFault(r.error);
  }

  /** A failed write or fsync: no write is acknowledged any more; reads go on. */
  private diskFault(error: unknown): void {
    const what = describeFsError(error);
    const reason = `the txn log cannot be written: ${what}`;
    this.core.setReadOnly(reason);
    this.snapshots.abort();
    console.error(
      `waitfree: FATAL DISK ERROR: ${reason}. This replica no longer accepts writes (clients get NOTREADONLY) ` +
        `and keeps serving reads. Writes whose batch failed were not acknowledged. Fix the disk (${diskNames(this.init.config)}) and restart.`,
    );
    parentPort?.postMessage({ type: 'disk_fault', error: reason });
  }

  /** Reads the shards' rings, at most as many frames as group commit has room for (a frame makes
   *  at most one txn), staging after each ring so the room is current. */
  private pollInputs(): number {
    let total = 0;
    for (let i = 0; i < this.inputs.length; i++) {
      const room = Math.min(POLL_FRAMES_MAX, this.gc.txn_room());
      if (room === 0) break;
      this.current_shard = i;
      const n = this.inputs[i].poll(this.onFrame, room);
      this.frames_in[i] += n;
      total += n;
      this.stage();
    }
    return total;
  }

  private readonly onFrame = (bytes: Uint8Array, start: number, end: number): void => {
    const r = this.reader.reset(bytes, start, end);
    const shard = this.current_shard;
    const kind = r.u8();
    const conn_id = r.u32();
    switch (kind) {
      case ShardToCommit.REQUEST: {
        const session_id = r.i64();
        const request = readServerRequest(new JuteReader(bytes, r.offset, end));
        const origin: Origin = { shard, conn_id, xid: request.header.xid };
        // multi's decoded body is { ops }; prep takes the op list. A body that did not decode
        // goes to prep as is (the shard forwards only writes whose prep makes it an error txn).
        const body = isMalformed(request) ? request : request.op === 'multi' ? request.body.ops : request.body;
        this.core.request(origin, session_id, request.header.type, body as WriteRequest | null);
        break;
      }
      case ShardToCommit.SESSION_CREATE:
        this.core.createSession({ shard, conn_id, xid: 0 }, r.i32());
        break;
      case ShardToCommit.SESSION_REATTACH: {
        const session_id = r.i64();
        const timeout_ms = r.i32();
        this.core.reattach({ shard, conn_id, xid: 0 }, session_id, r.copy(16), timeout_ms);
        break;
      }
      case ShardToCommit.AUTH_ADD: {
        this.core.addAuth(shard, conn_id, decodeAuthId(bytes, r.offset, end));
        break;
      }
      case ShardToCommit.TOUCH: {
        const ids: bigint[] = [];
        for (let n = conn_id; n > 0; n--) ids.push(r.i64());
        this.core.touch(ids);
        break;
      }
      case ShardToCommit.CONN_GONE:
        this.core.connGone(shard, conn_id, r.i64());
        break;
      default:
        throw new Error(`commit worker: unknown frame kind ${kind} from shard ${shard}`);
    }
  };

  private origin(kind: number, origin: Origin | null): HeadWriter {
    const h = this.head.begin(kind);
    if (origin === null) return h.u8(NO_SHARD).u32(0).i32(0);
    return h.u8(origin.shard).u32(origin.conn_id).i32(origin.xid);
  }

  /** Sends one released publication; a txn's body is its log record payload (encoded once). */
  private readonly publish = (p: Publication, body: Uint8Array | null, start: number, end: number): void => {
    switch (p.kind) {
      case 'txn':
        this.stream.send(this.origin(CommitStream.TXN, p.origin), body!, start, end);
        break;
      case 'session':
        this.origin(CommitStream.SESSION, p.origin).i64(p.session_id).i32(p.timeout_ms).raw(p.passwd).u8(p.ok ? 1 : 0);
        this.stream.send(this.head);
        break;
      case 'sync':
        this.body.reset();
        this.body.writeUString(p.path);
        this.stream.send(this.origin(CommitStream.SYNC, p.origin), this.body.view_bytes());
        break;
      case 'close_conn':
        this.stream.send(this.head.begin(CommitStream.CLOSE_CONN).u8(p.shard).u32(p.conn_id).i32(0));
        break;
      case 'error':
        this.stream.send(this.origin(CommitStream.ERROR, p.origin).i32(p.err));
        break;
    }
  };

  /** Counters always; the session table and ephemerals (O(sessions), O(ephemerals) on this, the
   *  write path's, thread) only when a command asks for them (cons/stat, dump). */
  stats(detail: StatsDetail): Record<string, unknown> {
    const tree = this.core.tree;
    return {
      last_zxid: tree.last_zxid,
      node_count: tree.node_count,
      approximate_data_size: tree.approximate_data_size,
      ephemerals_count: tree.ephemerals_count,
      sessions: this.core.sessions.size,
      ephemerals: detail.ephemerals ? this.core.ephemeralsBySession() : [],
      session_list: detail.sessions ? this.core.sessionList() : [],
      frames_in: this.frames_in,
      read_only: this.core.read_only,
      durable_zxid: this.gc.durable_zxid,
      log_batches: this.gc.batches,
      log_txns: this.gc.txns,
      log_bytes: this.writer?.bytes_written ?? 0,
      log_segment: this.writer?.current_segment ?? null,
      fsync: this.init.config.fsync,
      flush_us_max: Math.round(this.fsync_us_max),
      flush_us_avg: this.gc.batches === 0 ? 0 : Math.round(this.fsync_us_total / this.gc.batches),
      ...this.snapshots.stats(),
    };
  }
}

// ---- start-up: recover, report, wait for 'serve', open the log, run ----

function diskNames(config: ServerConfig): string {
  return config.data_log_dir === config.data_dir ? config.data_dir : `${config.data_dir}, ${config.data_log_dir}`;
}

function post(message: Record<string, unknown>): void {
  parentPort?.postMessage(message);
}

function recoverState(config: ServerConfig): Recovered {
  ensureDataDir(config.data_dir);
  ensureDataDir(config.data_log_dir);
  const started = performance.now();
  const state = recover({ dir: config.data_dir, log_dir: config.data_log_dir, track_sessions: true, warn: (m) => console.warn(`waitfree: warning: ${m}`), zero_run_bytes: zeroRunBytesFor(config) });
  const ms = Math.round(performance.now() - started);
  const from = state.snapshot === null ? 'no snapshot' : `snapshot 0x${state.snapshot.zxid.toString(16)}`;
  console.log(
    `waitfree: recovered zxid 0x${state.last_zxid.toString(16)} from ${from} + ${state.replayed} logged txns ` +
      `(${state.tree.node_count} znodes, ${state.sessions.size} sessions) in ${ms} ms`,
  );
  return state;
}

/**
 * The recovered sessions with what was left of their timeouts (session/resume.ts), from the log's
 * txn times and the liveness file. Logs one line saying where the estimate came from.
 */
function resumeSessions(state: Recovered, dir: string): Map<bigint, { timeout_ms: number; passwd: Uint8Array; remaining_ms: number }> {
  const read = readLivenessFile(dir);
  if (!read.ok && !(read.missing && state.sessions.size === 0)) {
    console.warn(`waitfree: warning: no session liveness table (${read.reason}); recovered sessions without logged txns get their whole timeout`);
  }
  const liveness = read.ok ? read.liveness : null;
  const last_known_ms = Math.max(state.last_time_ms, liveness?.written_ms ?? 0);
  const resumed = resumeTimeouts({ sessions: state.sessions, last_txn_ms: state.session_last_txn_ms, liveness, last_known_ms });
  const out = new Map<bigint, { timeout_ms: number; passwd: Uint8Array; remaining_ms: number }>();
  for (const [id, s] of state.sessions) out.set(id, { ...s, remaining_ms: resumed.remaining_ms.get(id) ?? s.timeout_ms });
  if (state.sessions.size > 0) {
    console.log(
      `waitfree: ${state.sessions.size} sessions resume with the time they had left ` +
        `(${resumed.overdue} already due, ${resumed.unknown} unknown so given their whole timeout)`,
    );
  }
  return out;
}

/** Opens the log for appending; on failure the replica starts read-only (loudly). */
async function openLog(config: ServerConfig, state: Recovered): Promise<LogWriter | null> {
  try {
    for (const tmp of listDataDir(config.data_dir).tmp_snapshots) await NODE_LOG_FS.unlink(tmp);
    if (state.truncate !== null && (state.tail === null || state.tail.path !== state.truncate.path)) {
      const fd = await NODE_LOG_FS.open(state.truncate.path, 'r+');
      await NODE_LOG_FS.ftruncate(fd, state.truncate.offset);
      await NODE_LOG_FS.fdatasync(fd);
      await NODE_LOG_FS.close(fd);
    }
    return await LogWriter.open(
      NODE_LOG_FS,
      {
        dir: config.data_log_dir,
        segment_bytes: config.log_segment_bytes,
        fsync: config.fsync === 'always',
        sync_method: config.log_sync_method,
        fsync_delay: FsyncDelay.fromConfig(config.log_fsync_delay_us, config.data_dir),
        now_ms: Date.now,
      },
      state.tail,
    );
  } catch (e) {
    const reason = `the txn log in ${config.data_log_dir} cannot be opened for writing: ${describeFsError(e)}`;
    console.error(`waitfree: FATAL DISK ERROR: ${reason}. Serving reads only (writes get NOTREADONLY); fix the disk and restart.`);
    post({ type: 'disk_fault', error: reason });
    return null;
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const config = init.config;
  let worker: CommitWorker | null = null;
  let serve: () => void = () => {};
  const serve_asked = new Promise<void>((resolve) => (serve = resolve));
  serveControl({
    stats: (detail: StatsDetail) => worker?.stats(detail) ?? { starting: true },
    stop: async () => {
      if (worker !== null) await worker.stop();
      else process.exit(0);
    },
    other: (m) => {
      if ((m as { type?: string }).type === 'serve') serve();
    },
  });
  let state: Recovered;
  let secret: Uint8Array;
  try {
    state = recoverState(config);
    secret = loadOrCreateSecret(config.data_dir);
  } catch (e) {
    post({ type: 'startup_failed', error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  }
  post({
    type: 'recovered',
    role: 'commit',
    zxid: state.last_zxid,
    snapshot_zxid: state.snapshot?.zxid ?? -1,
    nodes: state.tree.node_count,
  });
  await serve_asked;
  if (config.purge_interval_hours === 0) {
    console.warn('waitfree: warning: autopurge.purgeInterval=0: old snapshots and log segments are never deleted; the disk will fill up.');
  }
  if (config.fsync === 'none') {
    console.warn(`waitfree: WARNING: ${config.force_sync === 'no' ? 'forceSync=no' : 'waitfree.fsync=none'}: the txn log is never synced; a machine crash loses acknowledged writes. For experiments only.`);
  }
  const writer = await openLog(config, state);
  worker = new CommitWorker(init, state, writer, secret);
  post({ type: 'serving' });
  await worker.run();
}

main().catch((e: unknown) => {
  console.error('commit worker failed:', e);
  process.exit(70);
});
