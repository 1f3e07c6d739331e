// Session ids as ZooKeeper allocates them (SessionTrackerImpl.initializeNextSessionId):
// the top byte is the server id, the next 40 bits the allocation time in ms, and the low 16 bits
// a counter, so ids from different servers (and from restarts of one server) do not collide.
// All arithmetic is Java's signed 64-bit `long`, done on bigint and wrapped with asIntN/asUintN.

import assert from 'node:assert/strict';

/** Long.MIN_VALUE: ephemeralOwner marker of container nodes (EphemeralType.CONTAINER), so never
 *  a session id. */
export const LONG_MIN = -(1n << 63n);

/** Highest server id usable with TTL nodes (EphemeralType.MAX_EXTENDED_SERVER_ID = 0xfe): a
 *  session id whose top byte is 0xff would read as a TTL ephemeralOwner marker. */
export const SERVER_ID_MAX = 0xfe;

/** `((now_ms << 24) >>> 8) | (server_id << 56)` in Java long arithmetic (`>>>` is the unsigned
 *  shift), then bumped past the reserved values (see nextSessionId). */
export function firstSessionId(now_ms: number, server_id: number): bigint {
  assert(Number.isSafeInteger(now_ms) && now_ms >= 0, `now_ms must be a non-negative integer: ${now_ms}`);
  assert(
    Number.isInteger(server_id) && server_id >= 0 && server_id <= SERVER_ID_MAX,
    `server_id must be in [0, ${SERVER_ID_MAX}]: ${server_id}`,
  );
  // Keep 64 bits after the left shift (Java drops the overflow), then shift as unsigned.
  const time_bits = BigInt.asUintN(64, BigInt(now_ms) << 24n) >> 8n;
  const server_bits = BigInt(server_id) << 56n;
  return skipReserved(BigInt.asIntN(64, time_bits | server_bits));
}

/** The id after `prev`, wrapping like a Java long and skipping the reserved values. */
export function nextSessionId(prev: bigint): bigint {
  assert(BigInt.asIntN(64, prev) === prev, `not a 64-bit signed value: ${prev}`);
  return skipReserved(BigInt.asIntN(64, prev + 1n));
}

/** Long.MIN_VALUE is the container marker; 0 means "no session" (ConnectRequest.sessionId = 0
 *  asks for a new one, ephemeralOwner = 0 is a persistent node). ZooKeeper only skips the
 *  former, and only for the first id; we skip both, always. */
function skipReserved(id: bigint): bigint {
  if (id === LONG_MIN || id === 0n) return id + 1n;
  return id;
}

/** 0x-prefixed unsigned hex, the way ZooKeeper prints session ids (Long.toHexString). */
export function sessionIdHex(session_id: bigint): string {
  return `0x${BigInt.asUintN(64, session_id).toString(16)}`;
}
