import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SessionTracker } from '../../src/session/session_tracker.js';
import { bounded } from '../support/fc_bounds.js';

const PW = new Uint8Array(16);
const TICK = 2000;

describe('SessionTracker buckets (ExpiryQueue.roundToNextInterval)', () => {
  it('expires at the first tick boundary after now + timeout', () => {
    const s = new SessionTracker(TICK);
    s.add(1n, 4000, 1000, PW); // 5000 → bucket 6000
    expect(s.get(1n)?.expiry_ms).toBe(6000);
    expect(s.next_expiry_ms()).toBe(6000);
    expect(s.expire(5999)).toEqual([]);
    expect(s.get(1n)?.closing).toBe(false);
    expect(s.expire(6000)).toEqual([1n]);
    expect(s.get(1n)?.closing).toBe(true);
    expect(s.next_expiry_ms()).toBeNull();
    expect(s.expire(100_000)).toEqual([]); // reported once
  });

  it('expire takes at most max sessions, oldest bucket first; the rest stay due for the next call', () => {
    const s = new SessionTracker(TICK);
    s.add(1n, 4000, 0, PW); // bucket 6000
    s.add(2n, 4000, 0, PW); // 6000
    s.add(3n, 6000, 0, PW); // 8000
    s.add(4n, 6000, 0, PW); // 8000
    expect(s.expire(9000, 3)).toEqual([1n, 2n, 3n]);
    expect(s.get(3n)?.closing).toBe(true);
    expect(s.get(4n)?.closing).toBe(false);
    expect(s.next_expiry_ms()).toBe(8000); // 4 is still queued, due
    expect(s.expire(9000, 0)).toEqual([]);
    expect(s.touch(3n, 9000)).toBe(false); // taken: no touch revives it
    expect(s.expire(9000, 3)).toEqual([4n]);
    expect(s.next_expiry_ms()).toBeNull();
  });

  it('a deadline exactly on a boundary goes to the next bucket', () => {
    const s = new SessionTracker(TICK);
    s.add(1n, 4000, 0, PW);
    expect(s.get(1n)?.expiry_ms).toBe(6000);
  });

  it('touch moves the session to a later bucket', () => {
    const s = new SessionTracker(TICK);
    s.add(1n, 4000, 1000, PW); // 6000
    expect(s.touch(1n, 3000)).toBe(true); // 7000 → 8000
    expect(s.expire(6000)).toEqual([]);
    expect(s.expire(7999)).toEqual([]);
    expect(s.expire(8000)).toEqual([1n]);
  });

  it('touch with a new timeout (reconnect) uses and keeps it', () => {
    const s = new SessionTracker(TICK);
    s.add(1n, 4000, 0, PW);
    expect(s.touch(1n, 1000, 10_000)).toBe(true); // 11000 → 12000
    expect(s.get(1n)?.timeout_ms).toBe(10_000);
    expect(s.next_expiry_ms()).toBe(12_000);
    s.touch(1n, 2000); // 12000 → 14000 with the kept timeout
    expect(s.next_expiry_ms()).toBe(14_000);
  });

  it('unknown and closing sessions are not touched', () => {
    const s = new SessionTracker(TICK);
    expect(s.touch(9n, 0)).toBe(false);
    s.add(1n, 4000, 0, PW);
    expect(s.setClosing(1n)).toBe(true);
    expect(s.touch(1n, 5000)).toBe(false);
    expect(s.get(1n)?.expiry_ms).toBe(6000);
    // Still queued: if its close is lost it is reported when due.
    expect(s.expire(6000)).toEqual([1n]);
    expect(s.setClosing(9n)).toBe(false);
  });

  it('an expired session cannot be revived by touch', () => {
    const s = new SessionTracker(TICK);
    s.add(1n, 4000, 0, PW);
    s.expire(6000);
    expect(s.touch(1n, 6001)).toBe(false);
    expect(s.next_expiry_ms()).toBeNull();
    expect(s.has(1n)).toBe(true); // until its closeSession commits
    expect(s.remove(1n)).toBe(true);
    expect(s.has(1n)).toBe(false);
    expect(s.remove(1n)).toBe(false);
  });

  it('remove takes a live session off the queue', () => {
    const s = new SessionTracker(TICK);
    s.add(1n, 4000, 0, PW);
    s.add(2n, 8000, 0, PW);
    s.remove(1n);
    expect(s.next_expiry_ms()).toBe(10_000);
    expect(s.expire(20_000)).toEqual([2n]);
  });

  it('expire reports oldest buckets first and next_expiry follows', () => {
    const s = new SessionTracker(TICK);
    s.add(3n, 9000, 0, PW); // 10000
    s.add(1n, 3000, 0, PW); // 4000
    s.add(2n, 5000, 0, PW); // 6000
    s.add(4n, 3500, 0, PW); // 4000
    expect(s.next_expiry_ms()).toBe(4000);
    expect(s.expire(6500)).toEqual([1n, 4n, 2n]);
    expect(s.next_expiry_ms()).toBe(10_000);
    expect(s.size).toBe(4);
  });

  it('add of a tracked session refreshes expiry and keeps the password', () => {
    const s = new SessionTracker(TICK);
    const pw = new Uint8Array(16).fill(7);
    expect(s.add(1n, 4000, 0, pw)).toBe(true);
    expect(s.add(1n, 4000, 3000, new Uint8Array(16))).toBe(false);
    expect(s.get(1n)?.passwd).toEqual(pw);
    expect(s.get(1n)?.expiry_ms).toBe(8000);
    expect(s.size).toBe(1);
  });

  it('rejects bad arguments', () => {
    expect(() => new SessionTracker(0)).toThrow();
    const s = new SessionTracker(TICK);
    expect(() => s.add(1n, 0, 0, PW)).toThrow();
    expect(() => s.add(1n, 1000, -1, PW)).toThrow();
    expect(() => s.touch(1n, Number.NaN)).toThrow();
  });

  it('handles many sessions', () => {
    const s = new SessionTracker(TICK);
    const n = 20_000;
    for (let i = 0; i < n; i++) s.add(BigInt(i + 1), 4000 + (i % 10) * 1000, 0, PW);
    // Odd sessions keep pinging every second until t = 30 s.
    let expired_odd = 0;
    let touch_refused = 0;
    for (let t = 1000; t <= 30_000; t += 1000) {
      for (const id of s.expire(t)) if (id % 2n === 1n) expired_odd += 1;
      for (let i = 1; i <= n; i += 2) if (!s.touch(BigInt(i), t)) touch_refused += 1;
    }
    expect([expired_odd, touch_refused]).toEqual([0, 0]);
    expect([...s.ids()].filter((id) => !s.get(id)?.closing).length).toBe(n / 2);
    const rest = s.expire(30_000 + 13_000 + TICK);
    expect(rest.length).toBe(n / 2);
    expect(rest.every((id) => id % 2n === 1n)).toBe(true);
  });
});

