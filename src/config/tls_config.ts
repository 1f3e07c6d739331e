// TLS settings from ZooKeeper's keys (X509Util, SSLContextAndOptions, KeyStoreFileType of 3.8),
// for the two places waitfree serves TLS: its clients, on the secure client port or on the plain
// port with client.portUnification (ssl.*; the net worker builds its servers from them,
// src/workers/net/secure_listener.ts) and the links between ensemble members
// (sslQuorum, ssl.quorum.*; src/replication/peer_tls.ts). The key store and the trust store are
// read here, once, so that a file that cannot be read, a wrong password or a store of a type Node
// cannot read stops the start naming its key, before any thread starts.
//
// What waitfree reads: a key store of type PEM (a private key, optionally encrypted with
// ssl.keyStore.password, and its certificate chain, in one file as ZooKeeper's PEM key store) or
// PKCS12; a trust store of type PEM (CA certificates). Java's JKS and BCFKS, and PKCS#12 trust
// stores (certificates without a key, which OpenSSL does not load as a trust list), are refused
// with the conversion to use.

import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from './config_error.js';
import { keySpec, type ConfigField, type ServerConfig } from './server_config.js';

export type ClientAuth = 'NEED' | 'WANT' | 'NONE';
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** A key store, a trust store and the handshake's rules: what a TLS endpoint is made of. */
export interface TlsStores {
  /** Our key and certificate chain: PEM text, or PKCS#12 bytes. */
  readonly key_store: { readonly kind: 'pem'; readonly pem: Uint8Array } | { readonly kind: 'pkcs12'; readonly pfx: Uint8Array };
  /** Decrypts the PKCS#12 file or the PEM private key; '' = none. */
  readonly passphrase: string;
  /** PEM CA certificates the other end's certificate is verified against; null = Node's bundled CAs. */
  readonly trust_pem: Uint8Array | null;
  /** Certificates of the ends that connect to us. */
  readonly client_auth: ClientAuth;
  /** Lowest and highest version accepted (enabledProtocols, or protocol). */
  readonly min_version: TlsVersion;
  readonly max_version: TlsVersion;
}

/** The secure client port's. */
export interface TlsConfig extends TlsStores {
  /** Whose certificate subject is the super user; '' = none. */
  readonly super_user: string;
}

/** The quorum links'. */
export interface QuorumTlsConfig extends TlsStores {
  /** sslQuorum: this member dials with TLS, and its quorum port takes TLS links. */
  readonly dial_tls: boolean;
  /** portUnification: the quorum port also takes the other kind (plain while sslQuorum, TLS while not). */
  readonly port_unification: boolean;
  /** A member's certificate must name the address it is reached at (ssl.quorum.hostnameVerification). */
  readonly hostname_verification: boolean;
}

/** Which keys (fields of ServerConfig) hold one endpoint's settings. */
interface TlsKeys {
  readonly key_store_location: ConfigField;
  readonly key_store_password: ConfigField;
  readonly key_store_password_path: ConfigField;
  readonly key_store_type: ConfigField;
  readonly trust_store_location: ConfigField;
  readonly trust_store_type: ConfigField;
  readonly client_auth: ConfigField;
  readonly protocol: ConfigField;
  readonly enabled_protocols: ConfigField;
  readonly ciphersuites: ConfigField;
}

const CLIENT_KEYS: TlsKeys = {
  key_store_location: 'ssl_key_store_location',
  key_store_password: 'ssl_key_store_password',
  key_store_password_path: 'ssl_key_store_password_path',
  key_store_type: 'ssl_key_store_type',
  trust_store_location: 'ssl_trust_store_location',
  trust_store_type: 'ssl_trust_store_type',
  client_auth: 'ssl_client_auth',
  protocol: 'ssl_protocol',
  enabled_protocols: 'ssl_enabled_protocols',
  ciphersuites: 'ssl_ciphersuites',
};

