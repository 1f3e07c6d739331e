// zoo.cfg keys that ZooKeeper users commonly have but that waitfree does not use (yet). They are
// accepted with a warning so an existing zoo.cfg starts unchanged. Keys whose meaning waitfree
// cannot honour and which change what the ensemble is (hierarchical quorums) are refused: running
// with another membership than the user wrote would be worse than not starting. server.N lines
// (of zoo.cfg or of its dynamicConfigFile, load.ts) are read by ensemble_config.ts.

export type IgnoredReason = 'replication' | 'admin server' | 'persistence' | 'metrics' | 'auth' | 'tls' | 'tuning' | 'audit' | 'other';

export interface IgnoredKey {
  /** Exact key name, or (with `prefix`) the start of every key of a family: `metricsProvider.` */
  readonly name: string;
  readonly prefix?: boolean;
  readonly reason: IgnoredReason;
}

/**
 * The keys of ZooKeeper 3.8's administrator's guide (and QuorumPeerConfig) that waitfree does not
 * use, so that a tuned zoo.cfg starts as it is. Each is also accepted in its Java system
 * property spelling, `zookeeper.<name>`. Those that would leave the server less safe than the
 * user asked are in REFUSED_KEYS, by value.
 */
export const IGNORED_KEYS: readonly IgnoredKey[] = [
  // Replication: waitfree's Zab has its own timing (tickTime, initLimit, syncLimit) and links.
  { name: 'leaderServes', reason: 'replication' },
  { name: 'localSessionsEnabled', reason: 'replication' },
  { name: 'localSessionsUpgradingEnabled', reason: 'replication' },
  { name: 'connectToLearnerMasterLimit', reason: 'replication' },
  { name: 'observerMasterPort', reason: 'replication' },
  { name: 'cnxTimeout', reason: 'replication' },
  { name: 'quorumCnxnTimeoutMs', reason: 'replication' },
  { name: 'electionPortBindRetry', reason: 'replication' },
  { name: 'fastleader.', prefix: true, reason: 'replication' },
  { name: 'observer.', prefix: true, reason: 'replication' },
  { name: 'leader.', prefix: true, reason: 'replication' },
  { name: 'learner.', prefix: true, reason: 'replication' },
  { name: 'follower.', prefix: true, reason: 'replication' },
  { name: 'forward_learner_requests_to_commit_processor_disabled', reason: 'replication' },
  { name: 'maxTimeToWaitForEpoch', reason: 'replication' },
  { name: 'maxConcurrentSnapSyncs', reason: 'replication' },
  { name: 'maxConcurrentDiffSyncs', reason: 'replication' },
  { name: 'multiAddress.', prefix: true, reason: 'replication' },
  { name: 'quorum.cnxn.threads.size', reason: 'replication' },
  { name: 'quorum.auth.', prefix: true, reason: 'replication' },
  { name: 'oraclePath', reason: 'replication' },
  // Persistence: waitfree's log, snapshots and batching have their own keys.
  { name: 'preAllocSize', reason: 'persistence' },
  { name: 'syncEnabled', reason: 'persistence' },
  { name: 'commitLogCount', reason: 'persistence' },
  { name: 'snapSizeLimitInKb', reason: 'persistence' },
  { name: 'txnLogSizeLimitInKb', reason: 'persistence' },
  { name: 'snapshot.', prefix: true, reason: 'persistence' },
  { name: 'digest.enabled', reason: 'persistence' },
  { name: 'flushDelay', reason: 'persistence' },
  { name: 'maxWriteQueuePollTime', reason: 'persistence' },
  { name: 'maxBatchSize', reason: 'persistence' },
  // Tuning of ZooKeeper's own threads, caches and throttles.
  { name: 'clientPortListenBacklog', reason: 'tuning' },
  { name: 'serverCnxnFactory', reason: 'tuning' },
  { name: 'nio.', prefix: true, reason: 'tuning' },
  { name: 'netty.', prefix: true, reason: 'tuning' },
  { name: 'commitProcessor.', prefix: true, reason: 'tuning' },
  { name: 'maxResponseCacheSize', reason: 'tuning' },
  { name: 'maxGetChildrenResponseCacheSize', reason: 'tuning' },
  { name: 'tcpKeepAlive', reason: 'tuning' },
  { name: 'clientTcpKeepAlive', reason: 'tuning' },
  { name: 'connectionMaxTokens', reason: 'tuning' },
  { name: 'connectionTokenFillTime', reason: 'tuning' },
  { name: 'connectionTokenFillCount', reason: 'tuning' },
  { name: 'connectionFreezeTime', reason: 'tuning' },
  { name: 'connectionDropIncrease', reason: 'tuning' },
  { name: 'connectionDropDecrease', reason: 'tuning' },
  { name: 'connectionDecreaseRatio', reason: 'tuning' },
  { name: 'connection_throttle_', prefix: true, reason: 'tuning' },
  { name: 'requestThrottle', prefix: true, reason: 'tuning' },
  { name: 'request_throttle', prefix: true, reason: 'tuning' },
  { name: 'requestStale', prefix: true, reason: 'tuning' },
  { name: 'request_stale_', prefix: true, reason: 'tuning' },
  { name: 'advancedFlowControlEnabled', reason: 'tuning' },
  { name: 'largeRequestMaxBytes', reason: 'tuning' },
  { name: 'largeRequestThreshold', reason: 'tuning' },
  { name: 'outstandingHandshake.limit', reason: 'tuning' },
  { name: 'throttledOpWaitTime', reason: 'tuning' },
  { name: 'throttled_op_wait_time', reason: 'tuning' },
  { name: 'enableEagerACLCheck', reason: 'tuning' },
  { name: 'jute.maxbuffer.extrasize', reason: 'tuning' },
  { name: 'emulate353TTLNodes', reason: 'tuning' },
  { name: 'watchManagerName', reason: 'tuning' },
  { name: 'watcherClean', prefix: true, reason: 'tuning' },
  { name: 'maxInProcessingDeadWatchers', reason: 'tuning' },
  { name: 'bitHashCacheSize', reason: 'tuning' },
  { name: 'messageTracker.', prefix: true, reason: 'tuning' },
  { name: 'znode.container.maxNeverUsedIntervalMs', reason: 'tuning' },
  // TLS: waitfree serves plain TCP.
  { name: 'secureClientPort', reason: 'tls' },
  { name: 'secureClientPortAddress', reason: 'tls' },
  { name: 'client.portUnification', reason: 'tls' },
  { name: 'portUnification', reason: 'tls' },
  { name: 'ssl.', prefix: true, reason: 'tls' },
  { name: 'sslQuorum', reason: 'tls' },
  { name: 'sslQuorumReloadCertFiles', reason: 'tls' },
  { name: 'admin.forceHttps', reason: 'tls' },
  { name: 'admin.portUnification', reason: 'tls' },
  // Admin server and metrics.
  { name: 'admin.commandURL', reason: 'admin server' },
  { name: 'admin.idleTimeout', reason: 'admin server' },
  { name: 'metricsProvider.', prefix: true, reason: 'metrics' },
  { name: 'audit.', prefix: true, reason: 'audit' },
  // ZooKeeper too starts when a provider class fails to load (ProviderRegistry logs it). The
  // providers waitfree serves itself are accepted silently (servedAuthProvider).
  { name: 'authProvider.', prefix: true, reason: 'auth' },
  { name: 'zookeeper.authProvider.', prefix: true, reason: 'auth' },
  { name: 'DigestAuthenticationProvider.enabled', reason: 'auth' },
  { name: 'DigestAuthenticationProvider.digestAlg', reason: 'auth' },
  { name: 'skipACL', reason: 'auth' },
  { name: 'X509AuthenticationProvider.', prefix: true, reason: 'auth' },
  { name: 'ensembleAuthName', reason: 'auth' },
  { name: 'kerberos.', prefix: true, reason: 'auth' },
];

