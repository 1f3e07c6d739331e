// A deterministic simulator of client sessions over a Zab ensemble (three voters, and an observer
// in some runs): what the Zab simulator
// (simulation.ts) leaves out. Each replica is the product's QuorumDriver (with its ZabCore),
// CommitCore and GroupCommit, wired as the commit worker wires them (commit_worker.ts routingFor,
// its loop, commit_stage.ts's publish), over a fake disk; replicas talk through the simulated
// peer network (network.ts: delays, spikes, partitions, resets), and clients hold sessions that
// move between replicas. One thread, simulated milliseconds, every choice from one seeded PRNG.
//
// Faults: partitions and resets of peer links, replica crashes (the unsynced log suffix lost)
// and pauses; clients that move to another replica leaving their connection open behind them
// (a write may still be on its way there), close it, or go silent past their timeout.
//
// Checked as it runs:
// - committed txns agree: every replica releases the same txn at each zxid;
// - FIFO across moves (ZooKeeper's SESSIONMOVED): a session's writes commit in the order of the
//   connections they were sent on: never a write sent on a connection the client had left after
//   one sent on its next connection;
// - a reattach is accepted only on a decision (the leader's own table, or its REVALIDATE answer
//   to a learner) made before the session's closeSession was committed anywhere;
// - ephemerals go with their session: none is committed for a closed session, and its
//   closeSession deletes exactly the ephemerals it owns;
// - healed, every client commits writes again;
// - a commit a replica announces to its read workers (QuorumHost.knownCommit: reads wait for it)
//   was committed, and a serving replica has applied it by the end;
// - the product throws nothing (its assertions are invariants of the replica).
//
// The disk: a replica's log is the txns it handed to group commit, durable up to a point; a
// crash keeps the durable part. TRUNC cuts the log; SNAP replaces it with the leader's committed
// txns (the simulated snapshot is that list). A reload rebuilds CommitCore and GroupCommit from
// the log, as the commit worker's reloadFromDisk does from its files.

import { CommitCore, type Origin, type Publication } from '../../src/commit/commit_core.js';
import { GroupCommit, type GroupCommitOptions } from '../../src/commit/group_commit.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { encodeRequest, isMalformed, readServerRequest } from '../../src/protocol/messages.js';
import { Op } from '../../src/protocol/opcodes.js';
import { encodeCreateSession, encodeWrite } from '../../src/quorum/forward_codec.js';
import { QuorumDriver, type QuorumHost, type QuorumRole } from '../../src/quorum/quorum_driver.js';
import { leaderQueueMax, zabInitFor } from '../../src/quorum/quorum_setup.js';
import { numberOfZxid } from '../../src/quorum/zxid_number.js';
import type { PendingRevalidation } from '../../src/quorum/revalidations.js';
import { DataTree } from '../../src/tree/data_tree.js';
import type { WriteRequest } from '../../src/tree/prep.js';
import { isSessionMoved, type Txn } from '../../src/tree/txn.js';
import { txnFromBytes } from '../../src/tree/txn_codec.js';
import { zabConfig, type ZabConfig } from '../../src/zab/config.js';
import { decodeMessage, encodeMessage, type PeerMessage } from '../../src/zab/messages.js';
import { workingTreeOf } from '../support/read_trees.js';
import { OPEN_ACL } from '../server/harness.js';
import { EventQueue } from './event_queue.js';
import { Network } from './network.js';
import { Rng } from './prng.js';

export class SessionSimFailure extends Error {
  override readonly name = 'SessionSimFailure';
}

export interface SessionSimOptions {
  readonly seed: number;
  /** Voters, then observers (sids after the voters'). */
  readonly replicas: number;
  readonly observers: number;
  readonly clients: number;
  /** Faults run this long, then everything heals and the run goes on for `settle_ms`. */
  readonly fault_ms: number;
  readonly settle_ms: number;
  readonly keep_trace: boolean;
  /** Chance that a client's frame is held 20-400 ms (a write that arrives after its client moved on). */
  readonly client_spike_chance: number;
  /** Chance per client step of moving away (leaving the connection open) and of closing it. */
  readonly move_chance: number;
  /** The leader's proposals in flight and a learner's forwarded writes (waitfree.zab.inFlightMax):
   *  small, the leader's Zab core queues proposals behind it (default IN_FLIGHT_MAX). */
  readonly in_flight_max?: number;
}

const TICK_MS = 10;
/** CommitCore's tickTime: session expiry is checked at this granularity. */
const SESSION_TICK_MS = 50;
const IN_FLIGHT_MAX = 32;
const TRACE_TAIL = 4000;
const ZAB: Partial<ZabConfig> = {
  init_limit_ticks: 20,
  sync_limit_ticks: 10,
  ping_ticks: 2,
  info_retry_ticks: 2,
  election: { finalize_ticks: 1, notify_ticks_min: 2, notify_ticks_max: 20 },
  committed_log_max: 30,
};
const GC: GroupCommitOptions = { txns_max: 16, bytes_max: 1 << 20, wait_us: 0, commit_on_durable: false };

interface Entry {
  readonly zxid: number;
  readonly bytes: Uint8Array;
}

/** Group commit that also hands the simulated disk each txn it logs, in log order. */
class SimGroupCommit extends GroupCommit {
  unwritten: Entry[] = [];

  override logEncoded(zxid: number, payload: Uint8Array, now_us: number): void {
    if (!this.failed) this.unwritten.push({ zxid, bytes: payload.slice() });
    super.logEncoded(zxid, payload, now_us);
  }