const QUORUM_KEYS: TlsKeys = {
  key_store_location: 'ssl_quorum_key_store_location',
  key_store_password: 'ssl_quorum_key_store_password',
  key_store_password_path: 'ssl_quorum_key_store_password_path',
  key_store_type: 'ssl_quorum_key_store_type',
  trust_store_location: 'ssl_quorum_trust_store_location',
  trust_store_type: 'ssl_quorum_trust_store_type',
  client_auth: 'ssl_quorum_client_auth',
  protocol: 'ssl_quorum_protocol',
  enabled_protocols: 'ssl_quorum_enabled_protocols',
  ciphersuites: 'ssl_quorum_ciphersuites',
};

type StoreType = 'PEM' | 'PKCS12' | 'JKS' | 'BCFKS';

const VERSIONS: readonly TlsVersion[] = ['TLSv1.2', 'TLSv1.3'];

/** null when clients connect in plain TCP only: neither a secure client port nor
 *  client.portUnification (the ssl.* keys then mean nothing). */
export function resolveTls(config: ServerConfig): TlsConfig | null {
  if (config.secure_client_port === -1 && !config.client_port_unification) return null;
  const why = config.secure_client_port !== -1 ? 'secureClientPort is set' : 'client.portUnification=true';
  return { ...resolveStores(config, CLIENT_KEYS, why, 'TLS clients need the server\'s key and certificate'), super_user: config.x509_super_user };
}

/** null when the quorum links are plain only: a standalone server, or neither sslQuorum nor
 *  portUnification (the ssl.quorum.* keys then mean nothing). */
export function resolveQuorumTls(config: ServerConfig): QuorumTlsConfig | null {
  if (config.ensemble === null || (!config.ssl_quorum && !config.quorum_port_unification)) return null;
  const why = config.ssl_quorum ? 'sslQuorum=true' : 'portUnification=true';
  return {
    ...resolveStores(config, QUORUM_KEYS, why, 'the quorum links need this member\'s key and certificate'),
    dial_tls: config.ssl_quorum,
    port_unification: config.quorum_port_unification,
    hostname_verification: config.ssl_quorum_hostname_verification,
  };
}

function resolveStores(config: ServerConfig, keys: TlsKeys, why: string, needs: string): TlsStores {
  const key_location = keySpec(keys.key_store_location).name;
  if (text(config, keys.key_store_location) === '') {
    throw new ConfigError(`${why}, but ${key_location} is not: ${needs}`, key_location);
  }
  if (list(config, keys.ciphersuites).length > 0) {
    const name = keySpec(keys.ciphersuites).name;
    throw new ConfigError(`${name} is not supported: waitfree's TLS uses Node's default cipher suites; remove the line`, name);
  }
  const stores: TlsStores = {
    key_store: readKeyStore(config, keys),
    passphrase: keyStorePassword(config, keys),
    trust_pem: readTrustStore(config, keys),
    client_auth: text(config, keys.client_auth) as ClientAuth,
    ...versions(config, keys),
  };
  checkLoads(stores, keys);
  return stores;
}

function text(config: ServerConfig, field: ConfigField): string {
  return config[field] as string;
}

function list(config: ServerConfig, field: ConfigField): readonly string[] {
  return config[field] as readonly string[];
}

/** The options of node:tls a server with these settings is made of. */
export function secureContextOptions(tls: TlsStores): SecureContextOptions {
  const store = Buffer.from(tls.key_store.kind === 'pem' ? tls.key_store.pem : tls.key_store.pfx);
  // A PEM key store holds the key and the chain: the same text is both.
  const own = tls.key_store.kind === 'pem' ? { key: store, cert: store } : { pfx: store };
  return {
    ...own,
    passphrase: tls.passphrase === '' ? undefined : tls.passphrase,
    ca: tls.trust_pem === null ? undefined : Buffer.from(tls.trust_pem),
    minVersion: tls.min_version,
    maxVersion: tls.max_version,
  };
}

/** KeyStoreFileType.fromPropertyValueOrFileName; .pfx is PKCS#12 too (ZooKeeper knows .p12 only). */
function storeType(value: string, location: string, key: string): StoreType {
  if (value !== '') return value.toUpperCase() as StoreType;
  const lower = location.toLowerCase();
  if (lower.endsWith('.pem')) return 'PEM';
  if (lower.endsWith('.p12') || lower.endsWith('.pfx')) return 'PKCS12';
  if (lower.endsWith('.jks')) return 'JKS';
  if (lower.endsWith('.bcfks')) return 'BCFKS';
  throw new ConfigError(`${key} is not set and ${location} ends in none of .pem, .p12, .pfx: say PEM or PKCS12`, key);
}

