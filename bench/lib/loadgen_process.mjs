// One load point by `node bench/loadgen.mjs` in a process of its own (its CPU is not the
// benchmark script's, and its report stays off this script's stdout): its --json report.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LOADGEN = fileURLToPath(new URL('../loadgen.mjs', import.meta.url));

/** Runs the load generator with `args` (its options, without --json); resolves with its report. */
export async function runLoadgen(args) {
  const dir = mkdtempSync(join(tmpdir(), 'loadgen-point-'));
  const json = join(dir, 'r.json');
  try {
    await run(process.execPath, [LOADGEN, ...args, '--json', json], { maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(readFileSync(json, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
