// Request / reply frames after the handshake:
//   client -> server: len | RequestHeader | <OPCODE_TABLE[type].request body>
//   server -> client: len | ReplyHeader   | <response body, only when err == 0>
// Encoder and decoder both pick the body by the record names in OPCODE_TABLE, through one
// name -> codec map, so they cannot drift apart. Encoders write a whole frame (length prefix
// included); decoders take the payload after the length prefix.

import type { Codec } from './codec.js';
import { Xid } from './constants.js';
import { JuteError, JuteReader, type JuteWriter } from './jute.js';
import {
  readMultiRequest,
  readMultiResponse,
  writeMultiRequest,
  writeMultiResponse,
  type MultiRequest,
} from './multi.js';
import { OPCODE_TABLE, type OpName } from './opcodes.js';
import { isRecordName, recordCodec, type RecordName, type RecordTypes } from './records.js';
import type { MultiOp, MultiResult, ReplyHeader, RequestHeader, WatcherEvent } from './types.js';

/** Every name a request or response body can have: a jute record or one of the multi lists. */
export type BodyName = RecordName | 'MultiOperationRecord' | 'MultiResponse';

/** What a body decodes to (null = no body). */
export type BodyValue<N extends BodyName | null> = N extends RecordName
  ? RecordTypes[N]
  : N extends 'MultiOperationRecord'
    ? MultiRequest
    : N extends 'MultiResponse'
      ? MultiResult[]
      : null;

/** What a body encoder accepts; every decoded body is accepted back unchanged. */
export type BodyInput<N extends BodyName | null> = N extends 'MultiOperationRecord'
  ? { readonly ops: readonly MultiOp[] }
  : N extends 'MultiResponse'
    ? readonly MultiResult[]
    : BodyValue<N>;

type OpRow = (typeof OPCODE_TABLE)[number];
export type OpCode = OpRow['code'];
type RowOf<C extends OpCode> = Extract<OpRow, { code: C }>;
export type RequestInput<C extends OpCode> = BodyInput<RowOf<C>['request']>;
export type ResponseValue<C extends OpCode> = BodyValue<RowOf<C>['response']>;

type AssertNone<T extends never> = T;
/** Fails to compile when OPCODE_TABLE names a body that has no codec. */
export type OpcodeTableBodiesKnown = AssertNone<Exclude<NonNullable<OpRow['request'] | OpRow['response']>, BodyName>>;

/** Every reply starts with one (looked up once, not per reply). */
const REPLY_HEADER = recordCodec('ReplyHeader');

const multi_request_codec: Codec<unknown> = {
  read: readMultiRequest,
  write: (w, v) => writeMultiRequest(w, (v as BodyInput<'MultiOperationRecord'>).ops),
};
const multi_response_codec: Codec<unknown> = {
  read: readMultiResponse,
  write: (w, v) => writeMultiResponse(w, v as readonly MultiResult[]),
};

function bodyCodec(name: BodyName): Codec<unknown> {
  if (name === 'MultiOperationRecord') return multi_request_codec;
  if (name === 'MultiResponse') return multi_response_codec;
  return recordCodec(name) as Codec<unknown>;
}

function checkedBodyName(name: string | null): BodyName | null {
  if (name === null || name === 'MultiOperationRecord' || name === 'MultiResponse') return name;
  if (!isRecordName(name)) throw new Error(`OPCODE_TABLE names unknown record ${name}`);
  return name;
}

/** Per opcode: its name and body codecs (null = no body), resolved once from OPCODE_TABLE. */
interface OpBodies {
  readonly name: OpName;
  readonly request: BodyName | null;
  readonly response: BodyName | null;
  readonly request_codec: Codec<unknown> | null;
  readonly response_codec: Codec<unknown> | null;
}

const op_bodies = new Map<number, OpBodies>();
for (const row of OPCODE_TABLE) {
  const request = checkedBodyName(row.request);
  const response = checkedBodyName(row.response);
  const request_codec = request === null ? null : bodyCodec(request);
  const response_codec = response === null ? null : bodyCodec(response);
  op_bodies.set(row.code, { name: row.name, request, response, request_codec, response_codec });
}

