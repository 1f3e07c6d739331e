// A session shard's logic, sans-IO: what the shard thread does with each frame it reads. It
// takes decoded link frames (from the net worker and from the commit stream) and produces
// frames (to the net worker and to the commit worker) through its ports; time comes from an
// injected clock. No ring, no Atomics, no timer: the thread driver (../shard_worker.ts) polls
// the rings and calls onNetFrame / onCommitFrame / stepWork / tick, and the replica simulator
// (test/sim/replica_sim.ts) calls the same methods from one thread.
//
// Ordering argument: one frame at a time. A commit batch arrives as APPLIED frames then one
// ROOT frame. Each APPLIED fires its watches at once (events queued to the net worker) and its
// completion (and any other completion behind it) is held; at ROOT the shard moves to the
// batch's root and only then answers what it held. While a batch is open no client frame may
// be read (`reads_net` is false; onNetFrame refuses one), so no read is served from a root
// older than an event already sent, nor newer than the events sent. A read is served only at
// the head of its session's FIFO. So a session sees its own writes, and a watch event always
// reaches the client before any reply that could show the new data.

import { enforcedAuthSchemes } from '../../config/enforce_auth.js';
import type { ServerConfig } from '../../config/server_config.js';
import type { ShardMetrics } from '../../metrics/shard_metrics.js';
import { decodeConnectRequest } from '../../protocol/connect.js';
import { JuteError, JuteReader } from '../../protocol/jute.js';
import { decodeServerRequest, type ServerRequest } from '../../protocol/messages.js';
import type { ConnectRequest } from '../../protocol/types.js';
import { negotiateTimeout } from '../../session/negotiate.js';
import { WatchTable } from '../../watch/watch_table.js';
import { WatchWork } from '../../watch/watch_work.js';
import { readApplied, type AppliedTrigger } from '../applied_frame.js';
import { encodeAuthId } from '../auth_frame.js';
import { Transfer, type ShardStats, type StatsDetail, type StatsReset } from '../control.js';
import type { FrameSink } from '../frame_sink.js';
import { HeadReader, HeadWriter } from '../link.js';
import { CommitWait } from './commit_wait.js';
import { HeldCompletions } from './held_completions.js';
import { APPLIED_CREATE_SESSION, APPLIED_WRITE_ANSWERED, CommitStream, NetToShard, ShardToCommit } from '../link_kinds.js';
import { Conn } from './conn.js';
import { ShardSession, type ShardContext } from './shard_session.js';
import type { ShardTree } from './shard_tree.js';

/** Decodes the x509 id at the end of an OPEN frame (UTF-8 the net worker wrote). */
const utf8 = new TextDecoder();

/** What a shard stage is built with: everything it reads from or writes to. */
export interface ShardPorts {
  readonly index: number;
  readonly config: ServerConfig;
  /** Frames to the net worker (ShardToNet). */
  readonly to_net: FrameSink;
  /** Frames to the commit worker (ShardToCommit). */
  readonly to_commit: FrameSink;
  /** The shared tree, pinned at the root of the last commit batch this shard processed. */
  readonly tree: ShardTree;
  /** Epoch milliseconds, sub-millisecond resolution (request latency, `cons` timestamps). */
  now_ms(): number;
  /** `n` unpredictable bytes (SASL nonces): crypto.randomBytes in the thread, seeded in tests. */
  randomBytes(n: number): Uint8Array;
  readonly metrics: ShardMetrics;
  /** The input-stalled flag changed (see noteInputStalled); the driver publishes it. */
  inputStalled(stalled: boolean): void;
  /** The highest zxid the replica knows committed, maybe ahead of the shard's root
   *  (../known_commit.ts); client frames wait for it (commit_wait.ts). */
  knownCommitZxid(): number;
}

