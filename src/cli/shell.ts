// `waitfree shell [connect string] [-c COMMANDS]... [-i] [--session-timeout MS]`: a zkCli-like
// shell on the waitfree client. Three ways to use it:
// - `-c "ls /; get /a"`: runs the commands and exits (scripts);
// - commands on stdin when it is not a terminal: same, one command per line;
// - interactive (a terminal, or -i): a prompt, history, watches printing as events arrive.
// Scripts stop at the first failing command (exit 1), like `sh -e`; the interactive shell reports
// the error and goes on. Exit codes: 0 ok, 1 a command failed or no connection, 2 bad usage.

import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ZooKeeperClient } from '../client/index.js';
import { runCommand, shellHelp, type ShellContext, type ShellWatch } from './shell_commands.js';
import { formatError } from './shell_format.js';
import { splitCommands, tokenize, ShellUsageError } from './shell_parse.js';

export interface ShellDeps {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: NodeJS.ReadableStream;
  /** stdin is a terminal: interactive unless commands were given with -c. */
  stdinIsTTY: boolean;
}

export const SHELL_USAGE = 'waitfree shell [host:port[,host:port...][/chroot]] [-c COMMANDS]... [-i] [--session-timeout MS]';

const DEFAULT_CONNECT = '127.0.0.1:2181';
const QUIT = new Set(['quit', 'exit', 'close']);

interface ShellArgs {
  connect: string;
  commands: string[];
  interactive: boolean;
  session_timeout_ms: number;
}

function parseShellArgs(argv: readonly string[]): ShellArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      command: { type: 'string', short: 'c', multiple: true },
      interactive: { type: 'boolean', short: 'i' },
      'session-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help';
  if (positionals.length > 1) throw new ShellUsageError(`one connect string expected, got ${positionals.length}`);
  const timeout = values['session-timeout'] ?? '30000';
  if (!/^\d+$/.test(timeout)) throw new ShellUsageError(`--session-timeout needs milliseconds, got ${JSON.stringify(timeout)}`);
  return {
    connect: positionals[0] ?? DEFAULT_CONNECT,
    commands: values.command ?? [],
    interactive: values.interactive === true,
    session_timeout_ms: Number(timeout),
  };
}

export async function runShell(argv: readonly string[], deps: ShellDeps): Promise<number> {
  let args: ShellArgs | 'help';
  try {
    args = parseShellArgs(argv);
  } catch (e) {
    deps.stderr(`waitfree shell: ${e instanceof Error ? e.message : String(e)}\nusage: ${SHELL_USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    deps.stdout(`usage: ${SHELL_USAGE}\n\n${shellHelp()}\n`);
    return 0;
  }
  let zk: ZooKeeperClient;
  try {
    zk = await ZooKeeperClient.connect(args.connect, { sessionTimeout_ms: args.session_timeout_ms, connectTimeout_ms: 10_000 });
  } catch (e) {
    deps.stderr(`waitfree shell: cannot connect to ${args.connect}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const ctx: ShellContext & { history: string[] } = {
    zk,
    out: (line) => deps.stdout(`${line}\n`),
    history: [],
    watches: new Map<string, ShellWatch>(),
  };
  try {
    if (args.commands.length > 0) return await runScript(ctx, args.commands.flatMap(splitCommands), deps);
    if (!args.interactive && !deps.stdinIsTTY) return await runScript(ctx, splitCommands(await readAll(deps.stdin)), deps);
    return await runInteractive(ctx, args.connect, deps);
  } finally {
    await Promise.all([...ctx.watches.values()].map((w) => w.stop().catch(() => undefined)));
    await zk.close();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs one command line; returns false when it failed (the error is printed). */
async function runLine(ctx: ShellContext & { history: string[] }, line: string, deps: ShellDeps): Promise<boolean> {
  ctx.history.push(line);
  try {
    await runCommand(ctx, tokenize(line));
    return true;
  } catch (e) {
    deps.stderr(`${formatError(e)}\n`);
    return false;
  }
}

async function runScript(ctx: ShellContext & { history: string[] }, commands: readonly string[], deps: ShellDeps): Promise<number> {
  for (const line of commands) {
    if (QUIT.has(line)) return 0;
    if (!(await runLine(ctx, line, deps))) return 1;
  }
  return 0;
}

async function runInteractive(ctx: ShellContext & { history: string[] }, connect: string, deps: ShellDeps): Promise<number> {
  // On a terminal readline edits the line, keeps the arrow-key history and redraws the prompt;
  // over a pipe (-i) the prompt is plain output.
  const tty = deps.stdinIsTTY;
  const rl = createInterface({ input: deps.stdin, terminal: tty, output: tty ? process.stdout : undefined, historySize: 1000 });
  const prompt = (): void => {
    const text = `[zk: ${connect}(${ctx.zk.state.toUpperCase()}) ${ctx.history.length}] `;
    if (!tty) return deps.stdout(text);
    rl.setPrompt(text);
    rl.prompt();
  };
  const off = ctx.zk.on('state', (e) => deps.stdout(`\nWATCHER::\nWatchedEvent state:${e.state} (${e.reason})\n`));
  deps.stdout(`Connected to ${ctx.zk.host ?? connect}, session 0x${ctx.zk.sessionId.toString(16)}. Type help for commands.\n`);
  try {
    prompt();
    for await (const raw of rl) {
      for (const line of splitCommands(raw)) {
        if (QUIT.has(line)) return 0;
        await runLine(ctx, line, deps);
      }
      prompt();
    }
    return 0;
  } finally {
    off();
    rl.close();
  }
}
