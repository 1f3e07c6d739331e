// The session handshake frames (no Request/ReplyHeader): ConnectRequest and ConnectResponse.
// Both end with an optional readOnly byte: clients <= 3.3 omit it, and a server that got no byte
// must send none back (ProtocolManager). Encoders write a whole frame (length prefix included);
// decoders take the payload after the length prefix.

import { compileSchema, type Codec, type Schema } from './codec.js';
import { JuteError, JuteReader, type JuteWriter } from './jute.js';
import type { ConnectRequest, ConnectResponse } from './types.js';

type ConnectRequestBase = Omit<ConnectRequest, 'readOnly'>;
type ConnectResponseBase = Omit<ConnectResponse, 'readOnly'>;

const CONNECT_REQUEST_BASE: Schema = [
  ['protocolVersion', 'int'],
  ['lastZxidSeen', 'long53'],
  ['timeOut', 'int'],
  ['sessionId', 'long'],
  ['passwd', 'bytes'],
];

const CONNECT_RESPONSE_BASE: Schema = [
  ['protocolVersion', 'int'],
  ['timeOut', 'int'],
  ['sessionId', 'long'],
  ['passwd', 'bytes'],
];

function noNestedRecords(name: string): never {
  throw new Error(`connect records have no nested record ${name}`);
}

const request_base: Codec<ConnectRequestBase> = compileSchema(CONNECT_REQUEST_BASE, noNestedRecords);
const response_base: Codec<ConnectResponseBase> = compileSchema(CONNECT_RESPONSE_BASE, noNestedRecords);

/** The optional trailing readOnly byte: absent -> null; anything but 0 or 1 byte left is malformed. */
function readOptionalReadOnly(r: JuteReader): boolean | null {
  const left = r.remaining();
  if (left === 0) return null;
  if (left !== 1) throw new JuteError(`${left} trailing bytes after connect record`);
  return r.readBool();
}

function writeOptionalReadOnly(w: JuteWriter, read_only: boolean | null): void {
  if (read_only !== null) w.writeBool(read_only);
}

export function decodeConnectRequest(payload: Uint8Array, field_bytes_max?: number): ConnectRequest {
  const r = new JuteReader(payload, 0, payload.length, field_bytes_max);
  const base = request_base.read(r);
  return { ...base, readOnly: readOptionalReadOnly(r) };
}

export function encodeConnectRequest(req: ConnectRequest, w: JuteWriter): void {
  const at = w.beginFrame();
  request_base.write(w, req);
  writeOptionalReadOnly(w, req.readOnly);
  w.finishFrame(at);
}

export function decodeConnectResponse(payload: Uint8Array, field_bytes_max?: number): ConnectResponse {
  const r = new JuteReader(payload, 0, payload.length, field_bytes_max);
  const base = response_base.read(r);
  return { ...base, readOnly: readOptionalReadOnly(r) };
}

/** Omits the readOnly byte when `resp.readOnly === null` (echo what the client sent). */
export function encodeConnectResponse(resp: ConnectResponse, w: JuteWriter): void {
  const at = w.beginFrame();
  response_base.write(w, resp);
  writeOptionalReadOnly(w, resp.readOnly);
  w.finishFrame(at);
}
