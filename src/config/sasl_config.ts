// The SASL users, from the JAAS file a ZooKeeper server reads (ServerCnxnFactory
// .configureSaslLogin and SaslServerCallbackHandler): the section named by
// zookeeper.sasl.serverconfig ("Server"), every option `user_NAME="password"` of every login
// module in it (later ones win). ZooKeeper's rules for what stops the start:
// - the file cannot be read or parsed: an error (Java throws a SecurityException);
// - the file has no such section (or an empty one): SASL stays off and sasl packets are answered
//   as without a JAAS file; ZooKeeper says nothing, we warn. A section name set while no JAAS
//   file is given stops ZooKeeper; we warn (every key must read back to its default alone).
// Kerberos (a Krb5LoginModule: ZooKeeper then serves GSSAPI) is not supported: a warning, and the
// section's user_ options, if any, still serve DIGEST-MD5.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JaasSyntaxError, parseJaasConfig, type JaasLoginModule } from '../auth/jaas_config.js';
import { ConfigError } from './config_error.js';
import { keySpec, type ServerConfig } from './server_config.js';

export interface SaslConfig {
  /** DIGEST-MD5 users and their passwords (pairs: the config crosses to worker threads by
   *  structured clone, and a user may be named like an Object property). No user twice. */
  readonly digest_users: readonly (readonly [user: string, password: string])[];
}

export interface SaslResolution {
  readonly sasl: SaslConfig | null;
  readonly warnings: string[];
}

const USER_PREFIX = 'user_';
const DIGEST_LOGIN_MODULE = 'org.apache.zookeeper.server.auth.DigestLoginModule';
const KERBEROS_LOGIN_MODULE = 'com.sun.security.auth.module.Krb5LoginModule';

/**
 * Reads the JAAS file `config` names, if any. `section_set`: zookeeper.sasl.serverconfig was
 * given explicitly. Throws ConfigError naming the key and the file.
 */
export function resolveSasl(config: ServerConfig, section_set: boolean): SaslResolution {
  const file_key = keySpec('sasl_jaas_config_file').name;
  const section_key = keySpec('sasl_server_section').name;
  if (config.sasl_jaas_config_file === '') {
    const warning = `${section_key} is set, but no JAAS file is (${file_key}, or java.security.auth.login.config): SASL logins are off (ZooKeeper would not start)`;
    return { sasl: null, warnings: section_set ? [warning] : [] };
  }
  const path = jaasPath(config.sasl_jaas_config_file);
  const modules = readSection(path, config.sasl_server_section, file_key);
  if (modules === null) {
    const why = `JAAS file ${path} has no section ${config.sasl_server_section} (${section_key}) with a login module: SASL logins are off, as in ZooKeeper`;
    return { sasl: null, warnings: [why] };
  }
  return digestUsers(modules, `${path}, section ${config.sasl_server_section}`);
}

/**
 * Java accepts `==path` (this file only, instead of adding to the JVM's) and a file: URL; both
 * name one file here.
 */
function jaasPath(value: string): string {
  const path = value.startsWith('=') ? value.slice(1) : value;
  return path.startsWith('file:') ? fileURLToPath(path) : path;
}

/** The section's login modules; null when it is missing or empty (Java returns no entries). */
function readSection(path: string, section: string, key: string): readonly JaasLoginModule[] | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError(`${key}: cannot read JAAS file ${path}: ${code}`, key);
  }
  try {
    const modules = parseJaasConfig(text).get(section);
    return modules === undefined || modules.length === 0 ? null : modules;
  } catch (e) {
    if (!(e instanceof JaasSyntaxError)) throw e;
    throw new ConfigError(`${key}: JAAS file ${path}, ${e.message}`, key);
  }
}

function digestUsers(modules: readonly JaasLoginModule[], where: string): SaslResolution {
  const warnings: string[] = [];
  const users = new Map<string, string>();
  for (const module of modules) {
    if (module.class_name === KERBEROS_LOGIN_MODULE) {
      warnings.push(`${where}: ${module.class_name}: Kerberos (SASL GSSAPI) is not supported; only DIGEST-MD5 logins with the section's user_ entries`);
    } else if (module.class_name !== DIGEST_LOGIN_MODULE) {
      warnings.push(`${where}: login module ${module.class_name} is not loaded; its user_ options still serve DIGEST-MD5`);
    }
    for (const [key, value] of module.options) {
      if (!key.startsWith(USER_PREFIX)) continue;
      const user = key.slice(USER_PREFIX.length);
      users.set(user, value);
      if (value.includes('${')) warnings.push(`${where}: the password of ${user} is taken as written: \${...} is not expanded (Java would expand it)`);
    }
  }
  if (users.size === 0) warnings.push(`${where}: no user_NAME="password" entries: no SASL login can succeed`);
  return { sasl: { digest_users: [...users] }, warnings };
}
