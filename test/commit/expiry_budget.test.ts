// Session expiry makes txns (closeSession) without a client request, and under Zab a leader's
// txns must fit the room its pipeline has (its proposals in flight are bounded, and its Zab core
// refuses a numbered txn past its queue: quorum_setup.ts, pending_max). tick() takes that room:
// sessions due past it expire a little later, none is lost. Found by the session simulator (seed
// 200258: a leader paused for a second expired six sessions at once with its window full).

import { describe, expect, it } from 'vitest';
import { CommitCore, EXPIRY_DEFERRAL_MS_MAX } from '../../src/commit/commit_core.js';
import { DataTree } from '../../src/tree/data_tree.js';
import { workingTreeOf } from '../support/read_trees.js';

const options = { server_id: 1, tick_ms: 100, ttl_enabled: false, secret: new Uint8Array(32), reap_interval_ms: 1000, reap_per_check_max: 10 };
const passwd = new Uint8Array(16).fill(3);
const IDS = [71n, 72n, 73n, 74n, 75n];

/** A core that creates txns, recovered with five sessions of 1,000 ms. */
function coreWithSessions(now_ms: () => number): CommitCore {
  const tree = new DataTree();
  let zxid = 0;
  for (const id of IDS) tree.apply({ header: { session_id: id, cxid: 1, zxid: ++zxid, time_ms: 1 }, op: { kind: 'createSession', timeout_ms: 1000, passwd } });
  const core = new CommitCore(options, { now_ms }, { view: workingTreeOf(tree), sessions: new Map(IDS.map((id) => [id, { timeout_ms: 1000, passwd }])) });
  core.beginEpoch(1);
  return core;
}

/** The sessions whose closeSession the core published since the last call. */
function closed(core: CommitCore): bigint[] {
  return core.take().flatMap((p) => (p.kind === 'txn' && p.txn.op.kind === 'closeSession' ? [p.txn.header.session_id] : []));
}

describe('session expiry within the pipeline room (CommitCore.tick txns_max)', () => {
  it('expires at most txns_max sessions per tick; the rest a little later, every one of them once', () => {
    let now = 10_000;
    const core = coreWithSessions(() => now);
    now += 5_000; // every session is due
    core.tick(false, 2);
    const first = closed(core);
    expect(first).toHaveLength(2);
    expect(core.expiry_backlog).toBe(0); // no input waits: nothing to keep room from
    // The rest are looked at again soon (not a whole tick later, not at once: no spin).
    expect(core.next_tick_ms()).toBeGreaterThan(now);
    expect(core.next_tick_ms()).toBeLessThanOrEqual(now + options.tick_ms);
    now = core.next_tick_ms();
    core.tick(false, 0); // no room at all: nothing now
    expect(closed(core)).toEqual([]);
    now = core.next_tick_ms();
    core.tick(false, 2);
    const second = closed(core);
    now = core.next_tick_ms();
    core.tick(false, 10);
    const third = closed(core);
    expect([second.length, third.length]).toEqual([2, 1]);
    expect([...first, ...second, ...third].sort()).toEqual(IDS);
    now += 10_000;
    core.tick(false, 10);
    expect(closed(core)).toEqual([]); // each expired once
  });

  it('under a sustained overload (input unread past the deferral bound) the driver is asked to keep room for them', () => {
    let now = 10_000;
    const core = coreWithSessions(() => now);
    now += 5_000; // every session is due, and input waits unread: expiry is deferred
    core.tick(true, 0);
    expect(closed(core)).toEqual([]);
    expect(core.expiry_backlog).toBe(0);
    while (now < 15_000 + EXPIRY_DEFERRAL_MS_MAX) {
      now = Math.max(now + 1, core.next_tick_ms());
      core.tick(true, 0);
    }
    // Past the bound expiry is due at once, but the room is all taken by client writes.
    expect(closed(core)).toEqual([]);
    expect(core.expiry_backlog).toBe(IDS.length);
    now = core.next_tick_ms();
    core.tick(true, 2);
    expect(closed(core)).toHaveLength(2);
    expect(core.expiry_backlog).toBe(IDS.length - 2);
  });

  it('without a bound every due session expires in one tick, as before', () => {
    let now = 10_000;
    const core = coreWithSessions(() => now);
    now += 5_000;
    core.tick();
    expect(closed(core).sort()).toEqual(IDS);
  });
});
