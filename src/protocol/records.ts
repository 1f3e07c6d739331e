// The jute records of the client protocol as data: one schema per record of zookeeper.jute
// (release-3.9.4), field order = wire order. encodeRecord/decodeRecord are driven by this table;
// a compile-time check at the bottom proves every schema decodes to its types.ts shape.
//
// ConnectRequest/ConnectResponse live in connect.ts (their trailing readOnly byte is optional);
// MultiOperationRecord/MultiResponse live in multi.ts (self-delimiting op lists).

import { compileSchema, type Codec, type FieldType } from './codec.js';
import type { JuteReader, JuteWriter } from './jute.js';
import type * as T from './types.js';

/** Record name -> decoded TypeScript shape. */
export interface RecordTypes {
  Id: T.Id;
  ACL: T.ACL;
  RequestId: T.RequestId;
  RequestACL: T.RequestACL;
  Stat: T.Stat;
  ClientInfo: T.ClientInfo;
  RequestHeader: T.RequestHeader;
  ReplyHeader: T.ReplyHeader;
  MultiHeader: T.MultiHeader;
  AuthPacket: T.AuthPacket;
  CreateRequest: T.CreateRequest;
  CreateTTLRequest: T.CreateTTLRequest;
  CreateResponse: T.CreateResponse;
  Create2Response: T.Create2Response;
  DeleteRequest: T.DeleteRequest;
  CheckVersionRequest: T.CheckVersionRequest;
  ExistsRequest: T.ExistsRequest;
  ExistsResponse: T.ExistsResponse;
  GetDataRequest: T.GetDataRequest;
  GetDataResponse: T.GetDataResponse;
  SetDataRequest: T.SetDataRequest;
  SetDataResponse: T.SetDataResponse;
  GetChildrenRequest: T.GetChildrenRequest;
  GetChildrenResponse: T.GetChildrenResponse;
  GetChildren2Request: T.GetChildren2Request;
  GetChildren2Response: T.GetChildren2Response;
  GetACLRequest: T.GetACLRequest;
  GetACLResponse: T.GetACLResponse;
  SetACLRequest: T.SetACLRequest;
  SetACLResponse: T.SetACLResponse;
  SyncRequest: T.SyncRequest;
  SyncResponse: T.SyncResponse;
  GetAllChildrenNumberRequest: T.GetAllChildrenNumberRequest;
  GetAllChildrenNumberResponse: T.GetAllChildrenNumberResponse;
  GetEphemeralsRequest: T.GetEphemeralsRequest;
  GetEphemeralsResponse: T.GetEphemeralsResponse;
  SetWatches: T.SetWatches;
  SetWatches2: T.SetWatches2;
  AddWatchRequest: T.AddWatchRequest;
  CheckWatchesRequest: T.CheckWatchesRequest;
  RemoveWatchesRequest: T.RemoveWatchesRequest;
  WatcherEvent: T.WatcherEvent;
  ErrorResponse: T.ErrorResponse;
  WhoAmIResponse: T.WhoAmIResponse;
  ReconfigRequest: T.ReconfigRequest;
  GetSASLRequest: T.SASLRequest;
  SetSASLResponse: T.SASLRequest;
}

export type RecordName = keyof RecordTypes;

const PATH = ['path', 'string'] as const;
const STAT = ['stat', { record: 'Stat' }] as const;
const ACL_LIST = ['acl', { vector: { record: 'ACL' } }] as const;
/** The ACL of a create or setACL: zookeeper.jute's ACL, decoded with null strings allowed. */
const REQUEST_ACL_LIST = ['acl', { vector: { record: 'RequestACL' } }] as const;
const PATH_WATCH = [PATH, ['watch', 'bool']] as const;
const PATH_VERSION = [PATH, ['version', 'int']] as const;
const PATH_TYPE = [PATH, ['type', 'int']] as const;
const STRINGS = { vector: 'string' } as const;
const SET_WATCHES = [
  ['relativeZxid', 'long53'],
  ['dataWatches', STRINGS],
  ['existWatches', STRINGS],
  ['childWatches', STRINGS],
] as const;
const CREATE = [PATH, ['data', 'buffer'], REQUEST_ACL_LIST, ['flags', 'int']] as const;

