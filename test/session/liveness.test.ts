// The session liveness table: what the tracker reports, its file format (checked on read), the
// file's atomic rewrite, and how recovery turns it into remaining timeouts (resume.ts).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_LOG_FS, type LogFs } from '../../src/log/log_fs.js';
import { LIVENESS_FILE, LivenessWriter, readLivenessFile } from '../../src/session/liveness_file.js';
import { decodeLiveness, encodeLiveness, LivenessFormatError } from '../../src/session/liveness_format.js';
import { resumeTimeouts } from '../../src/session/resume.js';
import { SessionTracker } from '../../src/session/session_tracker.js';
import { bounded } from '../support/fc_bounds.js';

const PW = new Uint8Array(16);
const root = mkdtempSync(join(tmpdir(), 'waitfree-liveness-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('SessionTracker liveness', () => {
  it('reports the time left of live sessions, not of closing ones', () => {
    const s = new SessionTracker(1000);
    s.add(1n, 4000, 10_500, PW); // due 15000
    s.add(2n, 9000, 10_500, PW); // due 20000
    s.add(3n, 4000, 10_500, PW);
    s.setClosing(3n);
    expect(s.liveness(12_000)).toEqual([
      { session_id: 1n, remaining_ms: 3000 },
      { session_id: 2n, remaining_ms: 8000 },
    ]);
    expect(s.liveness(16_000)).toContainEqual({ session_id: 1n, remaining_ms: 0 });
  });

  it('a recovered session is due after what it had left, not after its whole timeout', () => {
    const s = new SessionTracker(1000);
    s.add(1n, 30_000, 100_000, PW, 2500);
    expect(s.get(1n)?.expiry_ms).toBe(103_000);
    expect(s.expire(102_999)).toEqual([]);
    expect(s.expire(103_000)).toEqual([1n]);
    s.add(2n, 30_000, 100_000, PW, 0); // overdue: the next tick
    expect(s.expire(101_000)).toEqual([2n]);
    expect(() => s.add(3n, 1000, 0, PW, 2000)).toThrow(/due_in_ms/);
  });

  it('version moves on add, remove and bucket changes only', () => {
    const s = new SessionTracker(1000);
    const v0 = s.version;
    s.add(1n, 4000, 0, PW);
    const v1 = s.version;
    expect(v1).toBeGreaterThan(v0);
    s.touch(1n, 100); // same bucket (5000)
    expect(s.version).toBe(v1);
    s.touch(1n, 1500); // bucket 6000
    expect(s.version).toBeGreaterThan(v1);
    const v2 = s.version;
    s.remove(1n);
    expect(s.version).toBeGreaterThan(v2);
  });
});

describe('liveness file format', () => {
  const arb = fc.record({
    written_ms: fc.integer({ min: 0, max: 2 ** 50 }),
    entries: fc.array(fc.record({ session_id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), remaining_ms: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }), { maxLength: 50 }),
  });

  it('round-trips any table', () => {
    fc.assert(
      fc.property(arb, (l) => {
        expect(decodeLiveness(encodeLiveness(l))).toEqual(l);
      }),
      bounded(),
    );
  });

  it('rejects any flipped bit and any truncation', () => {
    fc.assert(
      fc.property(arb, fc.nat(), fc.integer({ min: 0, max: 7 }), (l, at, bit) => {
        const bytes = encodeLiveness(l);
        const flipped = bytes.slice();
        flipped[at % bytes.length] ^= 1 << bit;
        expect(() => decodeLiveness(flipped)).toThrow(LivenessFormatError);
        expect(() => decodeLiveness(bytes.subarray(0, at % bytes.length))).toThrow(LivenessFormatError);
      }),
      bounded(),
    );
  });
});