  override add(pubs: readonly Publication[], now_us: number, on_txn?: (zxid: number, session_id: bigint, bytes: Uint8Array, start: number, end: number) => void): void {
    super.add(pubs, now_us, (zxid, session_id, bytes, start, end) => {
      this.unwritten.push({ zxid, bytes: bytes.slice(start, end) });
      on_txn?.(zxid, session_id, bytes, start, end);
    });
  }
}

/** A client connection as its replica sees it. */
interface ServerConn {
  readonly id: number;
  readonly client: SimClient;
  /** The client's connection number (its k-th connection). */
  readonly k: number;
  open: boolean;
  session_id: bigint;
  /** When the decision to accept its reattach was made (leader-local reattach). */
  decided_at: number | null;
}

class Member {
  up = false;
  gen = 0;
  // ---- disk (survives a crash) ----
  accepted_epoch = 0;
  current_epoch = 0;
  log: Entry[] = [];
  durable = 0;
  // ---- memory ----
  q: QuorumDriver | null = null;
  core!: CommitCore;
  gc!: SimGroupCommit;
  inflight: { seq: number; count: number; token: number } | null = null;
  write_token = 0;
  readonly conns = new Map<number, ServerConn>();
  next_conn = 1;
  inputs: (() => void)[] = [];
  turn_at: number | null = null;
  role: QuorumRole | null = null;
  paused_until = 0;
  /** Per session, the connection number of its last committed write released here. */
  readonly last_k = new Map<bigint, number>();
  /** Decision times of the leader's REVALIDATE answers to this learner, by token. */
  readonly answered_at = new Map<number, number>();
  /** The highest commit its driver said it knows of (QuorumHost.knownCommit: reads wait for it). */
  known_commit = 0;
  /** When it last began serving. */
  serving_at = -1;

  constructor(readonly sid: number) {}

  get serving(): boolean {
    return this.up && this.q !== null && this.q.serving;
  }
}

type ClientState = 'idle' | 'connecting' | 'open';

class SimClient {
  session_id = 0n;
  passwd: Uint8Array = new Uint8Array(16);
  state: ClientState = 'idle';
  member = 0;
  conn_id = 0;
  /** Connection number: bumped for every connection the client opens. */
  k = 0;
  next_seq = 1;
  in_flight = 0;
  last_sent = 0;
  silent_until = 0;
  reconnect_at = 0;
  /** Gives up on a connection not answered by then (ZooKeeper's client: its connect timeout). */
  connect_deadline = 0;
  /** Last answer of any kind on the current connection (for the read timeout). */
  last_heard = 0;
  /** When a write of this client last committed (liveness after healing). */
  committed_at = -1;
  /** FIFO floors of the current connection, both directions. */
  up_ready = 0;
  down_ready = 0;
  created = 0;
  reattached = 0;
  expired = 0;
  committed = 0;
  moved = 0;

  constructor(
    readonly id: number,
    readonly timeout_ms: number,
  ) {}
}

export interface SessionSimStats {
  events: number;
  sessions: number;
  reattached: number;
  expired: number;
  committed: number;
  moved: number;
  moved_refused: number;
  elections: number;
  crashes: number;
}

export class SessionSim {
  now = 0;
  readonly rng: Rng;
  readonly queue = new EventQueue();
  readonly net: Network;
  readonly members: Member[] = [];
  readonly clients: SimClient[] = [];
  readonly lines: string[] = [];
  events = 0;
  crashes = 0;
  elections = 0;
  moved_refused = 0;
  /** zxid -> what was committed there (the first replica to release it says). */
  private readonly committed = new Map<number, string>();
  /** Session -> when its closeSession was first released (committed) anywhere. */
  private readonly closed_at = new Map<bigint, number>();
  /** The committed history's ephemerals, per owner, and the sessions it closed (kept in zxid
   *  order: the first release of each zxid comes after every smaller one's). */
  private readonly ephemerals = new Map<bigint, Set<string>>();
  private readonly closed = new Set<bigint>();
  private failure: string | null = null;
  private readonly in_flight_max: number;

  constructor(readonly opts: SessionSimOptions) {
    this.in_flight_max = opts.in_flight_max ?? IN_FLIGHT_MAX;
    this.rng = new Rng(opts.seed);
    this.net = new Network(this.rng.fork(), { delay_ms_min: 1, delay_ms_max: 3, spike_chance: 0.02, spike_ms_max: 60 }, {
      schedule: (t, run) => this.queue.push(t, run),
      now: () => this.now,
      deliver: (from, to, bytes) => this.deliver(from, to, bytes),
      reset: (a, b, initiator) => this.onReset(a, b, initiator),
    });
    for (let sid = 1; sid <= opts.replicas + opts.observers; sid++) this.members.push(new Member(sid));
  }

  // ---- trace and failure ------------------------------------------------------------------

  trace(line: string): void {
    this.lines.push(`${this.now} ${line}`);
    if (!this.opts.keep_trace && this.lines.length > 2 * TRACE_TAIL) this.lines.splice(0, this.lines.length - TRACE_TAIL);
  }

  private fail(why: string): never {
    this.failure ??= why;
    this.trace(`FAIL ${why}`);
    throw new SessionSimFailure(why);
  }

  // ---- running -------------------------------------------------------------------------

  private at(delay_ms: number, run: () => void): void {
    this.queue.push(this.now + delay_ms, run);
  }

