// Quotas' pure parts: ZooKeeper's StatsTrack text (what zkCli writes and listquota prints), which
// nodes are a quota's, the deepest quota over a path, and checkQuota's verdict; then where prep
// puts QUOTAEXCEEDED among its checks (a client sees which error comes first).

import { describe, expect, it } from 'vitest';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { prepRequest, type QuotaCheck } from '../../src/tree/prep.js';
import { quotaNodeOf, QuotaPaths, quotaVerdict, StatsTrack } from '../../src/tree/quota.js';
import { enc, Harness, open } from './harness.js';

const track = (s: string): StatsTrack => StatsTrack.parse(enc(s));

describe('StatsTrack', () => {
  it('reads and writes ZooKeeper 3.8 texts byte for byte', () => {
    // What zkCli's setquota -n 5 writes as the limit, and ZooKeeper's stats text.
    const limit = 'count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1';
    expect(track(limit).toString()).toBe(limit);
    expect(track(limit).count).toBe(5n);
    expect(track(limit).byte_hard_limit).toBe(-1n);
    expect(StatsTrack.usage(3n, 16n).toString()).toBe('count=3,bytes=16');
    expect(track('count=2,bytes=6').toString()).toBe('count=2,bytes=6');
  });

  it('reads a missing key as -1 and an empty value as -1; adds as Java longs', () => {
    const t = track('bytes=');
    expect(t.count).toBe(-1n);
    expect(t.bytes).toBe(-1n);
    t.add(5n, 1n);
    expect(t.toString()).toBe('count=0,bytes=4');
    const big = track('count=9223372036854775807,bytes=0');
    big.add(0n, 1n);
    expect(big.count).toBe(-9223372036854775808n);
  });

  it('skips what ZooKeeper would throw on (no =, not a number), never failing', () => {
    expect(track('garbage,count=x,count=7,,;bytes=3').toString()).toBe('count=7,bytes=3');
    expect(track('=5;=,count=1').toString()).toBe('count=1,bytes=-1');
    expect(track('').toString()).toBe('count=-1,bytes=-1');
    expect(StatsTrack.parse(null).count).toBe(-1n);
  });

  it('keeps extra keys, sorted, after an extra =', () => {
    const t = track('countHardLimit=4,zzz=1,count=1,aaa=2');
    t.add(1n, 1n);
    expect(t.toString()).toBe('count=2,bytes=0=;aaa=2;countHardLimit=4;zzz=1');
  });
});

describe('quota nodes and paths', () => {
  it('names the limit and stats nodes of a quota, not the root nor other nodes', () => {
    expect(quotaNodeOf('/zookeeper/quota/a/b/zookeeper_limits')).toEqual({ kind: 'limit', quota_path: '/a/b' });
    expect(quotaNodeOf('/zookeeper/quota/a/zookeeper_stats')).toEqual({ kind: 'stat', quota_path: '/a' });
    expect(quotaNodeOf('/zookeeper/quota/zookeeper_limits')).toBeNull();
    expect(quotaNodeOf('/zookeeper/quota/a/other')).toBeNull();
    expect(quotaNodeOf('/zookeeper/quotaX/a/zookeeper_limits')).toBeNull();
    expect(quotaNodeOf('/a/zookeeper_limits')).toBeNull();
  });

  it('finds the deepest quota over a path, on segment boundaries only', () => {
    const p = new QuotaPaths();
    expect(p.maxPrefix('/a/b')).toBeNull();
    p.add('/a');
    p.add('/a/b');
    expect(p.maxPrefix('/a/b/c')).toBe('/a/b');
    expect(p.maxPrefix('/a/b')).toBe('/a/b');
    expect(p.maxPrefix('/a/bc')).toBe('/a');
    expect(p.maxPrefix('/ab')).toBeNull();
    expect(p.maxPrefix('/')).toBeNull();
    p.delete('/a/b');
    expect(p.maxPrefix('/a/b/c')).toBe('/a');
  });
});

