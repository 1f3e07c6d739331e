// A simulated ZooKeeper client session for the replica simulator: it pipelines random requests
// as real jute frames (the product's encoders), decodes what its connection receives, checks
// what can be checked at once (FIFO order, reply zxids, durability, why a connection closed)
// and keeps a log of every message for the checks that need the whole run (replica_checks.ts).
//
// Like a real client it pings once it has sent nothing for a third of its session timeout
// (ZooKeeper's client pings after readTimeout / 2 = timeout / 3 idle), pipeline full or not.
// Its role (ClientPlan) says how its session ends:
// - worker: its ops, then (expiry runs) it lingers, pinging and watching other sessions'
//   ephemerals, until every quiet session is over (ClientEnv.horizon); then closeSession or
//   it just stops. While it works or lingers it is *kept alive*: its session must not expire.
// - silent: after some ops it sends nothing more, connection open: the session must expire
//   and the replica close the connection. It may wake once later: a write if the connection
//   is still open, else a reconnect with its session id, which must be refused.
// - dropper: after some ops its connection closes without closeSession (the session lives on
//   until it expires). It may reconnect with its session id: accepted while the session lives
//   (it works on), refused once it expired.

import { CreateMode, EventType, Xid } from '../../src/protocol/constants.js';
import { decodeConnectResponse, encodeConnectRequest } from '../../src/protocol/connect.js';
import { Err } from '../../src/protocol/errors.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { decodeReply, encodeRequest, opBodies, peekXid } from '../../src/protocol/messages.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { MultiOp, RequestACL, WatcherEvent } from '../../src/protocol/types.js';
import type { Rng } from './prng.js';
import type { RefOp, RefWrite } from './replica_model.js';

/** The kinds of work a client mixes (see ClientProfile). */
export type ClientProfile =
  /** Every kind of request, reads between writes. */
  | 'mixed'
  /** Writes only, back to back (roots are shared between them). */
  | 'writes';

export type ClientRole = 'worker' | 'silent' | 'dropper';

/** How one client behaves (drawn by the simulator). */
export interface ClientPlan {
  readonly role: ClientRole;
  readonly ops: number;
  /** silent / dropper: ops sent before it goes quiet (< ops). */
  readonly quiet_after: number;
  /** The worker ends with closeSession (its ephemerals go). */
  readonly close_at_end: boolean;
  /** The ConnectRequest's timeOut (the shard negotiates it into [2, 20] ticks). */
  readonly timeout_ms: number;
  /** silent: wakes this long after going quiet; dropper: reconnects this long after it dropped. */
  readonly again_after_ms: number | null;
}

export type ReadOp = typeof Op.getData | typeof Op.exists | typeof Op.getChildren;

export interface Sent {
  readonly xid: number;
  readonly opcode: number;
  readonly kind: 'write' | 'read' | 'ping' | 'sync';
  readonly write?: RefWrite;
  readonly read?: { path: string; watch: boolean };
  readonly step: number;
  /** Simulated ms when it went into the socket. */
  readonly sent_ms: number;
}

export type Received =
  | { readonly kind: 'reply'; readonly step: number; readonly sent: Sent; readonly zxid: number; readonly err: number; readonly body: unknown }
  | { readonly kind: 'event'; readonly step: number; readonly zxid: number; readonly type: number; readonly path: string }
  /** A new connection of the session began (watches are per connection: none carry over). */
  | { readonly kind: 'connected'; readonly step: number };

/** What a client asks of the simulation for its checks. */
export interface ClientEnv {
  step(): number;
  /** Simulated ms since the start. */
  now_ms(): number;
  /** zxid of the last txn the fake disk reported durable. */
  durableZxid(): number;
  /** First zxid of the batch whose write failed, or null. */
  failedFromZxid(): number | null;
  /** The commit stream published the closeSession txn of this session. */
  closedInStream(session_id: bigint): boolean;
  /** The commit worker no longer keeps this session alive (expired or closed). */
  sessionGone(session_id: bigint): boolean;
  /** Every quiet (silent / dropped) session is over: lingering workers may stop. */
  horizon(): boolean;
  /** A connection id never used before (a reconnect). */
  newConnId(): number;
  /** Paths some reply named (sequential nodes), shared by every client. */
  readonly known_paths: string[];
  /** Ephemeral nodes some create reply named, shared by every client. */
  readonly known_ephemerals: string[];
  fail(message: string): never;
  trace(line: string): void;
}

