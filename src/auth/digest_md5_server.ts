// The server side of one SASL DIGEST-MD5 exchange (RFC 2831), as Java's DigestMD5Server runs it
// for ZooKeeper (protocol "zookeeper", server name "zk-sasl-md5", qop "auth" only, no security
// layer). Sans-IO: tokens in, steps out, randomness injected.
//
//   client                          server
//   token 1 (any, usually empty) -> challenge: realm="zk-sasl-md5",nonce="<40 base64 chars>",
//                                              charset=utf-8,algorithm=md5-sess
//   digest-response              -> rspauth=<hex>   (success: authorization id = the username)
//   anything more                -> failure
//
// What Java does and clients rely on, measured against ZooKeeper 3.8 on Java 17 (see
// test/auth/digest_md5_server.test.ts): the first token's content is ignored (Java 17 does not
// refuse a non-empty one); a token over 4096 bytes fails; the challenge has no qop directive
// (auth is the default); the nonce count is not read from "nc" (Java's table spells it
// "nonce-count"): the digest is always computed with 00000001, so a client must use that; the
// realm must be the server's; digest-uri matches "zookeeper/zk-sasl-md5" ignoring case; the
// client's authzid enters the digest but the authorization id is the username (ZooKeeper's
// callback authorizes the authentication id, whatever authzid says). A username with '/' or '@'
// is a Kerberos-style name that ZooKeeper rewrites by its Kerberos name rules (which need a
// krb5 configuration); waitfree takes it as it is.
//
// Two outcomes end an exchange: `failure` (Java's SaslException: ZooKeeper answers AUTHFAILED
// and closes) and `abort` (a maxbuf or nonce-count that is not a number: Java's
// NumberFormatException escapes ZooKeeper's handler, which closes the connection unanswered).
//
// One deliberate difference: an unknown username fails. ZooKeeper's callback handler keeps the
// last known user in a field shared by every connection, so an unknown name is checked against
// the password of whoever authenticated before (a ZooKeeper bug; waitfree does not copy it).

import { timingSafeEqual } from 'node:crypto';
import { javaEqualsIgnoreCase, parseDirectives, type DirectiveValues } from './digest_md5_directives.js';
import { digestResponseValue } from './digest_md5_response.js';
import { utf8Lenient } from '../protocol/utf8.js';

export interface DigestMd5ServerOptions {
  /** The service ("zookeeper"): the digest-uri is `${service}/${server_name}`. */
  readonly service: string;
  /** The server name, also the one realm offered ("zk-sasl-md5"). */
  readonly server_name: string;
  /** The password of a user, or undefined when there is no such user. */
  passwordOf(user: string): string | undefined;
  /** `n` random bytes (crypto.randomBytes in the server; seeded in tests). */
  randomBytes(n: number): Uint8Array;
}

export type DigestMd5Step =
  | { readonly kind: 'challenge'; readonly token: Uint8Array }
  | { readonly kind: 'success'; readonly token: Uint8Array; readonly authorization_id: string }
  | { readonly kind: 'failure'; readonly reason: string }
  | { readonly kind: 'abort'; readonly reason: string };

/** ZooKeeper's DIGEST-MD5 service and server name (ZooKeeperSaslServer). */
export const ZOOKEEPER_DIGEST = { service: 'zookeeper', server_name: 'zk-sasl-md5' } as const;

/** Java's DigestMD5Server.MAX_RESPONSE_LENGTH: a longer token fails, in any state. */
export const RESPONSE_BYTES_MAX = 4096;
/** 30 random bytes, 40 base64 characters (Java's generateNonce). */
const NONCE_RANDOM_BYTES = 30;
/** The only nonce count a server that sends one challenge can expect. */
const NONCE_COUNT = 1;

/** The client's digest-response directives Java's server knows (others are skipped). */
const RESPONSE_KEYS = [
  'username',
  'realm',
  'nonce',
  'cnonce',
  'nonce-count',
  'qop',
  'digest-uri',
  'response',
  'maxbuf',
  'charset',
  'cipher',
  'authzid',
  'auth-param',
] as const;


export class DigestMd5Server {
  /** 'initial' until the challenge is sent; 'challenged' until the digest-response; then 'done'. */
  private state: 'initial' | 'challenged' | 'done' = 'initial';
  /** The nonce of the challenge sent (ASCII bytes), null before it. */
  private nonce: Uint8Array | null = null;

