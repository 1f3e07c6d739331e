// The commit worker: the replica's single writer. At start it recovers the tree and sessions
// (newest snapshot + log), loads the shared tree (src/store/arena) from it, reports the zxid to
// the supervisor and waits for 'serve' (the shards attach to the shared tree meanwhile). Then it
// drains the shards' write rings, runs the sans-IO CommitCore (prep -> zxid -> its own working
// tree, which prep reads), logs every txn with group commit, and once a txn is committed
// (durable; under Zab also acknowledged by a quorum) the Applier applies it to the shared tree
// and publishes its result on the commit stream (APPLIED), one ROOT per release round.
// Snapshots are encoded in slices here and written by a piscina task.
//
// Loop invariant: at most one log write (write + fdatasync) is in flight; while it is, requests
// keep being prepped into the next batch (pipelining) until that batch reaches its bounds.

import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Applier } from '../commit/applier.js';
import { CommitCore, type Origin, type Publication } from '../commit/commit_core.js';
import { GroupCommit, type Batch } from '../commit/group_commit.js';
import type { ServerConfig } from '../config/server_config.js';
import { ensureDataDir, listDataDir, loadOrCreateSecret } from '../log/data_dir.js';
import { describeFsError, FsyncDelay, NODE_LOG_FS } from '../log/log_fs.js';
import { LogWriter } from '../log/log_writer.js';
import { recover, zeroRunBytesFor, type RecoveredLog, type RecoveryOptions } from '../recovery/recovery.js';
import { recoverIntoArena } from '../recovery/recovery_arena.js';
import { PendingView } from '../commit/pending_view.js';
import { ArenaSnapshotSource } from '../snapshot/arena_snapshot_source.js';
import { JuteReader, JuteWriter } from '../protocol/jute.js';
import { isMalformed, readServerRequest } from '../protocol/messages.js';
import { Op } from '../protocol/opcodes.js';
import { Ring } from '../ring/ring.js';
import { Snapshotter } from '../snapshot/snapshotter.js';
import { LivenessWriter, readLivenessFile } from '../session/liveness_file.js';
import { resumeTimeouts } from '../session/resume.js';
import { CommitMetrics } from '../metrics/commit_metrics.js';
import { ZabMetrics } from '../metrics/zab_metrics.js';
import type { WriteRequest } from '../tree/prep.js';
import { decodeAuthId } from './auth_frame.js';
import { Doorbell } from './doorbell.js';
import { HeadReader, HeadWriter, LinkReader, LinkWriter } from './link.js';
import { APPLIED_CLOSE_SESSION, APPLIED_CREATE_SESSION, APPLIED_WRITE, CommitStream, NO_SHARD, ShardToCommit } from './link_kinds.js';
import { encodeApplied } from './applied_frame.js';
import { replyOpcodeOf } from '../tree/write_reply.js';
import { TreeWriter, type RootDescriptor } from '../store/arena/index.js';
import { loadArenaFromTree, syncArenaToTree } from '../store/tree_mirror.js';
import type { Txn } from '../tree/txn.js';
import type { WorkerInit } from './topology.js';
import { serveControl, type StatsDetail } from './control.js';
import { QuorumDriver, type QuorumHost, type QuorumRole } from '../quorum/quorum_driver.js';
import { encodeCreateSession, encodeWrite } from '../quorum/forward_codec.js';
import { zabConfigFor, zabInitFor, ZAB_TICK_MS } from '../quorum/quorum_setup.js';
import { PeerTransport } from '../replication/peer_transport.js';
import { EpochFile } from '../log/epoch_file.js';
import { truncateLogAfter } from '../log/truncate_log.js';
import { installSnapshot } from '../snapshot/snapshot_install.js';
import { newestSnapshot } from '../log/data_dir.js';
import { readFile } from 'node:fs/promises';
import type { Id } from '../protocol/types.js';
import type { EnsembleConfig } from '../config/ensemble_config.js';
import { ReadOnlyMode, SessionOk } from '../quorum/read_only_mode.js';
import type { ConnRef } from '../session/read_only_sessions.js';

const POLL_FRAMES_MAX = 1024;
/** Owner-index key prefixes of the containers and of the TTL nodes (layout.ts, owner index). */
const CONTAINER_OWNER_KEY = new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 0]);
const TTL_OWNER_KEY = new Uint8Array([0xff]);
const IDLE_WAIT_MS_MAX = 50;
/** What a connection has in the open root (batch_origins). */
const ROOT_TXN = 1;
const ROOT_ANSWER = 2;
/** Snapshot encoding slice per loop turn: ~1 ms of the commit thread (~1 us per node, BENCHMARKS.md). */
const SNAPSHOT_NODES_PER_STEP = 1000;

