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

/** By reason; a trailing `*` names the start of every key of a family (`metricsProvider.*`). */
const IGNORED_BY_REASON: Readonly<Partial<Record<IgnoredReason, readonly string[]>>> = {
  // waitfree's Zab has its own timing (tickTime, initLimit, syncLimit) and links.
  replication: [
    'leaderServes', 'localSessionsEnabled', 'localSessionsUpgradingEnabled',
    'connectToLearnerMasterLimit', 'observerMasterPort', 'cnxTimeout', 'quorumCnxnTimeoutMs',
    'electionPortBindRetry', 'fastleader.*', 'observer.*', 'leader.*', 'learner.*', 'follower.*',
    'forward_learner_requests_to_commit_processor_disabled', 'maxTimeToWaitForEpoch',
    'maxConcurrentSnapSyncs', 'maxConcurrentDiffSyncs', 'multiAddress.*', 'quorum.cnxn.threads.size',
    'quorum.auth.*', 'oraclePath',
  ],
  // waitfree's log, snapshots and batching have their own keys.
  persistence: [
    'preAllocSize', 'syncEnabled', 'commitLogCount', 'snapSizeLimitInKb', 'txnLogSizeLimitInKb',
    'snapshot.*', 'digest.enabled', 'flushDelay', 'maxWriteQueuePollTime', 'maxBatchSize',
  ],
  // ZooKeeper's own threads, caches and throttles.
  tuning: [
    'clientPortListenBacklog', 'serverCnxnFactory', 'nio.*', 'netty.*', 'commitProcessor.*',
    'maxResponseCacheSize', 'maxGetChildrenResponseCacheSize', 'tcpKeepAlive', 'clientTcpKeepAlive',
    'connectionMaxTokens', 'connectionTokenFillTime', 'connectionTokenFillCount',
    'connectionFreezeTime', 'connectionDropIncrease', 'connectionDropDecrease',
    'connectionDecreaseRatio', 'connection_throttle_*', 'requestThrottle*', 'request_throttle*',
    'requestStale*', 'request_stale_*', 'advancedFlowControlEnabled', 'largeRequestMaxBytes',
    'largeRequestThreshold', 'outstandingHandshake.limit', 'throttledOpWaitTime',
    'throttled_op_wait_time', 'enableEagerACLCheck', 'jute.maxbuffer.extrasize', 'emulate353TTLNodes',
    'watchManagerName', 'watcherClean*', 'maxInProcessingDeadWatchers', 'bitHashCacheSize',
    'messageTracker.*', 'znode.container.maxNeverUsedIntervalMs',
  ],
  // waitfree's TLS is its clients' and its quorum links' (secureClientPort, client.portUnification,
  // sslQuorum, portUnification, sslQuorumReloadCertFiles and the ssl.* / ssl.quorum.* keys they
  // read, server_config.ts); every other ssl.* key (client-side ones, context suppliers, handshake
  // detection) is not used.
  tls: [
    'ssl.*', 'admin.forceHttps', 'admin.portUnification',
  ],
  'admin server': ['admin.commandURL', 'admin.idleTimeout'],
  metrics: ['metricsProvider.*'],
  audit: ['audit.*'],
  // ZooKeeper too starts when a provider class fails to load (ProviderRegistry logs it); the
  // providers waitfree serves itself are accepted silently (servedAuthProvider).
  auth: [
    'authProvider.*', 'DigestAuthenticationProvider.enabled',
    'DigestAuthenticationProvider.digestAlg', 'skipACL',
    'ensembleAuthName', 'kerberos.*',
  ],
};

/**
 * The keys of ZooKeeper 3.8's administrator's guide (and QuorumPeerConfig) that waitfree does not
 * use, so that a tuned zoo.cfg starts as it is. Each is also accepted in its Java system
 * property spelling, `zookeeper.<name>`. Those that would leave the server less safe than the
 * user asked are in REFUSED_KEYS, by value.
 */
export const IGNORED_KEYS: readonly IgnoredKey[] = Object.entries(IGNORED_BY_REASON).flatMap(([reason, names]) =>
  names.map((n): IgnoredKey => (n.endsWith('*') ? { name: n.slice(0, -1), prefix: true, reason: reason as IgnoredReason } : { name: n, reason: reason as IgnoredReason })),
);

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
    label: 'quorum.auth.serverRequireSasl=true, quorum.auth.learnerRequireSasl=true',
    test: (n, v) => (named('quorum.auth.serverRequireSasl')(n) || named('quorum.auth.learnerRequireSasl')(n)) && javaTrue(v),
    why: 'waitfree\'s quorum links do not authenticate their peers (no quorum SASL)',
  },
  {
    label: 'ssl.crl=true, ssl.ocsp=true, ssl.quorum.crl=true, ssl.quorum.ocsp=true',
    test: (n, v) => ['ssl.crl', 'ssl.ocsp', 'ssl.quorum.crl', 'ssl.quorum.ocsp'].some((k) => named(k)(n)) && javaTrue(v),
    why: 'waitfree\'s TLS (secure client port, quorum links) does not check certificate revocation (CRL, OCSP)',
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
  'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
]);

export function servedAuthProvider(name: string, value: string): boolean {
  return /^(zookeeper\.)?authProvider\./.test(name) && SERVED_AUTH_PROVIDERS.has(value.trim());
}
