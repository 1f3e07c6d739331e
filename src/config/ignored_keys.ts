// zoo.cfg keys that ZooKeeper users commonly have but that a standalone waitfree server does not
// use (yet). They are accepted with a warning so an existing zoo.cfg starts unchanged; keys that
// describe an ensemble (server.N, group.N, weight.N) are refused: silently running standalone
// when the user asked for replication would be worse than not starting.

export type IgnoredReason = 'replication' | 'admin server' | 'persistence' | 'metrics' | 'other';

export interface IgnoredKey {
  /** Exact key name, or (with `prefix`) the start of every key of a family: `metricsProvider.` */
  readonly name: string;
  readonly prefix?: boolean;
  readonly reason: IgnoredReason;
}

export const IGNORED_KEYS: readonly IgnoredKey[] = [
  { name: 'initLimit', reason: 'replication' },
  { name: 'syncLimit', reason: 'replication' },
  { name: 'standaloneEnabled', reason: 'replication' },
  { name: 'reconfigEnabled', reason: 'replication' },
  { name: 'electionAlg', reason: 'replication' },
  { name: 'leaderServes', reason: 'replication' },
  { name: 'peerType', reason: 'replication' },
  { name: 'quorumListenOnAllIPs', reason: 'replication' },
  { name: 'dynamicConfigFile', reason: 'replication' },
  { name: 'localSessionsEnabled', reason: 'replication' },
  { name: 'localSessionsUpgradingEnabled', reason: 'replication' },
  { name: 'preAllocSize', reason: 'persistence' },
  { name: 'syncEnabled', reason: 'persistence' },
  { name: 'admin.commandURL', reason: 'admin server' },
  { name: 'admin.idleTimeout', reason: 'admin server' },
  { name: 'metricsProvider.', prefix: true, reason: 'metrics' },
  { name: 'clientPortListenBacklog', reason: 'other' },
  { name: 'secureClientPort', reason: 'other' },
];

/** Keys that only make sense in an ensemble: `server.1=host:2888:3888` and friends. */
export const REPLICATION_KEY = /^(server|group|weight)\.\d+$/;

export function ignoredKey(name: string): IgnoredKey | undefined {
  return IGNORED_KEYS.find((k) => (k.prefix ? name.startsWith(k.name) : name === k.name));
}