  constructor(private readonly options: DigestMd5ServerOptions) {
    if (/["\\]/.test(options.server_name)) throw new Error(`server name ${options.server_name} would need quoting`);
  }

  /** Whether the exchange is over (succeeded or failed): any further token fails. */
  get done(): boolean {
    return this.state === 'done';
  }

  evaluate(token: Uint8Array): DigestMd5Step {
    if (token.length > RESPONSE_BYTES_MAX) {
      this.state = 'done';
      return failure(`token of ${token.length} bytes is over ${RESPONSE_BYTES_MAX}`);
    }
    switch (this.state) {
      case 'initial':
        this.state = 'challenged';
        return { kind: 'challenge', token: this.challenge() };
      case 'challenged':
        this.state = 'done';
        return this.verify(token);
      case 'done':
        return failure('the exchange is over');
    }
  }

  private challenge(): Uint8Array {
    const random = this.options.randomBytes(NONCE_RANDOM_BYTES);
    if (random.length !== NONCE_RANDOM_BYTES) throw new Error(`randomBytes gave ${random.length} bytes, not ${NONCE_RANDOM_BYTES}`);
    const nonce = Buffer.from(random).toString('base64');
    this.nonce = Buffer.from(nonce, 'latin1');
    return Buffer.from(`realm="${this.options.server_name}",nonce="${nonce}",charset=utf-8,algorithm=md5-sess`, 'latin1');
  }

  /** The digest-response, checked in the order Java checks it (which check fails first decides
   *  between failure and abort). */
  private verify(token: Uint8Array): DigestMd5Step {
    const parsed = parseDirectives(token, RESPONSE_KEYS);
    if (!parsed.ok) return failure(parsed.reason);
    const fields = responseFields(parsed.values, this.nonce!, this.options);
    if (fields.kind !== 'fields') return fields;
    const password = this.options.passwordOf(fields.username);
    if (password === undefined) return failure(`unknown user ${fields.username}`);
    const inputs = { ...fields, realm: this.options.server_name, password, nonce: this.nonce!, nonce_count: NONCE_COUNT };
    const expected = digestResponseValue({ ...inputs, method: 'AUTHENTICATE' });
    if (!sameBytes(expected, fields.response)) return failure(`wrong response for user ${fields.username}`);
    const rspauth = Buffer.concat([Buffer.from('rspauth='), digestResponseValue({ ...inputs, method: '' })]);
    return { kind: 'success', token: rspauth, authorization_id: fields.username };
  }
}

/** What the digest needs from a digest-response that passed every check but the digest. */
interface ResponseFields {
  readonly kind: 'fields';
  readonly username: string;
  readonly cnonce: Uint8Array;
  /** The client's spelling (it may differ in case from ours, and the digest covers it). */
  readonly digest_uri: string;
  readonly response: Uint8Array;
  readonly authzid: Uint8Array | null;
}

type Refusal = Extract<DigestMd5Step, { kind: 'failure' | 'abort' }>;

/** Java's validateClientResponse up to the password lookup, check by check. */
function responseFields(v: DirectiveValues, nonce: Uint8Array, o: DigestMd5ServerOptions): ResponseFields | Refusal {
  const text = (key: string): string | undefined => {
    const bytes = v.get(key);
    return bytes === undefined ? undefined : utf8Lenient.decode(bytes);
  };
  const charset = text('charset');
  if (charset !== undefined && charset !== 'utf-8') return failure(`charset ${charset} (only utf-8)`);
  const maxbuf = text('maxbuf');
  if (maxbuf !== undefined && javaParseInt(maxbuf, 10) === null) return abort(`maxbuf ${maxbuf} is not a number`);
  const username = text('username');
  if (username === undefined) return failure('no username');
  const realm = text('realm') ?? '';
  if (realm !== o.server_name) return failure(`realm ${realm} (expected ${o.server_name})`);
  const client_nonce = v.get('nonce');
  if (client_nonce === undefined || !sameBytes(client_nonce, nonce)) return failure('missing or mismatched nonce');
  const cnonce = v.get('cnonce');
  if (cnonce === undefined) return failure('no cnonce');
  const nonce_count = text('nonce-count');
  if (nonce_count !== undefined) {
    const n = javaParseInt(nonce_count, 16);
    if (n === null) return abort(`nonce-count ${nonce_count} is not a number`);
    if (n !== NONCE_COUNT) return failure(`nonce-count ${nonce_count}`);
  }
  const qop = text('qop') ?? 'auth';
  if (qop !== 'auth') return failure(`qop ${qop} (only auth)`);
  const digest_uri = text('digest-uri');
  const ours = `${o.service}/${o.server_name}`;
  if (digest_uri === undefined || !javaEqualsIgnoreCase(digest_uri, ours)) return failure(`digest-uri ${digest_uri ?? 'missing'} (expected ${ours})`);
  const response = v.get('response');
  if (response === undefined) return failure('no response');
  return { kind: 'fields', username, cnonce, digest_uri, response, authzid: v.get('authzid') ?? null };
}

/** Java's Integer.parseInt for ASCII text: an optional sign, digits of `radix`, int32 range. */
function javaParseInt(s: string, radix: 10 | 16): number | null {
  const digits = radix === 10 ? /^[+-]?[0-9]+$/ : /^[+-]?[0-9a-fA-F]+$/;
  if (!digits.test(s)) return null;
  const v = Number.parseInt(s, radix);
  return v >= -0x8000_0000 && v <= 0x7fff_ffff ? v : null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function failure(reason: string): Refusal {
  return { kind: 'failure', reason };
}

function abort(reason: string): Refusal {
  return { kind: 'abort', reason };
}
