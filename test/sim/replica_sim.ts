// A deterministic one-thread simulator of one replica (standalone): the product's sans-IO
// stages wired by FIFO queues instead of rings, a fake disk and a simulated clock, every random
// choice from one seeded PRNG (prng.ts, as the Zab simulator in simulation.ts).
//
//   SimClient ─socket─▶ net ─net_to_shard[i]─▶ ShardStage i ─shard_to_commit[i]─▶ CommitStage
//       ▲                                          │   ▲                              │  │
//       └──────────── net ◀──shard_to_net[i]───────┘   └───── commit stream[i] ◀──────┘  ▼
//                                                                              fake disk (writeBatch,
//                                                                              durable / failed later)
//
// The shared tree is a real arena (TreeWriter for the Applier, one ShardTree per shard) in this
// thread. Each step the PRNG picks one enabled action: a client sends a request (real jute
// frames from the product's encoders), the net worker moves one client frame to its shard, a
// shard handles one frame from the net or from its copy of the commit stream, the net worker
// hands one shard frame to its client, the commit worker runs one driver turn (polls a few
// frames, tick, stage, flush, release: commit_worker.ts's order), the disk completes its write
// (then a turn), or the clock advances (shards tick: touches). The action weights, shape and
// knobs are drawn per seed (swarm testing).
//
// Checked as it runs (replica_client.ts, tapStream): FIFO reply order per session, reply
// zxids never going back (a txn's above every earlier reply's), no reply, event or APPLIED
// frame beyond what the disk reported durable, nothing acknowledged in or after a failed batch,
// no connection closed unasked. At the end (replica_checks.ts): every request answered, each
// acknowledged write's reply and each read's content against a reference model at its zxid
// (read-your-writes), watch events before any reply that shows their change, and the final
// shared tree equal to the model. A failure throws a ReplicaSimFailure naming the seed and the
// step, with the last trace lines.

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
import { HeadWriter } from '../../src/workers/link.js';
import { CommitStream, NetToShard, ShardToNet } from '../../src/workers/link_kinds.js';
import { ShardStage } from '../../src/workers/shard/shard_stage.js';
import { ShardTree } from '../../src/workers/shard/shard_tree.js';
import { Rng } from './prng.js';
import { finalChecks } from './replica_checks.js';
import { SimClient, type ClientEnv, type ClientProfile } from './replica_client.js';
import type { RefNode } from './replica_model.js';

/** Wall-clock epoch of simulated time 0 (txn times, session ids). */
const EPOCH_MS = 1_700_000_000_000;
const STEPS_MAX = 200_000;
const TRACE_TAIL = 60;
const TRACE_KEPT_MAX = 400_000;
/** Frames one commit turn takes from one shard ring at most (the driver's bound is 1024). */
const POLL_FRAMES_MAX = 16;
/** Simulated time must stay well below the session timeout (replica_client.ts: 30 s): no
 *  session may expire in a run (an expiry's txn is acknowledged to nobody). */
const SIM_TIME_MS_MAX = 20_000;
const SMALL_ARENA = { page_bytes: 1024, segment_bytes: 256 * 1024, segments_max: 64, reader_slots: 8, root_ring: 16 };

export interface ActionWeights {
  readonly client: number;
  readonly net_read: number;
  readonly shard_net: number;
  readonly shard_commit: number;
  readonly net_write: number;
  readonly commit: number;
  readonly disk: number;
  readonly advance: number;
}

export interface ReplicaSimOptions {
  readonly seed: number;
  readonly shards: number;
  readonly clients: number;
  readonly ops_per_client: readonly [number, number];
  readonly pipeline_max: number;
  readonly profile: ClientProfile;
  /** Chance that a client ends with closeSession (its ephemerals go). */
  readonly close_chance: number;
  /** A disk write completes this many simulated ms after it started. */
  readonly disk_ms: readonly [number, number];
  /** Chance that a write with no input waiting completes inside writeBatch (the inline write). */
  readonly inline_chance: number;
  /** The n-th batch written fails (EIO); null: none does. */
  readonly fail_at_batch: number | null;
  readonly batch_txns_max: number;
  readonly batch_wait_us: number;
  readonly max_outstanding_per_session: number;
  readonly advance_ms_max: number;
  readonly weights: ActionWeights;
  /** Keep every trace line (else the last TRACE_TAIL). */
  readonly keep_trace: boolean;
}