const nowUs = (): number => performance.now() * 1000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What stats() reports as the reason writes are refused while in read-only mode. */
const READ_ONLY_MODE_REASON = 'read-only mode: cut off from the quorum (readonlymode.enabled)';

interface FlushResult {
  seq: number;
  error: unknown;
}

class CommitWorker implements QuorumHost {
  core: CommitCore;
  gc: GroupCommit;
  /** Zab (ensemble mode): null for a standalone replica. */
  private quorum: QuorumDriver | null = null;
  private transport: PeerTransport | null = null;
  private zab_timer: NodeJS.Timeout | null = null;
  /** Leaders asking for a snapshot at a zxid >= min (SNAP syncs), answered once one exists. */
  private snapshot_waiters: { min_zxid: number; resolve: (s: { zxid: number; path: string }) => void }[] = [];
  private readonly snapshots: Snapshotter;
  private readonly inputs: LinkReader[];
  /** topology.net_paused_for_ring (written by the net worker). */
  private readonly net_paused_for_ring: Int32Array;
  /** topology.shard_input_stalled (one word per shard, written by that shard). */
  private readonly shard_input_stalled: Int32Array;
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
  /** readonlymode.enabled in an ensemble: serves read-only clients while cut off from a quorum. */
  private readonly read_only_mode: ReadOnlyMode | null;

  /** Applies committed txns to the shared tree, once per replica. */
  private readonly applier: Applier;
  /** The core's working tree (replaced with the core on a reload). */
  private pending!: PendingView;
  /** Snapshots encode a pinned root of the shared tree. */
  private readonly snapshot_source: ArenaSnapshotSource;
  /** Origin connections (shard * 2^32 + conn_id) with a completion in the open root: what it
   *  is (ROOT_TXN, or ROOT_ANSWER for a sync or an error, answered with the root's zxid). */
  private readonly batch_origins = new Map<number, number>();

  constructor(
    private readonly init: WorkerInit,
    recovered: RecoveredLog,
    private writer: LogWriter | null,
    private readonly secret: Uint8Array,
    tree_writer: TreeWriter,
  ) {
    this.applier = new Applier(tree_writer, recovered.last_zxid);
    this.snapshot_source = new ArenaSnapshotSource(init.topology.arena);
    const { config, topology } = init;
    this.core = this.newCore(recovered);
    this.liveness = new LivenessWriter(NODE_LOG_FS, { dir: config.data_dir, fsync: config.fsync === 'always' });
    this.gc = this.newGroupCommit(recovered.last_zxid);
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
    this.net_paused_for_ring = new Int32Array(topology.net_paused_for_ring);
    this.shard_input_stalled = new Int32Array(topology.shard_input_stalled);
    this.frames_in = this.inputs.map(() => 0);
    const shard_bells = topology.shard_doorbells.map((sab) => new Doorbell(sab));
    this.stream = new LinkWriter(Ring.attachProducer(topology.commit_stream), shard_bells);
    if (writer === null) this.core.setReadOnly('the txn log could not be opened');
    this.read_only_mode = config.ensemble !== null && config.read_only_mode_enabled ? this.newReadOnlyMode() : null;
  }

  private newReadOnlyMode(): ReadOnlyMode {
    const config = this.init.config;
    return new ReadOnlyMode(
      {
        server_id: config.server_id,
        tick_ms: config.tick_time_ms,
        secret: this.secret,
        is_global: (id) => this.core.sessions.has(id),
        log: (line) => this.log(line),
      },
      {
        closeConn: (c) => this.closeConn(c.shard, c.conn_id),
        answerSession: (owner, session_id, timeout_ms, passwd, ok) => {
          const origin = { shard: owner.shard, conn_id: owner.conn_id, xid: 0 };
          this.gc.add([{ kind: 'session', origin, session_id, timeout_ms, passwd, ok }], nowUs());
        },
      },
    );
  }

  private newCore(recovered: RecoveredLog): CommitCore {
    const config = this.init.config;
    const reap_interval_ms = config.container_check_interval_ms;
    const core = new CommitCore(
      {
        server_id: config.server_id,
        tick_ms: config.tick_time_ms,
        ttl_enabled: config.extended_types_enabled,
        secret: this.secret,
        reap_interval_ms,
        reap_per_check_max: Math.max(1, Math.ceil((config.container_max_per_minute * reap_interval_ms) / 60_000)),
      },
      { now_ms: () => Date.now() },
      { view: this.newPendingView(recovered.last_zxid), sessions: resumeSessions(recovered, config.data_dir) },
    );
    // A member of an ensemble creates no txn before it leads (the driver says when).
    if (config.ensemble !== null) core.follow();
    return core;
  }

