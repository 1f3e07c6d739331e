// The commit worker: the replica's single writer, the thread driver. At start it recovers the
// tree and sessions (newest snapshot + log), loads the shared tree (src/store/arena) from it,
// reports the zxid to the supervisor and waits for 'serve' (the shards attach to the shared tree
// meanwhile). Then it drains the shards' write rings into the sans-IO CommitStage
// (commit_stage.ts: frames -> CommitCore (prep -> zxid -> its own working tree, which prep
// reads) -> group commit -> once committed (durable; under Zab also acknowledged by a quorum)
// the Applier applies it to the shared tree and the stage publishes its result on the commit
// stream (APPLIED), one ROOT per release round).
//
// What stays here, being I/O or Zab: ring polling and the doorbell, the txn log (LogWriter: a
// batch is written inline or on libuv's pool, then stage.durable / stage.failed), the session
// liveness file, snapshots (encoded in slices here, written by a piscina task), the Zab driver
// and its peer transport, read-only mode, TRUNC / SNAP reloads, stats.
//
// Loop invariant: at most one log write (write + fdatasync) is in flight; while it is, requests
// keep being prepped into the next batch (pipelining) until that batch reaches its bounds.

import { statSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { Applier } from '../commit/applier.js';
import { QuotaEnforcer } from '../commit/quota_enforcer.js';
import { quotaGauges, quotaSamples } from '../commit/quota_metrics.js';
import { CommitCore, type Origin } from '../commit/commit_core.js';
import { GroupCommit, type Batch } from '../commit/group_commit.js';
import type { ServerConfig } from '../config/server_config.js';
import { ensureDataDir, listDataDir, loadOrCreateSecret } from '../log/data_dir.js';
import { describeFsError, FsyncDelay, NODE_LOG_FS } from '../log/log_fs.js';
import { LogWriter } from '../log/log_writer.js';
import { zeroRunBytesFor, type RecoveredLog, type RecoveryOptions } from '../recovery/recovery.js';
import { recoverIntoArena, reloadIntoArena, type LocalNodes } from '../recovery/recovery_arena.js';
import { membershipText, parseQuorumConfigText, quorumConfigText, staticMembership, type Membership } from '../config/quorum_config_text.js';
import { CONFIG_NODE } from '../protocol/constants.js';
import { PendingView } from '../commit/pending_view.js';
import { ArenaSnapshotSource } from '../snapshot/arena_snapshot_source.js';
import { JuteReader } from '../protocol/jute.js';
import { isMalformed, readServerRequest, type ServerRequest } from '../protocol/messages.js';
import { Op } from '../protocol/opcodes.js';
import { Ring } from '../ring/ring.js';
import { Snapshotter } from '../snapshot/snapshotter.js';
import { MembershipFile } from '../log/membership_file.js';
import { LivenessWriter, readLivenessFile } from '../session/liveness_file.js';
import { resumeTimeouts } from '../session/resume.js';
import { CommitMetrics } from '../metrics/commit_metrics.js';
import { LogSyncTimes, type FsyncTimeStats } from '../metrics/sync_times.js';
import { ZabMetrics } from '../metrics/zab_metrics.js';
import { hrNowMs } from '../metrics/clock.js';
import type { WriteRequest } from '../tree/prep.js';
import { Doorbell } from './doorbell.js';
import { LinkReader, LinkWriter } from './link.js';
import type { FrameHandler } from '../ring/ring.js';
import { CommitStage, type CommitRouting, type CommitState } from './commit_stage.js';
import { TreeWriter } from '../store/arena/index.js';
import type { WorkerInit } from './topology.js';
import { KnownCommitWriter } from './known_commit.js';
import { postEvent, serveControl, type StatsDetail } from './control.js';
import { QuorumDriver, type QuorumHost, type QuorumRole } from '../quorum/quorum_driver.js';
import { encodeCreateSession, encodeWrite } from '../quorum/forward_codec.js';
import { zabConfigFor, zabInitFor, ZAB_TICK_MS } from '../quorum/quorum_setup.js';
import type { PendingRevalidation } from '../quorum/revalidations.js';
import type { QuorumTlsConfig } from '../config/tls_config.js';
import { peerTlsFrom } from '../replication/peer_tls.js';
import { PeerTransport } from '../replication/peer_transport.js';
import { reloadQuorumCertsOnChange } from '../replication/quorum_cert_reload.js';
import type { StoreWatch } from '../replication/store_watch.js';
import { EpochFile } from '../log/epoch_file.js';
import { truncateLogAfter } from '../log/truncate_log.js';
import { installSnapshot } from '../snapshot/snapshot_install.js';
import { newestSnapshot } from '../log/data_dir.js';
import { readSnapshotNodeData } from '../snapshot/snapshot_reader.js';
import { isReconfigTxn } from '../tree/txn_codec.js';
import { reconfigMembership } from '../quorum/reconfig_membership.js';
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
  /** The per-frame logic: core, group commit, Applier, commit stream (commit_stage.ts). */
  private readonly stage: CommitStage;
  /** Zab (ensemble mode): null for a standalone replica. */
  private quorum: QuorumDriver | null = null;
  private transport: PeerTransport | null = null;
  /** sslQuorumReloadCertFiles: the quorum stores' watch; null when off. */
  private store_watch: StoreWatch | null = null;
  private zab_timer: NodeJS.Timeout | null = null;
  /** Leaders asking for a snapshot at a zxid >= min (SNAP syncs), answered once one exists. */
  private snapshot_waiters: { min_zxid: number; resolve: (s: { zxid: number; path: string }) => void }[] = [];
  private readonly snapshots: Snapshotter;
  private readonly inputs: LinkReader[];
  /** One frame handler per shard ring (the stage is told which shard a frame came from). */
  private readonly handlers: FrameHandler[];
  /** topology.net_paused_for_ring (written by the net worker). */
  private readonly net_paused_for_ring: Int32Array;
  /** topology.known_commit: reads wait for what it says (written here only). */
  private readonly known_commit: KnownCommitWriter;
  /** topology.shard_input_stalled (one word per shard, written by that shard). */
  private readonly shard_input_stalled: Int32Array;
  private readonly stream: LinkWriter;
  /** Batches of at most this many txns are synced on this thread even when requests wait
   *  (waitfree.log.inlineSyncTxnsMax; standalone only). */
  private readonly inline_txns_max: number;
  /** Replies to direct writes; published only behind the stream (publishOutputs). */
  private readonly to_net: LinkWriter | null;
  private readonly doorbell: Doorbell;
  private stopping = false;
  /** Set by the completion of the write in flight; consumed by the loop. */
  private flushed: FlushResult | null = null;
  /** Frames decoded per input ring: the shards', then the net worker's (for stats). */
  readonly frames_in: number[];
  /** Lock-free counters for /metrics: batch sizes, fsync latency, snapshots. */
  private readonly metrics: CommitMetrics;
  /** The log's sync times and slow-sync warnings (fed by the commit stage; mntr's fsynctime). */
  private readonly sync_times: LogSyncTimes;
  /** Session liveness (session/liveness_file.ts): rewritten at most once per tick, when changed. */
  private readonly liveness: LivenessWriter;
  private liveness_version = -1;
  private next_liveness_ms = 0;
  private liveness_warned_ms = -Infinity;
  /** readonlymode.enabled in an ensemble: serves read-only clients while cut off from a quorum. */
  private readonly read_only_mode: ReadOnlyMode | null;

  /** Applies committed txns to the shared tree, once per replica. */
  private readonly applier: Applier;
  /** zookeeper.enforceQuota: null when off (quotas are only counted). */
  private readonly quota_enforcer: QuotaEnforcer | null;
  /** Snapshots encode a pinned root of the shared tree. */
  private readonly snapshot_source: ArenaSnapshotSource;

  constructor(
    private readonly init: WorkerInit,
    recovered: RecoveredLog,
    private writer: LogWriter | null,
    private readonly secret: Uint8Array,
    tree_writer: TreeWriter,
  ) {
    this.applier = new Applier(tree_writer, recovered.last_zxid);
    this.quota_enforcer = init.config.enforce_quota
      ? new QuotaEnforcer((path, bytes_diff, count_diff) => this.applier.quotaVerdict(path, bytes_diff, count_diff), (line) => console.warn(`waitfree: ${line}`), () => Date.now())
      : null;
    this.snapshot_source = new ArenaSnapshotSource(init.topology.arena);
    const { config, topology } = init;
    this.inline_txns_max = config.log_inline_sync_txns_max;
    this.sync_times = new LogSyncTimes(config.fsync_warning_threshold_ms);
    this.liveness = new LivenessWriter(NODE_LOG_FS, { dir: config.data_dir, fsync: config.fsync === 'always' });
    this.doorbell = new Doorbell(topology.commit_doorbell);
    this.doorbell.setIdleSpin(config.idle_spin_us);
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
    // The shards' rings, then the net worker's (direct writes): one list for polling and for
    // "is anything waiting".
    this.inputs = [...topology.shard_to_commit, topology.net_to_commit].map((sab) => new LinkReader(Ring.attachConsumer(sab, 0)));
    this.handlers = topology.shard_to_commit.map((_, shard) => (bytes: Uint8Array, start: number, end: number) => this.stage.onFrame(shard, bytes, start, end));
    this.handlers.push((bytes, start, end) => this.stage.onNetFrame(bytes, start, end));
    this.net_paused_for_ring = new Int32Array(topology.net_paused_for_ring);
    this.shard_input_stalled = new Int32Array(topology.shard_input_stalled);
    this.known_commit = new KnownCommitWriter(topology.known_commit);
    this.frames_in = this.inputs.map(() => 0);
    const shard_bells = topology.shard_doorbells.map((sab) => new Doorbell(sab));
    this.stream = new LinkWriter(Ring.attachProducer(topology.commit_stream), shard_bells);
    // Null with waitfree.net.directWrites off: the net worker does not read that ring then.
    this.to_net = config.net_direct_writes ? new LinkWriter(Ring.attachProducer(topology.commit_to_net), [new Doorbell(topology.net_doorbell)]) : null;
    this.stage = new CommitStage(
      {
        stream: this.stream,
        to_net: this.to_net,
        takeDirectWrites: () => this.takeDirectWrites(),
        log: { writable: () => this.writer !== null, writeBatch: (batch) => this.writeBatch(batch) },
        clock: { now_ms: Date.now, now_us: nowUs },
        applier: this.applier,
        metrics: this.metrics,
        sync_times: this.sync_times,
        warn: (line) => console.warn(line),
        reconfigured: (data) => this.reconfigured(data),
      },
      this.newState(recovered),
    );
    if (writer === null) this.core.setReadOnly('the txn log could not be opened');
    this.read_only_mode = config.ensemble !== null && config.read_only_mode_enabled ? this.newReadOnlyMode() : null;
  }

  // ---- membership (reconfig: reconfig_prep.ts) ----

  /** The membership this replica runs with (null: standalone); `activate` keeps it current. */
  private membership: Membership | null = null;

  /** What /zookeeper/config holds in the shared tree, read as a membership (null: standalone). */
  private membershipInTree(): Membership | null {
    const ensemble = this.init.config.ensemble;
    if (ensemble === null) return null;
    const view = this.applier.writer.view;
    const data = view.findPath(CONFIG_NODE) ? view.data() : null;
    const dynamic = data === null ? null : dynamicMembership(data);
    return dynamic ?? staticMembership(ensemble);
  }

  /**
   * zoo.cfg's ensemble with membership `m`. One that lacks this server (a reconfig removed it) is
   * still the one it runs with: it takes no part (the members refuse it) until a reconfig that
   * adds it back reaches it. With zoo.cfg's instead, removed servers that are a quorum of
   * zoo.cfg's voters would elect a leader of their own and serve an old history (Zab simulator
   * seed 39436: two leaders established in one epoch).
   */
  private effectiveEnsemble(static_ensemble: EnsembleConfig, m: Membership | null): EnsembleConfig {
    if (m === null || m.version === 0) return static_ensemble;
    if (!m.members.some((x) => x.sid === static_ensemble.my_sid)) {
      console.warn(
        `waitfree: warning: server ${static_ensemble.my_sid} is not in the membership of version 0x${m.version.toString(16)} (a reconfig removed it): ` +
          `it takes no part until a reconfig adds it back (members: ${describeMembers(m)})`,
      );
    } else {
      console.log(`waitfree: membership of version 0x${m.version.toString(16)} (a reconfig, kept in /zookeeper/config), not zoo.cfg's server lines: ${describeMembers(m)}`);
    }
    return { ...static_ensemble, members: m.members };
  }

  /**
   * The committed membership Zab starts from: the recovered tree's, unless the log after the
   * snapshot holds a reconfig. Such a reconfig is not known committed (a Zab replica's snapshot
   * is committed state, its log may not be), so the core starts from the snapshot's membership
   * with the reconfig in flight (src/zab/membership.ts) until a leader's COMMIT says otherwise.
   * Rare (a reconfig within the last snapCount txns): the snapshot file is read for its
   * /zookeeper/config.
   */
  private membershipAtSnapshot(static_ensemble: EnsembleConfig, recovered: RecoveredLog): Membership | null {
    if (!(recovered.entries ?? []).some((e) => isReconfigTxn(e.bytes))) return this.membership;
    const snap = recovered.snapshot;
    const data = snap === null ? null : readSnapshotNodeData(snap.path, CONFIG_NODE);
    return (data === null ? null : dynamicMembership(data)) ?? staticMembership(static_ensemble);
  }

  /**
   * The committed membership Zab starts from: the snapshot's (membershipAtSnapshot), or the
   * membership file's when that one is newer (a reconfig applied here since the snapshot: known
   * committed, and so is everything before it in the log; membership_file.ts).
   */
  private committedMembership(static_ensemble: EnsembleConfig, recovered: RecoveredLog): Membership | null {
    const at_snapshot = this.membershipAtSnapshot(static_ensemble, recovered);
    const file = MembershipFile.readSync(this.init.config.data_dir);
    if (file === null || (at_snapshot !== null && file.version <= at_snapshot.version)) return at_snapshot;
    console.log(`waitfree: membership of version 0x${file.version.toString(16)} from ${MembershipFile.path(this.init.config.data_dir)} (applied here since the snapshot)`);
    return file;
  }

  /** A reconfig txn was applied to the shared tree (it is committed): its membership becomes
   *  this replica's (prep, peer links, and the Zab core, which knew it first: a no-op there). */
  private reconfigured(data: Uint8Array): void {
    const m = dynamicMembership(data);
    if (m === null) throw new Error('commit worker: a reconfig txn holds no membership');
    const config = this.init.config;
    try {
      MembershipFile.writeSync(config.data_dir, data, config.fsync === 'always');
    } catch (e) {
      this.diskFault(`the membership file ${MembershipFile.path(config.data_dir)} cannot be written: ${describeFsError(e)}`);
    }
    this.core.setMembership(m);
    this.activate(m);
    this.quorum?.setMembership(m);
    console.log(`waitfree: reconfig: membership version 0x${m.version.toString(16)}: ${describeMembers(m)}`);
  }

  /** QuorumHost: a reconfig was proposed: the peer links learn its members' addresses now, for
   *  it commits on a quorum of its own voters too. Links are only dropped once one is active. */
  reconfigInFlight(m: Membership): void {
    const my_sid = this.init.config.ensemble?.my_sid;
    for (const x of m.members) if (x.sid !== my_sid) this.transport?.setPeer({ sid: x.sid, host: x.host, port: x.quorum_port });
  }

  /**
   * Makes `m` the membership of the peer links (once they run; before, startQuorum builds them
   * from it): new members' addresses, changed ones, and removed members dropped (unless a
   * reconfig still in flight names them).
   */
  private activate(m: Membership | null): void {
    const old = this.membership;
    this.membership = m;
    const transport = this.transport;
    const quorum = this.quorum;
    const my_sid = this.init.config.ensemble?.my_sid;
    if (m === null || old === null || transport === null || quorum === null) return;
    if (!m.members.some((x) => x.sid === my_sid)) return; // removed: the others refuse this server
    for (const x of m.members) if (x.sid !== my_sid) transport.setPeer({ sid: x.sid, host: x.host, port: x.quorum_port });
    // Removed members are dropped once this turn's sends have gone into their connections: the
    // COMMIT that activates `m` is sent to them after this runs (its commit effect comes first),
    // and they need it (removePeer delivers what was sent before it closes).
    const removed = old.members.filter((x) => !m.members.some((y) => y.sid === x.sid));
    if (removed.length === 0) return;
    setImmediate(() => {
      const now = this.membership;
      for (const x of removed) {
        if (now !== null && !now.members.some((y) => y.sid === x.sid) && !quorum.knowsMember(x.sid)) transport.removePeer(x.sid);
      }
    });
  }

  /** QuorumHost: a commit this replica may not have applied yet. Not after a disk fault: nothing
   *  is published from then on (the replica serves the reads of the tree it has), so a read must
   *  not wait for a commit that will never come. */
  knownCommit(zxid: number): void {
    if (!this.gc.failed) this.known_commit.advance(zxid);
  }

  /** QuorumHost: the commit core (replaced on a reload). */
  get core(): CommitCore {
    return this.stage.core;
  }

  /** QuorumHost: group commit (replaced on a reload). */
  get gc(): GroupCommit {
    return this.stage.gc;
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
        closeConn: (c) => this.stage.closeConn(c.shard, c.conn_id),
        answerSession: (owner, session_id, timeout_ms, passwd, ok) => {
          const origin = { shard: owner.shard, conn_id: owner.conn_id, xid: 0 };
          this.gc.add([{ kind: 'session', origin, session_id, timeout_ms, passwd, ok }], nowUs());
        },
      },
    );
  }

  /** The core (prep reads the shared tree plus the txns recorded and not yet applied: the
   *  PendingView) and group commit, for the recovered state. */
  private newState(recovered: RecoveredLog): CommitState {
    const config = this.init.config;
    const reap_interval_ms = config.container_check_interval_ms;
    const pending = new PendingView(this.applier.writer.view, recovered.last_zxid);
    const core = new CommitCore(
      {
        server_id: config.server_id,
        tick_ms: config.tick_time_ms,
        ttl_enabled: config.extended_types_enabled,
        quota: this.quota_enforcer?.check ?? null,
        secret: this.secret,
        reap_interval_ms,
        reap_per_check_max: Math.max(1, Math.ceil((config.container_max_per_minute * reap_interval_ms) / 60_000)),
        reconfig_enabled: config.reconfig_enabled,
        standalone_enabled: config.standalone_enabled,
        log: (line) => console.warn(`waitfree: ${line}`),
        synced_voters: () => this.quorum?.syncedVoters() ?? [],
      },
      { now_ms: () => Date.now() },
      { view: pending, sessions: resumeSessions(recovered, config.data_dir) },
    );
    // The membership is what the shared tree holds (a reconfig's, else zoo.cfg's): at start, and
    // again after a reload (the leader's SNAP may hold a newer one).
    const membership = this.membershipInTree();
    core.setMembership(membership);
    this.activate(membership);
    // A member of an ensemble creates no txn before it leads (the driver says when).
    if (config.ensemble !== null) core.follow();
    return { core, pending, gc: this.newGroupCommit(recovered.last_zxid) };
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
  async startQuorum(static_ensemble: EnsembleConfig, recovered: RecoveredLog): Promise<void> {
    const config = this.init.config;
    const base = this.committedMembership(static_ensemble, recovered);
    const ensemble = this.effectiveEnsemble(static_ensemble, base);
    const epochs = EpochFile.readSync(config.data_dir);
    const zab_metrics = new ZabMetrics(this.init.topology.metrics.zab);
    const driver = new QuorumDriver(
      zabConfigFor(config, ensemble),
      zabInitFor(epochs, recovered.snapshot?.zxid ?? 0, recovered.entries ?? [], base?.version ?? 0),
      this,
      { send: () => {}, disconnect: () => {}, flush: () => {} },
      recovered.last_zxid,
      config.zab_in_flight_max,
      zab_metrics,
      hrNowMs,
      nowUs,
    );
    this.quorum = driver;
    this.stage.setRouting(this.routingFor(driver));
    // Our own address is zoo.cfg's: a membership a reconfig removed us from does not hold it.
    const me = static_ensemble.members.find((m) => m.sid === ensemble.my_sid)!;
    const transport = new PeerTransport(
      {
        sid: ensemble.my_sid,
        listen: { host: config.quorum_listen_on_all_ips ? '0.0.0.0' : me.host, port: me.quorum_port },
        peers: ensemble.members.filter((m) => m.sid !== ensemble.my_sid).map((m) => ({ sid: m.sid, host: m.host, port: m.quorum_port })),
        frame_bytes_max: config.zab_frame_bytes_max,
        queue_bytes_max: config.zab_queue_bytes_max,
        connect_retry_ms_min: 20,
        connect_retry_ms_max: 1000,
        tls: config.quorum_tls === null ? null : peerTlsFrom(config.quorum_tls),
        random: Math.random,
        log: (line) => console.log(`waitfree: ${line}`),
        on_refused: () => zab_metrics.linkRefused(),
      },
      { message: (from, msg) => driver.onMessage(from, msg), reset: (peer) => driver.onReset(peer) },
    );
    const quorum_port = await transport.start();
    this.transport = transport;
    if (config.quorum_tls !== null) console.log(`waitfree: quorum port ${quorum_port}: ${quorumTlsMode(config.quorum_tls)}`);
    if (config.quorum_tls !== null && config.ssl_quorum_reload_cert_files) {
      this.store_watch = reloadQuorumCertsOnChange(config, transport, (line) => console.log(`waitfree: ${line}`));
    }
    // Members of the reconfigs in flight in our log (membershipAtSnapshot) must be reachable too.
    for (const e of recovered.entries ?? []) {
      const m = reconfigMembership(e.bytes);
      if (m !== null) this.reconfigInFlight(m);
    }
    driver.setLinks(transport);
    driver.start();
    this.zab_timer = setInterval(() => driver.tick(), ZAB_TICK_MS);
    // The log could not be opened (openLog said so): this replica takes no part.
    if (this.core.read_only !== null) this.leaveEnsemble(this.core.read_only);
  }

  /**
   * The Zab paths of the shards' frames (see CommitRouting): a learner forwards writes and new
   * sessions to the leader; a replica that does not serve closes the connection, or (read-only
   * mode) gives it a local read-only session; the leader hears of reattaches and touches.
   */
  private routingFor(q: QuorumDriver): CommitRouting {
    return {
      request: (origin: Origin, session_id: bigint, request: ServerRequest, bytes: Uint8Array, request_at: number, end: number): boolean => {
        if (!q.leading) {
          if (!q.serving) {
            this.stage.closeConn(origin.shard, origin.conn_id);
            return true;
          }
          const sync_path = request.header.type === Op.sync && !isMalformed(request) ? (request.body as { path: string }).path : null;
          const auth = this.core.authOf(origin.shard, origin.conn_id);
          q.forward(session_id, request.header.xid, origin, sync_path, encodeWrite(session_id, auth, bytes, request_at, end));
          return true;
        }
        if (!q.serving) {
          this.stage.closeConn(origin.shard, origin.conn_id);
          return true;
        }
        return false;
      },
      sessionCreate: (shard, conn_id, timeout_ms, wants_read_only) => {
        if (!q.serving) {
          this.refuseOrReadOnly({ shard, conn_id }, (ro) => ro.create({ shard, conn_id }, timeout_ms, wants_read_only, Date.now()));
          return true;
        }
        if (!q.leading) {
          const origin: Origin = { shard, conn_id, xid: 0 };
          const s = this.core.newLocalSession(origin, timeout_ms);
          q.forward(s.session_id, 0, origin, null, encodeCreateSession(s.session_id, timeout_ms, s.passwd));
          return true;
        }
        return false;
      },
      sessionReattach: (shard, conn_id, session_id, passwd, timeout_ms, wants_read_only) => {
        if (!q.serving) {
          this.refuseOrReadOnly({ shard, conn_id }, (ro) => ro.reattach({ shard, conn_id }, session_id, passwd, timeout_ms, wants_read_only, Date.now()));
          return true;
        }
        if (q.leading) return false;
        // A learner answers once its leader vouched for the session (revalidated, below); the
        // connection that held it here is superseded now.
        const origin: Origin = { shard, conn_id, xid: 0 };
        this.core.takeOver(origin, session_id);
        if (!q.revalidate(origin, session_id, passwd, timeout_ms)) this.stage.closeConn(shard, conn_id);
        return true;
      },
      // In read-only mode the sessions here are local ones: no leader is to hear of them.
      touched: (ids) => {
        if (this.read_only_mode?.touch(ids, Date.now()) !== true) q.touch(ids);
      },
      connGone: (shard, conn_id, session_id) => {
        q.connGone(shard, conn_id);
        this.read_only_mode?.connGone({ shard, conn_id }, session_id);
      },
      sessionOkByte: (ok, session_id) => {
        if (this.read_only_mode !== null) return this.read_only_mode.okByte(ok, session_id);
        return ok ? SessionOk.OK : SessionOk.REFUSED;
      },
      // A copy: the batch buffer is reused once the txn is published, the core keeps it for DIFF syncs.
      proposeLocal: (zxid, session_id, bytes, start, end) => q.proposeLocal(zxid, bytes.slice(start, end), this.core.holderOf(session_id)),
      answerRevalidate: (peer, token, session_id, valid) => q.sendRevalidateAnswer(peer, token, session_id, valid),
    };
  }

  async run(): Promise<void> {
    // A pending Atomics.waitAsync does not keep a worker alive; this timer does.
    const keepalive = setInterval(() => {}, 1 << 30);
    const stage = this.stage;
    void this.snapshots.purgeAtStart();
    while (!this.stopping) {
      const seen = this.doorbell.seq();
      this.settleFlush();
      if (this.quorum !== null) {
        this.quorum.pump();
        // The COMMITs of this step leave before the replies they let out (stage.release below), as
        // ZooKeeper's leader sends COMMIT before it applies: a client told of its write may at once
        // read at a follower. Left to the end of the loop turn, they left after the reply. Learners
        // whose clients wait for a COMMIT get theirs last, for the same reason.
        this.quorum.flushSends();
        this.stagePublications(); // writes learners forwarded to this leader
        this.read_only_mode?.step(this.quorum.role, Date.now());
      }
      const frames = this.stream.blocked ? 0 : this.pollInputs(); // reads only what group commit has room for
      // A leader's PROPOSALs: followers start their sync beside ours (holders last, as above).
      this.quorum?.flushSends();
      stage.tick(() => this.inputsWaiting(), this.leaderRoom());
      this.maybeWriteLiveness();
      this.stagePublications();
      stage.maybeFlush();
      this.snapshots.step(this.snapshot_source, () => this.core.sessionStates(), this.snapshotSafeZxid(), this.core.read_only === null);
      this.answerSnapshotWaiters();
      stage.release();
      this.publishOutputs();
      if (this.stream.blocked) {
        await this.stream.drainAsync(IDLE_WAIT_MS_MAX);
        continue;
      }
      if (this.to_net?.blocked === true) {
        await this.to_net.drainAsync(IDLE_WAIT_MS_MAX);
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

  /**
   * Publishes the commit stream, then the replies to direct writes. Invariant: a direct reply
   * becomes visible only after every stream frame and root sent before it (its txn's APPLIED
   * and ROOT): the client may tell another, whose read (at any shard, or a fast read, which
   * takes only the newest root) must see the write. So nothing goes to the net worker while the
   * stream holds frames back.
   */
  private publishOutputs(): void {
    const published = this.stream.publish();
    if (!this.stream.blocked) this.to_net?.drain();
    // The shards' doorbells after the net worker's: a wake-up costs the ringing thread ~20 µs
    // here, and the direct replies are the ones a client waits for.
    if (published) this.stream.ringDoorbells();
  }

  /** The net worker's ring to empty, now (CommitStagePorts.takeDirectWrites). */
  private takeDirectWrites(): void {
    const net = this.inputs.length - 1;
    this.frames_in[net] += this.inputs[net].poll(this.handlers[net], Number.MAX_SAFE_INTEGER);
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
    return Math.min(POLL_FRAMES_MAX, this.stage.room(), this.quorumRoom());
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
    this.store_watch?.close();
    await this.transport?.close();
    this.doorbell.ring();
    if (!this.liveness.busy && this.core.read_only === null) await this.liveness.write(this.core.liveness(), (e) => this.livenessFailed(e));
    await this.snapshots.close();
    await this.writer?.close();
  }

  /** Moves the core's publications into group commit; snapshots count the txns. */
  private stagePublications(): void {
    this.snapshots.countTxns(this.stage.stagePublications());
  }

  /** The stage's log port: one batch, written inline when nothing else waits, else on the pool. */
  private writeBatch(batch: Batch): void {
    const writer = this.writer!;
    if (this.flushInline(writer, batch)) return;
    writer.append(batch.bytes, batch.start, batch.end, batch.first_zxid).then(
      () => this.onFlushed({ seq: batch.seq, error: null }),
      (error: unknown) => this.onFlushed({ seq: batch.seq, error }),
    );
  }

  /**
   * The batch is written and synced on this thread (LogWriter.appendInline) and settled at once:
   * no trip to libuv's pool and back (two, with fdatasync). When no request waits there is
   * nothing to prep meanwhile anyway. When some do, a small batch is still synced here: the pool
   * trips cost more than the prep they would overlap, and what arrives meanwhile forms the next
   * batch (waitfree.log.inlineSyncTxnsMax, standalone only: in an ensemble this thread also runs
   * Zab, whose messages must not wait for a disk: see below). A large batch goes to the pool, so the next
   * is prepped meanwhile: synced inline, large batches made the replies bursty and the p99
   * several times the median (BENCHMARKS.md). False when the writer cannot do it inline (a
   * roll, fault injection): the caller goes async.
   */
  private flushInline(writer: LogWriter, batch: Batch): boolean {
    // Never in an ensemble: a leader's PROPOSALs of this batch are still corked on their sockets
    // (they leave when this loop turn ends), so its sync would come before the followers' instead
    // of beside them; and a follower syncing here reads no COMMIT meanwhile, so a txn the other
    // followers made a quorum for stays invisible here for a whole sync.
    if (this.quorum !== null) return false;
    if (batch.count > this.inline_txns_max && this.inputs.some((r) => r.hasData())) return false;
    // What is already committed goes out first: its replies must not wait for this sync, and a
    // failure of this batch must not turn them into lost connections.
    this.stage.release();
    this.publishOutputs();
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
    if (r.error === null) {
      const durable = this.stage.durable(r.seq);
      this.quorum?.persisted(durable);
      return;
    }
    this.diskFault(this.stage.failed(r.seq, r.error));
  }

  // ---- QuorumHost: what the Zab driver asks of this worker (src/quorum/quorum_driver.ts) ----

  learnerLogged(txns: number): void {
    this.snapshots.countTxns(txns);
  }

  /** The log is busy: a write in flight, or records not yet handed to the writer. */
  get write_in_flight(): boolean {
    return this.flushed !== null || this.gc.in_flight || this.gc.has_unwritten;
  }

  /** A failure is a disk fault: the driver halts inside this call, so the effects that were to
   *  follow (which rely on the epochs being durable) never run. */
  persistEpochs(accepted_epoch: number, current_epoch: number): void {
    try {
      EpochFile.writeSync(this.init.config.data_dir, { accepted_epoch, current_epoch }, this.init.config.fsync === 'always');
    } catch (e) {
      const reason = `the epoch file in ${this.init.config.data_dir} cannot be written: ${describeFsError(e)}`;
      this.core.setReadOnly(reason);
      this.diskFault(reason);
    }
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
    // The snapshot is committed state: its membership is the committed one (a TRUNC's reload may
    // hold reconfigs in flight, which the core keeps track of itself).
    if (this.membership !== null) this.quorum?.setMembership(this.membership);
  }

  private async closeLogForReload(): Promise<void> {
    this.snapshots.abort();
    // Everything still held can only be close_conns now (service ended before a sync).
    this.gc.abandonUncommitted();
    this.stage.release();
    this.publishOutputs();
    const writer = this.writer;
    this.writer = null;
    await writer?.close();
  }

  /** Rebuilds tree, sessions, group commit and the log writer from disk; the read workers
   *  reload the same state (CommitStream.RELOAD, in stream order). */
  private async reloadFromDisk(why: string): Promise<void> {
    const config = this.init.config;
    // First: the new state (the shared tree's newest root) is what the new core preps against.
    const state = reloadArena(this.applier.writer, config);
    this.applier.resetTo(state.last_zxid);
    this.stage.reset(this.newState(state));
    this.writer = await openLog(config, state);
    if (this.writer === null) {
      this.core.setReadOnly('the txn log could not be opened');
      this.leaveEnsemble('the txn log could not be opened');
    }
    this.quorum?.reloaded(state.last_zxid);
    this.stage.announceReload(state.last_zxid);
    this.publishOutputs();
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

  remoteWrite(from_sid: number, session_id: bigint, auth: readonly Id[], request_bytes: Uint8Array): void {
    const request = readServerRequest(new JuteReader(request_bytes, 0, request_bytes.length));
    const body = isMalformed(request) ? request : request.op === 'multi' ? request.body.ops : request.body;
    this.core.remoteRequest(from_sid, session_id, request.header.xid, request.header.type, body as WriteRequest | null, auth);
  }

  revalidated(p: PendingRevalidation, valid: boolean): void {
    this.core.reattach(p.origin, p.session_id, p.passwd, p.timeout_ms, valid);
  }

  stagePrepped(): void {
    if (this.core.has_publications) this.stagePublications();
  }

  closeAllClients(reason: string): void {
    const conns = this.core.ownedConnections();
    if (conns.length > 0) console.log(`waitfree: quorum: closing ${conns.length} client connections: ${reason}`);
    for (const c of conns) this.stage.closeConn(c.shard, c.conn_id);
    this.snapshots.abort(); // a leader's snapshot may hold txns a new leader truncates
  }

  roleChanged(role: QuorumRole): void {
    postEvent({ type: 'role', role });
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
    if (this.read_only_mode === null) return this.stage.closeConn(owner.shard, owner.conn_id);
    handle(this.read_only_mode);
  }

  /** Under Zab, client writes taken per turn are bounded by the proposals a leader may have
   *  outstanding (less the room kept for sessions due under a sustained overload:
   *  CommitCore.expiry_backlog), or the forwarded writes a learner may wait for. */
  private quorumRoom(): number {
    const q = this.quorum;
    if (q === null) return Number.MAX_SAFE_INTEGER;
    if (!q.serving) return POLL_FRAMES_MAX; // read, and closed at once
    if (!q.leading) return q.forward_room;
    return Math.max(0, this.leaderRoom() - this.core.expiry_backlog);
  }

  /** A leader's room for txns it makes (client writes, expiries, reaping): its proposals in
   *  flight are bounded, and so is its Zab core's queue behind them (leaderQueueMax). */
  private leaderRoom(): number {
    if (this.quorum === null || !this.quorum.leading) return Number.MAX_SAFE_INTEGER;
    return Math.max(0, this.init.config.zab_in_flight_max - this.gc.pending);
  }

  /** A failed write or fsync (the stage accepts no write any more; reads go on): stop
   *  snapshots, say so loudly, tell the supervisor. */
  private diskFault(reason: string): void {
    this.snapshots.abort();
    console.error(`waitfree: FATAL DISK ERROR: ${reason}. ${diskFaultConsequence(this.init.config)}`);
    this.leaveEnsemble(reason);
    postEvent({ type: 'disk_fault', error: reason });
  }

  /**
   * Ensemble: this replica can log nothing, so it leaves the ensemble until it is restarted: Zab
   * halts (a leader steps down, so the others elect one that can log; a follower stops, since it
   * could acknowledge nothing) and the peer links close, so for the others it is a crashed
   * member. Its client connections close with its role and the clients move to the others.
   * ZooKeeper's leader does the same since ZOOKEEPER-2247 (a leader whose log fails steps down).
   * Called in the same turn that set the core read-only, before the driver steps another event:
   * no learner's REQUEST reaches a read-only core (its "propose while read-only" stays an invariant).
   */
  private leaveEnsemble(reason: string): void {
    const q = this.quorum;
    if (q === null || q.is_halted) return;
    q.halt(reason);
    if (this.zab_timer !== null) clearInterval(this.zab_timer);
    this.zab_timer = null;
    void this.transport?.close();
  }

  /** Reads the shards' rings, at most as many frames as group commit has room for (a frame makes
   *  at most one txn), staging after each ring so the room is current. */
  private pollInputs(): number {
    let total = 0;
    for (let i = 0; i < this.inputs.length; i++) {
      const room = this.pollRoom();
      if (room === 0) break;
      const n = this.inputs[i].poll(this.handlers[i], room);
      this.frames_in[i] += n;
      total += n;
      this.stagePublications();
    }
    return total;
  }

  /** Ephemeral znodes in the committed tree: the owner index less its containers and TTL nodes
   *  (three O(log n) counts). */
  private ephemeralsCount(): number {
    const view = this.applier.writer.view;
    const all = view.acc.total(view.owner_root);
    return all - view.countOwned(CONTAINER_OWNER_KEY, 0, 8) - view.countOwned(TTL_OWNER_KEY, 0, 1);
  }

  /** The log's sync times as mntr reports them (ZooKeeper's fsynctime counter): a copy of
   *  their fields (the stats message is cloned to another thread). */
  private syncTimes(): FsyncTimeStats {
    const t = this.sync_times;
    return { count: t.count, sum_ms: t.sum_ms, min_ms: t.min_ms, max_ms: t.max_ms, over_threshold: t.over_threshold };
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
      quota_samples: detail.quotas ? quotaSamples(quotaGauges(this.applier.writer.view), this.quota_enforcer?.exceeded_by_namespace ?? new Map()) : [],
      sessions: this.core.sessions.size,
      sessions_expired: this.stage.sessions_expired,
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
      flush_us_max: Math.round(this.stage.fsync_us_max),
      flush_us_avg: this.gc.batches === 0 ? 0 : Math.round(this.stage.fsync_us_total / this.gc.batches),
      fsync_time: this.syncTimes(),
      ...this.snapshots.stats(),
      quorum: this.quorum?.stats() ?? null,
      membership: this.membership === null ? null : membershipText(this.membership),
      ...this.readOnlyModeStats(),
    };
  }
}

// ---- start-up: recover, report, wait for 'serve', open the log, run ----

function diskNames(config: ServerConfig): string {
  return config.data_log_dir === config.data_dir ? config.data_dir : `${config.data_dir}, ${config.data_log_dir}`;
}

/** What a disk fault means for this replica, for its FATAL DISK ERROR line. */
function diskFaultConsequence(config: ServerConfig): string {
  const what =
    config.ensemble === null
      ? 'This replica no longer accepts writes (clients get NOTREADONLY) and keeps serving reads.'
      : 'This member leaves the ensemble until it is restarted (the others go on without it; its clients move to them).';
  return `${what} Writes whose batch failed were not acknowledged. Fix the disk (${diskNames(config)}) and restart.`;
}

/** An ensemble member's own /zookeeper/config (the membership); standalone leaves it empty. */
function localNodes(config: ServerConfig): LocalNodes {
  if (config.ensemble === null) return { config_data: null };
  // A membership a reconfig made is replicated and durable: it stays; zoo.cfg's is only the first.
  return { config_data: new TextEncoder().encode(quorumConfigText(config.ensemble)), keep: (data) => dynamicMembership(data) !== null };
}

function describeMembers(m: Membership): string {
  return m.members.map((x) => `${x.sid}:${x.role}`).join(', ');
}

/** A config text with a version other than 0 (a reconfig's), or null. */
function dynamicMembership(data: Uint8Array): Membership | null {
  try {
    const m = parseQuorumConfigText(new TextDecoder('utf-8', { fatal: true }).decode(data));
    return m.version === 0 ? null : m;
  } catch {
    return null;
  }
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
  const state = recoverIntoArena(tree_writer, recoveryOptions(init.config), localNodes(init.config));
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

/**
 * After a Zab TRUNC or SNAP: the state on disk, recovered straight into the shared tree as one
 * new root (reloadIntoArena; shards pinning older roots keep reading them). Throws when that
 * fails half way: the replica cannot go on.
 */
function reloadArena(tree_writer: TreeWriter, config: ServerConfig): RecoveredLog {
  const started = performance.now();
  const state = reloadIntoArena(tree_writer, recoveryOptions(config), localNodes(config));
  const root = tree_writer.last_root;
  console.log(`waitfree: reloaded zxid 0x${state.last_zxid.toString(16)} (${root.node_count} znodes) in ${Math.round(performance.now() - started)} ms`);
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
    console.error(`waitfree: FATAL DISK ERROR: ${reason}. ${diskFaultConsequence(config)}`);
    postEvent({ type: 'disk_fault', error: reason });
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
      if (m.type === 'serve') serve();
    },
  });
  let state: RecoveredLog;
  let secret: Uint8Array;
  let tree_writer: TreeWriter;
  try {
    ({ state, tree_writer } = recoverAtStart(init));
    secret = loadOrCreateSecret(config.data_dir);
  } catch (e) {
    postEvent({ type: 'startup_failed', error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  }
  postEvent({
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
  postEvent({ type: 'serving' });
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

/** What the quorum port takes and what this member dials with, for the start-up log. */
function quorumTlsMode(t: QuorumTlsConfig): string {
  const takes = t.port_unification ? 'takes TLS and plain links (portUnification)' : 'takes TLS links only';
  return `${takes}, dials with ${t.dial_tls ? 'TLS' : 'plain TCP'}; certificates of members dialing in: ${t.client_auth}; hostname verification ${t.hostname_verification ? 'on' : 'off'}`;
}
