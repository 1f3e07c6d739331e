// Configuration assembly: defaults ← zoo.cfg file ← command-line flags, then derived values,
// cross-field checks, the ensemble (server.N lines + myid, ensemble_config.ts), the SASL users
// (the JAAS file, sasl_config.ts) and the secure client port's key stores (tls_config.ts). Pure
// apart from reading the config file, dataDir/myid, the JAAS file and the key stores; warnings
// are returned, never printed.

import { readFileSync } from 'node:fs';
import { KNOWN_FOUR_LETTER_WORDS } from '../protocol/four_letter_words.js';
import { ConfigError } from './config_error.js';
import { resolveEnsemble } from './ensemble_config.js';
import { IGNORED_KEYS, ignoredKey, refusedKey, servedAuthProvider, type IgnoredReason } from './ignored_keys.js';
import { resolveSasl } from './sasl_config.js';
import { resolveQuorumTls, resolveTls } from './tls_config.js';
import { isServerKey, type ServerLine } from './server_line.js';
import {
  allKeyNames,
  checkCrossField,
  keyByName,
  keySpec,
  resolveDerived,
  unresolvedDefaults,
  type ConfigField,
  type KeySpec,
  type ServerConfig,
  type UnresolvedConfig,
} from './server_config.js';
import { closest } from './suggest.js';
import { checkInt, parseValue, type ConfigValue, type ParseResult } from './values.js';
import { parseZooCfg, type ZooCfg } from './zoo_cfg.js';

/** Flag values: text as typed on a command line, or already-typed values from code. */
export type ConfigFlags = { readonly [F in ConfigField]?: ServerConfig[F] | string };

export interface LoadOptions {
  /** Path of a zoo.cfg-style file. */
  file?: string;
  /** zoo.cfg text given directly (tests, embedding); applied after `file` if both are given. */
  text?: string;
  flags?: ConfigFlags;
}

export interface LoadResult {
  config: ServerConfig;
  /** Things the user should see (keys accepted but not used, unknown four-letter words). */
  warnings: string[];
}

const REASON_TEXT: Readonly<Record<IgnoredReason, string>> = {
  replication: "waitfree's replication does not use this key",
  'admin server': "waitfree's admin server does not use this key",
  persistence: 'waitfree keeps its log and snapshots in dataDir with its own policy',
  metrics: 'waitfree serves its own metrics',
  auth: 'waitfree loads no provider classes: it serves the world, auth, digest, ip, sasl, x509 and super schemes itself',
  tls: "waitfree's TLS is the clients' (secureClientPort, client.portUnification, ssl.keyStore.*, ssl.trustStore.*, ssl.clientAuth, ssl.protocol, ssl.enabledProtocols) and the quorum links' (sslQuorum, portUnification, sslQuorumReloadCertFiles, ssl.quorum.*)",
  tuning: "a tuning knob of ZooKeeper's own threads, caches or throttles; waitfree's bounds have their own keys (waitfree server --help)",
  audit: 'waitfree writes no audit log',
  other: 'not supported yet',
};

/** What the sources said besides the field values. */
export interface Gathered {
  /** Fields a zoo.cfg line or a flag set (as opposed to defaults): "clientPort absent" matters in an ensemble. */
  readonly explicit: Set<ConfigField>;
  /** server.N entries by key; a later source's `server.1` replaces an earlier one (as Properties). */
  readonly server_lines: Map<string, ServerLine>;
  /** server.N entries of the dynamicConfigFile, when one is named: they are the membership. */
  readonly dynamic_lines: Map<string, ServerLine>;
}

