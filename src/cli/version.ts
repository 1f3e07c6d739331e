// waitfree's own version, read from package.json (two levels up from both src/cli and dist/cli),
// and when this build was made.

import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    cached = '0.0.0';
  }
  return cached;
}

let cached_built: Date | undefined;

/**
 * When this build was made: the modification time of this compiled module (the build writes
 * every file of dist/). ZooKeeper prints its build time after its version ("built on"), and
 * clients parse it; unknown (the file cannot be read), the time the process started.
 */
export function buildTime(): Date {
  if (cached_built !== undefined) return cached_built;
  try {
    cached_built = statSync(fileURLToPath(import.meta.url)).mtime;
  } catch {
    cached_built = new Date(Date.now() - process.uptime() * 1000);
  }
  return cached_built;
}
