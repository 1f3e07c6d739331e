// A search key read as a B+tree key: its bytes with one position patched (a path's last '/'
// reads as 0x00). searchHead (the key's 4 bytes at a page's head position, 0-padded past its
// end) and compareKey must agree with the plain definition on the patched bytes, wherever the
// patch lies relative to the bytes they read.

import { describe, expect, it } from 'vitest';
import { CMP_EQUAL, compareKey, headOf, SearchKey, searchHead } from '../../src/store/arena/key.js';

const enc = new TextEncoder();

/** The key as plain bytes (what the patched view must read as). */
function plain(k: SearchKey): Uint8Array {
  const out = new Uint8Array(k.len);
  for (let i = 0; i < k.len; i++) out[i] = k.byteAt(i);
  return out;
}

describe('SearchKey', () => {
  it('searchHead equals the head of the patched bytes for every head position and patch position', () => {
    for (const path of ['/a', '/ab', '/abcd', '/ts-big/k0001234', '/x/y/z/0123456789']) {
      // A frame-like buffer: the path sits at an offset, between other bytes.
      const frame = new Uint8Array(path.length + 10).fill(0x7e);
      frame.set(enc.encode(path), 5);
      const k = new SearchKey();
      expect(k.setPath(frame, 5, path.length)).toBe(true);
      const bytes = plain(k);
      expect(bytes[path.lastIndexOf('/')]).toBe(0);
      for (let pos = 0; pos <= path.length + 2; pos++) {
        expect(searchHead(k, pos), `${path} at ${pos}`).toBe(headOf(bytes, 0, bytes.length, pos));
      }
      expect(compareKey(k, bytes, 0, bytes.length)).toBe(CMP_EQUAL);
    }
  });

  it('searchHead of a children prefix (patch on the last byte) pads past the end', () => {
    const frame = enc.encode('/abc');
    const k = new SearchKey();
    k.setChildrenPrefix(frame, 0, 4); // "/abc" 00: the patch is one byte past the path
    const bytes = plain(k);
    expect([...bytes]).toEqual([...enc.encode('/abc'), 0]);
    for (let pos = 0; pos <= 6; pos++) expect(searchHead(k, pos), `at ${pos}`).toBe(headOf(bytes, 0, bytes.length, pos));
  });
});