  /** Runs the whole scenario; returns the failure, or null. Async: a driver's reload resolves a promise. */
  async run(): Promise<string | null> {
    try {
      for (const m of this.members) this.boot(m);
      for (let i = 0; i < this.opts.clients; i++) {
        const c = new SimClient(i + 1, this.rng.pick([300, 500, 800, 1200]));
        this.clients.push(c);
        this.at(this.rng.int(1, 50), () => this.clientLoop(c));
      }
      this.at(this.rng.int(200, 600), () => this.faultLoop());
      await this.runUntil(this.opts.fault_ms);
      this.healAll();
      await this.runUntil(this.opts.fault_ms + this.opts.settle_ms);
      this.checkProgress();
    } catch (e) {
      if (e instanceof SessionSimFailure) return e.message;
      this.trace(`EXCEPTION ${(e as Error).stack ?? String(e)}`);
      return `exception: ${(e as Error).message}`;
    }
    return this.failure;
  }

  private async runUntil(end_ms: number): Promise<void> {
    for (;;) {
      const t = this.queue.peekTime();
      if (t === null || t > end_ms) {
        this.now = end_ms;
        return;
      }
      const e = this.queue.pop()!;
      this.now = e.time;
      this.events++;
      e.run();
      // Lets a driver's reload promise settle (its .then unblocks the driver and wakes a turn).
      await null;
    }
  }

  stats(): SessionSimStats {
    const sum = (f: (c: SimClient) => number): number => this.clients.reduce((a, c) => a + f(c), 0);
    return {
      events: this.events,
      sessions: sum((c) => c.created),
      reattached: sum((c) => c.reattached),
      expired: sum((c) => c.expired),
      committed: sum((c) => c.committed),
      moved: sum((c) => c.moved),
      moved_refused: this.moved_refused,
      elections: this.elections,
      crashes: this.crashes,
    };
  }

  // ---- replicas ------------------------------------------------------------------------

  private boot(m: Member): void {
    m.up = true;
    m.gen++;
    m.log = m.log.slice(0, m.durable);
    m.inflight = null;
    m.inputs = [];
    m.turn_at = null;
    m.role = null;
    m.conns.clear();
    m.last_k.clear();
    m.answered_at.clear();
    m.known_commit = 0;
    this.rebuild(m);
    const voters = this.members.filter((x) => x.sid <= this.opts.replicas).map((x) => x.sid);
    const observers = this.members.filter((x) => x.sid > this.opts.replicas).map((x) => x.sid);
    const last = m.log.length === 0 ? 0 : m.log[m.log.length - 1]!.zxid;
    m.q = new QuorumDriver(
      // A learner's forwarded writes and REVALIDATE questions are bounded by the same number (the
      // product: zab_in_flight_max); the leader's queue by leaderQueueMax (4: the most members).
      zabConfig(m.sid, voters, observers, { ...ZAB, in_flight_max: this.in_flight_max, pending_max: leaderQueueMax(this.in_flight_max, 4) }),
      zabInitFor({ accepted_epoch: m.accepted_epoch, current_epoch: m.current_epoch }, 0, m.log),
      this.hostOf(m),
      // The simulated network delivers each message on its own (nothing is corked to flush).
      { send: (to, msg) => this.send(m, to, msg), disconnect: (peer) => this.net.reset(m.sid, peer, m.sid), flush: () => {} },
      last,
      this.in_flight_max,
      undefined,
      () => this.now,
      () => this.now * 1000,
    );
    m.q.start();
    this.trace(`r${m.sid}: boot at zxid ${last.toString(16)}`);
    const gen = m.gen;
    this.at(this.rng.int(1, TICK_MS), () => this.tickLoop(m, gen));
  }

  /** The commit core and group commit for the replica's log (commit_worker.ts newState). */
  private rebuild(m: Member): void {
    const tree = new DataTree();
    const sessions = new Map<bigint, { timeout_ms: number; passwd: Uint8Array }>();
    for (const e of m.log) {
      const txn = txnFromBytes(e.bytes);
      tree.apply(txn);
      if (txn.op.kind === 'createSession') sessions.set(txn.header.session_id, { timeout_ms: txn.op.timeout_ms, passwd: txn.op.passwd });
      else if (txn.op.kind === 'closeSession') sessions.delete(txn.header.session_id);
    }
    const last = m.log.length === 0 ? 0 : m.log[m.log.length - 1]!.zxid;
    m.core = new CommitCore(
      { server_id: m.sid, tick_ms: SESSION_TICK_MS, ttl_enabled: false, secret: new Uint8Array(32), reap_interval_ms: 1000, reap_per_check_max: 10 },
      { now_ms: () => this.now },
      { view: workingTreeOf(tree), sessions },
    );
    m.core.follow();
    // When the leader decided each REVALIDATE answer (its answer is released later).
    const core = m.core;
    const revalidate = core.revalidate.bind(core);
    core.revalidate = (from_sid, token, session_id, passwd, timeout_ms) => {
      this.members[from_sid - 1]!.answered_at.set(token, this.now);
      revalidate(from_sid, token, session_id, passwd, timeout_ms);
    };
    m.gc = new SimGroupCommit(GC, last);
  }

