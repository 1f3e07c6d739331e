// A deterministic one-thread simulator of one replica (standalone): the product's sans-IO
// stages wired by the product's own bounded rings and links, a fake disk and a simulated clock,
// every random choice from one seeded PRNG (prng.ts, as the Zab simulator in simulation.ts).
//
//   SimClient ─socket─▶ net ─net_to_shard[i]─▶ ShardStage i ─shard_to_commit[i]─▶ CommitStage
//       ▲                                          │   ▲                              │  │
//       └──────────── net ◀──shard_to_net[i]───────┘   └───── commit stream ◀─────────┘  ▼
//                      │ ▲                              (one ring, a reader per shard)  fake disk
//                      │ └────────── commit_to_net ◀──── CommitStage      (writeBatch, durable
//                      └──────────── net_to_commit ────▶ (direct writes)   / failed later)
//
// Direct writes (net/direct_write.ts), in the seeds that turn them on (options.direct_writes):
// the simulated net worker keeps each connection's state in the product's ConnFlow
// (net/conn_flow.ts, as net_worker.ts does: requests forwarded and replies written, the session
// of its ConnectResponse, the direct writes in flight, the shard frames held behind them, a
// deferred close) and does what it decides: a write it routes DIRECT goes to net_to_commit if
// it fits now (trySend), its placeholder (NetToShard.DIRECT_WRITE) to the shard, the commit
// link published first. The commit turn polls that ring after the shards' (takeDirectWrites
// empties it when a shard frame says AFTER_DIRECT), and publishes commit_to_net only behind the
// stream (publishOutputs). The net reads commit_to_net: each reply, then, after the last one in
// flight, the frames the flow held.
//
// Links (replica_links.ts) are real SharedArrayBuffer rings behind LinkWriter / LinkReader,
// their capacities drawn per seed (4 KiB up, some with small frames so messages go in
// pieces): a full ring parks frames in the writer's overflow queue, and each side behaves as
// its driver does: a shard reads no input while an output is blocked (shard_worker.ts), the
// commit worker polls no shard while the stream is blocked (commit_worker.ts), the net worker
// pauses the sockets that fed a full ring and resumes them once it drained
// (ring_backpressure.ts); a drain step runs once a consumer freed space (drainAsync).
//
// The shared tree is a real arena (TreeWriter for the Applier, one ShardTree per shard) in this
// thread. Each step the PRNG picks one enabled action: a client sends (real jute frames from
// the product's encoders), the net worker moves one client frame into its shard's ring or reads
// a shard's output, a shard polls a few frames of the net or of the commit stream, a writer
// drains its overflow, the commit worker runs one driver turn (polls a few frames, tick, stage,
// flush, release: commit_worker.ts's order), the disk completes its write (then a turn), or the
// clock advances. On the clock, shard timers tick (touches, every tickTime / 2), clients ping
// when idle for a third of their timeout, and when nothing but time can make progress the clock
// jumps to the next timer. The action weights, shape and knobs are drawn per seed (swarm
// testing).
//
// Sessions end in every way (replica_client.ts: workers, silent clients, droppers that may
// come back): 40 % of the seeds use short ticks and timeouts (tickTime 0.5-2 s, timeouts of
// 2-5 ticks), and some of those stall one disk write for longer than the timeout.
//
// Checked as it runs: FIFO reply order per session, reply zxids never going back (a txn's
// above every earlier reply's), no reply, event or APPLIED frame beyond what the disk reported
// durable, nothing acknowledged in or after a failed batch, no connection closed unless its
// session closed or expired (or the disk failed); a session its client keeps alive (a request
// or ping at least every third of its timeout) never expires, through a disk stall too; a
// quiet session expires within its timeout and three ticks of its last touch reaching the
// commit worker, or of the last time that worker saw touches waiting unread (expiryDeadline);
// a session is closed by one closeSession txn at most (replica_log.ts); a reconnect is
// accepted exactly while the session's closeSession is not published; "stuck": nothing but time
// can move while a request or handshake is unanswered or a frame waits in a ring or an
// overflow queue, or the run does not end. Direct writes: a reply reaches the net worker only
// once the stream published a root holding its zxid, only for a connection with a direct write
// in flight; APPLIED_WRITE_ANSWERED (or ERROR answered) only for a write sent direct; a
// connection closed because its own closeSession committed got every reply first (ZooKeeper
// answers what preceded the closeSession, then the closeSession, then closes). At the end (replica_checks.ts): the durable log,
// decoded, replayed against a reference model: every acknowledged write's reply, each read's
// content at its zxid (read-your-writes), watch events (an expiry's NodeDeleted too) before any
// reply that shows their change, each expiry deleting exactly its session's ephemerals, every
// durable txn applied, and the final shared tree equal to the model. A failure throws a ReplicaSimFailure naming the
// seed and the step, with the last trace lines.

import { LogSyncTimes } from '../../src/metrics/sync_times.js';
import { Applier } from '../../src/commit/applier.js';
import { CommitCore } from '../../src/commit/commit_core.js';
import { GroupCommit, type Batch } from '../../src/commit/group_commit.js';
import { PendingView } from '../../src/commit/pending_view.js';
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/config/server_config.js';
import { createCommitMetricsBlock, CommitMetrics } from '../../src/metrics/commit_metrics.js';
import { createShardMetricsBlock, ShardMetrics } from '../../src/metrics/shard_metrics.js';
import { createSystemNodes, TreeWriter } from '../../src/store/arena/index.js';
import { CommitStage } from '../../src/workers/commit_stage.js';
import type { FrameSink } from '../../src/workers/frame_sink.js';
import { HeadWriter, type LinkReader } from '../../src/workers/link.js';
import {
  APPLIED_CLOSE_SESSION,
  APPLIED_CREATE_SESSION,
  APPLIED_WRITE_ANSWERED,
  CommitStream,
  CommitToNet,
  NetToCommit,
  NetToShard,
  ShardToCommit,
  ShardToNet,
} from '../../src/workers/link_kinds.js';
import { ConnFlow, Next } from '../../src/workers/net/conn_flow.js';
import { ShardStage } from '../../src/workers/shard/shard_stage.js';
import { ShardTree } from '../../src/workers/shard/shard_tree.js';
import { Rng } from './prng.js';
import { finalChecks } from './replica_checks.js';
import { describeSent, SimClient, type ClientEnv, type ClientPlan, type ClientRole } from './replica_client.js';
import { NetBackpressure, SimLink, type LinkCounters } from './replica_links.js';
import { SimLog, type LoggedTxn } from './replica_log.js';
import type { RefNode } from './replica_model.js';
import { replicaOptions, type ReplicaSimOptions, type RingShapes } from './replica_options.js';

export { replicaOptions, type ReplicaSimOptions } from './replica_options.js';

/** Wall-clock epoch of simulated time 0 (txn times, session ids). */
const EPOCH_MS = 1_700_000_000_000;
const STEPS_MAX = 400_000;
const TRACE_TAIL = 60;
const TRACE_KEPT_MAX = 400_000;
/** Frames one commit turn takes from one shard ring at most (the driver's bound is 1024). */
const POLL_FRAMES_MAX = 16;
/** Frames a shard or the net worker takes from one ring per poll at most (drivers: 512). */
const READ_FRAMES_MAX = 8;
/** The shard and commit drivers wake at least this often (IDLE_WAIT_MS_MAX): a shard then
 *  recomputes its input-stalled flag. */
const DRIVER_WAKE_MS = 100;
/** The commit worker's driver wakes at least this often (commit_worker.ts IDLE_WAIT_MS_MAX);
 *  each turn's CommitStage.tick probes for touches waiting unread between ticks. */
const COMMIT_WAKE_MS = 50;
/** A run whose simulated time passes this has not ended: stuck. */
const SIM_TIME_MS_MAX = 600_000;
/** 1 MiB, allocated (and zeroed) up front for every seed: a larger arena costs more time than
 *  the run. The trees stay small; one that outgrew it would fail its seed, loudly. */
const SMALL_ARENA = { page_bytes: 1024, segment_bytes: 64 * 1024, segments_max: 16, reader_slots: 8, root_ring: 16 };
/** Bytes of framing our rings add around a client frame (server_config.ts FRAME_OVERHEAD_BYTES). */
const FRAME_OVERHEAD_BYTES = 64;

export class ReplicaSimFailure extends Error {
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly reason: string,
    readonly trace_tail: readonly string[],
  ) {
    super(`replica sim seed ${seed} failed at step ${step}: ${reason}\n--- last events ---\n${trace_tail.join('\n')}`);
  }
}

