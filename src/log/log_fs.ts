// The file-system calls the log writer and the snapshot publisher make, behind an interface so
// that unit tests can inject failures (ENOSPC, EIO) at any call without a real full disk.
// The real adapter uses Node's callback API: the work runs on libuv's thread pool, so the commit
// worker keeps prepping while a write + fdatasync is in flight.

import fs from 'node:fs';

export interface LogFs {
  /** flags: fs.open's string or numeric flags (numeric for O_DSYNC). */
  open(path: string, flags: string | number, mode?: number): Promise<number>;
  /** Writes all of bytes[start, end) at `position` (loops over short writes). */
  write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): Promise<void>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  fileSize(fd: number): Promise<number>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync of a directory: makes new names in it durable. */
  fsyncDir(dir: string): Promise<void>;
}

function cb<T>(run: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));
}

async function writeAll(fd: number, bytes: Uint8Array, start: number, end: number, position: number): Promise<void> {
  while (start < end) {
    const n = await cb<number>((done) => fs.write(fd, bytes, start, end - start, position, done));
    if (n <= 0) throw Object.assign(new Error(`write returned ${n}`), { code: 'EIO' });
    start += n;
    position += n;
  }
}

export const NODE_LOG_FS: LogFs = {
  open: (path, flags, mode = 0o644) => cb((done) => fs.open(path, flags, mode, done)),
  write: writeAll,
  fdatasync: (fd) => cb((done) => fs.fdatasync(fd, done)),
  ftruncate: (fd, length) => cb((done) => fs.ftruncate(fd, length, done)),
  fileSize: async (fd) => (await cb<fs.Stats>((done) => fs.fstat(fd, done))).size,
  close: (fd) => cb((done) => fs.close(fd, done)),
  rename: (from, to) => cb((done) => fs.rename(from, to, done)),
  unlink: (path) => cb((done) => fs.unlink(path, done)),
  fsyncDir: async (dir) => {
    const fd = await cb<number>((done) => fs.open(dir, 'r', done));
    try {
      await cb((done) => fs.fsync(fd, done));
    } finally {
      await cb((done) => fs.close(fd, done));
    }
  },
};

/** A short description of a file-system error for logs and clients: "ENOSPC (no space left on device)". */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string') return `${err.code} (${err.message})`;
  return String(e);
}
