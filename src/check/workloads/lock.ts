// The lock recipe (src/recipes/lock.ts) with fencing tokens: workers acquire, hold briefly and
// release. Recorded per lock: acquire (ok with the token = the lock node's czxid, else unknown),
// release (the holder deletes its node; NONODE = it had already lost it), and end (the worker's
// session ended: its lock node, if any, went with it).
//
// The recipe itself retries its internal steps (protected creates make that safe); only the
// outcome of the whole acquire is recorded. After any acquire or release whose outcome is not
// known, the worker deletes the lock nodes its session still owns (getEphemerals); if it cannot,
// it ends its session (then the server removes them) and starts a new one.

import { isZooKeeperError } from '../../client/index.js';
import { Lock, type LockLease } from '../../recipes/lock.js';
import type { OpRecord } from '../checker/history.js';
import type { RecordedClient } from '../recorder.js';
import { sessionGone, type Workload, type WorkloadContext } from './common.js';

const WORKERS = 3;
const HOLD_MS_MAX = 15;
const THINK_MS_MAX = 10;
/** An acquire waits at most this long, then counts as unknown (its node may remain). */
const ACQUIRE_TIMEOUT_MS = 4_000;
/** A close answered within this long, with no fault around it, certainly reached the server. */
const CLOSE_SURE_MS = 500;

function lockPath(ctx: WorkloadContext): string {
  return `${ctx.root}/lock`;
}

/** A worker's session and the latest moment its session certainly had not ended yet. */
interface Holder {
  readonly c: RecordedClient;
  /** Invocation of its latest acquire: a lock node of this session exists only after it. */
  alive_ms: number;
}

function record(ctx: WorkloadContext, c: RecordedClient, f: string, invoke_ms: number, invoke_seq: number, outcome: 'ok' | 'unknown', output: OpRecord['output']): void {
  const known = outcome === 'ok';
  ctx.rec.addOp({
    type: 'op',
    id: ctx.rec.nextOpId(),
    session: c.session,
    process: c.process,
    model: 'lock',
    key: lockPath(ctx),
    f,
    input: { owner: c.session },
    outcome,
    output: known ? output : null,
    error: known ? null : 'UNKNOWN',
    invoke_ms,
    complete_ms: known ? ctx.rec.now() : null,
    sync_ms: null,
    zxid: null,
    invoke_seq,
    reply_seq: null,
  });
}

async function acquire(ctx: WorkloadContext, h: Holder): Promise<LockLease | null> {
  const invoke_ms = ctx.rec.now();
  const invoke_seq = ctx.rec.nextSeq();
  h.alive_ms = invoke_ms;
  try {
    const lease = await new Lock(h.c.client, lockPath(ctx)).acquire({ timeout_ms: ACQUIRE_TIMEOUT_MS });
    record(ctx, h.c, 'acquire', invoke_ms, invoke_seq, 'ok', { token: lease.fencingToken });
    return lease;
  } catch {
    record(ctx, h.c, 'acquire', invoke_ms, invoke_seq, 'unknown', null);
    return null;
  }
}

/** Deletes the holder's node, without retries. True when the outcome is known. */
async function release(ctx: WorkloadContext, c: RecordedClient, lease: LockLease): Promise<boolean> {
  const r = await c.run({ model: 'lock', key: lockPath(ctx), f: 'release', input: { owner: c.session } }, (opts) => c.client.delete(lease.path, 0, opts), () => ({}));
  return r.op.outcome !== 'unknown';
}

/**
 * Ends the session. An expired session ended somewhere after its latest acquire was sent and
 * before we learnt it: ok over that window. A close is ok only if answered quickly with no fault
 * around it (the server then removed the session's nodes); else unknown (it lingers until expiry).
 */
async function endSession(ctx: WorkloadContext, h: Holder): Promise<void> {
  const invoke_seq = ctx.rec.nextSeq();
  if (h.c.client.state === 'expired') {
    await h.c.close();
    return record(ctx, h.c, 'end', h.alive_ms, invoke_seq, 'ok', {});
  }
  const invoke_ms = ctx.rec.now();
  const was_connected = h.c.client.state === 'connected';
  await h.c.close();
  const sure = was_connected && ctx.rec.now() - invoke_ms < CLOSE_SURE_MS && !ctx.rec.faultDuring(invoke_ms, ctx.rec.now());
  record(ctx, h.c, 'end', invoke_ms, invoke_seq, sure ? 'ok' : 'unknown', {});
}

/**
 * After an acquire or release whose outcome is unknown, on a live session: deletes whatever lock
 * node this session still owns (getEphemerals). Recorded as an end of the session's claim (ok:
 * afterwards it certainly holds nothing). False when that did not work out either.
 */
async function abandon(ctx: WorkloadContext, h: Holder): Promise<boolean> {
  const invoke_ms = ctx.rec.now();
  const invoke_seq = ctx.rec.nextSeq();
  try {
    const mine = await h.c.client.getEphemerals(`${lockPath(ctx)}/`);
    for (const path of mine) {
      await h.c.client.delete(path, -1).catch((e: unknown) => {
        if (!isZooKeeperError(e, 'NONODE')) throw e;
      });
    }
  } catch {
    return false;
  }
  record(ctx, h.c, 'end', invoke_ms, invoke_seq, 'ok', {});
  return true;
}

/** One acquire-hold-release round; false when the session must be replaced. */
async function round(ctx: WorkloadContext, h: Holder, rng: () => number): Promise<boolean> {
  const lease = await acquire(ctx, h);
  if (lease === null) return false;
  await ctx.pause(rng() * HOLD_MS_MAX);
  return release(ctx, h.c, lease);
}

export const lockWorkload: Workload = {
  name: 'lock',
  workers: WORKERS,
  async setup(ctx, admin) {
    await admin.client.mkdirp(lockPath(ctx));
  },
  async run(ctx, index) {
    const name = `lock-${index}`;
    const rng = ctx.rng(name);
    // Only a server may declare these sessions expired: an "end" is then a fact, not a guess.
    const sessions = { expire_when_unreachable: false };
    const first = await ctx.connect(name, sessions);
    let h: Holder | null = first === null ? null : { c: first, alive_ms: ctx.rec.now() };
    while (h !== null && !ctx.stopping()) {
      const fine = (await round(ctx, h, rng)) || (!sessionGone(h.c) && (await abandon(ctx, h)));
      await ctx.pause(rng() * THINK_MS_MAX);
      if (!fine || sessionGone(h.c)) {
        await endSession(ctx, h);
        const c = await ctx.connect(name, sessions);
        h = c === null ? null : { c, alive_ms: ctx.rec.now() };
      }
    }
    if (h !== null) await endSession(ctx, h);
  },
  async final() {
    // Nothing to read: every worker ended its session.
  },
};