export function loadConfig(options: LoadOptions): LoadResult {
  const raw = unresolvedDefaults();
  const warnings: string[] = [];
  const gathered: Gathered = { explicit: new Set(), server_lines: new Map(), dynamic_lines: new Map() };
  let initial_configuration = '';
  if (options.file !== undefined) {
    initial_configuration = readConfigFile(options.file);
    applyCfg(raw, parseZooCfg(initial_configuration, options.file), options.file, warnings, gathered);
  }
  if (options.text !== undefined) applyCfg(raw, parseZooCfg(options.text, 'zoo.cfg'), 'zoo.cfg', warnings, gathered);
  applyFlags(raw, options.flags ?? {}, gathered.explicit);
  const derived = resolveDerived(raw);
  checkCrossField(derived);
  const { config, warnings: ensemble_warnings } = resolveEnsemble(derived, serverLines(gathered, warnings), gathered.explicit);
  warnings.push(...ensemble_warnings);
  warnings.push(...whitelistWarnings(config.four_letter_whitelist));
  const sasl = resolveSasl(config, gathered.explicit.has('sasl_server_section'));
  warnings.push(...sasl.warnings);
  const tls = resolveTls(config);
  const quorum_tls = resolveQuorumTls(config);
  if (config.ensemble === null && (config.ssl_quorum || config.quorum_port_unification)) {
    warnings.push(`${config.ssl_quorum ? 'sslQuorum' : 'portUnification'}=true: a standalone server has no quorum links; the key does nothing`);
  }
  if (config.ssl_quorum_reload_cert_files && quorum_tls === null) {
    warnings.push('sslQuorumReloadCertFiles=true: the quorum links have no TLS here (an ensemble with sslQuorum or portUnification); the key does nothing');
  }
  const log_sync_method = gathered.explicit.has('log_sync_method') ? config.log_sync_method : defaultSyncMethod(config.ensemble !== null);
  return { config: { ...config, sasl: sasl.sasl, tls, quorum_tls, log_sync_method, initial_configuration }, warnings };
}

/**
 * waitfree.log.syncMethod when not set: an ensemble member syncs every log batch in libuv's pool
 * (its commit thread also runs Zab), where O_DSYNC saves one of the two trips: create p50 1.24-1.44
 * against 1.70-1.97 ms in a 3-replica ensemble (bench/follower_lag.mjs, BENCHMARKS.md). A
 * standalone replica syncs small batches on its own thread, where the two were within noise, and
 * keeps fdatasync (what ZooKeeper does).
 */
function defaultSyncMethod(ensemble: boolean): 'fdatasync' | 'dsync' {
  return ensemble ? 'dsync' : 'fdatasync';
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError(`cannot read config file ${path}: ${code}`);
  }
}

/**
 * The membership's lines: the dynamicConfigFile's when zoo.cfg names one (ZooKeeper 3.5+ moves
 * them there after its first reconfig, and reads them there), else zoo.cfg's.
 */
function serverLines(gathered: Gathered, warnings: string[]): ServerLine[] {
  if (gathered.dynamic_lines.size === 0) return [...gathered.server_lines.values()];
  if (gathered.server_lines.size > 0) {
    const first = [...gathered.server_lines.values()][0]!;
    warnings.push(`${first.where}: the server.N lines of this file are ignored: dynamicConfigFile gives the membership`);
  }
  return [...gathered.dynamic_lines.values()];
}

/**
 * ZooKeeper's dynamic config file (`dynamicConfigFile`, a path as the server's working directory
 * sees it): server.N lines, and `version=` (ignored: a membership a reconfig makes is kept in
 * /zookeeper/config, which waitfree never writes back to this file).
 */
function applyDynamicFile(path: string, gathered: Gathered): void {
  const cfg = parseZooCfg(readConfigFile(path), path);
  for (const [name, entry] of cfg.entries()) {
    const where = `${path}:${entry.line}`;
    if (isServerKey(name)) gathered.dynamic_lines.set(name, { key: name, value: entry.value, where });
    else if (name !== 'version') {
      const refused = refusedKey(name, entry.value);
      throw new ConfigError(`${where}: ${name}: ${refused?.why ?? 'a dynamic config file holds server.N lines and version= only'}`, name);
    }
  }
  if (gathered.dynamic_lines.size === 0) throw new ConfigError(`${path}: dynamicConfigFile holds no server.N line`, 'dynamicConfigFile');
}

