import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConnectString } from '../../bench/src/connect_string.js';
import { sendPhase } from '../../bench/src/client_loop.js';
import { splitClients } from '../../bench/src/driver.js';
import { clientSeed } from '../../src/check/prng.js';
import { Fifo } from '../../bench/src/fifo.js';
import { median, parseLoadGenLog } from '../../bench/src/load_gen_log.js';
import { keyPath, OpMix } from '../../bench/src/mix.js';
import { parseStatCpuSeconds } from '../../bench/src/proc_cpu.js';
import { Recorder } from '../../bench/src/recorder.js';
import { bounded } from '../support/fc_bounds.js';

describe('workload mix', () => {
  it('0% and 100% reads are exact: never a stray write or read', () => {
    const reads = new OpMix(1, 100, 1);
    const writes = new OpMix(0, 100, 1);
    for (let i = 0; i < 10_000; i++) {
      expect(reads.next().kind).toBe('read');
      expect(writes.next().kind).toBe('write');
    }
  });

  it('the read share converges to the asked ratio and keys stay in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: 5000 }), fc.integer(), (pct, keys, seed) => {
        const mix = new OpMix(pct / 100, keys, seed);
        let reads = 0;
        let key_min = Infinity;
        let key_max = -Infinity;
        const n = 10_000;
        for (let i = 0; i < n; i++) {
          const c = mix.next();
          if (c.kind === 'read') reads++;
          key_min = Math.min(key_min, c.key);
          key_max = Math.max(key_max, c.key);
        }
        expect(key_min).toBeGreaterThanOrEqual(0);
        expect(key_max).toBeLessThan(keys);
        expect(Math.abs(reads / n - pct / 100)).toBeLessThan(0.03); // 6 standard deviations at 50%
      }),
      bounded({ numRuns: 20 }),
    );
  });

  it('the same seed replays the same sequence; another seed does not', () => {
    const take = (seed: number) => {
      const m = new OpMix(0.5, 1000, seed);
      return Array.from({ length: 50 }, () => m.next());
    };
    expect(take(7)).toEqual(take(7));
    expect(take(7)).not.toEqual(take(8));
  });

  it('refuses ratios outside 0..1 and empty key spaces', () => {
    expect(() => new OpMix(1.5, 10, 1)).toThrow();
    expect(() => new OpMix(0.5, 0, 1)).toThrow();
  });

  it('key paths have one fixed width, so every request has the same size', () => {
    expect(keyPath('/r', 7).length).toBe(keyPath('/r', 1_234_567).length);
  });
});

describe('open loop phases', () => {
  it('clients of a run start at spread-out points of their interval, not all at once', () => {
    // In step, 50 clients at 19 req/s each hit the server as one burst of 50 every 52 ms: that
    // measured queueing the load generator made (p50 5 ms instead of 1.3 ms at 960 writes/s).
    const phases = Array.from({ length: 50 }, (_, i) => sendPhase(clientSeed(1, i)));
    for (const p of phases) expect(p >= 0 && p < 1).toBe(true);
    const per_tenth = Array.from({ length: 10 }, (_, t) => phases.filter((p) => Math.floor(p * 10) === t).length);
    expect(Math.max(...per_tenth)).toBeLessThanOrEqual(12);
    expect(new Set(phases).size).toBe(50);
  });
});

describe('Fifo', () => {
  it('behaves like an array queue across growth', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 500 }), (ops) => {
        const q = new Fifo<number>(2);
        const model: number[] = [];
        for (const op of ops) {
          if (op === null) expect(q.shift()).toBe(model.shift());
          else q.push(op), model.push(op);
          expect(q.size).toBe(model.length);
          expect(q.peek()).toBe(model[0]);
        }
      }),
      bounded(),
    );
  });
});

