// A queue of sequential znodes under one directory: enqueue = create sequential (the name carries
// a unique id and the server appends the sequence number), dequeue = delete of a child seen in a
// listing, list = getChildren after a sync. The state is the set of items present plus the
// highest sequence number taken: sequence numbers must grow in the order the creates took effect
// (ZooKeeper takes them from the parent's cversion, which only grows).
//
// Ops: enqueue {uid}        -> ok {seq}
//      dequeue {uid, seq}   -> ok {} | fail NONODE (someone else took it)
//      list    {}           -> ok {items: [{uid, seq}]}
// An enqueue whose outcome is unknown has no seq; if its item shows up in any listing, that seq
// is known and used (so its effect must fit the sequence order too).

import type { Json, JsonObject, OpRecord } from '../history.js';
import type { Model } from '../model.js';
import { numField, strField } from './register.js';

export interface QueueState {
  /** uids present, sorted. */
  readonly present: readonly string[];
  readonly max_seq: number;
}

export interface QueueItem {
  readonly uid: string;
  readonly seq: number;
}

/** The items of a list op's output (null when malformed). */
export function listedItems(op: OpRecord): QueueItem[] | null {
  const raw = op.output?.['items'];
  if (!Array.isArray(raw)) return null;
  const out: QueueItem[] = [];
  for (const r of raw as Json[]) {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return null;
    const uid = strField(r as JsonObject, 'uid');
    const seq = numField(r as JsonObject, 'seq');
    if (uid === null || seq === null) return null;
    out.push({ uid, seq });
  }
  return out;
}

/** uid -> seq from every place the partition reveals it (listings, dequeues, ok enqueues). */
function knownSeqs(ops: readonly OpRecord[]): Map<string, number> {
  const seqs = new Map<string, number>();
  for (const op of ops) {
    if (op.f === 'list' && op.outcome === 'ok') for (const it of listedItems(op) ?? []) seqs.set(it.uid, it.seq);
    const uid = strField(op.input, 'uid');
    const seq = op.f === 'enqueue' ? numField(op.output, 'seq') : numField(op.input, 'seq');
    if (uid !== null && seq !== null) seqs.set(uid, seq);
  }
  return seqs;
}

function insertSorted(list: readonly string[], uid: string): string[] {
  const out = [...list, uid];
  out.sort();
  return out;
}

function stepEnqueue(s: QueueState, op: OpRecord, seqs: ReadonlyMap<string, number>): QueueState | null {
  const uid = strField(op.input, 'uid');
  if (uid === null || s.present.includes(uid)) return null;
  // The server refused the create: nothing happened (no state makes a create of a fresh uid fail).
  if (op.outcome === 'fail') return s;
  const seq = op.outcome === 'ok' ? numField(op.output, 'seq') : (seqs.get(uid) ?? null);
  // An unknown create never seen again: its number is unknown, so it cannot be checked.
  if (seq === null) return op.outcome === 'ok' ? null : { present: insertSorted(s.present, uid), max_seq: s.max_seq };
  // Sequence numbers grow in the order creates take effect.
  if (seq <= s.max_seq) return null;
  return { present: insertSorted(s.present, uid), max_seq: seq };
}

function stepDequeue(s: QueueState, op: OpRecord): QueueState | null {
  const uid = strField(op.input, 'uid');
  if (uid === null) return null;
  const here = s.present.includes(uid);
  const removed = (): QueueState => ({ present: s.present.filter((u) => u !== uid), max_seq: s.max_seq });
  if (op.outcome === 'unknown') return here ? removed() : s;
  if (op.outcome === 'ok') return here ? removed() : null;
  if (op.error === 'NONODE') return here ? null : s;
  return s;
}

function stepList(s: QueueState, op: OpRecord): QueueState | null {
  if (op.outcome !== 'ok') return s;
  const items = listedItems(op);
  if (items === null || items.length !== s.present.length) return null;
  const uids = items.map((i) => i.uid).sort();
  return uids.every((u, i) => u === s.present[i]) ? s : null;
}

export function queueModel(ops: readonly OpRecord[]): Model<QueueState> {
  const seqs = knownSeqs(ops);
  return {
    name: 'queue',
    init: () => ({ present: [], max_seq: -1 }),
    step(s, op) {
      if (op.f === 'enqueue') return stepEnqueue(s, op, seqs);
      if (op.f === 'dequeue') return stepDequeue(s, op);
      if (op.f === 'list') return stepList(s, op);
      return null;
    },
    hash: (s) => `${s.max_seq}|${s.present.join(',')}`,
    // Its seq is unknown, so it never constrains the sequence order either.
    negligible: (op) => op.f === 'enqueue' && op.outcome === 'unknown' && !seqs.has(strField(op.input, 'uid') ?? ''),
    describe: (s) => `${s.present.length} items [${s.present.slice(0, 8).join(', ')}${s.present.length > 8 ? ', ...' : ''}], highest seq ${s.max_seq}`,
  };
}
