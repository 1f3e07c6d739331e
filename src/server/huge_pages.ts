// Transparent huge pages for the shared tree.
//
// Why: the shared tree (src/store/arena) and the rings are SharedArrayBuffers, which V8 allocates
// with calloc. A restart with 1M znodes faults ~300 MiB of tree in, 4 KiB at a time: ~80,000 page
// faults, each expensive in a virtual machine. On 2 MiB pages (measured, BENCHMARKS.md "Huge pages
// for the shared tree"): restart 2.4-3.3 s -> 1.4-1.9 s with 1M znodes, RSS unchanged; lookups at
// 1M keys within the noise (a micro-benchmark: ~1.1-1.2 µs either way).
//
// How: most Linux distributions set THP to "madvise", so memory gets huge pages only when its
// mapping asks for them, and neither Node nor V8 asks. glibc (>= 2.35) does when the tunable
// glibc.malloc.hugetlb=1 is set: it madvises every chunk it maps (calloc of a SharedArrayBuffer
// segment included). A tunable is read once when the process starts, so it has to be in the
// environment the server is started with: bin/waitfree.js sets it when executed directly (its
// first lines are a shell preamble), and every launcher of this package passes `serverEnv()`.
// Started as `node bin/waitfree.js`, the server says at start that its tree is on 4 KiB pages.
// A user who sets glibc.malloc.hugetlb (to 0, say) in GLIBC_TUNABLES keeps that value.

import { readFileSync } from 'node:fs';

const TUNABLE = 'glibc.malloc.hugetlb';
const THP_ENABLED_PATH = '/sys/kernel/mm/transparent_hugepage/enabled';

/** `env` with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES unless it names that tunable already. */
export function serverEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const tunables = env['GLIBC_TUNABLES'] ?? '';
  if (tunableValue(tunables) !== null) return env;
  return { ...env, GLIBC_TUNABLES: tunables === '' ? `${TUNABLE}=1` : `${tunables}:${TUNABLE}=1` };
}

/** The value GLIBC_TUNABLES (colon-separated name=value pairs) gives glibc.malloc.hugetlb, or null. */
export function tunableValue(tunables: string): string | null {
  let value: string | null = null;
  for (const pair of tunables.split(':')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq) === TUNABLE) value = pair.slice(eq + 1); // the last one wins, as in glibc
  }
  return value;
}

export interface HugePageFacts {
  readonly platform: NodeJS.Platform;
  /** The contents of /sys/kernel/mm/transparent_hugepage/enabled ("always [madvise] never"), or null. */
  readonly thp_enabled: string | null;
  /** GLIBC_TUNABLES of this process. */
  readonly tunables: string;
  /** glibc's version ("2.36"), or null when the process does not run on glibc. */
  readonly glibc: string | null;
}

export interface HugePageState {
  readonly on: boolean;
  /** For the start-up line "shared tree on ...". */
  readonly why: string;
}

/** Whether memory calloc'ed by this process (the shared tree) gets transparent huge pages. Pure. */
export function hugePageState(f: HugePageFacts): HugePageState {
  if (f.platform !== 'linux' || f.thp_enabled === null) return { on: false, why: '4 KiB pages (no transparent huge pages on this system)' };
  const mode = /\[(\w+)\]/.exec(f.thp_enabled)?.[1] ?? 'never';
  if (mode === 'never') return { on: false, why: '4 KiB pages (transparent huge pages are disabled on this host: mode "never")' };
  if (mode === 'always') return { on: true, why: 'transparent huge pages (mode "always")' };
  const value = tunableValue(f.tunables);
  if (value !== '1') {
    const set = value === null ? 'is not set' : `is ${value}`;
    return { on: false, why: `4 KiB pages: ${TUNABLE} ${set} (start the server as bin/waitfree.js, not node bin/waitfree.js, or set GLIBC_TUNABLES=${TUNABLE}=1)` };
  }
  if (f.glibc === null || !atLeast(f.glibc, 2, 35)) return { on: false, why: `4 KiB pages: ${TUNABLE} needs glibc >= 2.35 (this process: ${f.glibc ?? 'not glibc'})` };
  return { on: true, why: `transparent huge pages (mode "madvise", ${TUNABLE}=1)` };
}

/** The facts of this process. Reads /sys and, only when the answer depends on it, glibc's version. */
export function currentHugePageState(): HugePageState {
  let thp_enabled: string | null = null;
  try {
    thp_enabled = readFileSync(THP_ENABLED_PATH, 'utf8');
  } catch {
    thp_enabled = null;
  }
  const tunables = process.env['GLIBC_TUNABLES'] ?? '';
  const needs_glibc = process.platform === 'linux' && tunableValue(tunables) === '1';
  return hugePageState({ platform: process.platform, thp_enabled, tunables, glibc: needs_glibc ? glibcVersion() : null });
}

function glibcVersion(): string | null {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return report.header?.glibcVersionRuntime ?? null;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}
