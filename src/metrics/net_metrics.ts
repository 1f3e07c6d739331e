// The net worker's metric block: connection and traffic counters. Written only by the net
// worker's thread; the net worker's `stats` answer reads the same slots.

import { blockView, createBlock, SlotLayout } from './slots.js';

/** Counter name (as exposed, without the waitfree_net_ prefix and _total suffix) and help. */
export const NET_COUNTERS = [
  ['connections_accepted', 'Client connections accepted.'],
  ['connections_rejected', 'Client connections refused by maxClientCnxns or maxCnxns.'],
  ['malformed_closes', 'Connections closed for a malformed or oversized frame.'],
  ['sessionless_closes', 'Connections closed for not starting a session within waitfree.sessionlessCnxnTimeoutMs.'],
  ['tls_handshake_failures', "TLS connections closed before their session: a handshake that failed (no certificate under ssl.clientAuth=NEED, one that does not verify, not TLS, timed out) or a certificate whose subject cannot be read (ZooKeeper's unsuccessful_handshake)."],
  ['slow_reader_closes', 'Connections closed because the client did not read its replies (waitfree.connOutboundBytesMax).'],
  ['packets_received', 'Client frames received (requests, including pings and the handshake).'],
  ['bytes_received', 'Bytes read from client sockets.'],
  ['bytes_sent', 'Bytes written to client sockets.'],
  ['fast_reads', 'Reads the net worker answered itself (waitfree.net.fastReads: a session with nothing in flight).'],
  ['direct_writes', 'Writes sent straight to the commit worker, which answered them (waitfree.net.directWrites: a session with nothing in flight).'],
  ['four_letter_words', 'Four-letter words received on the client port.'],
  ['admin_requests', 'HTTP requests to the admin server (/commands, /metrics).'],
] as const;

export type NetCounter = (typeof NET_COUNTERS)[number][0];

const L = new SlotLayout();
const SLOT = Object.fromEntries(NET_COUNTERS.map(([name]) => [name, L.scalar()])) as Record<NetCounter, number>;
const SLOTS = L.slots;

export function createNetMetricsBlock(): SharedArrayBuffer {
  return createBlock(SLOTS);
}

/** The net worker's writer (and its own reader for `stats`). */
export class NetMetrics {
  private readonly v: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    this.v = blockView(sab, SLOTS, 'net');
  }

  add(counter: NetCounter, n = 1): void {
    this.v[SLOT[counter]] += n;
  }

  get(counter: NetCounter): number {
    return this.v[SLOT[counter]];
  }
}

export function readNetMetrics(sab: SharedArrayBuffer): Record<NetCounter, number> {
  const m = new NetMetrics(sab);
  return Object.fromEntries(NET_COUNTERS.map(([name]) => [name, m.get(name)])) as Record<NetCounter, number>;
}
