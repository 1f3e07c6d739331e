// Session timeout negotiation (ZooKeeperServer.processConnectRequest): the server clamps the
// client's requested timeout into [min, max]; defaults are 2 and 20 ticks.

import assert from 'node:assert/strict';

export interface TimeoutBounds {
  min_ms: number;
  max_ms: number;
}

/** ZooKeeper's defaults when minSessionTimeout / maxSessionTimeout are not configured. */
export function defaultTimeoutBounds(tick_ms: number): TimeoutBounds {
  assert(Number.isInteger(tick_ms) && tick_ms > 0, `tick_ms must be a positive integer: ${tick_ms}`);
  return { min_ms: 2 * tick_ms, max_ms: 20 * tick_ms };
}

/** The timeout the server grants: requested_ms clamped into [min_ms, max_ms]. requested_ms is the
 *  ConnectRequest's int32 timeOut and may be anything, including 0 or negative. */
export function negotiateTimeout(requested_ms: number, min_ms: number, max_ms: number): number {
  assert(Number.isInteger(requested_ms), `requested_ms must be an integer: ${requested_ms}`);
  assert(Number.isInteger(min_ms) && min_ms > 0, `min_ms must be a positive integer: ${min_ms}`);
  assert(Number.isInteger(max_ms) && max_ms >= min_ms, `max_ms must be an integer >= min_ms: ${max_ms}`);
  if (requested_ms < min_ms) return min_ms;
  if (requested_ms > max_ms) return max_ms;
  return requested_ms;
}
