// ACL checks and ACL validation (ZooKeeperServer.checkACL, PrepRequestProcessor.fixupACL and the
// ip / digest / sasl AuthenticationProviders). Schemes are table data: adding x509 means adding
// a row.

import { createHash } from 'node:crypto';
import { Perms } from '../protocol/constants.js';
import { Err } from '../protocol/errors.js';
import type { ACL, Id, RequestACL } from '../protocol/types.js';

/** ZooDefs.Ids. */
export const ANYONE_ID: Id = Object.freeze({ scheme: 'world', id: 'anyone' });
export const AUTH_IDS: Id = Object.freeze({ scheme: 'auth', id: '' });
export const OPEN_ACL_UNSAFE: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.ALL, id: ANYONE_ID })]);
export const READ_ACL_UNSAFE: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.READ, id: ANYONE_ID })]);
export const CREATOR_ALL_ACL: readonly ACL[] = Object.freeze([Object.freeze({ perms: Perms.ALL, id: AUTH_IDS })]);

interface SchemeProvider {
  /** True when ids of this scheme prove who the client is (they expand the `auth` scheme). */
  readonly is_authenticated: boolean;
  /** Whether `id` is well formed for an ACL entry. */
  isValid(id: string): boolean;
  /** Whether the client id `client_id` satisfies the ACL id `acl_id`. */
  matches(client_id: string, acl_id: string): boolean;
}

/** Java's Integer.parseInt for ASCII input: optional sign, decimal digits, int32 range. */
function javaParseInt(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const v = Number(s);
  return v >= -0x8000_0000 && v <= 0x7fff_ffff ? v : null;
}

/** Dotted IPv4 to 4 bytes, or null (IPAuthenticationProvider only knows IPv4). */
function ipv4Bytes(addr: string): number[] | null {
  const parts = addr.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const part of parts) {
    const v = javaParseInt(part);
    if (v === null || v < 0 || v > 255) return null;
    out.push(v);
  }
  return out;
}

/** 'a.b.c.d' or 'a.b.c.d/bits' -> address and prefix length, or null when malformed. */
function parseIpAcl(expr: string): { bytes: number[]; bits: number } | null {
  const slash = expr.indexOf('/');
  const bytes = ipv4Bytes(slash < 0 ? expr : expr.slice(0, slash));
  if (bytes === null) return null;
  if (slash < 0) return { bytes, bits: 32 };
  const bits = javaParseInt(expr.slice(slash + 1));
  if (bits === null || bits < 0 || bits > 32) return null;
  return { bytes, bits };
}

function samePrefix(a: number[], b: number[], bits: number): boolean {
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

const ip_provider: SchemeProvider = {
  is_authenticated: false,
  isValid: (id) => parseIpAcl(id) !== null,
  matches(client_id, acl_id) {
    const acl = parseIpAcl(acl_id);
    const client = ipv4Bytes(client_id);
    return acl !== null && client !== null && samePrefix(acl.bytes, client, acl.bits);
  },
};

/** Java's String.split(":") length: trailing empty strings are dropped; no ':' gives one part. */
function javaSplitColonCount(s: string): number {
  if (!s.includes(':')) return 1;
  const parts = s.split(':');
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.length;
}

const digest_provider: SchemeProvider = {
  is_authenticated: true,
  isValid: (id) => javaSplitColonCount(id) === 2,
  matches: (client_id, acl_id) => client_id === acl_id,
};

/** Kerberos principals `name[/host]@realm` (ZooKeeper's KerberosName pattern); a name without
 *  '@' is a plain name, so only a malformed realm part is refused. */
const KERBEROS_NAME = /^[^/@]*(\/[^/@]*)?@[^/@]*$/;

/**
 * SASLAuthenticationProvider: ids are SASL authorization ids (DIGEST-MD5 user names here). A
 * client id matches an equal ACL id, and the id "super" matches every sasl ACL (ZooKeeper's
 * matches(): a SASL user named super, not to be confused with zookeeper.superUser, which adds
 * the super id itself).
 */
const sasl_provider: SchemeProvider = {
  is_authenticated: true,
  isValid: (id) => !id.includes('@') || KERBEROS_NAME.test(id),
  matches: (client_id, acl_id) => client_id === 'super' || client_id === acl_id,
};

/** An attribute type of a distinguished name: a keyword or a dotted OID, before its '='. */
const DN_ATTRIBUTE = /^\s*([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)*)\s*=/;

/** Whether `dn` reads as a distinguished name (X500Principal's constructor accepts it): every
 *  RDN, split at unescaped ',' ';' '+', is `type=value`; the empty name is one too. */
function isDistinguishedName(dn: string): boolean {
  if (dn.trim() === '') return true;
  const parts: string[] = [];
  let part = '';
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i];
    if (ch === '\\' && i + 1 < dn.length) {
      part += ch + dn[++i];
    } else if (ch === ',' || ch === ';' || ch === '+') {
      parts.push(part);
      part = '';
    } else part += ch;
  }
  parts.push(part);
  return parts.every((p) => DN_ATTRIBUTE.test(p));
}

