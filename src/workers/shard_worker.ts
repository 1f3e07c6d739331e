// A session shard (read worker). It owns the connections the net worker assigns to it: decodes
// their requests, keeps each session's FIFO, serves reads from the replica's shared tree (the
// root of the last commit batch it processed), forwards writes to the commit worker, fires the
// watch triggers of committed txns for its sessions, answers the writes its sessions made (the
// reply made by the commit worker), and emits every reply and event of its sessions in order.
// It never decodes or applies a txn.
//
// Ordering argument: this thread handles one frame at a time. A commit batch arrives as APPLIED
// frames then one ROOT frame. Each APPLIED fires its watches at once (events queued to the net
// worker) and its completion (and any other completion behind it) is held; at ROOT the shard
// moves to the batch's root and only then answers what it held. While a batch is open no client
// frame is read, so no read is served from a root older than an event already sent, nor newer
// than the events sent. A read is served only at the head of its session's FIFO. So a session
// sees its own writes, and a watch event always reaches the client before any reply that could
// show the new data.

import { parentPort, workerData } from 'node:worker_threads';
import { ShardMetrics } from '../metrics/shard_metrics.js';
import { decodeConnectRequest } from '../protocol/connect.js';
import type { ConnectRequest } from '../protocol/types.js';
import { JuteError, JuteReader } from '../protocol/jute.js';
import { readApplied, type AppliedTrigger } from './applied_frame.js';
import { decodeServerRequest, type ServerRequest } from '../protocol/messages.js';
import { Ring } from '../ring/ring.js';
import { negotiateTimeout } from '../session/negotiate.js';
import { WatchTable } from '../watch/watch_table.js';
import { WatchWork } from '../watch/watch_work.js';
import { serveControl, Transfer, type ShardStats, type StatsDetail } from './control.js';
import { encodeAuthId } from './auth_frame.js';
import { Doorbell } from './doorbell.js';
import { HeadReader, HeadWriter, LinkReader, LinkWriter } from './link.js';
import { APPLIED_CREATE_SESSION, CommitStream, NetToShard, ShardToCommit, ShardToNet } from './link_kinds.js';
import { Conn } from './shard/conn.js';
import { ShardSession, type AppliedCompletion, type ShardContext } from './shard/shard_session.js';
import { ShardTree } from './shard/shard_tree.js';
import type { WorkerInit } from './topology.js';

const POLL_FRAMES_MAX = 512;
const IDLE_WAIT_MS_MAX = 100;

class ShardWorker implements ShardContext {
  readonly watches: WatchTable;
  /** Watch work done in slices between ring polls: listings, a big closed connection's watches. */
  private readonly watch_work: WatchWork;
  readonly conns = new Map<number, Conn>();
  private readonly from_net: LinkReader;
  private readonly from_commit: LinkReader;
  readonly to_net: LinkWriter;
  readonly to_commit: LinkWriter;
  private readonly doorbell: Doorbell;
  private readonly reader = new HeadReader();
  readonly head = new HeadWriter();
  readonly session: ShardSession;
  readonly metrics: ShardMetrics;
  private stopping = false;
  /** APPLIED frames seen since the last ROOT: a commit batch is being received. */
  private batch_open = false;
  /** Completions of the open batch, in stream order, answered at its ROOT. */
  private held: (() => void)[] = [];
  /** topology.shard_input_stalled[index]: what this shard last wrote there. */
  private readonly input_stalled: Int32Array;
  private input_stalled_now = 0;
  private readonly root = { gen: 0, znode_root: 0, owner_root: 0, node_count: 0, last_zxid: 0, data_bytes: 0 };