describe('SessionTracker against a deadline model', () => {
  type Cmd =
    | { c: 'add'; id: number; timeout_ms: number }
    | { c: 'touch'; id: number }
    | { c: 'closing'; id: number }
    | { c: 'remove'; id: number }
    | { c: 'expire' };
  const id = fc.integer({ min: 1, max: 6 });
  const cmd: fc.Arbitrary<Cmd> = fc.oneof(
    fc.record({ c: fc.constant('add' as const), id, timeout_ms: fc.integer({ min: 1, max: 10_000 }) }),
    fc.record({ c: fc.constant('touch' as const), id }),
    fc.record({ c: fc.constant('closing' as const), id }),
    fc.record({ c: fc.constant('remove' as const), id }),
    fc.record({ c: fc.constant('expire' as const) }),
  );

  it('a session expires iff its last touch + timeout, rounded up to a tick, has passed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), cmd), { maxLength: 80 }), (tick, cmds) => {
        const s = new SessionTracker(tick);
        // id → { due: deadline bucket or null once reported, closing, timeout }
        const m = new Map<number, { due: number | null; closing: boolean; timeout_ms: number }>();
        const bucket = (t: number): number => (Math.floor(t / tick) + 1) * tick;
        let now = 0;
        for (const [dt, k] of cmds) {
          now += dt;
          const b = BigInt('id' in k ? k.id : 0);
          const rec = 'id' in k ? m.get(k.id) : undefined;
          if (k.c === 'add') {
            expect(s.add(b, k.timeout_ms, now, PW)).toBe(rec === undefined);
            if (rec === undefined) m.set(k.id, { due: bucket(now + k.timeout_ms), closing: false, timeout_ms: k.timeout_ms });
            else if (!rec.closing) Object.assign(rec, { due: bucket(now + k.timeout_ms), timeout_ms: k.timeout_ms });
          } else if (k.c === 'touch') {
            const ok = rec !== undefined && !rec.closing;
            expect(s.touch(b, now)).toBe(ok);
            if (ok) rec.due = bucket(now + rec.timeout_ms);
          } else if (k.c === 'closing') {
            expect(s.setClosing(b)).toBe(rec !== undefined);
            if (rec) rec.closing = true;
          } else if (k.c === 'remove') {
            expect(s.remove(b)).toBe(rec !== undefined);
            m.delete(k.id);
          } else {
            const want = [...m].filter(([, r]) => r.due !== null && r.due <= now).sort((x, y) => x[1].due! - y[1].due!);
            const got = s.expire(now);
            expect(new Set(got)).toEqual(new Set(want.map(([i]) => BigInt(i))));
            for (const [, r] of want) Object.assign(r, { due: null, closing: true });
          }
          const dues = [...m.values()].flatMap((r) => (r.due === null ? [] : [r.due]));
          expect(s.next_expiry_ms()).toBe(dues.length === 0 ? null : Math.min(...dues));
          expect(s.size).toBe(m.size);
        }
      }),
      bounded({ numRuns: 300 }),
    );
  });
});
