// What ZooKeeper promises beyond linearizable writes, checked from zxids rather than by search
// (reads are not linearizable by design: a server answers from its own, possibly older, state):
//
// - zxid-monotone: a session's replies, in the order they arrived, carry non-decreasing zxids;
// - fifo: a session's replies arrive in the order its requests were sent;
// - read-stale: a read reflects every write the session had already seen (zxid <= the largest zxid
//   of its earlier replies), and every write up to the zxid its own reply claims;
// - read-future: a read returns no node modified after the zxid its reply claims;
// - read-unwritten / read-mismatch: the data read was written by some op, with that op's version;
// - watch-order: a watch event arrives before any reply of the session with a zxid >= the event's;
// - write-order: writes get zxids in real-time order (one completed before another was sent has
//   the smaller zxid), and no two writes share a zxid.
//
// Each check is O(n log n). Only ops whose reply was seen (zxid known) take part where a zxid is
// needed; zxids <= 0 (auth replies, watch events re-sent by setWatches) are ignored.

import type { EventRecord, ModelName, OpRecord } from './history.js';
import type { OpSemantics } from './model.js';

export interface Violation {
  readonly check: string;
  readonly message: string;
  /** Ids of the ops involved. */
  readonly ops: readonly number[];
  /** seq of the watch events involved. */
  readonly events?: readonly number[];
}

export type SemanticsOf = (model: ModelName) => OpSemantics;

/** Collects violations of one check, keeping the first `max` but counting all. */
export class ViolationSink {
  readonly kept: Violation[] = [];
  count = 0;
  constructor(private readonly max: number) {}
  add(v: Violation): void {
    this.count++;
    if (this.kept.length < this.max) this.kept.push(v);
  }
}

function bySession<T extends { session: number }>(items: readonly T[]): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const it of items) {
    const list = out.get(it.session);
    if (list === undefined) out.set(it.session, [it]);
    else list.push(it);
  }
  return out;
}

type Replied = OpRecord & { readonly reply_seq: number; readonly zxid: number };

function replied(op: OpRecord): op is Replied {
  return op.reply_seq !== null && op.zxid !== null && op.zxid > 0;
}

/** A session's replies in arrival order with the running maximum of their zxids. */
class ReplyStream {
  readonly replies: Replied[];
  /** For each prefix of `replies`: the reply with the largest zxid (first of equals). */
  private readonly max_at: Replied[];

  constructor(ops: readonly OpRecord[]) {
    this.replies = ops.filter(replied).sort((a, b) => a.reply_seq - b.reply_seq);
    let best: Replied | null = null;
    this.max_at = this.replies.map((r) => (best = best === null || r.zxid > best.zxid ? r : best));
  }

  /** Largest zxid among replies that arrived before `seq` (0 if none), and which op had it. */
  maxBefore(seq: number): { zxid: number; op: number | null } {
    let lo = 0;
    let hi = this.replies.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.replies[mid]!.reply_seq < seq) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return { zxid: 0, op: null };
    const best = this.max_at[lo - 1]!;
    return { zxid: best.zxid, op: best.id };
  }
}

export function checkZxidMonotone(ops: readonly OpRecord[], sink: ViolationSink): void {
  for (const [session, list] of bySession(ops)) {
    const stream = new ReplyStream(list);
    for (let i = 1; i < stream.replies.length; i++) {
      const a = stream.replies[i - 1]!;
      const b = stream.replies[i]!;
      if (b.zxid < a.zxid) {
        sink.add({ check: 'zxid-monotone', ops: [a.id, b.id], message: `session ${session}: reply to op ${b.id} has zxid 0x${b.zxid.toString(16)} after op ${a.id}'s 0x${a.zxid.toString(16)}` });
      }
    }
  }
}

export function checkFifo(ops: readonly OpRecord[], sink: ViolationSink): void {
  for (const [session, list] of bySession(ops)) {
    const sent = list.filter((o) => o.reply_seq !== null).sort((a, b) => a.invoke_seq - b.invoke_seq);
    for (let i = 1; i < sent.length; i++) {
      const a = sent[i - 1]!;
      const b = sent[i]!;
      if (b.reply_seq! < a.reply_seq!) {
        sink.add({ check: 'fifo', ops: [a.id, b.id], message: `session ${session}: op ${b.id} was answered before op ${a.id}, which was sent first` });
      }
    }
  }
}