  constructor(
    readonly init: WorkerInit,
    /** The shared tree, pinned at the root of the last commit batch this shard processed. */
    readonly tree: ShardTree,
  ) {
    const { topology, index } = init;
    this.watches = new WatchTable({ removal_entries_max: init.config.watch_slice_entries });
    this.watch_work = new WatchWork(this.watches, init.config.watch_slice_entries);
    this.metrics = new ShardMetrics(topology.metrics.shards[index]);
    this.from_net = new LinkReader(Ring.attachConsumer(topology.net_to_shard[index], 0));
    this.from_commit = new LinkReader(Ring.attachConsumer(topology.commit_stream, index));
    this.to_net = new LinkWriter(Ring.attachProducer(topology.shard_to_net[index]), [new Doorbell(topology.net_doorbell)]);
    this.to_commit = new LinkWriter(Ring.attachProducer(topology.shard_to_commit[index]), [
      new Doorbell(topology.commit_doorbell),
    ]);
    this.doorbell = new Doorbell(topology.shard_doorbells[index]);
    this.session = new ShardSession(this);
    this.input_stalled = new Int32Array(topology.shard_input_stalled, 4 * index, 1);
  }

  /** Tells the commit worker whether client frames (pings among them) wait unread here. */
  private noteInputStalled(): void {
    // Frames in to_commit's overflow queue (touches among them, behind a burst of writes) have
    // not reached the commit worker's ring: it may drain its ring and find nothing waiting.
    const unread = (this.to_net.blocked || this.to_commit.blocked || this.batch_open) && this.from_net.hasData();
    const stalled = this.to_commit.blocked || unread ? 1 : 0;
    if (stalled !== this.input_stalled_now) {
      this.input_stalled_now = stalled;
      Atomics.store(this.input_stalled, 0, stalled);
    }
  }

  async run(): Promise<void> {
    const touch_every_ms = Math.max(10, Math.floor(this.init.config.tick_time_ms / 2));
    const touch_timer = setInterval(() => {
      this.session.sendTouches();
      this.to_commit.flush();
    }, touch_every_ms);
    while (!this.stopping) {
      const seen = this.doorbell.seq();
      let frames = 0;
      if (!this.to_net.blocked && !this.to_commit.blocked) {
        // The commit stream first: completions unblock session queues.
        frames += this.from_commit.poll(this.onCommitFrame, POLL_FRAMES_MAX);
        // Mid-batch, clients wait: the batch's watch events are out but its root is not ours yet.
        if (!this.batch_open) frames += this.from_net.poll(this.onNetFrame, POLL_FRAMES_MAX);
      }
      // One bounded slice of watch work per turn, so requests are served in between.
      const working = this.watch_work.pending();
      if (working) this.watch_work.step();
      this.to_net.flush();
      this.to_commit.flush();
      this.noteInputStalled();
      if (this.to_net.blocked || this.to_commit.blocked) {
        await Promise.all([this.to_net.drainAsync(IDLE_WAIT_MS_MAX), this.to_commit.drainAsync(IDLE_WAIT_MS_MAX)]);
        continue;
      }
      if (frames === 0 && working) {
        // Let control messages and timers (touches) in between slices; no sleep.
        await new Promise<void>((resolve) => setImmediate(resolve));
      } else if (frames === 0) {
        // Mid-batch only the commit stream can wake us: client frames wait for the batch's ROOT.
        await this.doorbell.sleep(seen, IDLE_WAIT_MS_MAX, () => this.from_commit.hasData() || (!this.batch_open && this.from_net.hasData()));
      }
    }
    clearInterval(touch_timer);
  }

  stop(): void {
    this.stopping = true;
    this.doorbell.ring();
  }

  // ---- from the net worker ----

  private readonly onNetFrame = (bytes: Uint8Array, start: number, end: number): void => {
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    const conn_id = r.u32();
    switch (kind) {
      case NetToShard.OPEN: {
        const ip = r.str8();
        const port = r.u32();
        this.conns.set(conn_id, new Conn(conn_id, ip, port, Date.now()));
        break;
      }
      case NetToShard.DATA: {
        const conn = this.conns.get(conn_id);
        if (conn === undefined || conn.state === 'closed') return;
        // Copy: the ring slot is reused after this callback, and requests may wait in the FIFO.
        this.onClientFrame(conn, bytes.slice(r.offset, end));
        break;
      }
      case NetToShard.CLOSED: {
        const conn = this.conns.get(conn_id);
        if (conn !== undefined) this.session.forget(conn);
        break;
      }
      default:
        throw new Error(`shard ${this.init.index}: unknown net frame kind ${kind}`);
    }
  };

