// The process's open file descriptors and their limit, as ZooKeeper's mntr reports them
// (zk_open_file_descriptor_count, zk_max_file_descriptor_count: the JVM's
// UnixOperatingSystemMXBean, i.e. the descriptors open now and the soft RLIMIT_NOFILE). Every
// client connection holds one, so operators alert on the first nearing the second. Linux: from
// /proc/self; elsewhere null (ZooKeeper too prints the two lines only where it can tell).

import { readdir, readFile } from 'node:fs/promises';

export interface FdCounts {
  readonly open: number;
  readonly max: number;
}

/** The soft "Max open files" of a /proc/<pid>/limits text; null when absent or "unlimited". */
export function maxOpenFilesOf(limits_text: string): number | null {
  const line = limits_text.split('\n').find((l) => l.startsWith('Max open files'));
  if (line === undefined) return null;
  const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0];
  const n = Number(soft);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export async function processFdCounts(): Promise<FdCounts | null> {
  try {
    const [names, limits] = await Promise.all([readdir('/proc/self/fd'), readFile('/proc/self/limits', 'utf8')]);
    const max = maxOpenFilesOf(limits);
    if (max === null) return null;
    // The listing includes the descriptor readdir itself held open while reading the directory.
    return { open: Math.max(0, names.length - 1), max };
  } catch {
    return null;
  }
}
