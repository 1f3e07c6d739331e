// Cuts a peer's byte stream into whole Zab frames (u32 body length, big-endian | body), the unit
// `decodeMessage` takes (src/zab/messages.ts). A body length outside 1..frame_bytes_max is
// malformed: the caller closes that connection.
//
// Cost: linear in the bytes pushed, however the stream is split (a 1 GiB SNAP arrives in 64 KiB
// reads). A frame lying wholly inside one chunk is handed out as a view into it (no copy). A frame
// spanning chunks is assembled in a buffer of its own, each byte copied in once; that buffer starts
// at ASSEMBLY_BYTES_START (or what has arrived, if more) and doubles up to the frame's length, so a
// peer that announces a large frame and sends nothing costs little, and copies stay < 2 per byte.
//
// Invariants between calls: `header_filled` in 0..3 while no frame is being assembled; `frame` is
// non-null exactly while a frame is incomplete, and then frame_filled < frame_len and
// frame.length >= frame_filled. Emitted frames are valid only during the emit call.

import { FRAME_HEADER_BYTES } from '../zab/messages.js';

/** Starting size of a frame assembled across chunks (64 KiB, a typical socket read). */
const ASSEMBLY_BYTES_START = 64 * 1024;

/**
 * A Uint8Array (not a Buffer) view: `decodeMessage` copies byte fields with `.slice`, which on a
 * Buffer is a view, so a 16-byte txn decoded from a Buffer would pin its whole 64 KiB read chunk
 * (or a whole assembled frame) for as long as the txn lives.
 */
function plainView(bytes: Buffer, offset: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length);
}

/** Returns false to stop cutting (the connection was closed by the consumer). */
export type FrameSink = (frame: Uint8Array) => boolean;

export class ZabFrameCutter {
  /** A length prefix split across chunks. */
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private header_filled = 0;
  /** The frame (header included) being assembled across chunks; null between frames. */
  private frame: Buffer | null = null;
  private frame_len = 0;
  private frame_filled = 0;
  private spent = false;

  constructor(private readonly frame_bytes_max: number) {
    if (!Number.isInteger(frame_bytes_max) || frame_bytes_max < 1) throw new Error(`ZabFrameCutter: frame_bytes_max ${frame_bytes_max}`);
  }

  /**
   * Emits every complete frame in order until the sink returns false. Returns null, or why the
   * stream is malformed (the cutter is then spent and the caller closes the connection).
   */
  push(chunk: Buffer, emit: FrameSink): string | null {
    if (this.spent) return null;
    const n = chunk.length;
    let at = 0;
    while (at < n) {
      if (this.frame !== null) {
        at = this.fill(chunk, at);
        if (this.frame_filled < this.frame_len) return null;
        const frame = plainView(this.frame, 0, this.frame_len);
        this.frame = null;
        if (!emit(frame)) return this.stop();
        continue;
      }
      let body_len: number;
      let frame_at: number; // where the frame starts in `chunk`, or -1 if its header was split
      if (this.header_filled === 0 && n - at >= FRAME_HEADER_BYTES) {
        body_len = chunk.readUInt32BE(at);
        frame_at = at;
      } else {
        const take = Math.min(FRAME_HEADER_BYTES - this.header_filled, n - at);
        chunk.copy(this.header, this.header_filled, at, at + take);
        this.header_filled += take;
        at += take;
        if (this.header_filled < FRAME_HEADER_BYTES) return null;
        this.header_filled = 0;
        body_len = this.header.readUInt32BE(0);
        frame_at = -1;
      }
      if (body_len < 1 || body_len > this.frame_bytes_max) {
        this.spent = true;
        return `frame body length ${body_len} outside 1..${this.frame_bytes_max} (frame_bytes_max)`;
      }
      const frame_len = FRAME_HEADER_BYTES + body_len;
      if (frame_at >= 0 && n - frame_at >= frame_len) {
        at = frame_at + frame_len;
        if (!emit(plainView(chunk, frame_at, frame_len))) return this.stop();
        continue;
      }
      const assembly = this.startAssembly(frame_len, n - at);
      if (frame_at >= 0) at = frame_at; // the header is copied in with the body
      else {
        this.header.copy(assembly, 0);
        this.frame_filled = FRAME_HEADER_BYTES;
      }
    }
    return null;
  }

  private stop(): null {
    this.spent = true;
    return null;
  }

  private startAssembly(frame_len: number, available: number): Buffer {
    const assembly = Buffer.allocUnsafe(Math.min(frame_len, Math.max(ASSEMBLY_BYTES_START, available + FRAME_HEADER_BYTES)));
    this.frame = assembly;
    this.frame_len = frame_len;
    this.frame_filled = 0;
    return assembly;
  }

  /** Copies what `chunk` holds of the current frame (growing the buffer); returns the new offset. */
  private fill(chunk: Buffer, at: number): number {
    let frame = this.frame as Buffer;
    const take = Math.min(this.frame_len - this.frame_filled, chunk.length - at);
    const need = this.frame_filled + take;
    if (need > frame.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.frame_len, Math.max(need, frame.length * 2)));
      frame.copy(grown, 0, 0, this.frame_filled);
      frame = grown;
      this.frame = grown;
    }
    chunk.copy(frame, this.frame_filled, at, at + take);
    this.frame_filled = need;
    return at + take;
  }
}