function readKeyStore(config: ServerConfig, keys: TlsKeys): TlsStores['key_store'] {
  const location_key = keySpec(keys.key_store_location).name;
  const type_key = keySpec(keys.key_store_type).name;
  const location = text(config, keys.key_store_location);
  const type = storeType(text(config, keys.key_store_type), location, type_key);
  if (type === 'JKS' || type === 'BCFKS') {
    throw new ConfigError(
      `${location_key}: a ${type} key store cannot be read; convert it (keytool -importkeystore -srckeystore ${location} -destkeystore server.p12 -deststoretype PKCS12) and name the .p12`,
      type_key,
    );
  }
  const bytes = readStore(location, location_key);
  return type === 'PEM' ? { kind: 'pem', pem: bytes } : { kind: 'pkcs12', pfx: bytes };
}

function readTrustStore(config: ServerConfig, keys: TlsKeys): Uint8Array | null {
  const location = text(config, keys.trust_store_location);
  if (location === '') return null;
  const location_key = keySpec(keys.trust_store_location).name;
  const type_key = keySpec(keys.trust_store_type).name;
  const type = storeType(text(config, keys.trust_store_type), location, type_key);
  if (type !== 'PEM') {
    throw new ConfigError(
      `${location_key}: a ${type} trust store cannot be read; export its CA certificates as PEM (keytool -exportcert -rfc -alias ca -keystore ${location} > ca.pem) and name that file`,
      type_key,
    );
  }
  return readStore(location, location_key);
}

function readStore(path: string, key: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${key}: cannot read ${path}: ${(e as Error).message}`, key);
  }
}

/** X509Util.getPasswordFromConfigPropertyOrFile: the passwordPath file wins, without one
 *  trailing line separator (SecretUtils.readSecret). */
function keyStorePassword(config: ServerConfig, keys: TlsKeys): string {
  const path = text(config, keys.key_store_password_path);
  if (path === '') return text(config, keys.key_store_password);
  const key = keySpec(keys.key_store_password_path).name;
  const secret = new TextDecoder().decode(readStore(path, key));
  return secret.endsWith('\n') ? secret.slice(0, -1) : secret;
}

/** enabledProtocols, else protocol alone; TLS 1.0 and 1.1 are not served. */
function versions(config: ServerConfig, keys: TlsKeys): { min_version: TlsVersion; max_version: TlsVersion } {
  const key = keySpec(keys.enabled_protocols).name;
  const enabled = list(config, keys.enabled_protocols);
  const listed = enabled.length > 0 ? enabled : [text(config, keys.protocol)];
  for (const v of listed) {
    if (!(VERSIONS as readonly string[]).includes(v)) throw new ConfigError(`${key}: ${v} is not served (only ${VERSIONS.join(', ')})`, key);
  }
  const sorted = VERSIONS.filter((v) => listed.includes(v));
  return { min_version: sorted[0], max_version: sorted[sorted.length - 1] };
}

/** Builds the context once: a wrong password, a key that does not match its certificate or a
 *  file that is not what its type says stops the start here, naming the store. */
function checkLoads(stores: TlsStores, keys: TlsKeys): void {
  const options = secureContextOptions(stores);
  try {
    createSecureContext({ ...options, ca: undefined });
  } catch (e) {
    const key = keySpec(keys.key_store_location).name;
    throw new ConfigError(`${key}: cannot use the key store (${(e as Error).message}); check it and ${keySpec(keys.key_store_password).name}`, key);
  }
  if (options.ca === undefined) return;
  const key = keySpec(keys.trust_store_location).name;
  try {
    createSecureContext({ ca: options.ca });
  } catch (e) {
    throw new ConfigError(`${key}: cannot use the trust store (${(e as Error).message})`, key);
  }
  if (!String(options.ca).includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`${key}: no PEM certificate in the trust store`, key);
  }
}
