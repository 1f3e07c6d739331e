// The seeds a simulation suite runs, and where a run's full trace goes. Shared by the Zab
// ensemble simulation (zab_sim.test.ts) and the replica simulation (replica_sim.test.ts), each
// with its own environment prefix:
//   <P>_SEEDS=N [<P>_FROM=F]   seeds F..F+N-1 instead of the fixed set
//   <P>_SEED=S                 seed S alone (replay, full trace kept)

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function seedsFromEnv(prefix: string, fixed: readonly number[]): number[] {
  const one = process.env[`${prefix}_SEED`];
  if (one !== undefined) return [Number(one)];
  const n = process.env[`${prefix}_SEEDS`];
  if (n === undefined) return [...fixed];
  const from = Number(process.env[`${prefix}_FROM`] ?? 1);
  return Array.from({ length: Number(n) }, (_, i) => from + i);
}

/** True when one seed is replayed (<P>_SEED): keep and write its whole trace. */
export function replaying(prefix: string): boolean {
  return process.env[`${prefix}_SEED`] !== undefined;
}

/** Writes a run's trace lines to a file in the temp dir; returns its path. */
export function writeTrace(name: string, seed: number, lines: readonly string[]): string {
  const path = join(tmpdir(), `${name}-${seed}.trace`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
