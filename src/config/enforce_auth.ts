// zookeeper.enforce.auth, as ZooKeeper 3.8's AuthenticationHelper reads it: which schemes a
// connection needs an id of before any request but auth and sasl is served. Pure, and light to
// import: the read worker asks it (its shard refuses the requests, session_ops.ts its failed SASL
// logins), and must not load the rest of the configuration's modules.

import { ConfigError } from './config_error.js';

export const ENFORCE_AUTH_KEYS = {
  enabled: 'zookeeper.enforce.auth.enabled',
  schemes: 'zookeeper.enforce.auth.schemes',
  sasl_required: 'zookeeper.sessionRequireClientSASLAuth',
} as const;

/** Schemes an authentication provider serves here (ZooKeeper's ProviderRegistry: ip and digest
 *  always, sasl once named by authProvider.N, which waitfree does not need). */
const AUTH_SCHEMES_SERVED: ReadonlySet<string> = new Set(['ip', 'digest', 'sasl']);

export interface EnforceAuthFields {
  readonly session_require_client_sasl_auth: boolean;
  readonly enforce_auth_enabled: boolean;
  readonly enforce_auth_schemes: readonly string[];
}

/**
 * The enforced schemes; empty: no enforcement. sessionRequireClientSASLAuth means the sasl scheme
 * alone, whatever the other two keys say. Throws ConfigError naming the key.
 */
export function enforcedAuthSchemes(c: EnforceAuthFields): readonly string[] {
  if (c.session_require_client_sasl_auth) return ['sasl'];
  if (!c.enforce_auth_enabled) return [];
  const key = ENFORCE_AUTH_KEYS.schemes;
  if (c.enforce_auth_schemes.length === 0) {
    throw new ConfigError(`${ENFORCE_AUTH_KEYS.enabled} is true: ${key} must name the schemes it accepts`, key);
  }
  for (const scheme of c.enforce_auth_schemes) {
    if (!AUTH_SCHEMES_SERVED.has(scheme)) {
      throw new ConfigError(`${key}: authentication scheme ${scheme} is not available (served here: ${[...AUTH_SCHEMES_SERVED].join(', ')})`, key);
    }
  }
  return c.enforce_auth_schemes;
}