  /** Prep's view: the shared tree (committed) plus the txns recorded and not yet applied. */
  private newPendingView(last_zxid: number): PendingView {
    this.pending = new PendingView(this.applier.writer.view, last_zxid);
    return this.pending;
  }

  private newGroupCommit(start_zxid: number): GroupCommit {
    const config = this.init.config;
    return new GroupCommit(
      {
        txns_max: config.commit_batch_txns_max,
        bytes_max: config.commit_batch_bytes_max,
        wait_us: config.commit_batch_wait_us,
        commit_on_durable: config.ensemble === null,
      },
      start_zxid,
    );
  }

  /** Ensemble mode: the Zab driver, its peer links and its clock. */
  async startQuorum(ensemble: EnsembleConfig, recovered: RecoveredLog): Promise<void> {
    const config = this.init.config;
    const epochs = EpochFile.readSync(config.data_dir);
    const driver = new QuorumDriver(
      zabConfigFor(config, ensemble),
      zabInitFor(epochs, recovered.snapshot?.zxid ?? 0, recovered.entries ?? []),
      this,
      { send: () => {}, disconnect: () => {} },
      recovered.last_zxid,
      config.zab_in_flight_max,
      new ZabMetrics(this.init.topology.metrics.zab),
    );
    this.quorum = driver;
    const me = ensemble.members.find((m) => m.sid === ensemble.my_sid)!;
    const transport = new PeerTransport(
      {
        sid: ensemble.my_sid,
        listen: { host: config.quorum_listen_on_all_ips ? '0.0.0.0' : me.host, port: me.quorum_port },
        peers: ensemble.members.filter((m) => m.sid !== ensemble.my_sid).map((m) => ({ sid: m.sid, host: m.host, port: m.quorum_port })),
        frame_bytes_max: config.zab_frame_bytes_max,
        queue_bytes_max: config.zab_queue_bytes_max,
        connect_retry_ms_min: 20,
        connect_retry_ms_max: 1000,
        random: Math.random,
        log: (line) => console.log(`waitfree: ${line}`),
      },
      { message: (from, msg) => driver.onMessage(from, msg), reset: (peer) => driver.onReset(peer) },
    );
    await transport.start();
    this.transport = transport;
    driver.setLinks(transport);
    driver.start();
    this.zab_timer = setInterval(() => driver.tick(), ZAB_TICK_MS);
  }

  async run(): Promise<void> {
    // A pending Atomics.waitAsync does not keep a worker alive; this timer does.
    const keepalive = setInterval(() => {}, 1 << 30);
    while (!this.stopping) {
      const seen = this.doorbell.seq();
      this.settleFlush();
      if (this.quorum !== null) {
        this.quorum.pump();
        this.stage(); // writes learners forwarded to this leader
        this.read_only_mode?.step(this.quorum.role, Date.now());
      }
      const frames = this.stream.blocked ? 0 : this.pollInputs(); // reads only what group commit has room for
      if (Date.now() >= this.core.next_tick_ms()) this.core.tick(this.inputsWaiting());
      this.maybeWriteLiveness();
      this.stage();
      this.maybeFlush();
      this.snapshots.step(this.snapshot_source, () => this.core.sessionStates(), this.snapshotSafeZxid(), this.core.read_only === null);
      this.answerSnapshotWaiters();
      this.release();
      this.stream.flush();
      if (this.stream.blocked) {
        await this.stream.drainAsync(IDLE_WAIT_MS_MAX);
        continue;
      }
      if (frames === 0 && !this.snapshots.busy && this.flushed === null && !(this.quorum?.hasWork() ?? false)) {
        await this.doorbell.sleep(seen, this.sleepMs(), () => this.hasWork());
      } else if (this.quorum !== null) {
        // Peer sockets and timers are macrotasks: a loop that only ever awaits settled promises
        // would never read the ACKs its proposals wait for.
        await yieldToEventLoop();
      }
    }
    clearInterval(keepalive);
  }

  /** A snapshot at zxid Z is published once this is >= Z: durable standalone; under Zab also
   *  committed (a snapshot must never hold a txn a new leader could truncate). */
  private snapshotSafeZxid(): number {
    if (this.quorum === null) return this.gc.durable_zxid;
    return Math.min(this.gc.durable_zxid, this.gc.committed_zxid);
  }