/** The run's shape and knobs for a seed (their own stream: the run's draws do not shift them). */
export function replicaOptions(seed: number, overrides: Partial<ReplicaSimOptions> = {}): ReplicaSimOptions {
  const o = new Rng(Math.imul(seed, 0x9e3779b1) ^ 0x5eed);
  const w = (): number => o.pick([1, 3, 9]);
  return {
    seed,
    shards: o.int(1, 3),
    clients: o.int(1, 6),
    ops_per_client: [5, o.pick([20, 40, 80])],
    pipeline_max: o.pick([1, 2, 4, 8]),
    profile: o.chance(0.2) ? 'writes' : 'mixed',
    close_chance: o.pick([0, 0.3, 0.7]),
    disk_ms: [0, o.pick([0, 2, 8])],
    inline_chance: o.pick([0, 0, 0.3, 0.8]),
    fail_at_batch: o.chance(0.25) ? o.int(1, 40) : null,
    batch_txns_max: o.pick([1, 4, 64, 1000]),
    batch_wait_us: o.pick([0, 0, 500, 3000]),
    max_outstanding_per_session: o.pick([2, 4, 1000]),
    advance_ms_max: o.pick([1, 3]),
    weights: { client: w(), net_read: w(), shard_net: w(), shard_commit: w(), net_write: w(), commit: w(), disk: w(), advance: w() },
    keep_trace: false,
    ...overrides,
  };
}

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
}

/** A FIFO of frames (a ring in the real replica). */
class FrameQueue {
  private frames: Uint8Array[] = [];
  private head = 0;

  get length(): number {
    return this.frames.length - this.head;
  }

  push(f: Uint8Array): void {
    this.frames.push(f);
  }

  shift(): Uint8Array {
    if (this.head >= this.frames.length) throw new Error('replica sim: shift of an empty queue');
    const f = this.frames[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return f;
  }
}

/** A stage's output port: every frame copied whole (the stage reuses its buffers at once). */
class CopySink implements FrameSink {
  readonly blocked = false;

  constructor(private readonly deliver: (frame: Uint8Array) => void) {}

  send(head: HeadWriter, body?: Uint8Array, body_start = 0, body_end = body === undefined ? 0 : body.length): void {
    const h = head.view_bytes();
    const f = new Uint8Array(h.length + (body === undefined ? 0 : body_end - body_start));
    f.set(h, 0);
    if (body !== undefined) f.set(body.subarray(body_start, body_end), h.length);
    this.deliver(f);
  }
}

interface SimShard {
  readonly index: number;
  readonly stage: ShardStage;
  readonly tree: ShardTree;
  readonly net_in: FrameQueue;
  readonly stream_in: FrameQueue;
  readonly to_net: FrameQueue;
  readonly to_commit: FrameQueue;
  stalled: boolean;
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

export class ReplicaSim {
  private readonly rng: Rng;
  /** Simulated milliseconds since the start. */
  private t_ms = 0;
  private step_no = 0;
  private readonly trace_lines: string[] = [];
  private readonly writer: TreeWriter;
  private readonly applier: Applier;
  private readonly commit: CommitStage;
  private readonly shards: SimShard[] = [];
  readonly clients: SimClient[] = [];
  private readonly initial = new Map<string, RefNode>();
  private readonly known_paths: string[] = [];
  private disk_inflight: DiskWrite | null = null;
  private durable_zxid = 0;
  private failed_from: number | null = null;
  private batches_written = 0;
  private readonly stats: ReplicaRunStats = { steps: 0, sim_ms: 0, requests: 0, replies: 0, events: 0, txns: 0, roots: 0, batches: 0, failed_from: null };
  private readonly head = new HeadWriter();