export interface ReplicaRunStats {
  steps: number;
  sim_ms: number;
  /** Requests and pings sent (answered, unanswered or lost with their connection). */
  requests: number;
  replies: number;
  events: number;
  /** APPLIED frames on the commit stream (txns released). */
  txns: number;
  /** ROOT frames on the commit stream (published roots). */
  roots: number;
  batches: number;
  /** The disk failed a batch (its first zxid). */
  failed_from: number | null;
  /** Sessions closed by expiry (durable closeSession txns nobody asked for), the ephemerals
   *  those deleted, and the watch events clients got for those deletions. */
  expired: number;
  expired_ephemerals: number;
  expiry_events: number;
  /** Reconnects with a session id: accepted, refused. */
  reattached: number;
  refused: number;
  /** Frames that went to an overflow queue (a ring was full), per link kind, and overflows
   *  drained. */
  overflowed: { net_to_shard: number; shard_to_net: number; shard_to_commit: number; commit_stream: number; net_to_commit: number; commit_to_net: number };
  drained: number;
  /** Sockets the net worker paused for a full ring. */
  ring_pauses: number;
  /** Messages that crossed a link in pieces. */
  pieced: number;
  /** Expiry checks the commit worker deferred: it was told session touches wait unread. */
  deferred_ticks: number;
  /** Log batches whose write + sync took longer than 1000 ms (a warning each: LogSyncTimes). */
  slow_syncs: number;
  /** Direct writes the net worker sent the commit worker (net/direct_write.ts), and those that
   *  went through the shard instead because the net -> commit ring had no room for them. */
  direct_writes: number;
  direct_ring_full: number;
  /** Direct writes sent while an earlier one of the connection was still unanswered. */
  direct_pipelined: number;
  /** Direct replies the net worker wrote to their connection. */
  direct_replies: number;
  /** Shard frames the net worker held behind a direct write's reply, and those it dropped when
   *  the shard closed the connection meanwhile. */
  held_frames: number;
  held_dropped: number;
  /** Placeholders (NetToShard.DIRECT_WRITE) that reached their shard after their commit had
   *  completed them (the shard's direct_done path). */
  placeholders_after_commit: number;
  /** Shard frames marked AFTER_DIRECT that made the commit worker take direct writes first. */
  after_direct_takes: number;
}

interface SimShard {
  readonly index: number;
  readonly stage: ShardStage;
  readonly tree: ShardTree;
  /** net_to_shard[i]: written by the net worker. */
  readonly net_in: SimLink;
  readonly backpressure: NetBackpressure<SimClient>;
  /** This shard's reader of the commit stream. */
  readonly from_commit: LinkReader;
  readonly to_net: SimLink;
  readonly to_commit: SimLink;
  /** topology.shard_input_stalled[i]. */
  stalled: boolean;
  /** The touch timer's next firing. */
  next_touch_ms: number;
  /** The driver's last loop turn (it wakes at least every DRIVER_WAKE_MS). */
  last_turn_ms: number;
}

interface DiskWrite {
  readonly seq: number;
  readonly first_zxid: number;
  readonly last_zxid: number;
  readonly fails: boolean;
  readonly completes_at_ms: number;
}

interface Action {
  readonly weight: number;
  readonly run: () => void;
}

/** Every action a run can take, made once. */
interface SimActions {
  readonly clients: readonly { readonly send: Action; readonly read: Action }[];
  readonly shards: readonly Record<'poll_net' | 'poll_commit' | 'net_poll' | 'work' | 'drain' | 'net_drain', Action>[];
  readonly commit_turn: Action;
  readonly commit_drain: Action;
  /** The commit driver's to_net.drainAsync (only once the stream is not blocked). */
  readonly commit_net_drain: Action;
  /** The net worker reads commit_to_net (direct replies). */
  readonly net_commit: Action;
  readonly disk: Action;
  readonly step: Action;
  readonly jump: Action;
}

/** The commit stream's port: every frame's head is checked as it is sent, then it goes out. */
class TapSink implements FrameSink {
  constructor(
    private readonly link: SimLink,
    private readonly tap: (head: Uint8Array) => void,
  ) {}

  get blocked(): boolean {
    return this.link.blocked;
  }

  send(head: HeadWriter, body?: Uint8Array, body_start?: number, body_end?: number): void {
    this.tap(head.view_bytes());
    this.link.send(head, body, body_start, body_end);
  }
}

export class ReplicaSim {
  private readonly rng: Rng;
  /** Simulated milliseconds since the start. */
  private t_ms = 0;
  private step_no = 0;
  private readonly trace_lines: string[] = [];
  private readonly writer: TreeWriter;
  private readonly applier: Applier;
  private readonly commit: CommitStage;
  /** The commit stage's log sync times (ZooKeeper's 1000 ms warning threshold) and the warnings
   *  it logged, one per batch whose simulated write + sync took longer. */
  readonly sync_times = new LogSyncTimes(1000);
  readonly sync_warnings: string[] = [];
  private readonly stream: SimLink;
  /** Direct writes (net -> commit) and their replies (commit -> net). */
  private readonly net_to_commit: SimLink;
  private readonly commit_to_net: SimLink;
  /** When the commit worker's timed wake-up last probed for unread touches (advance). */
  private commit_probe_ms = 0;
  /** The net worker's state of each live connection (by id): the product's ConnFlow. */
  private readonly net_conns = new Map<number, ConnFlow>();
  /** The commit worker wrote direct replies to commit_to_net that are not published yet. */
  private replies_unpublished = false;
  /** Direct writes sent (`conn_id/xid`) whose APPLIED_WRITE_ANSWERED / answered ERROR has not
   *  been published yet. */
  private readonly direct_unanswered = new Set<string>();
  /** last_zxid of the newest ROOT sent on the stream, and of the newest one published (every
   *  stream frame sent before it is in the ring: flushed with no overflow left). */
  private root_sent_zxid = 0;
  private root_published_zxid = 0;
  private readonly shards: SimShard[] = [];
  readonly clients: SimClient[] = [];
  /** Live connections by id; ids of gone ones are in `retired` (frames for them are dropped). */
  private readonly conns = new Map<number, SimClient>();
  private readonly retired = new Set<number>();
  private next_conn_id: number;
  private readonly initial = new Map<string, RefNode>();
  private readonly known_paths: string[] = [];
  private readonly known_ephemerals: string[] = [];
  private readonly log: SimLog;
  /** Every connection id ever used, and its client (a createSession names its connection). */
  private readonly conn_clients = new Map<number, SimClient>();
  /** Each session's client, from its createSession's APPLIED frame (a client that dropped its
   *  connection before the answer never learns its session id). */
  private readonly session_clients = new Map<bigint, SimClient>();
  /** zxids of the APPLIED frames published. */
  private readonly published = new Set<number>();
  /** Sessions whose closeSession APPLIED frame went out on the commit stream (its zxid). */
  private readonly closed_in_stream = new Map<bigint, number>();
  private disk_inflight: DiskWrite | null = null;
  private durable_zxid = 0;
  private failed_from: number | null = null;
  private batches_written = 0;
  /** When the commit worker last read a frame touching each session (TOUCH, REQUEST,
   *  SESSION_REATTACH). */
  private readonly core_touched_ms = new Map<bigint, number>();
  /** The last time the commit worker was told touches wait unread (its expiry deferral). */
  private last_unread_ms = Number.NEGATIVE_INFINITY;
  private readonly counters = {
    net_to_shard: { overflowed: 0, drained: 0, filled_max: 0 },
    shard_to_net: { overflowed: 0, drained: 0, filled_max: 0 },
    shard_to_commit: { overflowed: 0, drained: 0, filled_max: 0 },
    commit_stream: { overflowed: 0, drained: 0, filled_max: 0 },
    net_to_commit: { overflowed: 0, drained: 0, filled_max: 0 },
    commit_to_net: { overflowed: 0, drained: 0, filled_max: 0 },
  } satisfies Record<keyof RingShapes, LinkCounters>;
  private readonly stats: ReplicaRunStats = {
    steps: 0,
    sim_ms: 0,
    requests: 0,
    replies: 0,
    events: 0,
    txns: 0,
    roots: 0,
    batches: 0,
    failed_from: null,
    expired: 0,
    expired_ephemerals: 0,
    expiry_events: 0,
    reattached: 0,
    refused: 0,
    overflowed: { net_to_shard: 0, shard_to_net: 0, shard_to_commit: 0, commit_stream: 0, net_to_commit: 0, commit_to_net: 0 },
    drained: 0,
    ring_pauses: 0,
    pieced: 0,
    deferred_ticks: 0,
    slow_syncs: 0,
    direct_writes: 0,
    direct_ring_full: 0,
    direct_pipelined: 0,
    direct_replies: 0,
    held_frames: 0,
    held_dropped: 0,
    placeholders_after_commit: 0,
    after_direct_takes: 0,
  };
  private readonly head = new HeadWriter();
  private readonly actions: SimActions;
  private readonly enabled_now: Action[] = [];
  private readonly touch_every_ms: number;
  private readonly granted_timeout_ms: number;
  private readonly jute_max_buffer_bytes: number;

