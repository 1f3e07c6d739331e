// Command-line text of `waitfree shell`: splitting a script into commands (newlines and ';'
// outside quotes; '#' starts a comment), a command into words (single and double quotes,
// backslash escapes), and words into flags and operands per a command's flag spec.

export class ShellUsageError extends Error {
  override readonly name = 'ShellUsageError';
}

/** Splits on newlines and unquoted ';'; drops blank commands and '#' comments. */
export function splitCommands(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote !== null) {
      cur += ch;
      if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[++i];
      continue;
    }
    if (ch === ';' || ch === '\n') {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out.map((c) => c.trim()).filter((c) => c !== '' && !c.startsWith('#'));
}

/** Words of one command; quotes group, backslash escapes the next char (not inside '...'). */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let in_word = false;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      in_word = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      in_word = true;
    } else if (/\s/.test(ch)) {
      if (in_word) words.push(cur);
      cur = '';
      in_word = false;
    } else {
      cur += ch;
      in_word = true;
    }
  }
  if (quote !== null) throw new ShellUsageError(`unclosed ${quote}`);
  if (in_word) words.push(cur);
  return words;
}

export interface FlagSpec {
  /** Flags without a value, e.g. ['s', 'e']. */
  readonly bool?: readonly string[];
  /** Flags taking a value, e.g. ['v', 't']. */
  readonly value?: readonly string[];
}

export interface ParsedArgs {
  flags: Map<string, string | true>;
  operands: string[];
}

/** "-s", "-es" (bool clusters), "-v 3"; "--" ends flags. Unknown flags are usage errors. */
export function parseFlags(words: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags = new Map<string, string | true>();
  const operands: string[] = [];
  const bool = new Set(spec.bool ?? []);
  const value = new Set(spec.value ?? []);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') {
      operands.push(...words.slice(i + 1));
      break;
    }
    if (!w.startsWith('-') || w.length < 2 || /^-\d/.test(w)) {
      operands.push(w);
      continue;
    }
    const letters = w.slice(1);
    if (value.has(letters)) {
      const v = words[++i];
      if (v === undefined) throw new ShellUsageError(`-${letters} needs a value`);
      flags.set(letters, v);
      continue;
    }
    for (const l of letters) {
      if (!bool.has(l)) throw new ShellUsageError(`unknown option -${l}`);
      flags.set(l, true);
    }
  }
  return { flags, operands };
}
