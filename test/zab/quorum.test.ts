import { describe, expect, it } from 'vitest';
import { QuorumVerifier } from '../../src/zab/quorum.js';

describe('QuorumVerifier', () => {
  it('is a strict majority of the voters; observers never count', () => {
    const q = new QuorumVerifier([1, 2, 3, 4, 5], [6, 7]);
    expect(q.quorum_size).toBe(3);
    expect(q.containsQuorum([1, 2])).toBe(false);
    expect(q.containsQuorum([1, 2, 6, 7])).toBe(false);
    expect(q.containsQuorum([1, 2, 3])).toBe(true);
    expect(q.containsQuorum([1, 1, 2, 2])).toBe(false); // repeats count once
    expect(new QuorumVerifier([1, 2, 3, 4]).quorum_size).toBe(3);
    expect(new QuorumVerifier([7]).containsQuorum([7])).toBe(true);
  });

  it('any two quorums intersect (exhaustively for 1..6 voters)', () => {
    for (let n = 1; n <= 6; n++) {
      const voters = Array.from({ length: n }, (_, i) => i + 1);
      const q = new QuorumVerifier(voters);
      const subsets = Array.from({ length: 1 << n }, (_, m) => voters.filter((_, i) => m & (1 << i)));
      const quorums = subsets.filter((s) => q.containsQuorum(s));
      for (const a of quorums) for (const b of quorums) expect(a.some((x) => b.includes(x))).toBe(true);
    }
  });

  it('rejects inconsistent membership', () => {
    expect(() => new QuorumVerifier([])).toThrow(/no voters/);
    expect(() => new QuorumVerifier([1, 1])).toThrow(/duplicate/);
    expect(() => new QuorumVerifier([1, 2], [2])).toThrow(/both voter and observer/);
    expect(() => new QuorumVerifier([-1])).toThrow(/bad sid/);
  });

  it('sameAs compares voters and observers, in any order', () => {
    const q = new QuorumVerifier([1, 2, 3], [9]);
    expect(q.sameAs(new QuorumVerifier([3, 1, 2], [9]))).toBe(true);
    expect(q.sameAs(new QuorumVerifier([1, 2, 3], []))).toBe(false);
    expect(q.sameAs(new QuorumVerifier([1, 2, 9], [3]))).toBe(false);
  });

  it('lists peers voters first', () => {
    expect(new QuorumVerifier([1, 2, 3], [9]).peersOf(2)).toEqual([1, 3, 9]);
  });
});
