// Small byte helpers shared by the protocol tests.

import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';

/** "00 0a ff" (whitespace and | ignored) -> bytes. Golden vectors are written this way. */
export function hex(s: string): Uint8Array {
  const digits = s.replace(/[\s|]/g, '');
  if (digits.length % 2 !== 0) throw new Error(`odd hex string ${s}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export function ascii(s: string): string {
  return Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Runs an encoder into a fresh writer and returns the bytes written. */
export function written(encode: (w: JuteWriter) => void): Uint8Array {
  const w = new JuteWriter(16);
  encode(w);
  return w.toBytes();
}

/** Checks a frame's length prefix and returns the payload after it. */
export function framePayload(frame: Uint8Array): Uint8Array {
  const len = new JuteReader(frame).readInt();
  if (len !== frame.length - 4) throw new Error(`length prefix ${len} but ${frame.length - 4} payload bytes`);
  return frame.subarray(4);
}
