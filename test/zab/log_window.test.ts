// LogWindow against a model (the whole log as a plain array): after any sequence of appends,
// commits, truncations and snapshots the window holds exactly the model's suffix it must keep.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { committedBeforeLastEpoch, LogWindow } from '../../src/zab/log_window.js';
import { compareZxid, makeZxid as z, zxidLe, zxidLt, ZXID_ZERO, type Zxid } from '../../src/zab/zxid.js';
import { bounded } from '../support/fc_bounds.js';

type Op =
  | { kind: 'append'; bump_epoch: boolean }
  | { kind: 'commit'; back: number }
  | { kind: 'truncate'; back: number }
  | { kind: 'snapshot' }
  | { kind: 'persist'; back: number; ahead: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), bump_epoch: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), back: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  // ahead > 0: the driver's log runs ahead of the window (a leader's queued proposals).
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('persist' as const), back: fc.nat(5), ahead: fc.oneof(fc.constant(0), fc.nat(3)) }) },
);

describe('LogWindow', () => {
  it('matches a model of the whole log under random operations', () => {
    fc.assert(
      fc.property(fc.nat(6), fc.array(opArb, { maxLength: 80 }), (keep, ops) => {
        let model: Zxid[] = [];
        let base: Zxid = ZXID_ZERO;
        let committed: Zxid = ZXID_ZERO;
        /** The highest zxid reported durable (truncation cuts it, a snapshot resets it). */
        let reported: Zxid = ZXID_ZERO;
        const w = new LogWindow(ZXID_ZERO, [], ZXID_ZERO, keep);
        const last = (): Zxid => model.at(-1) ?? base;
        const uncommitted = (): Zxid[] => model.filter((x) => zxidLt(committed, x));
        for (const op of ops) {
          if (op.kind === 'append') {
            const l = last();
            const next = op.bump_epoch ? z(l.epoch + 1, 1) : z(Math.max(l.epoch, 1), l.epoch === 0 ? 1 : l.counter + 1);
            model.push(next);
            w.append({ zxid: next, txn: new Uint8Array(0) });
          } else if (op.kind === 'commit') {
            const un = uncommitted();
            if (un.length === 0) continue;
            const target = un[Math.max(0, un.length - 1 - op.back)];
            const newly = w.commitTo(target);
            expect(newly.map((e) => e.zxid)).toEqual(un.filter((x) => zxidLe(x, target)));
            committed = target;
          } else if (op.kind === 'truncate') {
            const un = uncommitted();
            const to = un.length > op.back ? un[un.length - 1 - op.back] : committed;
            if (!w.holdsPoint(to)) continue;
            w.truncate(to);
            model = model.filter((x) => zxidLe(x, to));
            if (zxidLt(to, reported)) reported = to;
          } else if (op.kind === 'snapshot') {
            base = z(last().epoch + 1, 5);
            model = [];
            committed = base;
            reported = base;
            w.resetTo(base);
          } else {
            const l = last();
            const at = op.ahead > 0 ? z(Math.max(l.epoch, 1), (l.epoch === 0 ? 0 : l.counter) + op.ahead) : model.length > op.back ? model[model.length - 1 - op.back] : base;
            w.markPersisted(at);
            if (zxidLt(reported, at)) reported = at;
          }
          w.check();
          // The window holds every uncommitted txn and the newest `keep` committed ones.
          const committed_all = model.filter((x) => zxidLe(x, committed));
          const expected = [...committed_all.slice(Math.max(0, committed_all.length - keep)), ...uncommitted()];
          const got = Array.from({ length: w.length }, (_, i) => w.at(i).zxid);
          expect(got).toEqual(expected);
          expect(w.uncommittedCount()).toBe(uncommitted().length);
          expect(compareZxid(w.last(), last())).toBe(0);
          expect(w.committed).toEqual(committed);
          expect(zxidLe(w.persisted, w.last())).toBe(true);
          // Durable: never more than was reported; all of the window once a report covers its
          // last entry, even a report made before that entry was appended (it ran ahead).
          expect(zxidLe(w.persisted, reported)).toBe(true);
          if (zxidLe(w.last(), reported)) expect(w.persisted).toEqual(w.last());
        }
      }),
      bounded({ numRuns: 300 }),
    );
  });

  it('a pin holds every entry after it until released (a SNAP in preparation needs them)', () => {
    const e = (c: number) => ({ zxid: z(1, c), txn: new Uint8Array(0) });
    const w = new LogWindow(ZXID_ZERO, [e(1), e(2), e(3)], z(1, 3), 1);
    expect(w.base).toEqual(z(1, 2));
    w.pin = z(1, 2);
    for (const c of [4, 5, 6]) w.append(e(c));
    w.commitTo(z(1, 6));
    expect(w.base).toEqual(z(1, 2)); // 4 committed entries kept instead of 1
    expect(w.holdsPoint(z(1, 2))).toBe(true);
    w.pin = null;
    w.trim();
    expect(w.base).toEqual(z(1, 5));
    w.check();
  });

  it('asserts its invariants: no append out of order, no commit past the end, no truncation below committed', () => {
    const w = new LogWindow(ZXID_ZERO, [{ zxid: z(1, 1), txn: new Uint8Array(0) }], ZXID_ZERO, 10);
    expect(() => w.append({ zxid: z(1, 1), txn: new Uint8Array(0) })).toThrow(/not after last/);
    expect(() => w.commitTo(z(1, 2))).toThrow(/past last/);
    w.commitTo(z(1, 1));
    expect(() => w.truncate(ZXID_ZERO)).toThrow(/below committed/);
  });

  it('a log proves committed every entry of an epoch below its last entry\'s', () => {
    const entry = (epoch: number, counter: number) => ({ zxid: z(epoch, counter), txn: new Uint8Array(0) });
    expect(committedBeforeLastEpoch([])).toEqual(ZXID_ZERO);
    expect(committedBeforeLastEpoch([entry(1, 1), entry(1, 2)])).toEqual(ZXID_ZERO);
    expect(committedBeforeLastEpoch([entry(1, 1), entry(1, 2), entry(3, 1), entry(3, 2)])).toEqual(z(1, 2));
    expect(committedBeforeLastEpoch([entry(1, 1), entry(2, 1), entry(4, 1)])).toEqual(z(2, 1));
  });
});
