// A JAAS login configuration file (the file java.security.auth.login.config names), read as
// Java's own parser reads it (sun.security.provider.ConfigFile over a java.io.StreamTokenizer):
//
//     Name {
//         module.Class flag key="value" key2=word;    // flag: required, requisite, sufficient, optional
//         other.Module flag;
//     };
//
// Comments are `//` to the end of the line and `/* ... */`; a lone `/` also comments out the rest
// of its line (StreamTokenizer's comment character). `#` is not a comment. Class names, flags,
// option keys and values are words (letters, `$ _ - *`, and digits or `.` after the first
// character) or double-quoted strings (backslash escapes; a string also ends at the end of its
// line); a number or a single-quoted string there is an error, as in Java. Option keys repeat
// with the last value winning; a section name may not repeat. Java expands `${property}` in
// values; we leave them as written (callers may warn). Measured against Java 17's parser on
// this machine (javax.security.auth.login.Configuration), case by case, in
// test/auth/jaas_config.test.ts.

export type JaasControlFlag = 'required' | 'requisite' | 'sufficient' | 'optional';

export interface JaasLoginModule {
  readonly class_name: string;
  readonly flag: JaasControlFlag;
  /** Options in first-appearance order; a repeated key keeps its last value. */
  readonly options: ReadonlyMap<string, string>;
}

/** Section name -> its login modules (possibly none), in file order. */
export type JaasConfig = ReadonlyMap<string, readonly JaasLoginModule[]>;

/** The file is not valid JAAS syntax: what was expected, and on which line (1-based). */
export class JaasSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'JaasSyntaxError';
  }
}

type Token =
  | { readonly kind: 'word' | 'string'; readonly text: string; readonly line: number }
  /** A number, a single-quoted string, or a character that is no token of the grammar. */
  | { readonly kind: 'other'; readonly text: string; readonly line: number }
  | { readonly kind: 'char'; readonly text: '{' | '}' | ';' | '='; readonly line: number }
  | { readonly kind: 'eof'; readonly text: ''; readonly line: number };

const FLAGS: ReadonlyMap<string, JaasControlFlag> = new Map([
  ['REQUIRED', 'required'],
  ['REQUISITE', 'requisite'],
  ['SUFFICIENT', 'sufficient'],
  ['OPTIONAL', 'optional'],
]);

/** Parses a whole file. Throws JaasSyntaxError at the first thing Java's parser refuses. */
export function parseJaasConfig(text: string): JaasConfig {
  const tokens = new JaasTokenizer(text);
  const sections = new Map<string, JaasLoginModule[]>();
  let at = tokens.next();
  const expect = (what: string, ok: (t: Token) => boolean): Token => {
    if (!ok(at)) throw new JaasSyntaxError(at.line, `expected ${what}, found ${describe(at)}`);
    const taken = at;
    at = tokens.next();
    return taken;
  };
  const isChar = (c: string) => (t: Token) => t.kind === 'char' && t.text === c;
  const value = (what: string): string => expect(what, (t) => t.kind === 'word' || t.kind === 'string').text;
  while (at.kind !== 'eof') {
    const name_line = at.line;
    const name = value('a section name');
    expect("'{'", isChar('{'));
    const modules: JaasLoginModule[] = [];
    while (!isChar('}')(at)) {
      const class_name = value('a login module class name');
      const flag_token = at;
      const flag = FLAGS.get(value('a control flag').toUpperCase());
      if (flag === undefined) throw new JaasSyntaxError(flag_token.line, `invalid control flag ${flag_token.text} (expected required, requisite, sufficient or optional)`);
      const options = new Map<string, string>();
      while (!isChar(';')(at)) {
        const key = value('an option key');
        expect("'='", isChar('='));
        options.set(key, value(`a value for option ${key}`));
      }
      at = tokens.next();
      modules.push({ class_name, flag, options });
    }
    expect("'}'", isChar('}'));
    expect("';' after '}'", isChar(';'));
    if (sections.has(name)) throw new JaasSyntaxError(name_line, `section ${name} appears twice`);
    sections.set(name, modules);
  }
  return sections;
}

