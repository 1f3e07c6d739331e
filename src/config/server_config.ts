// The server's configuration: the typed record the server runs with, and the table of every key
// (zoo.cfg name, field, type, default, help). Parsing, help text and `conf` output read the table;
// nothing switches on key names.

import { availableParallelism } from 'node:os';
import { CAPACITY_BYTES_MAX, CAPACITY_BYTES_MIN, frameBytesMaxFor } from '../ring/layout.js';
import { ArenaConfigError, ARENA_CONFIG_KEYS, ARENA_DEFAULTS, resolveArenaConfig, type ArenaConfig } from '../store/arena/index.js';
import { ConfigError } from './config_error.js';
import { ENFORCE_AUTH_KEYS, enforcedAuthSchemes } from './enforce_auth.js';
import type { EnsembleConfig } from './ensemble_config.js';
import type { SaslConfig } from './sasl_config.js';
import type { QuorumTlsConfig, TlsConfig } from './tls_config.js';
import type { BoolType, ConfigValue, DigestType, IntType, ListType, StringType } from './values.js';

/**
 * What `startServer` receives. Every value is resolved: no -1 sentinels remain (the session
 * timeout bounds are derived from tickTime when not given).
 */
export interface ServerConfig {
  /** ZooKeeper's tick: session expiry granularity and the unit of the timeout bounds. */
  readonly tick_time_ms: number;
  /** Snapshots (and the transaction log unless dataLogDir is set). Relative paths are relative to the working directory. */
  readonly data_dir: string;
  /** The transaction log's directory (ZooKeeper's dataLogDir: put it on its own device). Resolved: dataDir when unset. */
  readonly data_log_dir: string;
  /** TCP port for clients (and four-letter words). 0 = any free port (see RunningServer.port). */
  readonly client_port: number;
  /** Address the client port binds to. */
  readonly client_port_address: string;
  /** TLS port for clients (ZooKeeper's secureClientPort); -1 = none, 0 = any free port
   *  (RunningServer.secure_port). Its keys and certificates: `tls`. */
  readonly secure_client_port: number;
  /** Address the secure client port binds to; '' = clientPortAddress. */
  readonly secure_client_port_address: string;
  /** The plain client port also takes TLS clients, told apart by their first byte (ZooKeeper's
   *  client.portUnification); their keys and certificates: `tls`. */
  readonly client_port_unification: boolean;
  /** ZooKeeper's ssl.* keys of the client port, as written; resolved into `tls` (tls_config.ts). */
  readonly ssl_key_store_location: string;
  readonly ssl_key_store_password: string;
  readonly ssl_key_store_password_path: string;
  readonly ssl_key_store_type: string;
  readonly ssl_trust_store_location: string;
  readonly ssl_trust_store_password: string;
  readonly ssl_trust_store_type: string;
  readonly ssl_client_auth: string;
  readonly ssl_protocol: string;
  readonly ssl_enabled_protocols: readonly string[];
  readonly ssl_ciphersuites: readonly string[];
  /** A client certificate subject (RFC 2253) that is the super user; '' = none. */
  readonly x509_super_user: string;
  /** Ensemble: TLS on the links between members (ZooKeeper's sslQuorum); its stores: `quorum_tls`. */
  readonly ssl_quorum: boolean;
  /** Ensemble: the quorum port also takes TLS links while sslQuorum=false, and plain ones while
   *  sslQuorum=true (ZooKeeper's portUnification: the rolling upgrade to quorum TLS). */
  readonly quorum_port_unification: boolean;
  /** ZooKeeper's ssl.quorum.* keys, as written; resolved into `quorum_tls` (tls_config.ts). */
  readonly ssl_quorum_key_store_location: string;
  readonly ssl_quorum_key_store_password: string;
  readonly ssl_quorum_key_store_password_path: string;
  readonly ssl_quorum_key_store_type: string;
  readonly ssl_quorum_trust_store_location: string;
  readonly ssl_quorum_trust_store_password: string;
  readonly ssl_quorum_trust_store_type: string;
  readonly ssl_quorum_client_auth: string;
  readonly ssl_quorum_protocol: string;
  readonly ssl_quorum_enabled_protocols: readonly string[];
  readonly ssl_quorum_ciphersuites: readonly string[];
  readonly ssl_quorum_hostname_verification: boolean;
  /** Quorum TLS: the key and trust store files are watched, and new links use them once they
   *  change (ZooKeeper's sslQuorumReloadCertFiles: certificates rotated without a restart). */
  readonly ssl_quorum_reload_cert_files: boolean;
  /** Max concurrent connections from one client IP; 0 = unlimited. */
  readonly max_client_cnxns: number;
  /** Max concurrent connections in total (ZooKeeper 3.7+'s maxCnxns); 0 = unlimited. */
  readonly max_cnxns: number;
  /** Negotiated session timeouts are clamped into [min, max]. Invariant: min <= max. */
  readonly min_session_timeout_ms: number;
  readonly max_session_timeout_ms: number;
  /** Largest request/reply payload accepted (jute.maxbuffer). */
  readonly jute_max_buffer_bytes: number;
  /** Four-letter words allowed; '*' = all. `srvr` is always allowed (see isWhitelisted). */
  readonly four_letter_whitelist: readonly string[];
  /** The admin HTTP server (GET /commands/<name>, GET /metrics) in the net worker. */
  readonly admin_enable_server: boolean;
  /** Its port (ZooKeeper's 8080); 0 = any free port. */
  readonly admin_server_port: number;
  /** Its address. ZooKeeper binds 0.0.0.0; we default to loopback: the commands show sessions and config. */
  readonly admin_server_address: string;
  /** Use native addons (uWebSockets.js) where they load; false = their native-free/ twins. */
  readonly native: boolean;
  /** `super:base64(sha1("super:password"))`: a digest identity that bypasses ACLs; null = none. */
  readonly super_digest: string | null;
  /** The JAAS file with the SASL users (Java's java.security.auth.login.config); '' = none. */
  readonly sasl_jaas_config_file: string;
  /** Its section the server reads (ZooKeeper's zookeeper.sasl.serverconfig). */
  readonly sasl_server_section: string;
  /** A SASL authorization id that is the super user (zookeeper.superUser); '' = none. */
  readonly sasl_super_user: string;
  /** zookeeper.enforce.auth.enabled: requests of connections without an id of an enforced scheme
   *  are refused (src/config/enforce_auth.ts). */
  readonly enforce_auth_enabled: boolean;
  /** zookeeper.enforce.auth.schemes: the schemes enforcement accepts. */
  readonly enforce_auth_schemes: readonly string[];
  /** zookeeper.sessionRequireClientSASLAuth: enforcement of the sasl scheme alone (overrides both above). */
  readonly session_require_client_sasl_auth: boolean;
  /** Throttle: requests in flight across all sessions before reads stop being taken. */
  readonly global_outstanding_limit: number;
  /** Needed for TTL nodes (createTTL, CreateMode.*_WITH_TTL). */
  readonly extended_types_enabled: boolean;
  /** zookeeper.enforceQuota: creates and setData over a hard quota are refused (QUOTAEXCEEDED). */
  readonly enforce_quota: boolean;
  /** reconfig allowed (src/commit/reconfig_prep.ts); false: answered RECONFIGDISABLED. */
  readonly reconfig_enabled: boolean;
  /** The net worker answers reads of idle sessions itself (net/fast_read.ts). */
  readonly net_fast_reads: boolean;
  readonly net_direct_writes: boolean;
  /** ms a read may wait for a commit the replica knows of (workers/shard/commit_wait.ts; 0: never). */
  readonly read_wait_for_known_commit_ms: number;
  /** µs the net and commit workers spin before sleeping after work (0: never; doorbell.ts). */
  readonly idle_spin_us: number;
  /** How often empty containers and expired TTL nodes are looked for. */
  readonly container_check_interval_ms: number;
  /** At most this many container/TTL deletions per minute. */
  readonly container_max_per_minute: number;
  /** Number of read workers (session shards). 1..64. */
  readonly read_workers: number;
  /** Ring capacities (power of two; each holds at least one frame of jute.maxbuffer + 64). */
  readonly ring_net_to_shard_bytes: number;
  readonly ring_shard_to_net_bytes: number;
  readonly ring_shard_to_commit_bytes: number;
  readonly ring_commit_stream_bytes: number;
  readonly ring_net_to_commit_bytes: number;
  readonly ring_commit_to_net_bytes: number;
  /** Per-session pipelining bound: requests read but not yet answered. */
  readonly max_outstanding_per_session: number;
  /** Watch entries a read worker lists or removes per turn of its loop (wchc/wchp listings, a
   *  closed connection's watches), between serving requests. */
  readonly watch_slice_entries: number;
  /** Largest watch listing (wchc, wchp, the admin watches commands), in encoded bytes; a longer
   *  one is cut and says so. */
  readonly watch_listing_bytes_max: number;
  /** The shared data tree (src/store/arena): page size, segment size, how many segments it may
   *  use (the memory bound), reader slots, published roots kept readable. */
  readonly tree_page_bytes: number;
  readonly tree_segment_bytes: number;
  readonly tree_segments_max: number;
  readonly tree_reader_slots: number;
  readonly tree_root_ring: number;
  /** A connection that has not completed its session handshake by then is closed. */
  readonly sessionless_cnxn_timeout_ms: number;
  /** Largest reply sent (a getChildren of 10^5 children, a multiRead of many getData): far above
   *  jute.maxbuffer, which bounds what is accepted. A larger one answers MARSHALLINGERROR. */
  readonly reply_bytes_max: number;
  /** A client whose unsent replies exceed this when another reply is due is cut off (it does
   *  not read): other sessions are unaffected. One reply of any size up to reply_bytes_max is sent. */
  readonly conn_outbound_bytes_max: number;
  /** This replica's id (high byte of session ids). 0..254. */
  readonly server_id: number;
  /** 'always': a write is acknowledged after its batch is fdatasynced; 'none': never synced (experiments only). */
  readonly fsync: 'always' | 'none';
  /** A log sync slower than this is logged and counted (ZooKeeper's fsync.warningthresholdms). */
  readonly fsync_warning_threshold_ms: number;
  /** ZooKeeper's forceSync: 'no' is the same as waitfree.fsync=none (resolved into fsync). */
  readonly force_sync: 'yes' | 'no';
  /** Group commit: a batch is written once it holds this many txns ... */
  readonly commit_batch_txns_max: number;
  /** ... or this many bytes of log records ... */
  readonly commit_batch_bytes_max: number;
  /** ... or its first txn has waited this long (0: as soon as the previous write landed). */
  readonly commit_batch_wait_us: number;
  /** A snapshot every snapCount/2 + random(snapCount/2) txns (ZooKeeper's snapCount). */
  readonly snap_count: number;
  /** The txn log rolls to a new preallocated segment at this size. */
  readonly log_segment_bytes: number;
  /** How a log write is made durable: write + fdatasync, or an O_DSYNC write (see log_writer.ts). */
  readonly log_sync_method: 'fdatasync' | 'dsync';
  readonly log_inline_sync_txns_max: number;
  /** V8 young generation of the commit worker, MiB (resourceLimits.maxYoungGenerationSizeMb). */
  readonly commit_young_generation_mb: number;
  /** Fault injection for tests: microseconds added to every log sync (0 = none, the default);
   *  -1 = 0 at start, then whatever dataDir/fault.fsync_delay_us says (see log_fs.ts). */
  readonly log_fsync_delay_us: number;
  /** Snapshots kept (with the log they need); older ones are deleted after each snapshot. */
  readonly snap_retain_count: number;
  /** autopurge.purgeInterval in hours: -1 = purge after every snapshot; 0 = never; N = at most every N hours. */
  readonly purge_interval_hours: number;
  /** Ensemble keys (ZooKeeper's spelling). Read them through `ensemble`, which holds them resolved. */
  readonly init_limit_ticks: number;
  readonly sync_limit_ticks: number;
  /** In an ensemble: this replica's role as its server.N line says (resolved). */
  readonly peer_type: 'participant' | 'observer';
  readonly read_only_mode_enabled: boolean;
  /** One participant and this true: run standalone (ZooKeeper's rule). */
  readonly standalone_enabled: boolean;
  /** Always 3 (fast leader election, the only one ZooKeeper 3.8 has). */
  readonly election_alg: number;
  /** Quorum and election ports listen on 0.0.0.0 instead of the server.N host. */
  readonly quorum_listen_on_all_ips: boolean;
  /** waitfree.myid: overrides dataDir/myid; -1 = read the file. Resolved to the id in an ensemble. */
  readonly my_id: number;
  /** Zab: proposals a leader keeps in flight (sent, not yet committed) before it stops taking writes. */
  readonly zab_in_flight_max: number;
  /** Zab: the largest peer message (a SNAP carries a whole snapshot, so this bounds the tree a lagging replica can be sent). */
  readonly zab_frame_bytes_max: number;
  /** Zab: bytes queued for one peer that does not read before its connection is reset. */
  readonly zab_queue_bytes_max: number;
  /** The server.N lines resolved (src/config/ensemble_config.ts); null = standalone. Not a key. */
  readonly ensemble: EnsembleConfig | null;
  /** The SASL users read from the JAAS file (src/config/sasl_config.ts); null = SASL is not
   *  configured, and sasl packets are answered as a ZooKeeper without a JAAS file does. Not a key. */
  readonly sasl: SaslConfig | null;
  /** The client TLS settings (secureClientPort, client.portUnification), its key and trust stores
   *  read (src/config/tls_config.ts); null = clients connect in plain TCP only. Not a key. */
  readonly tls: TlsConfig | null;
  /** The quorum links' TLS settings (sslQuorum, portUnification); null = plain links only. Not a key. */
  readonly quorum_tls: QuorumTlsConfig | null;
  /** The config file's text as read at start ('' without one): the admin initial_configuration
   *  command (ZooKeeper's getInitialConfig). Not a key. */
  readonly initial_configuration: string;
}