  constructor(readonly options: ReplicaSimOptions) {
    this.rng = new Rng(options.seed);
    this.writer = TreeWriter.create(SMALL_ARENA);
    this.writer.begin();
    createSystemNodes(this.writer);
    this.writer.commit(0);
    this.applier = new Applier(this.writer, 0);
    const pending = new PendingView(this.writer.view, 0);
    const clock = { now_ms: () => EPOCH_MS + this.t_ms, now_us: () => this.t_ms * 1000 };
    const secret = new Uint8Array(32).map(() => this.rng.int(0, 255));
    const core = new CommitCore(
      { server_id: 1, tick_ms: 2000, ttl_enabled: false, secret, reap_interval_ms: 60_000, reap_per_check_max: 1 },
      { now_ms: clock.now_ms },
      { view: pending, sessions: new Map() },
    );
    const gc = new GroupCommit({ txns_max: options.batch_txns_max, bytes_max: 1 << 20, wait_us: options.batch_wait_us, commit_on_durable: true }, 0);
    this.commit = new CommitStage(
      {
        stream: new CopySink((f) => this.tapStream(f)),
        log: { writable: () => true, writeBatch: (b) => this.diskWrite(b) },
        clock,
        applier: this.applier,
        metrics: new CommitMetrics(createCommitMetricsBlock()),
      },
      { core, pending, gc },
    );
    const config: ServerConfig = { ...DEFAULT_CONFIG, read_workers: options.shards, max_outstanding_per_session: options.max_outstanding_per_session };
    for (let i = 0; i < options.shards; i++) this.shards.push(this.newShard(i, config));
    this.readInitialTree(this.shards[0]!.tree);
    const env: ClientEnv = {
      step: () => this.step_no,
      durableZxid: () => this.durable_zxid,
      failedFromZxid: () => this.failed_from,
      known_paths: this.known_paths,
      fail: (m) => this.fail(m),
      trace: (l) => this.trace(l),
    };
    for (let k = 0; k < options.clients; k++) {
      const conn_id = k + 1;
      const ops = this.rng.int(options.ops_per_client[0], options.ops_per_client[1]);
      const close = this.rng.chance(options.close_chance);
      this.clients.push(new SimClient(k, conn_id, conn_id % options.shards, ops, options.pipeline_max, options.profile, close, this.rng.fork(), env));
    }
  }

