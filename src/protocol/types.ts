// TypeScript shapes of the jute records (zookeeper.jute, release-3.9.4). Field names are the
// jute file's. `long` fields that carry zxids, times or TTLs are numbers (safe integers);
// session ids and ephemeralOwner are bigints (they use all 64 bits).
// records.ts holds the schemas that encode/decode these shapes; the two are checked against each
// other by test/protocol/records.test.ts.

export interface Id {
  scheme: string;
  id: string;
}

export interface ACL {
  perms: number;
  id: Id;
}

/**
 * An Id as a create or setACL request carries it. Jute lets either string be null (length -1),
 * and clients send that: kazoo writes '' as null, so its CREATOR_ALL_ACL is ('auth', null).
 * Only the server's fixupAcl turns these into stored ACLs (never null), as ZooKeeper's fixupACL.
 */
export interface RequestId {
  scheme: string | null;
  id: string | null;
}

export interface RequestACL {
  perms: number;
  id: RequestId;
}

export interface Stat {
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: number;
}

export interface ClientInfo {
  authScheme: string;
  user: string;
}

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  /** null when the client omitted the trailing byte (clients <= 3.3). */
  readOnly: boolean | null;
}

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  /** null = omit the trailing byte (the client did not send one). */
  readOnly: boolean | null;
}

export interface RequestHeader {
  xid: number;
  type: number;
}

export interface ReplyHeader {
  xid: number;
  zxid: number;
  err: number;
}

export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}

export interface AuthPacket {
  type: number;
  scheme: string;
  auth: Uint8Array;
}

export interface CreateRequest {
  path: string;
  data: Uint8Array | null;
  acl: RequestACL[];
  flags: number;
}

export interface CreateTTLRequest extends CreateRequest {
  ttl: number;
}

export interface CreateResponse {
  path: string;
}

export interface Create2Response {
  path: string;
  stat: Stat;
}

export interface PathVersionRequest {
  path: string;
  version: number;
}
export type DeleteRequest = PathVersionRequest;
export type CheckVersionRequest = PathVersionRequest;

export interface PathWatchRequest {
  path: string;
  watch: boolean;
}
export type ExistsRequest = PathWatchRequest;
export type GetDataRequest = PathWatchRequest;
export type GetChildrenRequest = PathWatchRequest;
export type GetChildren2Request = PathWatchRequest;

export interface PathRequest {
  path: string;
}
export type GetACLRequest = PathRequest;
export type SyncRequest = PathRequest;
export type SyncResponse = PathRequest;
export type GetAllChildrenNumberRequest = PathRequest;

export interface GetEphemeralsRequest {
  prefixPath: string;
}

export interface StatResponse {
  stat: Stat;
}
export type ExistsResponse = StatResponse;
export type SetDataResponse = StatResponse;
export type SetACLResponse = StatResponse;

export interface GetDataResponse {
  data: Uint8Array | null;
  stat: Stat;
}

export interface SetDataRequest {
  path: string;
  data: Uint8Array | null;
  version: number;
}

export interface GetChildrenResponse {
  children: string[];
}

export interface GetChildren2Response {
  children: string[];
  stat: Stat;
}

export interface GetAllChildrenNumberResponse {
  totalNumber: number;
}

export interface GetEphemeralsResponse {
  ephemerals: string[];
}

export interface GetACLResponse {
  acl: ACL[];
  stat: Stat;
}

export interface SetACLRequest {
  path: string;
  acl: RequestACL[];
  version: number;
}

export interface SetWatches {
  relativeZxid: number;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
}

export interface SetWatches2 extends SetWatches {
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}

export interface AddWatchRequest {
  path: string;
  mode: number;
}

export interface WatchTypeRequest {
  path: string;
  type: number;
}
export type CheckWatchesRequest = WatchTypeRequest;
export type RemoveWatchesRequest = WatchTypeRequest;

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

export interface ErrorResponse {
  err: number;
}

export interface WhoAmIResponse {
  clientInfo: ClientInfo[];
}

export interface ReconfigRequest {
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: number;
}

export interface SASLRequest {
  token: Uint8Array | null;
}

/** One op of a multi / multiRead request (MultiOperationRecord). */
export type MultiOp =
  | { type: 1 | 15 | 19; request: CreateRequest }
  | { type: 21; request: CreateTTLRequest }
  | { type: 2; request: DeleteRequest }
  | { type: 5; request: SetDataRequest }
  | { type: 13; request: CheckVersionRequest }
  | { type: 8; request: GetChildrenRequest }
  | { type: 4; request: GetDataRequest };

/** One result of a multi / multiRead reply (MultiResponse). type -1 = ErrorResult. */
export type MultiResult =
  | { type: 1; response: CreateResponse }
  | { type: 15 | 19 | 21; response: Create2Response }
  | { type: 2 | 13; response: null }
  | { type: 5; response: SetDataResponse }
  | { type: 8; response: GetChildrenResponse }
  | { type: 4; response: GetDataResponse }
  | { type: -1; response: ErrorResponse };