  /**
   * Containment boundary for client bytes: whatever a frame holds, decoding it either yields a
   * request or closes that connection. A request header or ConnectRequest that cannot be read
   * (JuteError) closes it, as in ZooKeeper; a request whose body cannot be read is a
   * MalformedRequest, answered MARSHALLINGERROR in its place in the session's FIFO (the session
   * decides). An error of another kind while decoding is a decoder bug that one client's bytes
   * reached: logged loudly with its stack, and it still costs only that connection. Serving a
   * decoded request is the replica's own logic: a throw there is a broken invariant and stops
   * the worker.
   */
  private onClientFrame(conn: Conn, payload: Uint8Array): void {
    conn.packets_received++;
    const limit = this.init.config.jute_max_buffer_bytes;
    let decoded: { connect: ConnectRequest } | { request: ServerRequest };
    try {
      decoded =
        // `payload` is this shard's own copy of the frame: data fields stay views of it.
        conn.state === 'handshake' ? { connect: decodeConnectRequest(payload, limit) } : { request: decodeServerRequest(payload, limit, true) };
    } catch (e) {
      if (e instanceof JuteError) {
        console.warn(`waitfree: closing connection ${conn.remote_ip}:${conn.remote_port}: malformed request (${e.message})`);
      } else {
        console.error(`waitfree: BUG: decoding a frame from ${conn.remote_ip}:${conn.remote_port} threw; closing that connection:`, e);
      }
      this.session.close(conn);
      return;
    }
    if ('connect' in decoded) this.onConnectRequest(conn, decoded.connect);
    else this.session.admit(conn, decoded.request, payload);
  }

  private onConnectRequest(conn: Conn, req: ConnectRequest): void {
    const cfg = this.init.config;
    conn.read_only_byte = req.readOnly === null ? null : false;
    conn.last_zxid_seen = req.lastZxidSeen;
    conn.timeout_ms = negotiateTimeout(req.timeOut, cfg.min_session_timeout_ms, cfg.max_session_timeout_ms);
    conn.state = 'connecting';
    const ip = encodeAuthId({ scheme: 'ip', id: conn.remote_ip });
    this.to_commit.send(this.head.begin(ShardToCommit.AUTH_ADD).u32(conn.id), ip);
    // Both session frames end with u8 1 when the client allows a read-only session: a replica
    // cut off from its quorum in read-only mode accepts only those (commit_worker.ts).
    const allows_read_only = req.readOnly === true ? 1 : 0;
    if (req.sessionId === 0n) {
      this.to_commit.send(this.head.begin(ShardToCommit.SESSION_CREATE).u32(conn.id).i32(conn.timeout_ms).u8(allows_read_only));
    } else {
      const h = this.head.begin(ShardToCommit.SESSION_REATTACH).u32(conn.id).i64(req.sessionId).i32(conn.timeout_ms);
      this.to_commit.send(h.raw(req.passwd.length === 16 ? req.passwd : new Uint8Array(16)).u8(allows_read_only));
    }
  }

  // ---- from the commit worker ----

