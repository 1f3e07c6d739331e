// Every message between Zab peers, as data, in one module both sides import, with its binary
// codec. Election notifications travel with the learner protocol (ZooKeeper uses two ports;
// here the driver may use one connection per pair or two: the core does not care).
//
// The learner protocol follows Apache ZooKeeper's QuorumPacket types (quorum/Leader.java);
// the numeric codes are ZooKeeper's, so traces read the same. Txn payloads and snapshots are
// opaque bytes: the core never decodes them.
//
// Frame: u32 body length | body, body = u8 type | fields (big-endian). A zxid is two u32
// (epoch, counter), which is exactly ZooKeeper's long zxid on the wire. Byte fields are
// u32 length | bytes. Pair assertions: `encodeMessage` checks a message before writing it
// (a bad one is a bug of the caller: Error), `decodeMessage` checks the same rules after
// reading (a bad one is bad input from a peer: ZabDecodeError, the driver closes that
// connection). Decoded byte fields are copies: they stay valid after the frame is reused.

import { isZxid, zxidToString as z, type Zxid } from './zxid.js';

export type ServerState = 'LOOKING' | 'FOLLOWING' | 'LEADING' | 'OBSERVING';

/** Fast leader election (FastLeaderElection.Notification): a peer's current vote. */
export interface Notification {
  readonly type: 'NOTIFICATION';
  readonly state: ServerState;
  /** The sid this peer proposes (or follows) as leader. */
  readonly leader: number;
  /** The proposed leader's last zxid. */
  readonly zxid: Zxid;
  /** The sender's election round (ZooKeeper's logicalclock). */
  readonly election_epoch: number;
  /** The proposed leader's current epoch. */
  readonly peer_epoch: number;
  /**
   * The sender's committed membership (ZooKeeper sends its QuorumVerifier too): a replica that
   * missed a reconfig's commit learns it here (src/zab/membership.ts). null from a sender that
   * has none to tell (absent on the wire).
   */
  readonly config: AnnouncedMembership | null;
}

/** A committed membership as a notification carries it. */
export interface AnnouncedMembership {
  /** The zxid of the reconfig that made it (ZXID_ZERO: zoo.cfg's). */
  readonly version: Zxid;
  readonly voters: readonly number[];
  readonly observers: readonly number[];
}

/** Most members a notification's membership may list (a bound on what a peer makes us read). */
export const ANNOUNCED_MEMBERS_MAX = 1024;

/** Learner -> leader, first message of a learner session (LearnerInfo + accepted epoch). */
export interface LearnerInfo {
  readonly type: 'FOLLOWERINFO' | 'OBSERVERINFO';
  readonly sid: number;
  readonly accepted_epoch: number;
  readonly protocol_version: number;
}

/** Leader -> learner: the epoch it proposes (> every accepted epoch of a quorum). */
export interface LeaderInfo {
  readonly type: 'LEADERINFO';
  readonly epoch: number;
  readonly protocol_version: number;
}

/**
 * Learner -> leader: the learner accepted the epoch; its history summary. `fresh` = the epoch
 * was above the learner's accepted epoch and is newly accepted (ZooKeeper sends currentEpoch
 * -1 otherwise). Only fresh acknowledgements count toward the leader's epoch quorum: a replica
 * that had already accepted this epoch number (from another would-be leader) must not help a
 * second leader establish the same epoch.
 */
export interface AckEpoch {
  readonly type: 'ACKEPOCH';
  readonly current_epoch: number;
  readonly last_zxid: Zxid;
  readonly fresh: boolean;
}

/** Leader -> learner: sync by proposals after the learner's last zxid; zxid = leader's last. */
export interface Diff {
  readonly type: 'DIFF';
  readonly zxid: Zxid;
}

/** Leader -> learner: drop every txn after `zxid` (an uncommitted suffix), then proposals. */
export interface Trunc {
  readonly type: 'TRUNC';
  readonly zxid: Zxid;
}

/** Leader -> learner: replace the state by this snapshot (committed state at `zxid`). */
export interface Snap {
  readonly type: 'SNAP';
  readonly zxid: Zxid;
  readonly snapshot: Uint8Array;
}

/** Leader -> learner, end of the sync stream: `zxid` = the last txn the sync sent. */
export interface NewLeader {
  readonly type: 'NEWLEADER';
  readonly zxid: Zxid;
  readonly epoch: number;
}

