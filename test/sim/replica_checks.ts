// The replica simulator's end-of-run checks, over every client's message log, the durable txn
// log and the final shared tree, against the reference model (replica_model.ts):
// - the durable txns, replayed in zxid order, are exactly the writes clients saw acknowledged,
//   the expired sessions' closeSessions, error txns (their replies may be lost with a closed
//   connection), and writes whose connection closed before the reply; each acknowledged write
//   gets the reply the model says (error code, created path, stat, multi results); two replies
//   never carry the same txn zxid; an expired session's closeSession deletes exactly the
//   ephemerals the model says it owned;
// - every read shows exactly the model's state at the reply's zxid: with the zxid checks made
//   as replies arrive (a session's replies never go back), this is read-your-writes;
// - watch-before-data: once a watch is set (a read's reply at zxid R), the txn F > R that
//   fires it must reach the session as an event (zxid F, the model's event type) before any
//   reply at a zxid >= F, and before any event of a later txn; no event comes without a watch
//   (an expiry's NodeDeleted included; watches do not outlive their connection);
// - the shared tree every shard ends on equals the model (paths, data, stats but times).

import { EventType } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import type { MultiResult, Stat } from '../../src/protocol/types.js';
import type { ShardTree } from '../../src/workers/shard/shard_tree.js';
import { describeSent, eventName, type Received, type Sent, type SimClient } from './replica_client.js';
import type { LoggedTxn } from './replica_log.js';
import { ReplicaModel, sameData, sameStat, statOf, type RefNode, type RefResult } from './replica_model.js';

export interface CheckContext {
  readonly clients: readonly SimClient[];
  readonly initial: ReadonlyMap<string, RefNode>;
  /** Every shard's tree, each pinned at the last root it processed. */
  readonly trees: readonly ShardTree[];
  /** zxid of the newest root the commit worker published. */
  readonly last_zxid: number;
  /** Every durable txn, zxid order. */
  readonly log: readonly LoggedTxn[];
  /** The run's last step (for failures found in the final state). */
  readonly end_step: number;
  fail(step: number, message: string): never;
}

type Reply = Extract<Received, { kind: 'reply' }>;

interface Tagged {
  readonly client: SimClient;
  readonly r: Reply;
}

/** Which watch table a read registers in, and the event types that fire it (watch_table.ts). */
const DATA_FIRES: ReadonlySet<number> = new Set([EventType.NodeCreated, EventType.NodeDataChanged, EventType.NodeDeleted]);
const CHILD_FIRES: ReadonlySet<number> = new Set([EventType.NodeDeleted, EventType.NodeChildrenChanged]);

const show = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? [...x] : x));

export function finalChecks(ctx: CheckContext): ReplicaModel {
  const acked = new Map<number, Tagged>();
  const reads: Tagged[] = [];
  for (const client of ctx.clients) {
    for (const r of client.log) {
      if (r.kind !== 'reply') continue;
      if (r.sent.kind === 'write' && r.err !== Err.NOTREADONLY) {
        const twin = acked.get(r.zxid);
        if (twin !== undefined) ctx.fail(r.step, `two writes acknowledged with zxid ${r.zxid}: ${describeSent(twin.r.sent)} and ${describeSent(r.sent)}`);
        acked.set(r.zxid, { client, r });
      }
      if (r.sent.kind === 'read') reads.push({ client, r });
    }
  }
  const logged = new Set(ctx.log.map((x) => x.zxid));
  for (const [zxid, t] of acked) {
    if (!logged.has(zxid)) ctx.fail(t.r.step, `${t.client.name}: ${describeSent(t.r.sent)} acknowledged at zxid ${zxid}, which is not in the durable log`);
  }
  // Stable: reads at one zxid keep their arrival order.
  reads.sort((a, b) => a.r.zxid - b.r.zxid);
  const model = new ReplicaModel(ctx.initial);
  let w = 0;
  for (const read of reads) {
    while (w < ctx.log.length && ctx.log[w]!.zxid <= read.r.zxid) replayTxn(ctx, model, acked, ctx.log[w++]!);
    checkRead(ctx, model, read);
  }
  while (w < ctx.log.length) replayTxn(ctx, model, acked, ctx.log[w++]!);
  for (const client of ctx.clients) checkWatches(ctx, model, client);
  checkTree(ctx, model);
  return model;
}

/** One durable txn into the model: an acknowledged write (its reply checked), an expiry, a
 *  write whose reply was lost with its connection, or a txn with no effect. */