export class ShardStage implements ShardContext {
  readonly init: { readonly index: number; readonly config: ServerConfig };
  readonly tree: ShardTree;
  readonly watches: WatchTable;
  /** Watch work done in slices between ring polls: listings, a big closed connection's watches. */
  private readonly watch_work: WatchWork;
  readonly conns = new Map<number, Conn>();
  readonly to_net: FrameSink;
  readonly to_commit: FrameSink;
  readonly head = new HeadWriter();
  private readonly reader = new HeadReader();
  readonly session: ShardSession;
  readonly metrics: ShardMetrics;
  /** SASL DIGEST-MD5 user -> password (the JAAS file's); null when SASL is not configured. */
  readonly sasl_passwords: ReadonlyMap<string, string> | null;
  readonly enforced_auth_schemes: readonly string[];
  /** APPLIED frames seen since the last ROOT: a commit batch is being received. */
  private batch_open_ = false;
  /** Completions of the open batch, in stream order, answered at its ROOT. */
  private readonly held = new HeldCompletions();
  /** Client frames wait for the commits the replica knew of when they came (commit_wait.ts). */
  readonly commit_wait: CommitWait;
  private input_stalled_now = false;
  private readonly root = { gen: 0, znode_root: 0, owner_root: 0, node_count: 0, last_zxid: 0, data_bytes: 0 };
  /** Sessions that sent something are reported to the commit worker this often (TOUCH). */
  readonly touch_every_ms: number;
  private last_touch_ms: number;
  /** See beginNetPoll. */
  private net_poll_ms: number;

  constructor(private readonly ports: ShardPorts) {
    this.init = { index: ports.index, config: ports.config };
    this.tree = ports.tree;
    this.to_net = ports.to_net;
    this.to_commit = ports.to_commit;
    this.metrics = ports.metrics;
    this.sasl_passwords = ports.config.sasl === null ? null : new Map(ports.config.sasl.digest_users);
    this.enforced_auth_schemes = enforcedAuthSchemes(ports.config);
    this.watches = new WatchTable({ removal_entries_max: ports.config.watch_slice_entries });
    this.watch_work = new WatchWork(this.watches, ports.config.watch_slice_entries);
    this.session = new ShardSession(this);
    this.commit_wait = new CommitWait(ports.config.read_wait_for_known_commit_ms, () => ports.knownCommitZxid(), ports.metrics);
    this.touch_every_ms = Math.max(10, Math.floor(ports.config.tick_time_ms / 2));
    this.last_touch_ms = ports.now_ms();
    this.net_poll_ms = this.last_touch_ms;
  }

  now_ms(): number {
    return this.ports.now_ms();
  }

  received_ms(): number {
    return this.net_poll_ms;
  }

  /** The driver is about to hand this stage a batch of client frames (onNetFrame), at `now_ms`. */
  beginNetPoll(now_ms: number): void {
    this.net_poll_ms = now_ms;
  }

  randomBytes(n: number): Uint8Array {
    return this.ports.randomBytes(n);
  }

  /** A commit batch is open: its watch events are out, its root is not this shard's yet. */
  get batch_open(): boolean {
    return this.batch_open_;
  }

  /** Whether the driver may hand this stage client frames now: never mid-batch (the ordering
   *  argument above), and not while either output waits for room (backpressure). */
  get reads_net(): boolean {
    return !this.batch_open_ && !this.to_net.blocked && !this.to_commit.blocked;
  }

  /**
   * What the driver asks before it hands over client frames (at `now_ms`, some waiting): reads_net,
   * and no wait for a commit the replica knows of and this shard's root does not hold yet
   * (commit_wait.ts: a follower that holds the leader's COMMIT answers reads that came after it
   * from a root with it, as a client told of the write by another member expects).
   */
  readsNetAt(now_ms: number): boolean {
    return this.reads_net && !this.commit_wait.holds(this.tree.last_zxid, now_ms);
  }

  /** Whether the driver may hand this stage commit-stream frames now: not while the output to
   *  the net worker waits for room (completions produce replies). A full ring to the commit
   *  worker does not stop it: the commit worker may itself be waiting for room in the commit
   *  stream, and only this shard reading it frees that room (a deadlock the replica simulator
   *  found); what a commit frame sends the commit worker (a CONN_GONE) is bounded per frame and
   *  waits in the overflow queue. */
  get reads_commit(): boolean {
    return !this.to_net.blocked;
  }

