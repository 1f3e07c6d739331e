// The control plane between the supervisor and a worker: postMessage, never on the request
// path. The supervisor asks for stats (four-letter words, admin) and tells workers to stop.
//
// A stats request says what it needs beyond the counters (StatsDetail), because some parts cost
// more than others: the counters are O(1) per worker, connection rows O(connections), and a
// watch listing O(watches), which a shard builds in slices between its ring polls (its answer
// comes later, as transferred buffers; see src/watch/watch_listing.ts).

import { parentPort } from 'node:worker_threads';
import type { HttpAnswer } from '../admin/http/admin_router.js';
import type { QuorumRole } from '../quorum/quorum_driver.js';
import type { AdminListening } from '../admin/http/backend.js';
import type { WatchListingPart, WatchListingRequest } from '../watch/watch_listing.js';
import type { WatchSummary } from '../watch/watch_table.js';

export interface StatsDetail {
  /** Per-connection rows (stat, cons, dump; the admin connections commands): O(connections). */
  readonly connections: boolean;
  /** A watch listing (wchc, wchp; the admin watches commands): O(watches), built in slices. */
  readonly watches: WatchListingRequest | null;
  /** The commit worker's session table (cons, stat: session expiry; dump): O(sessions). */
  readonly sessions: boolean;
  /** The commit worker's ephemerals by session (dump): O(ephemerals). */
  readonly ephemerals: boolean;
  /** The quota gauges (mntr, /metrics): O(nodes under /zookeeper/quota). */
  readonly quotas: boolean;
}

/** Counters only: what srvr, mntr, wchs, isro, conf, envi and /metrics need. */
export const STATS_SUMMARY: StatsDetail = { connections: false, watches: null, sessions: false, ephemerals: false, quotas: false };

/** One connection as a shard reports it (cons, stat, dump). */
export interface ShardConnStats {
  remote_ip: string;
  remote_port: number;
  /** Decimal: postMessage keeps bigints, but JSON-ish text keeps tests and logs simple. */
  session_id: string;
  timeout_ms: number;
  queued: number;
  received: number;
  sent: number;
  established_ms: number;
  last_op: string;
  last_cxid: number;
  last_zxid: number;
  last_response_ms: number;
  latency_min_ms: number;
  latency_avg_ms: number;
  latency_max_ms: number;
  latency_total_ms: number;
  latency_count: number;
  last_latency_ms: number;
  /** Reading is paused (its queue at its bound): ZooKeeper's interest ops then lack OP_READ. */
  paused: boolean;
  watches: number;
}

/** A shard's stats answer: counters always; connections and a listing when asked. */
export interface ShardStats {
  /** Empty unless StatsDetail.connections. */
  conns: ShardConnStats[];
  /** Watch entries over both tables (mntr zk_watch_count). */
  watch_count: number;
  /** wchs's numbers for this shard's table. */
  watch_summary: WatchSummary;
  /** Present when StatsDetail.watches asked for it. */
  listing: WatchListingPart | null;
  last_zxid: number;
  packets_sent: number;
  outstanding: number;
  requests_served: number;
  latency_min_ms: number;
  latency_max_ms: number;
  latency_total_ms: number;
}

/**
 * What srst / crst (and the admin stat_reset / connection_stat_reset) reset: 'server' the
 * replica's request counters and latency (srvr's Received, Sent, Latency min/avg/max), as
 * ZooKeeper's ServerStats.reset(); 'connections' every connection's counters, latency and last
 * operation (cons), as ServerCnxn.resetStats(). The Prometheus counters at /metrics never go
 * back: a reset moves the base srvr counts from.
 */
export type StatsReset = 'server' | 'connections';

export type ControlRequest =
  | { id: number; type: 'stats'; detail: StatsDetail }
  | { id: number; type: 'reset_stats'; scope: StatsReset }
  | { id: number; type: 'stop' };
export type ControlReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/**
 * What a worker tells the supervisor on its own (not an answer to a ControlRequest). Every
 * worker posts only these (postEvent), and the supervisor's handlers switch on `type`: a new
 * event is added here once and both sides see it.
 */
