// The highest zxid this replica knows to be committed, which may be ahead of the newest root the
// commit worker has published: a follower learns of a commit when the leader's COMMIT arrives
// (an observer: INFORM), and applying and publishing it takes a while after that (microseconds
// warm, milliseconds for a cold JIT). Written by the commit worker only (quorum_driver.ts), read
// by the read workers and the net worker's fast reads.
//
// Why: ZooKeeper promises a client its own writes and a monotonic view, not other clients'
// writes at another server (that is what sync is for). But clients assume the lag is short:
// one client's write answered by member A, then another client reading at member B. On a fresh
// ensemble that read missed the write ~20 % of the time here (go-zookeeper's TestBasicCluster),
// always with member B already holding the leader's COMMIT, applying it. So a read waits for
// the commits its replica knew of when it arrived (shard/commit_wait.ts), at most
// waitfree.readWaitForKnownCommitMs: a wait for work already in the commit worker's hands,
// never for a quorum round (a read never waits for PROPOSALs).
//
// Layout: three Int32 words, a seqlock (one writer): word 0 seq (odd while changing), words 1-2
// the zxid (hi, lo). The value only grows. A reader that finds it changing, or torn, tries again
// a bounded number of times and then answers the last value it read whole (or 0): the caller
// treats the answer as a hint, bounded in time.

const W_SEQ = 0;
const W_HI = 1;
const W_LO = 2;
/** Padded to a 64-byte line. */
const KNOWN_COMMIT_WORDS = 16;
const U32 = 0x1_0000_0000;
/** A read retries this often while the writer is mid-update (a few stores). */
const READ_TRIES_MAX = 16;

export function createKnownCommit(): SharedArrayBuffer {
  return new SharedArrayBuffer(KNOWN_COMMIT_WORDS * 4);
}

/** The commit worker's side. */
export class KnownCommitWriter {
  private readonly words: Int32Array;
  private zxid_now = 0;

  constructor(sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab, 0, KNOWN_COMMIT_WORDS);
  }

  /** `zxid` is known committed; the value never goes back (an older one is ignored). */
  advance(zxid: number): void {
    if (zxid <= this.zxid_now) return;
    if (!Number.isSafeInteger(zxid)) throw new Error(`known commit: zxid ${zxid} is not a safe integer`);
    this.zxid_now = zxid;
    const w = this.words;
    const seq = w[W_SEQ];
    Atomics.store(w, W_SEQ, seq + 1);
    Atomics.store(w, W_HI, Math.floor(zxid / U32));
    Atomics.store(w, W_LO, zxid % U32 | 0);
    Atomics.store(w, W_SEQ, seq + 2);
  }
}

/** A reader's side (each thread its own). */
export class KnownCommitView {
  private readonly words: Int32Array;
  private last = 0;

  constructor(sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab, 0, KNOWN_COMMIT_WORDS);
  }

  /** The highest zxid known committed (see the header for a read that races the writer). */
  zxid(): number {
    const w = this.words;
    for (let i = 0; i < READ_TRIES_MAX; i++) {
      const seq = Atomics.load(w, W_SEQ);
      if ((seq & 1) === 1) continue;
      const zxid = Atomics.load(w, W_HI) * U32 + (Atomics.load(w, W_LO) >>> 0);
      if (Atomics.load(w, W_SEQ) !== seq) continue;
      if (zxid > this.last) this.last = zxid;
      return this.last;
    }
    return this.last;
  }
}
