// fast-check arbitraries derived from the record schemas, so every record in the table gets
// generated values without a hand-written generator per record.

import fc from 'fast-check';
import type { FieldType, Schema } from '../../src/protocol/codec.js';
import { RECORD_SCHEMAS, type RecordName, type RecordTypes } from '../../src/protocol/records.js';
import type { MultiOp, MultiResult } from '../../src/protocol/types.js';

// 'binary' = any code point (never a lone surrogate, which UTF-8 cannot carry).
const text = fc.string({ unit: 'binary', maxLength: 12 });
const bytes = fc.uint8Array({ maxLength: 24 });

const PRIMITIVES: Record<Exclude<FieldType, object>, fc.Arbitrary<unknown>> = {
  int: fc.integer(),
  long: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  long53: fc.maxSafeInteger(),
  bool: fc.boolean(),
  ustring: fc.option(text, { nil: null }),
  string: text,
  buffer: fc.option(bytes, { nil: null }),
  bytes,
};

export function fieldArbitrary(type: FieldType): fc.Arbitrary<unknown> {
  if (typeof type === 'string') return PRIMITIVES[type];
  if ('vector' in type) return fc.array(fieldArbitrary(type.vector), { maxLength: 4 });
  return recordArbitrary(type.record as RecordName);
}

export function schemaArbitrary(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(schema.map(([name, type]) => [name, fieldArbitrary(type)])));
}

export function recordArbitrary<N extends RecordName>(name: N): fc.Arbitrary<RecordTypes[N]> {
  return schemaArbitrary(RECORD_SCHEMAS[name]) as unknown as fc.Arbitrary<RecordTypes[N]>;
}

// Multi ops and results per zk-wire-protocol.md §2.11, written out independently of multi.ts.
const MULTI_OPS: [number, RecordName][] = [
  [1, 'CreateRequest'],
  [15, 'CreateRequest'],
  [19, 'CreateRequest'],
  [21, 'CreateTTLRequest'],
  [2, 'DeleteRequest'],
  [5, 'SetDataRequest'],
  [13, 'CheckVersionRequest'],
  [8, 'GetChildrenRequest'],
  [4, 'GetDataRequest'],
];
export const READ_OP_TYPES = new Set([8, 4]);

export const multiOpArbitrary: fc.Arbitrary<MultiOp> = fc.oneof(
  ...MULTI_OPS.map(([type, name]) => fc.record({ type: fc.constant(type), request: recordArbitrary(name) })),
) as fc.Arbitrary<MultiOp>;

const MULTI_RESULTS: [number, RecordName | null][] = [
  [1, 'CreateResponse'],
  [15, 'Create2Response'],
  [19, 'Create2Response'],
  [21, 'Create2Response'],
  [2, null],
  [13, null],
  [5, 'SetDataResponse'],
  [8, 'GetChildrenResponse'],
  [4, 'GetDataResponse'],
  [-1, 'ErrorResponse'],
];

export const multiResultArbitrary: fc.Arbitrary<MultiResult> = fc.oneof(
  ...MULTI_RESULTS.map(([type, name]) =>
    fc.record({ type: fc.constant(type), response: name === null ? fc.constant(null) : recordArbitrary(name) }),
  ),
) as fc.Arbitrary<MultiResult>;
