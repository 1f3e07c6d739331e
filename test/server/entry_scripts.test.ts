// Which file each worker thread, and the command line, starts from (src/server/entry_scripts.ts): its bundle while the bundle
// is not older than the last compile, its module otherwise, so that a compile without a bundle
// step never leaves the workers on stale code. And the built dist/ itself: `npm run build` (which
// npm test runs) leaves every worker on its bundle, and a replica started from them serves.

import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { entryScript, type EntryName } from '../../src/server/entry_scripts.js';
import { connectClient, startTestServer } from './harness.js';

const root = mkdtempSync(join(tmpdir(), 'waitfree-worker-scripts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A dist/ with a module, optionally a bundle and build info, at the given mtimes (seconds). */
function fakeDist(name: string, at: { bundle?: number; build_info?: number }): URL {
  const dir = join(root, name);
  mkdirSync(join(dir, 'workers'), { recursive: true });
  mkdirSync(join(dir, 'bundle'), { recursive: true });
  writeFileSync(join(dir, 'workers', 'shard_worker.js'), '');
  if (at.bundle !== undefined) {
    writeFileSync(join(dir, 'bundle', 'shard_worker.js'), '');
    utimesSync(join(dir, 'bundle', 'shard_worker.js'), at.bundle, at.bundle);
  }
  if (at.build_info !== undefined) {
    writeFileSync(join(dir, '.tsbuildinfo'), '');
    utimesSync(join(dir, '.tsbuildinfo'), at.build_info, at.build_info);
  }
  return pathToFileURL(`${dir}/`);
}

const chosen = (dist: URL): string => {
  const s = entryScript('shard_worker', dist);
  return `${s.bundled ? 'bundle' : 'module'} ${s.url.pathname.slice(dist.pathname.length)}`;
};

describe('a worker script', () => {
  it('is the bundle when it is as new as the last compile or newer', () => {
    expect(chosen(fakeDist('fresh', { bundle: 2_000, build_info: 1_000 }))).toBe('bundle bundle/shard_worker.js');
    expect(chosen(fakeDist('same', { bundle: 1_000, build_info: 1_000 }))).toBe('bundle bundle/shard_worker.js');
  });

  it('is the module when a compile came after the bundle (a stale bundle is never run), or without a bundle', () => {
    expect(chosen(fakeDist('stale', { bundle: 1_000, build_info: 2_000 }))).toBe('module workers/shard_worker.js');
    expect(chosen(fakeDist('none', { build_info: 2_000 }))).toBe('module workers/shard_worker.js');
  });

  it('is the bundle in an installed package, which has no build info', () => {
    expect(chosen(fakeDist('installed', { bundle: 1_000 }))).toBe('bundle bundle/shard_worker.js');
  });
});

describe('the built dist/', () => {
  it('runs every worker and the command line from its bundle, and a replica started from them serves', async () => {
    const dist = new URL('../../dist/', import.meta.url);
    const names: EntryName[] = ['net_worker', 'shard_worker', 'commit_worker', 'cli'];
    expect(names.map((n) => entryScript(n, dist).bundled), 'bundles older than the last compile: run npm run build (npm test does)').toEqual([true, true, true, true]);
    const server = await startTestServer({ read_workers: 2 });
    try {
      const { client, response } = await connectClient(server.port);
      expect(response.timeOut).toBeGreaterThan(0);
      client.destroy();
    } finally {
      await server.stop();
    }
  });
});
