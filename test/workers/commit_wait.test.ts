// A read worker's wait for commits its replica knows of (src/workers/shard/commit_wait.ts) and
// the shared word that says what is known (src/workers/known_commit.ts). What must hold: client
// frames wait exactly while the shard's root lacks a commit known when they began to wait; a
// commit learned of later never extends the wait (no starvation under a stream of commits); a
// wait ends after its bound and is not begun again for the same commits; 0 turns it off.

import { describe, expect, it } from 'vitest';
import { CommitWait } from '../../src/workers/shard/commit_wait.js';
import { createKnownCommit, KnownCommitView, KnownCommitWriter } from '../../src/workers/known_commit.js';

const EPOCH_2 = 2 * 0x1_0000_0000;

describe('known commit (one writer, readers in other threads)', () => {
  it('carries zxids of any epoch and only grows', () => {
    const sab = createKnownCommit();
    const writer = new KnownCommitWriter(sab);
    const view = new KnownCommitView(sab);
    expect(view.zxid()).toBe(0);
    writer.advance(EPOCH_2 + 7);
    expect(view.zxid()).toBe(EPOCH_2 + 7);
    writer.advance(EPOCH_2 + 3); // an older COMMIT (cumulative): ignored
    expect(view.zxid()).toBe(EPOCH_2 + 7);
    writer.advance(3 * 0x1_0000_0000 + 0xffff_ffff);
    expect(view.zxid()).toBe(3 * 0x1_0000_0000 + 0xffff_ffff);
  });

  it('a reader that finds the word changing answers the last value it read whole', () => {
    const sab = createKnownCommit();
    const writer = new KnownCommitWriter(sab);
    const view = new KnownCommitView(sab);
    writer.advance(5);
    expect(view.zxid()).toBe(5);
    const words = new Int32Array(sab);
    Atomics.add(words, 0, 1); // the writer stopped mid-update (seq odd)
    words[2] = 9;
    expect(view.zxid()).toBe(5);
    Atomics.add(words, 0, 1);
    expect(view.zxid()).toBe(9);
  });
});

/** What the shard's metrics are told (ShardMetrics.commitWait / commitWaitTimeout). */
function counter(): { waits: number; timeouts: number; commitWait(): void; commitWaitTimeout(): void } {
  return {
    waits: 0,
    timeouts: 0,
    commitWait() {
      this.waits++;
    },
    commitWaitTimeout() {
      this.timeouts++;
    },
  };
}

describe('commit wait', () => {
  it('holds client frames while the root lacks the commit known when they began to wait', () => {
    let known = 10;
    const counted = counter();
    const wait = new CommitWait(50, () => known, counted);
    expect(wait.holds(10, 0)).toBe(false); // the root has everything known
    known = 12;
    expect(wait.holds(10, 1)).toBe(true);
    expect(wait.waiting).toBe(true);
    expect(wait.left_ms(11)).toBe(40);
    expect(wait.holds(11, 2)).toBe(true); // the root moved, not far enough
    known = 20; // learned of later: not waited for by these frames
    expect(wait.holds(12, 3)).toBe(false);
    expect(wait.waiting).toBe(false);
    expect(wait.left_ms(3)).toBe(0);
    // Frames that wait from now on wait for what is known now.
    expect(wait.holds(12, 4)).toBe(true);
    expect(wait.holds(20, 5)).toBe(false);
    expect([counted.waits, counted.timeouts]).toEqual([2, 0]);
  });

  it('ends a wait after its bound and does not wait for the same commits again', () => {
    let known = 12;
    const counted = counter();
    const wait = new CommitWait(50, () => known, counted);
    expect(wait.holds(10, 100)).toBe(true);
    expect(wait.holds(10, 149)).toBe(true);
    expect(wait.holds(10, 150)).toBe(false); // timed out: served from the root the shard has
    expect(counted.timeouts).toBe(1);
    expect(wait.holds(10, 151)).toBe(false); // the same commits: no second wait
    known = 13; // a newer commit: waited for again, with a bound of its own
    expect(wait.holds(10, 152)).toBe(true);
    expect(wait.holds(13, 153)).toBe(false);
    expect([counted.waits, counted.timeouts]).toEqual([2, 1]);
  });

  it('never holds with a bound of 0', () => {
    const counted = counter();
    const wait = new CommitWait(0, () => 1_000, counted);
    expect(wait.holds(1, 0)).toBe(false);
    expect(wait.waiting).toBe(false);
    expect(counted.waits).toBe(0);
  });
});
