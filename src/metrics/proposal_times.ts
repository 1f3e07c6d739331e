// When each of a leader's proposals was made, kept until the quorum committed it and every
// follower in session acknowledged it, so the driver can time propose -> quorum commit
// (quorum_ack_latency) and propose -> each follower's ACK (ack_latency per sid). Pure: the
// caller passes the clock's readings; nothing here touches the protocol.
//
// Zab ACKs and COMMITs are cumulative: one ACK for zxid z acknowledges every proposal up to z,
// so one ACK yields one observation per proposal it newly covers (as ZooKeeper's per-zxid ACKs
// would). A follower's cursor starts at the end of its sync stream (followerSynced): proposals
// it received inside the sync stream were not timed from their proposal, and are not observed.
//
// Bounded: at most `capacity` proposals are kept; past that the oldest is dropped (a follower
// that stopped acknowledging without its session ending yet would otherwise hold them all).
// ACKs of a dropped proposal are not observed.

export class ProposalTimes {
  private zxids: number[] = [];
  private at_ms: number[] = [];
  private head = 0;
  /** Highest zxid the quorum committed (observed); -1 before the first commit. */
  private committed_zxid = -1;
  /** sid -> highest zxid that follower acknowledged (or the end of its sync stream). */
  private readonly acked = new Map<number, number>();

  constructor(private readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`proposal times: capacity ${capacity} is not an integer >= 1`);
  }

  /** Proposals kept (for tests and stats). */
  get size(): number {
    return this.zxids.length - this.head;
  }

  /** A proposal numbered `zxid` was made at `at_ms`. Numbers only grow within one leadership. */
  proposed(zxid: number, at_ms: number): void {
    const last = this.size === 0 ? -1 : this.zxids[this.zxids.length - 1];
    // Not ours to enforce (the driver checks the numbering): start over rather than mis-time.
    if (zxid <= last) this.clear();
    this.zxids.push(zxid);
    this.at_ms.push(at_ms);
    if (this.size > this.capacity) this.head++;
    this.compact();
  }

  /** The quorum committed everything up to `to`: `observe` gets propose -> now of each newly committed one. */
  committed(to: number, now_ms: number, observe: (ms: number) => void): void {
    if (to <= this.committed_zxid) return;
    for (let i = this.firstAbove(this.committed_zxid); i < this.zxids.length && this.zxids[i] <= to; i++) observe(now_ms - this.at_ms[i]);
    this.committed_zxid = to;
    this.trim();
  }

  /** Follower `sid`'s sync stream ended at `zxid`: its ACKs up to there are not timed. */
  followerSynced(sid: number, zxid: number): void {
    this.acked.set(sid, zxid);
  }

  /** Follower `sid` acknowledged everything up to `z`: `observe` gets propose -> now of each newly covered one. */
  ackedBy(sid: number, z: number, now_ms: number, observe: (ms: number) => void): void {
    const cursor = this.acked.get(sid);
    if (cursor === undefined) {
      // No sync stream seen for it (its session began before these times were kept): no baseline.
      this.acked.set(sid, z);
      return;
    }
    if (z <= cursor) return;
    for (let i = this.firstAbove(cursor); i < this.zxids.length && this.zxids[i] <= z; i++) observe(now_ms - this.at_ms[i]);
    this.acked.set(sid, z);
    this.trim();
  }

  /** Follower `sid`'s session ended. */
  forget(sid: number): void {
    if (this.acked.delete(sid)) this.trim();
  }

  /** Leadership ended (or began): nothing kept. */
  clear(): void {
    this.zxids = [];
    this.at_ms = [];
    this.head = 0;
    this.committed_zxid = -1;
    this.acked.clear();
  }

  /** Index of the first kept proposal numbered above `zxid` (binary search: numbers ascend). */
  private firstAbove(zxid: number): number {
    let lo = this.head;
    let hi = this.zxids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.zxids[mid] <= zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops proposals the quorum committed and every follower in session acknowledged. */
  private trim(): void {
    let low = this.committed_zxid;
    for (const z of this.acked.values()) low = Math.min(low, z);
    while (this.head < this.zxids.length && this.zxids[this.head] <= low) this.head++;
    this.compact();
  }

  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.zxids.length) return;
    this.zxids = this.zxids.slice(this.head);
    this.at_ms = this.at_ms.slice(this.head);
    this.head = 0;
  }
}
