// What a learner sends its leader besides Zab itself, as data with its codec, in one module both
// sides import. The Zab core carries these bytes opaquely: a REQUEST's payload is a forwarded
// client write (or a session the learner created), a learner's PING carries the sessions its
// clients touched since the last one (ZooKeeper's LearnerSessionTracker piggybacks them the same
// way), so the leader alone decides expiry.
//
// Layouts (jute primitives, big-endian):
//   WRITE:          u8 1 | i64 session_id | i32 n_auth | n_auth × (ustring scheme, ustring id) | request bytes
//                   (the client's request as the shard forwarded it: RequestHeader + body)
//   CREATE_SESSION: u8 2 | i64 session_id | i32 timeout_ms | buffer passwd
//   touches (PING): i32 n | n × i64 session_id
//   REVALIDATE, learner -> leader: i32 token | i64 session_id | i32 timeout_ms | buffer passwd
//   REVALIDATE, leader -> learner: i32 token | i64 session_id | u8 valid (0 or 1)
//   (the token is the learner's: it pairs an answer with its question)

import { JuteReader, JuteWriter } from '../protocol/jute.js';
import type { Id } from '../protocol/types.js';

export const Forward = {
  WRITE: 1,
  CREATE_SESSION: 2,
} as const;

export type Forwarded =
  | { readonly kind: 'write'; readonly session_id: bigint; readonly auth: Id[]; readonly request: Uint8Array }
  | { readonly kind: 'create_session'; readonly session_id: bigint; readonly timeout_ms: number; readonly passwd: Uint8Array };

/** Touches carried by one PING at most (a learner with more sends them over several pings). */
export const TOUCHES_PER_PING_MAX = 100_000;

export function encodeWrite(session_id: bigint, auth: readonly Id[], request: Uint8Array, start: number, end: number): Uint8Array {
  const w = new JuteWriter(32 + (end - start));
  w.writeRaw(Uint8Array.of(Forward.WRITE));
  w.writeLong(session_id).writeInt(auth.length);
  for (const id of auth) w.writeUString(id.scheme).writeUString(id.id);
  w.writeRaw(request.subarray(start, end));
  return w.toBytes();
}

export function encodeCreateSession(session_id: bigint, timeout_ms: number, passwd: Uint8Array): Uint8Array {
  const w = new JuteWriter(48);
  w.writeRaw(Uint8Array.of(Forward.CREATE_SESSION));
  w.writeLong(session_id).writeInt(timeout_ms).writeBuffer(passwd);
  return w.toBytes();
}

/** Throws (JuteError or Error) on bytes no correct learner sends: the caller drops them. */
export function decodeForwarded(bytes: Uint8Array): Forwarded {
  if (bytes.length < 1) throw new Error('forwarded request: empty');
  const r = new JuteReader(bytes, 1, bytes.length);
  switch (bytes[0]) {
    case Forward.WRITE: {
      const session_id = r.readLong();
      const n = r.readInt();
      if (n < 0 || n > 64) throw new Error(`forwarded request: ${n} auth ids`);
      const auth: Id[] = [];
      for (let i = 0; i < n; i++) auth.push({ scheme: r.readUString() ?? '', id: r.readUString() ?? '' });
      return { kind: 'write', session_id, auth, request: bytes.subarray(r.offset) };
    }
    case Forward.CREATE_SESSION: {
      const session_id = r.readLong();
      const timeout_ms = r.readInt();
      const passwd = r.readBuffer();
      if (passwd === null) throw new Error('forwarded session: null password');
      return { kind: 'create_session', session_id, timeout_ms, passwd };
    }
    default:
      throw new Error(`forwarded request: unknown kind ${bytes[0]}`);
  }
}

/** The session key of a forwarded write or session (matches the committed txn's header). */
export function forwardKey(session_id: bigint, cxid: number): string {
  return `${session_id}:${cxid}`;
}

export function encodeTouches(ids: readonly bigint[]): Uint8Array {
  const w = new JuteWriter(4 + 8 * ids.length);
  w.writeInt(ids.length);
  for (const id of ids) w.writeLong(id);
  return w.toBytes();
}

export function decodeTouches(bytes: Uint8Array): bigint[] {
  if (bytes.length === 0) return [];
  const r = new JuteReader(bytes, 0, bytes.length);
  const n = r.readInt();
  if (n < 0 || n > TOUCHES_PER_PING_MAX) throw new Error(`touches: bad count ${n}`);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(r.readLong());
  return out;
}

/** A learner's question: may a client reattach to this session with this password? */
export interface RevalidateQuestion {
  readonly token: number;
  readonly session_id: bigint;
  readonly timeout_ms: number;
  readonly passwd: Uint8Array;
}

/** The leader's answer to a RevalidateQuestion. */
export interface RevalidateAnswer {
  readonly token: number;
  readonly session_id: bigint;
  readonly valid: boolean;
}

export function encodeRevalidateQuestion(q: RevalidateQuestion): Uint8Array {
  const w = new JuteWriter(20 + q.passwd.length);
  w.writeInt(q.token).writeLong(q.session_id).writeInt(q.timeout_ms).writeBuffer(q.passwd);
  return w.toBytes();
}

/** Throws (JuteError or Error) on bytes no correct learner sends: the caller drops them. */
export function decodeRevalidateQuestion(bytes: Uint8Array): RevalidateQuestion {
  const r = new JuteReader(bytes, 0, bytes.length);
  const token = r.readInt();
  const session_id = r.readLong();
  const timeout_ms = r.readInt();
  const passwd = r.readBuffer();
  if (passwd === null) throw new Error('revalidate: null password');
  if (r.offset !== bytes.length) throw new Error(`revalidate: ${bytes.length - r.offset} trailing bytes`);
  return { token, session_id, timeout_ms, passwd };
}

export function encodeRevalidateAnswer(a: RevalidateAnswer): Uint8Array {
  const w = new JuteWriter(13);
  w.writeInt(a.token).writeLong(a.session_id).writeBool(a.valid);
  return w.toBytes();
}

/** Throws (JuteError or Error) on bytes no correct leader sends: the caller drops them. */
export function decodeRevalidateAnswer(bytes: Uint8Array): RevalidateAnswer {
  const r = new JuteReader(bytes, 0, bytes.length);
  const token = r.readInt();
  const session_id = r.readLong();
  if (r.offset + 1 !== bytes.length) throw new Error(`revalidate answer: ${bytes.length - r.offset} B after the session id, want 1`);
  const flag = bytes[r.offset];
  if (flag > 1) throw new Error(`revalidate answer: bad valid flag ${flag}`);
  return { token, session_id, valid: flag === 1 };
}