/** The opcode's name and body record names; undefined for an opcode not in OPCODE_TABLE. */
export function opBodies(type: number): Pick<OpBodies, 'name' | 'request' | 'response'> | undefined {
  return op_bodies.get(type);
}

function readBody(codec: Codec<unknown> | null, r: JuteReader): unknown {
  return codec === null ? null : codec.read(r);
}

function writeBody(codec: Codec<unknown> | null, body: unknown, w: JuteWriter): void {
  if (codec === null) {
    if (body !== null) throw new JuteError('body given for an op that has none');
    return;
  }
  if (body === null || body === undefined) throw new JuteError('missing body');
  codec.write(w, body);
}

// ---- server side: requests in, replies out ----

/** A request whose opcode is in OPCODE_TABLE; switch on `op` to narrow `body`. */
export type KnownRequest = {
  [R in OpRow as R['name']]: {
    unknown: false;
    op: R['name'];
    header: RequestHeader;
    body: BodyValue<R['request']>;
  };
}[OpName];

/** An opcode not in OPCODE_TABLE: the body is left unread (the server answers UNIMPLEMENTED). */
export interface UnknownRequest {
  unknown: true;
  op: null;
  header: RequestHeader;
  body: null;
}

export type DecodedRequest = KnownRequest | UnknownRequest;

/**
 * A request whose header was read but whose body was not. ZooKeeper reads a body only when it
 * handles the request, so such a request is answered MARSHALLINGERROR in its place in the
 * session's order and the connection stays open (auth and sasl excepted: see the shard).
 */
export interface MalformedRequest {
  readonly malformed: true;
  readonly header: RequestHeader;
  /** Why the body did not decode (the JuteError's message), for the log. */
  readonly reason: string;
}

/** What a server reads from a request frame whose header it could read. */
export type ServerRequest = DecodedRequest | MalformedRequest;

export function isMalformed(request: ServerRequest): request is MalformedRequest {
  return 'malformed' in request;
}

/** The RequestHeader {xid, type} that starts every request after the handshake. */
export function readRequestHeader(r: JuteReader): RequestHeader {
  return recordCodec('RequestHeader').read(r);
}

/**
 * The body `header.type` names, from the reader's position. Bytes after the body are ignored, as
 * ZooKeeper ignores them (it deserializes a record from the frame and never checks that the
 * frame was used up). A body that does not decode throws JuteError.
 */
export function readRequestBody(header: RequestHeader, r: JuteReader): DecodedRequest {
  const bodies = op_bodies.get(header.type);
  if (bodies === undefined) return { unknown: true, op: null, header, body: null };
  const body = readBody(bodies.request_codec, r);
  return { unknown: false, op: bodies.name, header, body } as KnownRequest;
}

/** Decodes one request from the reader's range; trailing bytes are ignored, anything malformed throws JuteError. */
export function readRequest(r: JuteReader): DecodedRequest {
  return readRequestBody(readRequestHeader(r), r);
}

/** `payload` is a frame without its length prefix. Malformed input throws JuteError. */
export function decodeRequest(payload: Uint8Array, field_bytes_max?: number): DecodedRequest {
  return readRequest(new JuteReader(payload, 0, payload.length, field_bytes_max));
}

/**
 * The server's reading of a request frame: a header that cannot be read throws JuteError (the
 * connection closes, as in ZooKeeper); a body that cannot be read yields a MalformedRequest.
 * Errors other than JuteError (decoder bugs) propagate.
 */
export function readServerRequest(r: JuteReader): ServerRequest {
  const header = readRequestHeader(r);
  try {
    return readRequestBody(header, r);
  } catch (e) {
    if (e instanceof JuteError) return { malformed: true, header, reason: e.message };
    throw e;
  }
}

/**
 * `payload` is a frame without its length prefix; see readServerRequest. With
 * `buffers_as_views`, buffer fields (znode data) are views of `payload`, not copies: the caller
 * owns `payload` and never changes it.
 */
export function decodeServerRequest(payload: Uint8Array, field_bytes_max?: number, buffers_as_views = false): ServerRequest {
  const r = new JuteReader(payload, 0, payload.length, field_bytes_max);
  r.buffers_as_views = buffers_as_views;
  return readServerRequest(r);
}

