// Protocol enums from Watcher.java, AddWatchMode.java, CreateMode.java, ZooDefs.Perms and
// ClientCnxn.java (special xids). Values are the wire values.

export const Xid = {
  NOTIFICATION: -1,
  PING: -2,
  AUTH: -4,
  SET_WATCHES: -8,
} as const;

export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;

export const KeeperState = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Closed: 7,
  Expired: -112,
} as const;

/** WatcherType for checkWatches / removeWatches. */
export const WatcherType = {
  Children: 1,
  Data: 2,
  Any: 3,
  Persistent: 4,
  PersistentRecursive: 5,
} as const;

export const AddWatchMode = {
  PERSISTENT: 0,
  PERSISTENT_RECURSIVE: 1,
} as const;

export const CreateMode = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;

export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

/** ephemeralOwner markers (EphemeralType.java). */
export const CONTAINER_EPHEMERAL_OWNER = -0x8000_0000_0000_0000n; // Long.MIN_VALUE
export const TTL_EPHEMERAL_OWNER_MASK = -0x0100_0000_0000_0000n; // 0xFF00000000000000 as signed
export const TTL_MAX_MS = 0xff_ffff_ffff;

/** Default jute.maxbuffer (NIOServerCnxn): 0xfffff bytes. */
export const JUTE_MAXBUFFER_DEFAULT = 0xfffff;

/** ConnectRequest/Response protocolVersion. */
export const PROTOCOL_VERSION = 0;

/** Length of a session password (generatePasswd). */
export const SESSION_PASSWD_BYTES = 16;

/** ZooDefs.CONFIG_NODE: the ensemble's membership (getConfig reads it, reconfig replaces it). */
export const CONFIG_NODE = '/zookeeper/config';
