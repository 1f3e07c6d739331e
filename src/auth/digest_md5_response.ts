// The DIGEST-MD5 response value (RFC 2831 section 2.1.2.1), qop "auth" only:
//
//   A1 = { H({ username ":" realm ":" password }), ":" nonce ":" cnonce [ ":" authzid ] }
//   A2 = { method ":" digest-uri }          (method "AUTHENTICATE"; "" for the server's rspauth)
//   response-value = HEX( H( { HEX(H(A1)), ":" nonce ":" nc ":" cnonce ":" qop ":" HEX(H(A2)) } ) )
//
// H is MD5 and HEX lower-case hex. username, realm and password are ISO-8859-1 bytes when every
// character fits, UTF-8 bytes otherwise (RFC 2831 section 2.1.2.1, as Java does it); nonce,
// cnonce and authzid are the bytes exchanged. Checked against RFC 2831 section 4's examples.

import { createHash } from 'node:crypto';

export interface DigestInputs {
  /** "AUTHENTICATE" for the client's response, "" for the server's rspauth. */
  readonly method: 'AUTHENTICATE' | '';
  readonly digest_uri: string;
  readonly username: string;
  readonly realm: string;
  readonly password: string;
  readonly nonce: Uint8Array;
  readonly cnonce: Uint8Array;
  /** The nonce count, written as 8 lower-case hex digits. */
  readonly nonce_count: number;
  /** null when the client sent none (A1 then has no third ':'). */
  readonly authzid: Uint8Array | null;
}

const QOP_AUTH = 'auth';
const COLON = Buffer.from(':');

/** The 32 lower-case hex digits, as ASCII bytes (compared byte for byte with the client's). */
export function digestResponseValue(d: DigestInputs): Buffer {
  const a1_head = md5([credentialBytes(d.username), COLON, credentialBytes(d.realm), COLON, credentialBytes(d.password)]);
  const a1 = [a1_head, COLON, d.nonce, COLON, d.cnonce];
  if (d.authzid !== null) a1.push(COLON, d.authzid);
  const a2 = Buffer.from(`${d.method}:${d.digest_uri}`, 'utf8');
  const nc = d.nonce_count.toString(16).padStart(8, '0');
  const kd = [hex(md5(a1)), COLON, d.nonce, COLON, Buffer.from(nc), COLON, d.cnonce, COLON, Buffer.from(QOP_AUTH), COLON, hex(md5([a2]))];
  return hex(md5(kd));
}

/** ISO-8859-1 when every UTF-16 unit is at most U+00FF, else UTF-8 (Java's stringToByte_8859_1). */
export function credentialBytes(s: string): Buffer {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8');
  return Buffer.from(s, 'latin1');
}

function md5(parts: readonly Uint8Array[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

function hex(b: Buffer): Buffer {
  return Buffer.from(b.toString('hex'), 'latin1');
}