/**
 * Writes len | ReplyHeader | body; the body only when header.err == 0 (clients ignore bodies on
 * error), or with `body_on_error`: ZooKeeper's AUTHFAILED answer to a SASL token carries a
 * SetSASLResponse, which the Java client reads while its SASL exchange is in progress (without
 * it, it takes the reply for a broken connection). On a throw the writer is rolled back to where
 * the frame began.
 */
export function encodeReply<N extends BodyName | null>(
  header: ReplyHeader,
  response: N,
  body: BodyInput<N> | null,
  w: JuteWriter,
  body_on_error = false,
): void {
  const at = w.beginFrame();
  try {
    REPLY_HEADER.write(w, header);
    if (header.err === 0 || body_on_error) writeBody(response === null ? null : bodyCodec(response), body, w);
  } catch (e) {
    w.length = at;
    throw e;
  }
  w.finishFrame(at);
}

/** A reply body alone (no header, no frame): the commit worker encodes a write's reply once. */
export function encodeReplyBody<N extends BodyName>(response: N, body: BodyInput<N>, w: JuteWriter): void {
  writeBody(bodyCodec(response), body, w);
}

/** A reply whose body was encoded earlier (encodeReplyBody): header + those bytes, framed. */
export function encodeReplyWithBody(header: ReplyHeader, body: Uint8Array, w: JuteWriter): void {
  const at = w.beginFrame();
  REPLY_HEADER.write(w, header);
  if (header.err === 0) w.writeRaw(body);
  w.finishFrame(at);
}

/** A reply whose body `write_body` writes straight into `w` (no body object in between). */
export function encodeReplyWrittenBy(header: ReplyHeader, write_body: (w: JuteWriter) => void, w: JuteWriter): void {
  const at = w.beginFrame();
  try {
    REPLY_HEADER.write(w, header);
    if (header.err === 0) write_body(w);
  } catch (e) {
    w.length = at;
    throw e;
  }
  w.finishFrame(at);
}

/** A watch event: ReplyHeader{xid -1, zxid of the triggering txn, err 0} + WatcherEvent. */
export function encodeNotification(event: WatcherEvent, zxid: number, w: JuteWriter): void {
  encodeReply({ xid: Xid.NOTIFICATION, zxid, err: 0 }, 'WatcherEvent', event, w);
}

// ---- client side: requests out, replies in ----

/** Writes len | RequestHeader | body. On a throw the writer is rolled back to where the frame began. */
export function encodeRequest<C extends OpCode>(xid: number, type: C, body: RequestInput<C>, w: JuteWriter): void {
  const bodies = op_bodies.get(type);
  if (bodies === undefined) throw new JuteError(`cannot encode unknown opcode ${type}`);
  const at = w.beginFrame();
  try {
    recordCodec('RequestHeader').write(w, { xid, type });
    writeBody(bodies.request_codec, body, w);
  } catch (e) {
    w.length = at;
    throw e;
  }
  w.finishFrame(at);
}

export interface DecodedReply<N extends BodyName | null> {
  header: ReplyHeader;
  /** null when header.err != 0 (any bytes after the header are ignored, as the Java client does). */
  body: BodyValue<N> | null;
}

/** Decodes one reply whose body (when err == 0) is the `expected` record. */
export function readReply<N extends BodyName | null>(r: JuteReader, expected: N): DecodedReply<N> {
  const header = recordCodec('ReplyHeader').read(r);
  if (header.err !== 0) return { header, body: null };
  const body = readBody(expected === null ? null : bodyCodec(expected), r) as BodyValue<N>;
  r.expectEnd();
  return { header, body };
}

/** `payload` is a frame without its length prefix. Malformed input throws JuteError. */
export function decodeReply<N extends BodyName | null>(
  payload: Uint8Array,
  expected: N,
  field_bytes_max?: number,
): DecodedReply<N> {
  return readReply(new JuteReader(payload, 0, payload.length, field_bytes_max), expected);
}

/** The xid of a reply (or request) payload, to pick the expected record before decoding. */
export function peekXid(payload: Uint8Array): number {
  if (payload.length < 4) throw new JuteError(`truncated: ${payload.length} bytes, no xid`);
  return (payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3];
}
