// Session passwords. ZooKeeper derives them from java.util.Random(sessionId ^ 0xB3415C00), which
// anyone who knows a session id can recompute and so hijack the session. Ours are a keyed MAC
// of the id: unguessable without the server secret, yet every replica holding the same secret
// derives the same password, so a client can move its session between servers.

import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SESSION_PASSWD_BYTES } from '../protocol/constants.js';

/** Below this a secret could be brute-forced offline from one observed (id, password) pair. */
export const SECRET_BYTES_MIN = 16;

/** First 16 bytes of HMAC-SHA256(secret, session id as 8 big-endian bytes). */
export function sessionPasswd(session_id: bigint, secret: Uint8Array): Uint8Array {
  assert(BigInt.asIntN(64, session_id) === session_id, `not a 64-bit session id: ${session_id}`);
  assert(secret.length >= SECRET_BYTES_MIN, `secret must have >= ${SECRET_BYTES_MIN} bytes`);
  const id_bytes = new Uint8Array(8);
  new DataView(id_bytes.buffer).setBigInt64(0, session_id);
  const mac = createHmac('sha256', secret).update(id_bytes).digest();
  return new Uint8Array(mac.subarray(0, SESSION_PASSWD_BYTES)); // copies: the caller owns it
}

/** Constant-time comparison (timing must not reveal how many leading bytes matched). */
export function passwdEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}
