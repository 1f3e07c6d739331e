// A client certificate's x509 id is its subject as Java's X500Principal.getName() writes it
// (RFC 2253): the expected strings are what Java 17 printed for the same subjects.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { x509Id, X509ParseError } from '../../src/auth/x509_subject.js';
import { TLS_FIXTURES } from '../support/servers.js';

const der = (name: string): Uint8Array => new X509Certificate(readFileSync(join(TLS_FIXTURES, name))).raw;

describe('x509Id', () => {
  it('is the subject last RDN first, with RFC 2253 escapes, as Java prints it', () => {
    expect(x509Id(der('client.pem'))).toBe('CN=client one,OU=ops,O=Acme\\, Inc.,C=US');
    expect(x509Id(der('super.pem'))).toBe('CN=admin,O=waitfree');
    expect(x509Id(der('ca.pem'))).toBe('CN=waitfree test CA');
  });

  it('multi-valued RDNs joined by +, attributes without an RFC 2253 keyword as OID=#DER, every escape', () => {
    expect(x509Id(der('odd.pem'))).toBe(
      '2.5.4.5=#13023432,1.2.840.113549.1.9.1=#16056140622e63,CN=\\ lead\\;semi\\"q\\<\\>\\#\\=x\\ ,CN=a+OU=b,L=Köln,DC=example',
    );
  });

  it('a space at either end of a value is escaped, also right after an escaped backslash', () => {
    expect(x509Id(der('edge.pem'))).toBe('O=\\ ,CN=a\\\\\\ ');
  });

  it('reads no certificate out of other bytes', () => {
    expect(() => x509Id(new Uint8Array([0x30, 0x03, 0x02, 0x01]))).toThrow(X509ParseError);
    expect(() => x509Id(new Uint8Array([]))).toThrow(X509ParseError);
    const cut = der('client.pem').subarray(0, 200);
    expect(() => x509Id(cut)).toThrow(X509ParseError);
  });
});