/** Persistent and sequential parents, and the names below them (few: ops collide). */
const PATHS = ['/a', '/b', '/c', '/a/x', '/a/y', '/b/x', '/a/x/z'];
const SEQ_PREFIXES = ['/a/s-', '/b/s-', '/s-'];
const OPEN_ACL: RequestACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const KNOWN_PATHS_MAX = 64;
/** A lingering client's idle-time request is a watch on someone's ephemeral this often. */
const LINGER_WATCH_CHANCE = 0.3;
/** A reconnect the shard closed unanswered (the client saw a newer zxid) is retried after this. */
const RETRY_MS = 50;

export type ClientState = 'new' | 'connecting' | 'connected' | 'closed';
export type ClientPhase = 'ops' | 'linger' | 'quiet' | 'finished';

/** An interval of simulated time (until_ms null: still open). */
export interface KeptAlive {
  readonly from_ms: number;
  until_ms: number | null;
}

export class SimClient {
  state: ClientState = 'new';
  phase: ClientPhase = 'ops';
  role: ClientRole;
  conn_id: number;
  shard: number;
  session_id = 0n;
  /** The session's password (from its ConnectResponse), for a reconnect. */
  private passwd = new Uint8Array(16);
  /** The negotiated timeout (from the ConnectResponse). */
  timeout_ms = 0;
  /** Request frames (payloads, no length prefix) the "socket" holds for the net worker. */
  readonly socket: Uint8Array[] = [];
  /** Requests sent and not answered, in order. */
  readonly outstanding: Sent[] = [];
  /** Requests whose connection closed before their reply (a write may still have been applied). */
  readonly lost: Sent[] = [];
  readonly log: Received[] = [];
  /** The shard stopped reading this connection (ShardToNet.PAUSE). */
  private paused_by_shard_ = false;
  /** The net worker stopped reading it: its data went into a full ring (NetBackpressure). */
  paused_by_ring = false;
  /** The client sent closeSession: a close of the connection is expected. */
  closing = false;
  /** The current connection is a reconnect with the session's id. */
  private reattaching = false;
  /** The replica refused the reconnect (ConnectResponse timeOut 0): a close is expected. */
  private refused = false;
  /** The connection was closed by this client (dropper), not by the replica. */
  dropped = false;
  /** Ask the simulation to close this client's connection now (dropper). */
  drop_requested = false;
  /** lastZxidSeen of the reconnect in flight. */
  private zxid_sent_on_connect = 0;
  /** When the session went quiet (its last send, or the drop). */
  quiet_since_ms = 0;
  /** Simulated ms of the last request or ping put into the socket. */
  private last_send_ms = 0;
  /** When a silent client wakes / a dropper reconnects (null: not, or done). */
  private again_at_ms: number | null = null;
  /** When the client kept its session alive (working or lingering, connected): it must not
   *  expire in these. */
  readonly kept_alive: KeptAlive[] = [];
  /** Largest reply zxid so far; txn replies must exceed it. */
  private last_zxid = 0;
  private next_xid = 1;
  private ops_left: number;
  private ops_sent = 0;
  private readonly quiet_after: number;
  /** Versions seen per path (a versioned write picks one). */
  private readonly versions = new Map<string, number>();
  private readonly w = new JuteWriter(256);

  constructor(
    readonly index: number,
    conn_id: number,
    private readonly shards: number,
    readonly plan: ClientPlan,
    private readonly pipeline_max: number,
    private readonly profile: ClientProfile,
    /** Largest znode value it writes (large ones fill rings). */
    private readonly data_bytes_max: number,
    private readonly rng: Rng,
    private readonly env: ClientEnv,
  ) {
    this.conn_id = conn_id;
    this.shard = conn_id % shards;
    this.role = plan.role;
    this.ops_left = plan.ops;
    this.quiet_after = plan.role === 'worker' ? Number.POSITIVE_INFINITY : plan.quiet_after;
  }