  constructor(readonly options: ReplicaSimOptions) {
    this.rng = new Rng(options.seed);
    this.writer = TreeWriter.create(SMALL_ARENA);
    this.writer.begin();
    createSystemNodes(this.writer);
    this.writer.commit(0);
    this.applier = new Applier(this.writer, 0);
    this.log = new SimLog((m) => this.fail(m));
    const pending = new PendingView(this.writer.view, 0);
    const clock = { now_ms: () => EPOCH_MS + this.t_ms, now_us: () => this.t_ms * 1000 };
    const secret = new Uint8Array(32).map(() => this.rng.int(0, 255));
    const tick_ms = options.tick_ms;
    const core = new CommitCore(
      { server_id: 1, tick_ms, ttl_enabled: false, secret, reap_interval_ms: 60_000, reap_per_check_max: 1 },
      { now_ms: clock.now_ms },
      { view: pending, sessions: new Map() },
    );
    const gc = new GroupCommit({ txns_max: options.batch_txns_max, bytes_max: 1 << 20, wait_us: options.batch_wait_us, commit_on_durable: true }, 0);
    this.stream = new SimLink('commit_stream', options.rings.commit_stream, options.shards, this.counters.commit_stream);
    this.net_to_commit = new SimLink('net_to_commit', options.rings.net_to_commit, 1, this.counters.net_to_commit);
    this.commit_to_net = new SimLink('commit_to_net', options.rings.commit_to_net, 1, this.counters.commit_to_net);
    this.commit = new CommitStage(
      {
        stream: new TapSink(this.stream, (h) => this.tapStream(h)),
        to_net: options.direct_writes ? new TapSink(this.commit_to_net, (h) => this.tapToNet(h)) : null,
        takeDirectWrites: () => this.takeDirectWrites(),
        log: { writable: () => true, writeBatch: (b) => this.diskWrite(b) },
        clock,
        applier: this.applier,
        metrics: new CommitMetrics(createCommitMetricsBlock()),
        sync_times: this.sync_times,
        warn: (line) => {
          this.sync_warnings.push(line);
          this.stats.slow_syncs++;
        },
      },
      { core, pending, gc },
    );
    const config: ServerConfig = {
      ...DEFAULT_CONFIG,
      read_workers: options.shards,
      max_outstanding_per_session: options.max_outstanding_per_session,
      tick_time_ms: tick_ms,
      min_session_timeout_ms: 2 * tick_ms,
      max_session_timeout_ms: 20 * tick_ms,
      // A legal configuration: every ring holds a request of jute.maxbuffer (server_config.ts).
      jute_max_buffer_bytes: Math.min(DEFAULT_CONFIG.jute_max_buffer_bytes, this.smallestRingBytes() / 2 - 4 - FRAME_OVERHEAD_BYTES),
    };
    this.jute_max_buffer_bytes = config.jute_max_buffer_bytes;
    this.granted_timeout_ms = Math.min(20 * tick_ms, Math.max(2 * tick_ms, options.timeout_ms));
    for (let i = 0; i < options.shards; i++) this.shards.push(this.newShard(i, config));
    this.touch_every_ms = this.shards[0]!.stage.touch_every_ms;
    for (const s of this.shards) s.next_touch_ms = this.touch_every_ms;
    this.readInitialTree(this.shards[0]!.tree);
    const env: ClientEnv = {
      step: () => this.step_no,
      now_ms: () => this.t_ms,
      durableZxid: () => this.durable_zxid,
      failedFromZxid: () => this.failed_from,
      closedInStream: (id) => this.closed_in_stream.has(id),
      sessionGone: (id) => this.sessionGone(id),
      horizon: () => this.horizon(),
      newConnId: () => this.next_conn_id++,
      known_paths: this.known_paths,
      known_ephemerals: this.known_ephemerals,
      fail: (m) => this.fail(m),
      trace: (l) => this.trace(l),
    };
    for (let k = 0; k < options.clients; k++) {
      const conn_id = k + 1;
      const plan = this.drawPlan();
      const c = new SimClient(k, conn_id, options.shards, plan, options.pipeline_max, options.profile, options.data_bytes_max, this.rng.fork(), env);
      this.clients.push(c);
      this.conns.set(conn_id, c);
      this.conn_clients.set(conn_id, c);
    }
    this.next_conn_id = options.clients + 1;
    this.actions = this.actionsOf();
    this.trace(`direct writes ${options.direct_writes ? 'on' : 'off'}; options ${JSON.stringify(options)}`);
  }

  private smallestRingBytes(): number {
    return Math.min(...Object.values(this.options.rings).map((r: { capacity_bytes: number }) => r.capacity_bytes));
  }

  /** One client's role and script (from the run's stream). */
  private drawPlan(): ClientPlan {
    const o = this.options;
    const ops = this.rng.int(o.ops_per_client[0], o.ops_per_client[1]);
    const close_at_end = this.rng.chance(o.close_chance);
    const e = o.expiry;
    if (e === null) return { role: 'worker', ops, quiet_after: ops, close_at_end, timeout_ms: o.timeout_ms, again_after_ms: null };
    const roll = this.rng.float();
    const role: ClientRole = roll < e.silent_chance ? 'silent' : roll < e.silent_chance + e.drop_chance ? 'dropper' : 'worker';
    const quiet_after = this.rng.int(1, ops - 1);
    const t = this.granted_timeout_ms;
    let again_after_ms: number | null = null;
    if (role !== 'worker' && this.rng.chance(e.again_chance)) {
      // Soon (the session lives: a dropper must get it back) or long after it expired.
      again_after_ms = this.rng.chance(0.5) ? this.rng.int(1, Math.floor(t / 4)) : this.rng.int(Math.floor(t * 1.5), t * 3);
    }
    return { role, ops, quiet_after, close_at_end, timeout_ms: o.timeout_ms, again_after_ms };
  }

  private newShard(index: number, config: ServerConfig): SimShard {
    const tree = new ShardTree(this.writer.handle);
    tree.pinNewest();
    const rings = this.options.rings;
    const net_in = new SimLink(`net_to_shard[${index}]`, rings.net_to_shard, 1, this.counters.net_to_shard);
    const to_net = new SimLink(`shard_to_net[${index}]`, rings.shard_to_net, 1, this.counters.shard_to_net);
    const to_commit = new SimLink(`shard_to_commit[${index}]`, rings.shard_to_commit, 1, this.counters.shard_to_commit);
    const shard: SimShard = {
      index,
      tree,
      net_in,
      backpressure: new NetBackpressure<SimClient>(net_in),
      from_commit: this.stream.readers[index]!,
      to_net,
      to_commit,
      stalled: false,
      next_touch_ms: 0,
      last_turn_ms: 0,
      stage: new ShardStage({
        index,
        config,
        to_net,
        to_commit,
        tree,
        now_ms: () => EPOCH_MS + this.t_ms,
        // Only SASL draws from it, and the simulator configures none: the seeds' streams stay.
        randomBytes: (n) => new Uint8Array(n).map(() => this.rng.int(0, 255)),
        metrics: new ShardMetrics(createShardMetricsBlock()),
        inputStalled: (stalled) => {
          shard.stalled = stalled;
          this.trace(`shard ${index} input ${stalled ? 'STALLED' : 'flowing'}`);
        },
        // A standalone replica: it knows of a commit when it publishes it (no COMMIT from a leader).
        knownCommitZxid: () => 0,
      }),
    };
    return shard;
  }

  /** The system nodes as the arena holds them: the model starts from the same state. */
  private readInitialTree(tree: ShardTree): void {
    for (const path of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      const n = tree.node(path);
      if (n === undefined) throw new Error(`replica sim: no ${path} in a new tree`);
      const s = n.stat();
      const children = new Set(n.children());
      this.initial.set(path, {
        data: n.data(),
        czxid: s.czxid,
        mzxid: s.mzxid,
        pzxid: s.pzxid,
        version: s.version,
        // The Stat shows cversion * 2 - numChildren; the model keeps the stored count.
        cversion: (s.cversion + children.size) / 2,
        aversion: s.aversion,
        owner: s.ephemeralOwner,
        children,
      });
    }
  }