interface KnownWrite {
  readonly op: number;
  readonly zxid: number;
  readonly value: string | null;
  readonly version: number | null;
}

/** Per path: ok writes with a known zxid, sorted by zxid. */
function knownWrites(ops: readonly OpRecord[], sem: SemanticsOf): Map<string, KnownWrite[]> {
  const out = new Map<string, KnownWrite[]>();
  for (const op of ops) {
    if (op.outcome !== 'ok' || op.zxid === null || op.zxid <= 0) continue;
    for (const e of sem(op.model).writeEffects(op)) {
      const list = out.get(e.path) ?? [];
      list.push({ op: op.id, zxid: op.zxid, value: e.value, version: e.version });
      out.set(e.path, list);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.zxid - b.zxid);
  return out;
}

/** The last write in `list` (sorted by zxid) with zxid <= bound. */
function lastUpTo(list: readonly KnownWrite[] | undefined, bound: number): KnownWrite | null {
  if (list === undefined) return null;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.zxid <= bound) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? null : list[lo - 1]!;
}

interface ReadContext {
  readonly writes: Map<string, KnownWrite[]>;
  /** path -> value -> ids of ops that may have written it. */
  readonly sources: Map<string, Map<string, number[]>>;
  /** Paths some op with an unknown outcome may have deleted. */
  readonly maybe_deleted: Set<string>;
  readonly by_id: Map<number, OpRecord>;
}

function readContext(ops: readonly OpRecord[], sem: SemanticsOf): ReadContext {
  const sources = new Map<string, Map<string, number[]>>();
  const maybe_deleted = new Set<string>();
  for (const op of ops) {
    const s = sem(op.model);
    for (const w of s.valuesWritten(op)) {
      const per = sources.get(w.path) ?? new Map<string, number[]>();
      per.set(w.value, [...(per.get(w.value) ?? []), op.id]);
      sources.set(w.path, per);
    }
    for (const p of s.mayDelete(op)) maybe_deleted.add(p);
  }
  return { writes: knownWrites(ops, sem), sources, maybe_deleted, by_id: new Map(ops.map((o) => [o.id, o])) };
}

/** The data read must have been written by someone, and an ok writer's stat must match. */
function checkReadSource(r: OpRecord, view: NonNullable<ReturnType<OpSemantics['readView']>>, ctx: ReadContext, sink: ViolationSink): void {
  if (!view.exists || view.value === null) return;
  const writers = ctx.sources.get(view.path)?.get(view.value);
  if (writers === undefined) {
    sink.add({ check: 'read-unwritten', ops: [r.id], message: `op ${r.id} read ${JSON.stringify(view.value)} from ${view.path}, which no op wrote` });
    return;
  }
  const known = ctx.writes.get(view.path)?.find((w) => w.value === view.value);
  if (known === undefined || view.mzxid === null) return;
  const version_ok = known.version === null || view.version === null || known.version === view.version;
  if (known.zxid !== view.mzxid || !version_ok) {
    sink.add({
      check: 'read-mismatch',
      ops: [known.op, r.id],
      message: `op ${r.id} read ${JSON.stringify(view.value)} with mzxid 0x${view.mzxid.toString(16)} version ${view.version}, but op ${known.op} wrote it at 0x${known.zxid.toString(16)} version ${known.version}`,
    });
  }
}