  private hostOf(m: Member): QuorumHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const sim = this;
    return {
      get core() {
        return m.core;
      },
      get gc() {
        return m.gc;
      },
      // A truncate or install cancels the write in flight (the simulated disk has no queue).
      write_in_flight: false,
      learnerLogged(): void {},
      persistEpochs(accepted_epoch: number, current_epoch: number): void {
        m.accepted_epoch = accepted_epoch;
        m.current_epoch = current_epoch;
      },
      truncateAndReload(zxid: number): Promise<void> {
        sim.reload(m, m.log.filter((e) => e.zxid <= zxid), `truncate to ${zxid.toString(16)}`);
        return Promise.resolve();
      },
      installSnapshotAndReload(zxid: number, snapshot: Uint8Array): Promise<void> {
        sim.reload(m, decodeEntries(snapshot), `snapshot at ${zxid.toString(16)}`);
        return Promise.resolve();
      },
      snapshotAtLeast(min_zxid: number): Promise<{ zxid: number; bytes: Uint8Array }> {
        const committed = m.log.filter((e) => e.zxid <= m.gc.committed_zxid);
        const zxid = committed.length === 0 ? 0 : committed[committed.length - 1]!.zxid;
        if (zxid < min_zxid) return Promise.reject(new Error(`committed ${zxid.toString(16)} < ${min_zxid.toString(16)}`));
        return Promise.resolve({ zxid, bytes: encodeEntries(committed) });
      },
      remoteWrite(from_sid: number, session_id: bigint, _auth, request_bytes: Uint8Array): void {
        const request = readServerRequest(new JuteReader(request_bytes, 0, request_bytes.length));
        const body = isMalformed(request) ? request : request.body;
        m.core.remoteRequest(from_sid, session_id, request.header.xid, request.header.type, body as WriteRequest | null, []);
      },
      revalidated(p: PendingRevalidation, valid: boolean): void {
        const conn = m.conns.get(p.origin.conn_id);
        if (conn !== undefined) conn.decided_at = m.answered_at.get(p.token) ?? null;
        m.core.reattach(p.origin, p.session_id, p.passwd, p.timeout_ms, valid);
      },
      stagePrepped(): void {
        sim.stagePublications(m);
      },
      closeAllClients(reason: string): void {
        sim.trace(`r${m.sid}: close all clients (${reason})`);
        for (const c of m.core.ownedConnections()) sim.closeConn(m, c.conn_id);
      },
      roleChanged(role: QuorumRole): void {
        if (role.serving && role.state === 'LEADING') sim.elections++;
        if (role.serving && m.role?.serving !== true) m.serving_at = sim.now;
        m.role = role;
      },
      wake(): void {
        sim.scheduleTurn(m);
      },
      log(line: string): void {
        sim.trace(`r${m.sid}: ${line}`);
      },
      reconfigInFlight(): void {}, // no reconfig here: the members never change
      knownCommit(zxid: number): void {
        m.known_commit = Math.max(m.known_commit, zxid);
      },
    };
  }

  /** TRUNC / SNAP: the log becomes `entries`, durable; memory is rebuilt from it. */
  private reload(m: Member, entries: Entry[], why: string): void {
    // As closeLogForReload: what is still held can only be close_conns now.
    m.gc.abandonUncommitted();
    m.gc.release((p) => this.publish(m, p));
    m.log = entries;
    m.durable = entries.length;
    m.inflight = null;
    this.rebuild(m);
    const last = entries.length === 0 ? 0 : entries[entries.length - 1]!.zxid;
    m.q!.reloaded(last);
    this.trace(`r${m.sid}: reloaded (${why}), ${entries.length} txns`);
  }

  private tickLoop(m: Member, gen: number): void {
    if (m.gen !== gen || !m.up) return;
    if (this.now < m.paused_until) return this.queue.push(m.paused_until, () => this.tickLoop(m, gen));
    m.q!.tick();
    this.at(TICK_MS, () => this.tickLoop(m, gen));
  }

  private scheduleTurn(m: Member): void {
    if (!m.up) return;
    const at = Math.max(this.now, m.paused_until);
    if (m.turn_at !== null && m.turn_at <= at) return;
    m.turn_at = at;
    const gen = m.gen;
    this.queue.push(at, () => {
      if (m.gen !== gen || m.turn_at !== at) return;
      m.turn_at = null;
      this.turn(m);
    });
  }

  /** One pass of the commit worker's loop (commit_worker.ts run()). */
  private turn(m: Member): void {
    if (!m.up) return;
    const q = m.q!;
    q.pump();
    this.stagePublications(m);
    while (m.inputs.length > 0 && this.room(m) - m.core.expiry_backlog > 0) {
      m.inputs.shift()!();
      this.stagePublications(m);
    }
    // Server-made txns (expiry, reaping) take the room client writes would (commit_worker.ts:
    // leaderRoom; client writes leave expiry_backlog of it, as quorumRoom does).
    if (this.now >= m.core.next_tick_ms()) m.core.tick(false, this.room(m));
    this.stagePublications(m);
    this.checkLogInWindow(m);
    this.maybeFlush(m);
    m.gc.release((p) => this.publish(m, p));
    if (q.hasWork() || (m.inputs.length > 0 && this.room(m) > 0)) this.scheduleTurn(m);
    else if (m.inputs.length > 0 || m.gc.pending > 0 || m.core.next_tick_ms() > this.now) {
      // Room comes back with an ACK or a commit (a turn is woken then); the core's tick is due later.
      this.queue.push(Math.max(this.now + 1, Math.min(m.core.next_tick_ms(), this.now + SESSION_TICK_MS)), () => this.scheduleTurn(m));
    }
  }

  /**
   * What this replica logged (written or queued for the disk) is in its Zab window, unless it
   * leads (a leader's txns queued behind in_flight_max are logged before the core numbers them
   * into the window): a logged txn past the zxid the replica votes and syncs with would never be
   * truncated, and a restart would replay it.
   */
  private checkLogInWindow(m: Member): void {
    const q = m.q!;
    if (q.leading) return;
    const queued = m.gc.unwritten;
    const last_logged = queued.length > 0 ? queued[queued.length - 1]!.zxid : m.log.length > 0 ? m.log[m.log.length - 1]!.zxid : 0;
    const last_window = numberOfZxid(q.zab.window.last());
    if (last_logged > last_window) {
      this.fail(`r${m.sid}: its log holds ${last_logged.toString(16)}, past its Zab window's last ${last_window.toString(16)} (${q.role.state})`);
    }
  }

  private room(m: Member): number {
    const q = m.q!;
    if (!q.serving) return Number.MAX_SAFE_INTEGER; // read, and closed at once
    if (!q.leading) return q.forward_room;
    return Math.max(0, this.in_flight_max - m.gc.pending);
  }

  private stagePublications(m: Member): void {
    const pubs = m.core.take();
    if (pubs.length === 0) return;
    m.gc.add(pubs, this.now * 1000, (zxid, session_id, bytes, start, end) => m.q!.proposeLocal(zxid, bytes.slice(start, end), m.core.holderOf(session_id)));
  }

  private maybeFlush(m: Member): void {
    if (m.inflight !== null || !m.gc.due(this.now * 1000)) return;
    const batch = m.gc.take(this.now * 1000);
    const entries = m.gc.unwritten.splice(0, batch.count);
    if (entries.length !== batch.count || entries[entries.length - 1]!.zxid !== batch.last_zxid) {
      this.fail(`r${m.sid}: a batch of ${batch.count} txns to ${batch.last_zxid.toString(16)} but the disk has ${entries.length}`);
    }
    m.log.push(...entries);
    const token = ++m.write_token;
    m.inflight = { seq: batch.seq, count: batch.count, token };
    const gen = m.gen;
    const slow = this.rng.chance(0.03);
    this.at(slow ? this.rng.int(20, 200) : this.rng.int(1, 4), () => {
      if (m.gen !== gen || m.inflight?.token !== token) return;
      m.inflight = null;
      m.durable = m.log.length;
      const durable = m.gc.complete(batch.seq);
      m.q!.persisted(durable);
      this.scheduleTurn(m);
    });
  }

  // ---- what a replica releases (commit_stage.ts publish) ---------------------------------

  private publish(m: Member, p: Publication): void {
    switch (p.kind) {
      case 'txn':
        return this.publishTxn(m, p.origin, p.txn);
      case 'session': {
        const conn = m.conns.get(p.origin.conn_id);
        if (p.ok) {
          m.core.born(p.session_id);
          this.checkAccepted(m, p.session_id, conn?.decided_at ?? null);
        }
        if (conn === undefined || !conn.open) return;
        if (p.ok) conn.session_id = p.session_id;
        return this.toClient(conn, () => this.onConnectAnswer(conn.client, conn.k, p.ok ? p.session_id : 0n, p.passwd));
      }
      case 'sync':
      case 'error': {
        const conn = m.conns.get(p.origin.conn_id);
        if (conn?.open === true) this.toClient(conn, () => this.onReply(conn.client, conn.k));
        return;
      }
      case 'close_conn':
        return this.closeConn(m, p.conn_id);
      case 'revalidated':
        return m.q!.sendRevalidateAnswer(p.peer, p.token, p.session_id, p.valid);
    }
  }

  private publishTxn(m: Member, origin: Origin | null, txn: Txn): void {
    const { zxid, session_id } = txn.header;
    const op = txn.op;
    const what = `${session_id}:${txn.header.cxid}:${op.kind}:${op.kind === 'create' ? op.path : op.kind === 'error' ? op.err : ''}`;
    // A serving learner's reads wait for the commits it announced: it announces each one before
    // it applies it (when the COMMIT arrives), or a read could be served from a root without it.
    // Not those it commits as it begins to serve (UPTODATE commits the DIFF's proposals): no
    // client has a session there yet (its connections closed when it left its last role).
    const learner = m.role !== null && m.role.state !== 'LEADING' && m.role.state !== 'LOOKING';
    if (learner && m.serving && this.now > m.serving_at && zxid > m.known_commit) this.fail(`r${m.sid} applied ${zxid.toString(16)} while serving, before announcing it (known through ${m.known_commit.toString(16)})`);
    const seen = this.committed.get(zxid);
    if (seen === undefined) {
      this.committed.set(zxid, what);
      this.modelEphemerals(m, txn);
    }
    else if (seen !== what) this.fail(`r${m.sid} committed ${what} at ${zxid.toString(16)}, another replica ${seen}`);
    if (op.kind === 'createSession') m.core.born(session_id);
    if (op.kind === 'closeSession' && !this.closed_at.has(session_id)) this.closed_at.set(session_id, this.now);
    if (op.kind === 'create') {
      const k = Number(/k(\d+)n/.exec(op.path)?.[1]);
      const last = m.last_k.get(session_id) ?? 0;
      if (k < last) this.fail(`r${m.sid}: session ${session_id.toString(16)} committed ${op.path} (connection ${k}) at ${zxid.toString(16)}, after a write of its connection ${last}`);
      m.last_k.set(session_id, k);
    }
    if (isSessionMoved(txn)) this.moved_refused++;
    if (origin === null) return;
    const conn = m.conns.get(origin.conn_id);
    if (conn === undefined || !conn.open) return;
    // ZooKeeper closes a moved session's connection instead of answering it.
    if (isSessionMoved(txn)) return this.closeConn(m, conn.id);
    if (op.kind === 'createSession') {
      conn.session_id = session_id;
      return this.toClient(conn, () => this.onConnectAnswer(conn.client, conn.k, session_id, op.passwd));
    }
    // Its session closed (the client's closeSession, or an expiry): the shard closes the connection.
    if (op.kind === 'closeSession') return this.closeConn(m, conn.id);
    this.toClient(conn, () => this.onReply(conn.client, conn.k, op.kind === 'create'));
  }

  /** Healed, every client gets a session and its writes commit again (nothing waits for ever:
   *  a REVALIDATE no one answers, a reattach held behind a no-op that never commits). */
  private checkProgress(): void {
    const since = this.opts.fault_ms + this.opts.settle_ms / 2;
    for (const c of this.clients) {
      if (c.committed_at < since) this.fail(`c${c.id}: no write committed in the last ${this.opts.settle_ms / 2} ms after healing (state ${c.state}, connection ${c.k} to r${c.member})`);
    }
    this.checkKnownCommits();
  }

  /** Reads wait for the commits a replica says it knows of (src/workers/known_commit.ts), so
   *  what it says must be committed, and a serving replica must have applied it by the end: a
   *  commit it announced and never applied would make every read wait out its bound. */
  private checkKnownCommits(): void {
    for (const m of this.members) {
      if (m.known_commit === 0) continue;
      const zxid = m.known_commit.toString(16);
      if (!this.committed.has(m.known_commit)) this.fail(`r${m.sid} says it knows of commit ${zxid}, which no replica committed`);
      if (m.serving && m.core.last_zxid < m.known_commit) this.fail(`r${m.sid} says it knows of commit ${zxid}, and has applied only through ${m.core.last_zxid.toString(16)}`);
    }
  }

  /** Ephemerals go with their session: none is created for a closed session, and its
   *  closeSession deletes exactly those it owns. */
  private modelEphemerals(m: Member, txn: Txn): void {
    const op = txn.op;
    const zxid = txn.header.zxid.toString(16);
    if (op.kind === 'create' && op.ephemeral_owner !== 0n) {
      const owner = op.ephemeral_owner;
      if (this.closed.has(owner)) this.fail(`r${m.sid}: ephemeral ${op.path} of closed session ${owner.toString(16)} committed at ${zxid}`);
      let set = this.ephemerals.get(owner);
      if (set === undefined) this.ephemerals.set(owner, (set = new Set()));
      set.add(op.path);
    } else if (op.kind === 'closeSession') {
      const id = txn.header.session_id;
      const owned = [...(this.ephemerals.get(id) ?? [])].sort();
      const deleted = [...op.paths].sort();
      if (owned.join() !== deleted.join()) this.fail(`r${m.sid}: closeSession of ${id.toString(16)} at ${zxid} deletes [${deleted.join()}], it owns [${owned.join()}]`);
      this.ephemerals.delete(id);
      this.closed.add(id);
    }
  }

  /** A reattach accepted: on a decision made before the session's closeSession committed. */
  private checkAccepted(m: Member, session_id: bigint, decided_at: number | null): void {
    const closed = this.closed_at.get(session_id);
    if (closed === undefined) return;
    if (decided_at === null) this.fail(`r${m.sid}: reattach of ${session_id.toString(16)} accepted with no decision on record, its closeSession committed at ${closed}`);
    if (decided_at >= closed) this.fail(`r${m.sid}: reattach of ${session_id.toString(16)} accepted on a decision at ${decided_at}, its closeSession committed at ${closed}`);
  }

  /** The replica closes a client connection (the shard's close, then its CONN_GONE). */
  private closeConn(m: Member, conn_id: number): void {
    const conn = m.conns.get(conn_id);
    if (conn === undefined || !conn.open) return;
    conn.open = false;
    m.conns.delete(conn_id);
    m.core.connGone(0, conn_id, conn.session_id);
    m.q?.connGone(0, conn_id);
    this.toClient(conn, () => this.onClosed(conn.client, conn.k));
  }

  // ---- client frames arriving at a replica (commit_worker.ts routingFor) ------------------

  private arrive(m: Member, gen: number, run: () => void): void {
    if (!m.up || m.gen !== gen) return;
    m.inputs.push(run);
    this.scheduleTurn(m);
  }

  private onConnect(m: Member, conn: ServerConn, timeout_ms: number): void {
    const q = m.q!;
    const origin: Origin = { shard: 0, conn_id: conn.id, xid: 0 };
    if (!q.serving) return this.closeNow(m, conn);
    if (q.leading) return m.core.createSession(origin, timeout_ms);
    const s = m.core.newLocalSession(origin, timeout_ms);
    q.forward(s.session_id, 0, origin, null, encodeCreateSession(s.session_id, timeout_ms, s.passwd));
  }

  private onReattach(m: Member, conn: ServerConn, session_id: bigint, passwd: Uint8Array, timeout_ms: number): void {
    const q = m.q!;
    const origin: Origin = { shard: 0, conn_id: conn.id, xid: 0 };
    if (!q.serving) return this.closeNow(m, conn);
    if (q.leading) {
      conn.decided_at = this.now;
      m.core.reattach(origin, session_id, passwd, timeout_ms);
      return;
    }
    m.core.takeOver(origin, session_id);
    if (!q.revalidate(origin, session_id, passwd, timeout_ms)) this.closeNow(m, conn);
  }

  private onWrite(m: Member, conn: ServerConn, session_id: bigint, frame: Uint8Array): void {
    if (!conn.open || m.core.isSuperseded(0, conn.id)) return;
    const q = m.q!;
    const request = readServerRequest(new JuteReader(frame, 4, frame.length));
    const origin: Origin = { shard: 0, conn_id: conn.id, xid: request.header.xid, barrier: false, direct: false };
    if (!q.serving) return this.closeNow(m, conn);
    if (!q.leading) return q.forward(session_id, request.header.xid, origin, null, encodeWrite(session_id, [], frame, 4, frame.length));
    m.core.request(origin, session_id, request.header.type, isMalformed(request) ? null : (request.body as WriteRequest));
  }

  private onPing(m: Member, conn: ServerConn, session_id: bigint): void {
    if (!conn.open || !m.q!.serving) return;
    m.core.touch([session_id]);
    m.q!.touch([session_id]);
  }

  /** Not serving: the connection is refused (as the commit stage's closeConn). */
  private closeNow(m: Member, conn: ServerConn): void {
    m.gc.add([{ kind: 'close_conn', shard: 0, conn_id: conn.id }], this.now * 1000);
  }

  // ---- peers ------------------------------------------------------------------------------

  private send(m: Member, to: number, msg: PeerMessage): void {
    this.net.send(m.sid, to, encodeMessage(msg));
  }

  private deliver(from: number, to: number, bytes: Uint8Array): void {
    const m = this.members[to - 1]!;
    if (!m.up) return;
    m.q!.onMessage(from, decodeMessage(bytes));
  }

  private onReset(a: number, b: number, initiator: number | null): void {
    for (const [self, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      const m = this.members[self - 1]!;
      if (self !== initiator && m.up) m.q!.onReset(peer);
    }
  }

  // ---- faults -----------------------------------------------------------------------------

  private faultLoop(): void {
    if (this.now >= this.opts.fault_ms) return;
    const kind = this.rng.int(0, 9);
    const a = this.rng.pick(this.members);
    const b = this.rng.pick(this.members.filter((x) => x !== a));
    if (kind <= 2) {
      const ms = this.rng.int(100, 1500);
      this.trace(`fault: partition r${a.sid} | r${b.sid} for ${ms} ms`);
      this.net.block(a.sid, b.sid, true);
      this.net.block(b.sid, a.sid, true);
      this.at(ms, () => {
        this.net.block(a.sid, b.sid, false);
        this.net.block(b.sid, a.sid, false);
      });
    } else if (kind <= 4) {
      this.trace(`fault: reset r${a.sid}-r${b.sid}`);
      this.net.reset(a.sid, b.sid);
    } else if (kind <= 6 && a.up) {
      const ms = this.rng.int(100, 1200);
      this.trace(`fault: pause r${a.sid} for ${ms} ms`);
      a.paused_until = Math.max(a.paused_until, this.now + ms);
      for (const o of this.members) if (o !== a) this.net.clog(o.sid, a.sid, this.now + ms);
    } else if (kind === 7 && a.up && this.members.filter((x) => x.up).length === this.members.length) {
      this.crash(a);
      this.at(this.rng.int(100, 2000), () => this.boot(a));
    }
    this.at(this.rng.int(100, 800), () => this.faultLoop());
  }

  private crash(m: Member): void {
    this.crashes++;
    this.trace(`fault: crash r${m.sid} (durable ${m.durable} of ${m.log.length} txns)`);
    m.up = false;
    m.gen++;
    m.q = null;
    for (const conn of m.conns.values()) {
      conn.open = false;
      this.toClient(conn, () => this.onClosed(conn.client, conn.k));
    }
    m.conns.clear();
    for (const o of this.members) if (o !== m) this.net.reset(m.sid, o.sid);
  }

  private healAll(): void {
    this.trace('heal all');
    this.net.healAll();
    for (const m of this.members) {
      m.paused_until = Math.min(m.paused_until, this.now);
      if (!m.up) this.boot(m);
    }
  }

  // ---- clients ----------------------------------------------------------------------------

  /** Client -> replica, FIFO per connection; a spike sometimes (a write that arrives late). */
  private toServer(c: SimClient, m: Member, run: () => void): void {
    const spike = this.rng.chance(this.opts.client_spike_chance) ? this.rng.int(20, 400) : 0;
    const at = Math.max(this.now + this.rng.int(1, 3) + spike, c.up_ready);
    c.up_ready = at;
    const gen = m.gen;
    this.queue.push(at, () => this.arrive(m, gen, run));
  }

  private toClient(conn: ServerConn, run: () => void): void {
    const c = conn.client;
    if (c.k !== conn.k) return; // the client left this connection
    const at = Math.max(this.now + this.rng.int(1, 3), c.down_ready);
    c.down_ready = at;
    this.queue.push(at, run);
  }

  private clientLoop(c: SimClient): void {
    this.at(this.rng.int(5, 40), () => this.clientLoop(c));
    if (this.now < c.silent_until) return;
    if (c.state === 'idle') {
      if (this.now >= c.reconnect_at) this.open(c);
      return;
    }
    if (c.state === 'connecting') {
      if (this.now >= c.connect_deadline) {
        this.trace(`c${c.id}: no answer from r${c.member} on connection ${c.k}`);
        this.leave(c, 5);
      }
      return;
    }
    const m = this.members[c.member - 1]!;
    if (c.in_flight > 0 && this.now - c.last_heard > (c.timeout_ms * 2) / 3) {
      // ZooKeeper's client: nothing heard for its read timeout; it tries another server.
      this.trace(`c${c.id}: r${c.member} silent on connection ${c.k}`);
      this.leave(c, 5);
      return;
    }
    // Faults of the client's making only while the ensemble's faults run.
    const quiet = 2 * this.opts.move_chance + 0.003;
    const roll = this.now < this.opts.fault_ms ? this.rng.float() : quiet + (1 - quiet) * this.rng.float();
    const move = this.opts.move_chance;
    if (roll < move) {
      // Leaves the connection open behind it (as after a partition) and moves on.
      this.trace(`c${c.id}: moves away from r${c.member} (connection ${c.k})`);
      c.moved++;
      this.leave(c, 1);
      return;
    }
    if (roll < 2 * move) {
      const conn_id = c.conn_id;
      this.trace(`c${c.id}: closes its connection ${c.k} to r${c.member}`);
      this.toServer(c, m, () => {
        const conn = m.conns.get(conn_id);
        if (conn !== undefined) this.closeConn(m, conn.id);
      });
      this.leave(c, 5);
      return;
    }
    if (roll < 2 * move + 0.003) {
      // Around its timeout: the reattach that follows races the session's expiry.
      c.silent_until = this.now + this.rng.int(Math.floor(c.timeout_ms * 0.7), c.timeout_ms * 2);
      this.trace(`c${c.id}: goes silent until ${c.silent_until}`);
      if (this.rng.chance(0.5)) this.leave(c, c.silent_until - this.now);
      return;
    }
    if (c.in_flight < 2 && roll < 0.5) return this.sendWrite(c, m);
    if (this.now - c.last_sent >= c.timeout_ms / 3) {
      const conn_id = c.conn_id;
      const session_id = c.session_id;
      c.last_sent = this.now;
      this.toServer(c, m, () => {
        const conn = m.conns.get(conn_id);
        if (conn !== undefined) this.onPing(m, conn, session_id);
      });
    }
  }

  private open(c: SimClient): void {
    const up = this.members.filter((m) => m.up);
    if (up.length === 0) return;
    const m = this.rng.pick(up);
    c.k++;
    c.state = 'connecting';
    c.connect_deadline = this.now + c.timeout_ms;
    c.member = m.sid;
    c.in_flight = 0;
    c.up_ready = 0;
    c.down_ready = 0;
    c.last_sent = this.now;
    const conn: ServerConn = { id: m.next_conn++, client: c, k: c.k, open: true, session_id: 0n, decided_at: null };
    c.conn_id = conn.id;
    const session_id = c.session_id;
    const passwd = c.passwd;
    this.trace(`c${c.id}: connection ${c.k} to r${m.sid}${session_id === 0n ? ', new session' : `, reattach ${session_id.toString(16)}`}`);
    this.toServer(c, m, () => {
      m.conns.set(conn.id, conn);
      if (session_id === 0n) this.onConnect(m, conn, c.timeout_ms);
      else this.onReattach(m, conn, session_id, passwd, c.timeout_ms);
    });
  }

  private sendWrite(c: SimClient, m: Member): void {
    const conn_id = c.conn_id;
    const session_id = c.session_id;
    const xid = c.next_seq;
    const path = `/c${c.id}k${c.k}n${c.next_seq++}`;
    const w = new JuteWriter();
    // Some ephemeral (flags 1): they go with the session.
    encodeRequest(xid, Op.create, { path, data: null, acl: OPEN_ACL, flags: this.rng.chance(0.3) ? 1 : 0 }, w);
    const frame = w.toBytes();
    c.in_flight++;
    c.last_sent = this.now;
    this.toServer(c, m, () => {
      const conn = m.conns.get(conn_id);
      if (conn !== undefined) this.onWrite(m, conn, session_id, frame);
    });
  }

  /** The client stops using its connection; it opens another after `after_ms`. */
  private leave(c: SimClient, after_ms: number): void {
    c.state = 'idle';
    c.k++; // answers of the old connection are ignored from now on
    c.reconnect_at = this.now + after_ms;
  }

  private onConnectAnswer(c: SimClient, k: number, session_id: bigint, passwd: Uint8Array): void {
    if (c.k !== k || c.state !== 'connecting') return;
    if (session_id === 0n) {
      this.trace(`c${c.id}: session ${c.session_id.toString(16)} expired`);
      c.expired++;
      c.session_id = 0n;
      c.state = 'idle';
      c.reconnect_at = this.now + 5;
      return;
    }
    if (c.session_id === 0n) c.created++;
    else c.reattached++;
    c.session_id = session_id;
    c.passwd = passwd;
    c.state = 'open';
    c.last_heard = this.now;
  }

  private onReply(c: SimClient, k: number, committed = false): void {
    if (c.k !== k) return;
    c.in_flight = Math.max(0, c.in_flight - 1);
    c.last_heard = this.now;
    if (!committed) return;
    c.committed++;
    c.committed_at = this.now;
  }

  private onClosed(c: SimClient, k: number): void {
    if (c.k !== k) return;
    c.state = 'idle';
    c.reconnect_at = this.now + this.rng.int(5, 50);
  }
}

