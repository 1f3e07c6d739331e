// A link is one direction between two threads: a ring producer on one side, a ring consumer on
// the other. This file holds what every link needs on top of the raw ring: a fixed-layout frame
// head written without allocation, and an overflow queue so that a caller never drops a frame
// when the ring is momentarily full.
//
// Bound: the overflow queue only ever holds what one input batch produced, because every owner
// stops consuming its inputs while `blocked` is true (backpressure propagates upstream).

import type { FrameHandler, RingConsumer, RingProducer } from '../ring/ring.js';
import { utf8Lenient } from '../protocol/utf8.js';
import type { Doorbell } from './doorbell.js';
import { LINK_MESSAGE_BYTES_MAX, LINK_PIECE } from './link_kinds.js';

const HEAD_BYTES_MAX = 256;
/** Bytes of a piece before its share of the message: kind, first flag, (first only) u32 length. */
const PIECE_HEAD_BYTES = 2;
const FIRST_PIECE_HEAD_BYTES = 6;
/** Pieces are at most this big (or the ring's frame bound, if smaller), so the reader can start
 *  on a large message while the writer still fills the ring with its tail. */
const PIECE_BYTES_MAX = 256 * 1024;

/** Builds the fixed-layout head of a link frame (big-endian, like jute). */
export class HeadWriter {
  readonly bytes = new Uint8Array(HEAD_BYTES_MAX);
  private readonly view = new DataView(this.bytes.buffer);
  length = 0;

  begin(kind: number): this {
    this.length = 0;
    return this.u8(kind);
  }

  u8(v: number): this {
    this.bytes[this.length++] = v;
    return this;
  }

  u32(v: number): this {
    this.view.setUint32(this.length, v >>> 0);
    this.length += 4;
    return this;
  }

  i32(v: number): this {
    this.view.setInt32(this.length, v);
    this.length += 4;
    return this;
  }

  i64(v: bigint): this {
    this.view.setBigInt64(this.length, v);
    this.length += 8;
    return this;
  }