describe('quotaVerdict (ZooKeeperServer.checkQuota)', () => {
  const usage = track('count=3,bytes=10');
  it('a hard limit refuses, a soft one only warns, and a hard one replaces the soft one', () => {
    expect(quotaVerdict(track('count=-1,bytes=-1=;countHardLimit=3'), usage, 0n, 1n)).toBe('hard');
    expect(quotaVerdict(track('count=3,bytes=-1'), usage, 0n, 1n)).toBe('soft');
    expect(quotaVerdict(track('count=2,bytes=-1=;countHardLimit=10'), usage, 0n, 1n)).toBe('within');
    expect(quotaVerdict(track('count=-1,bytes=-1=;byteHardLimit=12'), usage, 3n, 0n)).toBe('hard');
    expect(quotaVerdict(track('count=-1,bytes=-1=;byteHardLimit=13'), usage, 3n, 0n)).toBe('within');
  });

  it('checks only the kinds the write changes, against the usage after it', () => {
    expect(quotaVerdict(track('count=-1,bytes=-1=;countHardLimit=1'), usage, 5n, 0n)).toBe('within');
    expect(quotaVerdict(track('count=-1,bytes=-1=;byteHardLimit=1'), usage, 0n, 1n)).toBe('within');
    // As in ZooKeeper, even a write that shrinks the data is refused while it leaves the
    // subtree over a hard limit (one lowered below the usage, say).
    expect(quotaVerdict(track('count=-1,bytes=-1=;byteHardLimit=1'), usage, -2n, 0n)).toBe('hard');
    expect(quotaVerdict(track('count=-1,bytes=-1=;byteHardLimit=8'), usage, -2n, 0n)).toBe('within');
  });

  it('a soft count over and a hard bytes over is hard', () => {
    expect(quotaVerdict(track('count=1,bytes=-1=;byteHardLimit=10'), usage, 1n, 1n)).toBe('hard');
  });
});

describe('prep with zookeeper.enforceQuota', () => {
  const calls: [string, number, number][] = [];
  const hardOn = (path: string): QuotaCheck => (p, bytes_diff, count_diff) => {
    calls.push([p, bytes_diff, count_diff]);
    return p.startsWith(path) ? 'hard' : 'within';
  };
  const ctx = (h: Harness, quota: QuotaCheck | null) => ({
    tree: h.tree,
    session_id: 1n,
    auth: [{ scheme: 'ip', id: '127.0.0.1' }],
    is_super: false,
    now_ms: h.time_ms,
    ttl_enabled: true,
    quota,
  });

  it('create: QUOTAEXCEEDED after NODEEXISTS and NOCHILDRENFOREPHEMERALS, with the data size and one node', () => {
    const h = new Harness();
    h.create('/q', 'x');
    calls.length = 0;
    const create = (path: string) => ({ path, data: enc('12345'), acl: open(), flags: 0 });
    expect(prepRequest(ctx(h, hardOn('/q')), Op.create, create('/q/new'))).toEqual({ kind: 'error', err: Err.QUOTAEXCEEDED });
    expect(calls).toEqual([['/q/new', 5, 1]]);
    expect(prepRequest(ctx(h, hardOn('/q')), Op.create, create('/q'))).toEqual({ kind: 'error', err: Err.NODEEXISTS });
    expect(prepRequest(ctx(h, hardOn('/q')), Op.create, create('/other')).kind).toBe('create');
    expect(prepRequest(ctx(h, null), Op.create, create('/q/new')).kind).toBe('create');
  });

  it('setData: QUOTAEXCEEDED after NOAUTH and before BADVERSION, with the size difference', () => {
    const h = new Harness();
    h.create('/q', 'abc');
    calls.length = 0;
    expect(prepRequest(ctx(h, hardOn('/q')), Op.setData, { path: '/q', data: enc('a'), version: 7 })).toEqual({ kind: 'error', err: Err.QUOTAEXCEEDED });
    expect(calls).toEqual([['/q', -2, 0]]);
    expect(prepRequest(ctx(h, hardOn('/none')), Op.setData, { path: '/q', data: enc('a'), version: 7 })).toEqual({ kind: 'error', err: Err.BADVERSION });
  });

  it('multi: an op over a hard limit fails the multi at that op', () => {
    const h = new Harness();
    h.create('/q', 'x');
    const op = prepRequest(ctx(h, hardOn('/q/b')), Op.multi, [
      { type: Op.create, request: { path: '/q/a', data: null, acl: open(), flags: 0 } },
      { type: Op.create, request: { path: '/q/b', data: null, acl: open(), flags: 0 } },
      { type: Op.create, request: { path: '/q/c', data: null, acl: open(), flags: 0 } },
    ]);
    expect(op).toEqual({
      kind: 'multi',
      ops: [
        { kind: 'error', err: Err.OK },
        { kind: 'error', err: Err.QUOTAEXCEEDED },
        { kind: 'error', err: Err.RUNTIMEINCONSISTENCY },
      ],
    });
  });
});
