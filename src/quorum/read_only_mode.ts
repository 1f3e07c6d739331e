// Read-only mode (readonlymode.enabled; ZooKeeper's ReadOnlyZooKeeperServer), for the commit
// worker of an ensemble member.
//
// While cut off from a quorum (LOOKING past the grace period, src/session/read_only_gate.ts) the
// replica takes connections that asked for read-only (the ConnectRequest's readOnly byte) and
// gives them local sessions (src/session/read_only_sessions.ts: no txn); their shards serve reads
// from the last committed state and answer writes NOTREADONLY themselves. Other connections are
// refused (closed), as while not serving. When the election ends every read-only connection is
// closed, so clients go and find a read-write server.
//
// Sans-IO: the commit worker passes the time and carries out closes and session answers.

import { ReadOnlyGate, type GateRole } from '../session/read_only_gate.js';
import { ReadOnlySessions, type ConnRef } from '../session/read_only_sessions.js';

/** Local sessions a replica in read-only mode keeps at once (each was opened by a connection,
 *  and lingers for its timeout after it closes). */
export const READ_ONLY_SESSIONS_MAX = 65_536;

/** CommitStream.SESSION's ok byte: refused, a read-write session, a read-only session. */
export const SessionOk = { REFUSED: 0, OK: 1, OK_READ_ONLY: 2 } as const;

export interface ReadOnlyModeOptions {
  readonly server_id: number;
  readonly tick_ms: number;
  readonly secret: Uint8Array;
  /** Whether a session id belongs to the replica's global sessions. */
  readonly is_global: (session_id: bigint) => boolean;
  readonly log: (line: string) => void;
}

/** What the commit worker does for read-only mode. */
export interface ReadOnlyHost {
  closeConn(c: ConnRef): void;
  /** Answers a SESSION_CREATE / SESSION_REATTACH (ok false = refused / expired). */
  answerSession(owner: ConnRef, session_id: bigint, timeout_ms: number, passwd: Uint8Array, ok: boolean): void;
}

export class ReadOnlyMode {
  private readonly gate: ReadOnlyGate;
  /** The local sessions of the current read-only period; null while not in read-only mode. */
  private sessions: ReadOnlySessions | null = null;

  constructor(
    private readonly opts: ReadOnlyModeOptions,
    private readonly host: ReadOnlyHost,
  ) {
    this.gate = ReadOnlyGate.forTick(opts.tick_ms);
  }

  get active(): boolean {
    return this.sessions !== null;
  }

  get session_count(): number {
    return this.sessions?.size ?? 0;
  }

  /** Applies the gate's transition for the current role, and expires due local sessions. */
  step(role: GateRole, now_ms: number): void {
    const t = this.gate.step(role, now_ms);
    if (t === 'enter') this.enter(now_ms);
    else if (t === 'leave') this.leave();
    if (this.sessions !== null) for (const c of this.sessions.expire(now_ms)) this.host.closeConn(c);
  }

  /** SESSION_CREATE while not serving: a local session if in read-only mode and the client
   *  asked for read-only; else the connection is closed (ZooKeeper refuses it). */
  create(owner: ConnRef, timeout_ms: number, wants_read_only: boolean, now_ms: number): void {
    const ro = this.sessions;
    if (ro === null || !wants_read_only) return this.host.closeConn(owner);
    const s = ro.create(owner, timeout_ms, now_ms);
    if (s === null) {
      this.opts.log(`read-only mode: ${READ_ONLY_SESSIONS_MAX} local sessions alive; refusing another`);
      return this.host.closeConn(owner);
    }
    this.host.answerSession(owner, s.session_id, timeout_ms, s.passwd, true);
  }

  /** SESSION_REATTACH while not serving. In read-only mode a local session may be resumed; a
   *  global one may not (ZooKeeper 3.6+: "Refusing global session reconnection in RO mode",
   *  closed); an unknown one is answered expired. */
  reattach(owner: ConnRef, session_id: bigint, passwd: Uint8Array, timeout_ms: number, wants_read_only: boolean, now_ms: number): void {
    const ro = this.sessions;
    if (ro === null || !wants_read_only || this.opts.is_global(session_id)) return this.host.closeConn(owner);
    const r = ro.reattach(owner, session_id, passwd, timeout_ms, now_ms);
    if (r.previous !== null) this.host.closeConn(r.previous);
    if (r.ok) this.host.answerSession(owner, session_id, timeout_ms, r.passwd, true);
    else this.host.answerSession(owner, 0n, 0, new Uint8Array(16), false);
  }

  /** Touches of local sessions; false when not in read-only mode (the touches are global ones). */
  touch(ids: readonly bigint[], now_ms: number): boolean {
    if (this.sessions === null) return false;
    this.sessions.touch(ids, now_ms);
    return true;
  }

  connGone(c: ConnRef, session_id: bigint): void {
    this.sessions?.connGone(c, session_id);
  }

  /** The ok byte of a session answer: read-only sessions are told apart for the shard. */
  okByte(ok: boolean, session_id: bigint): number {
    if (!ok) return SessionOk.REFUSED;
    return this.sessions?.has(session_id) === true ? SessionOk.OK_READ_ONLY : SessionOk.OK;
  }

  private enter(now_ms: number): void {
    const o = this.opts;
    this.sessions = new ReadOnlySessions(
      { server_id: o.server_id, tick_ms: o.tick_ms, secret: o.secret, sessions_max: READ_ONLY_SESSIONS_MAX, taken: o.is_global },
      now_ms,
    );
    o.log(`read-only mode: no quorum for ${this.gate.grace_ms} ms; serving reads to read-only clients`);
  }

  private leave(): void {
    const ro = this.sessions;
    this.sessions = null;
    if (ro === null) return;
    const conns = ro.connections();
    this.opts.log(`read-only mode ends (the election is over); closing ${conns.length} read-only client connections`);
    for (const c of conns) this.host.closeConn(c);
  }
}
