// A learner's reattaches waiting for the leader's REVALIDATE answer: each answered once, with the
// reattach it was asked for; a connection that closed, or a role change, voids its question so a
// late answer reattaches nobody; the number in flight is bounded.

import { describe, expect, it } from 'vitest';
import { Revalidations } from '../../src/quorum/revalidations.js';

const passwd = new Uint8Array(16);
const at = (shard: number, conn_id: number) => ({ origin: { shard, conn_id, xid: 0 }, session_id: BigInt(100 + conn_id), passwd, timeout_ms: 4000 });

describe('Revalidations', () => {
  it('pairs an answer with its question once; an answer for another session or token finds nothing', () => {
    const r = new Revalidations(8);
    const t1 = r.begin(at(0, 1))!;
    const t2 = r.begin(at(1, 2))!;
    expect(t1).not.toBe(t2);
    expect(r.settle(t1, 999n)).toBeUndefined(); // a token with the wrong session: not ours
    expect(r.settle(t2, 102n)?.origin).toEqual({ shard: 1, conn_id: 2, xid: 0 });
    expect(r.settle(t2, 102n)).toBeUndefined(); // answered already
    expect(r.settle(t1, 101n)?.session_id).toBe(101n);
    expect(r.size).toBe(0);
  });

  it('a connection that closed has no answer coming; others on its shard still do', () => {
    const r = new Revalidations(8);
    const t1 = r.begin(at(0, 1))!;
    const t2 = r.begin(at(0, 2))!;
    r.dropConn(0, 1);
    expect(r.settle(t1, 101n)).toBeUndefined();
    expect(r.settle(t2, 102n)).toBeDefined();
  });

  it('a role change voids every question and names the connections that waited', () => {
    const r = new Revalidations(8);
    const t = r.begin(at(0, 1))!;
    r.begin(at(1, 3));
    expect(r.drain()).toEqual([
      { shard: 0, conn_id: 1, xid: 0 },
      { shard: 1, conn_id: 3, xid: 0 },
    ]);
    expect(r.settle(t, 101n)).toBeUndefined();
    expect(r.size).toBe(0);
  });

  it('refuses a question beyond its bound, and takes one again once an answer came', () => {
    const r = new Revalidations(2);
    const t = r.begin(at(0, 1))!;
    expect(r.begin(at(0, 2))).not.toBeNull();
    expect(r.begin(at(0, 3))).toBeNull();
    r.settle(t, 101n);
    expect(r.begin(at(0, 3))).not.toBeNull();
    expect(() => new Revalidations(0)).toThrow(/pending_max/);
  });
});