/** Fields set by a key (everything but `ensemble`, `sasl`, `tls`, `quorum_tls` and
 *  `initial_configuration`, which loadConfig derives from server.N lines, the JAAS file, the key
 *  stores and the config file). */
export type ConfigField = Exclude<keyof ServerConfig, 'ensemble' | 'sasl' | 'tls' | 'quorum_tls' | 'initial_configuration'>;

/** The value-type spec matching a field's TypeScript type. */
type TypeFor<T> = [T] extends [number]
  ? IntType
  : [T] extends [boolean]
    ? BoolType
    : [T] extends [string]
      ? StringType
      : [T] extends [string | null]
        ? DigestType
        : [T] extends [readonly string[]]
          ? ListType
          : never;

export interface KeySpecOf<F extends ConfigField> {
  /** Name in zoo.cfg (ZooKeeper's spelling where ZooKeeper has the key). */
  readonly name: string;
  /** Other spellings accepted in zoo.cfg (e.g. ZooKeeper system-property names). */
  readonly aliases: readonly string[];
  readonly field: F;
  readonly type: TypeFor<ServerConfig[F]>;
  /** Default as stored before resolution (may be the type's sentinel, e.g. -1). */
  readonly default: ServerConfig[F];
  /** CLI flag that sets this key, if any (`waitfree server --port`). */
  readonly flag?: string;
  readonly help: string;
}

/** Any key's spec: a union over fields, so `spec.type.kind` narrows. */
export type KeySpec = { [F in ConfigField]: KeySpecOf<F> }[ConfigField];

const INT32_MAX = 2 ** 31 - 1;
const MiB = 1024 * 1024;

/** Bytes of framing our rings add around a client frame; a max frame must still fit. */
export const FRAME_OVERHEAD_BYTES = 64;

/** Bound of waitfree.idleSpinUs: a spin is a latency trade, never a way to stay awake. */
const IDLE_SPIN_US_MAX = 10_000;
const RING: IntType = { kind: 'int', min: CAPACITY_BYTES_MIN, max: CAPACITY_BYTES_MAX, power_of_two: true, bytes: true };

/** min(4, max(1, cores - 1)): leave a core for the net and commit workers. */
export function defaultReadWorkers(cores: number = availableParallelism()): number {
  return Math.min(4, Math.max(1, cores - 1));
}

type KeyTable = { readonly [F in ConfigField]: KeySpecOf<F> };

