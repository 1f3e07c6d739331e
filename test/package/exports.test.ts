// Every entry of package.json "exports" points at a built file that loads and exports what its
// README promises (the "." entry once pointed at a file that did not exist).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string> };

describe('package exports', () => {
  it.each(Object.entries(pkg.exports))('%s -> %s exists and loads', async (_name, target) => {
    const file = join(ROOT, target);
    expect(existsSync(file)).toBe(true);
    const mod = (await import(file)) as Record<string, unknown>;
    expect(Object.keys(mod).length).toBeGreaterThan(0);
  });

  it('"." gives the server and the client', async () => {
    const mod = (await import(join(ROOT, pkg.exports['.']))) as Record<string, unknown>;
    expect(typeof mod['startServer']).toBe('function');
    expect(typeof mod['loadConfig']).toBe('function');
    expect(typeof mod['ZooKeeperClient']).toBe('function');
  });
});