  get paused_by_shard(): boolean {
    return this.paused_by_shard_;
  }

  /** ShardToNet.PAUSE / RESUME reached the net worker. */
  set paused_by_shard(paused: boolean) {
    this.paused_by_shard_ = paused;
  }

  get name(): string {
    return `client${this.index}(conn ${this.conn_id})`;
  }

  /** Whether the client has a request (or its connection) to send now. */
  canSend(): boolean {
    if (this.state === 'new') return true;
    if (this.state !== 'connected' || this.closing || this.phase !== 'ops') return false;
    return this.ops_left > 0 && this.outstanding.length < this.pipeline_max;
  }

  /** Nothing more will happen to this client by itself: the run may end once all are done. */
  get done(): boolean {
    if (this.again_at_ms !== null || this.state === 'new' || this.state === 'connecting') return false;
    if (this.state === 'closed') return !this.dropped || this.env.sessionGone(this.session_id);
    return this.phase === 'finished' && this.outstanding.length === 0 && !this.closing;
  }

  /** The client waits for its session to expire (silent and connected, or dropped). */
  get awaiting_expiry(): boolean {
    if (this.phase !== 'quiet' || this.env.sessionGone(this.session_id)) return false;
    return this.dropped ? this.state === 'closed' : this.state === 'connected';
  }