function describe(t: Token): string {
  return t.kind === 'eof' ? 'the end of the file' : JSON.stringify(t.text);
}

/** Java's StreamTokenizer as ConfigFile sets it up, reduced to the tokens the grammar has. */
class JaasTokenizer {
  private i = 0;
  private line = 1;

  constructor(private readonly s: string) {}

  next(): Token {
    this.skipBlanksAndComments();
    if (this.i >= this.s.length) return { kind: 'eof', text: '', line: this.line };
    const c = this.s[this.i]!;
    const line = this.line;
    if (isWordStart(c)) return { kind: 'word', text: this.take(isWordPart), line };
    if (isDigitChar(c)) return { kind: 'other', text: this.take(isDigitChar), line };
    if (c === '"') return { kind: 'string', text: this.quoted(c), line };
    if (c === "'") return { kind: 'other', text: this.quoted(c), line };
    this.i++;
    if (c === '{' || c === '}' || c === ';' || c === '=') return { kind: 'char', text: c, line };
    return { kind: 'other', text: c, line };
  }

  /** Whitespace is every character up to ' ' (StreamTokenizer's default range). */
  private skipBlanksAndComments(): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c <= ' ') {
        this.newline();
      } else if (c === '/' && this.s[this.i + 1] === '*') {
        this.i += 2;
        while (this.i < this.s.length && !(this.s[this.i] === '*' && this.s[this.i + 1] === '/')) this.newline();
        this.i += 2;
      } else if (c === '/') {
        // `//`, and a lone `/` too: '/' is StreamTokenizer's comment character.
        while (this.i < this.s.length && this.s[this.i] !== '\n' && this.s[this.i] !== '\r') this.i++;
      } else {
        return;
      }
    }
  }

  /** Steps over one character, counting lines as Java does ("\r\n" is one). */
  private newline(): void {
    const c = this.s[this.i++];
    if (c === '\n' || (c === '\r' && this.s[this.i] !== '\n')) this.line++;
  }

  private take(part: (c: string) => boolean): string {
    const start = this.i++;
    while (this.i < this.s.length && part(this.s[this.i]!)) this.i++;
    return this.s.slice(start, this.i);
  }

  /** A quoted string: ends at its closing quote, or (unclosed) at the end of the line. */
  private quoted(quote: string): string {
    let out = '';
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === quote) {
        this.i++;
        return out;
      }
      if (c === '\n' || c === '\r') return out;
      this.i++;
      out += c === '\\' ? this.escape() : c;
    }
    return out;
  }

  /** After a backslash: C escapes, up to three octal digits (at most \377), else the character. */
  private escape(): string {
    const c = this.s[this.i];
    if (c === undefined) return '';
    if (c === '\n' || c === '\r') {
      // An escaped line end is kept, and still counts as a line.
      this.newline();
      return c;
    }
    this.i++;
    const simple = ESCAPES.get(c);
    if (simple !== undefined) return simple;
    if (c < '0' || c > '7') return c;
    let code = c.charCodeAt(0) - 48;
    const digits_max = c <= '3' ? 3 : 2;
    for (let n = 1; n < digits_max && this.s[this.i]! >= '0' && this.s[this.i]! <= '7'; n++) code = code * 8 + this.s.charCodeAt(this.i++) - 48;
    return String.fromCharCode(code);
  }
}

const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['a', '\x07'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
  ['v', '\v'],
]);

/** Letters, `$ _ - *`, and every character from U+00A0 up (StreamTokenizer's word characters). */
function isWordStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '$' || c === '_' || c === '-' || c === '*' || c >= '\u00a0';
}

/** Digits and '.' start a number (an error where a word is expected) and continue a word. */
function isDigitChar(c: string): boolean {
  return (c >= '0' && c <= '9') || c === '.';
}

function isWordPart(c: string): boolean {
  return isWordStart(c) || isDigitChar(c);
}
