// Ephemeral nodes and session ends: a worker opens a session, creates a few ephemeral nodes,
// reads other sessions' nodes after a sync, and ends its session either by closing it or by
// letting it expire (its connection goes through a proxy that is cut for longer than the session
// timeout). Each node is a register (create, sync reads, and "end": gone with its session).
//
// When is an end known? A close answered quickly with no fault around it (ok over the close); an
// expiry the server itself reported after the cut (ok over [cut, report]); anything else is
// unknown (the session may linger until it expires).

import type { OpRecord } from '../checker/history.js';
import type { FaultProxy } from '../proxy.js';
import type { RecordedClient } from '../recorder.js';
import { pick, recordedCreate, recordedRead, type Workload, type WorkloadContext } from './common.js';

const WORKERS = 2;
const NODES_PER_SESSION_MAX = 2;
const READS_PER_SESSION = 4;
const THINK_MS_MAX = 10;
/** Paths other workers read from (the newest), and how many the final read covers. */
const RECENT_PATHS_MAX = 40;
const FINAL_PATHS_MAX = 300;
/** Requested timeout of sessions that are let expire (the server clamps it to its minimum). */
const EXPIRING_SESSION_MS = 2_000;
const CLOSE_SURE_MS = 500;
/** After the cut is healed: how long to wait for the server to report the expiry. */
const EXPIRY_REPORT_WAIT_MS = 5_000;

const all_paths = new WeakMap<WorkloadContext, string[]>();

function paths(ctx: WorkloadContext): string[] {
  let p = all_paths.get(ctx);
  if (p === undefined) all_paths.set(ctx, (p = []));
  return p;
}

function recordEnd(ctx: WorkloadContext, c: RecordedClient, own: readonly string[], invoke_ms: number, ok: boolean): void {
  for (const path of own) {
    const op: OpRecord = {
      type: 'op',
      id: ctx.rec.nextOpId(),
      session: c.session,
      process: c.process,
      model: 'register',
      key: path,
      f: 'end',
      input: {},
      outcome: ok ? 'ok' : 'unknown',
      output: ok ? {} : null,
      error: ok ? null : 'UNKNOWN',
      invoke_ms,
      complete_ms: ok ? ctx.rec.now() : null,
      sync_ms: null,
      zxid: null,
      invoke_seq: ctx.rec.nextSeq(),
      reply_seq: null,
    };
    ctx.rec.addOp(op);
  }
}

async function closeSession(ctx: WorkloadContext, c: RecordedClient, own: readonly string[]): Promise<void> {
  const invoke_ms = ctx.rec.now();
  const was_connected = c.client.state === 'connected';
  await c.close();
  const sure = was_connected && ctx.rec.now() - invoke_ms < CLOSE_SURE_MS && !ctx.rec.faultDuring(invoke_ms, ctx.rec.now());
  recordEnd(ctx, c, own, invoke_ms, sure);
}

/** Cuts the session's proxy for longer than its timeout, heals it, waits for the server's verdict. */
async function expireSession(ctx: WorkloadContext, c: RecordedClient, proxy: FaultProxy, own: readonly string[]): Promise<void> {
  const invoke_ms = ctx.rec.now();
  const timeout_ms = c.client.negotiatedTimeout_ms;
  proxy.partition();
  await ctx.pause(timeout_ms * 1.5 + 1_000);
  proxy.heal();
  const state = await c.client.waitForState(['expired', 'connected'], { timeout_ms: EXPIRY_REPORT_WAIT_MS }).catch(() => c.client.state);
  // Let a session that survived (or whose state is unclear) end by closing: its end is unknown.
  recordEnd(ctx, c, own, invoke_ms, state === 'expired');
  await c.close();
}

async function oneSession(ctx: WorkloadContext, name: string, rng: () => number, n: { v: number }): Promise<void> {
  const expire = rng() < 0.3 ? await ctx.proxy() : null;
  const c = await ctx.connect(name, expire === null ? {} : { connect_string: expire.connect_string, session_timeout_ms: EXPIRING_SESSION_MS, expire_when_unreachable: false });
  if (c === null) return void (await expire?.close());
  const own: string[] = [];
  try {
    const count = 1 + Math.floor(rng() * NODES_PER_SESSION_MAX);
    for (let i = 0; i < count && !ctx.stopping(); i++) {
      const path = `${ctx.root}/eph/${name}-${++n.v}`;
      own.push(path);
      paths(ctx).push(path);
      await recordedCreate(c, 'register', path, path, path, true);
    }
    for (let i = 0; i < READS_PER_SESSION && !ctx.stopping(); i++) {
      const recent = paths(ctx).slice(-RECENT_PATHS_MAX);
      const path = pick(rng, recent);
      await recordedRead(c, { model: 'register', key: path, path, synced: true });
      await ctx.pause(rng() * THINK_MS_MAX);
    }
  } finally {
    if (expire !== null && !ctx.stopping()) await expireSession(ctx, c, expire, own);
    else await closeSession(ctx, c, own);
    await expire?.close();
  }
}

export const ephemeralWorkload: Workload = {
  name: 'ephemeral',
  workers: WORKERS,
  async setup(ctx, admin) {
    await admin.client.mkdirp(`${ctx.root}/eph`);
  },
  async run(ctx, index) {
    const name = `eph-${index}`;
    const rng = ctx.rng(name);
    const n = { v: 0 };
    while (!ctx.stopping()) await oneSession(ctx, name, rng, n);
  },
  async final(ctx, reader) {
    for (const path of paths(ctx).slice(-FINAL_PATHS_MAX)) await recordedRead(reader, { model: 'register', key: path, path, synced: true });
  },
};
