// The commit worker: the replica's single writer. It drains the shards' write rings, runs the
// sans-IO CommitCore (prep -> zxid -> apply), and publishes every committed txn on the commit
// stream that all shards consume. One flush (one cursor store + doorbells) per input batch:
// that batching is what makes the thread hop cheap.

import { randomBytes } from 'node:crypto';
import { workerData } from 'node:worker_threads';
import { CommitCore, type Origin, type Publication } from '../commit/commit_core.js';
import { JuteReader, JuteWriter } from '../protocol/jute.js';
import { readRequest } from '../protocol/messages.js';
import { Ring, type RingConsumer } from '../ring/ring.js';
import type { WriteRequest } from '../tree/prep.js';
import { encodeTxn } from '../tree/txn_codec.js';
import { decodeAuthId } from './auth_frame.js';
import { Doorbell } from './doorbell.js';
import { HeadReader, HeadWriter, LinkWriter } from './link.js';
import { CommitStream, NO_SHARD, ShardToCommit } from './link_kinds.js';
import type { WorkerInit } from './topology.js';
import { serveControl } from './control.js';

const POLL_FRAMES_MAX = 1024;
const IDLE_WAIT_MS_MAX = 50;

class CommitWorker {
  private readonly core: CommitCore;
  private readonly inputs: RingConsumer[];
  private readonly stream: LinkWriter;
  private readonly doorbell: Doorbell;
  private readonly head = new HeadWriter();
  private readonly reader = new HeadReader();
  private readonly body = new JuteWriter(4096);
  private current_shard = 0;
  private stopping = false;
  /** Frames decoded per shard ring (for stats). */
  readonly frames_in: number[];

  constructor(private readonly init: WorkerInit) {
    const { config, topology } = init;
    const reap_interval_ms = config.container_check_interval_ms;
    this.core = new CommitCore(
      {
        server_id: config.server_id,
        tick_ms: config.tick_time_ms,
        ttl_enabled: config.extended_types_enabled,
        secret: randomBytes(32),
        reap_interval_ms,
        reap_per_check_max: Math.max(1, Math.ceil((config.container_max_per_minute * reap_interval_ms) / 60_000)),
      },
      { now_ms: () => Date.now() },
    );
    this.inputs = topology.shard_to_commit.map((sab) => Ring.attachConsumer(sab, 0));
    this.frames_in = this.inputs.map(() => 0);
    const shard_bells = topology.shard_doorbells.map((sab) => new Doorbell(sab));
    this.stream = new LinkWriter(Ring.attachProducer(topology.commit_stream), shard_bells);
    this.doorbell = new Doorbell(topology.commit_doorbell);
  }

  async run(): Promise<void> {
    // A pending Atomics.waitAsync does not keep a worker alive; this timer does.
    const keepalive = setInterval(() => {}, 1 << 30);
    while (!this.stopping) {
      const seen = this.doorbell.seq();
      const frames = this.stream.blocked ? 0 : this.pollInputs();
      if (Date.now() >= this.core.next_tick_ms()) this.core.tick();
      this.publish(this.core.take());
      this.stream.flush();
      if (this.stream.blocked) {
        await this.stream.drainAsync(IDLE_WAIT_MS_MAX);
        continue;
      }
      if (frames === 0) {
        const wait_ms = Math.max(1, Math.min(IDLE_WAIT_MS_MAX, this.core.next_tick_ms() - Date.now()));
        await this.doorbell.sleep(seen, wait_ms, () => this.inputs.some((r) => r.hasData()));
      }
    }
    clearInterval(keepalive);
  }

  stop(): void {
    this.stopping = true;
    this.doorbell.ring();
  }

  private pollInputs(): number {
    let total = 0;
    for (let i = 0; i < this.inputs.length; i++) {
      this.current_shard = i;
      const n = this.inputs[i].poll(this.onFrame, POLL_FRAMES_MAX);
      this.frames_in[i] += n;
      total += n;
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
        const request = readRequest(new JuteReader(bytes, r.offset, end));
        const origin: Origin = { shard, conn_id, xid: request.header.xid };
        // multi's decoded body is { ops }; prep takes the op list.
        const body = request.op === 'multi' ? request.body.ops : request.body;
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

  private publish(items: Publication[]): void {
    for (const p of items) {
      switch (p.kind) {
        case 'txn':
          this.body.reset();
          encodeTxn(p.txn, this.body);
          this.stream.send(this.origin(CommitStream.TXN, p.origin), this.body.view_bytes());
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
    }
  }

  stats(): Record<string, unknown> {
    const tree = this.core.tree;
    return {
      last_zxid: tree.last_zxid,
      node_count: tree.node_count,
      approximate_data_size: tree.approximate_data_size,
      ephemerals_count: tree.ephemerals_count,
      sessions: this.core.sessions.size,
      ephemerals: this.core.ephemeralsBySession(),
      session_list: this.core.sessionList(),
      frames_in: this.frames_in,
    };
  }
}

const worker = new CommitWorker(workerData as WorkerInit);
serveControl({ stats: () => worker.stats(), stop: () => worker.stop() });
worker.run().catch((e: unknown) => {
  console.error('commit worker failed:', e);
  process.exit(70);
});