  /**
   * Recomputes the input-stalled flag (topology.shard_input_stalled): frames in to_commit's
   * overflow queue (touches among them, behind a burst of writes) have not reached the commit
   * worker, which may drain its ring and find nothing waiting; and client frames (pings among
   * them) wait unread in `net_has_data` while an output is full, a batch is open or they wait
   * for a known commit (a wait bounded by waitfree.readWaitForKnownCommitMs); and a
   * connection this shard paused (its session is at waitfree.maxOutstandingPerSession) has its
   * pings unread in the kernel while its requests wait in the pipeline, maybe for a stalled disk
   * (found by the replica simulator). Either way the commit worker must not expire sessions
   * meanwhile (it defers expiry at most EXPIRY_DEFERRAL_MS_MAX).
   */
  noteInputStalled(net_has_data: boolean): void {
    const unread = (this.to_net.blocked || this.to_commit.blocked || this.batch_open_ || this.commit_wait.waiting) && net_has_data;
    const stalled = this.to_commit.blocked || unread || this.session.paused_connections > 0;
    if (stalled === this.input_stalled_now) return;
    this.input_stalled_now = stalled;
    this.ports.inputStalled(stalled);
  }

  /**
   * Sends the sessions touched since the last TOUCH, about once per touch period. The thread
   * driver calls this from an interval timer of that period, and no call of it may be skipped
   * (a late touch can expire a pinging session), so only a call less than half a period after
   * the last send counts as early: timers fire late, never half a period early. The replica
   * simulator calls it on every clock step.
   */
  tick(now_ms: number): void {
    if (now_ms - this.last_touch_ms < this.touch_every_ms / 2) return;
    this.last_touch_ms = now_ms;
    this.session.sendTouches();
  }

  /** Watch work waits (a listing, a big closed connection's watches). */
  workPending(): boolean {
    return this.watch_work.pending();
  }

  /** One bounded slice of watch work, so requests are served in between. */
  stepWork(): void {
    this.watch_work.step();
  }

  // ---- from the net worker ----

