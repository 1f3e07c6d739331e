import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOUR_LETTER_WORDS } from '../../src/admin/four_letter.js';
import { parseCli, UsageError } from '../../src/cli/args.js';
import { main, type CliDeps, type RunningServer, type StopSignal } from '../../src/cli/main.js';
import { IGNORED_KEYS } from '../../src/config/ignored_keys.js';
import { CONFIG_KEYS, DEFAULT_CONFIG, type ServerConfig } from '../../src/config/server_config.js';
import { currentHugePageState } from '../../src/server/huge_pages.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'waitfree-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseCli', () => {
  it('maps server flags to config fields', () => {
    expect(parseCli(['server', '--port', '2182', '--data-dir', '/d', '--read-workers', '3', '--host', '0.0.0.0', '-c', 'z.cfg'])).toEqual({
      kind: 'server',
      config_file: 'z.cfg',
      flags: { client_port: '2182', data_dir: '/d', read_workers: '3', client_port_address: '0.0.0.0' },
    });
    expect(parseCli(['server', '--port=0'])).toEqual({ kind: 'server', config_file: undefined, flags: { client_port: '0' } });
    expect(parseCli(['server', '--native=false', '--admin-port', '9999'])).toEqual({
      kind: 'server',
      config_file: undefined,
      flags: { native: 'false', admin_server_port: '9999' },
    });
  });

  it('help and version', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['server', '--help'], ['server', '-h']]) expect(parseCli(argv)).toEqual({ kind: 'help' });
    expect(parseCli(['--version'])).toEqual({ kind: 'version' });
  });

  it('an unknown flag is a usage error that suggests the closest flag', () => {
    expect(() => parseCli(['server', '--prot', '1'])).toThrow(UsageError);
    expect(() => parseCli(['server', '--prot', '1'])).toThrow('server: unknown option --prot (did you mean --port?); see waitfree --help');
    expect(() => parseCli(['server', '--data-dri', 'x'])).toThrow('did you mean --data-dir?');
    expect(() => parseCli(['--bogus'])).toThrow('unknown option --bogus; see waitfree --help');
  });

  it('a flag without its value, a stray argument, an unknown or missing command are usage errors', () => {
    expect(() => parseCli(['server', '--port'])).toThrow(/--port <value>' argument missing/);
    expect(() => parseCli(['server', 'extra'])).toThrow(/Unexpected argument 'extra'/);
    expect(() => parseCli(['serve'])).toThrow('unknown command "serve" (did you mean server?)');
    expect(() => parseCli([])).toThrow(/no command given/);
  });
});

interface Harness {
  deps: Partial<CliDeps>;
  out: string[];
  err: string[];
  started: ServerConfig[];
  stops: number;
  signal(s: StopSignal): void;
  exits: number[];
}

/** main() with a fake server and fake signals: nothing listens, nothing exits. */
function harness(start_error?: Error): Harness {
  let handler: ((s: StopSignal) => void) | undefined;
  const h: Harness = {
    out: [],
    err: [],
    started: [],
    stops: 0,
    exits: [],
    signal: (s) => handler?.(s),
    deps: {},
  };
  h.deps = {
    stdout: (t) => void h.out.push(t),
    stderr: (t) => void h.err.push(t),
    loadServer: async () => async (config: ServerConfig): Promise<RunningServer> => {
      if (start_error) throw start_error;
      h.started.push(config);
      return { port: config.client_port === 0 ? 40123 : config.client_port, stop: async () => void h.stops++ };
    },
    onSignal: (f) => {
      handler = f;
      return () => (handler = undefined);
    },
    exit: ((code: number) => {
      h.exits.push(code);
      throw new Error(`exit ${code}`);
    }) as CliDeps['exit'],
  };
  return h;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition never held');
}

