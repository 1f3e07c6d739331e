// The leader's DIFF / TRUNC / SNAP decision for one learner (sync_plan.ts), table-driven.

import { describe, expect, it } from 'vitest';
import { LogWindow } from '../../src/zab/log_window.js';
import { planSync } from '../../src/zab/sync_plan.js';
import { makeZxid as z, ZXID_ZERO, type Zxid } from '../../src/zab/zxid.js';

const txn = new Uint8Array(0);
const window = (base: Zxid, zxids: Zxid[], committed: Zxid = zxids.at(-1) ?? base): LogWindow =>
  new LogWindow(base, zxids.map((x) => ({ zxid: x, txn })), committed, 1000);

describe('planSync (the leader choosing how to sync a learner)', () => {
  // Leader window: base 1:3, then 1:4 1:5 (epoch 1), 3:1 3:2 (epoch 3). The leader never saw epoch 2.
  const w = window(z(1, 3), [z(1, 4), z(1, 5), z(3, 1), z(3, 2)]);

  it.each([
    ['in sync', z(3, 2), { kind: 'DIFF', point: z(3, 2) }],
    ['behind, inside the window', z(1, 5), { kind: 'DIFF', point: z(1, 5) }],
    ['behind, exactly at the window base', z(1, 3), { kind: 'DIFF', point: z(1, 3) }],
    ['an uncommitted epoch-1 suffix the leader never had', z(1, 9), { kind: 'TRUNC', point: z(1, 5) }],
    ['ahead in the leader\'s own last epoch', z(3, 7), { kind: 'TRUNC', point: z(3, 2) }],
    ['last txn of an epoch the leader never saw', z(2, 4), { kind: 'SNAP' }],
    ['older than the window', z(1, 1), { kind: 'SNAP' }],
    ['empty log while the leader\'s window starts later', ZXID_ZERO, { kind: 'SNAP' }],
  ])('%s: learner at %o', (_name, peer_last, plan) => {
    expect(planSync(w, peer_last)).toEqual(plan);
  });

  it('TRUNC to the window base when the base is the last txn of the learner\'s epoch the leader holds', () => {
    const w2 = window(z(1, 3), [z(3, 1)]);
    expect(planSync(w2, z(1, 8))).toEqual({ kind: 'TRUNC', point: z(1, 3) });
    // A base with counter 0 names no txn: nothing proves the learner shares it.
    expect(planSync(window(z(1, 0), [z(3, 1)]), z(1, 8))).toEqual({ kind: 'SNAP' });
  });

  it('an empty leader syncs an empty learner by an empty DIFF and anything else by SNAP', () => {
    const empty = window(ZXID_ZERO, []);
    expect(planSync(empty, ZXID_ZERO)).toEqual({ kind: 'DIFF', point: ZXID_ZERO });
    expect(planSync(empty, z(2, 3))).toEqual({ kind: 'SNAP' });
  });

  it('a window trimmed to committed_log_max falls back to SNAP for learners behind it', () => {
    const small = new LogWindow(ZXID_ZERO, [1, 2, 3, 4, 5].map((c) => ({ zxid: z(1, c), txn })), z(1, 5), 2);
    expect(small.base).toEqual(z(1, 3));
    expect(planSync(small, z(1, 3))).toEqual({ kind: 'DIFF', point: z(1, 3) });
    expect(planSync(small, z(1, 2))).toEqual({ kind: 'SNAP' });
  });
});
