// Value types of configuration keys, and their parsers: text (zoo.cfg or a --flag) → value.
// Parsers are pure; they return the value or a short "expectation" sentence that the caller wraps
// with the key, the source and the offending text.

export interface IntType {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
  /** A value outside [min, max] that is still legal and means "derive it" (e.g. -1). */
  readonly sentinel?: { readonly value: number; readonly meaning: string };
  readonly power_of_two?: boolean;
  /** Byte sizes also accept KiB / MiB / GiB suffixes ("4MiB"). */
  readonly bytes?: boolean;
}
export interface BoolType {
  readonly kind: 'bool';
}
export interface StringType {
  readonly kind: 'string';
  /** 'path': non-empty; 'host': an IP address or a host name; 'choice': one of `choices`;
   *  'text': any text (a name). */
  readonly format: 'path' | 'host' | 'choice' | 'text';
  readonly choices?: readonly string[];
  /** An empty value is allowed and means "unset" (e.g. dataLogDir: the dataDir). */
  readonly optional?: boolean;
  /** 'choice' only: matched case-insensitively and stored as spelled in `choices` (ZooKeeper
   *  lower-cases peerType before comparing). */
  readonly ignore_case?: boolean;
}
/** `user:base64(sha1("user:password"))` or unset (null). */
export interface DigestType {
  readonly kind: 'digest';
}
/** Comma-separated, entries trimmed, empty entries dropped. */
export interface ListType {
  readonly kind: 'list';
}

export type ValueType = IntType | BoolType | StringType | DigestType | ListType;
export type ConfigValue = number | boolean | string | null | readonly string[];

export type ParseResult = { ok: true; value: ConfigValue } | { ok: false; expected: string };

const SIZE_UNITS: Readonly<Record<string, number>> = { kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** Decimal with optional sign, 0x hex, or (for byte sizes) N KiB/MiB/GiB. NaN when none fits. */
function parseIntText(text: string, bytes: boolean): number {
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text.slice(2), 16);
  const m = bytes ? /^(\d+)\s*(kib|mib|gib)$/i.exec(text) : null;
  if (m) return Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!;
  return Number.NaN;
}

export function describeInt(t: IntType): string {
  const range = `an integer in ${t.min}..${t.max}`;
  const p2 = t.power_of_two ? ', a power of two' : '';
  const s = t.sentinel ? ` (or ${t.sentinel.value}: ${t.sentinel.meaning})` : '';
  return range + p2 + s;
}

/** Checks a number against an int type (used for parsed text and for typed flag values). */
export function checkInt(t: IntType, n: number): ParseResult {
  if (!Number.isSafeInteger(n)) return { ok: false, expected: 'is not an integer' };
  if (t.sentinel && n === t.sentinel.value) return { ok: true, value: n };
  if (n < t.min || n > t.max) return { ok: false, expected: `is out of range: expected ${describeInt(t)}` };
  if (t.power_of_two && !isPowerOfTwo(n)) return { ok: false, expected: `is not a power of two (e.g. ${4 * 1024 * 1024})` };
  return { ok: true, value: n };
}

function parseInt_(t: IntType, text: string): ParseResult {
  const n = parseIntText(text, t.bytes === true);
  if (Number.isNaN(n)) return { ok: false, expected: 'is not an integer' };
  return checkInt(t, n);
}

function parseBool(text: string): ParseResult {
  const t = text.toLowerCase();
  if (t === 'true') return { ok: true, value: true };
  if (t === 'false') return { ok: true, value: false };
  return { ok: false, expected: 'is not a boolean (expected true or false)' };
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** An IPv4 or IPv6 address (unbracketed) or a host name. */
export function isHost(text: string): boolean {
  if (IPV4.test(text)) return true;
  if (text.includes(':')) return /^[0-9a-f:.]+$/i.test(text) && text.split(':').length <= 9;
  return HOST_NAME.test(text) && !/^[\d.]+$/.test(text);
}

function parseString(t: StringType, text: string): ParseResult {
  if (text === '') return t.optional === true ? { ok: true, value: '' } : { ok: false, expected: 'is empty' };
  if (t.format === 'host' && !isHost(text)) return { ok: false, expected: 'is not an IP address or host name' };
  if (t.format === 'choice') {
    const choices = t.choices ?? [];
    const found = t.ignore_case === true ? choices.find((c) => c.toLowerCase() === text.toLowerCase()) : choices.find((c) => c === text);
    if (found === undefined) return { ok: false, expected: `is not one of ${choices.join(', ')}` };
    return { ok: true, value: found };
  }
  return { ok: true, value: text };
}

function parseDigest(text: string): ParseResult {
  if (text === '') return { ok: true, value: null };
  if (!/^[^:\s]+:[A-Za-z0-9+/]+=*$/.test(text)) {
    return { ok: false, expected: 'is not a digest (expected user:base64(sha1("user:password")), e.g. super:D/InIHSb7yEEbrWz8b9l71RjZJU=)' };
  }
  return { ok: true, value: text };
}

export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseValue(type: ValueType, text: string): ParseResult {
  switch (type.kind) {
    case 'int':
      return parseInt_(type, text);
    case 'bool':
      return parseBool(text);
    case 'string':
      return parseString(type, text);
    case 'digest':
      return parseDigest(text);
    case 'list':
      return { ok: true, value: parseList(text) };
  }
}

/** One-word name of a type for help text. */
export function typeLabel(type: ValueType): string {
  switch (type.kind) {
    case 'int':
      return type.bytes ? 'bytes' : 'int';
    case 'bool':
      return 'bool';
    case 'string':
      return type.format;
    case 'digest':
      return 'digest';
    case 'list':
      return 'list';
  }
}

/** How a value is written back (help text, `conf`): lists comma-joined, null as empty. */
export function formatValue(value: ConfigValue): string {
  if (value === null) return '';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}
