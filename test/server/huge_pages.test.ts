// The shared tree on transparent huge pages: the environment every launcher gives the server
// (serverEnv), bin/waitfree.js's shell preamble doing the same when it is executed directly, and
// the start-up line that says which pages the tree is on.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { hugePageState, serverEnv, tunableValue, type HugePageFacts } from '../../src/server/huge_pages.js';

const BIN = fileURLToPath(new URL('../../bin/waitfree.js', import.meta.url));

describe('serverEnv', () => {
  it('adds glibc.malloc.hugetlb=1 to GLIBC_TUNABLES, keeping the other tunables', () => {
    expect(serverEnv({ PATH: '/bin' })).toEqual({ PATH: '/bin', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
    expect(serverEnv({ GLIBC_TUNABLES: '' })['GLIBC_TUNABLES']).toBe('glibc.malloc.hugetlb=1');
    expect(serverEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })['GLIBC_TUNABLES']).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  });

  it('keeps a value the user chose, 0 included', () => {
    for (const t of ['glibc.malloc.hugetlb=0', 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2']) {
      expect(serverEnv({ GLIBC_TUNABLES: t })['GLIBC_TUNABLES']).toBe(t);
    }
  });

  it('does not change the environment it is given', () => {
    const env = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
    serverEnv(env);
    expect(env).toEqual({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' });
  });

  it('reads the tunable as glibc does: name=value pairs split by colons, the last one wins', () => {
    expect(tunableValue('')).toBeNull();
    expect(tunableValue('glibc.malloc.hugetlbx=1')).toBeNull();
    expect(tunableValue('glibc.malloc.hugetlb=1:glibc.malloc.hugetlb=0')).toBe('0');
  });
});

describe('hugePageState', () => {
  const madvise: HugePageFacts = { platform: 'linux', thp_enabled: 'always [madvise] never\n', tunables: 'glibc.malloc.hugetlb=1', glibc: '2.36' };

  it('is on with THP "madvise", the tunable and glibc >= 2.35', () => {
    expect(hugePageState(madvise).on).toBe(true);
    expect(hugePageState({ ...madvise, glibc: '2.35' }).on).toBe(true);
    expect(hugePageState({ ...madvise, glibc: '3.0' }).on).toBe(true);
  });

  it('says how to turn it on when the tunable is missing', () => {
    const s = hugePageState({ ...madvise, tunables: '' });
    expect(s.on).toBe(false);
    expect(s.why).toContain('GLIBC_TUNABLES=glibc.malloc.hugetlb=1');
  });

  it('is off for hugetlb=0, an older glibc, another libc, THP "never" or no THP', () => {
    expect(hugePageState({ ...madvise, tunables: 'glibc.malloc.hugetlb=0' }).on).toBe(false);
    expect(hugePageState({ ...madvise, glibc: '2.34' }).on).toBe(false);
    expect(hugePageState({ ...madvise, glibc: null }).on).toBe(false);
    expect(hugePageState({ ...madvise, thp_enabled: 'always madvise [never]\n' }).on).toBe(false);
    expect(hugePageState({ ...madvise, thp_enabled: null }).on).toBe(false);
    expect(hugePageState({ ...madvise, platform: 'darwin' }).on).toBe(false);
  });

  it('is on with THP "always" whatever the tunable says', () => {
    expect(hugePageState({ ...madvise, thp_enabled: '[always] madvise never\n', tunables: '' }).on).toBe(true);
  });
});

describe('bin/waitfree.js executed directly', () => {
  let dir = '';
  const pids: number[] = [];
  afterEach(() => {
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `bin/waitfree.js server` (the file itself, as npm's bin link runs it) and waits until it listens. */
  async function startDirect(env: NodeJS.ProcessEnv): Promise<{ pid: number; output: string }> {
    dir = mkdtempSync(join(tmpdir(), 'waitfree-huge-pages-'));
    const child = spawn(BIN, ['server', '--port', '0', '--data-dir', join(dir, 'data')], { cwd: dir, env: { ...env, PATH: process.env['PATH'] }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error('could not spawn bin/waitfree.js');
    pids.push(child.pid);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening within 20 s:\n${output}`)), 20_000);
      const on = (b: Buffer): void => {
        output += b.toString('utf8');
        if (/waitfree: shared tree on .*\n/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
      child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    });
    return { pid: child.pid, output };
  }

  /** The start-up line this host gives a server whose GLIBC_TUNABLES are `tunables`. */
  function expectedLine(tunables: string): string {
    const thp_path = '/sys/kernel/mm/transparent_hugepage/enabled';
    const thp_enabled = existsSync(thp_path) ? readFileSync(thp_path, 'utf8') : null;
    const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
    const glibc = report.header?.glibcVersionRuntime ?? null;
    return `waitfree: shared tree on ${hugePageState({ platform: process.platform, thp_enabled, tunables, glibc }).why}\n`;
  }

  // glibc parses GLIBC_TUNABLES in place (/proc/PID/environ shows it cut at the first colon), so
  // what the server saw is checked through its own start-up line, which reads process.env.
  it.runIf(process.platform === 'linux')('the server runs with glibc.malloc.hugetlb=1 added, in the PID that was started', async () => {
    const { pid, output } = await startDirect({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' });
    // The shell preamble execs node: the PID a supervisor holds is the server's own.
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(readlinkSync('/proc/self/exe'));
    expect(output).toContain(expectedLine('glibc.malloc.arena_max=4:glibc.malloc.hugetlb=1'));
  });

  it.runIf(process.platform === 'linux')('a hugetlb value the user set is kept', async () => {
    const { output } = await startDirect({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' });
    expect(output).toContain(expectedLine('glibc.malloc.hugetlb=0'));
  });
});