/** Not older than what the session saw before, nor than the zxid the reply claims; not newer either. */
function checkReadFreshness(r: OpRecord, view: NonNullable<ReturnType<OpSemantics['readView']>>, seen: { zxid: number; op: number | null }, ctx: ReadContext, sink: ViolationSink): void {
  const claimed = r.zxid !== null && r.zxid > 0 ? r.zxid : 0;
  if (view.mzxid !== null && claimed > 0 && view.mzxid > claimed) {
    sink.add({ check: 'read-future', ops: [r.id], message: `op ${r.id} read ${view.path} modified at 0x${view.mzxid.toString(16)} in a reply claiming zxid 0x${claimed.toString(16)}` });
  }
  const bound = Math.max(seen.zxid, claimed);
  const latest = lastUpTo(ctx.writes.get(view.path), bound);
  if (latest === null) return;
  const stale = view.exists
    ? view.mzxid !== null && view.mzxid < latest.zxid
    : latest.value !== null && !ctx.maybe_deleted.has(view.path);
  if (!stale) return;
  const why = seen.zxid >= latest.zxid && seen.op !== null ? `the session had already seen zxid 0x${seen.zxid.toString(16)} (op ${seen.op})` : `its reply claims zxid 0x${claimed.toString(16)}`;
  const saw = view.exists ? `data of 0x${(view.mzxid ?? 0).toString(16)}` : 'no node';
  const ops = [latest.op, r.id, ...(seen.op !== null && seen.op !== latest.op ? [seen.op] : [])];
  sink.add({ check: 'read-stale', ops, message: `op ${r.id} read ${saw} at ${view.path}, missing op ${latest.op}'s write at 0x${latest.zxid.toString(16)}, although ${why}` });
}

export function checkReads(ops: readonly OpRecord[], sem: SemanticsOf, sink: ViolationSink): void {
  const ctx = readContext(ops, sem);
  for (const [, list] of bySession(ops)) {
    const stream = new ReplyStream(list);
    for (const r of list) {
      const view = sem(r.model).readView(r);
      if (view === null) continue;
      checkReadSource(r, view, ctx, sink);
      checkReadFreshness(r, view, stream.maxBefore(r.invoke_seq), ctx, sink);
    }
  }
}

export function checkWatchOrder(ops: readonly OpRecord[], events: readonly EventRecord[], sink: ViolationSink): void {
  const streams = new Map([...bySession(ops)].map(([s, list]) => [s, new ReplyStream(list)]));
  for (const e of events) {
    if (e.zxid <= 0) continue;
    const before = streams.get(e.session)?.maxBefore(e.seq);
    if (before === undefined || before.zxid < e.zxid || before.op === null) continue;
    sink.add({
      check: 'watch-order',
      ops: [before.op],
      events: [e.seq],
      message: `session ${e.session}: ${e.event} for ${e.path} (zxid 0x${e.zxid.toString(16)}) arrived after the reply to op ${before.op} with zxid 0x${before.zxid.toString(16)}`,
    });
  }
}

/** Ok writes with a zxid; ops of the lock model are recipes of several requests: left out. */
function zxidWrites(ops: readonly OpRecord[], sem: SemanticsOf): Replied[] {
  return ops.filter((o): o is Replied => o.outcome === 'ok' && o.model !== 'lock' && o.f !== 'end' && !sem(o.model).isRead(o) && o.zxid !== null && o.zxid > 0 && o.complete_ms !== null);
}

export function checkWriteOrder(ops: readonly OpRecord[], sem: SemanticsOf, sink: ViolationSink): void {
  const writes = zxidWrites(ops, sem).sort((a, b) => a.zxid - b.zxid);
  for (let i = 1; i < writes.length; i++) {
    const a = writes[i - 1]!;
    const b = writes[i]!;
    if (a.zxid === b.zxid) sink.add({ check: 'write-order', ops: [a.id, b.id], message: `ops ${a.id} and ${b.id} both got zxid 0x${a.zxid.toString(16)}` });
  }
  // Sweep from the highest zxid down, keeping the earliest completion among higher zxids.
  let earliest: Replied | null = null;
  for (let i = writes.length - 1; i >= 0; i--) {
    const w = writes[i]!;
    if (earliest !== null && earliest.complete_ms! < w.invoke_ms && earliest.zxid > w.zxid) {
      sink.add({
        check: 'write-order',
        ops: [earliest.id, w.id],
        message: `op ${w.id} was sent after op ${earliest.id} completed, yet got the smaller zxid (0x${w.zxid.toString(16)} < 0x${earliest.zxid.toString(16)})`,
      });
    }
    if (earliest === null || w.complete_ms! < earliest.complete_ms!) earliest = w;
  }
}
