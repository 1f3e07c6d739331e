// zoo.cfg keys that ZooKeeper users commonly have but that waitfree does not use (yet). They are
// accepted with a warning so an existing zoo.cfg starts unchanged. Keys whose meaning waitfree
// cannot honour and which change what the ensemble is (hierarchical quorums) are refused: running
// with another membership than the user wrote would be worse than not starting. server.N lines
// (of zoo.cfg or of its dynamicConfigFile, load.ts) are read by ensemble_config.ts.

export type IgnoredReason = 'replication' | 'admin server' | 'persistence' | 'metrics' | 'auth' | 'other';

export interface IgnoredKey {
  /** Exact key name, or (with `prefix`) the start of every key of a family: `metricsProvider.` */
  readonly name: string;
  readonly prefix?: boolean;
  readonly reason: IgnoredReason;
}

export const IGNORED_KEYS: readonly IgnoredKey[] = [
  { name: 'leaderServes', reason: 'replication' },
  { name: 'localSessionsEnabled', reason: 'replication' },
  { name: 'localSessionsUpgradingEnabled', reason: 'replication' },
  { name: 'preAllocSize', reason: 'persistence' },
  { name: 'syncEnabled', reason: 'persistence' },
  { name: 'admin.commandURL', reason: 'admin server' },
  { name: 'admin.idleTimeout', reason: 'admin server' },
  { name: 'metricsProvider.', prefix: true, reason: 'metrics' },
  // ZooKeeper too starts when a provider class fails to load (ProviderRegistry logs it). The
  // providers waitfree serves itself are accepted silently (servedAuthProvider).
  { name: 'authProvider.', prefix: true, reason: 'auth' },
  { name: 'zookeeper.authProvider.', prefix: true, reason: 'auth' },
  { name: 'clientPortListenBacklog', reason: 'other' },
  { name: 'secureClientPort', reason: 'other' },
];

export interface RefusedKey {
  /** What the key looks like, for help text: `group.N`. */
  readonly label: string;
  readonly test: (name: string) => boolean;
  readonly why: string;
}

/** Keys that describe an ensemble waitfree cannot run as written. */
export const REFUSED_KEYS: readonly RefusedKey[] = [
  {
    label: 'group.N',
    test: (n) => /^group\./.test(n),
    why: 'hierarchical quorums are not supported; use majority quorums (server.N lines only)',
  },
  {
    label: 'weight.N',
    test: (n) => /^weight\./.test(n),
    why: 'hierarchical quorums (weights) are not supported; use majority quorums (server.N lines only)',
  },
];

export function ignoredKey(name: string): IgnoredKey | undefined {
  return IGNORED_KEYS.find((k) => (k.prefix ? name.startsWith(k.name) : name === k.name));
}

export function refusedKey(name: string): RefusedKey | undefined {
  return REFUSED_KEYS.find((k) => k.test(name));
}

/**
 * ZooKeeper's own providers, which waitfree serves without loading a class: an
 * `authProvider.N` (or the system property `zookeeper.authProvider.N`) naming one is honoured,
 * not ignored. waitfree knows the sasl scheme whether or not it is named (ZooKeeper registers
 * it only then: without it, sasl ACLs are INVALIDACL there).
 */
const SERVED_AUTH_PROVIDERS: ReadonlySet<string> = new Set([
  'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
  'org.apache.zookeeper.server.auth.DigestAuthenticationProvider',
  'org.apache.zookeeper.server.auth.IPAuthenticationProvider',
]);

export function servedAuthProvider(name: string, value: string): boolean {
  return /^(zookeeper\.)?authProvider\./.test(name) && SERVED_AUTH_PROVIDERS.has(value.trim());
}
