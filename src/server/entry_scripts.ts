// Which file a thread starts from: its bundle (dist/bundle/<name>.js, one file, built by
// rolldown.config.mjs from tsc's output) or its module (which imports ~30-40 others): the worker
// threads (net, shard, commit) and the command line's main thread (bin/waitfree.js). A worker
// starts with ~27 % less CPU from its bundle; the modules are always there and always current.
//
// Invariant: a bundle is used only if it is not older than the last compile. tsc rewrites
// dist/.tsbuildinfo whenever it emits anything, so a compile without a bundle step after it
// (`tsc -p tsconfig.json` alone) makes the threads load the new modules, never stale code. An
// installed package has no build info (it is not packed): its bundles are what it shipped.

import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type WorkerName = 'net_worker' | 'shard_worker' | 'commit_worker';
export type EntryName = WorkerName | 'cli';

/** Each entry's module under dist/ (the bundle is dist/bundle/<name>.js). */
const MODULES: Readonly<Record<EntryName, string>> = {
  net_worker: 'workers/net_worker.js',
  shard_worker: 'workers/shard_worker.js',
  commit_worker: 'workers/commit_worker.js',
  cli: 'cli/main.js',
};

/** dist/ (this module is dist/server/entry_scripts.js). */
const DIST = new URL('../', import.meta.url);

function mtimeMs(url: URL): number | null {
  try {
    return statSync(fileURLToPath(url)).mtimeMs;
  } catch {
    return null;
  }
}

/** The file entry `name` starts from under `dist` (a directory URL), and whether it is the bundle. */
export function entryScript(name: EntryName, dist: URL = DIST): { url: URL; bundled: boolean } {
  const bundle = new URL(`bundle/${name}.js`, dist);
  const bundled_ms = mtimeMs(bundle);
  const compiled_ms = mtimeMs(new URL('.tsbuildinfo', dist));
  if (bundled_ms !== null && (compiled_ms === null || bundled_ms >= compiled_ms)) return { url: bundle, bundled: true };
  return { url: new URL(MODULES[name], dist), bundled: false };
}
