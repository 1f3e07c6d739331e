import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JuteError, JuteReader } from '../../src/protocol/jute.js';
import {
  classifyMultiOps,
  readMultiRequest,
  readMultiResponse,
  writeMultiRequest,
  writeMultiResponse,
} from '../../src/protocol/multi.js';
import type { MultiOp, MultiResult } from '../../src/protocol/types.js';
import { bounded } from '../support/fc_bounds.js';
import { READ_OP_TYPES, multiOpArbitrary, multiResultArbitrary } from './arbitraries.js';
import { hex, written } from './helpers.js';

const TERMINATOR = 'ff ff ff ff | 01 | ff ff ff ff';

function expectedKind(ops: MultiOp[]): string {
  if (ops.length === 0) return 'empty';
  const reads = ops.filter((op) => READ_OP_TYPES.has(op.type)).length;
  if (reads === ops.length) return 'read';
  return reads === 0 ? 'write' : 'mixed';
}

describe('MultiOperationRecord', () => {
  it('round-trips any op list and classifies it', () => {
    fc.assert(
      fc.property(fc.array(multiOpArbitrary, { maxLength: 6 }), (ops) => {
        const r = new JuteReader(written((w) => writeMultiRequest(w, ops)));
        const decoded = readMultiRequest(r);
        r.expectEnd();
        expect(decoded.ops).toEqual(ops);
        expect(decoded.kind).toBe(expectedKind(ops));
        expect(classifyMultiOps(ops)).toBe(expectedKind(ops));
      }),
      bounded({ numRuns: 200 }),
    );
  });

  it('frames each op as MultiHeader{type, false, -1} + request, then the terminator', () => {
    const ops: MultiOp[] = [{ type: 2, request: { path: '/a', version: -1 } }];
    const expected = hex(`00 00 00 02 | 00 | ff ff ff ff | 00 00 00 02 2f 61 | ff ff ff ff | ${TERMINATOR}`);
    expect(written((w) => writeMultiRequest(w, ops))).toEqual(expected);
  });

  it('an empty multi is just the terminator', () => {
    expect(written((w) => writeMultiRequest(w, []))).toEqual(hex(TERMINATOR));
    expect(readMultiRequest(new JuteReader(hex(TERMINATOR)))).toEqual({ ops: [], kind: 'empty' });
  });

  it('an op type that cannot appear in a multi throws JuteError', () => {
    // getACL (6) is a valid opcode but not a multi op.
    const bytes = hex(`00 00 00 06 | 00 | ff ff ff ff | 00 00 00 02 2f 61 | ${TERMINATOR}`);
    expect(() => readMultiRequest(new JuteReader(bytes))).toThrow(JuteError);
    const ops = [{ type: 6, request: { path: '/a' } }] as unknown as MultiOp[];
    expect(() => written((w) => writeMultiRequest(w, ops))).toThrow(JuteError);
  });

  it('a missing terminator throws JuteError', () => {
    const bytes = hex('00 00 00 02 | 00 | ff ff ff ff | 00 00 00 02 2f 61 | ff ff ff ff');
    expect(() => readMultiRequest(new JuteReader(bytes))).toThrow(JuteError);
  });

  it('mixing reads and writes is reported, not hidden', () => {
    const ops: MultiOp[] = [
      { type: 4, request: { path: '/a', watch: false } },
      { type: 2, request: { path: '/a', version: -1 } },
    ];
    expect(readMultiRequest(new JuteReader(written((w) => writeMultiRequest(w, ops)))).kind).toBe('mixed');
  });
});

describe('MultiResponse', () => {
  it('round-trips any result list', () => {
    fc.assert(
      fc.property(fc.array(multiResultArbitrary, { maxLength: 6 }), (results) => {
        const r = new JuteReader(written((w) => writeMultiResponse(w, results)));
        expect(readMultiResponse(r)).toEqual(results);
        r.expectEnd();
      }),
      bounded({ numRuns: 200 }),
    );
  });

  it('an error result repeats its code in the header; delete/check carry no body', () => {
    const results: MultiResult[] = [
      { type: 2, response: null },
      { type: -1, response: { err: -101 } },
    ];
    const expected = hex(`
      00 00 00 02 | 00 | 00 00 00 00
      ff ff ff ff | 00 | ff ff ff 9b | ff ff ff 9b
      ${TERMINATOR}`);
    expect(written((w) => writeMultiResponse(w, results))).toEqual(expected);
  });

  it('an unknown result type throws JuteError', () => {
    const bytes = hex(`00 00 00 63 | 00 | 00 00 00 00 | ${TERMINATOR}`);
    expect(() => readMultiResponse(new JuteReader(bytes))).toThrow(JuteError);
  });

  it('a result that needs a body but has none throws JuteError', () => {
    const results = [{ type: 5, response: null }] as unknown as MultiResult[];
    expect(() => written((w) => writeMultiResponse(w, results))).toThrow(JuteError);
  });
});
