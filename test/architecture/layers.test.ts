// The folders of src/ are layers, and the imports say so. These rules failed before they were
// written down: src/bench (benchmark-only code) shipped in dist/ and imported the product's frame
// cutter, src/check imported the benchmark PRNG, the config loader and the net worker read the
// four-letter-word table from admin/. A violation names the file and the import.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every relative import or re-export of a file (type-only ones too: a layer is a layer), as
 *  repo-relative paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)';/gms)) {
    out.push(relative(ROOT, join(dirname(file), m[1]!)));
  }
  return out;
}

const EDGES = sourceFiles(SRC).flatMap((f) => importsOf(f).map((to) => ({ from: relative(ROOT, f), to })));
const layer = (path: string): string => path.split('/').slice(0, 2).join('/');

/** The request path and what it stands on: none of it may reach up into the operator-facing
 *  layers (admin formatting, the supervisor, the CLI, the checker). */
const CORE = ['protocol', 'auth', 'tree', 'store', 'commit', 'log', 'snapshot', 'recovery', 'zab', 'quorum', 'replication', 'session', 'watch', 'ring', 'config', 'metrics'];
const UPPER = ['admin', 'server', 'cli', 'check'];

describe('layers of src/', () => {
  it('nothing in src/ imports benchmark or test code', () => {
    const bad = EDGES.filter((e) => !e.to.startsWith('src/'));
    expect(bad).toEqual([]);
  });

  it('the core imports nothing from admin/, server/, cli/ or check/', () => {
    const bad = EDGES.filter((e) => CORE.includes(layer(e.from).slice(4)) && UPPER.includes(layer(e.to).slice(4)));
    expect(bad).toEqual([]);
  });

  it('the worker threads reach admin/ only for the admin HTTP listener the net worker hosts', () => {
    const bad = EDGES.filter((e) => layer(e.from) === 'src/workers' && UPPER.includes(layer(e.to).slice(4)) && !e.to.startsWith('src/admin/http/'));
    expect(bad).toEqual([]);
  });

  it('the txn log and snapshots do not import each other both ways (the log imports no snapshot code)', () => {
    const bad = EDGES.filter((e) => layer(e.from) === 'src/log' && layer(e.to) === 'src/snapshot');
    expect(bad).toEqual([]);
  });

  it('src/ has no benchmark or test-launch folder', () => {
    const dirs = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(dirs).not.toContain('bench');
    expect(dirs).not.toContain('testing');
  });
});
