// CPU time of server processes from the kernel's own accounting (/proc/PID/stat, and per thread
// /proc/PID/task/TID/stat + comm), so µs/op counts every thread of the server (GC, fsync, JIT
// included) without trusting the server to report itself. Linux only; elsewhere: null.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clk_tck_cache: number | null = null;

/** Kernel clock ticks per second (USER_HZ); 100 on every common Linux build. */
export function clockTicksPerSecond(): number {
  if (clk_tck_cache !== null) return clk_tck_cache;
  try {
    clk_tck_cache = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clk_tck_cache = 100;
  }
  return clk_tck_cache;
}

/** utime + stime in seconds from one /proc stat line; fields counted after the ")" of comm. */
export function parseStatCpuSeconds(stat_line: string, ticks_per_s: number): number {
  const close = stat_line.lastIndexOf(')');
  if (close < 0) throw new Error(`malformed /proc stat line: ${stat_line.slice(0, 80)}`);
  const fields = stat_line.slice(close + 2).split(' ');
  // After ")": state(3) ppid(4) ... utime(14) stime(15) -> indexes 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('malformed /proc stat cpu fields');
  return (utime + stime) / ticks_per_s;
}

/** CPU seconds used so far by process `pid` (all its threads), or null if it cannot be read. */
export function processCpuSeconds(pid: number): number | null {
  try {
    return parseStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicksPerSecond());
  } catch {
    return null;
  }
}

export interface ThreadCpu {
  readonly tid: number;
  readonly name: string;
  readonly cpu_s: number;
}

/** Every thread of `pid` with its name and CPU seconds so far (empty if unreadable). */
export function threadCpuSeconds(pid: number): ThreadCpu[] {
  const ticks = clockTicksPerSecond();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: ThreadCpu[] = [];
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const cpu_s = parseStatCpuSeconds(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'), ticks);
      out.push({ tid: Number(tid), name, cpu_s });
    } catch {
      // The thread ended between readdir and read.
    }
  }
  return out;
}

export interface CpuSnapshot {
  readonly process_s: number;
  readonly threads: readonly ThreadCpu[];
}

export function snapshotCpu(pids: readonly number[]): Map<number, CpuSnapshot> {
  const out = new Map<number, CpuSnapshot>();
  for (const pid of pids) {
    const process_s = processCpuSeconds(pid);
    if (process_s !== null) out.set(pid, { process_s, threads: threadCpuSeconds(pid) });
  }
  return out;
}

export interface ThreadUse {
  readonly pid: number;
  readonly tid: number;
  /** Thread name (comm): Java names its threads; Node 20 names every thread "node". */
  readonly name: string;
  readonly cpu_s: number;
}

/** CPU used between two snapshots: total over pids, and per thread, busiest first. */
export function cpuBetween(
  before: Map<number, CpuSnapshot>,
  after: Map<number, CpuSnapshot>,
): { total_s: number; by_thread: ThreadUse[] } | null {
  if (after.size === 0) return null;
  let total_s = 0;
  const by_thread: ThreadUse[] = [];
  for (const [pid, a] of after) {
    const b = before.get(pid);
    if (b === undefined) return null;
    total_s += a.process_s - b.process_s;
    const base = new Map(b.threads.map((t) => [t.tid, t.cpu_s]));
    for (const t of a.threads) by_thread.push({ pid, tid: t.tid, name: t.name, cpu_s: t.cpu_s - (base.get(t.tid) ?? 0) });
  }
  by_thread.sort((x, y) => y.cpu_s - x.cpu_s);
  return { total_s, by_thread };
}
