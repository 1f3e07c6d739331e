import { describe, expect, it } from 'vitest';
import { Memberships } from '../../src/zab/membership.js';
import { QuorumVerifier } from '../../src/zab/quorum.js';
import { makeZxid, ZXID_ZERO } from '../../src/zab/zxid.js';

const z = (c: number) => makeZxid(1, c);

describe('Memberships: the quorums in force while the voters change', () => {
  it('with nothing in flight, the active membership decides alone', () => {
    const m = new Memberships(new QuorumVerifier([1, 2, 3], [4]));
    expect(m.containsQuorum([1, 2])).toBe(true);
    expect(m.voters).toEqual([1, 2, 3]);
    expect(m.isMember(4)).toBe(true);
    expect(m.isVoter(4)).toBe(false);
  });

  it('a reconfig in flight: quorums of the old AND the new voters, members of both heard', () => {
    const m = new Memberships(new QuorumVerifier([1, 2, 3]));
    m.propose(z(5), new QuorumVerifier([3, 4, 5]));
    expect(m.voters).toEqual([1, 2, 3, 4, 5]);
    expect(m.isVoter(5)).toBe(true);
    expect(m.containsQuorum([1, 2])).toBe(false); // old quorum only
    expect(m.containsQuorum([4, 5])).toBe(false); // new quorum only
    expect(m.containsQuorum([1, 3, 4])).toBe(true); // both
    // Which txns need both quorums: Leader.advanceCommit (test/zab/reconfig.test.ts).
  });

  it('commitThrough activates what the commit point passed; dropAfter forgets a truncated one', () => {
    const m = new Memberships(new QuorumVerifier([1, 2, 3]));
    m.propose(z(5), new QuorumVerifier([1, 2, 3, 4]));
    expect(m.commitThrough(z(4))).toBe(false);
    expect(m.commitThrough(z(5))).toBe(true);
    expect(m.active.voters).toEqual([1, 2, 3, 4]);
    expect(m.active_version).toEqual(z(5));
    expect(m.pending).toHaveLength(0);
    m.propose(z(8), new QuorumVerifier([1, 2]));
    m.dropAfter(z(7));
    expect(m.pending).toHaveLength(0);
    expect(m.containsQuorum([1, 2, 3])).toBe(true);
  });

  it('setActive takes a newer committed membership only, and the pending ones it covers', () => {
    const m = new Memberships(new QuorumVerifier([1, 2, 3]), z(2));
    m.propose(z(5), new QuorumVerifier([1, 2, 3, 4]));
    expect(m.setActive(new QuorumVerifier([1, 2]), z(1))).toBe(false);
    expect(m.setActive(new QuorumVerifier([1, 2, 3]), z(2))).toBe(false);
    expect(m.setActive(new QuorumVerifier([1, 2, 3, 4]), z(5))).toBe(true);
    expect(m.pending).toHaveLength(0);
  });

  it('a reconfig must come after the active one and the ones in flight', () => {
    const m = new Memberships(new QuorumVerifier([1, 2, 3]), z(5));
    expect(() => m.propose(z(5), new QuorumVerifier([1]))).toThrow(/not after/);
    m.propose(z(7), new QuorumVerifier([1, 2]));
    expect(() => m.propose(z(6), new QuorumVerifier([1]))).toThrow(/not after/);
    expect(new Memberships(new QuorumVerifier([1])).active_version).toEqual(ZXID_ZERO);
  });
});
