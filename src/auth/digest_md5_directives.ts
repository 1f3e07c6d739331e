// The directives of a DIGEST-MD5 message (RFC 2831 section 7.1: `key=value` or `key="quoted"`,
// separated by commas and linear white space), parsed as Java's DigestMD5Base.parseDirectives
// parses a client's digest-response, since clients are written against that server:
// - keys match case-insensitively (Java's equalsIgnoreCase); a key not in the table is skipped;
// - a known key given twice is an error, realm included (the server passes no realm list);
// - a quoted value ends at its closing quote, `\c` stands for `c`, and must be followed by a
//   separator; an unquoted value ends at the first separator;
// - empty elements (",,") are skipped; a key without '=' or a value is an error, but for a key
//   that ends the message, kept with an empty value.
// Values are the bytes the client sent, unquoted: the digest is computed over bytes.

import { utf8Lenient } from '../protocol/utf8.js';

export type DirectiveValues = ReadonlyMap<string, Uint8Array>;

export type DirectiveParse = { readonly ok: true; readonly values: DirectiveValues } | { readonly ok: false; readonly reason: string };

const COMMA = 0x2c;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** CR, LF, SP, HT: RFC 2831's LWS as Java tests it (byte by byte). */
function isLws(b: number): boolean {
  return b === 13 || b === 10 || b === 32 || b === 9;
}

function skipLws(buf: Uint8Array, i: number): number {
  while (i < buf.length && isLws(buf[i]!)) i++;
  return i;
}

/**
 * Splits `buf` into directives, keeping those whose key is in `keys` (lower case), by their
 * table spelling. Total: garbage yields `ok: false`, never an exception.
 */
export function parseDirectives(buf: Uint8Array, keys: readonly string[]): DirectiveParse {
  const values = new Map<string, Uint8Array>();
  let i = skipLws(buf, 0);
  while (i < buf.length) {
    const key = readKey(buf, i);
    if (!key.ok) return key;
    if (key.kind === 'empty') {
      i = key.next;
      continue;
    }
    if (key.kind === 'bare') {
      // Java keeps a key that ends the message with no '=' at all, with an empty value.
      const stored = store(values, keys, key.text, new Uint8Array(0));
      return stored === null ? { ok: true, values } : { ok: false, reason: stored };
    }
    const value = readValue(buf, key.value_at);
    if (!value.ok) return value;
    const stored = store(values, keys, key.text, value.bytes);
    if (stored !== null) return { ok: false, reason: stored };
    i = value.next;
  }
  return { ok: true, values };
}

type KeyRead =
  /** An empty element (","): `next` is past it. */
  | { ok: true; kind: 'empty'; next: number }
  /** A key and its '=': `value_at` is the value's first byte. */
  | { ok: true; kind: 'key'; text: string; value_at: number }
  /** A key running to the end of the message. */
  | { ok: true; kind: 'bare'; text: string }
  | { ok: false; reason: string };

/** A key up to its '=' (LWS allowed before it). */
function readKey(buf: Uint8Array, start: number): KeyRead {
  if (buf[start] === COMMA) return { ok: true, kind: 'empty', next: skipLws(buf, start + 1) };
  let i = start;
  while (i < buf.length && buf[i] !== EQUALS && buf[i] !== COMMA && !isLws(buf[i]!)) i++;
  const text = utf8Lenient.decode(buf.subarray(start, i));
  if (i >= buf.length) return { ok: true, kind: 'bare', text };
  const eq = skipLws(buf, i);
  if (buf[eq] === COMMA) return { ok: false, reason: `directive key contains a ',': ${text}` };
  if (buf[eq] !== EQUALS) return { ok: false, reason: `'=' expected after key ${text}` };
  if (i === start) return { ok: false, reason: 'empty directive key' };
  const value_at = skipLws(buf, eq + 1);
  if (value_at >= buf.length) return { ok: false, reason: `directive ${text} has no value` };
  return { ok: true, kind: 'key', text, value_at };
}

type ValueRead = { ok: true; bytes: Uint8Array; next: number } | { ok: false; reason: string };

/** A quoted or plain value starting at `start`; `next` is past the separator and its LWS. */
function readValue(buf: Uint8Array, start: number): ValueRead {
  if (buf[start] !== QUOTE) {
    let end = start;
    while (end < buf.length && buf[end] !== COMMA && !isLws(buf[end]!)) end++;
    return { ok: true, bytes: buf.slice(start, end), next: skipLws(buf, end + 1) };
  }
  const out: number[] = [];
  let i = start + 1;
  while (i < buf.length && buf[i] !== QUOTE) {
    if (buf[i] === BACKSLASH) i++;
    if (i >= buf.length) break;
    out.push(buf[i]!);
    i++;
  }
  if (i >= buf.length) return { ok: false, reason: 'unmatched quote' };
  i++;
  if (i < buf.length && buf[i] !== COMMA && !isLws(buf[i]!)) return { ok: false, reason: 'comma or white space expected after a quoted string' };
  return { ok: true, bytes: Uint8Array.from(out), next: skipLws(buf, i + 1) };
}

/** Stores a known key's value; a reason when the key came before. */
function store(values: Map<string, Uint8Array>, keys: readonly string[], key: string, value: Uint8Array): string | null {
  const known = keys.find((k) => javaEqualsIgnoreCase(k, key));
  if (known === undefined) return null;
  if (values.has(known)) return `more than one ${known} directive`;
  values.set(known, value);
  return null;
}


/** Java's String.equalsIgnoreCase: UTF-16 units equal after upper-casing, or after lower-casing
 *  the upper-cased ones (so U+212A KELVIN SIGN equals 'k', as in Java). JavaScript's case
 *  mappings stand in for Java's one-unit ones; they differ only outside ASCII (U+0130). */
export function javaEqualsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    const ux = upperUnit(x);
    const uy = upperUnit(y);
    if (ux !== uy && ux.toLowerCase() !== uy.toLowerCase()) return false;
  }
  return true;
}

/** Character.toUpperCase of one UTF-16 unit: a one-unit mapping, else the unit itself (Java
 *  maps 'ß' to itself here, not to "SS"). */
function upperUnit(c: string): string {
  const u = c.toUpperCase();
  return u.length === 1 ? u : c;
}