  private newShard(index: number, config: ServerConfig): SimShard {
    const tree = new ShardTree(this.writer.handle);
    tree.pinNewest();
    const to_net = new FrameQueue();
    const to_commit = new FrameQueue();
    const shard: SimShard = {
      index,
      tree,
      net_in: new FrameQueue(),
      stream_in: new FrameQueue(),
      to_net,
      to_commit,
      stalled: false,
      stage: new ShardStage({
        index,
        config,
        to_net: new CopySink((f) => to_net.push(f)),
        to_commit: new CopySink((f) => to_commit.push(f)),
        tree,
        now_ms: () => EPOCH_MS + this.t_ms,
        metrics: new ShardMetrics(createShardMetricsBlock()),
        inputStalled: (stalled) => {
          shard.stalled = stalled;
        },
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

  // ---- the run ----

  run(): ReplicaRunStats {
    while (this.step_no < STEPS_MAX) {
      const actions = this.enabled();
      if (actions.length === 0) break;
      this.step_no++;
      this.pick(actions).run();
      if (this.t_ms > SIM_TIME_MS_MAX) this.fail(`simulated time ran past ${SIM_TIME_MS_MAX} ms (sessions could expire)`);
    }
    if (this.step_no >= STEPS_MAX) this.fail(`no quiescence after ${STEPS_MAX} steps`);
    for (const c of this.clients) {
      if (!c.done) this.fail(`${c.name} is stuck: state ${c.state}, ${c.outstanding.length} unanswered, ${c.socket.length} unsent, paused ${c.paused}`);
    }
    this.trace('quiescent: final checks');
    finalChecks({
      clients: this.clients,
      initial: this.initial,
      trees: this.shards.map((s) => s.tree),
      last_zxid: this.writer.last_root.last_zxid,
      end_step: this.step_no,
      fail: (step, m) => this.fail(m, step),
    });
    this.stats.steps = this.step_no;
    this.stats.sim_ms = this.t_ms;
    this.stats.failed_from = this.failed_from;
    for (const c of this.clients) {
      for (const e of c.log) {
        if (e.kind === 'reply') this.stats.replies++;
        else this.stats.events++;
      }
    }
    return this.stats;
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

  private enabled(): Action[] {
    const w = this.options.weights;
    const out: Action[] = [];
    for (const c of this.clients) {
      if (c.canSend()) out.push({ weight: w.client, run: () => this.clientSend(c) });
      if (c.socket.length > 0 && !c.paused && c.state !== 'closed') out.push({ weight: w.net_read, run: () => this.netRead(c) });
    }
    for (const s of this.shards) {
      if (s.net_in.length > 0 && s.stage.reads_net) out.push({ weight: w.shard_net, run: () => this.shardNet(s) });
      if (s.stream_in.length > 0 && s.stage.reads_commit) out.push({ weight: w.shard_commit, run: () => this.shardCommit(s) });
      if (s.to_net.length > 0) out.push({ weight: w.net_write, run: () => this.netWrite(s) });
      if (s.stage.workPending()) out.push({ weight: w.shard_net, run: () => this.shardTail(s) });
    }
    if (this.commitHasWork()) out.push({ weight: w.commit, run: () => this.commitTurn('turn') });
    const disk = this.disk_inflight;
    if (disk !== null && this.t_ms >= disk.completes_at_ms) out.push({ weight: w.disk, run: () => this.diskComplete() });
    // Time passes while anything is going on, and whenever only time can make progress (a disk
    // write in flight, a batch waiting for batch_wait_us).
    if (out.length > 0 || disk !== null || this.commit.gc.has_unwritten) out.push({ weight: w.advance, run: () => this.advance() });
    return out;
  }

  private clientSend(c: SimClient): void {
    if (c.state === 'new') {
      // The net worker accepted the connection: OPEN precedes every DATA frame of it.
      this.head.begin(NetToShard.OPEN).u32(c.conn_id).str8('127.0.0.1').u32(40_000 + c.index);
      this.shards[c.shard]!.net_in.push(this.head.view_bytes().slice());
    } else {
      this.stats.requests++;
    }
    c.sendNext();
  }

  private netRead(c: SimClient): void {
    const payload = c.socket.shift()!;
    this.head.begin(NetToShard.DATA).u32(c.conn_id);
    const h = this.head.view_bytes();
    const f = new Uint8Array(h.length + payload.length);
    f.set(h, 0);
    f.set(payload, h.length);
    this.shards[c.shard]!.net_in.push(f);
    this.trace(`net reads ${payload.length} B from ${c.name} for shard ${c.shard}`);
  }

  private shardNet(s: SimShard): void {
    const f = s.net_in.shift();
    this.trace(`shard ${s.index} takes net frame kind ${f[0]} conn ${view(f).getUint32(1)}`);
    s.stage.onNetFrame(f, 0, f.length);
    this.shardTail(s);
  }

  private shardCommit(s: SimShard): void {
    const f = s.stream_in.shift();
    this.trace(`shard ${s.index} takes ${describeStreamFrame(f)}`);
    s.stage.onCommitFrame(f, 0, f.length);
    this.shardTail(s);
  }

  /** What the shard driver does after polling: a slice of watch work, the stalled flag. */
  private shardTail(s: SimShard): void {
    if (s.stage.workPending()) s.stage.stepWork();
    s.stage.noteInputStalled(s.net_in.length > 0);
  }

  private netWrite(s: SimShard): void {
    const f = s.to_net.shift();
    const kind = f[0];
    const conn_id = view(f).getUint32(1);
    const c = this.clients.find((x) => x.conn_id === conn_id);
    if (c === undefined) this.fail(`shard ${s.index} sent kind ${kind} for unknown connection ${conn_id}`);
    switch (kind) {
      case ShardToNet.SEND:
        if (c.state === 'closed') return; // the socket is gone: the net worker drops it
        c.receive(f.subarray(5));
        break;
      case ShardToNet.CLOSE:
        if (c.state === 'closed') return;
        c.closed(this.failed_from !== null);
        c.socket.length = 0;
        // The net worker reports the closed socket (the shard has forgotten the connection).
        this.head.begin(NetToShard.CLOSED).u32(c.conn_id);
        s.net_in.push(this.head.view_bytes().slice());
        break;
      case ShardToNet.PAUSE:
        c.paused = true;
        this.trace(`net pauses ${c.name}`);
        break;
      case ShardToNet.RESUME:
        c.paused = false;
        this.trace(`net resumes ${c.name}`);
        break;
      default:
        this.fail(`shard ${s.index} sent unknown net frame kind ${kind}`);
    }
  }

  private advance(): void {
    this.t_ms += this.rng.int(1, this.options.advance_ms_max);
    for (const s of this.shards) s.stage.tick(EPOCH_MS + this.t_ms);
  }

  // ---- the commit worker: one driver turn (commit_worker.ts run(), less snapshots, liveness, Zab) ----

  private commitHasWork(): boolean {
    if (this.commit.room() > 0 && this.shards.some((s) => s.to_commit.length > 0)) return true;
    if (this.commit.gc.due(this.t_ms * 1000)) return true;
    return EPOCH_MS + this.t_ms >= this.commit.core.next_tick_ms();
  }

  private commitTurn(why: string): void {
    const polled: number[] = [];
    for (const s of this.shards) {
      const room = this.commit.room();
      if (room === 0) break;
      let n = this.rng.int(0, Math.min(room, s.to_commit.length, POLL_FRAMES_MAX));
      if (n === 0 && s.to_commit.length > 0 && polled.every((x) => x === 0) && this.rng.chance(0.5)) n = 1;
      polled.push(n);
      for (let i = 0; i < n; i++) {
        const f = s.to_commit.shift();
        this.commit.onFrame(s.index, f, 0, f.length);
      }
      if (n > 0) this.commit.stagePublications();
    }
    this.trace(`commit ${why}: polled [${polled.join(', ')}]`);
    this.commit.tick(() => this.touchesUnread());
    this.commit.stagePublications();
    this.commit.maybeFlush();
    this.commit.release();
  }

  /** commit_worker.ts inputsWaiting(): touches may wait unread behind a full pipeline or in a
   *  stalled shard. */
  private touchesUnread(): boolean {
    if (this.commit.room() === 0 && this.shards.some((s) => s.to_commit.length > 0)) return true;
    return this.shards.some((s) => s.stalled);
  }

  // ---- the fake disk ----

  private diskWrite(b: Batch): void {
    if (this.disk_inflight !== null) this.fail(`a second log write (batch ${b.seq}) while batch ${this.disk_inflight.seq} is in flight`);
    this.batches_written++;
    this.stats.batches++;
    const [lo, hi] = this.options.disk_ms;
    const w: DiskWrite = {
      seq: b.seq,
      first_zxid: b.first_zxid,
      last_zxid: b.last_zxid,
      fails: this.batches_written === this.options.fail_at_batch,
      completes_at_ms: this.t_ms + this.rng.int(lo, hi),
    };
    this.trace(`disk writes batch ${b.seq}: zxids ${b.first_zxid}..${b.last_zxid} (${b.count} txns)${w.fails ? ', will FAIL' : ''}`);
    const idle = this.shards.every((s) => s.to_commit.length === 0);
    if (idle && this.rng.chance(this.options.inline_chance)) {
      // commit_worker.ts flushInline: written and settled before writeBatch returns.
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

  // ---- the commit stream: checked, then one copy per shard (each reads at its own pace) ----

  private tapStream(f: Uint8Array): void {
    const kind = f[0];
    if (kind === CommitStream.APPLIED) {
      this.stats.txns++;
      const zxid = Number(view(f).getBigInt64(10));
      // (d) durability gating at the source: a txn is published only once durable.
      if (zxid > this.durable_zxid) this.fail(`APPLIED zxid ${zxid} published while the disk made only ${this.durable_zxid} durable`);
      if (this.failed_from !== null && zxid >= this.failed_from) this.fail(`APPLIED zxid ${zxid} published after the batch from zxid ${this.failed_from} failed`);
    } else if (kind === CommitStream.ROOT) {
      this.stats.roots++;
    }
    this.trace(`commit publishes ${describeStreamFrame(f)}`);
    for (const s of this.shards) s.stream_in.push(f);
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

function view(f: Uint8Array): DataView {
  return new DataView(f.buffer, f.byteOffset, f.byteLength);
}

/** One line for a commit-stream frame (trace). */
function describeStreamFrame(f: Uint8Array): string {
  const v = view(f);
  const origin = `s${f[1]}/c${v.getUint32(2)}/x${v.getInt32(6)}`;
  switch (f[0]) {
    case CommitStream.APPLIED:
      return `APPLIED zxid ${v.getBigInt64(10)} ${origin} err ${v.getInt32(19)}`;
    case CommitStream.ROOT:
      return `ROOT through zxid ${v.getBigInt64(26)}`;
    case CommitStream.SESSION:
      return `SESSION ${origin}`;
    case CommitStream.SYNC:
      return `SYNC ${origin}`;
    case CommitStream.ERROR:
      return `ERROR ${origin} err ${v.getInt32(10)}`;
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
