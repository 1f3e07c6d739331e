// The sessions a replica in read-only mode creates (ZooKeeper's ReadOnlyZooKeeperServer keeps
// them in its LearnerSessionTracker as local sessions). Sans-IO; the commit worker owns one per
// read-only period and drops it when the period ends (every such connection is closed then).
//
// Local sessions are never logged or replicated: no txn, no zxid. They expire like any session
// (a touch per request or ping keeps them alive), and a client may reattach to one on this
// replica with its id and password while the period lasts. ZooKeeper's client never carries such
// a session to a read-write server (it reconnects with session id 0 until it has seen one).
//
// Invariants: every tracked session has an entry in `owners` (null while no connection holds it);
// size <= sessions_max.

import assert from 'node:assert/strict';
import { SESSION_PASSWD_BYTES } from '../protocol/constants.js';
import { passwdEquals, sessionPasswd } from './passwd.js';
import { firstSessionId, nextSessionId } from './session_id.js';
import { SessionTracker } from './session_tracker.js';

/** One client connection: its session shard and its id there. */
export interface ConnRef {
  readonly shard: number;
  readonly conn_id: number;
}

export interface ReadOnlySessionsOptions {
  readonly server_id: number;
  readonly tick_ms: number;
  /** The replica's session-password key (the same passwords as its global sessions). */
  readonly secret: Uint8Array;
  /** Bound on local sessions alive at once; a create beyond it is refused. */
  readonly sessions_max: number;
  /** Ids already in use elsewhere (the replica's global sessions): never handed out. */
  readonly taken: (session_id: bigint) => boolean;
}

export type ReattachResult =
  | { readonly ok: true; readonly passwd: Uint8Array; readonly previous: ConnRef | null }
  | { readonly ok: false; readonly previous: ConnRef | null };

/** Tries per create to find an id not taken (ids are consecutive: collisions are rare runs). */
const ID_TRIES_MAX = 1024;

export class ReadOnlySessions {
  private readonly tracker: SessionTracker;
  private readonly owners = new Map<bigint, ConnRef | null>();
  private next_id: bigint;

  constructor(
    private readonly o: ReadOnlySessionsOptions,
    now_ms: number,
  ) {
    assert(Number.isInteger(o.sessions_max) && o.sessions_max > 0, `sessions_max must be a positive integer: ${o.sessions_max}`);
    this.tracker = new SessionTracker(o.tick_ms);
    this.next_id = firstSessionId(now_ms, o.server_id);
  }

  get size(): number {
    return this.tracker.size;
  }

  has(session_id: bigint): boolean {
    return this.tracker.has(session_id);
  }

  /** A new local session held by `owner`; null when sessions_max are alive (or no id is free). */
  create(owner: ConnRef, timeout_ms: number, now_ms: number): { session_id: bigint; passwd: Uint8Array } | null {
    if (this.tracker.size >= this.o.sessions_max) return null;
    const session_id = this.allocateId();
    if (session_id === null) return null;
    const passwd = sessionPasswd(session_id, this.o.secret);
    this.tracker.add(session_id, timeout_ms, now_ms, passwd);
    this.owners.set(session_id, owner);
    return { session_id, passwd };
  }

  /**
   * A client reconnecting to a local session. As for global sessions, the connection that held
   * it is returned as `previous` (to be closed) even when the password is wrong.
   */
  reattach(owner: ConnRef, session_id: bigint, passwd: Uint8Array, timeout_ms: number, now_ms: number): ReattachResult {
    const record = this.tracker.get(session_id);
    const held = this.owners.get(session_id) ?? null;
    const previous = held !== null && (held.shard !== owner.shard || held.conn_id !== owner.conn_id) ? held : null;
    if (previous !== null) this.owners.set(session_id, null);
    if (record === undefined || record.closing || passwd.length !== SESSION_PASSWD_BYTES || !passwdEquals(record.passwd, passwd)) {
      return { ok: false, previous };
    }
    this.owners.set(session_id, owner);
    this.tracker.touch(session_id, now_ms, timeout_ms);
    return { ok: true, passwd: record.passwd, previous };
  }

  /** Sessions whose clients sent something (ids this set does not know are ignored). */
  touch(session_ids: readonly bigint[], now_ms: number): void {
    for (const id of session_ids) this.tracker.touch(id, now_ms);
  }

  /** A connection closed: its session lives on until it expires or the client comes back. */
  connGone(conn: ConnRef, session_id: bigint): void {
    const held = this.owners.get(session_id);
    if (held && held.shard === conn.shard && held.conn_id === conn.conn_id) this.owners.set(session_id, null);
  }

  /** Drops the sessions that are due; returns the connections that still held one (to close). */
  expire(now_ms: number): ConnRef[] {
    const close: ConnRef[] = [];
    for (const id of this.tracker.expire(now_ms)) {
      const held = this.owners.get(id) ?? null;
      if (held !== null) close.push(held);
      this.owners.delete(id);
      this.tracker.remove(id);
    }
    return close;
  }

  /** When expire() next has work, or null. */
  next_expiry_ms(): number | null {
    return this.tracker.next_expiry_ms();
  }

  /** Every connection holding a local session (closed when read-only mode ends). */
  connections(): ConnRef[] {
    const out: ConnRef[] = [];
    for (const held of this.owners.values()) if (held !== null) out.push(held);
    return out;
  }

  private allocateId(): bigint | null {
    for (let i = 0; i < ID_TRIES_MAX; i++) {
      const id = this.next_id;
      this.next_id = nextSessionId(id);
      if (!this.tracker.has(id) && !this.o.taken(id)) return id;
    }
    return null;
  }
}