  // ---- sessions ----

  /** The commit worker keeps this session alive no more (expired, closed, or never was). */
  private sessionGone(session_id: bigint): boolean {
    const r = this.commit.core.sessions.get(session_id);
    return r === undefined || r.closing;
  }

  /** Every silent or dropped session is over: lingering workers may stop. */
  private horizon(): boolean {
    return this.clients.every((c) => c.role === 'worker' || c.done);
  }

  /**
   * A closeSession txn published (in stream order, after its session's createSession). One
   * nobody asked for (cxid 0: CommitCore.expireSession) is an expiry, and must not hit a
   * session its client was keeping alive at the txn's time.
   */
  private onClosePublished(t: LoggedTxn): void {
    const c = this.session_clients.get(t.session_id);
    const sid = `session 0x${t.session_id.toString(16)}`;
    if (c === undefined) this.fail(`closeSession txn zxid ${t.zxid} for ${sid}, which no client's connection created`);
    if (t.cxid !== 0) {
      if (!c.closing) this.fail(`${c.name}: closeSession txn zxid ${t.zxid} xid ${t.cxid}, but the client never sent closeSession`);
      return;
    }
    this.stats.expired++;
    const at_ms = t.time_ms - EPOCH_MS;
    this.trace(`${c.name}: ${sid} EXPIRED at t=${at_ms} (zxid ${t.zxid}, ${t.paths.length} ephemerals)`);
    for (const k of c.kept_alive) {
      if (k.from_ms <= at_ms && (k.until_ms === null || at_ms <= k.until_ms)) {
        this.fail(
          `${c.name}: ${sid} expired at t=${at_ms} (zxid ${t.zxid}) while its client kept it alive since t=${k.from_ms} ` +
            `(a request or ping at least every ${Math.floor(c.timeout_ms / 3)} ms; timeout ${c.timeout_ms} ms)`,
        );
      }
    }
  }

  /**
   * A quiet session's expiry is due by: its last touch (its last message reached the commit
   * worker within a touch period, or later if it waited in a ring: then when the commit worker
   * read it), plus its timeout rounded up to a tick, plus a tick a deferral may still hold it
   * (CommitCore ends a deferral at the first tick that sees no backlog, and ticks run only
   * when a bucket is due; a deferral goes on while touches wait unread), plus a tick of slack
   * for the commit worker's turn. Null while the shard's ring to the commit worker holds
   * frames: a touch of the session may wait there.
   */
  private expiryDeadline(c: SimClient): number | null {
    const s = this.shards[c.shard]!;
    if (s.to_commit.hasData() || s.to_commit.blocked || this.net_to_commit.hasData()) return null;
    const tick = this.options.tick_ms;
    const timeout_ms = c.timeout_ms > 0 ? c.timeout_ms : this.granted_timeout_ms;
    const touched = this.core_touched_ms.get(c.session_id) ?? 0;
    return Math.max(c.quiet_since_ms + this.touch_every_ms, touched, this.last_unread_ms) + timeout_ms + 3 * tick;
  }

  // ---- the run ----

  run(): ReplicaRunStats {
    while (this.step_no < STEPS_MAX) {
      const actions = this.enabled();
      if (actions.length === 0) break;
      this.step_no++;
      this.pick(actions).run();
    }
    if (this.step_no >= STEPS_MAX) this.fail(`stuck: no quiescence after ${STEPS_MAX} steps`);
    for (const c of this.clients) {
      if (!c.done) this.fail(`stuck: ${c.name} is not done: state ${c.state}, phase ${c.phase}, ${c.outstanding.length} unanswered, ${c.socket.length} unsent`);
    }
    const pending = this.framesPending();
    if (pending !== null) this.fail(`stuck: the run ended with ${pending}`);
    this.trace('quiescent: final checks');
    finalChecks({
      clients: this.clients,
      initial: this.initial,
      trees: this.shards.map((s) => s.tree),
      last_zxid: this.writer.last_root.last_zxid,
      log: this.appliedLog(),
      end_step: this.step_no,
      fail: (step, m) => this.fail(m, step),
    });
    const st = this.stats;
    st.steps = this.step_no;
    st.sim_ms = this.t_ms;
    st.failed_from = this.failed_from;
    for (const k of ['net_to_shard', 'shard_to_net', 'shard_to_commit', 'commit_stream', 'net_to_commit', 'commit_to_net'] as const) {
      st.overflowed[k] = this.counters[k].overflowed;
      st.drained += this.counters[k].drained;
    }
    st.pieced = this.shards.reduce(
      (n, s) => n + s.net_in.readers[0]!.pieced_messages + s.to_net.readers[0]!.pieced_messages + s.to_commit.readers[0]!.pieced_messages + s.from_commit.pieced_messages,
      this.net_to_commit.readers[0]!.pieced_messages + this.commit_to_net.readers[0]!.pieced_messages,
    );
    const expiries = new Set<number>();
    for (const t of this.log.closes.values()) {
      if (t.cxid !== 0) continue;
      expiries.add(t.zxid);
      st.expired_ephemerals += t.paths.length;
    }
    for (const c of this.clients) {
      st.requests += c.outstanding.length + c.lost.length;
      for (const e of c.log) {
        if (e.kind === 'reply') st.replies++;
        else if (e.kind === 'event') {
          st.events++;
          if (expiries.has(e.zxid)) st.expiry_events++;
        }
      }
    }
    st.requests += st.replies;
    return st;
  }

  /** The durable txns, each of which must have been applied and published (APPLIED): the
   *  shared tree holds the whole durable log. */
  private appliedLog(): LoggedTxn[] {
    const out: LoggedTxn[] = [];
    for (const t of this.log.durable) {
      if (this.published.has(t.zxid)) {
        out.push(t);
        continue;
      }
      this.fail(`durable txn zxid ${t.zxid} (${t.kind} of session 0x${t.session_id.toString(16)}) was never applied: the shared tree lacks part of the durable log`);
    }
    return out;
  }

  /** A frame still in a ring or an overflow queue, or null. */
  private framesPending(): string | null {
    if (this.stream.blocked) return 'commit stream frames in the overflow queue';
    for (const l of [this.net_to_commit, this.commit_to_net]) {
      if (l.blocked) return `${l.name} frames in the overflow queue`;
      if (l.hasData()) return `${l.name} frames unread`;
    }
    if (this.replies_unpublished) return 'direct replies written to commit_to_net and not published';
    for (const [id, flow] of this.net_conns) {
      if (flow.direct_in_flight > 0) return `${flow.direct_in_flight} direct writes of connection ${id} unanswered`;
    }
    for (const s of this.shards) {
      if (s.from_commit.hasData()) return `commit stream frames unread by shard ${s.index}`;
      for (const l of [s.net_in, s.to_net, s.to_commit]) {
        if (l.blocked) return `${l.name} frames in the overflow queue`;
        if (l.hasData()) return `${l.name} frames unread`;
      }
    }
    return null;
  }

  private pick(actions: readonly Action[]): Action {
    let total = 0;
    for (const a of actions) total += a.weight;
    let x = this.rng.float() * total;
    for (const a of actions) {
      x -= a.weight;
      if (x < 0) return a;
    }
    return actions[actions.length - 1]!;
  }

  /** The enabled actions, in a fixed order (the PRNG picks among them by weight). The action
   *  objects are made once (actionsOf): a step allocates nothing here. */
  private enabled(): Action[] {
    const out = this.enabled_now;
    out.length = 0;
    const a = this.actions;
    for (const [k, c] of this.clients.entries()) {
      if (c.canSend()) out.push(a.clients[k]!.send);
      if (c.socket.length > 0 && !c.paused_by_shard && !c.paused_by_ring && (c.state === 'connecting' || c.state === 'connected')) out.push(a.clients[k]!.read);
    }
    for (const s of this.shards) {
      const sa = a.shards[s.index]!;
      if (s.stage.reads_net && s.net_in.hasData()) out.push(sa.poll_net);
      if (s.stage.reads_commit && s.from_commit.hasData()) out.push(sa.poll_commit);
      if (s.to_net.hasData()) out.push(sa.net_poll);
      if (s.stage.workPending()) out.push(sa.work);
      if (s.to_net.canDrain() || s.to_commit.canDrain()) out.push(sa.drain);
      if (s.net_in.canDrain()) out.push(sa.net_drain);
    }
    if (this.commit_to_net.hasData()) out.push(a.net_commit);
    if (this.commitHasWork()) out.push(a.commit_turn);
    if (this.stream.canDrain()) out.push(a.commit_drain);
    else if (!this.stream.blocked && this.commit_to_net.canDrain()) out.push(a.commit_net_drain);
    const disk = this.disk_inflight;
    if (disk !== null && this.t_ms >= disk.completes_at_ms) out.push(a.disk);
    // Time passes while anything is going on, and whenever only time can make progress (a disk
    // write in flight, a batch waiting for batch_wait_us, a client waiting for a timer or for
    // its session to expire). With nothing else to do, the clock jumps to the next timer.
    if (out.length > 0) out.push(a.step);
    else if (disk !== null || this.commit.gc.has_unwritten || this.clients.some((c) => !c.done)) out.push(a.jump);
    return out;
  }