/**
 * X509AuthenticationProvider: ids are client certificate subjects (RFC 2253, src/auth/x509_subject.ts),
 * given to connections on the secure client port whose certificate verified. An equal ACL id
 * matches (its superUser is a `super` id as well, which passes every ACL).
 */
const x509_provider: SchemeProvider = {
  is_authenticated: true,
  isValid: isDistinguishedName,
  matches: (client_id, acl_id) => client_id === acl_id,
};

/**
 * ProviderRegistry with ZooKeeper's defaults (ip, digest) and SASLAuthenticationProvider and
 * X509AuthenticationProvider, which ZooKeeper has only when an authProvider.N names them (every
 * SASL and TLS setup does). `world` and `auth` are handled specially, `super` is not an ACL scheme.
 */
const SCHEME_PROVIDERS: ReadonlyMap<string, SchemeProvider> = new Map([
  ['ip', ip_provider],
  ['digest', digest_provider],
  ['sasl', sasl_provider],
  ['x509', x509_provider],
]);

/**
 * `user:base64(sha1("user:password"))`, the id a digest AuthPacket authenticates as
 * (DigestAuthenticationProvider.generateDigest: the whole text is hashed; the user is the text
 * before the first ':', or all of it when there is none).
 */
export function digestId(user_password: string): string {
  const colon = user_password.indexOf(':');
  const user = colon < 0 ? user_password : user_password.slice(0, colon);
  const hash = createHash('sha1').update(user_password, 'utf8').digest('base64');
  return `${user}:${hash}`;
}

function isWorldAnyone(id: Id): boolean {
  return id.scheme === 'world' && id.id === 'anyone';
}

/**
 * Whether a client holding `auth` ids may do `perm` on a node with `acl`. An entry grants when
 * it has any bit of `perm` and its id is world:anyone or matches one of the client's ids of the
 * same scheme. An empty ACL grants everything (as in ZooKeeper); the super user passes always.
 */
/** Whether every client has `perm` on a node with this ACL (no auth needed to decide). */
export function anyoneMay(acl: readonly ACL[], perm: number): boolean {
  if (acl.length === 0) return true;
  for (const entry of acl) if ((entry.perms & perm) !== 0 && isWorldAnyone(entry.id)) return true;
  return false;
}

export function checkAcl(acl: readonly ACL[], perm: number, auth: readonly Id[], is_super: boolean): boolean {
  if (is_super || acl.length === 0) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (isWorldAnyone(entry.id)) return true;
    const provider = SCHEME_PROVIDERS.get(entry.id.scheme);
    if (provider === undefined) continue;
    for (const client of auth) {
      if (client.scheme === entry.id.scheme && provider.matches(client.id, entry.id.id)) return true;
    }
  }
  return false;
}

/** Why fixupAcl refused an ACL: the error code the request gets. */
export type AclRejection = typeof Err.INVALIDACL | typeof Err.MARSHALLINGERROR;

/**
 * Java dereferenced a null string while handling the request (a NullPointerException in
 * ZooKeeper's prep): the request fails with MARSHALLINGERROR. A type, not a thrown error, so the
 * walk below stays total.
 */
const NPE = 'npe';

/**
 * Whether `entry` equals `kept` by the jute records' generated equals(), which calls
 * `this.scheme.equals(..)` and `this.id.equals(..)` on the entry being added: a null there is NPE
 * (only reached when the fields compared before it matched).
 */