const KEYS: KeyTable = {
  tick_time_ms: {
    name: 'tickTime', aliases: [], field: 'tick_time_ms', default: 2000,
    type: { kind: 'int', min: 1, max: 60_000 },
    help: 'Milliseconds per tick: session expiry granularity; session timeout bounds default to 2 and 20 ticks. Default 2000 as in the sample zoo.cfg (ZooKeeper\'s built-in default is 3000).',
  },
  data_dir: {
    name: 'dataDir', aliases: [], field: 'data_dir', default: './data', flag: '--data-dir',
    type: { kind: 'string', format: 'path' },
    help: 'Directory for snapshots, the session liveness table and (unless dataLogDir is set) the transaction log. Locked by the running server (dataDir/lock).',
  },
  data_log_dir: {
    name: 'dataLogDir', aliases: [], field: 'data_log_dir', default: '',
    type: { kind: 'string', format: 'path', optional: true },
    help: 'Directory for the transaction log, ideally on its own device (the log is fsynced on every commit). Unset: dataDir.',
  },
  client_port: {
    name: 'clientPort', aliases: [], field: 'client_port', default: 2181, flag: '--port',
    type: { kind: 'int', min: 0, max: 65535 },
    help: 'TCP port for client connections and four-letter words; 0 picks a free port.',
  },
  client_port_address: {
    name: 'clientPortAddress', aliases: [], field: 'client_port_address', default: '127.0.0.1', flag: '--host',
    type: { kind: 'string', format: 'host' },
    help: 'Address the client port listens on (0.0.0.0 for every interface).',
  },
  secure_client_port: {
    name: 'secureClientPort', aliases: [], field: 'secure_client_port', default: -1,
    type: { kind: 'int', min: 0, max: 65535, sentinel: { value: -1, meaning: 'none' } },
    help: 'TLS port for client connections (ZooKeeper\'s Netty secure port; the plain clientPort stays open); 0 picks a free port. Needs ssl.keyStore.location. Clients that present a certificate the trust store verifies get the id x509:<subject DN, RFC 2253>. Unset by default.',
  },
  secure_client_port_address: {
    name: 'secureClientPortAddress', aliases: [], field: 'secure_client_port_address', default: '',
    type: { kind: 'string', format: 'host', optional: true },
    help: 'Address the secure client port listens on. Unset: clientPortAddress.',
  },
  client_port_unification: {
    name: 'client.portUnification', aliases: ['zookeeper.client.portUnification'], field: 'client_port_unification', default: false,
    type: { kind: 'bool' },
    help: 'The plain clientPort also takes TLS clients (told apart by their first byte), with the secure client port\'s keys and rules (ssl.keyStore.*, ssl.trustStore.*, ssl.clientAuth, x509 ids): the rolling move of clients to TLS ZooKeeper\'s Netty port allows. Needs ssl.keyStore.location.',
  },
  ssl_key_store_location: {
    name: 'ssl.keyStore.location', aliases: ['zookeeper.ssl.keyStore.location'], field: 'ssl_key_store_location', default: '',
    type: { kind: 'string', format: 'path', optional: true },
    help: 'The secure client port\'s key and certificate chain: a PEM file (private key and certificates, as ZooKeeper\'s PEM key store) or a PKCS#12 file (.p12, .pfx). JKS and BCFKS files are not read: convert them with keytool -importkeystore -deststoretype PKCS12.',
  },
  ssl_key_store_password: {
    name: 'ssl.keyStore.password', aliases: ['zookeeper.ssl.keyStore.password'], field: 'ssl_key_store_password', default: '',
    type: { kind: 'string', format: 'text', optional: true },
    help: 'Password of the key store (PKCS#12) or of its encrypted PEM private key. Never shown by conf.',
  },
  ssl_key_store_password_path: {
    name: 'ssl.keyStore.passwordPath', aliases: ['zookeeper.ssl.keyStore.passwordPath'], field: 'ssl_key_store_password_path', default: '',
    type: { kind: 'string', format: 'path', optional: true },
    help: 'A file holding the key store\'s password (one trailing newline dropped, as ZooKeeper\'s SecretUtils); it wins over ssl.keyStore.password.',
  },
  ssl_key_store_type: {
    name: 'ssl.keyStore.type', aliases: ['zookeeper.ssl.keyStore.type'], field: 'ssl_key_store_type', default: '',
    type: { kind: 'string', format: 'choice', choices: ['PEM', 'PKCS12', 'JKS', 'BCFKS'], ignore_case: true, optional: true },
    help: 'PEM or PKCS12. Unset: from the file name, as ZooKeeper (.pem, .p12; .pfx is PKCS12 too).',
  },
  ssl_trust_store_location: {
    name: 'ssl.trustStore.location', aliases: ['zookeeper.ssl.trustStore.location'], field: 'ssl_trust_store_location', default: '',
    type: { kind: 'string', format: 'path', optional: true },
    help: 'The certificates client certificates are verified against: a PEM file of CA certificates. Unset: Node\'s bundled CA certificates (as ZooKeeper falls back to the JVM\'s).',
  },
  ssl_trust_store_password: {
    name: 'ssl.trustStore.password', aliases: ['zookeeper.ssl.trustStore.password'], field: 'ssl_trust_store_password', default: '',
    type: { kind: 'string', format: 'text', optional: true },
    help: 'Accepted for ZooKeeper configurations; a PEM trust store has no password.',
  },
  ssl_trust_store_type: {
    name: 'ssl.trustStore.type', aliases: ['zookeeper.ssl.trustStore.type'], field: 'ssl_trust_store_type', default: '',
    type: { kind: 'string', format: 'choice', choices: ['PEM', 'PKCS12', 'JKS', 'BCFKS'], ignore_case: true, optional: true },
    help: 'PEM. Unset: from the file name (.pem). A PKCS12, JKS or BCFKS trust store is not read: export its certificates as PEM (keytool -exportcert -rfc).',
  },
  ssl_client_auth: {
    name: 'ssl.clientAuth', aliases: ['zookeeper.ssl.clientAuth'], field: 'ssl_client_auth', default: 'NEED',
    type: { kind: 'string', format: 'choice', choices: ['NEED', 'WANT', 'NONE'], ignore_case: true },
    help: 'Client certificates on the secure port, as ZooKeeper: NEED (the default) refuses a client without a verified certificate; WANT asks for one and lets a client without any in (a certificate that does not verify is refused); NONE does not ask.',
  },
  ssl_protocol: {
    name: 'ssl.protocol', aliases: ['zookeeper.ssl.protocol'], field: 'ssl_protocol', default: 'TLSv1.2',
    type: { kind: 'string', format: 'choice', choices: ['TLSv1.2', 'TLSv1.3'] },
    help: 'The TLS version of the secure port when ssl.enabledProtocols is unset (ZooKeeper 3.8\'s default TLSv1.2).',
  },
  ssl_enabled_protocols: {
    name: 'ssl.enabledProtocols', aliases: ['zookeeper.ssl.enabledProtocols'], field: 'ssl_enabled_protocols', default: [],
    type: { kind: 'list' },
    help: 'Comma-separated TLS versions the secure port accepts: TLSv1.2, TLSv1.3. Unset: ssl.protocol alone.',
  },
  ssl_ciphersuites: {
    name: 'ssl.ciphersuites', aliases: ['zookeeper.ssl.ciphersuites'], field: 'ssl_ciphersuites', default: [],
    type: { kind: 'list' },
    help: 'Not supported with a secure client port (the start stops: the port would accept suites the list leaves out); the port uses Node\'s default suites (TLS 1.3, and ECDHE with AES-GCM or ChaCha20 for TLS 1.2).',
  },
  x509_super_user: {
    name: 'zookeeper.X509AuthenticationProvider.superUser', aliases: ['X509AuthenticationProvider.superUser'], field: 'x509_super_user', default: '',
    type: { kind: 'string', format: 'text', optional: true },
    help: 'A client certificate subject (its x509 id, RFC 2253) that bypasses every ACL, as the super digest does. Unset by default.',
  },
  ssl_quorum: {
    name: 'sslQuorum', aliases: ['zookeeper.sslQuorum'], field: 'ssl_quorum', default: false,
    type: { kind: 'bool' },
    help: 'Ensemble: the links between members (votes, proposals, syncs) use TLS with certificates on both ends, as ZooKeeper\'s quorum TLS. Needs ssl.quorum.keyStore.location (and, to trust the other members, ssl.quorum.trustStore.location).',
  },
  quorum_port_unification: {
    name: 'portUnification', aliases: ['zookeeper.portUnification'], field: 'quorum_port_unification', default: false,
    type: { kind: 'bool' },
    help: 'Ensemble: the quorum port takes TLS and plain links alike (what a member dials still follows sslQuorum), for the rolling upgrade to quorum TLS ZooKeeper\'s guide describes. Needs the ssl.quorum key store.',
  },
  ssl_quorum_key_store_location: {
    name: 'ssl.quorum.keyStore.location', aliases: ['zookeeper.ssl.quorum.keyStore.location'], field: 'ssl_quorum_key_store_location', default: '',
    type: { kind: 'string', format: 'path', optional: true },
    help: 'This member\'s key and certificate chain for the quorum links: PEM (key and certificates in one file) or PKCS#12 (.p12, .pfx), as ssl.keyStore.location.',
  },
  ssl_quorum_key_store_password: {
    name: 'ssl.quorum.keyStore.password', aliases: ['zookeeper.ssl.quorum.keyStore.password'], field: 'ssl_quorum_key_store_password', default: '',
    type: { kind: 'string', format: 'text', optional: true },
    help: 'Password of the quorum key store (PKCS#12) or of its encrypted PEM private key. Never shown by conf.',
  },
  ssl_quorum_key_store_password_path: {
    name: 'ssl.quorum.keyStore.passwordPath', aliases: ['zookeeper.ssl.quorum.keyStore.passwordPath'], field: 'ssl_quorum_key_store_password_path', default: '',
    type: { kind: 'string', format: 'path', optional: true },
    help: 'A file holding the quorum key store\'s password; it wins over ssl.quorum.keyStore.password.',
  },
  ssl_quorum_key_store_type: {
    name: 'ssl.quorum.keyStore.type', aliases: ['zookeeper.ssl.quorum.keyStore.type'], field: 'ssl_quorum_key_store_type', default: '',
    type: { kind: 'string', format: 'choice', choices: ['PEM', 'PKCS12', 'JKS', 'BCFKS'], ignore_case: true, optional: true },
    help: 'PEM or PKCS12. Unset: from the file name.',
  },
  ssl_quorum_trust_store_location: {
    name: 'ssl.quorum.trustStore.location', aliases: ['zookeeper.ssl.quorum.trustStore.location'], field: 'ssl_quorum_trust_store_location', default: '',
    type: { kind: 'string', format: 'path', optional: true },
    help: 'The certificates the other members\' certificates are verified against: a PEM file of CA (or the members\' own) certificates. Unset: Node\'s bundled CA certificates.',
  },
  ssl_quorum_trust_store_password: {
    name: 'ssl.quorum.trustStore.password', aliases: ['zookeeper.ssl.quorum.trustStore.password'], field: 'ssl_quorum_trust_store_password', default: '',
    type: { kind: 'string', format: 'text', optional: true },
    help: 'Accepted for ZooKeeper configurations; a PEM trust store has no password.',
  },
  ssl_quorum_trust_store_type: {
    name: 'ssl.quorum.trustStore.type', aliases: ['zookeeper.ssl.quorum.trustStore.type'], field: 'ssl_quorum_trust_store_type', default: '',
    type: { kind: 'string', format: 'choice', choices: ['PEM', 'PKCS12', 'JKS', 'BCFKS'], ignore_case: true, optional: true },
    help: 'PEM. Unset: from the file name (.pem).',
  },
  ssl_quorum_client_auth: {
    name: 'ssl.quorum.clientAuth', aliases: ['zookeeper.ssl.quorum.clientAuth'], field: 'ssl_quorum_client_auth', default: 'NEED',
    type: { kind: 'string', format: 'choice', choices: ['NEED', 'WANT', 'NONE'], ignore_case: true },
    help: 'Certificates of the members that dial in: NEED (the default) refuses a link without a verified certificate; WANT lets one without any certificate in; NONE does not ask. The member dialing always verifies the certificate of the one it dials.',
  },
  ssl_quorum_protocol: {
    name: 'ssl.quorum.protocol', aliases: ['zookeeper.ssl.quorum.protocol'], field: 'ssl_quorum_protocol', default: 'TLSv1.2',
    type: { kind: 'string', format: 'choice', choices: ['TLSv1.2', 'TLSv1.3'] },
    help: 'The TLS version of the quorum links when ssl.quorum.enabledProtocols is unset.',
  },
  ssl_quorum_enabled_protocols: {
    name: 'ssl.quorum.enabledProtocols', aliases: ['zookeeper.ssl.quorum.enabledProtocols'], field: 'ssl_quorum_enabled_protocols', default: [],
    type: { kind: 'list' },
    help: 'Comma-separated TLS versions of the quorum links: TLSv1.2, TLSv1.3. Unset: ssl.quorum.protocol alone.',
  },
  ssl_quorum_ciphersuites: {
    name: 'ssl.quorum.ciphersuites', aliases: ['zookeeper.ssl.quorum.ciphersuites'], field: 'ssl_quorum_ciphersuites', default: [],
    type: { kind: 'list' },
    help: 'Not supported with quorum TLS (the start stops); the links use Node\'s default suites.',
  },
  ssl_quorum_hostname_verification: {
    name: 'ssl.quorum.hostnameVerification', aliases: ['zookeeper.ssl.quorum.hostnameVerification'], field: 'ssl_quorum_hostname_verification', default: true,
    type: { kind: 'bool' },
    help: 'A member\'s certificate must name the address it is reached at (the host of its server.N line; for one that dials in, its IP address or a name that address resolves back to), as ZooKeeper checks. false: any certificate the trust store verifies.',
  },
  ssl_quorum_reload_cert_files: {
    name: 'sslQuorumReloadCertFiles', aliases: ['zookeeper.sslQuorumReloadCertFiles'], field: 'ssl_quorum_reload_cert_files', default: false,
    type: { kind: 'bool' },
    help: 'Ensemble with quorum TLS: watch ssl.quorum.keyStore.location and ssl.quorum.trustStore.location, and read them again when they change; links made after that use them (links up stay as they are), so certificates are rotated without a restart. A store that does not load is logged and the previous one kept.',
  },
  max_client_cnxns: {
    name: 'maxClientCnxns', aliases: [], field: 'max_client_cnxns', default: 60,
    type: { kind: 'int', min: 0, max: INT32_MAX },
    help: 'Max concurrent connections from one client IP address; 0 = unlimited.',
  },
  max_cnxns: {
    name: 'maxCnxns', aliases: ['zookeeper.maxCnxns'], field: 'max_cnxns', default: 0,
    type: { kind: 'int', min: 0, max: INT32_MAX },
    help: 'Max concurrent client connections in total, four-letter-word connections included (ZooKeeper 3.7+); 0 = unlimited. A connection over it is closed at once, logged and counted (waitfree_net_connections_rejected_total).',
  },
  min_session_timeout_ms: {
    name: 'minSessionTimeout', aliases: [], field: 'min_session_timeout_ms', default: -1,
    type: { kind: 'int', min: 1, max: INT32_MAX, sentinel: { value: -1, meaning: '2 x tickTime' } },
    help: 'Smallest session timeout granted, in ms; -1 = 2 x tickTime.',
  },
  max_session_timeout_ms: {
    name: 'maxSessionTimeout', aliases: [], field: 'max_session_timeout_ms', default: -1,
    type: { kind: 'int', min: 1, max: INT32_MAX, sentinel: { value: -1, meaning: '20 x tickTime' } },
    help: 'Largest session timeout granted, in ms; -1 = 20 x tickTime.',
  },
  jute_max_buffer_bytes: {
    name: 'jute.maxbuffer', aliases: [], field: 'jute_max_buffer_bytes', default: 0xfffff,
    type: { kind: 'int', min: 1, max: INT32_MAX, bytes: true },
    help: 'Largest request or reply payload in bytes (0xfffff = 1 MiB - 1, as ZooKeeper).',
  },
  four_letter_whitelist: {
    name: '4lw.commands.whitelist', aliases: ['zookeeper.4lw.commands.whitelist'], field: 'four_letter_whitelist', default: ['srvr'],
    type: { kind: 'list' },
    help: 'Comma-separated four-letter words answered on the client port; * = all. srvr is always answered (ZooKeeper\'s default list is just srvr).',
  },
  admin_enable_server: {
    name: 'admin.enableServer', aliases: ['zookeeper.admin.enableServer'], field: 'admin_enable_server', default: true,
    type: { kind: 'bool' },
    help: 'Serve the admin HTTP API: GET /commands/<name> (ZooKeeper\'s AdminServer commands, JSON) and GET /metrics (Prometheus text).',
  },
  admin_server_port: {
    name: 'admin.serverPort', aliases: ['zookeeper.admin.serverPort'], field: 'admin_server_port', default: 8080, flag: '--admin-port',
    type: { kind: 'int', min: 0, max: 65535 },
    help: 'Port of the admin HTTP API; 0 picks a free port. If it cannot be bound the server still starts, without the admin API (logged).',
  },
  admin_server_address: {
    name: 'admin.serverAddress', aliases: ['zookeeper.admin.serverAddress'], field: 'admin_server_address', default: '127.0.0.1',
    type: { kind: 'string', format: 'host' },
    help: 'Address the admin HTTP API listens on. Loopback by default (ZooKeeper uses 0.0.0.0): its answers list sessions, watches and the configuration.',
  },
  native: {
    name: 'waitfree.native', aliases: [], field: 'native', default: true, flag: '--native',
    type: { kind: 'bool' },
    help: 'Use native addons where they load (uWebSockets.js for the admin API). false: their pure-Node twins in native-free/. A native module that cannot load is replaced by its twin automatically, with one log line.',
  },
  super_digest: {
    name: 'superDigest', aliases: ['DigestAuthenticationProvider.superDigest', 'zookeeper.DigestAuthenticationProvider.superDigest'],
    field: 'super_digest', default: null,
    type: { kind: 'digest' },
    help: 'super:base64(sha1("super:password")): clients authenticated as this digest bypass every ACL. Unset by default.',
  },
  sasl_jaas_config_file: {
    name: 'waitfree.sasl.jaasConfigFile', aliases: ['java.security.auth.login.config'], field: 'sasl_jaas_config_file', default: '',
    type: { kind: 'string', format: 'path', optional: true },
    help: 'A JAAS login configuration file (what ZooKeeper reads from the Java property java.security.auth.login.config): its section zookeeper.sasl.serverconfig lists the SASL DIGEST-MD5 users as org.apache.zookeeper.server.auth.DigestLoginModule options user_NAME="password". Clients that log in get the id sasl:NAME. A file that cannot be read or parsed stops the start; a file without the section leaves SASL off, as in ZooKeeper. Kerberos (GSSAPI) is not supported. Unset by default: SASL packets are answered as by a ZooKeeper without JAAS.',
  },
  sasl_server_section: {
    name: 'zookeeper.sasl.serverconfig', aliases: [], field: 'sasl_server_section', default: 'Server',
    type: { kind: 'string', format: 'text' },
    help: 'The section of the JAAS file (waitfree.sasl.jaasConfigFile) with the server\'s SASL users.',
  },
  sasl_super_user: {
    name: 'zookeeper.superUser', aliases: ['superUser'], field: 'sasl_super_user', default: '',
    type: { kind: 'string', format: 'text', optional: true },
    help: 'A SASL user (authorization id) that bypasses every ACL, as the super digest does. Unset by default.',
  },
  enforce_auth_enabled: {
    name: ENFORCE_AUTH_KEYS.enabled, aliases: ['enforce.auth.enabled'], field: 'enforce_auth_enabled', default: false,
    type: { kind: 'bool' },
    help: 'Every request but auth and sasl of a connection that has no id of a scheme in zookeeper.enforce.auth.schemes is answered SESSIONCLOSEDREQUIRESASLAUTH and the connection closes (its session stays until it expires), as in ZooKeeper 3.8. With it on, the net worker answers no read and sends no write itself (waitfree.net.fastReads and waitfree.net.directWrites do nothing): every request passes the read worker that holds the connection\'s ids.',
  },
  enforce_auth_schemes: {
    name: ENFORCE_AUTH_KEYS.schemes, aliases: ['enforce.auth.schemes'], field: 'enforce_auth_schemes', default: [],
    type: { kind: 'list' },
    help: 'Comma-separated schemes zookeeper.enforce.auth.enabled accepts: digest, sasl, ip (every connection has its ip id, so ip lets every client in). Required when enforcement is on; any other scheme stops the start, as ZooKeeper does for a scheme without a provider.',
  },
  session_require_client_sasl_auth: {
    name: ENFORCE_AUTH_KEYS.sasl_required, aliases: ['sessionRequireClientSASLAuth'], field: 'session_require_client_sasl_auth', default: false,
    type: { kind: 'bool' },
    help: 'Enforcement of the sasl scheme (zookeeper.enforce.auth.enabled with the schemes sasl, whatever those two say), and a failed SASL login is answered SESSIONCLOSEDREQUIRESASLAUTH instead of AUTHFAILED.',
  },
  global_outstanding_limit: {
    name: 'globalOutstandingLimit', aliases: ['zookeeper.globalOutstandingLimit'], field: 'global_outstanding_limit', default: 1000,
    type: { kind: 'int', min: 1, max: INT32_MAX },
    help: 'Requests in flight across all sessions before the server stops reading from clients (ZooKeeper\'s default 1000).',
  },
  extended_types_enabled: {
    name: 'zookeeper.extendedTypesEnabled', aliases: ['extendedTypesEnabled'], field: 'extended_types_enabled', default: false,
    type: { kind: 'bool' },
    help: 'Enables TTL nodes (createTTL and the *_WITH_TTL create modes).',
  },
  enforce_quota: {
    name: 'zookeeper.enforceQuota', aliases: ['enforceQuota'], field: 'enforce_quota', default: false,
    type: { kind: 'bool' },
    help: 'Enforces quotas (zkCli setquota, /zookeeper/quota): a create or setData that takes a quota\'s subtree over a hard limit (-N / -B) is answered QUOTAEXCEEDED; over a soft limit (-n / -b) it is logged and done. false (ZooKeeper\'s default): quotas are only counted.',
  },
  reconfig_enabled: {
    name: 'reconfigEnabled', aliases: ['zookeeper.reconfigEnabled'], field: 'reconfig_enabled', default: false,
    type: { kind: 'bool' },
    help: 'Allows the reconfig request (the super user only, as in ZooKeeper): voters and observers can then be added, removed, moved or change roles while the ensemble runs; the membership is kept in /zookeeper/config, replicated and durable. false: reconfig is answered RECONFIGDISABLED, as by ZooKeeper.',
  },
  container_check_interval_ms: {
    name: 'znode.container.checkIntervalMs', aliases: [], field: 'container_check_interval_ms', default: 60_000,
    type: { kind: 'int', min: 1, max: INT32_MAX },
    help: 'How often empty container nodes and expired TTL nodes are looked for, in ms.',
  },
  container_max_per_minute: {
    name: 'znode.container.maxPerMinute', aliases: [], field: 'container_max_per_minute', default: 10_000,
    type: { kind: 'int', min: 1, max: INT32_MAX },
    help: 'At most this many container/TTL node deletions per minute.',
  },
  net_fast_reads: {
    name: 'waitfree.net.fastReads', aliases: [], field: 'net_fast_reads', default: true,
    type: { kind: 'bool' },
    help: 'The net worker answers a getData/exists without a watch itself when the session has nothing in flight and the net worker is not busy (one thread hop less; takes one more tree reader slot per read worker).',
  },
  read_wait_for_known_commit_ms: {
    name: 'waitfree.readWaitForKnownCommitMs', aliases: [], field: 'read_wait_for_known_commit_ms', default: 50,
    type: { kind: 'int', min: 0, max: 60_000 },
    help: 'A read that arrives while this replica holds a commit it has not applied yet (a follower has the leader\'s COMMIT) waits for it, at most this many ms: a client told of a write by another member reads it here too, as clients expect (ZooKeeper itself promises that only after sync). It never waits for a quorum. 0: reads never wait.',
  },
  idle_spin_us: {
    name: 'waitfree.idleSpinUs', aliases: [], field: 'idle_spin_us', default: 0,
    type: { kind: 'int', min: 0, max: IDLE_SPIN_US_MAX },
    help: 'After work, the net worker and the commit worker keep polling their inputs for up to this many microseconds before they sleep (0: they sleep at once). Saves the wake-ups of an unloaded request where waking a sleeping thread is slow (VMs that halt idle vCPUs): on the 2-core VM of BENCHMARKS.md, 300 cut an unloaded synced write by ~0.07 ms. Costs CPU per request, and on a host without a core to spare it takes CPU from the threads it waits for.',
  },
  net_direct_writes: {
    name: 'waitfree.net.directWrites', aliases: [], field: 'net_direct_writes', default: true,
    type: { kind: 'bool' },
    help: 'The net worker sends a write of a session with nothing in flight straight to the commit worker, which answers it (two thread hops instead of four); the read worker only holds its place in the session order.',
  },
  read_workers: {
    name: 'waitfree.readWorkers', aliases: [], field: 'read_workers', default: defaultReadWorkers(), flag: '--read-workers',
    type: { kind: 'int', min: 1, max: 64 },
    help: 'Read workers (session shards) serving reads from the shared snapshot. Default min(4, max(1, cores - 1)).',
  },
  ring_net_to_shard_bytes: {
    name: 'waitfree.ring.netToShardBytes', aliases: [], field: 'ring_net_to_shard_bytes', default: 4 * MiB,
    type: RING,
    help: 'Capacity of each net worker -> read worker ring (requests).',
  },
  ring_shard_to_net_bytes: {
    name: 'waitfree.ring.shardToNetBytes', aliases: [], field: 'ring_shard_to_net_bytes', default: 4 * MiB,
    type: RING,
    help: 'Capacity of each read worker -> net worker ring (replies and watch events).',
  },
  ring_shard_to_commit_bytes: {
    name: 'waitfree.ring.shardToCommitBytes', aliases: [], field: 'ring_shard_to_commit_bytes', default: 4 * MiB,
    type: RING,
    help: 'Capacity of each read worker -> commit worker ring (writes).',
  },
  ring_commit_stream_bytes: {
    name: 'waitfree.ring.commitStreamBytes', aliases: [], field: 'ring_commit_stream_bytes', default: 8 * MiB,
    type: RING,
    help: 'Capacity of the commit stream (commit worker -> every read worker).',
  },
  ring_net_to_commit_bytes: {
    name: 'waitfree.ring.netToCommitBytes', aliases: [], field: 'ring_net_to_commit_bytes', default: 4 * MiB,
    type: RING,
    help: 'Capacity of the net worker -> commit worker ring (direct writes).',
  },
  ring_commit_to_net_bytes: {
    name: 'waitfree.ring.commitToNetBytes', aliases: [], field: 'ring_commit_to_net_bytes', default: 4 * MiB,
    type: RING,
    help: 'Capacity of the commit worker -> net worker ring (replies to direct writes).',
  },
  sessionless_cnxn_timeout_ms: {
    name: 'waitfree.sessionlessCnxnTimeoutMs', aliases: ['zookeeper.nio.sessionlessCnxnTimeout'], field: 'sessionless_cnxn_timeout_ms', default: 10_000,
    type: { kind: 'int', min: 10, max: INT32_MAX },
    help: 'A connection that has not completed its session handshake within this many ms is closed (ZooKeeper: 10 s).',
  },
  reply_bytes_max: {
    name: 'waitfree.replyBytesMax', aliases: [], field: 'reply_bytes_max', default: 128 * MiB,
    type: { kind: 'int', min: 1024, max: 1024 * MiB, bytes: true },
    help: 'Largest reply sent, in bytes (replies travel between threads in pieces); a larger one is answered MARSHALLINGERROR.',
  },
  conn_outbound_bytes_max: {
    name: 'waitfree.connOutboundBytesMax', aliases: [], field: 'conn_outbound_bytes_max', default: 64 * MiB,
    type: { kind: 'int', min: 64 * 1024, max: 1024 * MiB, bytes: true },
    help: 'Unsent output a connection may hold when another reply is due; past it the client is not reading and is cut off.',
  },
  max_outstanding_per_session: {
    name: 'waitfree.maxOutstandingPerSession', aliases: [], field: 'max_outstanding_per_session', default: 1000,
    type: { kind: 'int', min: 1, max: 1_000_000 },
    help: 'Requests of one session read but not yet answered before that connection stops being read.',
  },
  watch_slice_entries: {
    name: 'waitfree.watch.sliceEntries', aliases: [], field: 'watch_slice_entries', default: 2048,
    type: { kind: 'int', min: 1, max: 1_000_000 },
    help: 'Watch entries a read worker lists (wchc, wchp) or removes (a closed connection that held more than this many watches) per turn of its loop, between serving requests: lower keeps other sessions\' replies quicker during such work, higher finishes it sooner.',
  },
  watch_listing_bytes_max: {
    name: 'waitfree.watch.listingBytesMax', aliases: [], field: 'watch_listing_bytes_max', default: 32 * MiB,
    type: { kind: 'int', min: 1024, max: 1024 * MiB, bytes: true },
    help: 'Largest watch listing (wchc, wchp, the admin watches and watches_by_path commands), counted as the listed paths\' bytes plus 5 per path and 9 per session id; a longer listing is cut and its answer says so.',
  },
  tree_page_bytes: {
    name: ARENA_CONFIG_KEYS.page_bytes, aliases: [], field: 'tree_page_bytes', default: ARENA_DEFAULTS.page_bytes,
    type: { kind: 'int', min: 1024, max: 32768, bytes: true },
    help: 'Page size of the shared data tree (a power of two, 1 KiB to 32 KiB).',
  },
  tree_segment_bytes: {
    name: ARENA_CONFIG_KEYS.segment_bytes, aliases: [], field: 'tree_segment_bytes', default: ARENA_DEFAULTS.segment_bytes,
    type: { kind: 'int', min: 64 * 1024, max: 1024 * MiB, bytes: true },
    help: 'Size of one shared-memory segment of the data tree (a power of two, at least 64 pages). Segments cost memory only once used.',
  },
  tree_segments_max: {
    name: ARENA_CONFIG_KEYS.segments_max, aliases: [], field: 'tree_segments_max', default: 64,
    type: { kind: 'int', min: 1, max: 65536 },
    help: 'Segments the data tree may use: its memory bound is segmentsMax x segmentBytes (default 4 GiB). A replica whose tree reaches it stops loudly.',
  },
  tree_reader_slots: {
    name: ARENA_CONFIG_KEYS.reader_slots, aliases: [], field: 'tree_reader_slots', default: ARENA_DEFAULTS.reader_slots,
    type: { kind: 'int', min: 1, max: 4096 },
    help: 'Threads that may read the data tree at once (read workers and snapshot writers).',
  },
  tree_root_ring: {
    name: ARENA_CONFIG_KEYS.root_ring, aliases: [], field: 'tree_root_ring', default: ARENA_DEFAULTS.root_ring,
    type: { kind: 'int', min: 4, max: 4096 },
    help: 'Published tree roots whose descriptors stay readable (a power of two).',
  },
  server_id: {
    name: 'waitfree.serverId', aliases: [], field: 'server_id', default: 1,
    type: { kind: 'int', min: 0, max: 254 },
    help: 'This server\'s id (the high byte of the session ids it creates).',
  },
  fsync: {
    name: 'waitfree.fsync', aliases: [], field: 'fsync', default: 'always',
    type: { kind: 'string', format: 'choice', choices: ['always', 'none'] },
    help: 'always: a write is acknowledged only once the log batch holding it is fdatasynced (group commit). none: the log is written but never synced, so a machine crash loses acknowledged writes; for experiments only (logged loudly at start).',
  },
  fsync_warning_threshold_ms: {
    name: 'fsync.warningthresholdms', aliases: ['zookeeper.fsync.warningthresholdms'], field: 'fsync_warning_threshold_ms', default: 1000,
    type: { kind: 'int', min: 0, max: INT32_MAX },
    help: 'A txn log write + sync that takes longer than this many milliseconds is logged as a warning and counted (fsync_threshold_exceed_count of the admin server\'s server_stats); mntr reports every sync\'s time as zk_{avg,min,max,cnt,sum}_fsynctime. As ZooKeeper\'s, which reads it as a system property (a zoo.cfg line sets it too).',
  },
  force_sync: {
    name: 'forceSync', aliases: ['zookeeper.forceSync'], field: 'force_sync', default: 'yes',
    type: { kind: 'string', format: 'choice', choices: ['yes', 'no'] },
    help: 'ZooKeeper\'s spelling of waitfree.fsync: no = waitfree.fsync=none (for experiments only).',
  },
  commit_batch_txns_max: {
    name: 'waitfree.commit.batchTxnsMax', aliases: [], field: 'commit_batch_txns_max', default: 1000,
    type: { kind: 'int', min: 1, max: 1_000_000 },
    help: 'Group commit: most txns written with one write + fdatasync (ZooKeeper\'s maxBatchSize is 1000).',
  },
  commit_batch_bytes_max: {
    name: 'waitfree.commit.batchBytesMax', aliases: [], field: 'commit_batch_bytes_max', default: MiB,
    type: { kind: 'int', min: 4096, max: 1024 * MiB, bytes: true },
    help: 'Group commit: a batch is written once its log records reach this many bytes (a batch always takes at least one txn).',
  },
  commit_batch_wait_us: {
    name: 'waitfree.commit.batchWaitUs', aliases: [], field: 'commit_batch_wait_us', default: 0,
    type: { kind: 'int', min: 0, max: 1_000_000 },
    help: 'Group commit: how long the first txn of a batch may wait for more before the batch is written, in microseconds. 0 = write as soon as the previous write landed (batches form while one is in flight).',
  },
  snap_count: {
    name: 'snapCount', aliases: ['zookeeper.snapCount'], field: 'snap_count', default: 100_000,
    type: { kind: 'int', min: 2, max: INT32_MAX },
    help: 'A snapshot is written in the background every snapCount/2 + random(snapCount/2) txns, as in ZooKeeper.',
  },
  log_segment_bytes: {
    name: 'waitfree.log.segmentBytes', aliases: [], field: 'log_segment_bytes', default: 64 * MiB,
    type: { kind: 'int', min: 4096, max: 1024 * MiB, bytes: true },
    help: 'Size of a txn log segment file: each is preallocated (zero-filled) to this size, and the log rolls to the next one when a batch does not fit.',
  },
  log_sync_method: {
    name: 'waitfree.log.syncMethod', aliases: [], field: 'log_sync_method', default: 'fdatasync',
    type: { kind: 'string', format: 'choice', choices: ['fdatasync', 'dsync'] },
    help: 'How a log batch is made durable (with waitfree.fsync=always): fdatasync = write, then fdatasync; dsync = log segments opened with O_DSYNC, so the write itself is durable (one trip to the I/O thread pool instead of two). Default: fdatasync standalone (within noise of dsync there: small batches are synced on the commit thread), dsync in an ensemble (every batch goes to the pool there; measured faster, BENCHMARKS.md). Like PostgreSQL\'s wal_sync_method.',
  },
  log_inline_sync_txns_max: {
    name: 'waitfree.log.inlineSyncTxnsMax', aliases: [], field: 'log_inline_sync_txns_max', default: 64,
    type: { kind: 'int', min: 0, max: INT32_MAX },
    help: 'A standalone replica writes and syncs a log batch of at most this many txns on the commit worker\'s own thread even when requests wait (no trips to libuv\'s pool; what arrives meanwhile forms the next batch). A larger batch goes to the pool, so that the next one is prepped meanwhile, unless nothing waits. 0: only when nothing waits. An ensemble member never syncs on that thread (it also runs Zab, whose messages must not wait for a disk). Measured in BENCHMARKS.md.',
  },
  commit_young_generation_mb: {
    name: 'waitfree.commit.youngGenerationMb', aliases: [], field: 'commit_young_generation_mb', default: 96,
    type: { kind: 'int', min: 3, max: 3072 },
    help: 'The most the V8 young generation of the commit worker may grow to, MiB (3 x its semi-space; V8 grows it only under allocation pressure). What a write allocates lives until its batch is synced and applied, so with many writes in flight a small young generation copies them in every scavenge and promotes them to the old one: at 32 sessions x 100 writes in flight, 96 halved the commit thread\'s GC time against Node\'s default of 48 (BENCHMARKS.md).',
  },
  log_fsync_delay_us: {
    name: 'waitfree.log.fsyncDelayUs', aliases: [], field: 'log_fsync_delay_us', default: 0,
    type: { kind: 'int', min: 0, max: 10_000_000, sentinel: { value: -1, meaning: 'follow dataDir/fault.fsync_delay_us at runtime' } },
    help: 'FAULT INJECTION, for testing only (a slow disk): microseconds of delay added to every txn log sync, so writes are acknowledged that much later. 0 (default) = none. -1 = none at start, then the number in dataDir/fault.fsync_delay_us (re-read at most once a second; missing file = 0), which `waitfree check --nemesis slow-disk` writes; while that file says `eio` every sync fails with EIO instead (`--nemesis disk-fault`). Logged loudly at start when not 0.',
  },
  snap_retain_count: {
    name: 'autopurge.snapRetainCount', aliases: [], field: 'snap_retain_count', default: 3,
    type: { kind: 'int', min: 3, max: INT32_MAX },
    help: 'Snapshots kept, with the log segments they need; older ones are deleted after each new snapshot (see autopurge.purgeInterval). 3 is the minimum, as in ZooKeeper.',
  },
  purge_interval_hours: {
    name: 'autopurge.purgeInterval', aliases: [], field: 'purge_interval_hours', default: -1,
    type: { kind: 'int', min: 0, max: INT32_MAX, sentinel: { value: -1, meaning: 'after every snapshot' } },
    help: 'Hours between purges of old snapshots and logs. -1 (default) = after every snapshot: purging is on by default, unlike ZooKeeper, whose users fill disks with it off. 0 = never purge (as ZooKeeper\'s default; logged as a warning).',
  },
  init_limit_ticks: {
    name: 'initLimit', aliases: [], field: 'init_limit_ticks', default: 10,
    type: { kind: 'int', min: 1, max: INT32_MAX },
    help: 'Ensemble: ticks (of tickTime) a follower may take to connect to a leader and sync with it (ZooKeeper\'s sample zoo.cfg: 10).',
  },
  sync_limit_ticks: {
    name: 'syncLimit', aliases: [], field: 'sync_limit_ticks', default: 5,
    type: { kind: 'int', min: 1, max: INT32_MAX },
    help: 'Ensemble: ticks (of tickTime) a follower may lag behind or be silent to the leader before it is dropped (ZooKeeper\'s sample zoo.cfg: 5).',
  },
  peer_type: {
    name: 'peerType', aliases: [], field: 'peer_type', default: 'participant',
    type: { kind: 'string', format: 'choice', choices: ['participant', 'observer'], ignore_case: true },
    help: 'Ensemble: this server\'s role. Optional: the role on its server.N line (:observer) decides; if given, it must agree with that line.',
  },
  read_only_mode_enabled: {
    name: 'readonlymode.enabled', aliases: ['zookeeper.readonlymode.enabled'], field: 'read_only_mode_enabled', default: false,
    type: { kind: 'bool' },
    help: 'Ensemble: a replica cut off from the quorum keeps serving reads to clients that allow read-only sessions (ZooKeeper reads this as a Java system property).',
  },
  standalone_enabled: {
    name: 'standaloneEnabled', aliases: [], field: 'standalone_enabled', default: true,
    type: { kind: 'bool' },
    help: 'With exactly one participant among the server.N lines: true = run standalone (as ZooKeeper), false = run a one-server ensemble.',
  },
  election_alg: {
    name: 'electionAlg', aliases: [], field: 'election_alg', default: 3,
    type: { kind: 'int', min: 3, max: 3 },
    help: 'Leader election algorithm: only 3 (fast leader election), as in ZooKeeper 3.6+.',
  },
  quorum_listen_on_all_ips: {
    name: 'quorumListenOnAllIPs', aliases: [], field: 'quorum_listen_on_all_ips', default: false,
    type: { kind: 'bool' },
    help: 'Ensemble: the quorum and election ports listen on every address instead of the host of this server\'s server.N line.',
  },
  zab_in_flight_max: {
    name: 'waitfree.zab.inFlightMax', aliases: [], field: 'zab_in_flight_max', default: 1000,
    type: { kind: 'int', min: 1, max: 1_000_000 },
    help: 'Ensemble: proposals the leader keeps in flight (proposed, not yet committed by a quorum); further writes wait in the commit ring. Also bounds the writes a follower has forwarded and not yet seen committed.',
  },
  zab_frame_bytes_max: {
    name: 'waitfree.zab.frameBytesMax', aliases: [], field: 'zab_frame_bytes_max', default: 1024 * MiB,
    type: { kind: 'int', min: 4 * MiB, max: 4095 * MiB, bytes: true },
    help: 'Ensemble: the largest message between replicas. A SNAP (sent to a replica too far behind for a DIFF) is one message holding the whole snapshot, so the tree must fit in it.',
  },
  zab_queue_bytes_max: {
    name: 'waitfree.zab.queueBytesMax', aliases: [], field: 'zab_queue_bytes_max', default: 256 * MiB,
    type: { kind: 'int', min: MiB, max: 4095 * MiB, bytes: true },
    help: 'Ensemble: bytes waiting to be sent to one replica; past it that replica\'s connection is reset (it resyncs). One message larger than this is still sent when nothing else waits.',
  },
  my_id: {
    name: 'waitfree.myid', aliases: [], field: 'my_id', default: -1, flag: '--myid',
    type: { kind: 'int', min: 0, max: 255, sentinel: { value: -1, meaning: 'read dataDir/myid' } },
    help: 'Ensemble: this server\'s id, i.e. which server.N line it is. Default: the number in dataDir/myid, as ZooKeeper. In an ensemble it is also waitfree.serverId.',
  },
};

