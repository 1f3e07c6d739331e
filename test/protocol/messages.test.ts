import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JuteError, JuteWriter } from '../../src/protocol/jute.js';
import {
  decodeReply,
  decodeRequest,
  decodeServerRequest,
  isMalformed,
  encodeNotification,
  encodeReply,
  encodeRequest,
  opBodies,
  peekXid,
  type BodyName,
  type OpCode,
} from '../../src/protocol/messages.js';
import { classifyMultiOps } from '../../src/protocol/multi.js';
import { OPCODE_TABLE, Op } from '../../src/protocol/opcodes.js';
import { encodeRecord } from '../../src/protocol/records.js';
import type { MultiOp } from '../../src/protocol/types.js';
import { bounded } from '../support/fc_bounds.js';
import { multiOpArbitrary, multiResultArbitrary, recordArbitrary } from './arbitraries.js';
import { ascii, framePayload, hex, written } from './helpers.js';

function bodyArbitrary(name: BodyName | null): fc.Arbitrary<unknown> {
  if (name === null) return fc.constant(null);
  if (name === 'MultiOperationRecord') return fc.record({ ops: fc.array(multiOpArbitrary, { maxLength: 4 }) });
  if (name === 'MultiResponse') return fc.array(multiResultArbitrary, { maxLength: 4 });
  return recordArbitrary(name);
}

/** What decoding gives back for a body that was encoded from `body`. */
function decodedForm(name: BodyName | null, body: unknown): unknown {
  if (name !== 'MultiOperationRecord') return body;
  const ops = (body as { ops: MultiOp[] }).ops;
  return { ops, kind: classifyMultiOps(ops) };
}

const xid = fc.integer({ min: -8, max: 0x7fff_ffff });

function isJuteErrorOrNothing(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(JuteError);
  }
}

describe('requests', () => {
  it.each(OPCODE_TABLE.map((row) => [row.name, row.code] as const))('%s (%i) round-trips', (name, code) => {
    const request = opBodies(code)!.request;
    fc.assert(
      fc.property(xid, bodyArbitrary(request), (x, body) => {
        const frame = written((w) => encodeRequest(x, code as OpCode, body as never, w));
        const decoded = decodeRequest(framePayload(frame));
        expect(decoded).toEqual({ unknown: false, op: name, header: { xid: x, type: code }, body: decodedForm(request, body) });
      }),
      bounded({ numRuns: 40 }),
    );
  });

  it('golden create frame: len | RequestHeader | CreateRequest', () => {
    const body = { path: '/a', data: null, acl: [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], flags: 0 };
    const frame = written((w) => encodeRequest(5, Op.create, body, w));
    expect(frame).toEqual(
      hex(`00 00 00 31 | 00 00 00 05 00 00 00 01
        00 00 00 02 2f 61 | ff ff ff ff | 00 00 00 01
        00 00 00 01 | 00 00 00 05 ${ascii('world')} | 00 00 00 06 ${ascii('anyone')} | 00 00 00 00`),
    );
  });

  it('a ping is a bare header', () => {
    expect(written((w) => encodeRequest(-2, Op.ping, null, w))).toEqual(hex('00 00 00 08 | ff ff ff fe | 00 00 00 0b'));
    expect(decodeRequest(hex('ff ff ff fe 00 00 00 0b'))).toEqual({ unknown: false, op: 'ping', header: { xid: -2, type: 11 }, body: null });
  });

  it('an unknown opcode is reported, not thrown, and its body is not read', () => {
    const decoded = decodeRequest(hex('00 00 00 09 | 00 00 03 e7 | de ad be ef'));
    expect(decoded).toEqual({ unknown: true, op: null, header: { xid: 9, type: 999 }, body: null });
  });

  it('bytes after a body are ignored, as ZooKeeper ignores them', () => {
    const payload = framePayload(written((w) => encodeRequest(1, Op.getData, { path: '/a', watch: true }, w)));
    const expected = { unknown: false, op: 'getData', header: { xid: 1, type: Op.getData }, body: { path: '/a', watch: true } };
    expect(decodeRequest(Uint8Array.of(...payload, 0, 1, 2))).toEqual(expected);
    expect(decodeServerRequest(Uint8Array.of(...payload, 0))).toEqual(expected);
  });

  it('the server reading: a body that does not decode is a MalformedRequest with its header; a header that does not throws', () => {
    // The fuzzer's multi: its first op header has type -1 and done=false.
    const bad_multi = hex('34 48 01 cd | 00 00 00 0e | ff ff ff ff 00 ff ff ff ff');
    const r = decodeServerRequest(bad_multi);
    expect(isMalformed(r)).toBe(true);
    expect(r).toMatchObject({ malformed: true, header: { xid: 0x344801cd, type: Op.multi } });
    expect(() => decodeRequest(bad_multi)).toThrow(JuteError);
    expect(() => decodeServerRequest(hex('00 00 00 01 | 00 00'))).toThrow(JuteError);
    const ok = decodeServerRequest(hex('ff ff ff fe 00 00 00 0b'));
    expect(isMalformed(ok)).toBe(false);
  });

  it('a field longer than field_bytes_max is malformed', () => {
    const payload = framePayload(written((w) => encodeRequest(1, Op.getData, { path: '/abcdef', watch: true }, w)));
    expect(decodeRequest(payload, 7).op).toBe('getData');
    expect(() => decodeRequest(payload, 6)).toThrow(JuteError);
  });

  it('switching on op narrows the body type', () => {
    const payload = framePayload(written((w) => encodeRequest(3, Op.setData, { path: '/p', data: null, version: 4 }, w)));
    const req = decodeRequest(payload);
    if (req.op !== 'setData') throw new Error(`unexpected op ${req.op}`);
    expect([req.body.path, req.body.version]).toEqual(['/p', 4]);
  });

  it('a body for an op without one, or no body for an op with one, throws and leaves the writer as it was', () => {
    const w = new JuteWriter();
    encodeRequest(1, Op.sync, { path: '/' }, w);
    const before = w.toBytes();
    expect(() => encodeRequest(2, Op.ping, { path: '/' } as never, w)).toThrow(JuteError);
    expect(() => encodeRequest(2, Op.exists, null as never, w)).toThrow(JuteError);
    expect(() => encodeRequest(2, 77 as OpCode, null as never, w)).toThrow(JuteError);
    expect(w.toBytes()).toEqual(before);
  });
});

