// Cuts a TCP byte stream into frames: int32 big-endian length + payload. Pure: bytes in,
// payloads out. A length below 0 or above frame_bytes_max is a protocol error (the connection
// must be dropped: nothing after it can be trusted).

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export class FrameReader {
  /** Unconsumed bytes; invariant: holds no complete frame after push() returns. */
  private pending: Buffer = Buffer.alloc(0);

  constructor(readonly frame_bytes_max: number) {}

  /** Appends `chunk` and returns every payload completed by it, in order. */
  push(chunk: Buffer): Buffer[] {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let at = 0;
    while (buf.length - at >= 4) {
      const len = buf.readInt32BE(at);
      if (len < 0 || len > this.frame_bytes_max) {
        throw new FrameError(`frame length ${len} outside 0..${this.frame_bytes_max}`);
      }
      if (buf.length - at - 4 < len) break;
      frames.push(buf.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    // Copy the tail so the big chunk it came from can be collected.
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    buf = this.pending;
    return frames;
  }

  reset(): void {
    this.pending = Buffer.alloc(0);
  }
}
