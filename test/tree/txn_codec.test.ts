import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JuteError, JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import type { ACL } from '../../src/protocol/types.js';
import type { Txn, TxnOp } from '../../src/tree/txn.js';
import { decodeTxn, encodeTxn, txnFromBytes, txnToBytes } from '../../src/tree/txn_codec.js';
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
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('multi' as const), ops: fc.array(leafOp, { maxLength: 5 }) }) },
);

const txn: fc.Arbitrary<Txn> = fc.record({
  header: fc.record({ session_id: long64, cxid: int32, zxid: long53, time_ms: long53 }),
  op,
});

describe('txn_codec', () => {
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
});
