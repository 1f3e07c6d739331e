// What a learner sends its leader inside Zab's opaque payloads: a forwarded write keeps the
// client's request bytes and the connection's auth ids exactly; a created session its id and
// password; touches their ids. Bytes no correct learner sends are refused, never misread.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeForwarded,
  decodeRevalidateAnswer,
  decodeRevalidateQuestion,
  decodeTouches,
  encodeCreateSession,
  encodeRevalidateAnswer,
  encodeRevalidateQuestion,
  encodeTouches,
  encodeWrite,
} from '../../src/quorum/forward_codec.js';
import { numberOfZxid, zxidOfNumber } from '../../src/quorum/zxid_number.js';
import { bounded } from '../support/fc_bounds.js';

describe('forwarded requests', () => {
  it('a write round-trips: session, auth ids, and the request bytes as the client sent them', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.array(fc.record({ scheme: fc.string(), id: fc.string() }), { maxLength: 5 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(10),
        (session_id, auth, body, pad) => {
          const framed = new Uint8Array(pad + body.length + 3);
          framed.set(body, pad);
          const f = decodeForwarded(encodeWrite(session_id, auth, framed, pad, pad + body.length));
          expect(f.kind).toBe('write');
          if (f.kind !== 'write') return;
          expect(f.session_id).toBe(session_id);
          expect(f.auth).toEqual(auth);
          expect([...f.request]).toEqual([...body]);
        },
      ),
      bounded(),
    );
  });

  it('a session created at a learner round-trips', () => {
    const passwd = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    const f = decodeForwarded(encodeCreateSession(0x1234_5678_9abcn, 30_000, passwd));
    expect(f).toEqual({ kind: 'create_session', session_id: 0x1234_5678_9abcn, timeout_ms: 30_000, passwd });
  });

  it('refuses empty, unknown and truncated payloads', () => {
    expect(() => decodeForwarded(new Uint8Array(0))).toThrow(/empty/);
    expect(() => decodeForwarded(Uint8Array.of(9, 0, 0))).toThrow(/unknown kind 9/);
    const ok = encodeCreateSession(5n, 1000, new Uint8Array(16));
    expect(() => decodeForwarded(ok.subarray(0, ok.length - 3))).toThrow();
  });

  it('touches round-trip; an empty PING carries none; a bad count is refused', () => {
    expect(decodeTouches(encodeTouches([1n, -2n, 2n ** 62n]))).toEqual([1n, -2n, 2n ** 62n]);
    expect(decodeTouches(new Uint8Array(0))).toEqual([]);
    expect(() => decodeTouches(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toThrow(/bad count/);
  });
});

describe('REVALIDATE payloads', () => {
  const session = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const token = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

  it('a question round-trips: token, session, timeout and password', () => {
    fc.assert(
      fc.property(token, session, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.uint8Array({ maxLength: 32 }), (t, session_id, timeout_ms, passwd) => {
        expect(decodeRevalidateQuestion(encodeRevalidateQuestion({ token: t, session_id, timeout_ms, passwd }))).toEqual({
          token: t,
          session_id,
          timeout_ms,
          passwd,
        });
      }),
      bounded(),
    );
  });

  it('an answer round-trips, valid or not', () => {
    fc.assert(
      fc.property(token, session, fc.boolean(), (t, session_id, valid) => {
        expect(decodeRevalidateAnswer(encodeRevalidateAnswer({ token: t, session_id, valid }))).toEqual({ token: t, session_id, valid });
      }),
      bounded(),
    );
  });

  it('refuses truncated, padded and ill-flagged payloads', () => {
    const q = encodeRevalidateQuestion({ token: 1, session_id: 5n, timeout_ms: 1000, passwd: new Uint8Array(16) });
    expect(() => decodeRevalidateQuestion(q.subarray(0, q.length - 1))).toThrow();
    expect(() => decodeRevalidateQuestion(Uint8Array.of(...q, 0))).toThrow(/trailing/);
    const a = encodeRevalidateAnswer({ token: 1, session_id: 5n, valid: true });
    expect(a.length).toBe(13);
    expect(() => decodeRevalidateAnswer(a.subarray(0, 12))).toThrow();
    expect(() => decodeRevalidateAnswer(Uint8Array.of(...a, 0))).toThrow();
    const bad = Uint8Array.from(a);
    bad[12] = 2;
    expect(() => decodeRevalidateAnswer(bad)).toThrow(/valid flag/);
  });
});

describe('zxid numbers', () => {
  it('epoch * 2^32 + counter, both ways, for every representable epoch', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 21 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (epoch, counter) => {
        const n = numberOfZxid({ epoch, counter });
        expect(n).toBe(epoch * 2 ** 32 + counter);
        expect(zxidOfNumber(n)).toEqual({ epoch, counter });
      }),
      bounded(),
    );
    expect(() => numberOfZxid({ epoch: 2 ** 21, counter: 0 })).toThrow(/not representable/);
    expect(() => zxidOfNumber(-1)).toThrow();
  });
});
