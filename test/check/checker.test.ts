// The checker on hand-written histories: each names the bug it stands for and must be classified
// as the comment says. A checker that answered "valid" to everything fails the invalid cases; one
// that answered "invalid" to everything fails the valid ones.

import { describe, expect, it } from 'vitest';
import { checkHistory, type CheckReport } from '../../src/check/checker/check.js';
import { parseHistory, formatHistory, type JsonObject } from '../../src/check/checker/history.js';
import { event, history, op, reg } from './history_builder.js';

function checks(r: CheckReport): string[] {
  return [...new Set(r.violations.map((v) => v.check))].sort();
}

describe('register (CAS per znode)', () => {
  it('sequential writes and reads that see them: valid', () => {
    const h = history([
      reg.create(1, [0, 1], 'a'),
      reg.write(2, [2, 3], 'b', 0, 1),
      reg.write(3, [4, 5], 'c', 1, 2),
      reg.read(4, [6, 7], 'c', 2, { sync_ms: 6 }),
    ]);
    const r = checkHistory(h);
    expect(r.verdict).toBe('valid');
    expect(r.partitions).toHaveLength(1);
    expect(r.partitions[0]!.ops).toBe(4);
  });

  it('concurrent writes may linearize either way: valid', () => {
    const h = history([
      reg.create(1, [0, 1], 'a'),
      reg.write(2, [2, 10], 'b', -1, null),
      reg.write(3, [3, 9], 'c', -1, null),
      reg.read(4, [11, 12], 'b', 2, { sync_ms: 11 }),
    ]);
    expect(checkHistory(h).verdict).toBe('valid');
  });

  it('lost write: acknowledged, then a read after sync sees the older value: invalid', () => {
    const h = history([
      reg.create(1, [0, 1], 'a'),
      reg.write(2, [2, 3], 'b', 0, 1),
      // e.g. the server was killed and came back without the write
      reg.read(3, [20, 21], 'a', 0, { sync_ms: 19 }),
    ]);
    const r = checkHistory(h);
    expect(r.verdict).toBe('invalid');
    expect(checks(r)).toEqual(['linearizability']);
    expect(r.violations[0]!.ops).toContain(3);
  });

  it('stale read after a sync (another session wrote before the sync was sent): invalid', () => {
    const h = history([
      reg.create(1, [0, 1], 'a', { session: 1 }),
      reg.write(2, [2, 5], 'b', 0, 1, { session: 1 }),
      reg.read(3, [7, 9], 'a', 0, { session: 2, sync_ms: 6 }),
    ]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });

  it('the same stale read without a sync is allowed by design, and caught in strict mode', () => {
    const h = history([
      reg.create(1, [0, 1], 'a', { session: 1 }),
      reg.write(2, [2, 5], 'b', 0, 1, { session: 1 }),
      reg.read(3, [7, 9], 'a', 0, { session: 2 }),
    ]);
    expect(checkHistory(h).verdict).toBe('valid');
    expect(checkHistory(h, { linearizable_reads: true }).verdict).toBe('invalid');
  });

  it('a write whose outcome is unknown may have happened: reading its value is valid', () => {
    const h = history([reg.create(1, [0, 1], 'a'), reg.write(2, [2, null], 'b', 0, null), reg.read(3, [10, 11], 'b', 1, { sync_ms: 10 })]);
    expect(checkHistory(h).verdict).toBe('valid');
  });

  it('... or not: reading the old value after it is valid too', () => {
    const h = history([reg.create(1, [0, 1], 'a'), reg.write(2, [2, null], 'b', 0, null), reg.read(3, [10, 11], 'a', 0, { sync_ms: 10 })]);
    expect(checkHistory(h).verdict).toBe('valid');
  });

  it('but it cannot happen before it was sent: a read completed before the write was invoked cannot see it', () => {
    const h = history([reg.create(1, [0, 1], 'a'), reg.read(3, [2, 3], 'b', 1, { sync_ms: 2 }), reg.write(2, [5, null], 'b', 0, null)]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });

  it('a value never written: invalid', () => {
    const h = history([reg.create(1, [0, 1], 'a', { zxid: 1 }), reg.read(2, [2, 3], 'zzz', 1, { mzxid: 1, zxid: 1 })]);
    const r = checkHistory(h);
    expect(r.verdict).toBe('invalid');
    expect(checks(r)).toEqual(['read-unwritten']);
  });

  it('definite failures are checked: BADVERSION although the version matched is invalid', () => {
    const h = history([reg.create(1, [0, 1], 'a'), op({ id: 2, f: 'write', input: { value: 'b', version: 0 }, error: 'BADVERSION', at: [2, 3] })]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });

  it('BADVERSION when another write got there first is valid', () => {
    const h = history([
      reg.create(1, [0, 1], 'a'),
      reg.write(2, [2, 6], 'b', 0, 1),
      op({ id: 3, f: 'write', input: { value: 'c', version: 0 }, error: 'BADVERSION', at: [3, 7] }),
    ]);
    expect(checkHistory(h).verdict).toBe('valid');
  });

  it('two CAS writes on the same version both succeeding (lost update): invalid', () => {
    const h = history([reg.create(1, [0, 1], 'a'), reg.write(2, [2, 6], 'b', 0, 1), reg.write(3, [3, 7], 'c', 0, 1)]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });
});

describe('zxid checks', () => {
  it('reordered replies: a session answered out of order breaks FIFO and zxid order', () => {
    const h = history([
      reg.create(1, [0, 1], 'a', { session: 7, zxid: 5, invoke_seq: 1, reply_seq: 4 }),
      reg.write(2, [0.5, 2], 'b', 0, 1, { session: 7, zxid: 6, invoke_seq: 2, reply_seq: 3 }),
    ]);
    const r = checkHistory(h);
    expect(r.verdict).toBe('invalid');
    expect(checks(r)).toEqual(['fifo', 'zxid-monotone']);
  });

  it('a plain read older than what the session already saw: invalid (read-stale)', () => {
    const h = history([
      reg.create(1, [0, 1], 'a', { session: 1, zxid: 10, invoke_seq: 1, reply_seq: 2 }),
      reg.write(2, [2, 3], 'b', 0, 1, { session: 2, zxid: 11, invoke_seq: 3, reply_seq: 4 }),
      // session 2 wrote b at zxid 11, then reads a (mzxid 10) with a reply claiming 11
      reg.read(3, [4, 5], 'a', 0, { session: 2, zxid: 11, mzxid: 10, invoke_seq: 5, reply_seq: 6 }),
    ]);
    const r = checkHistory(h);
    expect(r.verdict).toBe('invalid');
    expect(checks(r)).toEqual(['read-stale']);
  });

  it('a plain read that is stale but consistent with its own zxid and its session: valid', () => {
    const h = history([
      reg.create(1, [0, 1], 'a', { session: 1, zxid: 10, invoke_seq: 1, reply_seq: 2 }),
      reg.write(2, [2, 3], 'b', 0, 1, { session: 1, zxid: 11, invoke_seq: 3, reply_seq: 4 }),
      reg.read(3, [4, 5], 'a', 0, { session: 2, zxid: 10, mzxid: 10, invoke_seq: 5, reply_seq: 6 }),
    ]);
    expect(checkHistory(h).verdict).toBe('valid');
  });

  it('an ephemeral gone with its session (an end without a zxid) explains a later absent read; nothing else does', () => {
    const create = reg.create(1, [0, 1], 'e', { key: '/e', session: 1, zxid: 10, invoke_seq: 1, reply_seq: 2 });
    const seen = reg.read(2, [2, 3], 'e', 0, { key: '/e', session: 2, zxid: 10, mzxid: 10, invoke_seq: 3, reply_seq: 4 });
    const absent = reg.read(4, [6, 7], null, null, { key: '/e', session: 2, zxid: 12, invoke_seq: 7, reply_seq: 8 });
    const end = op({ id: 3, key: '/e', session: 1, f: 'end', at: [4, 5], invoke_seq: 5, reply_seq: undefined });
    expect(checkHistory(history([create, seen, { ...end, reply_seq: null }, absent])).verdict).toBe('valid');
    expect(checks(checkHistory(history([create, seen, absent])))).toEqual(['read-stale']);
  });

  it('a read of a node modified after the zxid its reply claims: invalid (read-future)', () => {
    const h = history([
      reg.create(1, [0, 1], 'a', { session: 1, zxid: 10 }),
      reg.write(2, [2, 3], 'b', 0, 1, { session: 1, zxid: 12 }),
      reg.read(3, [4, 5], 'b', 1, { session: 2, zxid: 11, mzxid: 12 }),
    ]);
    expect(checks(checkHistory(h))).toEqual(['read-future']);
  });

  it('a watch event after a reply with a higher zxid: invalid (watch-order)', () => {
    const ops = [
      reg.read(1, [0, 1], null, null, { session: 1, zxid: 3, invoke_seq: 1, reply_seq: 2 }),
      reg.create(2, [2, 3], 'a', { session: 2, zxid: 4, invoke_seq: 3, reply_seq: 4 }),
      reg.read(3, [4, 5], 'a', 0, { session: 1, zxid: 4, mzxid: 4, invoke_seq: 5, reply_seq: 6 }),
    ];
    const late = history(ops, [event({ session: 1, path: '/r', event: 'NodeCreated', zxid: 4, at_ms: 5.5, seq: 7 })]);
    expect(checks(checkHistory(late))).toEqual(['watch-order']);
    const in_time = history(ops, [event({ session: 1, path: '/r', event: 'NodeCreated', zxid: 4, at_ms: 4.5, seq: 5.5 })]);
    expect(checkHistory(in_time).verdict).toBe('valid');
  });

  it('writes whose zxids go against real time, or share a zxid: invalid (write-order)', () => {
    const backwards = history([
      reg.create(1, [0, 1], 'a', { key: '/x', zxid: 9 }),
      reg.create(2, [2, 3], 'b', { key: '/y', zxid: 8 }),
    ]);
    expect(checks(checkHistory(backwards))).toEqual(['write-order']);
    const shared = history([reg.create(1, [0, 1], 'a', { key: '/x', zxid: 9 }), reg.create(2, [0, 3], 'b', { key: '/y', zxid: 9 })]);
    expect(checks(checkHistory(shared))).toEqual(['write-order']);
  });
});

describe('lock with fencing tokens', () => {
  const acquire = (id: number, owner: number, at: [number, number | null], token?: number) =>
    op({ id, session: owner, model: 'lock', key: '/lock', f: 'acquire', input: { owner }, output: token === undefined ? undefined : { token }, at });
  const release = (id: number, owner: number, at: [number, number | null]) => op({ id, session: owner, model: 'lock', key: '/lock', f: 'release', input: { owner }, at });

  it('holders one after another with growing tokens: valid', () => {
    const h = history([acquire(1, 1, [0, 1], 10), release(2, 1, [2, 3]), acquire(3, 2, [1, 4], 12), release(4, 2, [5, 6])]);
    expect(checkHistory(h).verdict).toBe('valid');
  });

  it('double holders (the second acquired while the first still held): invalid', () => {
    const h = history([acquire(1, 1, [0, 1], 10), acquire(3, 2, [2, 3], 12), release(2, 1, [4, 5]), release(4, 2, [6, 7])]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });

  it('a fencing token that does not grow: invalid', () => {
    const h = history([acquire(1, 1, [0, 1], 10), release(2, 1, [2, 3]), acquire(3, 2, [4, 5], 9), release(4, 2, [6, 7])]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });

  it('an acquire with an unknown outcome may have held the lock until its session ended', () => {
    const end = op({ id: 5, session: 1, model: 'lock', key: '/lock', f: 'end', input: { owner: 1 }, at: [3, 8] });
    const h = history([acquire(1, 1, [0, null]), end, acquire(3, 2, [2, 9], 12), release(4, 2, [10, 11])]);
    expect(checkHistory(h).verdict).toBe('valid');
  });
});

describe('queue of sequential nodes', () => {
  const q = (id: number, f: string, at: [number, number | null], input: JsonObject, output?: JsonObject, error?: string) =>
    op({ id, model: 'queue', key: '/q', f, at, input, output, error, ...(f === 'list' ? { sync_ms: at[0] } : {}) });

  it('enqueue, list, dequeue: valid', () => {
    const h = history([
      q(1, 'enqueue', [0, 1], { uid: 'a' }, { seq: 1 }),
      q(2, 'enqueue', [0, 2], { uid: 'b' }, { seq: 2 }),
      q(3, 'list', [3, 4], {}, { items: [{ uid: 'a', seq: 1 }, { uid: 'b', seq: 2 }] }),
      q(4, 'dequeue', [5, 6], { uid: 'a', seq: 1 }),
      q(5, 'dequeue', [5, 7], { uid: 'a', seq: 1 }, undefined, 'NONODE'),
    ]);
    expect(checkHistory(h).verdict).toBe('valid');
  });

  it('an enqueue with an unknown outcome: unseen it may be ignored; once seen its number must fit', () => {
    const unseen = history([q(1, 'enqueue', [0, null], { uid: 'a' }), q(2, 'enqueue', [1, 2], { uid: 'b' }, { seq: 3 }), q(3, 'list', [3, 4], {}, { items: [{ uid: 'b', seq: 3 }] })]);
    expect(checkHistory(unseen).verdict).toBe('valid');
    const seen_late = history([
      q(1, 'enqueue', [0, null], { uid: 'a' }),
      q(2, 'enqueue', [1, 2], { uid: 'b' }, { seq: 3 }),
      q(3, 'list', [3, 4], {}, { items: [{ uid: 'a', seq: 5 }, { uid: 'b', seq: 3 }] }),
    ]);
    expect(checkHistory(seen_late).verdict).toBe('valid');
    const seen_out_of_order = history([
      q(2, 'enqueue', [1, 2], { uid: 'b' }, { seq: 3 }),
      q(1, 'enqueue', [2.5, null], { uid: 'a' }),
      q(3, 'list', [3, 4], {}, { items: [{ uid: 'a', seq: 1 }, { uid: 'b', seq: 3 }] }),
    ]);
    expect(checkHistory(seen_out_of_order).verdict).toBe('invalid');
  });

  it('an item dequeued twice: invalid', () => {
    const h = history([q(1, 'enqueue', [0, 1], { uid: 'a' }, { seq: 1 }), q(2, 'dequeue', [2, 3], { uid: 'a', seq: 1 }), q(3, 'dequeue', [4, 5], { uid: 'a', seq: 1 })]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });

  it('sequence numbers going backwards in real time: invalid', () => {
    const h = history([q(1, 'enqueue', [0, 1], { uid: 'a' }, { seq: 5 }), q(2, 'enqueue', [2, 3], { uid: 'b' }, { seq: 4 })]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });

  it('an acknowledged item missing from a later listing: invalid', () => {
    const h = history([q(1, 'enqueue', [0, 1], { uid: 'a' }, { seq: 1 }), q(2, 'list', [2, 3], {}, { items: [] })]);
    expect(checkHistory(h).verdict).toBe('invalid');
  });
});

describe('multi', () => {
  const m = (id: number, f: string, at: [number, number | null], input: JsonObject, output?: JsonObject, error?: string) =>
    op({ id, model: 'multi', key: 'g', f, at, input, output, error });
  const setup = [m(1, 'create', [0, 1], { path: '/x', value: 'x0' }), m(2, 'create', [0, 1], { path: '/y', value: 'y0' })];
  const txn = { ops: [{ kind: 'set', path: '/x', version: 0, value: 'x1' }, { kind: 'set', path: '/y', version: 0, value: 'y1' }] };

  it('an atomic txn seen whole: valid', () => {
    const read = { ...m(4, 'read', [4, 5], { path: '/x' }, { exists: true, value: 'x1', version: 1 }), sync_ms: 4 };
    const r = checkHistory(history([...setup, m(3, 'txn', [2, 3], txn, { versions: [1, 1] }), read]));
    expect(r.verdict).toBe('valid');
    expect(r.partitions.map((p) => p.ops)).toEqual([4]);
  });

  it('half a txn visible: invalid', () => {
    const ops = [
      ...setup,
      m(3, 'txn', [2, 3], txn, { versions: [1, 1] }),
      { ...m(4, 'read', [4, 5], { path: '/x' }, { exists: true, value: 'x1', version: 1 }), sync_ms: 4 },
      { ...m(5, 'read', [4, 5], { path: '/y' }, { exists: true, value: 'y0', version: 0 }), sync_ms: 4 },
    ];
    expect(checkHistory(history(ops)).verdict).toBe('invalid');
  });

  it('a failed txn names its first failing op; nothing applied', () => {
    const bad = { ops: [{ kind: 'set', path: '/x', version: 0, value: 'x1' }, { kind: 'set', path: '/y', version: 7, value: 'y1' }] };
    const ok = history([...setup, m(3, 'txn', [2, 3], bad, { index: 1 }, 'BADVERSION'), { ...m(4, 'read', [4, 5], { path: '/x' }, { exists: true, value: 'x0', version: 0 }), sync_ms: 4 }]);
    expect(checkHistory(ok).verdict).toBe('valid');
    const wrong_index = history([...setup, m(3, 'txn', [2, 3], bad, { index: 0 }, 'BADVERSION')]);
    expect(checkHistory(wrong_index).verdict).toBe('invalid');
  });
});

describe('limits and format', () => {
  it('answers unknown when the time budget runs out instead of searching on', () => {
    // Many concurrent blind writes with unknown outcomes and reads that rule most orders out.
    const ops = [reg.create(0, [0, 1], 'v0')];
    for (let i = 1; i <= 24; i++) ops.push(reg.write(i, [2, null], `w${i}`, -1, null));
    for (let i = 1; i <= 24; i++) ops.push(reg.read(100 + i, [3 + i, 3.5 + i], `w${25 - i}`, i, { sync_ms: 3 + i }));
    ops.push(reg.read(200, [40, 41], 'never', 99, { sync_ms: 40 }));
    let t = 0;
    const r = checkHistory(history(ops), { time_budget_ms: 50, now: () => (t += 1), memo_bytes_max: 2 ** 30 });
    expect(r.partitions[0]!.result).toBe('unknown');
    // the never-written value is still found by the zxid-free source check
    expect(checks(r)).toEqual(['read-unwritten']);
  });

  it('answers unknown when the memo bound is reached', () => {
    const ops = [reg.create(0, [0, 1], 'v0')];
    for (let i = 1; i <= 12; i++) ops.push(reg.write(i, [2, null], `w${i}`, -1, null));
    for (let i = 1; i <= 12; i++) ops.push(reg.read(100 + i, [3 + i, 3.5 + i], `w${13 - i}`, i, { sync_ms: 3 + i }));
    const r = checkHistory(history(ops), { memo_bytes_max: 4096 });
    expect(r.verdict).toBe('unknown');
    expect(r.partitions[0]!.reason).toMatch(/memo bound reached/);
    expect(checkHistory(history(ops)).verdict).toBe('valid');
  });

  it('a long sequential history is checked without deep recursion', () => {
    const ops = [reg.create(0, [0, 1], 'v0')];
    for (let i = 1; i <= 50_000; i++) ops.push(reg.write(i, [2 * i, 2 * i + 1], `v${i}`, i - 1, i));
    expect(checkHistory(history(ops)).verdict).toBe('valid');
  });

  it('JSON lines round trip, and a bad line is named', () => {
    const h = history([reg.create(1, [0, 1], 'a'), reg.write(2, [2, null], 'b', 0, null)], [event({ session: 1, path: '/r', event: 'NodeDataChanged', zxid: 3, at_ms: 2, seq: 3 })]);
    const back = parseHistory(formatHistory(h));
    expect(back.ops).toEqual(h.ops);
    expect(back.events).toEqual(h.events);
    expect(() => parseHistory('{"type":"op","id":1}\n')).toThrow(/line 1: model must be a string/);
    expect(() => parseHistory('\n{"type":"op","id":1,"session":1,"model":"register","key":"/r","f":"read","input":{},"outcome":"ok","invoke_ms":5,"complete_ms":null}')).toThrow(/line 2: complete_ms is null exactly/);
  });
});
