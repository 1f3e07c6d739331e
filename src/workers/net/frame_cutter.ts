// Cuts a TCP byte stream into ZooKeeper frames: int32 length prefix + payload. A length < 0 or
// > jute.maxbuffer is malformed (NIOServerCnxn.readLength) and closes the connection.
//
// Invariant: `pending` holds the bytes of at most one incomplete frame (prefix included); complete
// frames are handed out as views into the chunk they arrived in, copying only across chunk edges.

export class FrameCutter {
  private pending: Buffer | null = null;
  private seen_bytes = 0;

  constructor(private readonly frame_bytes_max: number) {}

  isFirst(): boolean {
    return this.seen_bytes === 0;
  }

  /** The first int32 of the connection, if the chunk holds 4 bytes; used to spot 4lw commands. */
  peekFirstWord(chunk: Buffer): number | null {
    return chunk.length >= 4 ? chunk.readInt32BE(0) : null;
  }

  /**
   * Emits every complete frame's payload (valid only during the call). Returns null, or the
   * reason the stream is malformed.
   */
  push(chunk: Buffer, emit: (payload: Uint8Array) => void): string | null {
    this.seen_bytes += chunk.length;
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let at = 0;
    while (buf.length - at >= 4) {
      const len = buf.readInt32BE(at);
      if (len < 0 || len > this.frame_bytes_max) {
        return `frame length ${len} outside 0..${this.frame_bytes_max} (jute.maxbuffer)`;
      }
      if (buf.length - at - 4 < len) break;
      emit(buf.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
    buf = chunk;
    return null;
  }
}
