// The first bytes on a peer connection: the dialer (the higher sid) introduces itself.
//
// Hello = "WFZQ" | u32 version | u32 sid, big-endian, 12 bytes, sent once before any Zab frame.
// The acceptor reads exactly HELLO_BYTES, however the stream is split, and then hands the rest
// of the stream to the frame cutter. Nothing else is negotiated: both ends take frame bounds
// from their own configuration, and a frame over the receiver's bound closes the connection.

/** "WFZQ": waitfree Zab quorum. */
export const HELLO_MAGIC = Uint8Array.of(0x57, 0x46, 0x5a, 0x51);
export const HELLO_VERSION = 1;
export const HELLO_BYTES = 12;

/** The hello a dialer with server id `sid` sends first. */
export function encodeHello(sid: number): Uint8Array {
  if (!Number.isInteger(sid) || sid < 0 || sid > 0xffff_ffff) throw new Error(`encodeHello: sid ${sid} out of u32`);
  const bytes = new Uint8Array(HELLO_BYTES);
  bytes.set(HELLO_MAGIC, 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(4, HELLO_VERSION);
  view.setUint32(8, sid);
  return bytes;
}

export type HelloResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'hello'; readonly sid: number; readonly rest: Buffer }
  | { readonly kind: 'bad'; readonly reason: string };

/**
 * Collects the hello from an accepted connection's first chunks. Invariant: `filled` < HELLO_BYTES
 * until a result other than 'more' is returned; the reader is spent after that.
 */
export class HelloReader {
  private readonly bytes = Buffer.alloc(HELLO_BYTES);
  private filled = 0;

  push(chunk: Buffer): HelloResult {
    const take = Math.min(HELLO_BYTES - this.filled, chunk.length);
    chunk.copy(this.bytes, this.filled, 0, take);
    this.filled += take;
    if (this.filled < HELLO_BYTES) return { kind: 'more' };
    if (!this.bytes.subarray(0, 4).equals(HELLO_MAGIC)) {
      return { kind: 'bad', reason: `bad magic 0x${this.bytes.subarray(0, 4).toString('hex')} (want "WFZQ")` };
    }
    const version = this.bytes.readUInt32BE(4);
    if (version !== HELLO_VERSION) return { kind: 'bad', reason: `hello version ${version} (want ${HELLO_VERSION})` };
    return { kind: 'hello', sid: this.bytes.readUInt32BE(8), rest: chunk.subarray(take) };
  }
}
