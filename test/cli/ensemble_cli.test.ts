// `waitfree ensemble`: argument parsing, the files a dry run writes (each member's zoo.cfg loads
// into the EnsembleConfig it should), reuse of a directory, and the output prefixer. No server is
// started here: the replication wiring is not there yet (test/support/ensemble.ts will).

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../../src/cli/args.js';
import { LinePrefixer, WAITFREE_BIN } from '../../src/cli/ensemble.js';
import { main, type CliDeps } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'waitfree-ensemble-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseCli ensemble', () => {
  it('defaults: 3 replicas, no observers, base port 2181, a fresh temp dir', () => {
    expect(parseCli(['ensemble'])).toEqual({
      kind: 'ensemble',
      replicas: 3,
      observers: 0,
      base_port: 2181,
      data_dir: undefined,
      config_file: undefined,
      dry_run: false,
    });
  });

  it('every option', () => {
    const argv = ['ensemble', '--replicas', '5', '--observers=2', '--base-port', '12000', '--data-dir', '/x', '-c', 'extra.cfg', '--dry-run'];
    expect(parseCli(argv)).toEqual({ kind: 'ensemble', replicas: 5, observers: 2, base_port: 12000, data_dir: '/x', config_file: 'extra.cfg', dry_run: true });
    expect(parseCli(['ensemble', '--help'])).toEqual({ kind: 'help' });
  });

  it('bad values and unknown options are usage errors naming the option', () => {
    expect(() => parseCli(['ensemble', '--replicas', '0'])).toThrow(new UsageError('ensemble: --replicas "0" is not an integer in 1..255'));
    expect(() => parseCli(['ensemble', '--observers', '-1'])).toThrow(UsageError);
    expect(() => parseCli(['ensemble', '--base-port', '2181x'])).toThrow('ensemble: --base-port "2181x" is not an integer in 1..65535');
    expect(() => parseCli(['ensemble', '--replica', '3'])).toThrow('ensemble: unknown option --replica (did you mean --replicas?)');
    expect(() => parseCli(['ensembel'])).toThrow('unknown command "ensembel" (did you mean ensemble?)');
  });
});

/** main() with captured output; no signals, no exits. */
function harness(): { deps: Partial<CliDeps>; out: string[]; err: string[] } {
  const h = { out: [] as string[], err: [] as string[], deps: {} as Partial<CliDeps> };
  h.deps = {
    stdout: (t) => void h.out.push(t),
    stderr: (t) => void h.err.push(t),
    onSignal: () => () => {},
    exit: ((code: number) => {
      throw new Error(`exit ${code}`);
    }) as CliDeps['exit'],
  };
  return h;
}

