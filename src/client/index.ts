// waitfree/client: a Promise-based ZooKeeper client for Node.js (dist/client/index.js).

export { ZooKeeperClient } from './client.js';
export type { ClientOptions, CreateOptions, WatchOption, PersistentWatchMode, RemovableWatchType, RemoveWatchesOptions } from './client.js';
export type { CallOptions, SessionEvent, StateListener } from './request_engine.js';
export type { SessionState, StateReason } from './connection_core.js';
export { ZooKeeperError, MultiError, WatchOverflowError, isZooKeeperError, isSessionGone } from './errors.js';
export type { ErrorName, MultiOpError } from './errors.js';
export { Transaction } from './transaction.js';
export type { Data, TxnOp, TxnResult, ReadOp, ReadResult, CreateOpOptions } from './transaction.js';
export type { CreateModeName } from './create_mode.js';
export { WatchStream } from './watch_stream.js';
export type { WatchEvent, WatchListener, EventTypeName, NodeEventType } from './watch_registry.js';
export { OPEN_ACL_UNSAFE, CREATOR_ALL_ACL, READ_ACL_UNSAFE, ANYONE_ID, Perms, digestId, digestAcl, parseAclText, permsToString, parsePerms } from './acl.js';
export { parseConnectString, type ConnectString, type HostPort } from './connect_string.js';
export { PROTECTED_PREFIX, unprotectedName } from './protected_names.js';
export type { ACL, Id, Stat, ClientInfo } from '../protocol/types.js';
