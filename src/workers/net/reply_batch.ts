// The replies the net worker gathers during one poll of the shards' rings, written with ONE
// socket write per connection per poll. A ring frame is only valid during its poll callback, so
// each reply is copied once, into an arena: a large Buffer used as a bump allocator and reused
// poll after poll. Measured per 1 KB reply: Buffer.copyBytesFrom of the ring's SharedArrayBuffer
// 2.4 us; a copy into a fresh arena ~0.5 us, most of it page faults on the new memory; into a
// reused arena ~0.15 us (copyFromShared). At saturation a connection gets ~90 replies (~100 KB)
// per poll.
//
// Consecutive replies of one connection land next to each other and go out as one view of the
// arena. A connection whose replies are not contiguous (interleaved with another's, or across
// two arenas) is written with one writev of its parts (cork / uncork), not copied again.
//
// Invariants:
// - bytes of an arena below its `used` are written once until the arena is rewound, and it is
//   rewound only between polls, when no connection has replies pending (so every view of it
//   was written or dropped) and no socket kept one (a write the kernel does not take whole
//   keeps its Buffers until sent: that arena is `held`, and left to the GC);
// - a socket that already has unsent output gets copies of its own, never views. So a client
//   that stops reading holds at most one arena (its last write that found the socket idle),
//   and an arena is small (REPLY_ARENA_BYTES, less than a socket's kernel send buffer): what a
//   stuck client keeps alive stays of the order of what the kernel keeps for it anyway;
// - at most ARENAS_FREE_MAX rewound arenas are kept between polls.

import { copyFromShared, SKEW_BYTES_MAX } from '../../memory/shared_copy.js';

/** Size of one arena. A reply of a quarter of it or more gets a Buffer of its own. */
export const REPLY_ARENA_BYTES = 64 * 1024;
const OWN_BUFFER_BYTES_MIN = REPLY_ARENA_BYTES / 4;
/** Rewound arenas kept for the next polls: a saturated poll (~1 MB of replies) uses ~16. */
const ARENAS_FREE_MAX = 32;

/** What ReplyBatch needs of a socket (net.Socket has it). */
export interface ReplySink {
  /** Bytes accepted by write() and not yet handed to the kernel. */
  readonly writableLength: number;
  write(data: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
}

interface Arena {
  readonly buf: Buffer;
  /** Bytes copied into. Invariant: 0 <= used <= buf.length. */
  used: number;
  /** A socket kept a view of it (its write did not complete at once): never rewound. */
  held: boolean;
}

/** What one connection received during the poll, in order. */
interface Gathered {
  /** Finished parts, in order: views of arenas, or Buffers of their own; null: none yet (most
   *  connections get one run per poll: no array for them). */
  parts: Buffer[] | null;
  /** Arenas `parts` has views of (null: none). */
  arenas: Arena[] | null;
  /** The open run: bytes [run_start, run_end) of run_arena, after every part. null: none. */
  run_arena: Arena | null;
  run_start: number;
  run_end: number;
  bytes: number;
}

export class ReplyBatch<C> {
  /** Arenas used since the last rewind; the last one is the current one. Never empty. */
  private readonly in_use: Arena[] = [];
  private readonly free: Arena[] = [];
  /** Insertion order = the order of each connection's first reply in the poll. */
  private readonly gathered = new Map<C, Gathered>();
  /** Arenas allocated so far (for tests and stats). */
  arenas_allocated = 0;

  constructor() {
    this.in_use.push(this.newArena());
  }

  get size(): number {
    return this.gathered.size;
  }

  has(conn: C): boolean {
    return this.gathered.has(conn);
  }

  connections(): IterableIterator<C> {
    return this.gathered.keys();
  }

  /** Appends src[start, end) (e.g. a frame in a ring, valid only now) to `conn`'s output. */
  add(conn: C, src: Uint8Array, start: number, end: number): void {
    if (this.gathered.size === 0) this.rewind();
    const len = end - start;
    let g = this.gathered.get(conn);
    if (g === undefined) {
      g = { parts: null, arenas: null, run_arena: null, run_start: 0, run_end: 0, bytes: 0 };
      this.gathered.set(conn, g);
    }
    g.bytes += len;
    if (len >= OWN_BUFFER_BYTES_MIN) {
      const own = Buffer.allocUnsafeSlow(len + SKEW_BYTES_MAX);
      copyFromShared(own, 0, src, start, len);
      closeRun(g);
      (g.parts ??= []).push(own.subarray(0, len));
      return;
    }
    const a = this.reserve(len + SKEW_BYTES_MAX);
    const at = a.used;
    a.used += len;
    copyFromShared(a.buf, at, src, start, len);
    if (g.run_arena === a && g.run_end === at) {
      g.run_end = at + len;
      return;
    }
    closeRun(g);
    g.run_arena = a;
    g.run_start = at;
    g.run_end = at + len;
  }

  /**
   * Writes everything `conn` received in this poll to `sink`, in order, and removes it from the
   * batch; returns the bytes written (0: nothing pending). `queued`: the sink already holds
   * unsent output, so what is written now waits in its queue: it gets bytes of its own.
   */
  writeTo(conn: C, sink: ReplySink, queued: boolean): number {
    const g = this.gathered.get(conn);
    if (g === undefined) return 0;
    this.gathered.delete(conn);
    if (g.parts === null && g.run_arena !== null) {
      const run = g.run_arena.buf.subarray(g.run_start, g.run_end);
      sink.write(queued ? Buffer.from(run) : run);
      if (!queued && sink.writableLength > 0) g.run_arena.held = true;
      return g.bytes;
    }
    closeRun(g);
    const parts = g.parts ?? [];
    if (queued) {
      sink.write(Buffer.concat(parts, g.bytes));
      return g.bytes;
    }
    if (parts.length === 1) sink.write(parts[0]);
    else {
      // One writev for all the parts (Node gathers corked writes), instead of a copy.
      sink.cork();
      for (const p of parts) sink.write(p);
      sink.uncork();
    }
    if (sink.writableLength > 0 && g.arenas !== null) for (const a of g.arenas) a.held = true;
    return g.bytes;
  }

  /** Drops whatever `conn` received (its socket is gone). */
  drop(conn: C): void {
    this.gathered.delete(conn);
  }

  /** Between polls: arenas nobody reads any more start over; held ones are let go. */
  private rewind(): void {
    if (this.in_use.length === 1 && this.in_use[0].used === 0) return;
    for (const a of this.in_use) {
      if (a.held || this.free.length >= ARENAS_FREE_MAX) continue;
      a.used = 0;
      this.free.push(a);
    }
    this.in_use.length = 0;
    this.in_use.push(this.free.pop() ?? this.newArena());
  }

  /** The current arena if it has `bytes` free, else the next one. */
  private reserve(bytes: number): Arena {
    const a = this.in_use[this.in_use.length - 1];
    if (a.buf.length - a.used >= bytes) return a;
    const next = this.free.pop() ?? this.newArena();
    this.in_use.push(next);
    return next;
  }

  private newArena(): Arena {
    this.arenas_allocated++;
    return { buf: Buffer.allocUnsafeSlow(REPLY_ARENA_BYTES), used: 0, held: false };
  }
}

/** Turns the open run, if any, into a part (a view of its arena). */
function closeRun(g: Gathered): void {
  const a = g.run_arena;
  if (a === null) return;
  (g.parts ??= []).push(a.buf.subarray(g.run_start, g.run_end));
  const arenas = (g.arenas ??= []);
  if (!arenas.includes(a)) arenas.push(a);
  g.run_arena = null;
}