  /** Whether the loop can make progress now. Input frames count only while there is room to
   *  take them (group commit, and under Zab the proposals in flight): else waiting for room is
   *  the work, and it arrives as an event (an fsync, an ACK) that rings the doorbell. */
  private hasWork(): boolean {
    if (this.flushed !== null) return true;
    if (this.quorum?.hasWork()) return true;
    return this.pollRoom() > 0 && this.inputs.some((r) => r.hasData());
  }

  /** Session touches may be waiting unread: frames wait in the input rings that the pipeline has
   *  no room to take, or the net worker holds connections paused for a full ring to a shard
   *  (their pings wait in the kernel). */
  private inputsWaiting(): boolean {
    if (this.pollRoom() === 0 && this.inputs.some((r) => r.hasData())) return true;
    for (let i = 0; i < this.net_paused_for_ring.length; i++) if (Atomics.load(this.net_paused_for_ring, i) > 0) return true;
    for (let i = 0; i < this.shard_input_stalled.length; i++) if (Atomics.load(this.shard_input_stalled, i) !== 0) return true;
    return false;
  }

  private pollRoom(): number {
    return Math.min(POLL_FRAMES_MAX, this.gc.txn_room(), this.quorumRoom());
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
    if (this.zab_timer !== null) clearInterval(this.zab_timer);
    await this.transport?.close();
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
    const quorum = this.quorum;
    // A leader proposes each txn with the bytes group commit logged (a copy: the batch buffer is
    // reused once the txn is published, the core keeps it for DIFF syncs).
    this.gc.add(pubs, nowUs(), quorum === null ? undefined : (zxid, bytes, start, end) => quorum.proposeLocal(zxid, bytes.slice(start, end)));
    this.snapshots.countTxns(txns);
  }

  private maybeFlush(): void {
    const writer = this.writer;
    if (writer === null || !this.gc.due(nowUs())) return;
    const batch: Batch = this.gc.take(nowUs());
    this.flush_txns = batch.count;
    this.flush_bytes = batch.end - batch.start;
    this.flush_started_us = nowUs();
    if (this.flushInline(writer, batch)) return;
    writer.append(batch.bytes, batch.start, batch.end, batch.first_zxid).then(
      () => this.onFlushed({ seq: batch.seq, error: null }),
      (error: unknown) => this.onFlushed({ seq: batch.seq, error }),
    );
  }