describe('clients spread over threads and endpoints', () => {
  it('every client lands on exactly one thread, round robin over the ensemble', () => {
    const eps = parseConnectString('127.0.0.1:1,127.0.0.1:2,127.0.0.1:3');
    const parts = splitClients(10, 4, eps);
    expect(parts.flatMap((p) => p.indexes).sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    const per_port = new Map<number, number>();
    for (const p of parts) for (const e of p.endpoints) per_port.set(e.port, (per_port.get(e.port) ?? 0) + 1);
    expect([...per_port.values()].sort()).toEqual([3, 3, 4]);
  });

  it('never starts an idle thread', () => {
    expect(splitClients(2, 8, parseConnectString('h:1'))).toHaveLength(2);
  });
});

describe('connect strings', () => {
  it('parses hosts, ports, IPv6 and the default port', () => {
    expect(parseConnectString('a:1, [::1]:2,b')).toEqual([
      { host: 'a', port: 1 },
      { host: '::1', port: 2 },
      { host: 'b', port: 2181 },
    ]);
  });

  it('refuses chroots and bad ports', () => {
    expect(() => parseConnectString('a:1/app')).toThrow(/chroot/);
    expect(() => parseConnectString('a:99999')).toThrow(/port/);
  });
});

describe('/proc accounting', () => {
  it('reads utime + stime even when the thread name has spaces and parentheses', () => {
    const line = '4242 (C2 Comp (x) 1) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 30 0 100 0 0';
    expect(parseStatCpuSeconds(line, 100)).toBeCloseTo(3.0);
  });

  it('refuses a line it cannot read instead of reporting zero', () => {
    expect(() => parseStatCpuSeconds('garbage', 100)).toThrow();
  });
});

describe('Recorder', () => {
  it('counts only completions inside the window, but every counted completion in the timeline', () => {
    const r = new Recorder(new Set(['read', 'write']));
    r.setWindow(1000, 2000);
    r.record('read', 1, 999, 0); // warm-up
    r.record('read', 2, 1000, 0);
    r.record('write', 3, 1500, -101);
    r.record('delete', 4, 1600, 0); // tallied, not an op
    r.record('read', 5, 2000, 0); // after the window
    expect(r.totals.read.count).toBe(1);
    expect(r.totals.write).toEqual({ count: 1, errors: 1 });
    expect(r.totals.delete.count).toBe(1);
    expect([...r.error_codes]).toEqual([[-101, 1]]);
    const interval = r.takeInterval();
    expect(interval.ops).toBe(4);
    expect(interval.errors).toBe(1);
    expect(r.takeInterval().ops).toBe(0);
  });
});

describe("load_gen's log", () => {
  const log = [
    '2026-11-25 04:07:49,031:1(0x1):ZOO_INFO@main@246: Checking server connection...',
    '2026-11-25 04:07:49,057:1(0x1):ZOO_INFO@main@263: Creating children for path /lg',
    '2026-11-25 04:07:49,100:1(0x1):ZOO_INFO@doCreateNodes@98: Created /lg/0',
    '2026-11-25 04:07:51,057:1(0x1):ZOO_INFO@main@267: Starting the write cycle for path /lg',
    '2026-11-25 04:07:52,057:1(0x1):ZOO_INFO@main@270: Starting the read cycle for path /lg',
    '2026-11-25 04:07:52,557:1(0x1):ZOO_INFO@main@274: Starting the delete cycle for path /lg',
    '2026-11-25 04:07:53,057:1(0x1):ZOO_INFO@main@263: Creating children for path /lg',
    '2026-11-25 04:07:54,057:1(0x1):ZOO_INFO@main@267: Starting the write cycle for path /lg',
  ].join('\n');

  it('turns phase start times into per-phase rates, leaving out the unfinished last phase', () => {
    const phases = parseLoadGenLog(log, 10_000);
    expect(phases.map((p) => [p.phase, p.cycle, Math.round(p.ops_per_s)])).toEqual([
      ['create', 0, 5_000],
      ['write', 0, 10_000],
      ['read', 0, 20_000],
      ['delete', 0, 20_000],
      ['create', 1, 10_000],
    ]);
  });

  it('median of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBe(0);
  });
});
