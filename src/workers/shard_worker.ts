// A session shard (read worker), the thread driver. It owns the connections the net worker
// assigns to it: decodes their requests, keeps each session's FIFO, serves reads from the
// replica's shared tree (the root of the last commit batch it processed), forwards writes to the
// commit worker, fires the watch triggers of committed txns for its sessions, answers the writes
// its sessions made (the reply made by the commit worker), and emits every reply and event of its
// sessions in order. It never decodes or applies a txn.
//
// All of that logic is the sans-IO ShardStage (shard/shard_stage.ts, with its ordering
// argument). This file only moves frames: it attaches the rings, polls them into the stage (the
// commit stream first; client frames only while the stage reads them: never mid-batch), runs the
// stage's watch work a slice per turn, flushes the outputs, publishes the input-stalled flag,
// sleeps on its doorbell, and calls the stage's tick from a timer (session touches).

import { randomBytes } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { hrNowMs } from '../metrics/clock.js';
import { ShardMetrics } from '../metrics/shard_metrics.js';
import { Ring } from '../ring/ring.js';
import { postEvent, serveControl, type ShardStats, type StatsDetail, type StatsReset, type Transfer } from './control.js';
import { Doorbell } from './doorbell.js';
import { KnownCommitView } from './known_commit.js';
import { LinkReader, LinkWriter } from './link.js';
import { ServedRootPublisher } from './served_root.js';
import { ShardStage } from './shard/shard_stage.js';
import { ShardTree } from './shard/shard_tree.js';
import type { WorkerInit } from './topology.js';

const POLL_FRAMES_MAX = 512;
const IDLE_WAIT_MS_MAX = 100;
/** While only the ring to the commit worker is full, the commit stream is polled this often. */
const COMMIT_FULL_STEP_MS = 1;

class ShardWorker {
  private readonly from_net: LinkReader;
  private readonly from_commit: LinkReader;
  private readonly to_net: LinkWriter;
  private readonly to_commit: LinkWriter;
  private readonly doorbell: Doorbell;
  private readonly served: ServedRootPublisher;
  readonly stage: ShardStage;
  private stopping = false;
  /** Stats requests waiting for the loop's next turn (see stats). */
  private turn_waiters: (() => void)[] = [];

  constructor(
    init: WorkerInit,
    /** The shared tree, pinned at the root of the last commit batch this shard processed. */
    tree: ShardTree,
  ) {
    const { topology, index } = init;
    this.from_net = new LinkReader(Ring.attachConsumer(topology.net_to_shard[index], 0));
    this.from_commit = new LinkReader(Ring.attachConsumer(topology.commit_stream, index));
    this.to_net = new LinkWriter(Ring.attachProducer(topology.shard_to_net[index]), [new Doorbell(topology.net_doorbell)]);
    this.to_commit = new LinkWriter(Ring.attachProducer(topology.shard_to_commit[index]), [
      new Doorbell(topology.commit_doorbell),
    ]);
    this.doorbell = new Doorbell(topology.shard_doorbells[index]);
    this.served = new ServedRootPublisher(topology.shard_served_root, index);
    // topology.shard_input_stalled[index]: written by this shard only, read by the commit worker.
    const input_stalled = new Int32Array(topology.shard_input_stalled, 4 * index, 1);
    const known_commit = new KnownCommitView(topology.known_commit);
    this.stage = new ShardStage({
      index,
      config: init.config,
      to_net: this.to_net,
      to_commit: this.to_commit,
      tree,
      now_ms: hrNowMs,
      randomBytes: (n) => randomBytes(n),
      metrics: new ShardMetrics(topology.metrics.shards[index]),
      inputStalled: (stalled) => Atomics.store(input_stalled, 0, stalled ? 1 : 0),
      knownCommitZxid: () => known_commit.zxid(),
    });
  }

  /**
   * The commit stream first (completions unblock session queues), then client frames, each only
   * after every commit frame published before it: a read sent after another client's write was
   * answered must see that write, whose ROOT was in the commit stream before its reply left the
   * commit worker. So: note where the client frames end, then take the commit stream up to where
   * it ends now (all of it, however long), then those client frames. Polling the two rings one
   * after the other is not enough: this thread may be preempted between them, or stop at a
   * frame bound with the ROOT still unread (test/server/net_fast_reads.test.ts caught a read
   * served from the older root). Mid-batch, clients wait: the batch's watch events are out but
   * its root is not ours yet (reads_net); and while the replica knows of a commit our root does
   * not hold yet, they wait for it (readsNetAt, shard/commit_wait.ts).
   */
  private pollInOrder(): number {
    const stage = this.stage;
    const net_until = this.from_net.writeCursor();
    // Only a full ring to the net worker stops both (reads_commit, reads_net).
    if (!stage.reads_commit) return 0;
    let frames = this.from_commit.poll(stage.onCommitFrame, Number.MAX_SAFE_INTEGER);
    const now_ms = hrNowMs();
    if (this.from_net.hasData() && stage.readsNetAt(now_ms)) {
      stage.beginNetPoll(now_ms);
      frames += this.from_net.poll(stage.onNetFrame, POLL_FRAMES_MAX, net_until);
    }
    return frames;
  }

