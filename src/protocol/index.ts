// The ZooKeeper client wire protocol: jute primitives, protocol tables, record codecs, frames.
// Importable from compiled JS as `waitfree/protocol` (dist/protocol/index.js).

export * from './jute.js';
export * from './errors.js';
export * from './opcodes.js';
export * from './constants.js';
export type * from './types.js';
export * from './codec.js';
export * from './records.js';
export * from './multi.js';
export * from './connect.js';
export * from './messages.js';
export * from './paths.js';