function javaAclEquals(entry: RequestACL, kept: RequestACL): boolean | typeof NPE {
  if (entry.perms !== kept.perms) return false;
  if (entry.id.scheme === null) return NPE;
  if (entry.id.scheme !== kept.id.scheme) return false;
  if (entry.id.id === null) return NPE;
  return entry.id.id === kept.id.id;
}

/** Drops repeated entries, keeping the first of each (ZOOKEEPER-1877; ArrayList.contains). */
function removeDuplicates(acl: readonly RequestACL[]): RequestACL[] | typeof NPE {
  const out: RequestACL[] = [];
  for (const entry of acl) {
    let seen = false;
    for (const kept of out) {
      const same = javaAclEquals(entry, kept);
      if (same === NPE) return NPE;
      if (same) {
        seen = true;
        break;
      }
    }
    if (!seen) out.push(entry);
  }
  return out;
}

/**
 * One entry of a create's or setACL's ACL, in PrepRequestProcessor.fixupACL's order: null scheme
 * is INVALIDACL; world:anyone is kept; `auth` becomes one entry per authenticated id of the
 * caller (INVALIDACL when it has none); any other scheme needs a provider that finds the id
 * valid. The ip, digest and sasl providers and the world:anyone test call methods on the id, so a
 * null id there is NPE; an unknown scheme is refused before its id is looked at.
 */
function fixupEntry(entry: RequestACL, auth: readonly Id[], out: ACL[]): AclRejection | typeof NPE | 0 {
  const { scheme, id } = entry.id;
  if (scheme === null) return Err.INVALIDACL;
  if (scheme === 'world') {
    if (id === null) return NPE;
    if (id === 'anyone') {
      out.push({ perms: entry.perms, id: { scheme, id } });
      return 0;
    }
  }
  if (scheme === 'auth') {
    const expanded = auth.filter((client) => SCHEME_PROVIDERS.get(client.scheme)?.is_authenticated === true);
    if (expanded.length === 0) return Err.INVALIDACL;
    for (const client of expanded) out.push({ perms: entry.perms, id: { scheme: client.scheme, id: client.id } });
    return 0;
  }
  const provider = SCHEME_PROVIDERS.get(scheme);
  if (provider === undefined) return Err.INVALIDACL;
  if (id === null) return NPE;
  if (!provider.isValid(id)) return Err.INVALIDACL;
  out.push({ perms: entry.perms, id: { scheme, id } });
  return 0;
}

/**
 * Validates the ACL of a create or setACL and expands `auth` entries into one entry per
 * authenticated id of the caller (digest and sasl ids; never ip). Returns the ACL to store, or the
 * request's error: INVALIDACL for a missing or empty list, a malformed id, an unknown scheme,
 * `auth` with no authenticated id, a null scheme; MARSHALLINGERROR where ZooKeeper hits a null
 * id (world, ip, digest) or a null field while removing duplicates. The first bad entry decides.
 * Perms are not validated (ZooKeeper stores any int).
 */
export function fixupAcl(acl: readonly RequestACL[] | null, auth: readonly Id[]): ACL[] | AclRejection {
  if (acl === null) return Err.INVALIDACL;
  const unique = removeDuplicates(acl);
  if (unique === NPE) return Err.MARSHALLINGERROR;
  if (unique.length === 0) return Err.INVALIDACL;
  const out: ACL[] = [];
  for (const entry of unique) {
    const refused = fixupEntry(entry, auth, out);
    if (refused === NPE) return Err.MARSHALLINGERROR;
    if (refused !== 0) return refused;
  }
  return out;
}

/**
 * getACL for a caller without ADMIN: digest ids lose everything after the user name
 * (`user:hash` -> `user:x`), like FinalRequestProcessor's `replaceAll(":.*", ":x")`.
 */
export function redactDigests(acl: readonly ACL[]): ACL[] {
  return acl.map((entry) =>
    entry.id.scheme === 'digest' ? { perms: entry.perms, id: { scheme: 'digest', id: entry.id.id.replace(/:.*/g, ':x') } } : entry,
  );
}
