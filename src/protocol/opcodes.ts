// ZooDefs.OpCode as data. `request`/`response` name records in records.ts (null = no body);
// `kind` says which thread serves the op: 'read' ops run on a read worker against its tree,
// 'write' ops go through the commit worker (prep -> txn -> commit), 'session' ops are handled by
// the session shard itself (ping, auth, setWatches, watch management).

export type OpKind = 'read' | 'write' | 'session' | 'internal' | 'unsupported';

export interface OpSpec {
  readonly code: number;
  readonly name: string;
  readonly kind: OpKind;
  readonly request: string | null;
  readonly response: string | null;
}

export const OPCODE_TABLE = [
  { code: 0, name: 'notification', kind: 'internal', request: null, response: null },
  { code: 1, name: 'create', kind: 'write', request: 'CreateRequest', response: 'CreateResponse' },
  { code: 2, name: 'delete', kind: 'write', request: 'DeleteRequest', response: null },
  { code: 3, name: 'exists', kind: 'read', request: 'ExistsRequest', response: 'ExistsResponse' },
  { code: 4, name: 'getData', kind: 'read', request: 'GetDataRequest', response: 'GetDataResponse' },
  { code: 5, name: 'setData', kind: 'write', request: 'SetDataRequest', response: 'SetDataResponse' },
  { code: 6, name: 'getACL', kind: 'read', request: 'GetACLRequest', response: 'GetACLResponse' },
  { code: 7, name: 'setACL', kind: 'write', request: 'SetACLRequest', response: 'SetACLResponse' },
  { code: 8, name: 'getChildren', kind: 'read', request: 'GetChildrenRequest', response: 'GetChildrenResponse' },
  { code: 9, name: 'sync', kind: 'write', request: 'SyncRequest', response: 'SyncResponse' },
  { code: 11, name: 'ping', kind: 'session', request: null, response: null },
  { code: 12, name: 'getChildren2', kind: 'read', request: 'GetChildren2Request', response: 'GetChildren2Response' },
  { code: 13, name: 'check', kind: 'write', request: 'CheckVersionRequest', response: 'SetDataResponse' },
  { code: 14, name: 'multi', kind: 'write', request: 'MultiOperationRecord', response: 'MultiResponse' },
  { code: 15, name: 'create2', kind: 'write', request: 'CreateRequest', response: 'Create2Response' },
  { code: 16, name: 'reconfig', kind: 'write', request: 'ReconfigRequest', response: 'GetDataResponse' },
  { code: 17, name: 'checkWatches', kind: 'session', request: 'CheckWatchesRequest', response: null },
  { code: 18, name: 'removeWatches', kind: 'session', request: 'RemoveWatchesRequest', response: null },
  { code: 19, name: 'createContainer', kind: 'write', request: 'CreateRequest', response: 'Create2Response' },
  { code: 20, name: 'deleteContainer', kind: 'internal', request: 'DeleteRequest', response: null },
  { code: 21, name: 'createTTL', kind: 'write', request: 'CreateTTLRequest', response: 'Create2Response' },
  { code: 22, name: 'multiRead', kind: 'read', request: 'MultiOperationRecord', response: 'MultiResponse' },
  { code: 100, name: 'auth', kind: 'session', request: 'AuthPacket', response: null },
  { code: 101, name: 'setWatches', kind: 'session', request: 'SetWatches', response: null },
  { code: 102, name: 'sasl', kind: 'session', request: 'GetSASLRequest', response: 'SetSASLResponse' },
  { code: 103, name: 'getEphemerals', kind: 'read', request: 'GetEphemeralsRequest', response: 'GetEphemeralsResponse' },
  { code: 104, name: 'getAllChildrenNumber', kind: 'read', request: 'GetAllChildrenNumberRequest', response: 'GetAllChildrenNumberResponse' },
  { code: 105, name: 'setWatches2', kind: 'session', request: 'SetWatches2', response: null },
  { code: 106, name: 'addWatch', kind: 'session', request: 'AddWatchRequest', response: 'ErrorResponse' },
  { code: 107, name: 'whoAmI', kind: 'session', request: null, response: 'WhoAmIResponse' },
  { code: -10, name: 'createSession', kind: 'internal', request: null, response: null },
  { code: -11, name: 'closeSession', kind: 'write', request: null, response: null },
  { code: -1, name: 'error', kind: 'internal', request: null, response: null },
] as const satisfies readonly OpSpec[];

export type OpName = (typeof OPCODE_TABLE)[number]['name'];

/** Op.create === 1 and so on, derived from the table. */
export const Op = Object.fromEntries(OPCODE_TABLE.map((o) => [o.name, o.code])) as {
  readonly [K in OpName]: Extract<(typeof OPCODE_TABLE)[number], { name: K }>['code'];
};

const by_code = new Map<number, OpSpec>(OPCODE_TABLE.map((o) => [o.code, o]));

export function opSpec(code: number): OpSpec | undefined {
  return by_code.get(code);
}

/** auth and sasl: they carry credentials (a connection's ids may change), and ZooKeeper serves
 *  them in its network layer, before its pipeline and before zookeeper.enforce.auth checks. */
export function isCredentialOp(opcode: number): boolean {
  return opcode === Op.auth || opcode === Op.sasl;
}

/**
 * Writes whose body ZooKeeper's prep reads after taking a zxid: each makes a txn, an error txn
 * if need be, so one whose body does not decode is MARSHALLINGERROR and consumes a zxid
 * (measured on 3.8: the next create's zxid is one higher). sync and reconfig read their body
 * first, and closeSession ends the session: none of those. The net worker sends only these
 * straight to the commit worker (workers/net/direct_write.ts).
 */
export const TXN_WRITE_OPS: ReadonlySet<number> = new Set([
  Op.create,
  Op.create2,
  Op.createContainer,
  Op.createTTL,
  Op.delete,
  Op.setData,
  Op.setACL,
  Op.check,
  Op.multi,
]);

export function opName(code: number): string {
  return by_code.get(code)?.name ?? `unknown(${code})`;
}

/** ZooKeeper's `lop=` names (FinalRequestProcessor's lastOp), by opcode; 'NA' before any. */
const LAST_OP: ReadonlyMap<number, string> = new Map([
  [11, 'PING'], [-10, 'SESS'], [14, 'MULT'], [22, 'MLTR'], [1, 'CREA'], [15, 'CREA'], [19, 'CREA'],
  [21, 'CREA'], [2, 'DELE'], [20, 'DELE'], [5, 'SETD'], [16, 'RECO'], [7, 'SETA'], [-11, 'CLOS'],
  [9, 'SYNC'], [13, 'CHEC'], [3, 'EXIS'], [4, 'GETD'], [101, 'SETW'], [105, 'STW2'], [106, 'ADDW'],
  [6, 'GETA'], [8, 'GETC'], [12, 'GETC'], [104, 'GETACN'], [17, 'CHKW'], [18, 'REMW'], [107, 'HOMI'],
  [103, 'GETE'],
]);

export const LAST_OP_NONE = 'NA';

export function lastOpName(opcode: number): string {
  return LAST_OP.get(opcode) ?? LAST_OP_NONE;
}