  /** The ConnectRequest (the caller sends NetToShard.OPEN first): a new session, or the
   *  session's id and password on a reconnect. */
  open(): void {
    this.w.reset();
    this.zxid_sent_on_connect = this.reattaching ? this.last_zxid : 0;
    const sessionId = this.reattaching ? this.session_id : 0n;
    const passwd = this.reattaching ? this.passwd : new Uint8Array(16);
    encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: this.zxid_sent_on_connect, timeOut: this.plan.timeout_ms, sessionId, passwd, readOnly: false }, this.w);
    this.push();
    this.state = 'connecting';
    this.env.trace(`${this.name} sends ConnectRequest${this.reattaching ? ` for session 0x${this.session_id.toString(16)}` : ''}`);
  }

  /** Sends the next request (may be sent before the ConnectResponse: the shard holds it). */
  sendNext(): void {
    if (this.state === 'new') return this.open();
    this.ops_left--;
    this.ops_sent++;
    const roll = this.rng.int(0, 99);
    if (this.profile === 'writes' || roll < 50) this.sendWrite();
    else if (roll < 85) this.sendRead();
    else if (roll < 92) this.ping();
    else {
      const path = this.rng.pick(PATHS);
      this.send({ xid: this.next_xid++, opcode: Op.sync, kind: 'sync', read: { path, watch: false }, step: this.env.step(), sent_ms: this.env.now_ms() }, { path });
    }
    if (this.ops_sent === this.quiet_after) this.goQuiet();
    else if (this.ops_left === 0) this.phase = 'linger';
  }

  private goQuiet(): void {
    this.phase = 'quiet';
    this.quiet_since_ms = this.env.now_ms();
    this.endKeptAlive();
    if (this.plan.again_after_ms !== null) this.again_at_ms = this.quiet_since_ms + this.plan.again_after_ms;
    if (this.role === 'dropper') this.drop_requested = true;
    this.env.trace(`${this.name} goes quiet (${this.role})`);
  }

  private ping(): void {
    this.send({ xid: Xid.PING, opcode: Op.ping, kind: 'ping', step: this.env.step(), sent_ms: this.env.now_ms() }, null);
  }

  /**
   * Timers, run on every clock step: the idle ping; a lingering worker's end; a silent
   * client's wake-up and a dropper's reconnect.
   */
  timer(): void {
    const now = this.env.now_ms();
    if (this.state === 'connected' && !this.closing && (this.phase === 'ops' || this.phase === 'linger') && this.timeout_ms > 0) {
      if (now - this.last_send_ms >= Math.floor(this.timeout_ms / 3)) {
        const eph = this.env.known_ephemerals;
        if (this.phase === 'linger' && eph.length > 0 && this.rng.chance(LINGER_WATCH_CHANCE)) {
          const path = this.rng.pick(eph);
          this.send({ xid: this.next_xid++, opcode: Op.exists, kind: 'read', read: { path, watch: true }, step: this.env.step(), sent_ms: now }, { path, watch: true });
        } else {
          this.ping();
        }
      }
    }
    if (this.state === 'connected' && this.phase === 'linger' && this.env.horizon()) this.finish();
    if (this.again_at_ms !== null && now >= this.again_at_ms && this.state !== 'connecting' && this.state !== 'new') {
      this.again_at_ms = null;
      if (this.state === 'connected') {
        this.env.trace(`${this.name} wakes: one write`);
        this.sendWrite();
        this.quiet_since_ms = now;
      } else {
        this.reconnect();
      }
    }
  }

  /** When timer() next has something to do (ms), or null. */
  nextTimerMs(): number | null {
    let at: number | null = this.again_at_ms;
    if (this.state === 'connected' && !this.closing && (this.phase === 'ops' || this.phase === 'linger') && this.timeout_ms > 0) {
      const ping_at = this.last_send_ms + Math.floor(this.timeout_ms / 3);
      at = at === null ? ping_at : Math.min(at, ping_at);
    }
    return at;
  }

  /** The linger is over: closeSession, or just stop. */
  private finish(): void {
    this.phase = 'finished';
    this.endKeptAlive();
    if (this.plan.close_at_end) this.send({ xid: this.next_xid++, opcode: Op.closeSession, kind: 'write', write: { kind: 'closeSession' }, step: this.env.step(), sent_ms: this.env.now_ms() }, null);
  }

  private reconnect(): void {
    this.reattaching = true;
    this.refused = false;
    this.dropped = false;
    this.paused_by_shard = false;
    this.paused_by_ring = false;
    this.conn_id = this.env.newConnId();
    this.shard = this.conn_id % this.shards;
    this.state = 'new';
    this.env.trace(`${this.name} will reconnect with session 0x${this.session_id.toString(16)}`);
  }

  private sendRead(): void {
    const opcode = this.rng.pick([Op.getData, Op.exists, Op.getChildren] as const);
    const path = opcode === Op.getChildren && this.rng.chance(0.2) ? '/' : this.pickPath();
    const watch = this.rng.chance(0.6);
    this.send({ xid: this.next_xid++, opcode, kind: 'read', read: { path, watch }, step: this.env.step(), sent_ms: this.env.now_ms() }, { path, watch });
  }

  private sendWrite(): void {
    const roll = this.rng.int(0, 99);
    const sent_ms = this.env.now_ms();
    if (roll < 12) {
      const ops: RefOp[] = [];
      // Small values: a multi stays under jute.maxbuffer however small the rings make it.
      for (let n = this.rng.int(1, 3); n > 0; n--) ops.push(this.randomOp(6));
      const body: { ops: MultiOp[] } = { ops: ops.map(toMultiOp) };
      return this.send({ xid: this.next_xid++, opcode: Op.multi, kind: 'write', write: { kind: 'multi', ops }, step: this.env.step(), sent_ms }, body);
    }
    const op = this.randomOp(this.data_bytes_max);
    const opcode = op.kind === 'create' ? (this.rng.chance(0.3) ? Op.create2 : Op.create) : op.kind === 'delete' ? Op.delete : op.kind === 'setData' ? Op.setData : Op.check;
    const body = op.kind === 'create' ? { path: op.path, data: op.data, acl: OPEN_ACL, flags: op.flags } : op.kind === 'setData' ? { path: op.path, data: op.data, version: op.version } : { path: op.path, version: op.version };
    this.send({ xid: this.next_xid++, opcode, kind: 'write', write: { kind: 'single', op }, step: this.env.step(), sent_ms }, body);
  }

  private randomOp(data_bytes_max: number): RefOp {
    const roll = this.rng.int(0, 99);
    if (roll < 40) {
      const f = this.rng.int(0, 99);
      const flags = f < 55 ? CreateMode.PERSISTENT : f < 70 ? CreateMode.EPHEMERAL : f < 85 ? CreateMode.PERSISTENT_SEQUENTIAL : CreateMode.EPHEMERAL_SEQUENTIAL;
      const sequential = flags === CreateMode.PERSISTENT_SEQUENTIAL || flags === CreateMode.EPHEMERAL_SEQUENTIAL;
      return { kind: 'create', path: sequential ? this.rng.pick(SEQ_PREFIXES) : this.rng.pick(PATHS), data: this.randomData(data_bytes_max), flags };
    }
    const path = this.pickPath();
    if (roll < 75) return { kind: 'setData', path, data: this.randomData(data_bytes_max), version: this.pickVersion(path) };
    if (roll < 92) return { kind: 'delete', path, version: this.pickVersion(path) };
    return { kind: 'check', path, version: this.pickVersion(path) };
  }

  private pickPath(): string {
    const known = this.env.known_paths;
    if (known.length > 0 && this.rng.chance(0.3)) return this.rng.pick(known);
    return this.rng.pick(PATHS);
  }

  /** -1 (any), the version this client last saw for the path, or a random small one. */
  private pickVersion(path: string): number {
    const roll = this.rng.int(0, 99);
    if (roll < 50) return -1;
    if (roll < 85) return this.versions.get(path) ?? 0;
    return this.rng.int(0, 3);
  }

  private randomData(data_bytes_max: number): Uint8Array | null {
    if (this.rng.chance(0.1)) return null;
    const d = new Uint8Array(this.rng.int(0, this.rng.chance(0.5) ? data_bytes_max : Math.min(6, data_bytes_max)));
    for (let i = 0; i < d.length; i++) d[i] = this.rng.int(0, 255);
    return d;
  }

  private send(sent: Sent, body: unknown): void {
    if (sent.opcode === Op.closeSession) this.closing = true;
    this.w.reset();
    encodeRequest(sent.xid, sent.opcode as never, body as never, this.w);
    this.push();
    this.outstanding.push(sent);
    this.last_send_ms = sent.sent_ms;
    this.env.trace(`${this.name} sends ${describeSent(sent)}`);
  }

  /** The encoded frame without its length prefix goes to the socket. */
  private push(): void {
    this.socket.push(this.w.view_bytes().slice(4));
  }

  // ---- what the connection receives ----

  /** ShardToNet.SEND: one or more length-prefixed frames. */
  receive(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      if (bytes.length - at < 4) this.env.fail(`${this.name}: a SEND frame ends inside a length prefix`);
      const len = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getInt32(0);
      if (len < 0 || at + 4 + len > bytes.length) this.env.fail(`${this.name}: frame length ${len} runs past the SEND frame`);
      this.frame(bytes.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
  }

  private frame(payload: Uint8Array): void {
    if (this.state === 'closed') this.env.fail(`${this.name}: bytes after the connection closed`);
    if (this.refused) this.env.fail(`${this.name}: bytes after the ConnectResponse that refused the session`);
    if (this.state === 'connecting') return this.connectResponse(payload);
    const xid = peekXid(payload);
    if (xid === Xid.NOTIFICATION) return this.event(payload);
    const head = this.outstanding.shift();
    if (head === undefined) this.env.fail(`${this.name}: reply xid ${xid} with nothing outstanding`);
    // (a) FIFO: replies come in request order (ZooKeeper answers a ping with xid -2).
    if (xid !== head.xid) this.env.fail(`${this.name}: FIFO violated: reply xid ${xid}, expected xid ${head.xid} (${describeSent(head)})`);
    const name = opBodies(head.opcode)?.response ?? null;
    const reply = decodeReply(payload, name);
    const { zxid, err } = reply.header;
    this.env.trace(`${this.name} reply ${describeSent(head)} err ${err} zxid ${zxid}`);
    this.checkReplyZxid(head, zxid, err);
    this.log.push({ kind: 'reply', step: this.env.step(), sent: head, zxid, err, body: reply.body });
    this.noteVersions(head, err, reply.body);
    for (const p of createdPaths(head, err, reply.body)) {
      if (this.env.known_paths.length < KNOWN_PATHS_MAX && p.path.includes('s-')) this.env.known_paths.push(p.path);
      if (this.env.known_ephemerals.length < KNOWN_PATHS_MAX && p.ephemeral) this.env.known_ephemerals.push(p.path);
    }
  }

  private connectResponse(payload: Uint8Array): void {
    const resp = decodeConnectResponse(payload);
    if (resp.timeOut <= 0 || resp.sessionId === 0n) {
      // ZooKeeper's "session expired" answer: only to a reconnect, and only once the session's
      // closeSession was published (or, read-only after a disk fault, dropped without one).
      if (!this.reattaching) this.env.fail(`${this.name}: new session refused (${JSON.stringify({ timeOut: resp.timeOut })})`);
      if (!this.env.closedInStream(this.session_id) && this.env.failedFromZxid() === null) {
        this.env.fail(`${this.name}: reconnect of session 0x${this.session_id.toString(16)} refused, but its closeSession was never published`);
      }
      this.refused = true;
      this.env.trace(`${this.name} reconnect refused: session 0x${this.session_id.toString(16)} expired`);
      return;
    }
    if (this.reattaching && resp.sessionId !== this.session_id) this.env.fail(`${this.name}: reconnect answered with session 0x${resp.sessionId.toString(16)}`);
    this.session_id = resp.sessionId;
    this.passwd = resp.passwd.slice();
    this.timeout_ms = resp.timeOut;
    this.state = 'connected';
    this.last_send_ms = this.env.now_ms();
    this.log.push({ kind: 'connected', step: this.env.step() });
    if (this.reattaching) {
      // Reconnected in time: the session works on (its ephemerals are still there).
      this.role = 'worker';
      this.phase = this.ops_left > 0 ? 'ops' : 'linger';
    }
    if (this.phase === 'ops' || this.phase === 'linger') this.kept_alive.push({ from_ms: this.env.now_ms(), until_ms: null });
    this.env.trace(`${this.name} connected: session 0x${resp.sessionId.toString(16)}, timeout ${resp.timeOut} ms`);
  }

  /**
   * (b) reply zxids never go back, and a txn's reply zxid is above every earlier reply's: the
   * read (or sync, ping) before a write was served from a root without that write. (d) no
   * reply shows a txn the disk has not made durable, nor one of a failed batch or after it.
   */
  private checkReplyZxid(sent: Sent, zxid: number, err: number): void {
    const txn = sent.kind === 'write' && err !== Err.NOTREADONLY;
    if (zxid < this.last_zxid) {
      this.env.fail(`${this.name}: reply zxid went back: ${describeSent(sent)} answered at zxid ${zxid} after a reply at zxid ${this.last_zxid}`);
    }
    if (txn && zxid === this.last_zxid) {
      this.env.fail(`${this.name}: ${describeSent(sent)} has zxid ${zxid}, which an earlier reply of the session already showed (a read before it saw it)`);
    }
    if (zxid > this.last_zxid) this.last_zxid = zxid;
    if (zxid > this.env.durableZxid()) this.env.fail(`${this.name}: ${describeSent(sent)} answered at zxid ${zxid}, durable only through ${this.env.durableZxid()}`);
    const failed = this.env.failedFromZxid();
    if (txn && failed !== null && zxid >= failed) this.env.fail(`${this.name}: ${describeSent(sent)} acknowledged at zxid ${zxid}, in or after the failed batch (from zxid ${failed})`);
  }

  private event(payload: Uint8Array): void {
    const reply = decodeReply(payload, 'WatcherEvent');
    const ev = reply.body as WatcherEvent;
    const zxid = reply.header.zxid;
    this.env.trace(`${this.name} event ${eventName(ev.type)} ${ev.path} zxid ${zxid}`);
    if (zxid > this.env.durableZxid()) this.env.fail(`${this.name}: event for zxid ${zxid}, durable only through ${this.env.durableZxid()}`);
    this.log.push({ kind: 'event', step: this.env.step(), zxid, type: ev.type, path: ev.path });
  }

  /**
   * ShardToNet.CLOSE. Expected after closeSession, a disk fault, a refused reconnect, the
   * session's expiry (its closeSession txn is out), or a reconnect whose lastZxidSeen the
   * shard's tree has not reached (`zxid_ahead`: the client tries again).
   */
  closed(expected_by_failure: boolean, tree_zxid: number): void {
    const expired = this.session_id !== 0n && this.env.closedInStream(this.session_id);
    const zxid_ahead = this.state === 'connecting' && this.reattaching && !this.refused && this.zxid_sent_on_connect > tree_zxid;
    if (!this.closing && !expected_by_failure && !this.refused && !expired && !zxid_ahead) {
      this.env.fail(`${this.name}: the replica closed the connection (${this.outstanding.length} requests unanswered, session 0x${this.session_id.toString(16)} not expired)`);
    }
    this.connectionGone();
    if (zxid_ahead) this.again_at_ms = this.env.now_ms() + RETRY_MS;
    this.env.trace(`${this.name} connection closed${expired ? ' (session expired)' : zxid_ahead ? ' (shard behind its lastZxidSeen: will retry)' : ''}`);
  }

  /** The client closes its connection without closeSession (dropper). */
  drop(): void {
    this.drop_requested = false;
    this.connectionGone();
    this.dropped = true;
    this.env.trace(`${this.name} drops its connection (${this.lost.length} requests unanswered)`);
  }

  private connectionGone(): void {
    this.state = 'closed';
    this.endKeptAlive();
    this.lost.push(...this.outstanding);
    this.outstanding.length = 0;
    this.socket.length = 0;
    this.paused_by_shard = false;
    this.paused_by_ring = false;
  }

  private endKeptAlive(): void {
    const last = this.kept_alive[this.kept_alive.length - 1];
    if (last !== undefined && last.until_ms === null) last.until_ms = this.env.now_ms();
  }

  private noteVersions(sent: Sent, err: number, body: unknown): void {
    if (err !== 0) return;
    const stat = (body as { stat?: { version: number } } | null)?.stat;
    const path = sent.read?.path ?? (sent.write?.kind === 'single' ? sent.write.op.path : undefined);
    if (stat !== undefined && path !== undefined) this.versions.set(path, stat.version);
  }
}

