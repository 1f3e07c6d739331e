// Which connections have a completion in the commit stage's open root, and what it is (the rule
// in CommitStage.publishTxn: a connection's next txn starts a new root after its sync or error
// answer, or after a read the shard queued behind its last completion).
//
// A stamped map: a mark counts only while its stamp is the open root's serial, so sealing a root
// is one increment instead of a Map.clear(). Why: the map lives as long as the replica, so its
// table sits in the old generation, and V8 allocates a cleared or rehashed table where the old
// one was; every seal left an old-generation table behind that kept its young keys alive through
// scavenges until they were promoted. Keys are conn ids per shard and values `serial * 4 + kind`:
// small integers, which V8 stores unboxed.
//
// Bounds: a shard index is a byte; the marks are rebuilt (fresh, young maps) once they hold more
// than MARKS_MAX entries at a seal, or when the serial would leave the small-integer range.

/** The connection's txn is in the open root. */
export const ROOT_TXN = 1;
/** The connection had a completion without a txn (a sync, an error) answered at the open root. */
export const ROOT_ANSWER = 2;

type RootMark = typeof ROOT_TXN | typeof ROOT_ANSWER;

/** Marks kept at a seal before they are rebuilt (stale ones of closed connections included). */
const MARKS_MAX = 4096;
/** `serial * 4 + kind` stays below 2^30 (V8's small integers). */
const SERIAL_MAX = 2 ** 28 - 1;

export class OpenRootMarks {
  private by_shard: (Map<number, number> | undefined)[] = [];
  private serial = 1;
  private entries = 0;

  /** The bounds are parameters so that tests reach them. */
  constructor(
    private readonly marks_max = MARKS_MAX,
    private readonly serial_max = SERIAL_MAX,
  ) {
    if (!(Number.isSafeInteger(marks_max) && marks_max >= 0)) throw new Error(`open root marks: marks_max ${marks_max}`);
    if (!(Number.isSafeInteger(serial_max) && serial_max >= 1 && serial_max <= SERIAL_MAX)) throw new Error(`open root marks: serial_max ${serial_max}`);
  }

  /** The mark of `conn_id` on `shard` in the open root; 0 when it has none. */
  get(shard: number, conn_id: number): RootMark | 0 {
    const stamped = this.by_shard[shard]?.get(conn_id);
    if (stamped === undefined || stamped >>> 2 !== this.serial) return 0;
    return (stamped & 3) as RootMark;
  }

  set(shard: number, conn_id: number, mark: RootMark): void {
    let marks = this.by_shard[shard];
    if (marks === undefined) this.by_shard[shard] = marks = new Map();
    const size_before = marks.size;
    marks.set(conn_id, this.serial * 4 + mark);
    this.entries += marks.size - size_before;
  }

  /** The open root was sealed: every mark lapses. */
  seal(): void {
    if (this.serial < this.serial_max && this.entries <= this.marks_max) this.serial++;
    else this.clear();
  }

  /** Forgets every mark (also what seal does when the marks are rebuilt). */
  clear(): void {
    this.by_shard = [];
    this.serial = 1;
    this.entries = 0;
  }
}