/** Every key, in the order help text and `conf` list them. */
export const CONFIG_KEYS: readonly KeySpec[] = Object.values(KEYS) as KeySpec[];

export function keySpec<F extends ConfigField>(field: F): KeySpecOf<F> {
  return KEYS[field];
}

const BY_NAME = new Map<string, KeySpec>();
for (const spec of CONFIG_KEYS) {
  for (const n of [spec.name, ...spec.aliases]) BY_NAME.set(n, spec);
}

/** The key a zoo.cfg name (or alias) denotes; undefined when unknown. Case-sensitive like ZooKeeper. */
export function keyByName(name: string): KeySpec | undefined {
  return BY_NAME.get(name);
}

export function allKeyNames(): string[] {
  return [...BY_NAME.keys()];
}

/** Values before resolution (session timeout bounds may still be -1). */
export type UnresolvedConfig = { -readonly [F in ConfigField]: ServerConfig[F] };

export function unresolvedDefaults(): UnresolvedConfig {
  const out = {} as Record<ConfigField, ConfigValue>;
  for (const spec of CONFIG_KEYS) out[spec.field] = spec.default;
  return out as UnresolvedConfig;
}

/** Replaces sentinels by derived values. */
export function resolveDerived(raw: UnresolvedConfig): ServerConfig {
  const min = raw.min_session_timeout_ms === -1 ? 2 * raw.tick_time_ms : raw.min_session_timeout_ms;
  const max = raw.max_session_timeout_ms === -1 ? 20 * raw.tick_time_ms : raw.max_session_timeout_ms;
  const data_log_dir = raw.data_log_dir === '' ? raw.data_dir : raw.data_log_dir;
  const fsync = raw.force_sync === 'no' ? 'none' : raw.fsync;
  // Under zookeeper.enforce.auth every request must pass the read worker that holds its
  // connection's ids: the net worker answers none and sends none on by itself.
  const open = enforcedAuthSchemes(raw).length === 0;
  const net_fast_reads = raw.net_fast_reads && open;
  const net_direct_writes = raw.net_direct_writes && open;
  // Standalone until loadConfig resolves server.N lines (ensemble_config.ts).
  return { ...raw, min_session_timeout_ms: min, max_session_timeout_ms: max, data_log_dir, fsync, net_fast_reads, net_direct_writes, ensemble: null, sasl: null, tls: null, quorum_tls: null, initial_configuration: '' };
}