  private actionsOf(): SimActions {
    const w = this.options.weights;
    return {
      clients: this.clients.map((c) => ({ send: { weight: w.client, run: () => this.clientSend(c) }, read: { weight: w.net_read, run: () => this.netRead(c) } })),
      shards: this.shards.map((s) => ({
        poll_net: { weight: w.shard_net, run: () => this.shardPollNet(s) },
        poll_commit: { weight: w.shard_commit, run: () => this.shardPollCommit(s) },
        net_poll: { weight: w.net_write, run: () => this.netPoll(s) },
        work: { weight: w.shard_net, run: () => this.shardTail(s) },
        drain: { weight: w.shard_commit, run: () => this.shardDrain(s) },
        net_drain: { weight: w.net_read, run: () => this.netDrain(s) },
      })),
      commit_turn: { weight: w.commit, run: () => this.commitTurn('turn') },
      commit_drain: { weight: w.commit, run: () => this.commitDrain() },
      commit_net_drain: { weight: w.commit, run: () => this.commitNetDrain() },
      net_commit: { weight: w.net_write, run: () => this.netPollCommit() },
      disk: { weight: w.disk, run: () => this.diskComplete() },
      step: { weight: w.advance, run: () => this.advance(false) },
      jump: { weight: w.advance, run: () => this.advance(true) },
    };
  }

  private register(c: SimClient): void {
    for (const [id, x] of this.conns) {
      if (x === c && id !== c.conn_id) {
        this.conns.delete(id);
        this.retired.add(id);
      }
    }
    this.conns.set(c.conn_id, c);
    this.conn_clients.set(c.conn_id, c);
  }

  private clientSend(c: SimClient): void {
    if (c.state === 'new') {
      // The net worker accepted the connection: OPEN precedes every DATA frame of it.
      this.register(c);
      this.net_conns.set(c.conn_id, new ConnFlow(this.options.direct_writes, this.options.max_outstanding_per_session));
      const s = this.shards[c.shard]!;
      this.head.begin(NetToShard.OPEN).u32(c.conn_id).str8('127.0.0.1').u32(40_000 + c.conn_id);
      s.net_in.send(this.head);
      s.net_in.flush();
      s.backpressure.afterSend(null);
    }
    c.sendNext();
    if (c.drop_requested) this.dropConn(c);
  }

  /** The client closed its socket (no closeSession): the net worker tells the shard. */
  private dropConn(c: SimClient): void {
    const s = this.shards[c.shard]!;
    c.drop();
    s.backpressure.forget(c);
    this.net_conns.delete(c.conn_id);
    this.conns.delete(c.conn_id);
    this.retired.add(c.conn_id);
    this.head.begin(NetToShard.CLOSED).u32(c.conn_id);
    s.net_in.send(this.head);
    s.net_in.flush();
    s.backpressure.afterSend(null);
  }

  private netRead(c: SimClient): void {
    const payload = c.socket.shift()!;
    // The net worker's frame cutter would close the connection: the simulated clients never do it.
    if (payload.length > this.jute_max_buffer_bytes) this.fail(`${c.name} sent a ${payload.length}-byte frame, over jute.maxbuffer (${this.jute_max_buffer_bytes})`);
    const s = this.shards[c.shard]!;
    const flow = this.net_conns.get(c.conn_id)!;
    if (flow.close_deferred) {
      // net_worker.ts: a connection being closed reads nothing more.
      this.trace(`net drops ${payload.length} B from ${c.name}: closing`);
      return;
    }
    // net_worker.ts onData, one frame at a time.
    const direct = flow.route(payload, false) === Next.DIRECT && this.sendDirect(c, flow, s, payload);
    if (!direct) {
      this.head.begin(NetToShard.DATA).u32(c.conn_id);
      s.net_in.send(this.head, payload);
    }
    // The commit link first: a shard that reads the placeholder may mark what follows it
    // AFTER_DIRECT, and the commit worker then finds the write in its ring.
    if (direct) this.net_to_commit.flush();
    s.net_in.flush();
    s.backpressure.afterSend(c);
    if (c.paused_by_ring) this.stats.ring_pauses++;
    const how = direct ? ' DIRECT (placeholder to the shard)' : '';
    this.trace(`net reads ${payload.length} B from ${c.name} for shard ${c.shard}${how}${c.paused_by_ring ? ': ring full, socket paused' : ''}`);
  }

  /** net_worker.ts sendDirect: a write the flow routed DIRECT goes to net_to_commit if it fits
   *  now, its placeholder to the shard; false: it goes to the shard. */
  private sendDirect(c: SimClient, flow: ConnFlow, s: SimShard, payload: Uint8Array): boolean {
    const request = this.head.begin(NetToCommit.REQUEST).u8(s.index).u32(c.conn_id).i64(flow.direct_session);
    if (!this.net_to_commit.trySend(request, payload)) {
      this.stats.direct_ring_full++;
      return false;
    }
    const xid = i32At(payload, 0);
    this.head.begin(NetToShard.DIRECT_WRITE).u32(c.conn_id).i32(xid).i32(i32At(payload, 4)).f64(EPOCH_MS + this.t_ms);
    s.net_in.send(this.head);
    if (flow.direct_in_flight > 0) this.stats.direct_pipelined++;
    flow.directSent();
    this.direct_unanswered.add(`${c.conn_id}/${xid}`);
    this.stats.direct_writes++;
    return true;
  }

  /** The net worker's drain loop woke: overflow into the ring; everyone resumed once empty. */
  private netDrain(s: SimShard): void {
    const resumed = s.backpressure.drain();
    this.trace(`net drains net_to_shard[${s.index}]${resumed.length > 0 ? `: resumes ${resumed.map((c) => c.name).join(', ')}` : s.net_in.blocked ? ': still full' : ''}`);
  }

  // ---- a shard: its driver's turn (shard_worker.ts run()) ----

  private shardPollNet(s: SimShard): void {
    const n = this.rng.int(1, READ_FRAMES_MAX);
    s.stage.beginNetPoll(EPOCH_MS + this.t_ms);
    s.net_in.readers[0]!.poll((bytes, start, end) => {
      const conn_id = u32At(bytes, start + 1);
      let note = '';
      if (bytes[start] === NetToShard.DIRECT_WRITE && (s.stage.conns.get(conn_id)?.direct_done.length ?? 0) > 0) {
        // Its commit completed it already (the shard read the stream first): ShardSession.directWrite's direct_done path.
        this.stats.placeholders_after_commit++;
        note = ' (a placeholder its commit completed already)';
      }
      this.trace(`shard ${s.index} takes net frame kind ${bytes[start]} conn ${conn_id}${note}`);
      s.stage.onNetFrame(bytes, start, end);
    }, n);
    this.shardTail(s);
  }

  private shardPollCommit(s: SimShard): void {
    const n = this.rng.int(1, READ_FRAMES_MAX);
    s.from_commit.poll((bytes, start, end) => {
      this.trace(`shard ${s.index} takes ${describeStreamFrame(bytes.subarray(start, end))}`);
      s.stage.onCommitFrame(bytes, start, end);
    }, n);
    this.shardTail(s);
  }

  /** What the shard driver does after polling: a slice of watch work, flush, the stalled flag. */
  private shardTail(s: SimShard): void {
    if (s.stage.workPending()) s.stage.stepWork();
    s.to_net.flush();
    s.to_commit.flush();
    s.stage.noteInputStalled(s.net_in.hasData());
    s.last_turn_ms = this.t_ms;
  }

