// zoo.cfg syntax: Java `Properties.load` text, as Apache ZooKeeper reads it
// (QuorumPeerConfig.parse → Properties.load, then key and value are trim()med).
//
// Rules implemented (java.util.Properties#load):
// - natural lines end at \n, \r or \r\n; leading blanks (space, \t, \f) are skipped;
// - a line whose first non-blank char is '#' or '!' is a comment (never continued);
// - a line ending in an odd number of backslashes continues on the next natural line (the
//   backslash and the line break are dropped, as are the next line's leading blanks);
// - the key ends at the first unescaped '=', ':' or blank; then blanks, at most one '=' or ':',
//   and blanks are skipped; the rest is the value (ZooKeeper trims it);
// - escapes \t \n \r \f \uXXXX; any other escaped char stands for itself ("a\ b" is "a b");
// - a key given twice: the last one wins (like Properties), and its line is reported.

import { ConfigError } from './config_error.js';

export interface CfgEntry {
  /** The value, unescaped and trimmed (ZooKeeper trims values). */
  readonly value: string;
  /** 1-based number of the natural line where the logical line (key) starts. */
  readonly line: number;
}

/** Key → entry, in first-appearance order. A Map, so keys like `__proto__` are plain keys. */
export type ZooCfg = ReadonlyMap<string, CfgEntry>;

interface LogicalLine {
  text: string;
  line: number;
}

const BLANKS = new Set([' ', '\t', '\f']);

export function parseZooCfg(text: string, source = 'zoo.cfg'): ZooCfg {
  const out = new Map<string, CfgEntry>();
  for (const logical of logicalLines(text)) {
    const { key, value } = splitKeyValue(logical, source);
    const trimmed_key = key.trim();
    if (trimmed_key === '') continue; // Properties would store "" → ZooKeeper ignores it too
    out.delete(trimmed_key); // last wins, but keep order of the winning line
    out.set(trimmed_key, { value: value.trim(), line: logical.line });
  }
  return out;
}

function naturalLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

function skipBlanks(s: string, from: number): number {
  let i = from;
  while (i < s.length && BLANKS.has(s[i]!)) i++;
  return i;
}

/** True when `s` ends in an odd number of backslashes (a continuation marker). */
function endsWithContinuation(s: string): boolean {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

function* logicalLines(text: string): Generator<LogicalLine> {
  const lines = naturalLines(text);
  let i = 0;
  while (i < lines.length) {
    const start_line = i + 1;
    const first = lines[i]!.slice(skipBlanks(lines[i]!, 0));
    i++;
    if (first === '' || first[0] === '#' || first[0] === '!') continue;
    let acc = first;
    while (endsWithContinuation(acc) && i < lines.length) {
      acc = acc.slice(0, -1) + lines[i]!.slice(skipBlanks(lines[i]!, 0));
      i++;
    }
    if (endsWithContinuation(acc)) acc = acc.slice(0, -1); // continuation at end of file
    yield { text: acc, line: start_line };
  }
}

/** Index just past the raw key: the first unescaped '=', ':' or blank. */
function keyEnd(s: string): number {
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || BLANKS.has(c)) return i;
    i++;
  }
  return s.length;
}

function splitKeyValue(logical: LogicalLine, source: string): { key: string; value: string } {
  const s = logical.text;
  const end = Math.min(keyEnd(s), s.length);
  let i = skipBlanks(s, end);
  if (i < s.length && (s[i] === '=' || s[i] === ':')) i = skipBlanks(s, i + 1);
  const where = `${source}:${logical.line}`;
  return { key: unescape(s.slice(0, end), where), value: unescape(s.slice(i), where) };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(s: string, where: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const e = s[++i]!;
    if (e === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new ConfigError(`${where}: malformed \\uxxxx escape "\\u${hex}"`);
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += SIMPLE_ESCAPES[e] ?? e;
    }
  }
  return out;
}
