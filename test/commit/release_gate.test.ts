// The release gate: whatever the interleaving of pushes, commits and releases, publications leave
// in push order, a txn never before its zxid is committed, and anything else never before every
// txn pushed ahead of it is committed. This is the rule that makes "durable before visible" hold
// standalone (commit = local fsync) and, later, "committed before visible" under Zab (commit = a
// quorum of ACKs): the gate does not know which.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Origin, Publication } from '../../src/commit/commit_core.js';
import { ReleaseGate, type Payload } from '../../src/commit/release_gate.js';
import type { Txn } from '../../src/tree/txn.js';
import { bounded } from '../support/fc_bounds.js';

const o = (conn_id: number): Origin => ({ shard: 0, conn_id, xid: conn_id });
const payload: Payload = { source: { backing: new Uint8Array(0) }, start: 0, end: 0 };

function txnPub(zxid: number, origin: Origin | null): Publication {
  const txn: Txn = { header: { session_id: 1n, cxid: 0, zxid, time_ms: 0 }, op: { kind: 'error', err: -101 } };
  return { kind: 'txn', origin, txn };
}

type Step = { kind: 'txn' } | { kind: 'sync' } | { kind: 'commit'; of_pending: number } | { kind: 'release' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: 'txn' as const }),
  fc.constant({ kind: 'sync' as const }),
  fc.record({ kind: fc.constant('commit' as const), of_pending: fc.nat(5) }),
  fc.constant({ kind: 'release' as const }),
);

describe('release gate', () => {
  it('releases in push order, a txn only once committed, a sync only after every earlier txn', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.nat(100), (steps, start_zxid) => {
        const gate = new ReleaseGate(start_zxid);
        let zxid = start_zxid;
        let pushed = 0;
        /** For each pushed publication: the zxid that must be committed before it may leave. */
        const needs: number[] = [];
        const released: number[] = [];
        const releaseAll = (): void => {
          gate.release((pub) => {
            const index = pub.kind === 'sync' ? Number(pub.path.slice(1)) : pub.kind === 'txn' ? pub.txn.header.cxid : -1;
            expect(gate.committed_zxid).toBeGreaterThanOrEqual(needs[index]);
            released.push(index);
          });
        };
        for (const s of steps) {
          if (s.kind === 'txn') {
            zxid++;
            const p = txnPub(zxid, o(pushed));
            (p as { txn: Txn }).txn.header.cxid = pushed;
            gate.push(p, payload);
            needs.push(zxid);
            pushed++;
          } else if (s.kind === 'sync') {
            gate.push({ kind: 'sync', origin: o(pushed), path: `/${pushed}` }, null);
            needs.push(zxid);
            pushed++;
          } else if (s.kind === 'commit') {
            gate.commitThrough(Math.min(zxid, gate.committed_zxid + s.of_pending));
          } else releaseAll();
        }
        gate.commitThrough(zxid);
        releaseAll();
        expect(released).toEqual(needs.map((_, i) => i));
        expect(gate.pending).toBe(0);
        expect(gate.released_zxid).toBe(zxid);
      }),
      bounded({ numRuns: 300 }),
    );
  });

  it('holds a sync behind an uncommitted txn, and lets it out once that txn commits', () => {
    const gate = new ReleaseGate(10);
    gate.push(txnPub(11, o(1)), payload);
    gate.push({ kind: 'sync', origin: o(2), path: '/' }, null);
    const out: string[] = [];
    const visit = (p: Publication): void => void out.push(p.kind);
    expect(gate.release(visit)).toBe(0);
    gate.commitThrough(11);
    expect(gate.release(visit)).toBe(2);
    expect(out).toEqual(['txn', 'sync']);
  });

  it('refuses a committed zxid that goes back, or past the last txn', () => {
    const gate = new ReleaseGate(5);
    gate.push(txnPub(6, null), payload);
    gate.commitThrough(6);
    expect(() => gate.commitThrough(5)).toThrow(/went back/);
    expect(() => gate.commitThrough(7)).toThrow(/last txn is 6/);
  });

  it('after a failure, held txns become lost connections and later ones never commit', () => {
    const gate = new ReleaseGate(0);
    gate.push(txnPub(1, o(1)), payload);
    gate.push(txnPub(2, null), payload);
    gate.fail();
    gate.push(txnPub(3, o(3)), null);
    gate.push({ kind: 'sync', origin: o(4), path: '/' }, null);
    const out: string[] = [];
    gate.release((p) => out.push(p.kind === 'close_conn' ? `close${p.conn_id}` : p.kind));
    expect(out).toEqual(['close1', 'close3', 'sync']);
  });

  it('a failure right after a commit still releases the committed txns as committed (they are in the log)', () => {
    const gate = new ReleaseGate(0);
    gate.push(txnPub(1, o(1)), payload);
    gate.push(txnPub(2, o(2)), payload);
    gate.commitThrough(1); // batch 1 durable, not released yet ...
    gate.fail(); // ... when batch 2 fails in the same turn
    const out: string[] = [];
    gate.release((p) => out.push(p.kind === 'txn' ? `txn ${p.txn.header.zxid}` : p.kind === 'close_conn' ? `close${p.conn_id}` : p.kind));
    expect(out).toEqual(['txn 1', 'close2']);
  });
});

describe('release gate under Zab: a leader that loses its role', () => {
  it('turns every held publication into a close of its connection, keeps the committed ones, and commits again later', () => {
    const gate = new ReleaseGate(10);
    gate.push(txnPub(11, o(1)), payload);
    gate.push(txnPub(12, o(2)), payload);
    gate.push({ kind: 'sync', origin: o(3), path: '/' }, null);
    gate.push(txnPub(13, null), payload);
    gate.push({ kind: 'close_conn', shard: 0, conn_id: 4 }, null);
    gate.commitThrough(11);
    gate.abandonUncommitted();
    const out: string[] = [];
    gate.release((p) => out.push(p.kind === 'txn' ? `txn ${p.txn.header.zxid}` : p.kind === 'close_conn' ? `close ${p.conn_id}` : p.kind));
    // 11 committed: published; 12 and the sync become closes of their connections; the
    // server's own txn 13 has nobody to tell; a close stays a close.
    expect(out).toEqual(['txn 11', 'close 2', 'close 3', 'close 4']);
    // A later epoch's txns commit as usual.
    gate.push(txnPub(2 ** 32 + 1, o(5)), payload);
    gate.commitThrough(2 ** 32 + 1);
    const later: number[] = [];
    gate.release((p) => p.kind === 'txn' && later.push(p.txn.header.zxid));
    expect(later).toEqual([2 ** 32 + 1]);
  });
});