/** Leader -> learner: the epoch is established; everything up to `zxid` is committed. */
export interface UpToDate {
  readonly type: 'UPTODATE';
  readonly zxid: Zxid;
}

export interface Proposal {
  readonly type: 'PROPOSAL';
  readonly zxid: Zxid;
  readonly txn: Uint8Array;
}

/** Learner -> leader, cumulative: "my log holds your txns up to zxid, durably". */
export interface Ack {
  readonly type: 'ACK';
  readonly zxid: Zxid;
}

/** Leader -> follower, cumulative: every txn up to zxid is committed. */
export interface Commit {
  readonly type: 'COMMIT';
  readonly zxid: Zxid;
}

/** Leader -> observer: a committed txn (proposal and commit in one). */
export interface Inform {
  readonly type: 'INFORM';
  readonly zxid: Zxid;
  readonly txn: Uint8Array;
}

/** Both ways: liveness; `data` is opaque (ZooKeeper piggybacks session touches here). */
export interface Ping {
  readonly type: 'PING';
  readonly data: Uint8Array;
}

/** Learner -> leader: a client write forwarded to the leader, opaque. */
export interface Request {
  readonly type: 'REQUEST';
  readonly txn: Uint8Array;
}

/**
 * Both ways, opaque to the core (ZooKeeper's REVALIDATE): a learner asks whether a client may
 * reattach to a session, the leader, which alone decides expiry, answers.
 */
export interface Revalidate {
  readonly type: 'REVALIDATE';
  readonly data: Uint8Array;
}

export type LearnerMessage =
  | LearnerInfo
  | LeaderInfo
  | AckEpoch
  | Diff
  | Trunc
  | Snap
  | NewLeader
  | UpToDate
  | Proposal
  | Ack
  | Commit
  | Inform
  | Ping
  | Request
  | Revalidate;

export type PeerMessage = Notification | LearnerMessage;
export type MessageType = PeerMessage['type'];

/** ZooKeeper's QuorumPacket codes (Leader.java); NOTIFICATION is ours (ZK uses a second port). */
export const PACKET_CODE: Readonly<Record<MessageType, number>> = Object.freeze({
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  INFORM: 8,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  NOTIFICATION: 0x80,
});

const TYPE_OF_CODE = new Map<number, MessageType>(
  (Object.entries(PACKET_CODE) as [MessageType, number][]).map(([t, c]) => [c, t]),
);

const STATE_CODE: Readonly<Record<ServerState, number>> = Object.freeze({
  LOOKING: 0,
  FOLLOWING: 1,
  LEADING: 2,
  OBSERVING: 3,
});
const STATE_OF_CODE: readonly ServerState[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];

/** ZooKeeper's LearnerInfo protocol version (0x10000). */
export const PROTOCOL_VERSION = 0x10000;
/** Default bound on one frame (ZooKeeper's jute.maxbuffer default is 1 MiB; a SNAP may be larger). */
export const FRAME_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** Frame length prefix. */
export const FRAME_HEADER_BYTES = 4;

export class ZabDecodeError extends Error {
  override readonly name = 'ZabDecodeError';
}

// ---- shared validation: the same rules on both sides of the wire -------------------------

function u32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

/** A txn zxid: counter 0 names no txn. */
function txnZxid(z: Zxid): boolean {
  return isZxid(z) && z.counter >= 1;
}

/** Why `m` is invalid, or null. Same rules for encode (assertion) and decode (input check). */
export function messageProblem(m: PeerMessage): string | null {
  switch (m.type) {
    case 'NOTIFICATION':
      if (!(m.state in STATE_CODE)) return `bad state ${String(m.state)}`;
      if (!u32(m.leader) || !u32(m.election_epoch) || !u32(m.peer_epoch)) return 'notification field out of u32';
      if (m.config !== null) {
        const problem = membershipProblem(m.config);
        if (problem !== null) return problem;
      }
      return isZxid(m.zxid) ? null : 'bad zxid';
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      return u32(m.sid) && u32(m.accepted_epoch) && u32(m.protocol_version) ? null : 'learner info out of u32';
    case 'LEADERINFO':
      return u32(m.epoch) && u32(m.protocol_version) ? null : 'leader info out of u32';
    case 'ACKEPOCH':
      return u32(m.current_epoch) && isZxid(m.last_zxid) && typeof m.fresh === 'boolean' ? null : 'bad ackepoch';
    case 'NEWLEADER':
      return u32(m.epoch) && isZxid(m.zxid) ? null : 'bad newleader';
    case 'DIFF':
    case 'TRUNC':
    case 'SNAP':
    case 'UPTODATE':
    case 'ACK':
    case 'COMMIT':
      return isZxid(m.zxid) ? null : `bad zxid in ${m.type}`;
    case 'PROPOSAL':
    case 'INFORM':
      return txnZxid(m.zxid) ? null : `${m.type} zxid must name a txn (counter >= 1)`;
    case 'PING':
    case 'REQUEST':
    case 'REVALIDATE':
      return null;
  }
}