describe('main', () => {
  it('runs the server with the merged config, prints one listening line, stops on SIGTERM and exits 0', async () => {
    const h = harness();
    const cfg = join(dir, 'run.cfg');
    writeFileSync(cfg, 'tickTime=1000\nleaderServes=yes\nclientPort=9999\n');
    const code = main(['server', '--config', cfg, '--port', '0', '--data-dir', '/tmp/wf-data', '--read-workers', '2'], h.deps);
    await until(() => h.out.length > 0);
    expect(h.out).toEqual(['waitfree listening on 127.0.0.1:40123 (read workers: 2, data dir: /tmp/wf-data)\n']);
    expect(h.err).toEqual([
      `waitfree: warning: ${cfg}:2: leaderServes is accepted, not used yet (waitfree's replication does not use this key)\n`,
      `waitfree: shared tree on ${currentHugePageState().why}\n`,
    ]);
    expect(h.started[0]).toMatchObject({ tick_time_ms: 1000, client_port: 0, read_workers: 2, data_dir: '/tmp/wf-data' });
    expect(h.stops).toBe(0);
    h.signal('SIGTERM');
    expect(await code).toBe(0);
    expect(h.stops).toBe(1);
  });

  it('prints where the admin API listens, and on which backend, when the server runs it', async () => {
    const h = harness();
    h.deps.loadServer = async () => async (): Promise<RunningServer> => ({
      port: 2181,
      admin: { address: '127.0.0.1', port: 8080, backend: 'node:http' },
      stop: async () => {},
    });
    const code = main(['server'], h.deps);
    await until(() => h.out.length > 1);
    expect(h.out[1]).toBe('waitfree admin API on http://127.0.0.1:8080/commands and http://127.0.0.1:8080/metrics (node:http)\n');
    h.signal('SIGTERM');
    expect(await code).toBe(0);
  });

  it('prints IPv6 listen addresses in brackets', async () => {
    const h = harness();
    const code = main(['server', '--host', '::1', '--port', '2190'], h.deps);
    await until(() => h.out.length > 0);
    expect(h.out[0]).toMatch(/^waitfree listening on \[::1\]:2190 /);
    h.signal('SIGINT');
    expect(await code).toBe(0);
  });

  it('a second signal while stopping exits at once', async () => {
    const h = harness();
    let release!: () => void;
    h.deps.loadServer = async () => async (config: ServerConfig) => ({
      port: config.client_port,
      stop: () => new Promise<void>((r) => (release = r)),
    });
    const code = main(['server'], h.deps);
    await until(() => h.out.length > 0);
    h.signal('SIGINT');
    await until(() => release !== undefined);
    expect(() => h.signal('SIGINT')).toThrow('exit 130');
    expect(h.exits).toEqual([130]);
    release();
    expect(await code).toBe(0);
  });

  it('a bad config exits 2 with the ConfigError message and starts nothing', async () => {
    const h = harness();
    expect(await main(['server', '--port', 'abc'], h.deps)).toBe(2);
    expect(h.err).toEqual(['waitfree: clientPort (--port): "abc" is not an integer\n']);
    const cfg = join(dir, 'bad.cfg');
    const data = join(dir, 'no-myid');
    writeFileSync(cfg, `dataDir=${data}\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n`);
    expect(await main(['server', '-c', cfg], h.deps)).toBe(2);
    expect(h.err[1]).toBe(
      `waitfree: ${join(data, 'myid')}: myid file is missing: the server.N lines (${cfg}:2) make this server an ensemble member, which needs its id (one of 1, 2) in dataDir/myid, or set waitfree.myid (--myid)\n`,
    );
    expect(h.started).toEqual([]);
  });

  it('a bad flag exits 2', async () => {
    const h = harness();
    expect(await main(['server', '--portt', '1'], h.deps)).toBe(2);
    expect(h.err.join('')).toBe('waitfree: server: unknown option --portt (did you mean --port?); see waitfree --help\n');
  });

  it('a failure to start exits 1 with the reason', async () => {
    const h = harness(new Error('listen EADDRINUSE: address already in use 127.0.0.1:2181'));
    expect(await main(['server'], h.deps)).toBe(1);
    expect(h.err).toEqual(['waitfree: cannot start: listen EADDRINUSE: address already in use 127.0.0.1:2181\n']);
  });
});

describe('bin/waitfree.js (compiled)', () => {
  // dist/ is built by `npm test` before vitest starts. Tests never rebuild it: other test files
  // run workers from dist/ at the same time, and a rebuild under them breaks their imports.
  beforeAll(() => {
    expect(existsSync(join(ROOT, 'dist/cli/main.js')), 'dist/ is missing: run `npm run build`').toBe(true);
  });

  function run(args: string[]) {
    return spawnSync(process.execPath, [join(ROOT, 'bin/waitfree.js'), ...args], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  }

  it('--help lists every flag, every config key and alias, the ignored keys, the four-letter words and the environment variables', () => {
    for (const argv of [['--help'], ['server', '--help']]) {
      const r = run(argv);
      expect(r.status).toBe(0);
      for (const flag of ['--config', '--port', '--host', '--data-dir', '--read-workers', '--help']) expect(r.stdout).toContain(flag);
      for (const k of CONFIG_KEYS) {
        expect(r.stdout).toContain(`  ${k.name}=`);
        for (const a of k.aliases) expect(r.stdout).toContain(a);
      }
      for (const k of IGNORED_KEYS) expect(r.stdout).toContain(k.name);
      for (const w of FOUR_LETTER_WORDS) expect(r.stdout).toContain(`  ${w.word}  `);
      for (const variable of ['GLIBC_TUNABLES', 'WAITFREE_NATIVE']) expect(r.stdout).toContain(`  ${variable} `);
    }
  });

  it('a bad flag exits 2 with a message on stderr', () => {
    const r = run(['server', '--prot', '2181']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('waitfree: server: unknown option --prot (did you mean --port?); see waitfree --help\n');
    expect(r.stdout).toBe('');
  });

  it('a bad config file exits 2 naming the file, line and key', () => {
    const cfg = join(dir, 'typo.cfg');
    writeFileSync(cfg, 'tickTime=2000\nclientPotr=2181\n');
    const r = run(['server', '--config', cfg]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`waitfree: ${cfg}:2: unknown configuration key clientPotr (did you mean clientPort?)\n`);
  });

  it('--version prints the package version, and ZooKeeper\'s full version with the build time', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const r = run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^waitfree ${version} \\(ZooKeeper 3\\.9\\.4-waitfree-${version}, built on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\)\\n$`));
  });

  it('stops on a real SIGTERM: calls stop() and exits 0', async () => {
    // The real server may not be built yet: a script runs the compiled main with a stand-in server.
    const script = join(dir, 'signal.mjs');
    const main_url = pathToFileURL(join(ROOT, 'dist/cli/main.js')).href;
    writeFileSync(
      script,
      [
        `const { main } = await import(${JSON.stringify(main_url)});`,
        'const loadServer = async () => async (config) => ({',
        '  port: 45678,',
        "  stop: async () => { process.stdout.write('stopped\\n'); },",
        '});',
        "process.exitCode = await main(['server', '--port', '0'], { loadServer });",
      ].join('\n'),
    );
    const child = spawn(process.execPath, [script], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!killed && out.includes('listening')) killed = child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(out).toBe(`waitfree listening on 127.0.0.1:45678 (read workers: ${DEFAULT_CONFIG.read_workers}, data dir: ./data)\nstopped\n`);
    // The child has this process's environment, so the same pages.
    expect(err).toBe(`waitfree: shared tree on ${currentHugePageState().why}\nwaitfree: SIGTERM received, stopping\n`);
    expect(code).toBe(0);
  }, 20_000);
});
