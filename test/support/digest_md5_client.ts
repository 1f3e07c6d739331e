// The client side of SASL DIGEST-MD5 (RFC 2831 section 2.1.2.1), written from the RFC for tests:
// its own MD5 arithmetic, none of the server's code. Options let a test send what a broken or
// hostile client would (another realm or digest-uri, a nonce count, extra directives).

import { createHash } from 'node:crypto';

export interface DigestClient {
  user: string;
  password: string;
  /** The realm sent and hashed; null sends none (hashed as ''). Default zk-sasl-md5. */
  realm?: string | null;
  digest_uri?: string;
  cnonce?: string;
  nc?: string;
  authzid?: string;
  /** Directives appended as written. */
  extra?: string;
}

const ZK_REALM = 'zk-sasl-md5';
const ZK_DIGEST_URI = 'zookeeper/zk-sasl-md5';
const CNONCE = 'OA6MHXh6VqTrRk';

function md5(data: string | Buffer): Buffer {
  return createHash('md5').update(typeof data === 'string' ? Buffer.from(data, 'latin1') : data).digest();
}

/** user, realm and password as RFC 2831 wants them hashed: ISO-8859-1 if they fit, else UTF-8. */
function rfcBytes(s: string): Buffer {
  return [...s].every((c) => c.charCodeAt(0) <= 0xff) ? Buffer.from(s, 'latin1') : Buffer.from(s, 'utf8');
}

/** The response value (method "AUTHENTICATE") or the rspauth value (method ""), as hex. */
export function clientDigest(c: DigestClient, nonce: string, method: 'AUTHENTICATE' | ''): string {
  const realm = c.realm === undefined ? ZK_REALM : (c.realm ?? '');
  const cnonce = c.cnonce ?? CNONCE;
  const user_hash = md5(Buffer.concat([rfcBytes(c.user), Buffer.from(':'), rfcBytes(realm), Buffer.from(':'), rfcBytes(c.password)]));
  const a1 = Buffer.concat([user_hash, Buffer.from(`:${nonce}:${cnonce}${c.authzid === undefined ? '' : `:${c.authzid}`}`, 'utf8')]);
  const a2 = `${method}:${c.digest_uri ?? ZK_DIGEST_URI}`;
  return md5(`${md5(a1).toString('hex')}:${nonce}:${c.nc ?? '00000001'}:${cnonce}:auth:${md5(a2).toString('hex')}`).toString('hex');
}

/** The nonce of a server's challenge. */
export function nonceOf(challenge: Uint8Array): string {
  const text = Buffer.from(challenge).toString('utf8');
  const m = /nonce="([^"]*)"/.exec(text);
  if (m === null) throw new Error(`no nonce in ${text}`);
  return m[1]!;
}

/** The digest-response to a challenge with `nonce`, laid out as Java's and puresasl's clients do. */
export function digestResponse(c: DigestClient, nonce: string): Uint8Array {
  const realm = c.realm === undefined ? `realm="${ZK_REALM}",` : c.realm === null ? '' : `realm="${c.realm}",`;
  const authzid = c.authzid === undefined ? '' : `,authzid="${c.authzid}"`;
  const text =
    `charset=utf-8,username="${c.user}",${realm}nonce="${nonce}",nc=${c.nc ?? '00000001'},cnonce="${c.cnonce ?? CNONCE}",` +
    `digest-uri="${c.digest_uri ?? ZK_DIGEST_URI}",maxbuf=65536,response=${clientDigest(c, nonce, 'AUTHENTICATE')},qop=auth${authzid}${c.extra ?? ''}`;
  return Buffer.from(text, 'utf8');
}
