// The Zab driver's metric block (src/quorum/quorum_driver.ts, on the commit worker's thread):
// elections, learner syncs served, proposals and their latencies. Names follow ZooKeeper's
// ServerMetrics where it has one (election_time, unavailable_time, looking_count, diff_count,
// snap_count, proposal_count, quorum_ack_latency, ack_latency per follower sid); the scrape
// (scrape.ts) exposes them under those names. Written only by the commit worker's thread.
//
// Per-follower ACK latency needs a slot per follower: ACK_PEERS_MAX of them, each claimed by the
// first ACK of a sid (sid + 1 stored in the slot, so 0 = free: server ids start at 0). ACKs of further sids
// are counted in `ack_untracked` only: an ensemble of more than ACK_PEERS_MAX voters is not a
// configuration this bound needs to serve.

import { ELECTION_MS, histogramSlots, observe, readHistogram, ZAB_LATENCY_MS, type HistogramSnapshot } from './histogram.js';
import { blockView, createBlock, SlotLayout } from './slots.js';

/** How a leader synchronized a learner (ZooKeeper's DIFF / SNAP / TRUNC). */
export type SyncMode = 'diff' | 'snap' | 'trunc';
export const SYNC_MODES: readonly SyncMode[] = ['diff', 'snap', 'trunc'];

/** Followers whose ACK latency is kept apart (slots of the block). */
export const ACK_PEERS_MAX = 32;

const ACK_HIST = histogramSlots(ZAB_LATENCY_MS);
const ACK_PEER_SLOTS = 1 + ACK_HIST;

const L = new SlotLayout();
const ELECTION = L.array(histogramSlots(ELECTION_MS));
const UNAVAILABLE = L.array(histogramSlots(ELECTION_MS));
const LOOKING = L.scalar();
const SYNC_COUNT = L.array(SYNC_MODES.length);
const SYNC_BYTES = L.array(SYNC_MODES.length);
const PROPOSALS = L.scalar();
const QUORUM_ACK = L.array(ACK_HIST);
const ACK_PEERS = L.array(ACK_PEERS_MAX * ACK_PEER_SLOTS);
const ACK_UNTRACKED = L.scalar();
const LINKS_REFUSED = L.scalar();
const SLOTS = L.slots;

export function createZabMetricsBlock(): SharedArrayBuffer {
  return createBlock(SLOTS);
}

/** What the driver reports. A standalone replica, and unit tests of the driver, use NO_ZAB_METRICS. */
export interface ZabMetricsSink {
  /** Entered LOOKING (ZooKeeper's looking_count). */
  looking(): void;
  /** LOOKING ended with a leader chosen, `ms` after it began (election_time). */
  electionDone(ms: number): void;
  /** Serving again `ms` after LOOKING began (unavailable_time). */
  unavailableDone(ms: number): void;
  /** This leader started synchronizing a learner by `mode` (diff_count, snap_count, trunc_count). */
  syncServed(mode: SyncMode): void;
  /** Bytes of snapshot or txns sent in a learner's sync stream. */
  syncBytes(mode: SyncMode, bytes: number): void;
  /** This leader proposed a txn (proposal_count). */
  proposal(): void;
  /** Propose to quorum commit of one txn (quorum_ack_latency). */
  quorumAck(ms: number): void;
  /** Propose to follower `sid`'s durable ACK of one txn (ack_latency{key=sid}). */
  ack(sid: number, ms: number): void;
  /** The quorum port refused a connection for who it is (its sid, its certificate, its kind). */
  linkRefused(): void;
}

export const NO_ZAB_METRICS: ZabMetricsSink = {
  looking: () => {},
  electionDone: () => {},
  unavailableDone: () => {},
  syncServed: () => {},
  syncBytes: () => {},
  proposal: () => {},
  quorumAck: () => {},
  ack: () => {},
  linkRefused: () => {},
};

function modeIndex(mode: SyncMode): number {
  const i = SYNC_MODES.indexOf(mode);
  if (i < 0) throw new RangeError(`zab metrics: unknown sync mode ${JSON.stringify(mode)}`);
  return i;
}

/** The commit worker's writer. */
export class ZabMetrics implements ZabMetricsSink {
  private readonly v: Float64Array;
  /** sid -> first slot of its ACK histogram (the writer's index of what the block holds). */
  private readonly ack_slot = new Map<number, number>();