/** Why an announced membership could not be one (the QuorumVerifier would refuse it), or null. */
function membershipProblem(c: AnnouncedMembership): string | null {
  if (!isZxid(c.version)) return 'bad membership version';
  if (c.voters.length === 0 || c.voters.length + c.observers.length > ANNOUNCED_MEMBERS_MAX) return 'membership size out of bounds';
  const all = [...c.voters, ...c.observers];
  if (!all.every(u32) || new Set(all).size !== all.length) return 'membership with a bad or repeated sid';
  return null;
}

// ---- encoder -------------------------------------------------------------------------

function bodyBytes(m: PeerMessage): number {
  switch (m.type) {
    case 'NOTIFICATION':
      return 1 + 1 + 4 + 8 + 4 + 4 + (m.config === null ? 0 : 8 + 4 * (2 + m.config.voters.length + m.config.observers.length));
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      return 1 + 12;
    case 'LEADERINFO':
      return 1 + 8;
    case 'ACKEPOCH':
      return 1 + 4 + 8 + 1;
    case 'NEWLEADER':
      return 1 + 4 + 8;
    case 'DIFF':
    case 'TRUNC':
    case 'UPTODATE':
    case 'ACK':
    case 'COMMIT':
      return 1 + 8;
    case 'SNAP':
      return 1 + 8 + 4 + m.snapshot.length;
    case 'PROPOSAL':
    case 'INFORM':
      return 1 + 8 + 4 + m.txn.length;
    case 'PING':
    case 'REVALIDATE':
      return 1 + 4 + m.data.length;
    case 'REQUEST':
      return 1 + 4 + m.txn.length;
  }
}

class Writer {
  at = 0;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(v: number): void {
    this.view.setUint8(this.at, v);
    this.at += 1;
  }
  u32(v: number): void {
    this.view.setUint32(this.at, v);
    this.at += 4;
  }
  zxid(z: Zxid): void {
    this.u32(z.epoch);
    this.u32(z.counter);
  }
  blob(b: Uint8Array): void {
    this.u32(b.length);
    this.bytes.set(b, this.at);
    this.at += b.length;
  }
}

function writeFields(w: Writer, m: PeerMessage): void {
  switch (m.type) {
    case 'NOTIFICATION':
      w.u8(STATE_CODE[m.state]);
      w.u32(m.leader);
      w.zxid(m.zxid);
      w.u32(m.election_epoch);
      w.u32(m.peer_epoch);
      if (m.config !== null) {
        w.zxid(m.config.version);
        w.u32(m.config.voters.length);
        for (const sid of m.config.voters) w.u32(sid);
        w.u32(m.config.observers.length);
        for (const sid of m.config.observers) w.u32(sid);
      }
      return;
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      w.u32(m.sid);
      w.u32(m.accepted_epoch);
      w.u32(m.protocol_version);
      return;
    case 'LEADERINFO':
      w.u32(m.epoch);
      w.u32(m.protocol_version);
      return;
    case 'ACKEPOCH':
      w.u32(m.current_epoch);
      w.zxid(m.last_zxid);
      w.u8(m.fresh ? 1 : 0);
      return;
    case 'NEWLEADER':
      w.u32(m.epoch);
      w.zxid(m.zxid);
      return;
    case 'DIFF':
    case 'TRUNC':
    case 'UPTODATE':
    case 'ACK':
    case 'COMMIT':
      w.zxid(m.zxid);
      return;
    case 'SNAP':
      w.zxid(m.zxid);
      w.blob(m.snapshot);
      return;
    case 'PROPOSAL':
    case 'INFORM':
      w.zxid(m.zxid);
      w.blob(m.txn);
      return;
    case 'PING':
    case 'REVALIDATE':
      w.blob(m.data);
      return;
    case 'REQUEST':
      w.blob(m.txn);
      return;
  }
}

