// multi / multiRead bodies (MultiOperationRecord, MultiResponse): self-delimiting lists where every
// element is a MultiHeader followed by the record its type names, ended by the terminator header
// {type: -1, done: true, err: -1}. Which record follows which type is data (the two tables below).

import { JuteError, type JuteReader, type JuteWriter } from './jute.js';
import { Op } from './opcodes.js';
import { decodeRecord, encodeRecord, type RecordName } from './records.js';
import type { MultiHeader, MultiOp, MultiResult } from './types.js';

export type MultiOpKind = 'read' | 'write';

/** Op type inside a MultiOperationRecord -> its request record and whether it reads or writes. */
const MULTI_OP_TABLE: ReadonlyMap<number, { request: RecordName; kind: MultiOpKind }> = new Map([
  [Op.create, { request: 'CreateRequest', kind: 'write' }],
  [Op.create2, { request: 'CreateRequest', kind: 'write' }],
  [Op.createContainer, { request: 'CreateRequest', kind: 'write' }],
  [Op.createTTL, { request: 'CreateTTLRequest', kind: 'write' }],
  [Op.delete, { request: 'DeleteRequest', kind: 'write' }],
  [Op.setData, { request: 'SetDataRequest', kind: 'write' }],
  [Op.check, { request: 'CheckVersionRequest', kind: 'write' }],
  [Op.getChildren, { request: 'GetChildrenRequest', kind: 'read' }],
  [Op.getData, { request: 'GetDataRequest', kind: 'read' }],
]);

/**
 * Result type inside a MultiResponse -> its response record (null = no body). Apache ZooKeeper
 * servers only send 15 for any create with a Stat and its Java client rejects 19/21; we accept
 * them on decode and encode them as the Create2Response they would carry.
 */
const MULTI_RESULT_TABLE: ReadonlyMap<number, RecordName | null> = new Map([
  [Op.create, 'CreateResponse'],
  [Op.create2, 'Create2Response'],
  [Op.createContainer, 'Create2Response'],
  [Op.createTTL, 'Create2Response'],
  [Op.delete, null],
  [Op.check, null],
  [Op.setData, 'SetDataResponse'],
  [Op.getChildren, 'GetChildrenResponse'],
  [Op.getData, 'GetDataResponse'],
  [Op.error, 'ErrorResponse'],
]);

/**
 * 'read' = every op reads (valid for multiRead), 'write' = every op writes (valid for multi),
 * 'mixed' = rejected by the server, 'empty' = no ops (valid for both; the reply is empty).
 */
export type MultiKind = MultiOpKind | 'mixed' | 'empty';

/** A decoded MultiOperationRecord. */
export interface MultiRequest {
  ops: MultiOp[];
  kind: MultiKind;
}

const TERMINATOR: MultiHeader = { type: -1, done: true, err: -1 };

export function multiOpKind(type: number): MultiOpKind | undefined {
  return MULTI_OP_TABLE.get(type)?.kind;
}

function mergeKind(kind: MultiKind, op_kind: MultiOpKind): MultiKind {
  if (kind === 'empty' || kind === op_kind) return op_kind;
  return 'mixed';
}

export function classifyMultiOps(ops: readonly MultiOp[]): MultiKind {
  let kind: MultiKind = 'empty';
  for (const op of ops) kind = mergeKind(kind, MULTI_OP_TABLE.get(op.type)?.kind ?? 'write');
  return kind;
}

/** Reads headers until one says done (as ZooKeeper does: the terminator's type is not checked). */
export function readMultiRequest(r: JuteReader): MultiRequest {
  const ops: MultiOp[] = [];
  let kind: MultiKind = 'empty';
  for (let h = decodeRecord('MultiHeader', r); !h.done; h = decodeRecord('MultiHeader', r)) {
    const spec = MULTI_OP_TABLE.get(h.type);
    if (spec === undefined) throw new JuteError(`invalid op type ${h.type} in multi`);
    ops.push({ type: h.type, request: decodeRecord(spec.request, r) } as MultiOp);
    kind = mergeKind(kind, spec.kind);
  }
  return { ops, kind };
}

export function writeMultiRequest(w: JuteWriter, ops: readonly MultiOp[]): void {
  for (const op of ops) {
    const spec = MULTI_OP_TABLE.get(op.type);
    if (spec === undefined) throw new JuteError(`invalid op type ${op.type} in multi`);
    encodeRecord('MultiHeader', { type: op.type, done: false, err: -1 }, w);
    encodeRecord(spec.request, op.request, w);
  }
  encodeRecord('MultiHeader', TERMINATOR, w);
}

function resultRecord(type: number): RecordName | null {
  const name = MULTI_RESULT_TABLE.get(type);
  if (name === undefined) throw new JuteError(`invalid result type ${type} in multi response`);
  return name;
}

export function readMultiResponse(r: JuteReader): MultiResult[] {
  const results: MultiResult[] = [];
  for (let h = decodeRecord('MultiHeader', r); !h.done; h = decodeRecord('MultiHeader', r)) {
    const name = resultRecord(h.type);
    const response = name === null ? null : decodeRecord(name, r);
    results.push({ type: h.type, response } as MultiResult);
  }
  return results;
}

/** The header's err repeats an ErrorResult's code (0 for every other result), as ZooKeeper sends. */
export function writeMultiResponse(w: JuteWriter, results: readonly MultiResult[]): void {
  for (const result of results) {
    const name = resultRecord(result.type);
    const err = result.type === Op.error ? result.response.err : 0;
    encodeRecord('MultiHeader', { type: result.type, done: false, err }, w);
    if (name === null) continue;
    if (result.response === null) throw new JuteError(`multi result type ${result.type} needs a body`);
    encodeRecord(name, result.response, w);
  }
  encodeRecord('MultiHeader', TERMINATOR, w);
}