  /** The shard driver's drainAsync woke: overflow into the rings, then its loop goes on. */
  private shardDrain(s: SimShard): void {
    if (s.to_net.canDrain()) s.to_net.drain();
    if (s.to_commit.canDrain()) s.to_commit.drain();
    this.trace(`shard ${s.index} drains: to_net ${s.to_net.blocked ? 'still full' : 'clear'}, to_commit ${s.to_commit.blocked ? 'still full' : 'clear'}`);
    s.stage.noteInputStalled(s.net_in.hasData());
    s.last_turn_ms = this.t_ms;
  }

  // ---- the net worker reads a shard's output ----

  private netPoll(s: SimShard): void {
    const n = this.rng.int(1, READ_FRAMES_MAX);
    // The net worker copies what it keeps: the ring slot is reused after the callback.
    s.to_net.readers[0]!.poll((bytes, start, end) => this.netFrame(s, bytes.slice(start, end)), n);
  }

  private netFrame(s: SimShard, f: Uint8Array): void {
    const kind = f[0];
    const conn_id = u32At(f, 1);
    const c = this.conns.get(conn_id);
    if (c === undefined) {
      if (this.retired.has(conn_id)) return; // the socket is gone: the net worker drops it
      this.fail(`shard ${s.index} sent kind ${kind} for unknown connection ${conn_id}`);
    }
    switch (kind) {
      case ShardToNet.SEND: {
        if (c.state === 'closed') return;
        const flow = this.net_conns.get(conn_id)!;
        if (flow.onShardSend(f, 5, f.length) === Next.HOLD) {
          this.stats.held_frames++;
          this.trace(`net holds a frame of ${c.name} behind its ${flow.direct_in_flight} direct writes`);
          break;
        }
        c.receive(f.subarray(5));
        break;
      }
      case ShardToNet.CLOSE: {
        if (c.state === 'closed') return;
        const flow = this.net_conns.get(conn_id)!;
        if (flow.onShardClose() === Next.CLOSE_LATER) {
          // net_worker.ts: its direct replies come first (or the commit worker's CLOSE).
          this.trace(`net closes ${c.name} once its ${flow.direct_in_flight} direct writes are answered`);
          return;
        }
        this.netClose(c);
        break;
      }
      case ShardToNet.PAUSE:
        c.paused_by_shard = true;
        this.trace(`net pauses ${c.name}`);
        break;
      case ShardToNet.RESUME:
        c.paused_by_shard = false;
        this.trace(`net resumes ${c.name}`);
        break;
      default:
        this.fail(`shard ${s.index} sent unknown net frame kind ${kind}`);
    }
  }

  /** The net worker closes the socket: the client sees it, the shard hears CLOSED. */
  private netClose(c: SimClient): void {
    const s = this.shards[c.shard]!;
    const conn_id = c.conn_id;
    this.checkClosedAfterCloseSession(c);
    this.net_conns.delete(conn_id);
    c.closed(this.failed_from !== null, s.tree.last_zxid);
    s.backpressure.forget(c);
    this.conns.delete(conn_id);
    this.retired.add(conn_id);
    // The net worker reports the closed socket (the shard has forgotten the connection).
    this.head.begin(NetToShard.CLOSED).u32(conn_id);
    s.net_in.send(this.head);
    s.net_in.flush();
    s.backpressure.afterSend(null);
  }

  /**
   * A connection closed because its own closeSession committed (not an expiry, no disk fault)
   * was told everything first: ZooKeeper answers the requests before the closeSession in order,
   * then the closeSession, then closes (only an expiry or a failure closes with replies owed).
   */
  private checkClosedAfterCloseSession(c: SimClient): void {
    if (!c.closing || this.failed_from !== null || c.outstanding.length === 0) return;
    const zxid = this.closed_in_stream.get(c.session_id);
    const t = zxid === undefined ? undefined : this.log.by_zxid.get(zxid);
    if (t === undefined || t.cxid === 0) return;
    this.fail(
      `${c.name}: its closeSession (xid ${t.cxid}) committed at zxid ${zxid}, but the connection closed with ${c.outstanding.length} replies owed ` +
        `(${c.outstanding.map((x) => describeSent(x)).join('; ')})`,
    );
  }

  // ---- the net worker reads the commit worker's output: direct replies ----

  private netPollCommit(): void {
    const n = this.rng.int(1, READ_FRAMES_MAX);
    this.commit_to_net.readers[0]!.poll((bytes, start, end) => this.netCommitFrame(bytes.slice(start, end)), n);
  }

  /** net_worker.ts onCommitFrame: the reply, then what the shard sent behind the write. */
  private netCommitFrame(f: Uint8Array): void {
    if (f[0] !== CommitToNet.SEND && f[0] !== CommitToNet.CLOSE) this.fail(`the commit worker sent unknown net frame kind ${f[0]}`);
    const conn_id = u32At(f, 1);
    const c = this.conns.get(conn_id);
    const flow = this.net_conns.get(conn_id);
    if (c === undefined || flow === undefined) {
      if (this.retired.has(conn_id)) return; // gone, or closed by its shard meanwhile
      // A CLOSE may name a connection the net worker never knew here (it closed before its session).
      if (f[0] === CommitToNet.CLOSE) return;
      this.fail(`the commit worker sent a direct reply for unknown connection ${conn_id}`);
    }
    if (f[0] === CommitToNet.CLOSE) {
      // net_worker.ts: a direct write in flight will never be answered; without one, the
      // shard's CLOSE closes it in order.
      const in_flight = flow.direct_in_flight;
      const dropped = flow.held_frames;
      if (flow.onCommitClose() === Next.DROP) return;
      this.stats.held_dropped += dropped;
      this.trace(`net closes ${c.name}: the commit worker closed it with ${in_flight} direct writes unanswered (${dropped} held frames dropped)`);
      this.netClose(c);
      return;
    }
    const xid = i32At(f, 9);
    const zxid = Number(view(f, 13).getBigInt64(0));
    // Published behind the stream frames and the root that hold its txn (publishOutputs).
    if (zxid > this.root_published_zxid) this.fail(`${c.name}: direct reply xid ${xid} at zxid ${zxid} reached the net worker, but the stream published roots only through ${this.root_published_zxid}`);
    const reply = flow.onCommitSend();
    if (reply === Next.DROP) this.fail(`${c.name}: a direct reply (xid ${xid}, zxid ${zxid}) while no direct write of it is in flight`);
    this.stats.direct_replies++;
    const held = reply === Next.WRITE ? null : flow.releaseHeld();
    this.trace(`net writes the direct reply xid ${xid} zxid ${zxid} to ${c.name}${held === null ? '' : `, then ${held.length} held frames`}`);
    c.receive(f.subarray(5));
    if (held !== null) for (const frame of held) c.receive(frame);
    if (reply === Next.WRITE_LAST_CLOSE) this.netClose(c);
  }

  // ---- time ----

  /** The clock moves (a small step, or a jump to the next timer when only time can help);
   *  timers that came due run: shard touches, driver wake-ups, client pings and plans. */
  private advance(jump: boolean): void {
    if (jump) this.checkNotStuck();
    const to = jump ? this.nextEventMs() : this.t_ms + this.rng.int(1, this.options.advance_ms_max);
    this.t_ms = Math.max(to, this.t_ms + 1);
    for (const s of this.shards) {
      if (this.t_ms >= s.next_touch_ms) {
        s.stage.tick(EPOCH_MS + this.t_ms);
        s.to_commit.flush();
        s.next_touch_ms = this.t_ms + this.touch_every_ms;
      }
      if (this.t_ms - s.last_turn_ms >= DRIVER_WAKE_MS) {
        s.stage.noteInputStalled(s.net_in.hasData());
        s.last_turn_ms = this.t_ms;
      }
    }
    if (this.t_ms - this.commit_probe_ms >= COMMIT_WAKE_MS) {
      // The driver's timed turn: CommitStage.tick's probe between ticks (the due tick itself
      // runs in a commit turn, which commitHasWork enables).
      this.commit_probe_ms = this.t_ms;
      if (this.touchesUnread()) this.commit.core.noteUnread();
    }
    for (const c of this.clients) c.timer();
    this.checkDeadlines();
  }

  /** The earliest timer after now: a shard's touch, a client's, the core's tick, the disk, a
   *  batch's wait. */
  private nextEventMs(): number {
    let at = Number.POSITIVE_INFINITY;
    for (const s of this.shards) at = Math.min(at, s.next_touch_ms);
    for (const c of this.clients) at = Math.min(at, c.nextTimerMs() ?? at);
    at = Math.min(at, this.commit.core.next_tick_ms() - EPOCH_MS);
    if (this.disk_inflight !== null) at = Math.min(at, this.disk_inflight.completes_at_ms);
    const due_us = this.commit.gc.due_at_us();
    if (due_us !== null) at = Math.min(at, Math.ceil(due_us / 1000));
    return Math.ceil(at);
  }

