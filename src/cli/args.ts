// Command-line parsing for `waitfree`: argv → a command record, or a UsageError (exit code 2).
// Config flags come from the key table (KeySpec.flag), so a new flag is one field in the table.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ConfigFlags } from '../config/load.js';
import { CONFIG_KEYS, type ConfigField } from '../config/server_config.js';
import { closest } from '../config/suggest.js';

/** `waitfree ensemble`: a local ensemble of server processes (src/cli/ensemble.ts). */
export interface EnsembleOptions {
  readonly replicas: number;
  readonly observers: number;
  readonly base_port: number;
  /** Root of the members' directories; undefined = a fresh directory under the OS temp dir. */
  readonly data_dir: string | undefined;
  /** zoo.cfg lines appended to every member's config. */
  readonly config_file: string | undefined;
  /** Write the files and print the plan; start nothing. */
  readonly dry_run: boolean;
}

export type CliCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'server'; readonly config_file: string | undefined; readonly flags: ConfigFlags }
  | ({ readonly kind: 'ensemble' } & EnsembleOptions);

/** Wrong usage: the message is printed after "waitfree: " and the exit code is 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const COMMANDS = ['server', 'ensemble', 'shell', 'check', 'help'] as const;

/** `--port` → `port` for parseArgs, with the field it sets. */
const CONFIG_FLAGS: readonly { readonly option: string; readonly field: ConfigField }[] = CONFIG_KEYS.filter(
  (k) => k.flag !== undefined,
).map((k) => ({ option: k.flag!.replace(/^--/, ''), field: k.field }));

type Options = NonNullable<ParseArgsConfig['options']>;

const GLOBAL_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
};

const SERVER_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string', short: 'c' },
  ...Object.fromEntries(CONFIG_FLAGS.map((f) => [f.option, { type: 'string' as const }])),
};

const ENSEMBLE_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  replicas: { type: 'string' },
  observers: { type: 'string' },
  'base-port': { type: 'string' },
  'data-dir': { type: 'string' },
  config: { type: 'string', short: 'c' },
  'dry-run': { type: 'boolean' },
};

export const ENSEMBLE_DEFAULTS = { replicas: 3, observers: 0, base_port: 2181 } as const;

interface ParseArgsError {
  code?: string;
  message: string;
}

/** Turns node:util's parse errors into our wording, with a suggestion for a mistyped flag. */
function usageErrorFrom(e: unknown, options: Options, where: string): UsageError {
  const err = e as ParseArgsError;
  const at = where === '' ? '' : `${where}: `;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(err.message)?.[1] ?? '?';
    const names = Object.keys(options).map((o) => `--${o}`);
    const hint = closest(flag, names);
    return new UsageError(`${at}unknown option ${flag}${hint ? ` (did you mean ${hint}?)` : ''}; see waitfree --help`);
  }
  return new UsageError(`${at}${err.message ?? String(e)}`);
}

function parse(args: readonly string[], options: Options, where: string, positionals: boolean) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals });
  } catch (e) {
    throw usageErrorFrom(e, options, where);
  }
}

export function parseCli(argv: readonly string[]): CliCommand {
  const first_positional = argv.findIndex((a) => !a.startsWith('-'));
  const global_args = first_positional === -1 ? argv : argv.slice(0, first_positional);
  const { values } = parse(global_args, GLOBAL_OPTIONS, '', false);
  if (values['help']) return { kind: 'help' };
  if (values['version']) return { kind: 'version' };
  if (first_positional === -1) throw new UsageError('no command given; try waitfree server, or waitfree --help');
  const command = argv[first_positional]!;
  const rest = argv.slice(first_positional + 1);
  if (command === 'help') return { kind: 'help' };
  if (command === 'server') return parseServer(rest);
  if (command === 'ensemble') return parseEnsemble(rest);
  const hint = closest(command, COMMANDS);
  throw new UsageError(`unknown command ${JSON.stringify(command)}${hint ? ` (did you mean ${hint}?)` : ''}; see waitfree --help`);
}

function parseServer(args: readonly string[]): CliCommand {
  const { values } = parse(args, SERVER_OPTIONS, 'server', false);
  if (values['help']) return { kind: 'help' };
  const flags: { [F in ConfigField]?: string } = {};
  for (const f of CONFIG_FLAGS) {
    const v = values[f.option];
    if (typeof v === 'string') flags[f.field] = v;
  }
  const config = values['config'];
  return { kind: 'server', config_file: typeof config === 'string' ? config : undefined, flags };
}

/** A decimal integer flag value in [min, max], or a UsageError naming the flag. */
function intOption(value: unknown, flag: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const text = String(value);
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`ensemble: ${flag} ${JSON.stringify(text)} is not an integer in ${min}..${max}`);
  return n;
}

function parseEnsemble(args: readonly string[]): CliCommand {
  const { values } = parse(args, ENSEMBLE_OPTIONS, 'ensemble', false);
  if (values['help']) return { kind: 'help' };
  // Wider bounds than the layout's: ensemble_layout.ts checks counts and ports with its reasons.
  const replicas = intOption(values['replicas'], '--replicas', ENSEMBLE_DEFAULTS.replicas, 1, 255);
  const observers = intOption(values['observers'], '--observers', ENSEMBLE_DEFAULTS.observers, 0, 255);
  const base_port = intOption(values['base-port'], '--base-port', ENSEMBLE_DEFAULTS.base_port, 1, 65535);
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return {
    kind: 'ensemble',
    replicas,
    observers,
    base_port,
    data_dir: str(values['data-dir']),
    config_file: str(values['config']),
    dry_run: values['dry-run'] === true,
  };
}