  /** A safe integer (a zxid) in i64's layout, without making a BigInt (one per APPLIED frame). */
  i64n(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`link head: ${v} is not a safe integer`);
    this.view.setInt32(this.length, Math.floor(v / 0x1_0000_0000));
    this.view.setUint32(this.length + 4, v >>> 0);
    this.length += 8;
    return this;
  }

  f64(v: number): this {
    this.view.setFloat64(this.length, v);
    this.length += 8;
    return this;
  }

  /** A short string (an address: <= 200 bytes UTF-8), u8 length prefixed. Longer is a bug. */
  str8(s: string): this {
    const enc = new TextEncoder().encodeInto(s, this.bytes.subarray(this.length + 1, this.length + 201));
    if (enc.read !== s.length) throw new RangeError(`link head string too long: ${s.length} chars`);
    this.bytes[this.length] = enc.written;
    this.length += 1 + enc.written;
    return this;
  }

  raw(b: Uint8Array): this {
    if (this.length + b.length > HEAD_BYTES_MAX) throw new RangeError('link head overflow');
    this.bytes.set(b, this.length);
    this.length += b.length;
    return this;
  }

  view_bytes(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** Reads a link frame head in the order HeadWriter wrote it. */
export class HeadReader {
  private view: DataView;
  bytes: Uint8Array;
  offset = 0;
  end = 0;

  constructor() {
    this.bytes = new Uint8Array(0);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Points the reader at a frame (a view into the ring, valid during the poll callback). */
  reset(bytes: Uint8Array, start: number, end: number): this {
    // The same array each time (a ring's data): an identity compare, not the buffer and
    // byteOffset getters (each a call in V8, ~10 ns).
    if (this.bytes !== bytes && (this.bytes.buffer !== bytes.buffer || this.bytes.byteOffset !== bytes.byteOffset)) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.offset = start;
    this.end = end;
    return this;
  }

  private need(n: number): void {
    if (this.offset + n > this.end) throw new RangeError(`link frame truncated at ${this.offset}`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.offset);
    this.offset += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return v;
  }

  /** An i64 that HeadWriter.i64n wrote (a zxid); outside the safe integers is a broken frame. */
  i64n(): number {
    this.need(8);
    const v = this.view.getInt32(this.offset) * 0x1_0000_0000 + this.view.getUint32(this.offset + 4);
    if (!Number.isSafeInteger(v)) throw new RangeError(`link frame: i64 at ${this.offset} is not a safe integer`);
    this.offset += 8;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.offset);
    this.offset += 8;
    return v;
  }

  str8(): string {
    const n = this.u8();
    this.need(n);
    const s = utf8Lenient.decode(this.bytes.subarray(this.offset, this.offset + n));
    this.offset += n;
    return s;
  }

  /** A copy of n bytes. */
  copy(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  /** A copy of everything left in the frame. */
  rest(): Uint8Array {
    return this.copy(this.end - this.offset);
  }
}

const EMPTY = new Uint8Array(0);
const NEXT_PIECE_HEAD = new Uint8Array([LINK_PIECE, 0]);

/**
 * The sending side of a link. `send` never loses a frame: when the ring is full the frame is
 * copied to the overflow queue and `blocked` turns true until `drain` empties it.
 */
export class LinkWriter {
  private readonly overflow: Uint8Array[] = [];
  private dirty = false;
  /** Messages sent in pieces (over the ring's frame bound), for stats and tests. */
  pieces_sent_messages = 0;

  constructor(
    readonly ring: RingProducer,
    /** The doorbells of the consuming threads (one per consumer of the ring). */
    private readonly doorbells: readonly Doorbell[],
  ) {}

  get blocked(): boolean {
    return this.overflow.length > 0;
  }

  send(head: HeadWriter, body?: Uint8Array, body_start = 0, body_end = body ? body.length : 0): void {
    const len = head.length + (body ? body_end - body_start : 0);
    if (len > this.ring.frame_bytes_max) {
      this.sendPieces(head.view_bytes(), body ?? EMPTY, body_start, body_end);
      return;
    }
    this.write(head.bytes, head.length, body ?? EMPTY, body_start, body_end);
  }

  /**
   * One ring frame, only if it fits in the ring now and nothing waits in the overflow queue;
   * false (nothing sent) otherwise. For a frame whose publication must not be delayed behind
   * others (net/direct_write.ts): the caller takes another path instead.
   */
  trySend(head: HeadWriter, body: Uint8Array, body_start = 0, body_end = body.length): boolean {
    if (this.overflow.length > 0) return false;
    if (head.length + (body_end - body_start) > this.ring.frame_bytes_max) return false;
    if (!this.ring.tryWrite2(head.bytes, body, body_start, body_end, head.length)) return false;
    this.dirty = true;
    return true;
  }

  /** One ring frame = h[0, h_len) + body[body_start, body_end), or its copy in the overflow
   *  queue (which keeps the order of frames). No view of the head per frame. */
  private write(h: Uint8Array, h_len: number, body: Uint8Array, body_start: number, body_end: number): void {
    if (this.overflow.length === 0 && this.ring.tryWrite2(h, body, body_start, body_end, h_len)) {
      this.dirty = true;
      return;
    }
    const copy = new Uint8Array(h_len + body_end - body_start);
    copy.set(h.subarray(0, h_len), 0);
    copy.set(body.subarray(body_start, body_end), h_len);
    this.overflow.push(copy);
  }

  /**
   * A message over the ring's frame bound, as consecutive LINK_PIECE frames. The first piece
   * carries the message length and the link head; the body follows in pieces of at most
   * PIECE_BYTES_MAX. Nothing else can come between them: this is the ring's only producer and
   * writes them all in this call (to the ring or, in order, to the overflow queue).
   */
  private sendPieces(h: Uint8Array, body: Uint8Array, body_start: number, body_end: number): void {
    const message_bytes = h.length + body_end - body_start;
    if (message_bytes > LINK_MESSAGE_BYTES_MAX) {
      throw new RangeError(`link: message of ${message_bytes} bytes is over LINK_MESSAGE_BYTES_MAX (${LINK_MESSAGE_BYTES_MAX})`);
    }
    const piece_max = Math.min(PIECE_BYTES_MAX, this.ring.frame_bytes_max) - FIRST_PIECE_HEAD_BYTES - h.length;
    if (piece_max <= 0) throw new RangeError(`link: ring frames of ${this.ring.frame_bytes_max} bytes cannot carry pieces`);
    const first = new Uint8Array(FIRST_PIECE_HEAD_BYTES + h.length);
    first[0] = LINK_PIECE;
    first[1] = 1;
    new DataView(first.buffer).setUint32(2, message_bytes);
    first.set(h, FIRST_PIECE_HEAD_BYTES);
    let at = Math.min(body_end, body_start + piece_max);
    this.write(first, first.length, body, body_start, at);
    const next_max = Math.min(PIECE_BYTES_MAX, this.ring.frame_bytes_max) - PIECE_HEAD_BYTES;
    while (at < body_end) {
      const to = Math.min(body_end, at + next_max);
      this.write(NEXT_PIECE_HEAD, NEXT_PIECE_HEAD.length, body, at, to);
      at = to;
    }
    this.pieces_sent_messages++;
  }

  /** Publishes everything written since the last flush (one cursor store, at most one notify). */
  flush(): void {
    if (this.publish()) this.ringDoorbells();
  }

  /**
   * Publishes what was written without ringing: true if anything was. For frames the consumer
   * may take on its next turn, not worth waking it for (a later flush() still rings for
   * everything unread), or when the caller rings (ringDoorbells) only after it has published
   * what must be visible first elsewhere.
   */
  publish(): boolean {
    if (!this.dirty) return false;
    this.dirty = false;
    this.ring.flush();
    return true;
  }

  ringDoorbells(): void {
    for (const d of this.doorbells) d.ring();
  }

  /** Moves overflowed frames into the ring; returns true when the overflow is empty. */
  drain(): boolean {
    while (this.overflow.length > 0) {
      if (!this.ring.tryWrite(this.overflow[0])) break;
      this.overflow.shift();
      this.dirty = true;
    }
    this.flush();
    return this.overflow.length === 0;
  }

  /** Waits (bounded) until the head of the overflow fits, then drains. */
  async drainAsync(timeout_ms: number): Promise<boolean> {
    while (this.overflow.length > 0) {
      if (this.drain()) return true;
      const ok = await this.ring.waitForSpaceAsync(this.overflow[0].length, timeout_ms);
      if (!ok) return false;
    }
    return true;
  }
}

/**
 * The reading side of a link: polls a ring and hands whole messages to the handler, putting the
 * pieces of a large message (LinkWriter.sendPieces) back together first. A reassembled message
 * is handed over as (buffer, 0, length); every other frame as the ring's own view, without a copy.
 *
 * Invariant: `assembly` is non-null exactly between a first piece and the piece that completes
 * it; pieces arrive in order and nothing else comes between them (one producer per ring).
 */
export class LinkReader {
  private assembly: Uint8Array | null = null;
  private filled = 0;
  private handler: FrameHandler = () => {};
  /** Messages reassembled from pieces, for stats and tests. */
  pieced_messages = 0;

  constructor(readonly ring: RingConsumer) {}

  /** Like RingConsumer.poll (`until` included); the count is of ring frames (a piece counts as one). */
  poll(handler: FrameHandler, max_frames: number, until: number | null = null): number {
    this.handler = handler;
    return this.ring.poll(this.onFrame, max_frames, until);
  }

  hasData(): boolean {
    return this.ring.hasData();
  }

  writeCursor(): number {
    return this.ring.writeCursor();
  }

  private readonly onFrame = (bytes: Uint8Array, start: number, end: number): void => {
    if (bytes[start] !== LINK_PIECE) {
      if (this.assembly !== null) throw new Error(`link: a frame of kind ${bytes[start]} came between the pieces of a message`);
      this.handler(bytes, start, end);
      return;
    }
    if (bytes[start + 1] === 1) this.beginMessage(bytes, start, end);
    else this.appendPiece(bytes, start + PIECE_HEAD_BYTES, end);
    const message = this.assembly;
    if (message === null || this.filled < message.length) return;
    this.assembly = null;
    this.filled = 0;
    this.pieced_messages++;
    this.handler(message, 0, message.length);
  };

  private beginMessage(bytes: Uint8Array, start: number, end: number): void {
    if (this.assembly !== null) throw new Error('link: a new message began before the last one was complete');
    if (end - start < FIRST_PIECE_HEAD_BYTES) throw new Error('link: first piece shorter than its head');
    const view = new DataView(bytes.buffer, bytes.byteOffset + start + 2, 4);
    const message_bytes = view.getUint32(0);
    if (message_bytes > LINK_MESSAGE_BYTES_MAX) throw new Error(`link: message of ${message_bytes} bytes announced`);
    this.assembly = new Uint8Array(message_bytes);
    this.filled = 0;
    this.appendPiece(bytes, start + FIRST_PIECE_HEAD_BYTES, end);
  }

  private appendPiece(bytes: Uint8Array, start: number, end: number): void {
    const message = this.assembly;
    if (message === null) throw new Error('link: a continuation piece without a first piece');
    if (this.filled + end - start > message.length) throw new Error('link: pieces run past their message length');
    message.set(bytes.subarray(start, end), this.filled);
    this.filled += end - start;
  }
}