function toMultiOp(op: RefOp): MultiOp {
  switch (op.kind) {
    case 'create':
      return { type: 1, request: { path: op.path, data: op.data, acl: OPEN_ACL, flags: op.flags } };
    case 'delete':
      return { type: 2, request: { path: op.path, version: op.version } };
    case 'setData':
      return { type: 5, request: { path: op.path, data: op.data, version: op.version } };
    case 'check':
      return { type: 13, request: { path: op.path, version: op.version } };
  }
}

const EPHEMERAL_FLAGS: ReadonlySet<number> = new Set([CreateMode.EPHEMERAL, CreateMode.EPHEMERAL_SEQUENTIAL]);

/** Paths a successful create (or multi) reply names, and whether each is ephemeral. */
function createdPaths(sent: Sent, err: number, body: unknown): { path: string; ephemeral: boolean }[] {
  if (err !== 0 || sent.write === undefined) return [];
  if (sent.write.kind === 'single' && sent.write.op.kind === 'create') {
    return [{ path: (body as { path: string }).path, ephemeral: EPHEMERAL_FLAGS.has(sent.write.op.flags) }];
  }
  if (sent.write.kind === 'multi') {
    const creates = sent.write.ops.filter((o) => o.kind === 'create');
    const results = (body as { type: number; response: { path?: string } | null }[]).filter((r) => r.type === 1);
    return results.map((r, i) => ({ path: r.response!.path!, ephemeral: EPHEMERAL_FLAGS.has((creates[i] as { flags: number } | undefined)?.flags ?? 0) }));
  }
  return [];
}

export function describeSent(s: Sent): string {
  const name = opBodies(s.opcode)?.name ?? String(s.opcode);
  if (s.read !== undefined) return `${name} ${s.read.path}${s.read.watch ? ' (watch)' : ''} xid ${s.xid}`;
  if (s.write?.kind === 'single') return `${name} ${s.write.op.path} xid ${s.xid}`;
  if (s.write?.kind === 'multi') return `multi [${s.write.ops.map((o) => `${o.kind} ${o.path}`).join(', ')}] xid ${s.xid}`;
  return `${name} xid ${s.xid}`;
}

export function eventName(type: number): string {
  return Object.entries(EventType).find(([, v]) => v === type)?.[0] ?? String(type);
}
