// Facts about the machine a result was measured on, recorded next to every result.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface MachineFacts {
  readonly cores: number;
  readonly cpu_model: string;
  readonly memory_gib: number;
  readonly node: string;
  readonly java: string | null;
  readonly kernel: string;
  readonly loadavg: readonly number[];
  readonly date: string;
}

/** First line `java -version` prints (on stderr), or null without java. */
export function javaVersion(): string | null {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return null;
  return `${r.stderr}${r.stdout}`.split('\n')[0]?.trim() || null;
}

function kernel(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return process.platform;
  }
}

export function machineFacts(): MachineFacts {
  return {
    cores: availableParallelism(),
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    java: javaVersion(),
    kernel: kernel(),
    loadavg: loadavg(),
    date: new Date().toISOString(),
  };
}

export function factsLine(m: MachineFacts): string {
  return `${m.cores} cores (${m.cpu_model}), ${m.memory_gib} GiB, Linux ${m.kernel}, Node ${m.node}, Java ${m.java ?? 'absent'}, load average ${m.loadavg.map((l) => l.toFixed(2)).join(' ')} at start`;
}
