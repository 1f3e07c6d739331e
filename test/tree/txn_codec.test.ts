import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JuteError, JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import type { ACL } from '../../src/protocol/types.js';
import type { Txn, TxnOp } from '../../src/tree/txn.js';
import { decodeTxn, encodeTxn, TxnBulkDecoder, txnFromBytes, txnToBytes } from '../../src/tree/txn_codec.js';
import { bounded } from '../support/fc_bounds.js';

const int32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
const long53 = fc.maxSafeInteger();
const long64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const str = fc.string({ unit: 'binary', maxLength: 20 });
const bytes = fc.uint8Array({ maxLength: 32 });
const acl: fc.Arbitrary<ACL> = fc.record({ perms: int32, id: fc.record({ scheme: str, id: str }) });

const leafOp: fc.Arbitrary<TxnOp> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const), path: str, data: fc.option(bytes, { nil: null }), acl: fc.array(acl, { maxLength: 3 }),
    ephemeral_owner: long64, parent_cversion: int32, opcode: fc.constantFrom(1, 15, 19, 21),
  }),
  fc.record({ kind: fc.constant('delete' as const), path: str, opcode: fc.constantFrom(2, 20) }),
  fc.record({ kind: fc.constant('setData' as const), path: str, data: fc.option(bytes, { nil: null }), version: int32 }),
  fc.record({ kind: fc.constant('setACL' as const), path: str, acl: fc.array(acl, { maxLength: 3 }), version: int32 }),
  fc.record({ kind: fc.constant('check' as const), path: str, version: int32 }),
  fc.record({ kind: fc.constant('createSession' as const), timeout_ms: int32, passwd: bytes }),
  fc.record({ kind: fc.constant('closeSession' as const), paths: fc.array(str, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('error' as const), err: int32 }),
);

const op: fc.Arbitrary<TxnOp> = fc.oneof(
  { weight: 4, arbitrary: leafOp },
  // reconfig: never inside a multi (the codec refuses it there).
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconfig' as const), data: bytes }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('multi' as const), ops: fc.array(leafOp, { maxLength: 5 }) }) },
);

const txn: fc.Arbitrary<Txn> = fc.record({
  header: fc.record({ session_id: long64, cxid: int32, zxid: long53, time_ms: long53 }),
  op,
});