/** One whole frame (length prefix included). Throws Error on an invalid message (a bug). */
export function encodeMessage(m: PeerMessage, frame_bytes_max: number = FRAME_BYTES_MAX_DEFAULT): Uint8Array {
  const problem = messageProblem(m);
  if (problem !== null) throw new Error(`encodeMessage: invalid ${m.type}: ${problem}`);
  const body = bodyBytes(m);
  if (body > frame_bytes_max) throw new Error(`encodeMessage: ${m.type} body ${body} B > frame_bytes_max ${frame_bytes_max}`);
  const w = new Writer(new Uint8Array(FRAME_HEADER_BYTES + body));
  w.u32(body);
  w.u8(PACKET_CODE[m.type]);
  writeFields(w, m);
  if (w.at !== w.bytes.length) throw new Error(`encodeMessage: ${m.type} wrote ${w.at} of ${w.bytes.length} B`);
  return w.bytes;
}

/**
 * The same frame as encodeMessage, as parts to write one after the other: a SNAP's snapshot
 * (hundreds of MB for a large tree) is written from the caller's buffer instead of being copied
 * into a new frame. Every other message is one part.
 */
export function encodeMessageParts(m: PeerMessage, frame_bytes_max: number = FRAME_BYTES_MAX_DEFAULT): Uint8Array[] {
  if (m.type !== 'SNAP') return [encodeMessage(m, frame_bytes_max)];
  const problem = messageProblem(m);
  if (problem !== null) throw new Error(`encodeMessage: invalid ${m.type}: ${problem}`);
  const body = bodyBytes(m);
  if (body > frame_bytes_max) throw new Error(`encodeMessage: ${m.type} body ${body} B > frame_bytes_max ${frame_bytes_max}`);
  const w = new Writer(new Uint8Array(FRAME_HEADER_BYTES + body - m.snapshot.length));
  w.u32(body);
  w.u8(PACKET_CODE[m.type]);
  w.zxid(m.zxid);
  w.u32(m.snapshot.length);
  if (w.at !== w.bytes.length) throw new Error(`encodeMessageParts: SNAP head wrote ${w.at} of ${w.bytes.length} B`);
  return [w.bytes, m.snapshot];
}

// ---- decoder -------------------------------------------------------------------------

class Reader {
  at: number;
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.at = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.at + n > this.end) throw new ZabDecodeError(`frame ends ${this.at + n - this.end} B early`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }
  zxid(): Zxid {
    const epoch = this.u32();
    return { epoch, counter: this.u32() };
  }
  blob(): Uint8Array {
    const n = this.u32();
    this.need(n);
    // Uint8Array's slice copies; Buffer's would be a view pinning the whole read buffer.
    const b = Uint8Array.prototype.slice.call(this.bytes, this.at, this.at + n);
    this.at += n;
    return b;
  }
}

function readSids(r: Reader): number[] {
  const n = r.u32();
  if (n > ANNOUNCED_MEMBERS_MAX) throw new ZabDecodeError(`membership of ${n} sids`);
  r.need(4 * n);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32());
  return out;
}

function readMembership(r: Reader): AnnouncedMembership {
  const version = r.zxid();
  const voters = readSids(r);
  return { version, voters, observers: readSids(r) };
}

function readState(r: Reader): ServerState {
  const code = r.u8();
  const state = STATE_OF_CODE[code];
  if (state === undefined) throw new ZabDecodeError(`bad server state ${code}`);
  return state;
}

