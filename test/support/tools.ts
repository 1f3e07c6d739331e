// Gates for suites that need external software (Apache ZooKeeper jars, zkCli.sh, cli_mt).
// Locally a missing tool skips the suite with a visible reason; in CI (CI env set) a missing tool
// is a failure, because CI installs them and a silent skip would hide a broken setup.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { CLI_MT_PATH, SLF4J_SIMPLE_JAR, ZKCLI_PATH, ZK_JAR } from './servers.js';

export const APACHE_ZK_FILES = [ZK_JAR, SLF4J_SIMPLE_JAR] as const;
export const ZKCLI_FILES = [ZKCLI_PATH, ZK_JAR] as const;
export const CLI_MT_FILES = [CLI_MT_PATH] as const;

export function inCi(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/** Paths (or `java` when absent from PATH) that are missing, for a skip reason. */
export function missingTools(paths: readonly string[], needJava = false): string[] {
  const missing = paths.filter((p) => !existsSync(p));
  if (needJava && !onPath('java')) missing.push('java (not on PATH)');
  return missing;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, cmd)));
}

/**
 * Declares one test reporting on a tool's presence: passes when present, skips with the reason
 * when absent locally, fails when absent in CI. Call it at suite level next to a
 * `describe.skipIf(missing.length > 0)` holding the real tests.
 */
export function toolPresenceTest(what: string, missing: readonly string[]): void {
  it(`${what} is installed`, (ctx) => {
    if (missing.length === 0) return;
    const reason = `${what} not installed (missing: ${missing.join(', ')}); apt-get install -y zookeeper zookeeper-bin`;
    if (inCi()) throw new Error(`required in CI: ${reason}`);
    ctx.skip(reason);
  });
}