  /** Only time can move the run: nothing may wait in the pipeline unless time will move it. */
  private checkNotStuck(): void {
    if (this.disk_inflight !== null || this.commit.gc.has_unwritten) return;
    const pending = this.framesPending();
    if (pending !== null) this.fail(`stuck: nothing can move but ${pending}`);
    for (const c of this.clients) {
      const waiting = c.outstanding[0];
      if (waiting !== undefined && c.socket.length === 0) {
        this.fail(`stuck: ${c.name} waits for ${c.outstanding.length} replies (the oldest sent at t=${waiting.sent_ms}), and nothing is in flight`);
      }
      if (c.socket.length > 0 && c.paused_by_shard) this.fail(`stuck: ${c.name} is paused by its shard with nothing in flight`);
      if (c.state === 'connecting' && c.socket.length === 0) this.fail(`stuck: ${c.name} waits for its ConnectResponse (or the close after a refusal), and nothing is in flight`);
    }
  }

  private checkDeadlines(): void {
    if (this.t_ms > SIM_TIME_MS_MAX) this.fail(`stuck: simulated time ran past ${SIM_TIME_MS_MAX} ms`);
    for (const c of this.clients) {
      if (!c.awaiting_expiry) continue;
      const deadline = this.expiryDeadline(c);
      if (deadline !== null && this.t_ms > deadline) {
        this.fail(
          `${c.name}: session 0x${c.session_id.toString(16)} quiet since t=${c.quiet_since_ms} (${c.role}${c.dropped ? ', dropped' : ''}) ` +
            `has not expired by t=${deadline} (timeout ${c.timeout_ms} ms, tick ${this.options.tick_ms} ms, touches last waited unread at t=${this.last_unread_ms})`,
        );
      }
    }
  }

  // ---- the commit worker: one driver turn (commit_worker.ts run(), less snapshots, liveness, Zab) ----

  private commitHasWork(): boolean {
    if (!this.stream.blocked && this.commit.room() > 0 && (this.shards.some((s) => s.to_commit.hasData()) || this.net_to_commit.hasData())) return true;
    // The driver's loop turns again once the stream drained (publishOutputs publishes them).
    if (!this.stream.blocked && this.replies_unpublished) return true;
    if (this.commit.gc.due(this.t_ms * 1000)) return true;
    return EPOCH_MS + this.t_ms >= this.commit.core.next_tick_ms();
  }

  private commitTurn(why: string): void {
    const polled: number[] = [];
    // pollInputs: the shards' rings, then the net worker's (direct writes), each within the
    // room left; nothing while the stream is blocked (its overflow must drain first). Without
    // direct writes the net ring stays empty: not polled (no draw), so such seeds run as before.
    const inputs = this.options.direct_writes ? this.shards.length + 1 : this.shards.length;
    for (let i = 0; i < (this.stream.blocked ? 0 : inputs); i++) {
      const room = this.commit.room();
      if (room === 0) break;
      const s = this.shards[i];
      const link = s === undefined ? this.net_to_commit : s.to_commit;
      let n = this.rng.int(0, Math.min(room, POLL_FRAMES_MAX));
      if (n === 0 && link.hasData() && polled.every((x) => x === 0) && this.rng.chance(0.5)) n = 1;
      const handler = s === undefined ? this.commitNetFrame : (bytes: Uint8Array, start: number, end: number) => this.commitFrame(s, bytes, start, end);
      const got = n === 0 ? 0 : link.readers[0]!.poll(handler, n);
      polled.push(got);
      if (got > 0) this.commit.stagePublications();
    }
    this.trace(`commit ${why}: polled [${polled.join(', ')}]${this.stream.blocked ? ' (stream blocked)' : ''}`);
    this.commit.tick(() => this.touchesUnread());
    this.commit.stagePublications();
    this.commit.maybeFlush();
    this.commit.release();
    this.publishOutputs();
  }

  /** commit_worker.ts publishOutputs: the stream, then the direct replies only if the stream
   *  holds nothing back. */
  private publishOutputs(): void {
    this.stream.flush();
    this.notePublished();
    if (this.stream.blocked) return;
    this.commit_to_net.publish();
    this.replies_unpublished = false;
  }

  /** After a stream flush or drain: with no overflow left, every root sent is published. */
  private notePublished(): void {
    if (!this.stream.blocked) this.root_published_zxid = this.root_sent_zxid;
  }

  /** A frame of the net worker's ring into the stage (a direct write touches its session). */
  private readonly commitNetFrame = (bytes: Uint8Array, start: number, end: number): void => {
    if (bytes[start] === NetToCommit.REQUEST) this.core_touched_ms.set(view(bytes, start).getBigInt64(6), this.t_ms);
    this.trace(`commit takes direct write conn ${u32At(bytes, start + 2)} xid ${i32At(bytes, start + 14)}`);
    this.commit.onNetFrame(bytes, start, end);
  };

  /** CommitStagePorts.takeDirectWrites: the net worker's ring to empty, now. */
  private takeDirectWrites(): void {
    const n = this.net_to_commit.readers[0]!.poll(this.commitNetFrame, Number.MAX_SAFE_INTEGER);
    if (n > 0) this.stats.after_direct_takes++;
    this.trace(`commit takes the direct writes first (AFTER_DIRECT): ${n} frames`);
  }

  /** A direct reply written by the stage (published later, by publishOutputs). */
  private tapToNet(h: Uint8Array): void {
    if (!this.options.direct_writes) this.fail(`the commit worker wrote kind ${h[0]} to the net worker, but direct writes are off`);
    if (h[0] !== CommitToNet.SEND && h[0] !== CommitToNet.CLOSE) this.fail(`the commit worker wrote kind ${h[0]} to the net worker`);
    this.replies_unpublished = true;
  }

  /** One shard frame into the stage; the sessions it touches are noted (expiry deadlines). */
  private commitFrame(s: SimShard, bytes: Uint8Array, start: number, end: number): void {
    const kind = bytes[start];
    if (kind === ShardToCommit.REQUEST || kind === ShardToCommit.SESSION_REATTACH || kind === ShardToCommit.TOUCH) {
      const v = view(bytes, start);
      if (kind !== ShardToCommit.TOUCH) this.core_touched_ms.set(v.getBigInt64(5), this.t_ms);
      else for (let i = 0; i < v.getUint32(1); i++) this.core_touched_ms.set(v.getBigInt64(5 + 8 * i), this.t_ms);
    }
    this.commit.onFrame(s.index, bytes, start, end);
  }

  /** The commit driver's drainAsync woke: stream overflow into the ring. */
  private commitDrain(): void {
    this.stream.drain();
    this.notePublished();
    this.trace(`commit drains the stream: ${this.stream.blocked ? 'still full' : 'clear'}`);
  }

  /** The commit driver's to_net.drainAsync woke (the stream is not blocked). */
  private commitNetDrain(): void {
    this.commit_to_net.drain();
    this.replies_unpublished = false;
    this.trace(`commit drains commit_to_net: ${this.commit_to_net.blocked ? 'still full' : 'clear'}`);
  }

  /** commit_worker.ts inputsWaiting(): touches may wait unread behind a full pipeline, in a
   *  socket the net worker paused for a full ring, or in a stalled shard. */
  private touchesUnread(): boolean {
    const unread =
      (this.commit.room() === 0 && (this.shards.some((s) => s.to_commit.hasData()) || this.net_to_commit.hasData())) ||
      this.shards.some((s) => s.backpressure.paused_count > 0) ||
      this.shards.some((s) => s.stalled);
    if (unread) {
      this.stats.deferred_ticks++;
      this.last_unread_ms = this.t_ms;
    }
    return unread;
  }

  // ---- the fake disk ----

