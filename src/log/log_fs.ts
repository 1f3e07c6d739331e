// The file-system calls the log writer and the snapshot publisher make, behind an interface so
// that unit tests can inject failures (ENOSPC, EIO) at any call without a real full disk.
// The real adapter uses Node's callback API: the work runs on libuv's thread pool, so the commit
// worker keeps prepping while a write + fdatasync is in flight.

import fs from 'node:fs';
import { join } from 'node:path';

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
  /**
   * The same write and fdatasync on the calling thread (no trip to libuv's pool), for a log
   * append made while the commit worker has nothing else to do (LogWriter.appendInline).
   * Optional: a file system without them (fault-injecting test doubles) is always used async.
   */
  writeSync?(fd: number, bytes: Uint8Array, start: number, end: number, position: number): void;
  fdatasyncSync?(fd: number): void;
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

function writeAllSync(fd: number, bytes: Uint8Array, start: number, end: number, position: number): void {
  while (start < end) {
    const n = fs.writeSync(fd, bytes, start, end - start, position);
    if (n <= 0) throw Object.assign(new Error(`write returned ${n}`), { code: 'EIO' });
    start += n;
    position += n;
  }
}

export const NODE_LOG_FS: LogFs = {
  writeSync: writeAllSync,
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
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

/** The file `waitfree.log.fsyncDelayUs=-1` follows (in dataDir): a decimal number of
 *  microseconds, or FSYNC_FAIL_TEXT. */
export const FSYNC_DELAY_FAULT_FILE = 'fault.fsync_delay_us';
/** Fault file text that makes every log sync fail with EIO (a dying disk), until it changes. */
export const FSYNC_FAIL_TEXT = 'eio';
/** Largest delay taken from the fault file (as the config key's bound): 10 s. */
export const FSYNC_DELAY_US_MAX = 10_000_000;
/** The fault file is re-read at most this often. */
const FSYNC_DELAY_REREAD_MS = 1_000;

/**
 * Fault injection (waitfree.log.fsyncDelayUs): a delay added to every log sync, fixed, or
 * following a file the test harness rewrites while the server runs. The file may also say
 * FSYNC_FAIL_TEXT: then every sync fails with EIO after its bytes were written, as a failing
 * disk's fdatasync does (what a replica does then: ARCHITECTURE.md, "Disk faults"). A file
 * rather than an admin command: the delay is applied in the commit worker, which has no HTTP
 * server, so a command would need a new message kind through the supervisor; a file in dataDir
 * needs nothing but this class, and only servers started with -1 ever look at it.
 *
 * Invariant: the file is read asynchronously, at most once per FSYNC_DELAY_REREAD_MS, never on
 * the sync's own path (a new value applies from a later sync on). A missing file means 0; an
 * unreadable or malformed one keeps the previous value (and says so, once per distinct text).
 */
export class FsyncDelay {
  private delay_us: number;
  /** The file says FSYNC_FAIL_TEXT. */
  private failing = false;
  private next_read_ms = 0;
  private reading = false;
  private last_bad = '';

  private constructor(
    initial_us: number,
    /** null: fixed delay. */
    private readonly fault_file: string | null,
    private readonly log: (line: string) => void,
  ) {
    this.delay_us = initial_us;
  }

  /**
   * The delay for `waitfree.log.fsyncDelayUs` = config_us, or null for 0 (no delay: the log
   * writer's sync path stays as it was). Warns loudly when not null.
   */
  static fromConfig(config_us: number, data_dir: string, log: (line: string) => void = (l) => console.warn(l)): FsyncDelay | null {
    if (config_us === 0) return null;
    if (config_us === -1) {
      const file = join(data_dir, FSYNC_DELAY_FAULT_FILE);
      log(`waitfree: WARNING: FAULT INJECTION ON (waitfree.log.fsyncDelayUs=-1): every txn log sync is delayed by the microseconds in ${file} (or fails with EIO while it says "${FSYNC_FAIL_TEXT}"). For testing only.`);
      return new FsyncDelay(0, file, log);
    }
    log(`waitfree: WARNING: FAULT INJECTION ON (waitfree.log.fsyncDelayUs=${config_us}): every txn log sync is delayed by ${config_us} us. For testing only.`);
    return new FsyncDelay(config_us, null, log);
  }

  get current_us(): number {
    return this.delay_us;
  }

  /** Sleeps for the current delay (or fails with EIO, see above); schedules a re-read of the
   *  fault file when one is due. */
  wait(): Promise<void> {
    if (this.fault_file !== null) this.maybeReread(this.fault_file);
    if (this.failing) return Promise.reject(injectedEio());
    const us = this.delay_us;
    if (us <= 0) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, us / 1000));
  }

  private maybeReread(file: string): void {
    const now = performance.now();
    if (this.reading || now < this.next_read_ms) return;
    this.reading = true;
    this.next_read_ms = now + FSYNC_DELAY_REREAD_MS;
    fs.readFile(file, 'utf8', (err, text) => {
      this.reading = false;
      if (err !== null) {
        if (err.code === 'ENOENT') {
          this.setFailing(false);
          this.set(0);
        } else this.bad(`cannot read ${file}: ${describeFsError(err)}`);
        return;
      }
      const t = text.trim();
      const n = Number(t);
      if (t === FSYNC_FAIL_TEXT) this.setFailing(true);
      else if (/^\d+$/.test(t) && Number.isSafeInteger(n) && n <= FSYNC_DELAY_US_MAX) {
        this.setFailing(false);
        this.set(n);
      } else this.bad(`${file} holds ${JSON.stringify(t.slice(0, 40))}, neither ${JSON.stringify(FSYNC_FAIL_TEXT)} nor an integer 0..${FSYNC_DELAY_US_MAX}: keeping ${this.failing ? 'EIO' : `${this.delay_us} us`}`);
    });
  }

  private set(us: number): void {
    if (us === this.delay_us) return;
    this.delay_us = us;
    this.log(`waitfree: WARNING: FAULT INJECTION: txn log sync delay now ${us} us`);
  }

  private setFailing(on: boolean): void {
    if (on === this.failing) return;
    this.failing = on;
    this.log(`waitfree: WARNING: FAULT INJECTION: txn log syncs ${on ? 'now fail with EIO' : 'no longer fail'}`);
  }

  private bad(message: string): void {
    if (message === this.last_bad) return;
    this.last_bad = message;
    this.log(`waitfree: warning: ${message}`);
  }
}

function injectedEio(): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error('EIO: i/o error, fdatasync (injected: waitfree.log.fsyncDelayUs=-1)');
  e.code = 'EIO';
  e.errno = -5;
  e.syscall = 'fdatasync';
  return e;
}

/** A short description of a file-system error for logs and clients: "ENOSPC (no space left on device)". */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string') return `${err.code} (${err.message})`;
  return String(e);
}
