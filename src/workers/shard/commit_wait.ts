// A read worker's wait for known commits, sans-IO: client frames that find the replica knowing
// of a commit newer than the shard's root (a follower holding the leader's COMMIT, still
// applying it: ../known_commit.ts) are not read until the shard's root reaches that commit, or
// until wait_ms_max has passed. Reading them later keeps every session's FIFO as it is (they wait
// in the ring, as they do while a commit batch is open).
//
// Invariants:
// - the target is fixed when frames first wait (the known commit then): frames never wait for
//   commits learned of after that, so a steady stream of commits cannot starve clients; after
//   the target is reached the frames waiting are read, whatever is known by then;
// - a wait that timed out is not begun again for the same commits (given_up_zxid): a commit
//   worker that stops publishing (it reloads from disk, it is stuck) costs client frames at
//   most one wait_ms_max, then they are served from the root the shard has, as without this.

export class CommitWait {
  /** The zxid frames wait for; -1 = none waits. */
  private target_zxid = -1;
  private since_ms = 0;
  /** Known commits up to here are not waited for again (a wait for them timed out). */
  private given_up_zxid = 0;

  constructor(
    /** 0: frames never wait. */
    private readonly wait_ms_max: number,
    /** The highest zxid the replica knows committed (KnownCommitView.zxid). */
    private readonly known_zxid: () => number,
    /** Told of each wait begun and each timeout (ShardMetrics). */
    private readonly counted: { commitWait(): void; commitWaitTimeout(): void },
  ) {}

  /** Whether client frames must wait now, the shard's root being at `root_zxid`. */
  holds(root_zxid: number, now_ms: number): boolean {
    if (this.target_zxid === -1) {
      if (this.wait_ms_max === 0) return false;
      const known = this.known_zxid();
      if (known <= root_zxid || known <= this.given_up_zxid) return false;
      this.target_zxid = known;
      this.since_ms = now_ms;
      this.counted.commitWait();
      return true;
    }
    if (root_zxid >= this.target_zxid) {
      this.target_zxid = -1;
      return false;
    }
    if (now_ms - this.since_ms < this.wait_ms_max) return true;
    this.counted.commitWaitTimeout();
    this.given_up_zxid = this.target_zxid;
    this.target_zxid = -1;
    return false;
  }

  /** Frames wait (holds said so and nothing has ended the wait since). */
  get waiting(): boolean {
    return this.target_zxid !== -1;
  }

  /** How long the current wait may last still, in ms (0 when none waits). */
  left_ms(now_ms: number): number {
    return this.target_zxid === -1 ? 0 : Math.max(0, this.since_ms + this.wait_ms_max - now_ms);
  }
}
