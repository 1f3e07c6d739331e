// A simulated ZooKeeper client session for the replica simulator: it pipelines random requests
// as real jute frames (the product's encoders), decodes what its connection receives, checks
// what can be checked at once (FIFO order, reply zxids, durability) and keeps a log of every
// message for the checks that need the whole run (replica_checks.ts).

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

export type ReadOp = typeof Op.getData | typeof Op.exists | typeof Op.getChildren;

export interface Sent {
  readonly xid: number;
  readonly opcode: number;
  readonly kind: 'write' | 'read' | 'ping' | 'sync';
  readonly write?: RefWrite;
  readonly read?: { path: string; watch: boolean };
  readonly step: number;
}

export type Received =
  | { readonly kind: 'reply'; readonly step: number; readonly sent: Sent; readonly zxid: number; readonly err: number; readonly body: unknown }
  | { readonly kind: 'event'; readonly step: number; readonly zxid: number; readonly type: number; readonly path: string };

/** What a client asks of the simulation for its checks. */
export interface ClientEnv {
  step(): number;
  /** zxid of the last txn the fake disk reported durable. */
  durableZxid(): number;
  /** First zxid of the batch whose write failed, or null. */
  failedFromZxid(): number | null;
  /** Paths some reply named (sequential nodes), shared by every client. */
  readonly known_paths: string[];
  fail(message: string): never;
  trace(line: string): void;
}

/** Persistent and sequential parents, and the names below them (few: ops collide). */
const PATHS = ['/a', '/b', '/c', '/a/x', '/a/y', '/b/x', '/a/x/z'];
const SEQ_PREFIXES = ['/a/s-', '/b/s-', '/s-'];
const OPEN_ACL: RequestACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const KNOWN_PATHS_MAX = 64;
const SESSION_TIMEOUT_MS = 30_000;

export type ClientState = 'new' | 'connecting' | 'connected' | 'closed';

export class SimClient {
  state: ClientState = 'new';
  session_id = 0n;
  /** Request frames (payloads, no length prefix) the "socket" holds for the net worker. */
  readonly socket: Uint8Array[] = [];
  /** Requests sent and not answered, in order. */
  readonly outstanding: Sent[] = [];
  readonly log: Received[] = [];
  /** The shard stopped reading this connection (ShardToNet.PAUSE). */
  paused = false;
  /** The client sent closeSession: a close of the connection is expected. */
  closing = false;
  /** Largest reply zxid so far; txn replies must exceed it. */
  private last_zxid = 0;
  private next_xid = 1;
  private ops_left: number;
  /** Versions seen per path (a versioned write picks one). */
  private readonly versions = new Map<string, number>();
  private readonly w = new JuteWriter(256);

  constructor(
    readonly index: number,
    readonly conn_id: number,
    readonly shard: number,
    ops: number,
    private readonly pipeline_max: number,
    private readonly profile: ClientProfile,
    private readonly close_at_end: boolean,
    private readonly rng: Rng,
    private readonly env: ClientEnv,
  ) {
    this.ops_left = ops;
  }

  get name(): string {
    return `client${this.index}(conn ${this.conn_id})`;
  }

  /** Whether the client has something to send now. */
  canSend(): boolean {
    if (this.state === 'new') return true;
    if (this.state === 'closed' || this.closing) return false;
    return this.ops_left > 0 && this.outstanding.length < this.pipeline_max;
  }

  /** Every request sent was answered (or the connection is gone), nothing left to send. */
  get done(): boolean {
    return this.state === 'closed' || (this.ops_left === 0 && this.outstanding.length === 0 && this.state === 'connected');
  }