  /**
   * With no request waiting in the input rings there is nothing to prep while the disk works, so
   * the batch is written and synced on this thread (LogWriter.appendInline) and settled at once:
   * no trip to libuv's pool and back, which at low load is a large part of a write's latency.
   * Under load the rings are rarely empty and the write stays async (prep goes on meanwhile).
   * False when the writer cannot do it inline (a roll, fault injection): the caller goes async.
   */
  private flushInline(writer: LogWriter, batch: Batch): boolean {
    if (this.inputs.some((r) => r.hasData())) return false;
    let result: FlushResult;
    try {
      if (!writer.appendInline(batch.bytes, batch.start, batch.end)) return false;
      result = { seq: batch.seq, error: null };
    } catch (error: unknown) {
      result = { seq: batch.seq, error };
    }
    this.flushed = result;
    this.settleFlush();
    return true;
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
      const durable = this.gc.complete(r.seq);
      this.metrics.batch(this.flush_txns, this.flush_bytes);
      this.quorum?.persisted(durable);
      return;
    }
    this.gc.fail(r.seq);
    this.diskFault(r.error);
  }

  // ---- QuorumHost: what the Zab driver asks of this worker (src/quorum/quorum_driver.ts) ----

  /** The log is busy: a write in flight, or records not yet handed to the writer. */
  get write_in_flight(): boolean {
    return this.flushed !== null || this.gc.in_flight || this.gc.has_unwritten;
  }

  persistEpochs(accepted_epoch: number, current_epoch: number): void {
    EpochFile.writeSync(this.init.config.data_dir, { accepted_epoch, current_epoch }, this.init.config.fsync === 'always');
  }

  async truncateAndReload(zxid: number): Promise<void> {
    const config = this.init.config;
    await this.closeLogForReload();
    await truncateLogAfter(NODE_LOG_FS, config.data_log_dir, zxid, {
      fsync: config.fsync === 'always',
      snapshot_dir: config.data_dir,
      zero_run_bytes: zeroRunBytesFor(config),
    });
    await this.reloadFromDisk(`truncated the log after 0x${zxid.toString(16)}`);
  }

  async installSnapshotAndReload(zxid: number, snapshot: Uint8Array): Promise<void> {
    const config = this.init.config;
    await this.closeLogForReload();
    await installSnapshot(NODE_LOG_FS, config.data_dir, config.data_log_dir, zxid, snapshot, {
      fsync: config.fsync === 'always',
      zero_run_bytes: zeroRunBytesFor(config),
    });
    await this.reloadFromDisk(`installed the leader's snapshot at 0x${zxid.toString(16)} (${snapshot.length} bytes)`);
  }

  private async closeLogForReload(): Promise<void> {
    this.snapshots.abort();
    // Everything still held can only be close_conns now (service ended before a sync).
    this.gc.abandonUncommitted();
    this.release();
    this.stream.flush();
    const writer = this.writer;
    this.writer = null;
    await writer?.close();
  }

  /** Rebuilds tree, sessions, group commit and the log writer from disk; the read workers
   *  reload the same state (CommitStream.RELOAD, in stream order). */
  private async reloadFromDisk(why: string): Promise<void> {
    const config = this.init.config;
    const state = recoverHeap(config);
    this.core = this.newCore(state);
    this.gc = this.newGroupCommit(state.last_zxid);
    this.writer = await openLog(config, state);
    if (this.writer === null) this.core.setReadOnly('the txn log could not be opened');
    this.quorum?.reloaded(state.last_zxid);
    syncArenaToTree(this.applier.writer, state.tree);
    this.applier.resetTo(state.last_zxid);
    this.stream.send(this.head.begin(CommitStream.RELOAD).u8(NO_SHARD).u32(0).i32(0).i64(BigInt(state.last_zxid)));
    this.sendRoot(this.applier.writer.last_root);
    this.stream.flush();
    console.log(`waitfree: quorum: ${why}; state reloaded at zxid 0x${state.last_zxid.toString(16)}`);
  }

  async snapshotAtLeast(min_zxid: number): Promise<{ zxid: number; bytes: Uint8Array }> {
    const found = this.snapshotOnDisk(min_zxid);
    if (found !== null) return readSnapshot(found);
    this.snapshots.requestNow();
    this.doorbell.ring();
    return new Promise((resolve, reject) => this.snapshot_waiters.push({ min_zxid, resolve: (f) => readSnapshot(f).then(resolve, reject) }));
  }

  /** The newest snapshot file of committed state at a zxid >= min_zxid, if one exists. */
  private snapshotOnDisk(min_zxid: number): { zxid: number; path: string } | null {
    const best = newestSnapshot(this.init.config.data_dir, this.snapshotSafeZxid());
    return best === null || best.zxid < min_zxid ? null : { zxid: best.zxid, path: best.path };
  }

  private answerSnapshotWaiters(): void {
    if (this.snapshot_waiters.length === 0 || this.snapshots.running) return;
    const waiting = this.snapshot_waiters;
    this.snapshot_waiters = [];
    for (const w of waiting) {
      const found = this.snapshotOnDisk(w.min_zxid);
      if (found !== null) w.resolve(found);
      else this.snapshot_waiters.push(w);
    }
    if (this.snapshot_waiters.length > 0) this.snapshots.requestNow();
  }

  remoteWrite(session_id: bigint, auth: readonly Id[], request_bytes: Uint8Array): void {
    const request = readServerRequest(new JuteReader(request_bytes, 0, request_bytes.length));
    const body = isMalformed(request) ? request : request.op === 'multi' ? request.body.ops : request.body;
    this.core.remoteRequest(session_id, request.header.xid, request.header.type, body as WriteRequest | null, auth);
  }

  closeAllClients(reason: string): void {
    const conns = this.core.ownedConnections();
    if (conns.length > 0) console.log(`waitfree: quorum: closing ${conns.length} client connections: ${reason}`);
    for (const c of conns) this.closeConn(c.shard, c.conn_id);
    this.snapshots.abort(); // a leader's snapshot may hold txns a new leader truncates
  }

  roleChanged(role: QuorumRole): void {
    post({ type: 'role', role });
    this.read_only_mode?.step(role, Date.now()); // leaving LOOKING ends read-only mode at once (ZooKeeper: roZk.shutdown())
  }

  /** stats() while in read-only mode: writes refused (isro answers "ro") yet serving. */
  private readOnlyModeStats(): Record<string, unknown> {
    if (this.read_only_mode?.active !== true || this.quorum === null) return {};
    return {
      read_only: this.core.read_only ?? READ_ONLY_MODE_REASON,
      read_only_mode: true,
      read_only_sessions: this.read_only_mode.session_count,
      quorum: { ...this.quorum.stats(), serving: true },
    };
  }

  wake(): void {
    this.doorbell.ring();
  }

  log(line: string): void {
    console.log(`waitfree: ${line}`);
  }

  /** A session request while not serving: read-only mode decides, or the connection is closed. */
  private refuseOrReadOnly(owner: ConnRef, handle: (ro: ReadOnlyMode) => void): void {
    if (this.read_only_mode === null) return this.closeConn(owner.shard, owner.conn_id);
    handle(this.read_only_mode);
  }

  /** The ok byte of a session answer: read-only sessions are told apart for the shard. */
  private sessionOkByte(ok: boolean, session_id: bigint): number {
    if (this.read_only_mode !== null) return this.read_only_mode.okByte(ok, session_id);
    return ok ? SessionOk.OK : SessionOk.REFUSED;
  }

  private closeConn(shard: number, conn_id: number): void {
    this.gc.add([{ kind: 'close_conn', shard, conn_id }], nowUs());
  }

  /** Under Zab, client writes taken per turn are bounded by the proposals a leader may have
   *  outstanding, or the forwarded writes a learner may wait for. */
  private quorumRoom(): number {
    const q = this.quorum;
    if (q === null) return Number.MAX_SAFE_INTEGER;
    if (!q.serving) return POLL_FRAMES_MAX; // read, and closed at once
    if (!q.leading) return q.forward_room;
    return Math.max(0, this.init.config.zab_in_flight_max - this.gc.pending);
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
      const room = this.pollRoom();
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
        const barrier = r.u8() !== 0;
        const request_at = r.offset;
        const request = readServerRequest(new JuteReader(bytes, r.offset, end));
        const origin: Origin = { shard, conn_id, xid: request.header.xid, barrier };
        if (this.quorum !== null && !this.quorum.leading) {
          if (!this.quorum.serving) return this.closeConn(shard, conn_id);
          const sync_path = request.header.type === Op.sync && !isMalformed(request) ? (request.body as { path: string }).path : null;
          const auth = this.core.authOf(shard, conn_id);
          this.quorum.forward(session_id, request.header.xid, origin, sync_path, encodeWrite(session_id, auth, bytes, request_at, end));
          break;
        }
        if (this.quorum !== null && !this.quorum.serving) return this.closeConn(shard, conn_id);
        // multi's decoded body is { ops }; prep takes the op list. A body that did not decode
        // goes to prep as is (the shard forwards only writes whose prep makes it an error txn).
        const body = isMalformed(request) ? request : request.op === 'multi' ? request.body.ops : request.body;
        this.core.request(origin, session_id, request.header.type, body as WriteRequest | null);
        break;
      }
      case ShardToCommit.SESSION_CREATE: {
        const timeout_ms = r.i32();
        const wants_read_only = r.u8() === 1;
        const q = this.quorum;
        if (q !== null && !q.serving) return this.refuseOrReadOnly({ shard, conn_id }, (ro) => ro.create({ shard, conn_id }, timeout_ms, wants_read_only, Date.now()));
        if (q !== null && !q.leading) {
          const origin: Origin = { shard, conn_id, xid: 0 };
          const s = this.core.newLocalSession(origin, timeout_ms);
          q.forward(s.session_id, 0, origin, null, encodeCreateSession(s.session_id, timeout_ms, s.passwd));
          break;
        }
        this.core.createSession({ shard, conn_id, xid: 0 }, timeout_ms);
        break;
      }
      case ShardToCommit.SESSION_REATTACH: {
        const session_id = r.i64();
        const timeout_ms = r.i32();
        const passwd = r.copy(16);
        const wants_read_only = r.u8() === 1;
        if (this.quorum !== null && !this.quorum.serving) {
          return this.refuseOrReadOnly({ shard, conn_id }, (ro) => ro.reattach({ shard, conn_id }, session_id, passwd, timeout_ms, wants_read_only, Date.now()));
        }
        this.core.reattach({ shard, conn_id, xid: 0 }, session_id, passwd, timeout_ms);
        this.quorum?.touch([session_id]);
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
        // In read-only mode the sessions here are local ones: no leader is to hear of them.
        if (this.read_only_mode?.touch(ids, Date.now()) !== true) this.quorum?.touch(ids);
        break;
      }
      case ShardToCommit.CONN_GONE: {
        const session_id = r.i64();
        this.core.connGone(shard, conn_id, session_id);
        this.read_only_mode?.connGone({ shard, conn_id }, session_id);
        break;
      }
      default:
        throw new Error(`commit worker: unknown frame kind ${kind} from shard ${shard}`);
    }
  };

  private origin(kind: number, origin: Origin | null): HeadWriter {
    const h = this.head.begin(kind);
    if (origin === null) return h.u8(NO_SHARD).u32(0).i32(0);
    return h.u8(origin.shard).u32(origin.conn_id).i32(origin.xid);
  }

  /** Publishes what may go out now, then the root of the txns it applied (one per round). */
  private release(): void {
    this.gc.release(this.publish);
    this.sealRoot();
  }

  private sealRoot(): void {
    const root = this.applier.seal();
    this.batch_origins.clear();
    if (root !== null) this.sendRoot(root);
  }

  private sendRoot(root: RootDescriptor): void {
    const h = this.head.begin(CommitStream.ROOT).u8(NO_SHARD).u32(0).i32(0);
    h.u32(root.gen).u32(root.znode_root).u32(root.owner_root).u32(root.node_count).i64(BigInt(root.last_zxid)).f64(root.data_bytes);
    this.stream.send(h);
  }

  /**
   * A committed txn: applied to the shared tree here, once; its result goes to the shards.
   * Invariant: a read of a connection is served from a root that holds none of the writes the
   * session sent after it. The origin answers a txn and then serves the reads queued behind it
   * from the txn's root; were the session's next write in that root too, those reads would see
   * it (and their reply zxid would run ahead of that write's). So a txn starts a new root when
   * its connection already has a completion in the open root and either the shard marked a
   * read between the two (origin.barrier) or that completion is a sync or an error, which is
   * answered with the root's zxid. Consecutive writes with no read between share a root: their
   * replies carry their own zxids, in order.
   */
  private publishTxn(origin: Origin | null, txn: Txn): void {
    if (origin !== null) {
      const key = origin.shard * 0x1_0000_0000 + origin.conn_id;
      const before = this.batch_origins.get(key);
      if (before !== undefined && (before === ROOT_ANSWER || origin.barrier !== false)) this.sealRoot();
      this.batch_origins.set(key, ROOT_TXN);
    }
    const result = this.applier.apply(txn);
    this.pending.applied(txn.header.zxid);
    this.metrics.applied();
    const op = txn.op;
    const what = op.kind === 'createSession' ? APPLIED_CREATE_SESSION : op.kind === 'closeSession' ? APPLIED_CLOSE_SESSION : APPLIED_WRITE;
    const h = this.origin(CommitStream.APPLIED, origin).i64(BigInt(txn.header.zxid)).u8(what).i32(result.err);
    if (op.kind === 'createSession') h.i64(txn.header.session_id).i32(op.timeout_ms).raw(op.passwd);
    this.body.reset();
    encodeApplied(this.body, replyOpcodeOf(op), result);
    this.stream.send(h, this.body.view_bytes());
  }

  /** Sends one released publication. */
  private readonly publish = (p: Publication): void => {
    switch (p.kind) {
      case 'txn':
        this.publishTxn(p.origin, p.txn);
        break;
      case 'session':
        this.origin(CommitStream.SESSION, p.origin).i64(p.session_id).i32(p.timeout_ms).raw(p.passwd).u8(this.sessionOkByte(p.ok, p.session_id));
        this.stream.send(this.head);
        break;
      case 'sync':
        this.inOpenRoot(p.origin);
        this.body.reset();
        this.body.writeUString(p.path);
        this.stream.send(this.origin(CommitStream.SYNC, p.origin), this.body.view_bytes());
        break;
      case 'close_conn':
        this.stream.send(this.head.begin(CommitStream.CLOSE_CONN).u8(p.shard).u32(p.conn_id).i32(0));
        break;
      case 'error':
        this.inOpenRoot(p.origin);
        this.stream.send(this.origin(CommitStream.ERROR, p.origin).i32(p.err));
        break;
    }
  };

  /** A completion without a txn (sync, an error) is answered at the open root's ROOT too, and
   *  the reads queued behind it are served from that root: a later txn of the same connection
   *  must not join it either. */
  private inOpenRoot(origin: Origin): void {
    this.batch_origins.set(origin.shard * 0x1_0000_0000 + origin.conn_id, ROOT_ANSWER);
  }

  /** Ephemeral znodes in the committed tree: the owner index less its containers and TTL nodes
   *  (three O(log n) counts). */
  private ephemeralsCount(): number {
    const view = this.applier.writer.view;
    const all = view.acc.total(view.owner_root);
    return all - view.countOwned(CONTAINER_OWNER_KEY, 0, 8) - view.countOwned(TTL_OWNER_KEY, 0, 1);
  }

  /** Counters always; the session table and ephemerals (O(sessions), O(ephemerals) on this, the
   *  write path's, thread) only when a command asks for them (cons/stat, dump). */
  stats(detail: StatsDetail): Record<string, unknown> {
    const root = this.applier.writer.last_root;
    return {
      last_zxid: this.core.last_zxid,
      node_count: root.node_count,
      approximate_data_size: root.data_bytes,
      ephemerals_count: this.ephemeralsCount(),
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
      quorum: this.quorum?.stats() ?? null,
      ...this.readOnlyModeStats(),
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

function recoveryOptions(config: ServerConfig): RecoveryOptions {
  ensureDataDir(config.data_dir);
  ensureDataDir(config.data_log_dir);
  return {
    dir: config.data_dir,
    log_dir: config.data_log_dir,
    track_sessions: true,
    warn: (m) => console.warn(`waitfree: warning: ${m}`),
    zero_run_bytes: zeroRunBytesFor(config),
    keep_entries: config.ensemble !== null, // Zab's in-memory window of the log (DIFF syncs)
  };
}

/** Start-up: recovers straight into the shared tree (this thread becomes its only writer). */
function recoverAtStart(init: WorkerInit): { state: RecoveredLog; tree_writer: TreeWriter } {
  const started = performance.now();
  const tree_writer = new TreeWriter(init.topology.arena);
  const state = recoverIntoArena(tree_writer, recoveryOptions(init.config));
  const ms = Math.round(performance.now() - started);
  const from = state.snapshot === null ? 'no snapshot' : `snapshot 0x${state.snapshot.zxid.toString(16)}`;
  const mib = Math.round(tree_writer.stats().bytes_in_use / 2 ** 20);
  const how = state.snapshot_method === null ? '' : `; snapshot nodes ${state.snapshot_method}`;
  console.log(
    `waitfree: recovered zxid 0x${state.last_zxid.toString(16)} from ${from} + ${state.replayed} logged txns ` +
      `(${tree_writer.last_root.node_count} znodes, ${mib} MiB of shared tree, ${state.sessions.size} sessions${how}) in ${ms} ms`,
  );
  return { state, tree_writer };
}

/** After a Zab TRUNC or SNAP: the state on disk, as a heap tree the shared tree is synced to. */
function recoverHeap(config: ServerConfig): ReturnType<typeof recover> {
  const started = performance.now();
  const state = recover(recoveryOptions(config));
  console.log(`waitfree: reloaded zxid 0x${state.last_zxid.toString(16)} (${state.tree.node_count} znodes) in ${Math.round(performance.now() - started)} ms`);
  return state;
}

/**
 * The recovered sessions with what was left of their timeouts (session/resume.ts), from the log's
 * txn times and the liveness file. Logs one line saying where the estimate came from.
 */
function resumeSessions(state: RecoveredLog, dir: string): Map<bigint, { timeout_ms: number; passwd: Uint8Array; remaining_ms: number }> {
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
async function openLog(config: ServerConfig, state: RecoveredLog): Promise<LogWriter | null> {
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
  let state: RecoveredLog;
  let secret: Uint8Array;
  let tree_writer: TreeWriter;
  try {
    ({ state, tree_writer } = recoverAtStart(init));
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
    nodes: tree_writer.last_root.node_count,
  });
  await serve_asked;
  if (config.purge_interval_hours === 0) {
    console.warn('waitfree: warning: autopurge.purgeInterval=0: old snapshots and log segments are never deleted; the disk will fill up.');
  }
  if (config.fsync === 'none') {
    console.warn(`waitfree: WARNING: ${config.force_sync === 'no' ? 'forceSync=no' : 'waitfree.fsync=none'}: the txn log is never synced; a machine crash loses acknowledged writes. For experiments only.`);
  }
  const writer = await openLog(config, state);
  worker = new CommitWorker(init, state, writer, secret, tree_writer);
  if (config.ensemble !== null) await worker.startQuorum(config.ensemble, state);
  post({ type: 'serving' });
  await worker.run();
}

main().catch((e: unknown) => {
  console.error('commit worker failed:', e);
  process.exit(70);
});

/** A snapshot file's bytes for a SNAP, read off the commit worker's thread (a large tree's
 *  snapshot is hundreds of MB: a synchronous read would stall the leader's pipeline). */
async function readSnapshot(f: { zxid: number; path: string }): Promise<{ zxid: number; bytes: Uint8Array }> {
  const b = await readFile(f.path);
  return { zxid: f.zxid, bytes: new Uint8Array(b.buffer, b.byteOffset, b.byteLength) };
}