  private diskWrite(b: Batch): void {
    if (this.disk_inflight !== null) this.fail(`a second log write (batch ${b.seq}) while batch ${this.disk_inflight.seq} is in flight`);
    this.batches_written++;
    this.stats.batches++;
    this.log.written(b);
    const [lo, hi] = this.options.disk_ms;
    const stall = this.options.stall;
    const stalls = stall !== null && this.batches_written === stall.at_batch;
    const w: DiskWrite = {
      seq: b.seq,
      first_zxid: b.first_zxid,
      last_zxid: b.last_zxid,
      fails: this.batches_written === this.options.fail_at_batch,
      completes_at_ms: this.t_ms + (stalls ? stall.ms : this.rng.int(lo, hi)),
    };
    this.trace(`disk writes batch ${b.seq}: zxids ${b.first_zxid}..${b.last_zxid} (${b.count} txns)${w.fails ? ', will FAIL' : ''}${stalls ? `, STALLS ${stall.ms} ms` : ''}`);
    // commit_worker.ts flushInline: with no input waiting, what is committed goes out first,
    // then the batch is written and settled before writeBatch returns (unless the writer cannot:
    // then it goes async).
    const idle = this.shards.every((s) => !s.to_commit.hasData()) && !this.net_to_commit.hasData();
    if (idle) {
      this.commit.release();
      this.publishOutputs();
    }
    if (!stalls && idle && this.rng.chance(this.options.inline_chance)) {
      this.settle(w, 'inline');
      return;
    }
    this.disk_inflight = w;
  }

  private diskComplete(): void {
    const w = this.disk_inflight!;
    this.disk_inflight = null;
    this.settle(w, 'async');
    this.commitTurn('turn after the write');
  }

  private settle(w: DiskWrite, how: string): void {
    this.log.settled(w.seq, !w.fails);
    if (w.fails) {
      this.failed_from = w.first_zxid;
      this.trace(`disk batch ${w.seq} FAILED (${how})`);
      const eio = Object.assign(new Error('i/o error'), { code: 'EIO' });
      this.commit.failed(w.seq, eio);
      return;
    }
    this.durable_zxid = w.last_zxid;
    this.trace(`disk batch ${w.seq} durable through ${w.last_zxid} (${how})`);
    this.commit.durable(w.seq);
  }

  // ---- the commit stream: each frame's head checked as it is sent ----

  private tapStream(h: Uint8Array): void {
    const kind = h[0];
    const v = view(h, 0);
    if (kind === CommitStream.APPLIED) {
      this.stats.txns++;
      const zxid = Number(v.getBigInt64(10));
      // (d) durability gating at the source: a txn is published only once durable.
      if (zxid > this.durable_zxid) this.fail(`APPLIED zxid ${zxid} published while the disk made only ${this.durable_zxid} durable`);
      if (this.failed_from !== null && zxid >= this.failed_from) this.fail(`APPLIED zxid ${zxid} published after the batch from zxid ${this.failed_from} failed`);
      this.published.add(zxid);
      if (h[18] === APPLIED_CREATE_SESSION) {
        const c = this.conn_clients.get(v.getUint32(2));
        if (c === undefined) this.fail(`APPLIED createSession zxid ${zxid} for connection ${v.getUint32(2)}, which no client opened`);
        this.session_clients.set(v.getBigInt64(23), c);
      }
      if (h[18] === APPLIED_CLOSE_SESSION) {
        const t = this.log.by_zxid.get(zxid);
        if (t === undefined || t.kind !== 'closeSession') this.fail(`APPLIED closeSession zxid ${zxid}, but the durable log has ${t?.kind ?? 'nothing'} there`);
        this.closed_in_stream.set(t.session_id, zxid);
        this.onClosePublished(t);
      }
      if (h[18] === APPLIED_WRITE_ANSWERED) this.answeredDirect(h, 'APPLIED_WRITE_ANSWERED');
      else if (this.direct_unanswered.has(`${v.getUint32(2)}/${v.getInt32(6)}`) && h[1] !== 255) {
        this.fail(`APPLIED zxid ${zxid} (what ${h[18]}) for direct write ${v.getUint32(2)}/${v.getInt32(6)}: its reply would come twice`);
      }
    } else if (kind === CommitStream.ERROR) {
      if (h[14] === 1) this.answeredDirect(h, 'an answered ERROR');
    } else if (kind === CommitStream.ROOT) {
      this.stats.roots++;
      this.root_sent_zxid = Number(v.getBigInt64(26));
    } else if (kind === CommitStream.SESSION) {
      const session_id = v.getBigInt64(10);
      const ok = h[38];
      if (session_id !== 0n && ok !== 0) {
        // A reconnect is accepted only while the session lives: its closeSession comes later.
        const closed_at = this.closed_in_stream.get(session_id);
        if (closed_at !== undefined) this.fail(`reconnect of session 0x${session_id.toString(16)} accepted after its closeSession (zxid ${closed_at}) was published`);
        const c = this.clients.find((x) => x.session_id === session_id);
        if (c !== undefined) this.stats.reattached++;
      } else {
        this.stats.refused++;
      }
    }
    this.trace(`commit publishes ${describeStreamFrame(h)}`);
  }

  /** A commit-stream completion that says the commit worker answered the write itself. */
  private answeredDirect(h: Uint8Array, what: string): void {
    const key = `${u32At(h, 2)}/${i32At(h, 6)}`;
    if (!this.direct_unanswered.delete(key)) this.fail(`${what} for ${key} (connection/xid), which the net worker did not send direct`);
  }

  // ---- trace and failure ----

  trace(line: string): void {
    const text = `${this.step_no} t=${this.t_ms} ${line}`;
    this.trace_lines.push(text);
    const keep = this.options.keep_trace ? TRACE_KEPT_MAX : TRACE_TAIL;
    if (this.trace_lines.length > keep * 2) this.trace_lines.splice(0, this.trace_lines.length - keep);
  }

  /** Steps taken so far. */
  get step(): number {
    return this.step_no;
  }

  /** The whole trace kept (keep_trace), or its tail. */
  get lines(): readonly string[] {
    return this.trace_lines;
  }

  private fail(reason: string, step = this.step_no): never {
    const tail = this.trace_lines.slice(-TRACE_TAIL);
    throw new ReplicaSimFailure(this.options.seed, step, reason, tail);
  }
}

/** Big-endian u32 at f[at] (no DataView: one per frame costs more than the frame). */
function u32At(f: Uint8Array, at: number): number {
  return ((f[at]! << 24) | (f[at + 1]! << 16) | (f[at + 2]! << 8) | f[at + 3]!) >>> 0;
}

/** Big-endian i32 at f[at]. */
function i32At(f: Uint8Array, at: number): number {
  return (f[at]! << 24) | (f[at + 1]! << 16) | (f[at + 2]! << 8) | f[at + 3]!;
}

function view(f: Uint8Array, start: number): DataView {
  return new DataView(f.buffer, f.byteOffset + start, f.byteLength - start);
}

/** One line for a commit-stream frame (its head: the trace). */
function describeStreamFrame(f: Uint8Array): string {
  const v = view(f, 0);
  const origin = `s${f[1]}/c${v.getUint32(2)}/x${v.getInt32(6)}`;
  switch (f[0]) {
    case CommitStream.APPLIED:
      return `APPLIED zxid ${v.getBigInt64(10)} ${origin} err ${v.getInt32(19)}${f[18] === APPLIED_WRITE_ANSWERED ? ' (answered direct)' : ''}`;
    case CommitStream.ROOT:
      return `ROOT through zxid ${v.getBigInt64(26)}`;
    case CommitStream.SESSION:
      return `SESSION ${origin} 0x${v.getBigInt64(10).toString(16)} ok ${f[38]}`;
    case CommitStream.SYNC:
      return `SYNC ${origin}`;
    case CommitStream.ERROR:
      return `ERROR ${origin} err ${v.getInt32(10)}${f[14] === 1 ? ' (answered direct)' : ''}`;
    case CommitStream.CLOSE_CONN:
      return `CLOSE_CONN ${origin}`;
    default:
      return `kind ${f[0]}`;
  }
}

export interface ReplicaRunResult {
  readonly seed: number;
  readonly options: ReplicaSimOptions;
  readonly stats: ReplicaRunStats | null;
  readonly failure: ReplicaSimFailure | null;
  readonly sim: ReplicaSim;
}

/** One seeded run; a failure of an invariant is returned, anything else (a bug of the stages
 *  that throws) is returned as a failure at the step it threw. */
export function runReplicaSeed(seed: number, overrides: Partial<ReplicaSimOptions> = {}): ReplicaRunResult {
  const options = replicaOptions(seed, overrides);
  const sim = new ReplicaSim(options);
  try {
    const stats = sim.run();
    return { seed, options, stats, failure: null, sim };
  } catch (e) {
    if (e instanceof ReplicaSimFailure) return { seed, options, stats: null, failure: e, sim };
    const reason = `threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    const step = sim.step;
    return { seed, options, stats: null, failure: new ReplicaSimFailure(seed, step, reason, sim.lines.slice(-TRACE_TAIL)), sim };
  }
}