describe('liveness file', () => {
  it('is replaced whole; a missing or damaged file is reported, not thrown', async () => {
    const dir = mkdtempSync(join(root, 'f-'));
    expect(readLivenessFile(dir)).toMatchObject({ ok: false, missing: true });
    const w = new LivenessWriter(NODE_LOG_FS, { dir, fsync: true });
    const table = { written_ms: 1_700_000_000_000, entries: [{ session_id: 7n, remaining_ms: 1234 }] };
    expect(await w.write(table, () => {})).toBe(true);
    expect(readLivenessFile(dir)).toEqual({ ok: true, liveness: table });
    const next = { written_ms: 1_700_000_002_000, entries: [] };
    expect(await w.write(next, () => {})).toBe(true);
    expect(readLivenessFile(dir)).toEqual({ ok: true, liveness: next });
    const bytes = readFileSync(join(dir, LIVENESS_FILE));
    bytes[10] ^= 0xff;
    writeFileSync(join(dir, LIVENESS_FILE), bytes);
    expect(readLivenessFile(dir)).toMatchObject({ ok: false, missing: false, reason: expect.stringMatching(/checksum/) });
  });

  it('a failed write leaves the previous table in place and reports the error', async () => {
    const dir = mkdtempSync(join(root, 'g-'));
    const good = new LivenessWriter(NODE_LOG_FS, { dir, fsync: true });
    const table = { written_ms: 5, entries: [{ session_id: 1n, remaining_ms: 9 }] };
    await good.write(table, () => {});
    const enospc: LogFs = { ...NODE_LOG_FS, write: async () => Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' })) };
    const bad = new LivenessWriter(enospc, { dir, fsync: true });
    const errors: unknown[] = [];
    expect(await bad.write({ written_ms: 6, entries: [] }, (e) => errors.push(e))).toBe(false);
    expect(errors).toHaveLength(1);
    expect(bad.failed).toBe(1);
    expect(readLivenessFile(dir)).toEqual({ ok: true, liveness: table });
  });
});

describe('resumeTimeouts', () => {
  const sessions = new Map([
    [1n, { timeout_ms: 30_000 }],
    [2n, { timeout_ms: 30_000 }],
    [3n, { timeout_ms: 10_000 }],
    [4n, { timeout_ms: 10_000 }],
  ]);

  it('charges each session what it had used before the crash, never the outage', () => {
    const r = resumeTimeouts({
      sessions,
      // 2 wrote at 1_050_000 (a touch); 3 is listed but idle long enough to be overdue.
      last_txn_ms: new Map([[2n, 1_050_000]]),
      liveness: {
        written_ms: 1_040_000,
        entries: [
          { session_id: 1n, remaining_ms: 25_000 },
          { session_id: 2n, remaining_ms: 1000 },
          { session_id: 3n, remaining_ms: 4000 },
        ],
      },
      last_known_ms: 1_050_000,
    });
    // 1: due 1_065_000, 15 s after the last known moment.
    expect(r.remaining_ms.get(1n)).toBe(15_000);
    // 2: its txn at the last known moment renewed it fully.
    expect(r.remaining_ms.get(2n)).toBe(30_000);
    // 3: was due at 1_044_000, before the crash: expires at once.
    expect(r.remaining_ms.get(3n)).toBe(0);
    // 4: nothing known: the whole timeout.
    expect(r.remaining_ms.get(4n)).toBe(10_000);
    expect(r).toMatchObject({ unknown: 1, overdue: 1 });
  });

  it('never grants more than the timeout, nor less than zero, whatever the clocks say', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2e12 }), fc.integer({ min: 0, max: 2e12 }), fc.nat(2 ** 31), (written, known, left) => {
        const r = resumeTimeouts({
          sessions,
          last_txn_ms: new Map(),
          liveness: { written_ms: written, entries: [{ session_id: 1n, remaining_ms: left }] },
          last_known_ms: known,
        });
        const v = r.remaining_ms.get(1n)!;
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(30_000);
      }),
      bounded(),
    );
  });
});