  readonly onNetFrame = (bytes: Uint8Array, start: number, end: number): void => {
    if (this.batch_open_) throw new Error(`shard ${this.init.index}: a client frame was handed over while a commit batch is open`);
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    const conn_id = r.u32();
    switch (kind) {
      case NetToShard.OPEN: {
        const ip = r.str8();
        const port = r.u32();
        // Whole milliseconds, as Date.now() gives them (cons / stat show this).
        const conn = new Conn(conn_id, ip, port, Math.floor(this.ports.now_ms()));
        // The rest of the frame: the x509 id of a secure connection's verified certificate.
        if (r.offset < end) this.addX509Id(conn, utf8.decode(bytes.subarray(r.offset, end)));
        this.conns.set(conn_id, conn);
        break;
      }
      case NetToShard.DATA: {
        const conn = this.conns.get(conn_id);
        if (conn === undefined || conn.state === 'closed') return;
        // Nearly every read: answered where it lies in the ring, nothing decoded or copied.
        if (this.session.tryReadNow(conn, bytes, r.offset, end)) return;
        // Copy: the ring slot is reused after this callback, and requests may wait in the FIFO.
        this.onClientFrame(conn, bytes.slice(r.offset, end));
        break;
      }
      case NetToShard.CLOSED: {
        const conn = this.conns.get(conn_id);
        if (conn !== undefined) this.session.forget(conn);
        break;
      }
      case NetToShard.SERVED: {
        const conn = this.conns.get(conn_id);
        if (conn === undefined || conn.state !== 'connected') return;
        const xid = r.i32();
        const opcode = r.i32();
        const err = r.i32();
        const zxid = r.i64n();
        this.session.servedByNet(conn, xid, opcode, err, zxid, r.f64());
        break;
      }
      case NetToShard.DIRECT_WRITE: {
        const conn = this.conns.get(conn_id);
        if (conn === undefined || conn.state !== 'connected') return;
        const xid = r.i32();
        const opcode = r.i32();
        this.session.directWrite(conn, xid, opcode, r.f64());
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

  /**
   * X509AuthenticationProvider.handleAuthentication: the certificate's subject is the id, and
   * the super user's certificate (zookeeper.X509AuthenticationProvider.superUser) adds
   * super:<subject> first.
   */
  private addX509Id(conn: Conn, subject: string): void {
    const super_user = this.init.config.tls?.super_user ?? '';
    if (super_user !== '' && subject === super_user) {
      conn.is_super = true;
      conn.addAuthId({ scheme: 'super', id: subject });
    }
    conn.addAuthId({ scheme: 'x509', id: subject });
  }

  private onConnectRequest(conn: Conn, req: ConnectRequest): void {
    const cfg = this.init.config;
    conn.read_only_byte = req.readOnly === null ? null : false;
    conn.last_zxid_seen = req.lastZxidSeen;
    conn.timeout_ms = negotiateTimeout(req.timeOut, cfg.min_session_timeout_ms, cfg.max_session_timeout_ms);
    conn.state = 'connecting';
    // The ids the connection has from its start (ip; x509 and super from its certificate), for
    // the commit worker's ACL checks of the session's writes.
    for (const id of conn.auth) this.to_commit.send(this.head.begin(ShardToCommit.AUTH_ADD).u32(conn.id), encodeAuthId(id));
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

  /** The zxid of the APPLIED frame being read, for fireTrigger. */
  private applied_zxid = 0;
  private readonly fireTrigger = (t: AppliedTrigger): void => this.session.fireTrigger(t, this.applied_zxid);

  readonly onCommitFrame = (bytes: Uint8Array, start: number, end: number): void => {
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    const shard = r.u8();
    const conn_id = r.u32();
    const xid = r.i32();
    const mine = shard === this.init.index;
    const conn = mine ? this.conns.get(conn_id) : undefined;
    switch (kind) {
      case CommitStream.APPLIED: {
        this.batch_open_ = true;
        const zxid = r.i64n();
        const what = r.u8();
        const err = r.i32();
        const session_id = what === APPLIED_CREATE_SESSION ? r.i64() : 0n;
        const timeout_ms = what === APPLIED_CREATE_SESSION ? r.i32() : 0;
        const passwd = what === APPLIED_CREATE_SESSION ? r.copy(16) : null;
        const answered = what === APPLIED_WRITE_ANSWERED;
        // A shard holding no watch reads no trigger (every shard reads every APPLIED frame).
        this.applied_zxid = zxid;
        const fire = this.watches.watchCount() === 0 ? null : this.fireTrigger;
        const body = readApplied(bytes, r.offset, end, fire, conn !== undefined && !answered);
        if (conn === undefined) return;
        if (answered) {
          this.held.pushDirect(conn, xid, err, zxid);
          return;
        }
        if (body === null) return;
        this.held.pushApplied(conn, { xid, zxid, what, err, body, session_id, timeout_ms, passwd });
        break;
      }
      case CommitStream.ROOT: {
        const root = this.root;
        root.gen = r.u32();
        root.znode_root = r.u32();
        root.owner_root = r.u32();
        root.node_count = r.u32();
        root.last_zxid = r.i64n();
        root.data_bytes = r.f64();
        this.tree.advanceTo(root);
        this.batch_open_ = false;
        this.held.drain(this.session);
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
        if (r.u8() === 1) this.inOrder(conn, () => this.session.completeDirect(conn, xid, err, this.tree.last_zxid));
        else this.inOrder(conn, () => this.session.complete(conn, xid, null, null, err));
        break;
      }
      case CommitStream.RELOAD:
        // Zab replaced the replica's state (TRUNC / SNAP): no connection may see the old tree
        // and the new one mixed. The new root follows (ROOT).
        this.held.clear();
        for (const c of [...this.conns.values()]) this.session.close(c);
        break;
      default:
        throw new Error(`shard ${this.init.index}: unknown commit frame kind ${kind}`);
    }
  };

  /** A completion that is not a txn's: in stream order, so behind an open batch's. A held one
   *  is dropped if its connection closed meanwhile (as a frame for a gone connection is). */
  private inOrder(conn: Conn, complete: () => void): void {
    if (!this.batch_open_) complete();
    else this.held.pushThunk(conn, complete);
  }

  // ---- stats ----

  /** Counters at once; a watch listing once WatchWork has built it (its chunks transferred).
   *  A listing is work for stepWork: the driver must wake its loop. */
  /** srst / crst (control.ts StatsReset). */
  resetStats(scope: StatsReset): void {
    this.session.resetStats(scope);
  }

  stats(detail: StatsDetail): ShardStats | Promise<Transfer> {
    const counters = this.session.stats(detail);
    if (detail.watches === null) return counters;
    const listing = this.watch_work.list(detail.watches, this.sessionOf);
    return listing.then((part) => new Transfer({ ...counters, listing: part } satisfies ShardStats, part.chunks.map((c) => c.buffer)));
  }

  /** The session a watcher (connection id) belongs to; undefined for gone or handshaking ones. */
  private readonly sessionOf = (conn_id: number): bigint | undefined => {
    const conn = this.conns.get(conn_id);
    return conn === undefined || conn.session_id === 0n ? undefined : conn.session_id;
  };
}
