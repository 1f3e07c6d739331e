// Reads the net worker answers itself (waitfree.net.fastReads): with one request in flight, a
// read otherwise crosses two thread hops (net → shard → net), and each is a wake-up that costs
// more than the read. When a session has nothing in flight, the net worker can serve its
// getData / exists from the same shared tree root the session's shard serves from, in the
// session's place in its FIFO (there is nobody ahead of it), and tell the shard afterwards
// (NetToShard.SERVED, no wake-up) for the session's touch and counters.
//
// Answered here only when all of these hold; anything else goes to the shard as before:
// - the session is established and every request it sent before was answered (the caller
//   counts frames forwarded vs replies seen: FIFO and read-your-writes);
// - a getData or exists with watch = false (watches are the shard's), read in place
//   (protocol/path_read.ts: well formed, a plain valid path);
// - the node's ACL lets anyone READ (the shard holds the session's auth ids), or it is missing;
// - the shard's served root is settled and stays so while its ring is drained into the
//   connection's output (served_root.ts): the reply is at that root, after every watch event
//   and reply of that root and before any of a newer one (watch-before-data);
// - that root holds every commit the replica knows of (known_commit.ts; else the shard answers,
//   once its root has them: shard/commit_wait.ts);
// - it saves a wake-up and the net worker has time for it: the shard is asleep (forwarding would
//   wake it) and the net worker's event-loop utilization is under BUSY_ELU, or the net worker is
//   mostly idle (under IDLE_ELU). Under load the shards are awake and do the reads, in
//   parallel, as without this path.
//
// The net worker holds one tree reader per shard, pinned at a root no newer than that shard's
// settled root, and only moves it forward (advancePins): the pin on g keeps every root g..newest
// intact (tree_reader.ts), so moving onto the shard's root never reads freed pages.

import { performance } from 'node:perf_hooks';
import type { ServerConfig } from '../../config/server_config.js';
import { Err } from '../../protocol/errors.js';
import { JuteOverflowError, JuteWriter } from '../../protocol/jute.js';
import { encodeReplyWrittenBy } from '../../protocol/messages.js';
import { PathReadFrame } from '../../protocol/path_read.js';
import type { Id } from '../../protocol/types.js';
import { genBefore } from '../../store/arena/generation.js';
import { Doorbell } from '../doorbell.js';
import { KnownCommitView } from '../known_commit.js';
import { ServedRootView } from '../served_root.js';
import { ShardTree } from '../shard/shard_tree.js';
import type { Topology } from '../topology.js';

/** Above this event-loop utilization the net worker leaves every read to the read workers ... */
const BUSY_ELU = 0.9;
/** ... and above this one, those whose shard is awake anyway (no wake-up to save). */
const IDLE_ELU = 0.5;
/** How often the utilization is sampled. */
const LOAD_SAMPLE_MS = 20;

/** What a fast read answered, for the SERVED frame to the shard. */
export interface FastReadAnswer {
  /** The reply frame (length prefix included): a view valid until the next tryAnswer. */
  readonly frame: Uint8Array;
  readonly xid: number;
  readonly opcode: number;
  readonly err: number;
  readonly zxid: number;
}

/** The session's auth ids as the net worker knows them: none (see the ACL rule above). */
const NO_AUTH: readonly Id[] = [];

export class NetFastRead {
  private readonly views: ServedRootView[];
  private readonly trees: ShardTree[];
  private readonly out: JuteWriter;
  private readonly frame = new PathReadFrame();
  private readonly header = { xid: 0, zxid: 0, err: 0 };
  private readonly answer: { frame: Uint8Array; xid: number; opcode: number; err: number; zxid: number } = { frame: new Uint8Array(0), xid: 0, opcode: 0, err: 0, zxid: 0 };
  /** Event-loop utilization over the last LOAD_SAMPLE_MS. */
  private elu_now = 0;
  private readonly doorbells: Doorbell[];
  private readonly known_commit: KnownCommitView;
  private elu = performance.eventLoopUtilization();
  private readonly load_timer: NodeJS.Timeout;