export type WorkerEvent =
  /** Start-up: the commit worker recovered the tree (zxid, its snapshot's zxid or -1, znodes);
   *  a shard attached to it. */
  | { type: 'recovered'; role: 'commit' | 'shard'; index?: number; zxid: number; snapshot_zxid: number; nodes: number }
  | { type: 'startup_failed'; error: string }
  /** The commit worker serves (after recovery, and under Zab after joining the quorum). */
  | { type: 'serving' }
  /** The log failed: the replica stopped accepting writes (it serves reads). */
  | { type: 'disk_fault'; error: string }
  /** The commit worker's Zab role changed (informational). */
  | { type: 'role'; role: QuorumRole }
  /** The net worker listens on the client port (and the admin port, if any). */
  | { type: 'listening'; port: number; /** -1: no secure client port. */ secure_port: number; admin: AdminListening | null }
  | { type: 'failed'; error: string }
  /** The net worker got a four-letter word: the supervisor gathers stats and answers it. */
  | { type: 'four_letter'; conn_id: number; cmd: string; /** The bytes after the word (stmk's int64 mask), null when none. */ arg: Uint8Array | null }
  /** The net worker got an admin HTTP request: the supervisor answers it. */
  | { type: 'admin_http'; req_id: number; method: string; url: string };

/** What the supervisor pushes to a worker besides control requests. */
export type SupervisorMessage =
  /** To the commit worker: every shard attached to the recovered tree; start serving. */
  | { type: 'serve' }
  /** To a shard (started while the commit worker recovers): the recovered tree is published;
   *  attach to it. */
  | { type: 'attach' }
  /** To the net worker (started while the replica recovers): it serves; open the client port. */
  | { type: 'listen' }
  /** To the net worker: a four-letter word's reply text (UTF-8, transferred: a watch listing
   *  can be large). */
  | { type: 'four_letter_answer'; conn_id: number; text: Uint8Array }
  /** To the net worker: an admin HTTP request's answer. */
  | { type: 'admin_http_answer'; req_id: number; answer: HttpAnswer };

/** Posts an event to the supervisor (a no-op outside a worker thread, e.g. in unit tests). */
export function postEvent(event: WorkerEvent): void {
  parentPort?.postMessage(event);
}

/** A stats answer whose buffers are transferred to the supervisor instead of copied. */
export class Transfer {
  constructor(
    readonly value: unknown,
    readonly buffers: readonly ArrayBuffer[],
  ) {}
}

export interface ControlHandlers {
  /** May answer later (a listing is built over many loop turns); may hand over buffers (Transfer). */
  stats(detail: StatsDetail): unknown;
  /** srst / crst: a worker without such counters leaves it out (answered as done). */
  resetStats?(scope: StatsReset): void;
  stop(): void | Promise<void>;
  /** Messages that are not control requests (SupervisorMessage). */
  other?(message: SupervisorMessage): void;
}

function isControlRequest(m: unknown): m is ControlRequest {
  return typeof m === 'object' && m !== null && 'type' in m && 'id' in m && (m.type === 'stats' || m.type === 'reset_stats' || m.type === 'stop');
}

/** An old-style request without detail is answered with the counters only. */
function detailOf(m: ControlRequest): StatsDetail {
  return m.type === 'stats' && typeof m.detail === 'object' && m.detail !== null ? m.detail : STATS_SUMMARY;
}

async function answerControl(handlers: ControlHandlers, m: ControlRequest): Promise<unknown> {
  switch (m.type) {
    case 'stats':
      return handlers.stats(detailOf(m));
    case 'reset_stats':
      handlers.resetStats?.(m.scope);
      return null;
    case 'stop':
      return handlers.stop();
  }
}

export function serveControl(handlers: ControlHandlers): void {
  const port = parentPort;
  if (port === null) throw new Error('serveControl: not in a worker thread');
  port.on('message', (m: unknown) => {
    if (!isControlRequest(m)) {
      handlers.other?.(m as SupervisorMessage);
      return;
    }
    void (async () => {
      try {
        const value: unknown = await answerControl(handlers, m);
        if (value instanceof Transfer) {
          port.postMessage({ id: m.id, ok: true, value: value.value } satisfies ControlReply, [...value.buffers]);
        } else {
          port.postMessage({ id: m.id, ok: true, value } satisfies ControlReply);
        }
      } catch (e) {
        port.postMessage({ id: m.id, ok: false, error: String(e) } satisfies ControlReply);
      }
    })();
  });
}