export interface RefusedKey {
  /** What the key looks like, for help text: `group.N`, `skipACL=yes`. */
  readonly label: string;
  /** `value` is the line's value, trimmed. */
  readonly test: (name: string, value: string) => boolean;
  readonly why: string;
}

/** Java's Boolean.parseBoolean. */
const javaTrue = (value: string): boolean => value.toLowerCase() === 'true';

/** `name` or its Java system property spelling `zookeeper.<name>`. */
const named = (key: string) => (name: string): boolean => name === key || name === `zookeeper.${key}`;

/**
 * Keys that describe an ensemble waitfree cannot run as written, or ask for a protection (or the
 * lack of one) waitfree cannot give: starting anyway would run another server than the user wrote.
 */
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
  {
    label: 'skipACL=yes',
    test: (n, v) => named('skipACL')(n) && v === 'yes',
    why: 'waitfree always checks ACLs (ZooKeeper\'s skipACL=yes turns them off); remove the line, or give the clients that need it the super digest',
  },
  {
    label: 'sslQuorum=true',
    test: (n, v) => named('sslQuorum')(n) && javaTrue(v),
    why: 'waitfree\'s quorum links are plain TCP: it cannot encrypt or authenticate them with TLS',
  },
  {
    label: 'quorum.auth.serverRequireSasl=true, quorum.auth.learnerRequireSasl=true',
    test: (n, v) => (named('quorum.auth.serverRequireSasl')(n) || named('quorum.auth.learnerRequireSasl')(n)) && javaTrue(v),
    why: 'waitfree\'s quorum links do not authenticate their peers (no quorum SASL)',
  },
  {
    label: 'DigestAuthenticationProvider.enabled=false',
    test: (n, v) => named('DigestAuthenticationProvider.enabled')(n) && !javaTrue(v),
    why: 'waitfree always serves the digest scheme (addauth digest, digest ACLs)',
  },
];

function matches(k: IgnoredKey, name: string): boolean {
  return k.prefix ? name.startsWith(k.name) : name === k.name;
}

/** The ignored key `name` is, in either spelling (`tcpKeepAlive`, `zookeeper.tcpKeepAlive`). */
export function ignoredKey(name: string): IgnoredKey | undefined {
  const bare = name.startsWith('zookeeper.') ? name.slice('zookeeper.'.length) : null;
  return IGNORED_KEYS.find((k) => matches(k, name) || (bare !== null && matches(k, bare)));
}

export function refusedKey(name: string, value: string): RefusedKey | undefined {
  return REFUSED_KEYS.find((k) => k.test(name, value.trim()));
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