  constructor(topology: Topology, config: ServerConfig) {
    this.views = Array.from({ length: topology.shards }, (_, i) => new ServedRootView(topology.shard_served_root, i));
    this.trees = Array.from({ length: topology.shards }, () => {
      const t = new ShardTree(topology.arena);
      t.pinNewest();
      return t;
    });
    this.doorbells = topology.shard_doorbells.map((sab) => new Doorbell(sab));
    this.known_commit = new KnownCommitView(topology.known_commit);
    this.out = new JuteWriter(4096, config.reply_bytes_max + 4);
    this.load_timer = setInterval(() => this.sampleLoad(), LOAD_SAMPLE_MS);
    this.load_timer.unref();
  }

  close(): void {
    clearInterval(this.load_timer);
    for (const t of this.trees) t.close();
  }

  private sampleLoad(): void {
    const now = performance.eventLoopUtilization();
    this.elu_now = performance.eventLoopUtilization(now, this.elu).utilization;
    this.elu = now;
  }

  /**
   * Answers `payload[start, end)` (one client frame, without its length prefix, of an established session
   * with nothing in flight on `shard`) if it is a read this path may answer; null: forward it.
   * `drain` moves everything the shard has published to the net worker into the connections'
   * output, and says whether the session is still eligible afterwards (open, nothing in flight).
   */
  tryAnswer(shard: number, payload: Uint8Array, drain: () => boolean, start = 0, end = payload.length): FastReadAnswer | null {
    if (this.elu_now >= BUSY_ELU || (this.elu_now >= IDLE_ELU && !this.doorbells[shard].asleep())) return null;
    // Client bytes this path does not take (a watch, another opcode, anything unusual) go to the
    // shard, which decodes them behind its containment boundary.
    const frame = this.frame;
    if (!frame.read(payload, start, end) || frame.watch) return null;
    const view = this.views[shard];
    const tree = this.trees[shard];
    const seq = view.begin();
    if (seq === -1) return null;
    const root = view.root;
    // Only from the newest root: a write another client has had its reply to is in a root
    // published before that reply, and a read sent after it must see it (as on one ZooKeeper
    // server). A shard still behind catches up on the commit stream before it reads a frame.
    if (root.gen !== tree.newestGen()) return null;
    // A commit this replica holds and has not published yet (a follower applying the leader's
    // COMMIT): the shard answers once its root has it.
    if (root.last_zxid < this.known_commit.zxid()) return null;
    // The newest root: never before the one the reader pins, so the pin only moves forward.
    if (root.gen !== tree.gen) tree.advanceTo(root);
    if (!drain() || !view.unchanged(seq)) return null;
    const err = tree.decidePathRead(frame, payload, NO_AUTH, false);
    if (err === Err.NOAUTH) return null;
    const h = this.header;
    h.xid = frame.xid;
    h.zxid = root.last_zxid;
    h.err = err;
    this.out.reset();
    try {
      encodeReplyWrittenBy(h, tree.bodyWriter(frame.opcode), this.out);
    } catch (e) {
      if (e instanceof JuteOverflowError) return null; // the shard answers MARSHALLINGERROR
      throw e;
    }
    const a = this.answer;
    a.xid = frame.xid;
    a.opcode = frame.opcode;
    a.err = err;
    a.zxid = root.last_zxid;
    a.frame = this.out.view_bytes();
    return a;
  }

  /** Moves each reader's pin up to its shard's settled root, so an idle fast path never holds
   *  back the reclamation of old pages (called every net worker turn). */
  advancePins(): void {
    for (let i = 0; i < this.trees.length; i++) {
      const view = this.views[i];
      if (view.begin() === -1) continue;
      const tree = this.trees[i];
      if (genBefore(tree.gen, view.root.gen)) tree.advanceTo(view.root);
    }
  }
}