  /** The ConnectRequest (the caller sends NetToShard.OPEN first). */
  open(): void {
    this.w.reset();
    encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: SESSION_TIMEOUT_MS, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }, this.w);
    this.push();
    this.state = 'connecting';
    this.env.trace(`${this.name} sends ConnectRequest`);
  }

  /** Sends the next request (may be sent before the ConnectResponse: the shard holds it). */
  sendNext(): void {
    if (this.state === 'new') return this.open();
    this.ops_left--;
    const last = this.ops_left === 0;
    if (last && this.close_at_end) return this.send({ xid: this.next_xid++, opcode: Op.closeSession, kind: 'write', write: { kind: 'closeSession' }, step: this.env.step() }, null);
    const roll = this.rng.int(0, 99);
    if (this.profile === 'writes' || roll < 50) return this.sendWrite();
    if (roll < 85) return this.sendRead();
    if (roll < 92) return this.send({ xid: Xid.PING, opcode: Op.ping, kind: 'ping', step: this.env.step() }, null);
    const path = this.rng.pick(PATHS);
    return this.send({ xid: this.next_xid++, opcode: Op.sync, kind: 'sync', read: { path, watch: false }, step: this.env.step() }, { path });
  }

  private sendRead(): void {
    const opcode = this.rng.pick([Op.getData, Op.exists, Op.getChildren] as const);
    const path = opcode === Op.getChildren && this.rng.chance(0.2) ? '/' : this.pickPath();
    const watch = this.rng.chance(0.6);
    this.send({ xid: this.next_xid++, opcode, kind: 'read', read: { path, watch }, step: this.env.step() }, { path, watch });
  }

  private sendWrite(): void {
    const roll = this.rng.int(0, 99);
    if (roll < 12) {
      const ops: RefOp[] = [];
      for (let n = this.rng.int(1, 3); n > 0; n--) ops.push(this.randomOp());
      const body: { ops: MultiOp[] } = { ops: ops.map(toMultiOp) };
      return this.send({ xid: this.next_xid++, opcode: Op.multi, kind: 'write', write: { kind: 'multi', ops }, step: this.env.step() }, body);
    }
    const op = this.randomOp();
    const opcode = op.kind === 'create' ? (this.rng.chance(0.3) ? Op.create2 : Op.create) : op.kind === 'delete' ? Op.delete : op.kind === 'setData' ? Op.setData : Op.check;
    const body = op.kind === 'create' ? { path: op.path, data: op.data, acl: OPEN_ACL, flags: op.flags } : op.kind === 'setData' ? { path: op.path, data: op.data, version: op.version } : { path: op.path, version: op.version };
    this.send({ xid: this.next_xid++, opcode, kind: 'write', write: { kind: 'single', op }, step: this.env.step() }, body);
  }

  private randomOp(): RefOp {
    const roll = this.rng.int(0, 99);
    if (roll < 40) {
      const f = this.rng.int(0, 99);
      const flags = f < 55 ? CreateMode.PERSISTENT : f < 70 ? CreateMode.EPHEMERAL : f < 85 ? CreateMode.PERSISTENT_SEQUENTIAL : CreateMode.EPHEMERAL_SEQUENTIAL;
      const sequential = flags === CreateMode.PERSISTENT_SEQUENTIAL || flags === CreateMode.EPHEMERAL_SEQUENTIAL;
      return { kind: 'create', path: sequential ? this.rng.pick(SEQ_PREFIXES) : this.rng.pick(PATHS), data: this.randomData(), flags };
    }
    const path = this.pickPath();
    if (roll < 75) return { kind: 'setData', path, data: this.randomData(), version: this.pickVersion(path) };
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

  private randomData(): Uint8Array | null {
    if (this.rng.chance(0.1)) return null;
    const d = new Uint8Array(this.rng.int(0, 6));
    for (let i = 0; i < d.length; i++) d[i] = this.rng.int(0, 255);
    return d;
  }

  private send(sent: Sent, body: unknown): void {
    if (sent.opcode === Op.closeSession) this.closing = true;
    this.w.reset();
    encodeRequest(sent.xid, sent.opcode as never, body as never, this.w);
    this.push();
    this.outstanding.push(sent);
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
    if (this.state === 'connecting') {
      const resp = decodeConnectResponse(payload);
      if (resp.timeOut <= 0 || resp.sessionId === 0n) this.env.fail(`${this.name}: session refused (${JSON.stringify({ timeOut: resp.timeOut })})`);
      this.session_id = resp.sessionId;
      this.state = 'connected';
      this.env.trace(`${this.name} connected: session 0x${resp.sessionId.toString(16)}`);
      return;
    }
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
    const created = createdPaths(head, err, reply.body);
    for (const p of created) if (this.env.known_paths.length < KNOWN_PATHS_MAX && p.includes('s-')) this.env.known_paths.push(p);
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

  /** ShardToNet.CLOSE. */
  closed(expected_by_failure: boolean): void {
    if (!this.closing && !expected_by_failure) this.env.fail(`${this.name}: the replica closed the connection (${this.outstanding.length} requests unanswered)`);
    this.state = 'closed';
    this.env.trace(`${this.name} connection closed`);
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

/** Paths a successful create (or multi) reply names. */
function createdPaths(sent: Sent, err: number, body: unknown): string[] {
  if (err !== 0 || sent.write === undefined) return [];
  if (sent.write.kind === 'single' && sent.write.op.kind === 'create') return [(body as { path: string }).path];
  if (sent.write.kind === 'multi') {
    return (body as { type: number; response: { path?: string } | null }[]).filter((r) => r.type === 1).map((r) => r.response!.path!);
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