function replayTxn(ctx: CheckContext, model: ReplicaModel, acked: ReadonlyMap<number, Tagged>, txn: LoggedTxn): void {
  const sid = `session 0x${txn.session_id.toString(16)}`;
  const t = acked.get(txn.zxid);
  if (t !== undefined) {
    if (t.client.session_id !== txn.session_id || t.r.sent.xid !== txn.cxid) {
      ctx.fail(t.r.step, `${t.client.name}: ${describeSent(t.r.sent)} acknowledged at zxid ${txn.zxid}, but that txn is ${txn.kind} of ${sid} xid ${txn.cxid}`);
    }
    checkWrite(ctx, model, t);
    return;
  }
  if (txn.kind === 'createSession' || txn.kind === 'error') return;
  if (txn.kind === 'closeSession' && txn.cxid === 0) {
    // An expiry: nobody is answered; it deletes exactly the session's ephemerals, once.
    const want = model.ephemeralsOf(txn.session_id);
    if (want.join(' ') !== txn.paths.join(' ')) ctx.fail(ctx.end_step, `expiry of ${sid} at zxid ${txn.zxid} deletes ${show(txn.paths)}, the session owns ${show(want)}`);
    model.apply(txn.zxid, txn.session_id, { kind: 'closeSession' });
    return;
  }
  const lost = lostRequest(ctx.clients, txn);
  if (lost === null) ctx.fail(ctx.end_step, `${txn.kind} txn zxid ${txn.zxid} of ${sid} xid ${txn.cxid} was applied, but no client got or lost its reply`);
  model.apply(txn.zxid, txn.session_id, lost.write!);
}

/** The write a client sent and lost with its connection that made this txn, or null. */
function lostRequest(clients: readonly SimClient[], txn: LoggedTxn): Sent | null {
  for (const c of clients) {
    if (c.session_id !== txn.session_id) continue;
    for (const s of c.lost) if (s.kind === 'write' && s.xid === txn.cxid) return s;
  }
  return null;
}

function checkWrite(ctx: CheckContext, model: ReplicaModel, { client, r }: Tagged): void {
  const write = r.sent.write!;
  const expected = model.apply(r.zxid, client.session_id, write);
  const bad = (what: string): never => ctx.fail(r.step, `${client.name}: ${describeSent(r.sent)} at zxid ${r.zxid}: ${what}`);
  if (r.err !== expected.err) bad(`reply error ${r.err}, the model says ${expected.err}`);
  if (expected.err !== 0) return;
  if (write.kind === 'single') {
    const body = r.body as { path?: string; stat?: Stat } | null;
    if (r.sent.opcode === Op.create || r.sent.opcode === Op.create2) {
      if (body?.path !== expected.path) bad(`created ${body?.path}, the model says ${expected.path}`);
    }
    if (r.sent.opcode === Op.create2 || r.sent.opcode === Op.setData) {
      if (body?.stat === undefined || !sameStat(body.stat, expected.stat!)) bad(`stat ${show(body?.stat)}, the model says ${show(expected.stat)}`);
    }
    return;
  }
  if (write.kind === 'multi') checkMulti(r.body as MultiResult[], expected, bad);
}

function checkMulti(results: MultiResult[], expected: RefResult, bad: (what: string) => never): void {
  const want = expected.multi!;
  if (results.length !== want.length) bad(`${results.length} multi results, the model says ${want.length}`);
  const failed = want.some((x) => x.err !== 0);
  for (let i = 0; i < want.length; i++) {
    const got = results[i]!;
    const w = want[i]!;
    if (failed) {
      if (got.type !== -1 || got.response.err !== w.err) bad(`multi result ${i} ${show(got)}, the model says error ${w.err}`);
      continue;
    }
    if (got.type === -1) bad(`multi result ${i} is error ${got.response.err}, the model says success`);
    if (w.path !== undefined && got.type === 1 && got.response.path !== w.path) bad(`multi created ${got.response.path}, the model says ${w.path}`);
    if (w.stat !== undefined && got.type === 5 && !sameStat(got.response.stat, w.stat)) bad(`multi setData stat ${show(got.response.stat)}, the model says ${show(w.stat)}`);
  }
}

/** A read shows the model's state at its reply zxid: all of it, nothing of a later txn. */
function checkRead(ctx: CheckContext, model: ReplicaModel, { client, r }: Tagged): void {
  const path = r.sent.read!.path;
  const node = model.nodes.get(path);
  const bad = (what: string): never => ctx.fail(r.step, `${client.name}: ${describeSent(r.sent)} answered at zxid ${r.zxid}: ${what}`);
  if (node === undefined) {
    if (r.err !== Err.NONODE) bad(`error ${r.err} ${show(r.body)}, but at zxid ${r.zxid} the node does not exist`);
    return;
  }
  if (r.err !== 0) bad(`error ${r.err}, but at zxid ${r.zxid} the node exists`);
  if (r.sent.opcode === Op.getChildren) {
    const got = [...(r.body as { children: string[] }).children].sort();
    const want = [...node.children].sort();
    if (got.join('/') !== want.join('/')) bad(`children ${show(got)}, at zxid ${r.zxid} they are ${show(want)}`);
    return;
  }
  const body = r.body as { data?: Uint8Array | null; stat: Stat };
  if (!sameStat(body.stat, statOf(node))) bad(`stat ${show(body.stat)}, at zxid ${r.zxid} it is ${show(statOf(node))}`);
  if (r.sent.opcode === Op.getData && !sameData(body.data ?? null, node.data)) bad(`data ${show(body.data)}, at zxid ${r.zxid} it is ${show(node.data)}`);
}