/** Applies every zoo.cfg line in file order (for aliases of one key, the later line wins). */
export function applyCfg(raw: UnresolvedConfig, cfg: ZooCfg, source: string, warnings: string[], gathered: Gathered): void {
  const ordered = [...cfg.entries()].sort((a, b) => a[1].line - b[1].line);
  for (const [name, entry] of ordered) {
    const where = `${source}:${entry.line}`;
    if (isServerKey(name)) {
      gathered.server_lines.set(name, { key: name, value: entry.value, where });
      continue;
    }
    if (name === 'dynamicConfigFile') {
      applyDynamicFile(entry.value.trim(), gathered);
      continue;
    }
    const spec = keyByName(name);
    if (spec) {
      setField(raw, spec, parseOrThrow(spec, entry.value, `${where}: ${name}`));
      gathered.explicit.add(spec.field);
      continue;
    }
    if (servedAuthProvider(name, entry.value)) continue;
    warnings.push(unusedKeyWarning(name, entry.value, where));
  }
}

/** A warning for an accepted-but-unused key; throws for refused and unknown keys. */
function unusedKeyWarning(name: string, value: string, where: string): string {
  const refused = refusedKey(name, value);
  if (refused) throw new ConfigError(`${where}: ${name}: ${refused.why}`, name);
  const ignored = ignoredKey(name);
  if (ignored) return `${where}: ${name} is accepted, not used yet (${REASON_TEXT[ignored.reason]})`;
  const candidates = [...allKeyNames(), ...IGNORED_KEYS.filter((k) => !k.prefix).map((k) => k.name)];
  const hint = closest(name, candidates);
  const suffix = hint ? ` (did you mean ${hint}?)` : ' (waitfree server --help lists every key)';
  throw new ConfigError(`${where}: unknown configuration key ${name}${suffix}`, name);
}

function parseOrThrow(spec: KeySpec, text: string, label: string): ConfigValue {
  const r = parseValue(spec.type, text);
  if (!r.ok) throw new ConfigError(`${label}: ${JSON.stringify(text)} ${r.expected}`, spec.name);
  return r.value;
}

function setField(raw: UnresolvedConfig, spec: KeySpec, value: ConfigValue): void {
  (raw as Record<ConfigField, ConfigValue>)[spec.field] = value;
}

function applyFlags(raw: UnresolvedConfig, flags: ConfigFlags, explicit: Set<ConfigField>): void {
  for (const field of Object.keys(flags) as ConfigField[]) {
    const value = flags[field];
    if (value === undefined) continue;
    const spec = keySpec(field) as KeySpec | undefined;
    if (!spec) throw new ConfigError(`unknown configuration field ${String(field)}`);
    const label = spec.flag ? `${spec.name} (${spec.flag})` : spec.name;
    setField(raw, spec, typeof value === 'string' ? parseOrThrow(spec, value, label) : checkTyped(spec, value, label));
    explicit.add(field);
  }
}

/** Typed flag values (from code) get the same checks as text. */
function checkTyped(spec: KeySpec, value: ConfigValue, label: string): ConfigValue {
  let r: ParseResult;
  if (spec.type.kind === 'int') r = typeof value === 'number' ? checkInt(spec.type, value) : { ok: false, expected: 'is not an integer' };
  else if (spec.type.kind === 'bool') r = typeof value === 'boolean' ? { ok: true, value } : { ok: false, expected: 'is not a boolean' };
  else if (spec.type.kind === 'list') r = Array.isArray(value) ? { ok: true, value } : { ok: false, expected: 'is not a list of strings' };
  else if (spec.type.kind === 'digest' && value === null) r = { ok: true, value };
  else r = { ok: false, expected: 'is not a string' };
  if (!r.ok) throw new ConfigError(`${label}: ${JSON.stringify(value)} ${r.expected}`, spec.name);
  return r.value;
}

function whitelistWarnings(list: readonly string[]): string[] {
  return list
    .filter((w) => w !== '*' && !KNOWN_FOUR_LETTER_WORDS.has(w))
    .map((w) => `4lw.commands.whitelist: unknown four-letter word ${JSON.stringify(w)} (ignored)`);
}