// ---- the simulated snapshot: the committed txns themselves ---------------------------------

function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const w = new JuteWriter();
  w.writeInt(entries.length);
  for (const e of entries) w.writeLong(BigInt(e.zxid)).writeBuffer(e.bytes);
  return w.toBytes();
}

function decodeEntries(bytes: Uint8Array): Entry[] {
  const r = new JuteReader(bytes, 0, bytes.length);
  const n = r.readInt();
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push({ zxid: Number(r.readLong()), bytes: r.readBuffer()! });
  return out;
}

export async function runSessionSeed(seed: number, keep_trace = false): Promise<{ sim: SessionSim; failure: string | null }> {
  const rng = new Rng(seed ^ 0x5e55);
  // Swarm testing: the shape of each run is drawn from its seed.
  const sim = new SessionSim({
    seed,
    replicas: 3,
    // An observer in some runs: it forwards, revalidates and holds sessions like a follower.
    observers: rng.pick([0, 0, 1]),
    clients: rng.int(3, 6),
    fault_ms: rng.int(4000, 12_000),
    settle_ms: 8000,
    keep_trace,
    client_spike_chance: rng.pick([0.02, 0.05, 0.2]),
    move_chance: rng.pick([0.005, 0.01, 0.03]),
    // Drawn last: the draws above, and so the runs of older seeds, are as they were.
    in_flight_max: rng.chance(0.3) ? rng.pick([1, 2, 4]) : IN_FLIGHT_MAX,
  });
  const failure = await sim.run();
  return { sim, failure };
}