  private readonly onCommitFrame = (bytes: Uint8Array, start: number, end: number): void => {
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    const shard = r.u8();
    const conn_id = r.u32();
    const xid = r.i32();
    const mine = shard === this.init.index;
    const conn = mine ? this.conns.get(conn_id) : undefined;
    switch (kind) {
      case CommitStream.APPLIED: {
        this.batch_open = true;
        const zxid = Number(r.i64());
        const what = r.u8();
        const err = r.i32();
        const session_id = what === APPLIED_CREATE_SESSION ? r.i64() : 0n;
        const timeout_ms = what === APPLIED_CREATE_SESSION ? r.i32() : 0;
        const passwd = what === APPLIED_CREATE_SESSION ? r.copy(16) : null;
        const body = readApplied(bytes, r.offset, end, (t: AppliedTrigger) => this.session.fireTrigger(t, zxid), conn !== undefined);
        if (conn === undefined || body === null) return;
        const a: AppliedCompletion = { xid, zxid, what, err, body, session_id, timeout_ms, passwd };
        this.held.push(() => {
          if (conn.state !== 'closed') this.session.onApplied(conn, a);
        });
        break;
      }
      case CommitStream.ROOT: {
        const root = this.root;
        root.gen = r.u32();
        root.znode_root = r.u32();
        root.owner_root = r.u32();
        root.node_count = r.u32();
        root.last_zxid = Number(r.i64());
        root.data_bytes = r.f64();
        this.tree.advanceTo(root);
        this.batch_open = false;
        const held = this.held;
        this.held = [];
        for (const complete of held) complete();
        break;
      }
      case CommitStream.SESSION: {
        if (conn === undefined) return;
        const session_id = r.i64();
        const timeout_ms = r.i32();
        const passwd = r.copy(16);
        // ok byte: 0 refused, 1 a session, 2 a read-only session (the replica is in read-only mode).
        const ok = r.u8();
        this.inOrder(conn, () => this.session.onReattach(conn, ok !== 0, session_id, timeout_ms, passwd, ok === 2));
        break;
      }
      case CommitStream.SYNC: {
        if (conn === undefined) return;
        const path = new JuteReader(bytes, r.offset, end).readString();
        this.inOrder(conn, () => this.session.complete(conn, xid, 'SyncResponse', { path }, 0));
        break;
      }
      case CommitStream.CLOSE_CONN:
        if (conn !== undefined) this.inOrder(conn, () => this.session.close(conn));
        break;
      case CommitStream.ERROR: {
        if (conn === undefined) return;
        const err = r.i32();
        this.inOrder(conn, () => this.session.complete(conn, xid, null, null, err));
        break;
      }
      case CommitStream.RELOAD:
        // Zab replaced the replica's state (TRUNC / SNAP): no connection may see the old tree
        // and the new one mixed. The new root follows (ROOT).
        this.held = [];
        for (const c of [...this.conns.values()]) this.session.close(c);
        break;
      default:
        throw new Error(`shard ${this.init.index}: unknown commit frame kind ${kind}`);
    }
  };

  /** A completion that is not a txn's: in stream order, so behind an open batch's. A held one
   *  is dropped if its connection closed meanwhile (as a frame for a gone connection is). */
  private inOrder(conn: Conn, complete: () => void): void {
    if (!this.batch_open) complete();
    else {
      this.held.push(() => {
        if (conn.state !== 'closed') complete();
      });
    }
  }

  /** Counters at once; a watch listing once WatchWork has built it (its chunks transferred). */
  stats(detail: StatsDetail): ShardStats | Promise<Transfer> {
    const counters = this.session.stats(detail);
    if (detail.watches === null) return counters;
    const listing = this.watch_work.list(detail.watches, this.sessionOf);
    this.doorbell.ring(); // the loop may be asleep: it has work now
    return listing.then((part) => new Transfer({ ...counters, listing: part } satisfies ShardStats, part.chunks.map((c) => c.buffer)));
  }

  /** The session a watcher (connection id) belongs to; undefined for gone or handshaking ones. */
  private readonly sessionOf = (conn_id: number): bigint | undefined => {
    const conn = this.conns.get(conn_id);
    return conn === undefined || conn.session_id === 0n ? undefined : conn.session_id;
  };
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
    parentPort?.postMessage({ type: 'recovered', role: 'shard', index: init.index, zxid: tree.last_zxid, snapshot_zxid: -1, nodes: tree.node_count });
    return tree;
  } catch (e) {
    parentPort?.postMessage({ type: 'startup_failed', error: e instanceof Error ? e.message : String(e) });
    process.exit(1);
  }
}

const init = workerData as WorkerInit;
let worker: ShardWorker | null = null;
serveControl({ stats: (detail) => worker?.stats(detail) ?? { starting: true }, stop: () => worker?.stop() });
worker = new ShardWorker(init, attachTree(init));
worker.run().catch((e: unknown) => {
  console.error(`shard worker ${init.index} failed:`, e);
  process.exit(70);
});