  constructor(sab: SharedArrayBuffer) {
    this.v = blockView(sab, SLOTS, 'zab');
    for (let i = 0; i < ACK_PEERS_MAX; i++) {
      const at = ACK_PEERS + i * ACK_PEER_SLOTS;
      if (this.v[at] !== 0) this.ack_slot.set(this.v[at] - 1, at + 1);
    }
  }

  looking(): void {
    this.v[LOOKING]++;
  }

  electionDone(ms: number): void {
    observe(this.v, ELECTION, ELECTION_MS, ms);
  }

  unavailableDone(ms: number): void {
    observe(this.v, UNAVAILABLE, ELECTION_MS, ms);
  }

  syncServed(mode: SyncMode): void {
    this.v[SYNC_COUNT + modeIndex(mode)]++;
  }

  syncBytes(mode: SyncMode, bytes: number): void {
    this.v[SYNC_BYTES + modeIndex(mode)] += bytes;
  }

  proposal(): void {
    this.v[PROPOSALS]++;
  }

  quorumAck(ms: number): void {
    observe(this.v, QUORUM_ACK, ZAB_LATENCY_MS, ms);
  }

  ack(sid: number, ms: number): void {
    const at = this.ackSlot(sid);
    if (at === null) this.v[ACK_UNTRACKED]++;
    else observe(this.v, at, ZAB_LATENCY_MS, ms);
  }

  linkRefused(): void {
    this.v[LINKS_REFUSED]++;
  }

  /** The histogram of `sid`, claiming a free slot on its first ACK; null when all are taken. */
  private ackSlot(sid: number): number | null {
    const known = this.ack_slot.get(sid);
    if (known !== undefined) return known;
    if (!Number.isSafeInteger(sid) || sid < 0) throw new RangeError(`zab metrics: ACK from sid ${sid}: sids are integers >= 0`);
    if (this.ack_slot.size >= ACK_PEERS_MAX) return null;
    const at = ACK_PEERS + this.ack_slot.size * ACK_PEER_SLOTS;
    // The histogram's slots are zero (never used), so a reader that sees the sid sees an empty
    // histogram at worst, never another sid's counts.
    this.v[at] = sid + 1;
    this.ack_slot.set(sid, at + 1);
    return at + 1;
  }
}

export interface ZabTotals {
  readonly election_ms: HistogramSnapshot;
  readonly unavailable_ms: HistogramSnapshot;
  readonly looking: number;
  readonly syncs: Readonly<Record<SyncMode, number>>;
  readonly sync_bytes: Readonly<Record<SyncMode, number>>;
  readonly proposals: number;
  readonly quorum_ack_ms: HistogramSnapshot;
  /** Followers in the order their first ACK arrived. */
  readonly ack_ms: readonly { readonly sid: number; readonly latency: HistogramSnapshot }[];
  readonly ack_untracked: number;
  readonly links_refused: number;
}

export function readZabMetrics(sab: SharedArrayBuffer): ZabTotals {
  const v = blockView(sab, SLOTS, 'zab');
  const per = (at: number): Record<SyncMode, number> =>
    Object.fromEntries(SYNC_MODES.map((m, i) => [m, v[at + i]])) as Record<SyncMode, number>;
  const ack_ms: { sid: number; latency: HistogramSnapshot }[] = [];
  for (let i = 0; i < ACK_PEERS_MAX; i++) {
    const at = ACK_PEERS + i * ACK_PEER_SLOTS;
    if (v[at] === 0) break; // slots are claimed in order
    ack_ms.push({ sid: v[at] - 1, latency: readHistogram(v, at + 1, ZAB_LATENCY_MS) });
  }
  return {
    election_ms: readHistogram(v, ELECTION, ELECTION_MS),
    unavailable_ms: readHistogram(v, UNAVAILABLE, ELECTION_MS),
    looking: v[LOOKING],
    syncs: per(SYNC_COUNT),
    sync_bytes: per(SYNC_BYTES),
    proposals: v[PROPOSALS],
    quorum_ack_ms: readHistogram(v, QUORUM_ACK, ZAB_LATENCY_MS),
    ack_ms,
    ack_untracked: v[ACK_UNTRACKED],
    links_refused: v[LINKS_REFUSED],
  };
}