export const RECORD_SCHEMAS = {
  Id: [
    ['scheme', 'string'],
    ['id', 'string'],
  ],
  ACL: [
    ['perms', 'int'],
    ['id', { record: 'Id' }],
  ],
  // Id and ACL again, as requests carry them (same bytes; either string may be null).
  RequestId: [
    ['scheme', 'ustring'],
    ['id', 'ustring'],
  ],
  RequestACL: [
    ['perms', 'int'],
    ['id', { record: 'RequestId' }],
  ],
  Stat: [
    ['czxid', 'long53'],
    ['mzxid', 'long53'],
    ['ctime', 'long53'],
    ['mtime', 'long53'],
    ['version', 'int'],
    ['cversion', 'int'],
    ['aversion', 'int'],
    ['ephemeralOwner', 'long'],
    ['dataLength', 'int'],
    ['numChildren', 'int'],
    ['pzxid', 'long53'],
  ],
  ClientInfo: [
    ['authScheme', 'string'],
    ['user', 'string'],
  ],
  RequestHeader: [
    ['xid', 'int'],
    ['type', 'int'],
  ],
  ReplyHeader: [
    ['xid', 'int'],
    ['zxid', 'long53'],
    ['err', 'int'],
  ],
  MultiHeader: [
    ['type', 'int'],
    ['done', 'bool'],
    ['err', 'int'],
  ],
  AuthPacket: [
    ['type', 'int'],
    ['scheme', 'string'],
    ['auth', 'bytes'],
  ],
  CreateRequest: CREATE,
  CreateTTLRequest: [...CREATE, ['ttl', 'long53']],
  CreateResponse: [PATH],
  Create2Response: [PATH, STAT],
  DeleteRequest: PATH_VERSION,
  CheckVersionRequest: PATH_VERSION,
  ExistsRequest: PATH_WATCH,
  ExistsResponse: [STAT],
  GetDataRequest: PATH_WATCH,
  GetDataResponse: [['data', 'buffer'], STAT],
  SetDataRequest: [PATH, ['data', 'buffer'], ['version', 'int']],
  SetDataResponse: [STAT],
  GetChildrenRequest: PATH_WATCH,
  GetChildrenResponse: [['children', STRINGS]],
  GetChildren2Request: PATH_WATCH,
  GetChildren2Response: [['children', STRINGS], STAT],
  GetACLRequest: [PATH],
  GetACLResponse: [ACL_LIST, STAT],
  SetACLRequest: [PATH, REQUEST_ACL_LIST, ['version', 'int']],
  SetACLResponse: [STAT],
  SyncRequest: [PATH],
  SyncResponse: [PATH],
  GetAllChildrenNumberRequest: [PATH],
  GetAllChildrenNumberResponse: [['totalNumber', 'int']],
  GetEphemeralsRequest: [['prefixPath', 'string']],
  GetEphemeralsResponse: [['ephemerals', STRINGS]],
  SetWatches: SET_WATCHES,
  SetWatches2: [...SET_WATCHES, ['persistentWatches', STRINGS], ['persistentRecursiveWatches', STRINGS]],
  AddWatchRequest: [PATH, ['mode', 'int']],
  CheckWatchesRequest: PATH_TYPE,
  RemoveWatchesRequest: PATH_TYPE,
  WatcherEvent: [
    ['type', 'int'],
    ['state', 'int'],
    PATH,
  ],
  ErrorResponse: [['err', 'int']],
  WhoAmIResponse: [['clientInfo', { vector: { record: 'ClientInfo' } }]],
  ReconfigRequest: [
    ['joiningServers', 'ustring'],
    ['leavingServers', 'ustring'],
    ['newMembers', 'ustring'],
    ['curConfigId', 'long53'],
  ],
  GetSASLRequest: [['token', 'buffer']],
  SetSASLResponse: [['token', 'buffer']],
} as const satisfies { readonly [N in RecordName]: readonly (readonly [string, FieldType])[] };

/** Wire size of a Stat: 6 longs + 5 ints. */
export const STAT_BYTES = 68;

export const RECORD_NAMES = Object.keys(RECORD_SCHEMAS) as RecordName[];

export function isRecordName(name: string): name is RecordName {
  return Object.hasOwn(RECORD_SCHEMAS, name);
}

const codecs = new Map<string, Codec<unknown>>();

/** Compiles on first use, so a nested record is compiled before the record that holds it. */
function resolveCodec(name: string): Codec<unknown> {
  let codec = codecs.get(name);
  if (codec !== undefined) return codec;
  if (!isRecordName(name)) throw new Error(`no record schema named ${name}`);
  codec = compileSchema(RECORD_SCHEMAS[name], resolveCodec);
  codecs.set(name, codec);
  return codec;
}

for (const name of RECORD_NAMES) resolveCodec(name);

/** The compiled codec of a record; for hot loops that want to skip the name lookup. */
export function recordCodec<N extends RecordName>(name: N): Codec<RecordTypes[N]> {
  return resolveCodec(name) as Codec<RecordTypes[N]>;
}

export function encodeRecord<N extends RecordName>(name: N, value: RecordTypes[N], w: JuteWriter): void {
  resolveCodec(name).write(w, value);
}

export function decodeRecord<N extends RecordName>(name: N, r: JuteReader): RecordTypes[N] {
  return resolveCodec(name).read(r) as RecordTypes[N];
}

// ---- compile-time proof that every schema decodes to exactly its types.ts shape ----

type FieldValue<F> = F extends 'int' | 'long53'
  ? number
  : F extends 'long'
    ? bigint
    : F extends 'bool'
      ? boolean
      : F extends 'ustring'
        ? string | null
        : F extends 'string'
          ? string
          : F extends 'buffer'
            ? Uint8Array | null
            : F extends 'bytes'
              ? Uint8Array
              : F extends { readonly vector: infer E }
                ? FieldValue<E>[]
                : F extends { readonly record: infer R extends RecordName }
                  ? RecordTypes[R]
                  : never;

type SchemaValue<S extends readonly (readonly [string, FieldType])[]> = {
  [E in S[number] as E[0]]: FieldValue<E[1]>;
};

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

type MismatchedRecords = {
  [N in RecordName]: Same<SchemaValue<(typeof RECORD_SCHEMAS)[N]>, RecordTypes[N]> extends true ? never : N;
}[RecordName];

type AssertNone<T extends never> = T;
// Fails to compile, naming the records, when a schema and its types.ts interface disagree.
export type SchemasMatchTypes = AssertNone<MismatchedRecords>;
