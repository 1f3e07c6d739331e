import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JuteWriter } from '../../src/protocol/jute.js';
import { decodeServerRequest, encodeRequest } from '../../src/protocol/messages.js';
import { Op } from '../../src/protocol/opcodes.js';
import { isPlainValidPath, PathReadFrame } from '../../src/protocol/path_read.js';
import { validatePath } from '../../src/protocol/paths.js';

const utf8 = new TextEncoder();

function plain(path: string): boolean {
  const b = utf8.encode(path);
  return isPlainValidPath(b, 0, b.length);
}

/** A client frame without its length prefix, as the net worker hands it on. */
function frame(xid: number, opcode: typeof Op.getData | typeof Op.exists, path: string, watch: boolean): Uint8Array {
  const w = new JuteWriter(64);
  encodeRequest(xid, opcode, { path, watch }, w);
  return w.view_bytes().slice(4);
}

// Characters that matter to the path rules, and some that take a path off the plain path.
const pathChar = fc.constantFrom('/', '/', '.', 'a', 'Z', '0', ' ', '~', '-', '\u007f', '\u0001', '\u0000', 'é', '\u0085');

describe('isPlainValidPath', () => {
  it('agrees with validatePath on every printable-ASCII path, and accepts nothing validatePath refuses', () => {
    fc.assert(
      fc.property(fc.array(pathChar, { maxLength: 12 }).map((cs) => cs.join('')), (path) => {
        const valid = validatePath(path) === null;
        const printable = /^[\x20-\x7e]*$/.test(path);
        if (printable) expect(plain(path)).toBe(valid);
        else expect(plain(path)).toBe(false);
      }),
      { numRuns: 20_000 },
    );
  });

  it('judges the usual cases as ZooKeeper does', () => {
    for (const p of ['/', '/a', '/a/b', '/a.b', '/...', '/a/..b', '/.a', '/a b', '/waitfree-bench/k0000001']) expect(plain(p)).toBe(true);
    for (const p of ['', 'a', '/a/', '//', '//a', '/a//b', '/.', '/..', '/a/./b', '/a/../b', '/a/.', '/a/..']) expect(plain(p)).toBe(false);
    // Valid, but not plain: the general decoder serves them.
    for (const p of ['/é', '/日本']) expect([plain(p), validatePath(p)]).toEqual([false, null]);
  });

  it('reads only its range', () => {
    const b = utf8.encode('x/a/b/y');
    expect(isPlainValidPath(b, 1, 4)).toBe(true); // "/a/b"
    expect(isPlainValidPath(b, 1, 5)).toBe(false); // "/a/b/"
  });
});

describe('PathReadFrame', () => {
  it('reads a getData or exists in place: the same xid, opcode, path and watch the decoder finds', () => {
    const r = new PathReadFrame();
    for (const [opcode, path, watch] of [
      [Op.getData, '/a/b', false],
      [Op.exists, '/', true],
      [Op.getData, '/zookeeper/config', true],
    ] as const) {
      const payload = frame(77, opcode, path, watch);
      const decoded = decodeServerRequest(payload);
      expect(r.read(payload, 0, payload.length)).toBe(true);
      expect(decoded.header).toEqual({ xid: r.xid, type: r.opcode });
      expect(Buffer.from(payload.subarray(r.path_off, r.path_off + r.path_len)).toString()).toBe(path);
      expect(r.watch).toBe(watch);
      if ('body' in decoded) expect(decoded.body).toEqual({ path, watch });
    }
  });

  it('reads the frame inside a larger buffer (a ring), at its offset', () => {
    const payload = frame(5, Op.exists, '/q', false);
    const ring = new Uint8Array(payload.length + 20).fill(0xee);
    ring.set(payload, 9);
    const r = new PathReadFrame();
    expect(r.read(ring, 9, 9 + payload.length)).toBe(true);
    expect([r.xid, r.opcode, r.path_off, r.path_len, r.watch]).toEqual([5, Op.exists, 9 + 12, 2, false]);
  });

  it('leaves everything unusual to the decoder', () => {
    const r = new PathReadFrame();
    const ok = frame(1, Op.getData, '/a', false);
    const cases: Uint8Array[] = [
      new Uint8Array([...ok, 0]), // trailing byte
      ok.subarray(0, ok.length - 1), // no watch byte
      Uint8Array.from(ok, (b, i) => (i === ok.length - 1 ? 2 : b)), // watch byte 2 (Java: true)
      frame(1, Op.getData, '/a/', false), // invalid path
      frame(1, Op.getData, '/é', false), // not plain
      Uint8Array.from(ok, (b, i) => (i >= 8 && i < 12 ? 0xff : b)), // path length -1
      Uint8Array.from(ok, (b, i) => (i === 7 ? Op.getChildren : b)), // another opcode
    ];
    for (const c of cases) expect(r.read(c, 0, c.length)).toBe(false);
  });

  it('never throws and never reads outside its range, whatever the bytes', () => {
    const r = new PathReadFrame();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(8), (bytes, pad) => {
        const buf = new Uint8Array(bytes.length + 2 * pad).fill(0x2f);
        buf.set(bytes, pad);
        const before = buf.slice();
        const taken = r.read(buf, pad, pad + bytes.length);
        expect(buf).toEqual(before);
        if (taken) expect(r.path_off + r.path_len + 1).toBe(pad + bytes.length);
      }),
      { numRuns: 5_000 },
    );
  });
});