describe('txn_codec', () => {
  it('keeps a leading U+FEFF in a string, as Java\'s UTF-8 decoding does (an ACL id a client chose)', () => {
    const acl = [{ perms: 31, id: { scheme: 'digest', id: '\uFEFFuser:hash' } }];
    const t: Txn = { header: { session_id: 1n, cxid: 2, zxid: 3, time_ms: 4 }, op: { kind: 'setACL', path: '/\uFEFF', acl, version: -1 } };
    expect(txnFromBytes(txnToBytes(t))).toEqual(t);
  });

  it('round-trips every txn exactly', () => {
    fc.assert(
      fc.property(txn, (t) => {
        expect(txnFromBytes(txnToBytes(t))).toEqual(t);
      }),
      bounded({ numRuns: 500 }),
    );
  });

  it('decodes several txns written back to back into one buffer', () => {
    fc.assert(
      fc.property(fc.array(txn, { minLength: 1, maxLength: 5 }), (txns) => {
        const w = new JuteWriter(16);
        for (const t of txns) encodeTxn(t, w);
        const r = new JuteReader(w.toBytes());
        const out: Txn[] = [];
        while (r.remaining() > 0) out.push(decodeTxn(r));
        expect(out).toEqual(txns);
      }),
      bounded({ numRuns: 100 }),
    );
  });

  it('starts with the format version byte and rejects unknown versions and truncation', () => {
    const bytes_ = txnToBytes({ header: { session_id: 1n, cxid: 2, zxid: 3, time_ms: 4 }, op: { kind: 'error', err: -101 } });
    expect(bytes_[0]).toBe(1);
    const bad = bytes_.slice();
    bad[0] = 2;
    expect(() => txnFromBytes(bad)).toThrow(JuteError);
    for (let cut = 0; cut < bytes_.length; cut++) expect(() => txnFromBytes(bytes_.subarray(0, cut))).toThrow(JuteError);
    expect(() => txnFromBytes(new Uint8Array([...bytes_, 0]))).toThrow(JuteError);
  });

  it('rejects unknown op tags and nested multis', () => {
    const w = new JuteWriter();
    const inner: Txn = { header: { session_id: 0n, cxid: 0, zxid: 0, time_ms: 0 }, op: { kind: 'multi', ops: [{ kind: 'multi', ops: [] }] } };
    expect(() => encodeTxn(inner, w)).toThrow(JuteError);
    const b = txnToBytes({ header: { session_id: 0n, cxid: 0, zxid: 0, time_ms: 0 }, op: { kind: 'error', err: 0 } });
    b[1 + 8 + 4 + 8 + 8] = 99;
    expect(() => txnFromBytes(b)).toThrow(/op tag/);
  });

  describe('TxnBulkDecoder (recovery)', () => {
    /** Txns whose ACL lists repeat (the decoder reuses an equal list) and whose paths are often ASCII. */
    const asciiPath = fc.stringMatching(/^\/[a-z0-9/]{0,30}$/);
    const path = fc.oneof(asciiPath, str);
    const aclList = fc.constantFrom<ACL[]>(
      [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
      [{ perms: 1, id: { scheme: 'digest', id: 'u:x' } }, { perms: 31, id: { scheme: 'ip', id: '10.0.0.1' } }],
      [],
    );
    const data = fc.option(fc.oneof(bytes, fc.uint8Array({ minLength: 65, maxLength: 300 })), { nil: null });
    const common: fc.Arbitrary<TxnOp> = fc.oneof(
      fc.record({
        kind: fc.constant('create' as const), path, data, acl: fc.oneof(aclList, fc.array(acl, { maxLength: 3 })),
        ephemeral_owner: fc.oneof(fc.constant(0n), long64), parent_cversion: int32, opcode: fc.constantFrom(1, 15, 19, 21),
      }),
      fc.record({ kind: fc.constant('setData' as const), path, data, version: int32 }),
      fc.record({ kind: fc.constant('delete' as const), path, opcode: fc.constantFrom(2, 20) }),
    );
    const header = fc.record({ session_id: fc.oneof(fc.constant(0n), long64), cxid: int32, zxid: long53, time_ms: long53 });
    const mixed: fc.Arbitrary<Txn> = fc.record({ header, op: fc.oneof({ weight: 4, arbitrary: common }, { weight: 1, arbitrary: op }) });

    /** Every txn's encoding, back to back in one buffer after `pad` bytes (a log reader's buffer). */
    function packed(txns: readonly Txn[], pad: number): { buf: Uint8Array; ranges: [number, number][] } {
      const encoded = txns.map((t) => txnToBytes(t));
      const buf = new Uint8Array(pad + encoded.reduce((n, e) => n + e.length, 0));
      const ranges: [number, number][] = [];
      let at = pad;
      for (const e of encoded) {
        buf.set(e, at);
        ranges.push([at, at + e.length]);
        at += e.length;
      }
      return { buf, ranges };
    }

    it('decodes what txnFromBytes decodes, views or copies, through one decoder over shared buffers', () => {
      fc.assert(
        fc.property(fc.array(mixed, { minLength: 1, maxLength: 12 }), fc.nat(7), fc.boolean(), (txns, pad, views) => {
          const decoder = new TxnBulkDecoder(views);
          // Two buffers, alternating: the decoder's per-buffer views must follow.
          const a = packed(txns, pad);
          const b = packed(txns, pad + 3);
          txns.forEach((t, i) => {
            for (const { buf, ranges } of [a, b]) {
              const bytes_ = buf.subarray(ranges[i][0], ranges[i][1]);
              const got = decoder.decode(bytes_);
              expect(got).toEqual(t);
              expect(got).toEqual(txnFromBytes(bytes_));
            }
          });
        }),
        bounded({ numRuns: 300 }),
      );
    });

    it('data is a view of the input only when asked, and an equal ACL list is the same array again', () => {
      const t = (zxid: number, d: Uint8Array | null): Txn => ({
        header: { session_id: 7n, cxid: 1, zxid, time_ms: 5 },
        op: { kind: 'create', path: `/n${zxid}`, data: d, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], ephemeral_owner: 0n, parent_cversion: zxid, opcode: 1 },
      });
      const { buf, ranges } = packed([t(1, new Uint8Array(100).fill(1)), t(2, new Uint8Array(10).fill(2))], 0);
      for (const views of [false, true]) {
        const decoder = new TxnBulkDecoder(views);
        const first = decoder.decode(buf.subarray(...ranges[0]));
        const second = decoder.decode(buf.subarray(...ranges[1]));
        if (first.op.kind !== 'create' || second.op.kind !== 'create') throw new Error('not creates');
        expect(second.op.acl).toBe(first.op.acl);
        expect(first.op.data!.buffer === buf.buffer).toBe(views);
        expect(second.op.data!.buffer === buf.buffer).toBe(views);
      }
    });

    it('refuses what txnFromBytes refuses, with the same error, and nothing else', () => {
      fc.assert(
        fc.property(fc.array(mixed, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }), fc.nat(), (txns, flips, cut) => {
          const decoder = new TxnBulkDecoder(true);
          for (const t of txns) {
            const bytes_ = txnToBytes(t);
            for (const [at, v] of flips) bytes_[at % bytes_.length] = v;
            for (const candidate of [bytes_, bytes_.subarray(0, cut % (bytes_.length + 1)), new Uint8Array([...bytes_, 0])]) {
              let want: unknown;
              try {
                want = txnFromBytes(candidate);
              } catch (e) {
                want = e;
              }
              if (want instanceof Error) expect(() => decoder.decode(candidate)).toThrow(want.message);
              else expect(decoder.decode(candidate)).toEqual(want);
            }
          }
        }),
        bounded({ numRuns: 300 }),
      );
    });
  });
});