describe('replies', () => {
  const with_response = OPCODE_TABLE.filter((row) => row.response !== null);

  it.each(with_response.map((row) => [row.name, row.response] as const))('%s reply (%s) round-trips', (_, response) => {
    fc.assert(
      fc.property(xid, fc.maxSafeInteger(), bodyArbitrary(response), (x, zxid, body) => {
        const frame = written((w) => encodeReply({ xid: x, zxid, err: 0 }, response, body as never, w));
        expect(decodeReply(framePayload(frame), response)).toEqual({ header: { xid: x, zxid, err: 0 }, body });
      }),
      bounded({ numRuns: 40 }),
    );
  });

  it('an error reply is the header only, whatever body is given', () => {
    const header = { xid: 3, zxid: 0x10, err: -101 };
    const stat = { czxid: 1, mzxid: 1, ctime: 1, mtime: 1, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 1 };
    const frame = written((w) => encodeReply(header, 'ExistsResponse', { stat }, w));
    expect(frame).toEqual(hex('00 00 00 10 | 00 00 00 03 | 00 00 00 00 00 00 00 10 | ff ff ff 9b'));
    expect(decodeReply(framePayload(frame), 'ExistsResponse')).toEqual({ header, body: null });
  });

  it('a client ignores bytes after an error header', () => {
    const payload = hex('00 00 00 03 | 00 00 00 00 00 00 00 10 | ff ff ff 9b | 01 02 03');
    expect(decodeReply(payload, 'GetDataResponse').body).toBeNull();
  });

  it('golden notification: xid -1, the txn zxid, err 0, WatcherEvent', () => {
    const frame = written((w) => encodeNotification({ type: 3, state: 3, path: '/x' }, 0x10, w));
    expect(frame).toEqual(
      hex(`00 00 00 1e | ff ff ff ff | 00 00 00 00 00 00 00 10 | 00 00 00 00
        00 00 00 03 | 00 00 00 03 | 00 00 00 02 2f 78`),
    );
    expect(peekXid(framePayload(frame))).toBe(-1);
  });

  it('a missing body on success throws and leaves the writer as it was', () => {
    const w = new JuteWriter();
    expect(() => encodeReply({ xid: 1, zxid: 1, err: 0 }, 'GetDataResponse', null, w)).toThrow(JuteError);
    expect(w.length).toBe(0);
  });
});

describe('garbage input', () => {
  it('random bytes decode or throw JuteError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        isJuteErrorOrNothing(() => decodeRequest(bytes));
        isJuteErrorOrNothing(() => decodeReply(bytes, 'MultiResponse'));
      }),
      bounded({ numRuns: 1000 }),
    );
  });

  it('a known opcode followed by random bytes decodes or throws JuteError', () => {
    const codes = OPCODE_TABLE.map((row) => row.code);
    fc.assert(
      fc.property(xid, fc.constantFrom(...codes), fc.uint8Array({ maxLength: 96 }), (x, code, tail) => {
        const payload = written((w) => encodeRecord('RequestHeader', { xid: x, type: code }, w));
        isJuteErrorOrNothing(() => decodeRequest(Uint8Array.of(...payload, ...tail)));
      }),
      bounded({ numRuns: 1000 }),
    );
  });

  it('a valid multi with one byte changed decodes or throws JuteError', () => {
    fc.assert(
      fc.property(fc.array(multiOpArbitrary, { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (ops, at, byte) => {
        const payload = framePayload(written((w) => encodeRequest(1, Op.multi, { ops }, w)));
        payload[at % payload.length] = byte;
        isJuteErrorOrNothing(() => decodeRequest(payload));
      }),
      bounded({ numRuns: 500 }),
    );
  });
});