function readFields(r: Reader, type: MessageType): PeerMessage {
  switch (type) {
    case 'NOTIFICATION': {
      const state = readState(r);
      const leader = r.u32();
      const zxid = r.zxid();
      const election_epoch = r.u32();
      const peer_epoch = r.u32();
      return { type, state, leader, zxid, election_epoch, peer_epoch, config: r.at < r.end ? readMembership(r) : null };
    }
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO': {
      const sid = r.u32();
      const accepted_epoch = r.u32();
      return { type, sid, accepted_epoch, protocol_version: r.u32() };
    }
    case 'LEADERINFO': {
      const epoch = r.u32();
      return { type, epoch, protocol_version: r.u32() };
    }
    case 'ACKEPOCH': {
      const current_epoch = r.u32();
      const last_zxid = r.zxid();
      const flag = r.u8();
      if (flag > 1) throw new ZabDecodeError(`ACKEPOCH: bad fresh flag ${flag}`);
      return { type, current_epoch, last_zxid, fresh: flag === 1 };
    }
    case 'NEWLEADER': {
      const epoch = r.u32();
      return { type, epoch, zxid: r.zxid() };
    }
    case 'DIFF':
    case 'TRUNC':
    case 'UPTODATE':
    case 'ACK':
    case 'COMMIT':
      return { type, zxid: r.zxid() };
    case 'SNAP': {
      const zxid = r.zxid();
      return { type, zxid, snapshot: r.blob() };
    }
    case 'PROPOSAL':
    case 'INFORM': {
      const zxid = r.zxid();
      return { type, zxid, txn: r.blob() };
    }
    case 'PING':
    case 'REVALIDATE':
      return { type, data: r.blob() };
    case 'REQUEST':
      return { type, txn: r.blob() };
  }
}

/**
 * The length of the frame starting at `offset` (header included), or null if `bytes` does
 * not hold its 4-byte header yet. Throws ZabDecodeError if the declared body is empty or over
 * `frame_bytes_max` (the driver closes the connection): the stream cutter's bound.
 */
export function frameLength(bytes: Uint8Array, offset: number, frame_bytes_max: number = FRAME_BYTES_MAX_DEFAULT): number | null {
  if (bytes.length - offset < FRAME_HEADER_BYTES) return null;
  const body = new DataView(bytes.buffer, bytes.byteOffset + offset, FRAME_HEADER_BYTES).getUint32(0);
  if (body < 1 || body > frame_bytes_max) throw new ZabDecodeError(`frame body length ${body} outside 1..${frame_bytes_max}`);
  return FRAME_HEADER_BYTES + body;
}

/** Decodes exactly one whole frame. Malformed input throws ZabDecodeError, nothing else. */
export function decodeMessage(frame: Uint8Array, frame_bytes_max: number = FRAME_BYTES_MAX_DEFAULT): PeerMessage {
  const len = frameLength(frame, 0, frame_bytes_max);
  if (len === null || len !== frame.length) {
    throw new ZabDecodeError(`frame of ${frame.length} B declares ${len === null ? 'no header' : `${len} B`}`);
  }
  const r = new Reader(frame, FRAME_HEADER_BYTES, frame.length);
  const code = r.u8();
  const type = TYPE_OF_CODE.get(code);
  if (type === undefined) throw new ZabDecodeError(`unknown packet type ${code}`);
  const m = readFields(r, type);
  if (r.at !== frame.length) throw new ZabDecodeError(`${type}: ${frame.length - r.at} trailing bytes`);
  const problem = messageProblem(m);
  if (problem !== null) throw new ZabDecodeError(`${type}: ${problem}`);
  return m;
}

/** One line for traces: type and the fields that matter, never payload bytes. */
export function messageSummary(m: PeerMessage): string {
  switch (m.type) {
    case 'NOTIFICATION':
      return `NOTE ${m.state} v=${m.leader}@${z(m.zxid)} ee=${m.election_epoch} pe=${m.peer_epoch}${m.config === null ? '' : ` cfg=${z(m.config.version)}`}`;
    case 'FOLLOWERINFO':
    case 'OBSERVERINFO':
      return `${m.type} ae=${m.accepted_epoch}`;
    case 'LEADERINFO':
      return `LEADERINFO e=${m.epoch}`;
    case 'ACKEPOCH':
      return `ACKEPOCH ce=${m.current_epoch} last=${z(m.last_zxid)}${m.fresh ? '' : ' (not fresh)'}`;
    case 'NEWLEADER':
      return `NEWLEADER e=${m.epoch} ${z(m.zxid)}`;
    case 'SNAP':
      return `SNAP ${z(m.zxid)} ${m.snapshot.length}B`;
    case 'PROPOSAL':
    case 'INFORM':
      return `${m.type} ${z(m.zxid)} ${m.txn.length}B`;
    case 'PING':
      return 'PING';
    case 'REQUEST':
      return `REQUEST ${m.txn.length}B`;
    case 'REVALIDATE':
      return `REVALIDATE ${m.data.length}B`;
    default:
      return `${m.type} ${z(m.zxid)}`;
  }
}
