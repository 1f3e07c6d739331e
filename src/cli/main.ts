// `waitfree` entry point (bin/waitfree.js calls main). Exit codes: 0 ok, 1 runtime failure
// (cannot start, failed stop), 2 usage or configuration error. Side effects (output, signals,
// loading the server) come in through CliDeps so tests can drive main without a server.

import { fullVersion } from '../admin/four_letter.js';
import { ConfigError } from '../config/config_error.js';
import { loadConfig } from '../config/load.js';
import type { ServerConfig } from '../config/server_config.js';
import { currentHugePageState } from '../server/huge_pages.js';
import { parseCli, UsageError, type CliCommand } from './args.js';
import { helpText } from './help.js';
import { buildTime, packageVersion } from './version.js';

/** The lead's src/server/server.ts contract. */
export interface RunningServer {
  readonly port: number;
  /** The secure client port bound; -1 or absent when there is none. */
  readonly secure_port?: number;
  /** The admin HTTP server (/commands, /metrics) when it runs, and on which backend. */
  readonly admin?: { readonly address: string; readonly port: number; readonly backend: string } | null;
  stop(): Promise<void>;
}
export type StartServer = (config: ServerConfig) => Promise<RunningServer>;

export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface CliDeps {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Loads startServer; default: dynamic import of ../server/server.js. */
  loadServer(): Promise<StartServer>;
  /** Calls `handler` on every SIGINT/SIGTERM until the returned function is called. */
  onSignal(handler: (signal: StopSignal) => void): () => void;
  /** Immediate exit (second signal while stopping). */
  exit(code: number): never;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Loaded lazily: `--help` and config errors should not start worker machinery. */
async function importServer(): Promise<StartServer> {
  try {
    const mod = await import('../server/server.js');
    return mod.startServer;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') throw new Error('the server module (dist/server/server.js) is missing: run `npm run build`');
    throw e;
  }
}

function processSignals(handler: (signal: StopSignal) => void): () => void {
  const on_int = () => handler('SIGINT');
  const on_term = () => handler('SIGTERM');
  process.on('SIGINT', on_int);
  process.on('SIGTERM', on_term);
  return () => {
    process.off('SIGINT', on_int);
    process.off('SIGTERM', on_term);
  };
}

export const PROCESS_DEPS: CliDeps = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  loadServer: importServer,
  onSignal: processSignals,
  exit: (code) => process.exit(code),
};

export async function main(argv: readonly string[], overrides: Partial<CliDeps> = {}): Promise<number> {
  const deps: CliDeps = { ...PROCESS_DEPS, ...overrides };
  if (argv[0] === 'shell') {
    const { runShell } = await import('./shell.js');
    return runShell(argv.slice(1), { stdout: deps.stdout, stderr: deps.stderr, stdin: process.stdin, stdinIsTTY: process.stdin.isTTY === true });
  }
  if (argv[0] === 'check') {
    const { runCheckCommand } = await import('../check/cli.js');
    return runCheckCommand(argv.slice(1), { stdout: deps.stdout, stderr: deps.stderr });
  }
  let command: CliCommand;
  try {
    command = parseCli(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    deps.stderr(`waitfree: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (command.kind === 'help') {
    deps.stdout(helpText());
    return EXIT_OK;
  }
  if (command.kind === 'version') {
    deps.stdout(`waitfree ${packageVersion()} (ZooKeeper ${fullVersion(packageVersion(), buildTime())})\n`);
    return EXIT_OK;
  }
  if (command.kind === 'ensemble') {
    const { runEnsemble } = await import('./ensemble.js');
    return runEnsemble(command, { stdout: deps.stdout, stderr: deps.stderr, onSignal: deps.onSignal });
  }
  return runServer(command, deps);
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Resolves with the first stop signal. */
function firstSignal(deps: CliDeps): { signal: Promise<StopSignal>; dispose: () => void } {
  let seen: StopSignal | undefined;
  let resolve!: (s: StopSignal) => void;
  const signal = new Promise<StopSignal>((r) => (resolve = r));
  const dispose = deps.onSignal((s) => {
    if (seen !== undefined) {
      deps.stderr(`waitfree: ${s} again while stopping; exiting now\n`);
      deps.exit(128 + (s === 'SIGINT' ? 2 : 15));
    }
    seen = s;
    resolve(s);
  });
  return { signal, dispose };
}

async function runServer(command: Extract<CliCommand, { kind: 'server' }>, deps: CliDeps): Promise<number> {
  let config: ServerConfig;
  try {
    const loaded = loadConfig({ file: command.config_file, flags: command.flags });
    config = loaded.config;
    for (const w of loaded.warnings) deps.stderr(`waitfree: warning: ${w}\n`);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    deps.stderr(`waitfree: ${e.message}\n`);
    return EXIT_USAGE;
  }
  // --native=false reaches the modules that pick a native addon when they load (CRC-32C in
  // src/log/) through the environment, which worker threads inherit.
  if (!config.native) process.env['WAITFREE_NATIVE'] = 'false';
  // Subscribe before starting so a signal during start-up is not lost (it stops right after).
  const { signal, dispose } = firstSignal(deps);
  try {
    return await serveUntilSignal(config, deps, signal);
  } finally {
    dispose();
  }
}

/** Where TLS clients connect, for the start-up log: '' when nowhere. */
function tlsPorts(config: ServerConfig, server: RunningServer): string {
  const ports: string[] = [];
  if (server.secure_port !== undefined && server.secure_port !== -1) {
    ports.push(`${hostPort(config.secure_client_port_address || config.client_port_address, server.secure_port)} (secureClientPort)`);
  }
  if (config.client_port_unification) ports.push(`${hostPort(config.client_port_address, server.port)} (client.portUnification: plain clients too)`);
  return ports.join(' and ');
}

async function serveUntilSignal(config: ServerConfig, deps: CliDeps, signal: Promise<StopSignal>): Promise<number> {
  let server: RunningServer;
  try {
    const start = await deps.loadServer();
    server = await start(config);
  } catch (e) {
    deps.stderr(`waitfree: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_FAILURE;
  }
  const where = hostPort(config.client_port_address, server.port);
  deps.stdout(`waitfree listening on ${where} (read workers: ${config.read_workers}, data dir: ${config.data_dir})\n`);
  const tls_ports = tlsPorts(config, server);
  if (tls_ports !== '') deps.stderr(`waitfree: TLS clients on ${tls_ports}\n`);
  // How this process was launched decides it (a glibc tunable read at exec): say which, once.
  deps.stderr(`waitfree: shared tree on ${currentHugePageState().why}\n`);
  if (server.admin) {
    const url = `http://${hostPort(server.admin.address, server.admin.port)}`;
    deps.stdout(`waitfree admin API on ${url}/commands and ${url}/metrics (${server.admin.backend})\n`);
  }
  // Signal listeners do not keep Node alive; the server's own handles might be unref'd.
  const keep_alive = setInterval(() => {}, 1 << 30);
  const s = await signal.finally(() => clearInterval(keep_alive));
  deps.stderr(`waitfree: ${s} received, stopping\n`);
  try {
    await server.stop();
  } catch (e) {
    deps.stderr(`waitfree: stop failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}
