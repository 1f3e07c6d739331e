// The secure client port's TLS settings, from ZooKeeper's keys (X509Util, SSLContextAndOptions,
// KeyStoreFileType of 3.8): the key store and the trust store are read here, once, so that a
// file that cannot be read, a wrong password or a store of a type Node cannot read stops the
// start naming its key, before any thread starts. The net worker builds its TLS server from the
// result (src/workers/net/secure_listener.ts).
//
// What waitfree reads: a key store of type PEM (a private key, optionally encrypted with
// ssl.keyStore.password, and its certificate chain, in one file as ZooKeeper's PEM key store) or
// PKCS12; a trust store of type PEM (CA certificates). Java's JKS and BCFKS, and PKCS#12 trust
// stores (certificates without a key, which OpenSSL does not load as a trust list), are refused
// with the conversion to use.

import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from './config_error.js';
import { keySpec, type ServerConfig } from './server_config.js';

export type ClientAuth = 'NEED' | 'WANT' | 'NONE';
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsConfig {
  /** The server's key and certificate chain: PEM text, or PKCS#12 bytes. */
  readonly key_store: { readonly kind: 'pem'; readonly pem: Uint8Array } | { readonly kind: 'pkcs12'; readonly pfx: Uint8Array };
  /** Decrypts the PKCS#12 file or the PEM private key; '' = none. */
  readonly passphrase: string;
  /** PEM CA certificates client certificates are verified against; null = Node's bundled CAs. */
  readonly trust_pem: Uint8Array | null;
  readonly client_auth: ClientAuth;
  /** Lowest and highest version the port accepts (ssl.enabledProtocols, or ssl.protocol). */
  readonly min_version: TlsVersion;
  readonly max_version: TlsVersion;
  /** Whose certificate subject is the super user; '' = none. */
  readonly super_user: string;
}

type StoreType = 'PEM' | 'PKCS12' | 'JKS' | 'BCFKS';

const VERSIONS: readonly TlsVersion[] = ['TLSv1.2', 'TLSv1.3'];

/** null when no secure client port is configured (the ssl.* keys then mean nothing). */
export function resolveTls(config: ServerConfig): TlsConfig | null {
  if (config.secure_client_port === -1) return null;
  const key_location = keySpec('ssl_key_store_location').name;
  if (config.ssl_key_store_location === '') {
    throw new ConfigError(`secureClientPort is set, but ${key_location} is not: the port needs the server's key and certificate`, key_location);
  }
  if (config.ssl_ciphersuites.length > 0) {
    const name = keySpec('ssl_ciphersuites').name;
    throw new ConfigError(`${name} is not supported: the secure client port uses Node's default cipher suites; remove the line`, name);
  }
  const key_store = readKeyStore(config);
  const trust_pem = readTrustStore(config);
  const { min_version, max_version } = versions(config);
  const tls: TlsConfig = {
    key_store,
    passphrase: keyStorePassword(config),
    trust_pem,
    client_auth: config.ssl_client_auth as ClientAuth,
    min_version,
    max_version,
    super_user: config.x509_super_user,
  };
  checkLoads(tls);
  return tls;
}

/** The options of node:tls a server with these settings is made of. */
export function secureContextOptions(tls: TlsConfig): SecureContextOptions {
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

function readKeyStore(config: ServerConfig): TlsConfig['key_store'] {
  const location_key = keySpec('ssl_key_store_location').name;
  const type_key = keySpec('ssl_key_store_type').name;
  const type = storeType(config.ssl_key_store_type, config.ssl_key_store_location, type_key);
  if (type === 'JKS' || type === 'BCFKS') {
    throw new ConfigError(
      `${location_key}: a ${type} key store cannot be read; convert it (keytool -importkeystore -srckeystore ${config.ssl_key_store_location} -destkeystore server.p12 -deststoretype PKCS12) and name the .p12`,
      type_key,
    );
  }
  const bytes = readStore(config.ssl_key_store_location, location_key);
  return type === 'PEM' ? { kind: 'pem', pem: bytes } : { kind: 'pkcs12', pfx: bytes };
}

function readTrustStore(config: ServerConfig): Uint8Array | null {
  if (config.ssl_trust_store_location === '') return null;
  const location_key = keySpec('ssl_trust_store_location').name;
  const type_key = keySpec('ssl_trust_store_type').name;
  const type = storeType(config.ssl_trust_store_type, config.ssl_trust_store_location, type_key);
  if (type !== 'PEM') {
    throw new ConfigError(
      `${location_key}: a ${type} trust store cannot be read; export its CA certificates as PEM (keytool -exportcert -rfc -alias ca -keystore ${config.ssl_trust_store_location} > ca.pem) and name that file`,
      type_key,
    );
  }
  return readStore(config.ssl_trust_store_location, location_key);
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
function keyStorePassword(config: ServerConfig): string {
  if (config.ssl_key_store_password_path === '') return config.ssl_key_store_password;
  const key = keySpec('ssl_key_store_password_path').name;
  const text = new TextDecoder().decode(readStore(config.ssl_key_store_password_path, key));
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** ssl.enabledProtocols, else ssl.protocol alone; TLS 1.0 and 1.1 are not served. */
function versions(config: ServerConfig): { min_version: TlsVersion; max_version: TlsVersion } {
  const key = keySpec('ssl_enabled_protocols').name;
  const listed = config.ssl_enabled_protocols.length > 0 ? config.ssl_enabled_protocols : [config.ssl_protocol];
  for (const v of listed) {
    if (!(VERSIONS as readonly string[]).includes(v)) throw new ConfigError(`${key}: ${v} is not served (only ${VERSIONS.join(', ')})`, key);
  }
  const sorted = VERSIONS.filter((v) => listed.includes(v));
  return { min_version: sorted[0], max_version: sorted[sorted.length - 1] };
}

/** Builds the context once: a wrong password, a key that does not match its certificate or a
 *  file that is not what its type says stops the start here, naming the store. */
function checkLoads(tls: TlsConfig): void {
  const options = secureContextOptions(tls);
  try {
    createSecureContext({ ...options, ca: undefined });
  } catch (e) {
    const key = keySpec('ssl_key_store_location').name;
    throw new ConfigError(`${key}: cannot use the key store (${(e as Error).message}); check it and ${keySpec('ssl_key_store_password').name}`, key);
  }
  if (options.ca === undefined) return;
  try {
    createSecureContext({ ca: options.ca });
  } catch (e) {
    const key = keySpec('ssl_trust_store_location').name;
    throw new ConfigError(`${key}: cannot use the trust store (${(e as Error).message})`, key);
  }
  if (!String(options.ca).includes('-----BEGIN CERTIFICATE-----')) {
    const key = keySpec('ssl_trust_store_location').name;
    throw new ConfigError(`${key}: no PEM certificate in the trust store`, key);
  }
}
