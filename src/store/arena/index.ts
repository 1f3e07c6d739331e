// The shared, immutable, off-heap data tree (issue 12). Layouts, protocol and invariants:
// layout.ts. Writer (the Applier, one per arena): TreeWriter. Readers (any thread): TreeReader
// on the same ArenaHandle. Snapshots: writeNodeStream from a pinned reader; recovery: bulkLoad.

export { ARENA_CONFIG_KEYS, ARENA_DEFAULTS, resolveArenaConfig, type ArenaConfig } from './config.js';
export { arenaStatsOf, type ArenaStats, type RootDescriptor } from './control.js';
export { ArenaConfigError, ArenaFullError, ArenaInvariantError } from './errors.js';
export { createArenaHandle, type ArenaHandle } from './memory.js';
export { NodeView } from './node_view.js';
export { OWNER_CONTAINER, OWNER_EPHEMERAL, OWNER_PERSISTENT, OWNER_TTL, type StoredStat } from './record.js';
export { TreeReader } from './tree_reader.js';
export { createSystemNodes, TreeWriter, type StatUpdate } from './tree_writer.js';
export { NodeStreamError, writeNodeStream, type NodeStreamOptions } from './node_stream.js';
export { bulkLoad, type BulkLoadOptions, type BulkLoadResult } from './bulk_load.js';
export { auditArena, checkTree, type TreeCheck } from './check.js';
export { decodeAclWire, encodeAclWire } from './acl_store.js';
