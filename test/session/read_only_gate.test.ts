// When a replica enters and leaves read-only mode (src/session/read_only_gate.ts): ZooKeeper's
// rule is "LOOKING for max(2 s, tickTime), then read-only; out as soon as the election ends".

import { describe, expect, it } from 'vitest';
import { READ_ONLY_GRACE_MS_MIN, ReadOnlyGate } from '../../src/session/read_only_gate.js';

const LOOKING = { state: 'LOOKING', serving: false };
const FOLLOWING_SYNC = { state: 'FOLLOWING', serving: false };
const FOLLOWING = { state: 'FOLLOWING', serving: true };

describe('ReadOnlyGate', () => {
  it('uses max(2 s, tickTime) as the grace period', () => {
    expect(ReadOnlyGate.forTick(500).grace_ms).toBe(READ_ONLY_GRACE_MS_MIN);
    expect(ReadOnlyGate.forTick(3000).grace_ms).toBe(3000);
  });

  it('enters read-only mode only after LOOKING for the whole grace period', () => {
    const g = new ReadOnlyGate(2000);
    expect(g.step(LOOKING, 10_000)).toBeNull();
    expect(g.step(LOOKING, 11_999)).toBeNull();
    expect(g.active).toBe(false);
    expect(g.step(LOOKING, 12_000)).toBe('enter');
    expect(g.active).toBe(true);
    expect(g.step(LOOKING, 20_000)).toBeNull(); // entered once
  });

  it('a short election does not start the grace period over from its end', () => {
    const g = new ReadOnlyGate(2000);
    g.step(LOOKING, 0);
    expect(g.step(FOLLOWING_SYNC, 1500)).toBeNull(); // the election ended: the clock resets
    expect(g.step(LOOKING, 1600)).toBeNull();
    expect(g.step(LOOKING, 3500)).toBeNull(); // 1.9 s of LOOKING since 1600
    expect(g.step(LOOKING, 3600)).toBe('enter');
  });

  it('leaves as soon as the replica stops LOOKING, before it serves (ZooKeeper shuts the read-only server when the election ends)', () => {
    const g = new ReadOnlyGate(2000);
    g.step(LOOKING, 0);
    expect(g.step(LOOKING, 2000)).toBe('enter');
    expect(g.step(FOLLOWING_SYNC, 2100)).toBe('leave');
    expect(g.active).toBe(false);
    expect(g.step(FOLLOWING, 2200)).toBeNull();
  });

  it('never enters while serving', () => {
    const g = new ReadOnlyGate(0);
    expect(g.step(FOLLOWING, 0)).toBeNull();
    expect(g.step({ state: 'LEADING', serving: true }, 10_000)).toBeNull();
    expect(g.active).toBe(false);
  });
});