const RING_FIELDS = [
  'ring_net_to_shard_bytes',
  'ring_shard_to_net_bytes',
  'ring_shard_to_commit_bytes',
  'ring_commit_stream_bytes',
] as const satisfies readonly ConfigField[];

/** Smallest power-of-two ring whose largest frame holds `frame_bytes`. */
function ringBytesFor(frame_bytes: number): number {
  let capacity = CAPACITY_BYTES_MIN;
  while (frameBytesMaxFor(capacity) < frame_bytes && capacity < CAPACITY_BYTES_MAX) capacity *= 2;
  return capacity;
}

/** The shared tree's bounds from the config (checked: an invalid one names its key). */
export function arenaConfigOf(c: ServerConfig): ArenaConfig {
  return resolveArenaConfig({
    page_bytes: c.tree_page_bytes,
    segment_bytes: c.tree_segment_bytes,
    segments_max: c.tree_segments_max,
    reader_slots: c.tree_reader_slots,
    root_ring: c.tree_root_ring,
  });
}

/** Checks that involve more than one key. Throws ConfigError naming the keys. */
export function checkCrossField(c: ServerConfig): void {
  if (c.min_session_timeout_ms > c.max_session_timeout_ms) {
    throw new ConfigError(
      `minSessionTimeout (${c.min_session_timeout_ms}) must not exceed maxSessionTimeout (${c.max_session_timeout_ms})`,
      'minSessionTimeout',
    );
  }
  const frame_bytes = c.jute_max_buffer_bytes + FRAME_OVERHEAD_BYTES;
  for (const field of RING_FIELDS) {
    const capacity = c[field];
    const fits = frameBytesMaxFor(capacity);
    if (fits >= frame_bytes) continue;
    const name = KEYS[field].name;
    const needed = ringBytesFor(frame_bytes);
    const advice =
      frameBytesMaxFor(needed) >= frame_bytes
        ? `use at least ${needed} or lower jute.maxbuffer`
        : `no ring can hold it: lower jute.maxbuffer to at most ${frameBytesMaxFor(CAPACITY_BYTES_MAX) - FRAME_OVERHEAD_BYTES}`;
    throw new ConfigError(
      `${name}: ${capacity} bytes holds frames of at most ${fits} bytes, but jute.maxbuffer (${c.jute_max_buffer_bytes}) + ${FRAME_OVERHEAD_BYTES} needs ${frame_bytes}; ${advice}`,
      name,
    );
  }
  try {
    arenaConfigOf(c);
  } catch (e) {
    if (!(e instanceof ArenaConfigError)) throw e;
    const key = Object.values(ARENA_CONFIG_KEYS).find((k) => e.message.startsWith(`${k}=`));
    throw new ConfigError(e.message, key);
  }
  // A znode's data is one blob in one segment: every value jute.maxbuffer admits must fit.
  if (c.tree_segment_bytes < c.jute_max_buffer_bytes) {
    throw new ConfigError(
      `${ARENA_CONFIG_KEYS.segment_bytes}: ${c.tree_segment_bytes} bytes cannot hold a znode value of jute.maxbuffer (${c.jute_max_buffer_bytes}) bytes; use at least that or lower jute.maxbuffer`,
      ARENA_CONFIG_KEYS.segment_bytes,
    );
  }
  // Every read worker holds one reader slot for as long as it runs, and the net worker one per
  // read worker for its fast reads; snapshots take one more.
  const slots_needed = c.read_workers * (c.net_fast_reads ? 2 : 1) + 1;
  if (c.tree_reader_slots < slots_needed) {
    const fast = c.net_fast_reads ? ', the net worker\'s fast reads (waitfree.net.fastReads: one per read worker)' : '';
    throw new ConfigError(
      `${ARENA_CONFIG_KEYS.reader_slots}: ${c.tree_reader_slots} slots for ${c.read_workers} read workers (waitfree.readWorkers)${fast} and the snapshot writer; ${slots_needed} needed`,
      ARENA_CONFIG_KEYS.reader_slots,
    );
  }
}

/** The configuration with every default (session timeout bounds 4000/40000 ms for tickTime 2000). */
export const DEFAULT_CONFIG: ServerConfig = resolveDerived(unresolvedDefaults());