interface Armed {
  readonly table: 'data' | 'child';
  readonly path: string;
  /** Registered by a read answered at this zxid. */
  readonly since: number;
  readonly step: number;
  /** The txn that fires it (the model's first matching event after `since`), or null. */
  readonly fire: { zxid: number; type: number } | null;
}

/** (c) watch-before-data, over one session's messages in arrival order. */
function checkWatches(ctx: CheckContext, model: ReplicaModel, client: SimClient): void {
  const armed = new Map<string, Armed>();
  const describe = (a: Armed): string => `${a.table} watch on ${a.path} (set at zxid ${a.since}, step ${a.step}) fires at zxid ${a.fire?.zxid} (${eventName(a.fire?.type ?? 0)})`;
  for (const m of client.log) {
    if (m.kind === 'connected') {
      // A new connection: the watches of the old one are gone (none are re-sent).
      armed.clear();
      continue;
    }
    if (m.kind === 'event') {
      for (const a of armed.values()) {
        if (a.fire !== null && a.fire.zxid < m.zxid) ctx.fail(m.step, `${client.name}: event of zxid ${m.zxid} arrived, but the ${describe(a)} never did`);
      }
      let matched = 0;
      for (const [key, a] of armed) {
        if (a.path !== m.path || !(a.table === 'data' ? DATA_FIRES : CHILD_FIRES).has(m.type)) continue;
        if (a.fire === null || a.fire.zxid !== m.zxid || a.fire.type !== m.type) {
          ctx.fail(m.step, `${client.name}: event ${eventName(m.type)} ${m.path} at zxid ${m.zxid}, but the ${describe(a)}`);
        }
        armed.delete(key);
        matched++;
      }
      if (matched === 0) ctx.fail(m.step, `${client.name}: event ${eventName(m.type)} ${m.path} at zxid ${m.zxid} without a watch`);
      continue;
    }
    for (const a of armed.values()) {
      if (a.fire !== null && a.fire.zxid <= m.zxid) {
        ctx.fail(m.step, `${client.name}: watch-before-data: ${describeSent(m.sent)} answered at zxid ${m.zxid} before the event: the ${describe(a)}`);
      }
    }
    const table = watchTable(m);
    if (table === null) continue;
    const path = m.sent.read!.path;
    const key = `${table}:${path}`;
    if (armed.has(key)) continue; // one watch per path and table: it fires at the first change
    armed.set(key, { table, path, since: m.zxid, step: m.step, fire: model.firstEvent(path, m.zxid, table === 'data' ? DATA_FIRES : CHILD_FIRES) });
  }
  if (client.state === 'closed') return;
  for (const a of armed.values()) {
    if (a.fire !== null) ctx.fail(ctx.end_step, `${client.name}: the run ended without the event: the ${describe(a)}`);
  }
}

/** The table a read's reply registered a watch in (read_ops.ts), or null. */
function watchTable(m: Reply): 'data' | 'child' | null {
  const read = m.sent.read;
  if (read === undefined || !read.watch || m.sent.kind !== 'read') return null;
  if (m.sent.opcode === Op.getData) return m.err === 0 ? 'data' : null;
  if (m.sent.opcode === Op.exists) return m.err === 0 || m.err === Err.NONODE ? 'data' : null;
  if (m.sent.opcode === Op.getChildren) return m.err === 0 ? 'child' : null;
  return null;
}

/** (f) every shard ends on the newest root, and that tree is the model's. */
function checkTree(ctx: CheckContext, model: ReplicaModel): void {
  for (const [i, t] of ctx.trees.entries()) {
    if (t.last_zxid !== ctx.last_zxid) ctx.fail(ctx.end_step, `shard ${i} ends on zxid ${t.last_zxid}, the newest root is ${ctx.last_zxid}`);
  }
  const tree = ctx.trees[0]!;
  const seen = new Set<string>();
  const walk = (path: string): void => {
    seen.add(path);
    const node = tree.node(path);
    const want = model.nodes.get(path);
    if (node === undefined || want === undefined) ctx.fail(ctx.end_step, `final tree: ${path} is ${node === undefined ? 'missing from the shared tree' : 'not in the model'}`);
    const stat = node.stat();
    const data = node.data();
    const children = node.children();
    if (!sameStat(stat, statOf(want))) ctx.fail(ctx.end_step, `final tree: ${path} stat ${show(stat)}, the model's ${show(statOf(want))}`);
    if (!sameData(data, want.data)) ctx.fail(ctx.end_step, `final tree: ${path} data ${show(data)}, the model's ${show(want.data)}`);
    for (const name of children) walk(path === '/' ? `/${name}` : `${path}/${name}`);
  };
  walk('/');
  for (const path of model.nodes.keys()) if (!seen.has(path)) ctx.fail(ctx.end_step, `final tree: ${path} is in the model only`);
}