  async run(): Promise<void> {
    const stage = this.stage;
    const touch_timer = setInterval(() => {
      stage.tick(hrNowMs());
      this.to_commit.flush();
    }, stage.touch_every_ms);
    while (!this.stopping) {
      const seen = this.doorbell.seq();
      let frames = 0;
      frames += this.pollInOrder();
      // One bounded slice of watch work per turn, so requests are served in between.
      const working = stage.workPending();
      if (working) stage.stepWork();
      // Around the flush to the net worker: the root its fast reads may use (served_root.ts).
      this.served.beforeFlush(stage.tree.gen, stage.batch_open);
      this.to_net.flush();
      this.served.afterFlush(stage.tree.descriptor, stage.batch_open, this.to_net.blocked);
      this.to_commit.flush();
      this.endTurn();
      stage.noteInputStalled(this.from_net.hasData());
      if (this.to_net.blocked || this.to_commit.blocked) {
        // Only a full output to the net worker stops the commit stream (ShardStage.reads_commit):
        // with just the ring to the commit worker full, the loop goes on reading the stream, in
        // short steps, since the commit worker may be waiting for room in it.
        const step_ms = this.to_net.blocked ? IDLE_WAIT_MS_MAX : COMMIT_FULL_STEP_MS;
        await Promise.all([this.to_net.drainAsync(step_ms), this.to_commit.drainAsync(step_ms)]);
        continue;
      }
      if (frames === 0 && working) {
        // Let control messages and timers (touches) in between slices; no sleep.
        await new Promise<void>((resolve) => setImmediate(resolve));
      } else if (frames === 0) {
        // Mid-batch only the commit stream can wake us: client frames wait for the batch's ROOT;
        // so while they wait for a known commit, but not beyond that wait's bound.
        const waits = stage.commit_wait.waiting;
        const wait_ms = waits ? Math.min(IDLE_WAIT_MS_MAX, Math.max(1, Math.ceil(stage.commit_wait.left_ms(hrNowMs())))) : IDLE_WAIT_MS_MAX;
        await this.doorbell.sleep(seen, wait_ms, () => this.from_commit.hasData() || (!stage.batch_open && !waits && this.from_net.hasData()));
      }
    }
    clearInterval(touch_timer);
  }

  stop(): void {
    this.stopping = true;
    this.doorbell.ring();
    this.endTurn();
  }

  private endTurn(): void {
    if (this.turn_waiters.length === 0) return;
    const waiting = this.turn_waiters;
    this.turn_waiters = [];
    for (const resume of waiting) resume();
  }

  /**
   * Counters after one more turn of the loop; a watch listing later (built in slices by the
   * loop). The turn takes what the net worker queued without waking us (the SERVED notes of the
   * reads it answered itself), so the counters include every read a client has had a reply to.
   */
  async stats(detail: StatsDetail): Promise<ShardStats | Transfer> {
    if (!this.stopping) {
      await new Promise<void>((resume) => {
        this.turn_waiters.push(resume);
        this.doorbell.ring();
      });
    }
    const answer = this.stage.stats(detail);
    if (detail.watches !== null) this.doorbell.ring(); // the loop may be asleep: it has work now
    return answer;
  }

  resetStats(scope: StatsReset): void {
    this.stage.resetStats(scope);
  }
}

/**
 * Start-up: attach to the shared tree and pin the root the commit worker recovered (it has
 * published it before the supervisor starts the shards, and sends nothing on the commit stream
 * before it serves). The supervisor checks that every thread reports the same zxid.
 */
function attachTree(init: WorkerInit): ShardTree {
  try {
    const tree = new ShardTree(init.topology.arena);
    tree.pinNewest();
    postEvent({ type: 'recovered', role: 'shard', index: init.index, zxid: tree.last_zxid, snapshot_zxid: -1, nodes: tree.node_count });
    return tree;
  } catch (e) {
    postEvent({ type: 'startup_failed', error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  }
}

// Started while the commit worker recovers (its modules load meanwhile); attaches once the
// supervisor says the recovered tree is published.
const init = workerData as WorkerInit;
let worker: ShardWorker | null = null;
serveControl({
  stats: (detail) => worker?.stats(detail) ?? { starting: true },
  resetStats: (scope) => worker?.resetStats(scope),
  stop: () => worker?.stop(),
  other: (m) => {
    if (m.type !== 'attach' || worker !== null) return;
    worker = new ShardWorker(init, attachTree(init));
    worker.run().catch((e: unknown) => {
      console.error(`shard worker ${init.index} failed:`, e);
      process.exit(70);
    });
  },
});

