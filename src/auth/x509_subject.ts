// A client certificate's x509 id: its subject as Java's X500Principal.getName() (RFC 2253)
// writes it, which is what ZooKeeper's X509AuthenticationProvider puts in the id and what x509
// ACLs and zookeeper.X509AuthenticationProvider.superUser are compared with. Read from the
// certificate's DER (OpenSSL's text form escapes otherwise and names attributes otherwise):
// - RDNs last to first, joined by ',', the AVAs of a multi-valued RDN by '+', in encoded order;
// - the RFC 2253 keywords (CN, C, L, ST, O, OU, STREET, DC, UID) by name, any other attribute
//   by its dotted OID with the value as '#' and the hex of its DER;
// - in values, `, = + < > # ; " \` are escaped with '\', and so are a leading and trailing space.

/** One DER element: its tag and where its content lies in the buffer. */
interface Der {
  readonly tag: number;
  /** The content's first byte and the end of the content (exclusive). */
  readonly start: number;
  readonly end: number;
  /** The whole element, tag and length included. */
  readonly header_start: number;
}

export class X509ParseError extends Error {}

function readDer(b: Uint8Array, at: number, limit: number): Der {
  if (at + 2 > limit) throw new X509ParseError('truncated DER element');
  const tag = b[at];
  if ((tag & 0x1f) === 0x1f) throw new X509ParseError('multi-byte DER tag');
  let len = b[at + 1];
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new X509ParseError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i];
    p += n;
  }
  if (p + len > limit) throw new X509ParseError('DER element runs past its parent');
  return { tag, start: p, end: p + len, header_start: at };
}

function children(b: Uint8Array, parent: Der): Der[] {
  const out: Der[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const d = readDer(b, at, parent.end);
    out.push(d);
    at = d.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;

/** Certificate -> TBSCertificate -> subject (after [0] version, serial, signature, issuer, validity). */
function subjectOf(cert: Uint8Array): Der {
  const top = readDer(cert, 0, cert.length);
  if (top.tag !== SEQUENCE) throw new X509ParseError('not a certificate');
  const tbs = children(cert, top)[0];
  if (tbs === undefined || tbs.tag !== SEQUENCE) throw new X509ParseError('no TBSCertificate');
  const fields = children(cert, tbs);
  const skip = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[skip + 4];
  if (subject === undefined || subject.tag !== SEQUENCE) throw new X509ParseError('no subject');
  return subject;
}

function oidText(b: Uint8Array, d: Der): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = d.start; i < d.end; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if ((b[i] & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** RFC 2253's keywords (X500Principal.getName() writes these by name). */
const KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
]);

/** The text of a directory string, or null for a value that is no string. */
function stringValue(b: Uint8Array, d: Der): string | null {
  const bytes = b.subarray(d.start, d.end);
  switch (d.tag) {
    case 0x0c: // UTF8String
      return new TextDecoder().decode(bytes);
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
    case 0x12: // NumericString
    case 0x14: // T61String (as Latin-1, as Java reads it)
      return String.fromCharCode(...bytes);
    case 0x1e: {
      // BMPString: UCS-2 big-endian
      let s = '';
      for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
      return s;
    }
    case 0x1c: {
      // UniversalString: UCS-4 big-endian
      let s = '';
      for (let i = 0; i + 3 < bytes.length; i += 4) s += String.fromCodePoint(((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0);
      return s;
    }
    default:
      return null;
  }
}

const ESCAPED = new Set([',', '=', '+', '<', '>', '#', ';', '"', '\\']);

/** Escapes the special characters anywhere, and a space at either end. */
function escapeValue(v: string): string {
  const chars = [...v];
  const last = chars.length - 1;
  return chars.map((ch, i) => (ESCAPED.has(ch) || (ch === ' ' && (i === 0 || i === last)) ? `\\${ch}` : ch)).join('');
}

function hex(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

function avaText(b: Uint8Array, ava: Der): string {
  const [type, value] = children(b, ava);
  if (type === undefined || type.tag !== OID || value === undefined) throw new X509ParseError('bad attribute');
  const oid = oidText(b, type);
  const keyword = KEYWORDS.get(oid);
  const text = keyword === undefined ? null : stringValue(b, value);
  if (keyword === undefined || text === null) return `${keyword ?? oid}=#${hex(b, value.header_start, value.end)}`;
  return `${keyword}=${escapeValue(text)}`;
}

/** The x509 id of a DER certificate; throws X509ParseError on a certificate it cannot read. */
export function x509Id(cert_der: Uint8Array): string {
  const subject = subjectOf(cert_der);
  const rdns = children(cert_der, subject).map((rdn) => {
    if (rdn.tag !== SET) throw new X509ParseError('bad RDN');
    return children(cert_der, rdn)
      .map((ava) => avaText(cert_der, ava))
      .join('+');
  });
  return rdns.reverse().join(',');
}
