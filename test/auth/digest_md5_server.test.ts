// The DIGEST-MD5 server against a client written from RFC 2831 (test/support/digest_md5_client.ts:
// its own MD5 arithmetic, not the server's), the RFC's section 4 example values, and the answers Apache ZooKeeper 3.8 on
// Java 17 gave to the same tokens (measured over its client port: a raw client sent each token
// and printed the reply's error code; "AUTHFAILED" below, "closed" where it closed unanswered).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { javaEqualsIgnoreCase, parseDirectives } from '../../src/auth/digest_md5_directives.js';
import { credentialBytes, digestResponseValue } from '../../src/auth/digest_md5_response.js';
import { DigestMd5Server, RESPONSE_BYTES_MAX, ZOOKEEPER_DIGEST, type DigestMd5Step } from '../../src/auth/digest_md5_server.js';
import { clientDigest, digestResponse, nonceOf, type DigestClient } from '../support/digest_md5_client.js';

const USERS = new Map([
  ['jaasuser', 'jaas_password'],
  ['émile', 'pâté'],
  ['yuki', '雪'],
]);

/** Randomness that counts up from `seed`: every nonce of a test is known in advance. */
function countingBytes(seed: number): (n: number) => Uint8Array {
  let next = seed;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

function server(seed = 0): DigestMd5Server {
  return new DigestMd5Server({ ...ZOOKEEPER_DIGEST, passwordOf: (u) => USERS.get(u), randomBytes: countingBytes(seed) });
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A whole exchange: empty first token, then the client's digest-response. */
function login(c: DigestClient, s = server()): { step: DigestMd5Step; nonce: string } {
  const challenge = s.evaluate(new Uint8Array(0));
  if (challenge.kind !== 'challenge') throw new Error(`no challenge: ${JSON.stringify(challenge)}`);
  const nonce = nonceOf(challenge.token);
  return { step: s.evaluate(digestResponse(c, nonce)), nonce };
}

// ---- tests ----

describe('digestResponseValue: RFC 2831 section 4', () => {
  const imap = {
    digest_uri: 'imap/elwood.innosoft.com',
    username: 'chris',
    realm: 'elwood.innosoft.com',
    password: 'secret',
    nonce: utf8('OA6MG9tEQGm2hh'),
    cnonce: utf8('OA6MHXh6VqTrRk'),
    nonce_count: 1,
    authzid: null,
  };

  it('the IMAP example: response and rspauth', () => {
    expect(digestResponseValue({ ...imap, method: 'AUTHENTICATE' }).toString()).toBe('d388dad90d4bbd760a152321f2143af7');
    expect(digestResponseValue({ ...imap, method: '' }).toString()).toBe('ea40f60335c427b5527b84dbabcdfffd');
  });

  it('the ACAP example: response and rspauth', () => {
    const acap = { ...imap, digest_uri: 'acap/elwood.innosoft.com', nonce: utf8('OA9BSXrbuRhWay'), cnonce: utf8('OA9BSuZWMSpW8m') };
    expect(digestResponseValue({ ...acap, method: 'AUTHENTICATE' }).toString()).toBe('6084c6db3fede7352c551284490fd0fc');
    expect(digestResponseValue({ ...acap, method: '' }).toString()).toBe('2f0b3d7c3c2e486600ef710726aa2eae');
  });

  it('hashes credentials as ISO-8859-1 when they fit, UTF-8 otherwise', () => {
    expect([...credentialBytes('pâté')]).toEqual([0x70, 0xe2, 0x74, 0xe9]);
    expect([...credentialBytes('雪')]).toEqual([0xe9, 0x9b, 0xaa]);
  });
});

describe('DigestMd5Server: the exchange', () => {
  it('challenges with the realm, a 40-character nonce from the injected randomness, utf-8 and md5-sess, and no qop', () => {
    const step = server(0).evaluate(new Uint8Array(0));
    expect(step.kind).toBe('challenge');
    // base64 of the bytes 0..29 (Java's nonce: 30 random bytes, base64).
    expect(text((step as { token: Uint8Array }).token)).toBe('realm="zk-sasl-md5",nonce="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",charset=utf-8,algorithm=md5-sess');
  });

  it('authenticates a client that knows the password, answering the rspauth the client expects', () => {
    const c = { user: 'jaasuser', password: 'jaas_password' };
    const { step, nonce } = login(c);
    expect(step.kind).toBe('success');
    const ok = step as Extract<DigestMd5Step, { kind: 'success' }>;
    expect(ok.authorization_id).toBe('jaasuser');
    expect(text(ok.token)).toBe(`rspauth=${clientDigest(c, nonce, '')}`);
  });

  it('non-ASCII users and passwords, hashed as RFC 2831 says', () => {
    expect(login({ user: 'émile', password: 'pâté' }).step.kind).toBe('success');
    expect(login({ user: 'yuki', password: '雪' }).step.kind).toBe('success');
  });

  it('an authzid enters the digest, but the authorization id is the username (as ZooKeeper)', () => {
    const { step } = login({ user: 'jaasuser', password: 'jaas_password', authzid: 'super' });
    expect(step).toMatchObject({ kind: 'success', authorization_id: 'jaasuser' });
  });

  it('ignores the content of the first token (Java 17 does too) and answers the digest-uri in any case', () => {
    const s = server();
    const challenge = s.evaluate(utf8('garbage'));
    expect(challenge.kind).toBe('challenge');
    const c = { user: 'jaasuser', password: 'jaas_password', digest_uri: 'ZooKeeper/ZK-sasl-md5' };
    expect(s.evaluate(digestResponse(c, nonceOf((challenge as { token: Uint8Array }).token))).kind).toBe('success');
  });

  it('takes no charset and no qop (the defaults), extra white space, upper-case keys, unknown directives', () => {
    const c = { user: 'jaasuser', password: 'jaas_password' };
    const s = server();
    const nonce = nonceOf((s.evaluate(new Uint8Array(0)) as { token: Uint8Array }).token);
    const token = text(digestResponse(c, nonce)).replace('charset=utf-8,', '').replace(',qop=auth', '').replace('username=', 'USERNAME=');
    expect(s.evaluate(utf8(`  ${token.replaceAll(',', ' ,\t ')},foo=bar,foo=baz,nc=00000001, bare`)).kind).toBe('success');
  });
});

describe('DigestMd5Server: what fails (AUTHFAILED on ZooKeeper), and what aborts (closed unanswered)', () => {
  const jaas = { user: 'jaasuser', password: 'jaas_password' };

  it('a wrong password, an unknown user', () => {
    expect(login({ ...jaas, password: 'wrong' }).step).toEqual({ kind: 'failure', reason: 'wrong response for user jaasuser' });
    // ZooKeeper lets this one in when the previous login was jaasuser's (its callback handler
    // keeps the last user in a shared field); waitfree refuses unknown users.
    expect(login({ user: 'nobody', password: 'jaas_password' }).step).toEqual({ kind: 'failure', reason: 'unknown user nobody' });
  });

  it('a wrong or missing realm, a wrong digest-uri', () => {
    expect(login({ ...jaas, realm: 'other' }).step.kind).toBe('failure');
    expect(login({ ...jaas, realm: null }).step.kind).toBe('failure');
    expect(login({ ...jaas, digest_uri: 'zookeeper/localhost' }).step.kind).toBe('failure');
    expect(login({ ...jaas, digest_uri: 'imap/zk-sasl-md5' }).step.kind).toBe('failure');
  });

  it('a nonce count other than 1 (the server computes with 00000001), in nc or nonce-count', () => {
    expect(login({ ...jaas, nc: '00000002' }).step.kind).toBe('failure');
    expect(login({ ...jaas, extra: ',nonce-count=2' }).step.kind).toBe('failure');
    expect(login({ ...jaas, extra: ',nonce-count=1' }).step.kind).toBe('success');
  });

  it('a replayed response: one computed for another exchange\'s nonce, or sent again after success', () => {
    const first = server(0);
    const nonce = nonceOf((first.evaluate(new Uint8Array(0)) as { token: Uint8Array }).token);
    const response = digestResponse(jaas, nonce);
    const second = server(100);
    second.evaluate(new Uint8Array(0));
    expect(second.evaluate(response)).toEqual({ kind: 'failure', reason: 'missing or mismatched nonce' });
    expect(first.evaluate(response).kind).toBe('success');
    expect(first.evaluate(response)).toEqual({ kind: 'failure', reason: 'the exchange is over' });
    expect(first.done).toBe(true);
  });

  it('qop other than auth, a charset other than utf-8, a missing field', () => {
    const c = { ...jaas };
    for (const [from, to] of [
      ['qop=auth', 'qop=auth-int'],
      ['charset=utf-8', 'charset=UTF-8'],
      ['username=', 'usernam='],
      ['cnonce=', 'xnonce='],
      ['digest-uri=', 'digest-urx='],
      ['response=', 'respons='],
    ] as const) {
      const s = server();
      const nonce = nonceOf((s.evaluate(new Uint8Array(0)) as { token: Uint8Array }).token);
      expect(s.evaluate(utf8(text(digestResponse(c, nonce)).replace(from, to))).kind, `${from} -> ${to}`).toBe('failure');
    }
  });

  it('an upper-case hex response (Java compares the bytes)', () => {
    const s = server();
    const nonce = nonceOf((s.evaluate(new Uint8Array(0)) as { token: Uint8Array }).token);
    const token = text(digestResponse(jaas, nonce)).replace(/response=([0-9a-f]{32})/, (_m, hex: string) => `response=${hex.toUpperCase()}`);
    expect(s.evaluate(utf8(token)).kind).toBe('failure');
  });

  it('maxbuf or nonce-count that is not a number aborts (ZooKeeper closes without a reply)', () => {
    expect(login({ ...jaas, extra: ',maxbuf=abc' }).step.kind).toBe('failure'); // a second maxbuf
    const s = server();
    const nonce = nonceOf((s.evaluate(new Uint8Array(0)) as { token: Uint8Array }).token);
    expect(s.evaluate(utf8(text(digestResponse(jaas, nonce)).replace('maxbuf=65536', 'maxbuf=abc')))).toEqual({ kind: 'abort', reason: 'maxbuf abc is not a number' });
    expect(login({ ...jaas, extra: ',nonce-count=zz' }).step).toEqual({ kind: 'abort', reason: 'nonce-count zz is not a number' });
  });

  it('tokens over 4096 bytes, in any state', () => {
    expect(server().evaluate(new Uint8Array(RESPONSE_BYTES_MAX)).kind).toBe('challenge');
    expect(server().evaluate(new Uint8Array(RESPONSE_BYTES_MAX + 1)).kind).toBe('failure');
    const s = server();
    const nonce = nonceOf((s.evaluate(new Uint8Array(0)) as { token: Uint8Array }).token);
    const valid = text(digestResponse(jaas, nonce));
    expect(s.evaluate(utf8(valid + ',' + ' '.repeat(RESPONSE_BYTES_MAX - valid.length))).kind).toBe('failure');
  });

  it('malformed digest-responses fail', () => {
    for (const bad of ['', 'username', 'username="jaasuser', 'a="b"c', '=x', 'a ,b=c', 'username="a",username="a"', 'realm="x",realm="x"', 'a=', 'a = ']) {
      const s = server();
      s.evaluate(new Uint8Array(0));
      expect(s.evaluate(utf8(bad)).kind, bad).toBe('failure');
    }
  });

  it('any bytes at all: a failure or an abort, never an exception, and the exchange is over', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, framed) => {
        const s = server();
        const nonce = nonceOf((s.evaluate(new Uint8Array(0)) as { token: Uint8Array }).token);
        // Half the time wrap the garbage in a plausible response so the later checks run too.
        const token = framed ? Buffer.concat([Buffer.from(`username="jaasuser",realm="zk-sasl-md5",nonce="${nonce}",`), bytes]) : bytes;
        const step = s.evaluate(token);
        return (step.kind === 'failure' || step.kind === 'abort') && s.done && s.evaluate(new Uint8Array(0)).kind === 'failure';
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseDirectives', () => {
  const keys = ['username', 'realm', 'qop'];
  const parsed = (s: string) => {
    const r = parseDirectives(utf8(s), keys);
    return r.ok ? Object.fromEntries([...r.values].map(([k, v]) => [k, text(v)])) : r.reason;
  };

  it('quoted and plain values, escapes, empty elements, unknown keys skipped, case-insensitive keys', () => {
    expect(parsed(',, Username="a\\"b\\\\c" ,qop=auth\tREALM = "r" , other=1')).toEqual({ username: 'a"b\\c', qop: 'auth', realm: 'r' });
    // A key that ends the message is kept, with an empty value (measured on ZooKeeper too).
    expect(parsed('qop')).toEqual({ qop: '' });
    expect(parsed('qop=')).toBe('directive qop has no value');
  });

  it('refuses a duplicate known key, text after a closing quote, a key with no =', () => {
    expect(parsed('qop=a,qop=b')).toBe('more than one qop directive');
    expect(parsed('qop="a"b')).toBe('comma or white space expected after a quoted string');
    expect(parsed('qop a')).toBe("'=' expected after key qop");
    expect(parsed('qop="a')).toBe('unmatched quote');
  });

  it("matches keys as Java's equalsIgnoreCase does", () => {
    expect(javaEqualsIgnoreCase('qop', 'QOP')).toBe(true);
    expect(javaEqualsIgnoreCase('k', '\u212a')).toBe(true);
    expect(javaEqualsIgnoreCase('qop', 'qo')).toBe(false);
  });
});
