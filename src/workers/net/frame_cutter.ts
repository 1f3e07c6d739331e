// Cuts a TCP byte stream into ZooKeeper frames: int32 length prefix + payload. A length < 0 or
// > jute.maxbuffer is malformed (NIOServerCnxn.readLength) and closes the connection.
//
// Four-letter words: like NIOServerCnxn, the cutter reads the connection's first 4 bytes as a
// length and only then decides, with `is_four_letter`, whether they spell a command. So a word
// that arrives split over several segments (`r` + `uok`) is still a word, and 4 bytes are never
// judged from fewer. After a word the next WORD_ARGUMENT_BYTES bytes are kept, however they
// arrive: stmk's argument, its 8-byte trace mask (NIOServerCnxn reads it after the word); every
// further byte is ignored (ZooKeeper stops reading).
//
// Cost: linear in the bytes pushed, however the stream is split. A frame that lies wholly inside
// one chunk is handed out as a range of it (no copy, and no view: a Buffer's subarray() reads
// the buffer and byteOffset getters and builds a FastBuffer, ~0.1 µs a frame). A frame that spans chunks is assembled in
// a buffer of its own, each byte copied in once; the buffer starts at most ASSEMBLY_BYTES_START
// (or what has arrived) and doubles up to the frame length, so a peer that announces a large
// frame and sends nothing costs little, and the copies stay O(length) (doubling: < 2 per byte).
//
// Invariants: `prefix_filled` in 0..3 between calls; `body` is non-null exactly while a frame's
// payload is incomplete, and then `body_len` is its announced length, body_filled < body_len
// and body.length >= body_filled.

/** Starting size of the buffer of a frame that spans chunks (64 KiB, a typical socket read). */
const ASSEMBLY_BYTES_START = 64 * 1024;

/** Bytes kept after a four-letter word: the longest argument of any word (stmk's int64). */
export const WORD_ARGUMENT_BYTES = 8;

export class FrameCutter {
  /** Bytes of a length prefix split across chunks. */
  private readonly prefix = Buffer.alloc(4);
  private prefix_filled = 0;
  /** The payload being assembled across chunks; null between frames. */
  private body: Buffer | null = null;
  private body_len = 0;
  private body_filled = 0;
  /** True until the connection's first 4 bytes have been read and classified. */
  private first_word_pending: boolean;
  private four_letter: number | null = null;
  /** The bytes after a four-letter word (its argument), up to WORD_ARGUMENT_BYTES. */
  private readonly word_argument = Buffer.alloc(WORD_ARGUMENT_BYTES);
  private word_argument_filled = 0;
  /**
   * Set before each emit: the frame is the only one this push() hands out, and it ends the
   * chunk (a client with one request in flight; a burst of pipelined requests arrives as chunks
   * of several frames).
   */
  frame_alone = false;

  /**
   * `is_four_letter` classifies the connection's first int32; null = never a four-letter word
   * (a client cutting replies, for instance).
   */
  constructor(
    private readonly frame_bytes_max: number,
    private readonly is_four_letter: ((word: number) => boolean) | null = null,
  ) {
    this.first_word_pending = is_four_letter !== null;
  }

  /** The connection's first int32 when it was a four-letter word; null otherwise (or not yet known). */
  fourLetterWord(): number | null {
    return this.four_letter;
  }

  /** The bytes that followed the four-letter word so far (at most WORD_ARGUMENT_BYTES). */
  wordArgument(): Buffer {
    return this.word_argument.subarray(0, this.word_argument_filled);
  }

  private keepWordArgument(chunk: Buffer, at: number): void {
    const take = Math.min(WORD_ARGUMENT_BYTES - this.word_argument_filled, chunk.length - at);
    if (take <= 0) return;
    chunk.copy(this.word_argument, this.word_argument_filled, at, at + take);
    this.word_argument_filled += take;
  }

  /**
   * Emits every complete frame's payload as bytes[start, end) (valid only during the call).
   * Returns null, or the reason the stream is malformed (the caller closes the connection; the
   * cutter is then spent).
   */
  push(chunk: Buffer, emit: (bytes: Uint8Array, start: number, end: number) => void): string | null {
    if (this.four_letter !== null) {
      this.keepWordArgument(chunk, 0);
      return null;
    }
    const n = chunk.length;
    let at = 0;
    let emitted = 0;
    while (at < n) {
      if (this.body !== null) {
        at = this.fill(chunk, at);
        if (this.body_filled < this.body_len) return null;
        const body = this.body;
        this.body = null;
        this.frame_alone = emitted++ === 0 && at === n;
        emit(body, 0, this.body_len);
        continue;
      }
      let len: number;
      if (this.prefix_filled === 0 && n - at >= 4) {
        len = chunk.readInt32BE(at);
        at += 4;
      } else {
        const take = Math.min(4 - this.prefix_filled, n - at);
        chunk.copy(this.prefix, this.prefix_filled, at, at + take);
        this.prefix_filled += take;
        at += take;
        if (this.prefix_filled < 4) return null;
        this.prefix_filled = 0;
        len = this.prefix.readInt32BE(0);
      }
      if (this.first_word_pending) {
        this.first_word_pending = false;
        if (this.is_four_letter?.(len) === true) {
          this.four_letter = len;
          this.keepWordArgument(chunk, at);
          return null;
        }
      }
      if (len < 0 || len > this.frame_bytes_max) {
        return `frame length ${len} outside 0..${this.frame_bytes_max} (jute.maxbuffer)`;
      }
      if (n - at >= len) {
        this.frame_alone = emitted++ === 0 && at + len === n;
        emit(chunk, at, at + len);
        at += len;
      } else {
        this.body = Buffer.allocUnsafe(Math.min(len, Math.max(ASSEMBLY_BYTES_START, n - at)));
        this.body_len = len;
        this.body_filled = 0;
      }
    }
    return null;
  }

  /** Copies what the chunk holds of the current frame into `body` (growing it); returns the new offset. */
  private fill(chunk: Buffer, at: number): number {
    let body = this.body as Buffer;
    const take = Math.min(this.body_len - this.body_filled, chunk.length - at);
    const need = this.body_filled + take;
    if (need > body.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.body_len, Math.max(need, body.length * 2)));
      body.copy(grown, 0, 0, this.body_filled);
      body = grown;
      this.body = grown;
    }
    chunk.copy(body, this.body_filled, at, at + take);
    this.body_filled = need;
    return at + take;
  }
}
