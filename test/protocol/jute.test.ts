// JuteReader over every kind of input a server hands it (a small request copy V8 keeps on its
// heap, a view with an offset into a larger buffer, shared memory) reads the same values; and
// JuteWriter writes the same bytes whatever alignment its output is given.

import { describe, expect, it } from 'vitest';
import { JuteError, JuteReader, JuteWriter } from '../../src/protocol/jute.js';

function sample(w: JuteWriter): void {
  w.writeInt(-2).writeInt(0x7fffffff).writeLong(-3n).writeLong(0x7fff_ffff_ffff_ffffn).writeLong53(-0x1f_ffff_ffff_ffff);
  w.writeLong53(0x12_3456_789a).writeBool(true).writeUString('/a/ü/path').writeUString(null).writeUString('x'.repeat(100));
  w.writeBuffer(new Uint8Array([1, 2, 3])).writeBuffer(null).writeBuffer(new Uint8Array(70).fill(9));
}

function readSample(r: JuteReader): unknown[] {
  return [
    r.readInt(), r.readInt(), r.readLong(), r.readLong(), r.readLong53(), r.readLong53(), r.readBool(),
    r.readUString(), r.readUString(), r.readUString(), r.readBuffer(), r.readBuffer(), r.readBuffer(),
  ];
}

const EXPECTED = [
  -2, 0x7fffffff, -3n, 0x7fff_ffff_ffff_ffffn, -0x1f_ffff_ffff_ffff, 0x12_3456_789a, true,
  '/a/ü/path', null, 'x'.repeat(100), new Uint8Array([1, 2, 3]), null, new Uint8Array(70).fill(9),
];

describe('JuteReader', () => {
  it('keeps a leading U+FEFF in a string, as Java\'s new String(bytes, UTF_8) does (TextDecoder drops it by default)', () => {
    const w = new JuteWriter(16);
    w.writeUString('\uFEFF').writeUString('\uFEFFx:y');
    const r = new JuteReader(w.toBytes());
    expect([r.readUString(), r.readUString()]).toEqual(['\uFEFF', '\uFEFFx:y']);
  });

  it('reads the same values from a copy, an offset view and shared memory, as copies or views', () => {
    const w = new JuteWriter();
    sample(w);
    const bytes = w.toBytes();
    const padded = new Uint8Array(bytes.length + 13);
    padded.set(bytes, 5);
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length + 16), 3, bytes.length);
    shared.set(bytes);
    for (const views of [false, true]) {
      for (const [name, input, start] of [['copy', bytes.slice(), 0], ['offset view', padded.subarray(2), 3], ['shared', shared, 0]] as const) {
        const r = new JuteReader(input, start, start + bytes.length);
        r.buffers_as_views = views;
        expect(readSample(r), `${name}, views ${views}`).toEqual(EXPECTED);
        r.expectEnd();
      }
    }
  });

  it('reads small frames (kept on the JS heap by V8) field by field, and bounds every read', () => {
    const frame = new Uint8Array([0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0, 2, 0x2f, 0x61, 1]);
    const r = new JuteReader(frame.slice());
    expect([r.readInt(), r.readInt(), r.readString(), r.readBool()]).toEqual([7, 4, '/a', true]);
    expect(() => r.readInt()).toThrow(JuteError);
    const short = new JuteReader(new Uint8Array([0, 0, 0, 9, 0x61]));
    expect(() => short.readString()).toThrow(/truncated/);
  });

  it('a short buffer read "as a view" is a copy: later changes to the frame do not show', () => {
    const w = new JuteWriter();
    w.writeBuffer(new Uint8Array([5, 6, 7]));
    const frame = w.toBytes();
    const r = new JuteReader(frame);
    r.buffers_as_views = true;
    const b = r.readBuffer()!;
    frame[4] = 99;
    expect([...b]).toEqual([5, 6, 7]);
  });

  it('pooled copies out of shared memory hold their bytes after the memory is reused, and never overlap', () => {
    const sizes = [65, 100, 1024, 3, 1025, 700, 900, 800];
    const w = new JuteWriter();
    for (let i = 0; i < 40; i++) w.writeBuffer(new Uint8Array(sizes[i % sizes.length]).fill(i + 1));
    const bytes = w.toBytes();
    const ring = new Uint8Array(new SharedArrayBuffer(bytes.length));
    ring.set(bytes);
    const r = new JuteReader(ring);
    r.buffers_pooled = true;
    const copies: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) copies.push(r.readBuffer()!);
    ring.fill(0);
    copies.forEach((c, i) => {
      expect(c.length).toBe(sizes[i % sizes.length]);
      expect(c.every((x) => x === i + 1), `copy ${i}`).toBe(true);
      expect(c.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    });
  });
});

describe('JuteWriter', () => {
  it('writes strings as UTF-8 whether they are ASCII or not (an ASCII prefix, a character past it, lone surrogates, long ones)', () => {
    const strings = ['', '/', '/a/b', 'x'.repeat(256), 'x'.repeat(257), `/${'a'.repeat(40)}é`, '/ab\u0080', '/日本', '/a\uD800b', `${'y'.repeat(300)}ü`, '\u007f'];
    const w = new JuteWriter(8);
    for (const s of strings) w.writeUString(s);
    const r = new JuteReader(w.toBytes());
    for (const s of strings) {
      const bytes = new TextEncoder().encode(s);
      expect(r.readInt(), JSON.stringify(s)).toBe(bytes.length);
      r.offset -= 4;
      expect(r.readUString(), JSON.stringify(s)).toBe(new TextDecoder().decode(bytes));
    }
    r.expectEnd();
  });

  it('writes a long as its 64-bit two\'s complement', () => {
    const w = new JuteWriter(8);
    w.writeLong(-1n).writeLong(0x8000_0000_0000_0000n).writeLong(-0x8000_0000_0000_0000n);
    expect([...w.view_bytes()]).toEqual([...Array(8).fill(0xff), 0x80, ...Array(7).fill(0), 0x80, ...Array(7).fill(0)]);
  });

  it('writes the same bytes at every alignment, and its output starts at that alignment', () => {
    const reference = new JuteWriter();
    sample(reference);
    for (let align = 0; align < 8; align++) {
      const w = new JuteWriter(16, Number.POSITIVE_INFINITY, align); // grows several times
      sample(w);
      const out = w.view_bytes();
      expect(out, `align ${align}`).toEqual(reference.view_bytes());
      expect(out.byteOffset % 8).toBe(align);
    }
  });

  it('refuses an alignment outside 0..7', () => {
    expect(() => new JuteWriter(16, Number.POSITIVE_INFINITY, 8)).toThrow(RangeError);
    expect(() => new JuteWriter(16, Number.POSITIVE_INFINITY, -1)).toThrow(RangeError);
  });
});