describe('waitfree ensemble --dry-run', () => {
  it('writes r1..rN (zoo.cfg, data/myid), prints the plan and the connect string, starts nothing', async () => {
    const root = join(dir, 'plan');
    const h = harness();
    const code = await main(['ensemble', '--dry-run', '--data-dir', root, '--observers', '1', '--base-port', '12181'], h.deps);
    expect(h.err).toEqual([]);
    expect(code).toBe(0);
    const out = h.out.join('');
    expect(out).toContain(`waitfree ensemble: 3 participants + 1 observer in ${root}\n`);
    expect(out).toContain('  r4  server.4  observer     client 12184  quorum 13187  election 13188  admin 14184');
    expect(out).toContain('connect string: 127.0.0.1:12181,127.0.0.1:12182,127.0.0.1:12183,127.0.0.1:12184\n');
    expect(out).toContain('dry run: files written, nothing started\n');
    for (let sid = 1; sid <= 4; sid++) {
      expect(readFileSync(join(root, `r${sid}`, 'data', 'myid'), 'utf8')).toBe(`${sid}\n`);
    }
  });

  it("each member's zoo.cfg loads into its EnsembleConfig: own sid, own ports, same members", () => {
    const root = join(dir, 'plan');
    const expected_members = [0, 1, 2, 3].map((i) => ({
      sid: i + 1,
      host: '127.0.0.1',
      quorum_port: 13181 + 2 * i,
      election_port: 13182 + 2 * i,
      role: i < 3 ? 'participant' : 'observer',
      client_host: '127.0.0.1',
      client_port: 12181 + i,
    }));
    for (let sid = 1; sid <= 4; sid++) {
      const { config, warnings } = loadConfig({ file: join(root, `r${sid}`, 'zoo.cfg') });
      expect(warnings).toEqual([]);
      expect(config.ensemble).toEqual({ my_sid: sid, members: expected_members, init_limit_ticks: 10, sync_limit_ticks: 5, read_only_mode_enabled: false });
      expect(config).toMatchObject({
        server_id: sid,
        client_port: 12180 + sid,
        client_port_address: '127.0.0.1',
        admin_server_port: 14180 + sid,
        data_dir: join(root, `r${sid}`, 'data'),
        peer_type: sid === 4 ? 'observer' : 'participant',
      });
    }
  });

  it('a reused --data-dir keeps its data; a myid of another layout is refused', async () => {
    const root = join(dir, 'reuse');
    expect(await main(['ensemble', '--dry-run', '--data-dir', root], harness().deps)).toBe(0);
    const kept = join(root, 'r2', 'data', 'log.0000000000000001');
    writeFileSync(kept, 'data');
    expect(await main(['ensemble', '--dry-run', '--data-dir', root, '--base-port', '13000'], harness().deps)).toBe(0);
    expect(readFileSync(kept, 'utf8')).toBe('data');
    expect(readFileSync(join(root, 'r2', 'zoo.cfg'), 'utf8')).toContain('clientPort=13001\n');
    writeFileSync(join(root, 'r3', 'data', 'myid'), '1\n');
    const h = harness();
    expect(await main(['ensemble', '--dry-run', '--data-dir', root], h.deps)).toBe(2);
    expect(h.err).toEqual([
      `waitfree ensemble: ${join(root, 'r3', 'data', 'myid')}: holds 1, but r3 is server.3: this directory was made for another ensemble\n`,
    ]);
  });

  it('--config appends lines to every member (they win); keys the layout owns are refused with file:line', async () => {
    const extra = join(dir, 'extra.cfg');
    writeFileSync(extra, '# faster ticks for tests\ntickTime=500\nsyncLimit=3\n');
    const root = join(dir, 'extra');
    expect(await main(['ensemble', '--dry-run', '--data-dir', root, '-c', extra], harness().deps)).toBe(0);
    const { config } = loadConfig({ file: join(root, 'r1', 'zoo.cfg') });
    expect(config.tick_time_ms).toBe(500);
    expect(config.ensemble?.sync_limit_ticks).toBe(3);
    for (const [line, key] of [
      ['server.9=127.0.0.1:1:2', 'server.9'],
      ['dataDir=/elsewhere', 'dataDir'],
      ['zookeeper.admin.serverPort=9999', 'zookeeper.admin.serverPort'],
      ['peerType=observer', 'peerType'],
    ] as const) {
      writeFileSync(extra, `tickTime=500\n${line}\n`);
      const h = harness();
      expect(await main(['ensemble', '--dry-run', '--data-dir', join(dir, 'refused'), '-c', extra], h.deps)).toBe(2);
      expect(h.err).toEqual([`waitfree ensemble: ${extra}:2: ${key}: set by the ensemble layout for each member; remove it from the extra config\n`]);
    }
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });

  it('an unreadable extra config, too many members or a base port too high exit 2 before writing anything', async () => {
    const cases: [string[], string][] = [
      [['-c', join(dir, 'missing.cfg')], `cannot read config file ${join(dir, 'missing.cfg')}: ENOENT`],
      [['--replicas', '30', '--observers', '3'], 'replicas + observers: 33 members is more than 32 (one machine runs them all)'],
      [['--base-port', '63600'], 'base port 63600: the ports of 3 members run up to base + 2002; use a base port in 1..63533'],
    ];
    for (const [args, message] of cases) {
      const h = harness();
      expect(await main(['ensemble', '--dry-run', '--data-dir', join(dir, 'never'), ...args], h.deps)).toBe(2);
      expect(h.err).toEqual([`waitfree ensemble: ${message}\n`]);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('one replica is an ensemble of one (standaloneEnabled=false), not a standalone server', async () => {
    const root = join(dir, 'one');
    expect(await main(['ensemble', '--dry-run', '--data-dir', root, '--replicas', '1'], harness().deps)).toBe(0);
    expect(loadConfig({ file: join(root, 'r1', 'zoo.cfg') }).config.ensemble?.members).toHaveLength(1);
  });

  it('without --data-dir, a fresh directory under the OS temp dir is made and printed', async () => {
    const h = harness();
    expect(await main(['ensemble', '--dry-run', '--base-port', '15000'], h.deps)).toBe(0);
    const made = /in (\S+)\n/.exec(h.out.join(''))?.[1];
    expect(made).toBeDefined();
    expect(made!.startsWith(join(tmpdir(), 'waitfree-ensemble-'))).toBe(true);
    expect(existsSync(join(made!, 'r3', 'zoo.cfg'))).toBe(true);
    rmSync(made!, { recursive: true, force: true });
  });
});

describe('child output', () => {
  it('every line gets its member prefix, however the chunks split it', () => {
    const got: string[] = [];
    const p = new LinePrefixer('[r2] ', (t) => got.push(t));
    p.push('waitfree list');
    p.push('ening on 127.0.0.1:2182\nsecond\nthi');
    p.push('rd');
    p.end();
    p.end();
    expect(got.join('')).toBe('[r2] waitfree listening on 127.0.0.1:2182\n[r2] second\n[r2] third\n');
  });

  it('a very long unterminated line is passed on instead of growing without bound', () => {
    const got: string[] = [];
    const p = new LinePrefixer('[r1] ', (t) => got.push(t));
    p.push('x'.repeat(70 * 1024));
    expect(got).toHaveLength(1);
    expect(got[0]!.length).toBe(5 + 70 * 1024 + 1);
  });

  it('children run bin/waitfree.js of this repository, wherever the launcher is started from', () => {
    expect(WAITFREE_BIN).toBe(join(new URL('../..', import.meta.url).pathname, 'bin', 'waitfree.js'));
    expect(existsSync(WAITFREE_BIN)).toBe(true);
  });
});
