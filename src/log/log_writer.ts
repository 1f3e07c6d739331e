// Appends batches of txn records to the log segments in dataDir and makes them durable.
//
// One batch = one write + one fdatasync (group commit). The caller keeps at most one append in
// flight, so at most the last batch can be torn by a crash, and recovery (recovery.ts) only ever
// has to truncate the tail of the last segment.
//
// Segments are preallocated: filled with zeros up to segment_bytes before the first record, so a
// later write never grows the file and fdatasync has no metadata to flush (measured ~1.5-2x the
// fdatasync rate of appending to a growing file on ext4). The next segment ("log.spare") is
// zero-filled in the background while the current one fills up. A roll writes the header and the
// first batch into the spare, syncs it, renames it to log.<first zxid> and syncs the directory:
// a file named log.* always has a valid header.

import { constants as FS } from 'node:fs';
import { join } from 'node:path';
import { SPARE_SEGMENT, segmentName } from './data_dir.js';
import type { FsyncDelay, LogFs } from './log_fs.js';
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES } from './segment_format.js';

export interface LogWriterOptions {
  dir: string;
  /** Roll to a new segment when a batch would not fit in this many bytes. */
  segment_bytes: number;
  /** false = waitfree.fsync none: no fdatasync (experiments only). */
  fsync: boolean;
  /**
   * How a write is made durable (with fsync): 'fdatasync' = write, then fdatasync (two trips to
   * libuv's thread pool); 'dsync' = segments opened with O_DSYNC, so the write itself returns
   * once durable (one trip). PostgreSQL's wal_sync_method, the two options that matter on Linux.
   */
  sync_method?: 'fdatasync' | 'dsync';
  /** Fault injection (waitfree.log.fsyncDelayUs): waited before every log sync; null/absent = none. */
  fsync_delay?: FsyncDelay | null;
  now_ms(): number;
}

/** Where appending resumes after recovery: the last segment and the end of its good records. */
export interface LogTail {
  path: string;
  first_zxid: number;
  /** End of the last good record; everything after it is zeroed before appending. */
  end_offset: number;
  /** A torn tail was found: bytes from end_offset on are garbage to remove first. */
  torn: boolean;
  /**
   * With a torn tail: where its non-zero bytes end (recovery saw a run of zeros from here on, see
   * segment_format.ts scanSegment); null when unknown (they may reach the end of the file).
   */
  dirty_end: number | null;
}

const ZERO_FILL_CHUNK_BYTES = 1 << 20;

interface OpenSegment {
  fd: number;
  path: string;
  /** Next write position. */
  offset: number;
  /** Bytes of the file known to be allocated (zero-filled). */
  allocated: number;
}

export class LogWriter {
  private current: OpenSegment | null = null;
  private spare: Promise<number> | null = null;
  private broken: unknown = null;
  /** Bytes appended (records only), for stats. */
  bytes_written = 0;
  segments_rolled = 0;

  /** Segments are opened with O_DSYNC: writes are durable when they return, no fdatasync. */
  private readonly dsync: boolean;
  private readonly fsync_delay: FsyncDelay | null;

  private constructor(
    private readonly fs: LogFs,
    private readonly opts: LogWriterOptions,
  ) {
    this.dsync = opts.fsync && opts.sync_method === 'dsync';
    this.fsync_delay = opts.fsync_delay ?? null;
  }

  /**
   * Makes what was written to fd durable, unless the fd is O_DSYNC (already) or fsync is off.
   * The fault-injection delay applies to every batch, whatever the fsync settings.
   */
  private async sync(fd: number): Promise<void> {
    // Only with fault injection on: with it off (the default) this is one null test per batch.
    if (this.fsync_delay !== null) await this.fsync_delay.wait();
    if (this.opts.fsync && !this.dsync) await this.fs.fdatasync(fd);
  }

  /** Opens the log for appending: repairs and re-extends the tail segment, starts the spare. */
  static async open(fs: LogFs, opts: LogWriterOptions, tail: LogTail | null): Promise<LogWriter> {
    const w = new LogWriter(fs, opts);
    if (tail !== null) w.current = await w.reopen(tail);
    w.prepareSpare();
    return w;
  }

  private async reopen(tail: LogTail): Promise<OpenSegment> {
    const fd = await this.fs.open(tail.path, this.dsync ? FS.O_RDWR | FS.O_DSYNC : 'r+');
    let size = await this.fs.fileSize(fd);
    const target = Math.max(this.opts.segment_bytes, tail.end_offset);
    // Drop whatever follows the good records (a torn batch): recovery found zeros after a clean
    // tail, so only a torn one needs removing. In a preallocated segment whose damage ends before
    // the end of the file, zeroing just the damaged bytes is enough (the rest is zeros already);
    // otherwise cut the file there and zero-fill it back up to the segment size.
    if (tail.torn && size > tail.end_offset) {
      if (size >= target && tail.dirty_end !== null && tail.dirty_end < size) {
        await this.zeroFill(fd, tail.end_offset, tail.dirty_end);
      } else {
        await this.fs.ftruncate(fd, tail.end_offset);
        size = tail.end_offset;
      }
    }
    await this.zeroFill(fd, size, target);
    if (!this.dsync) await this.fs.fdatasync(fd);
    return { fd, path: tail.path, offset: tail.end_offset, allocated: target };
  }

  /**
   * Writes zeros over [from, to), syncing after every chunk. The per-chunk sync matters: on ext4
   * (data=ordered) the log's own fdatasync commits the journal, which first flushes every dirty
   * newly-allocated block of the file system, so 64 MiB of unsynced zeros would stall a log
   * fdatasync for the whole writeback (measured: 230 ms); 1 MiB at a time bounds that stall.
   */
  private async zeroFill(fd: number, from: number, to: number): Promise<void> {
    const zeros = new Uint8Array(Math.min(ZERO_FILL_CHUNK_BYTES, Math.max(0, to - from)));
    for (let at = from; at < to; at += zeros.length) {
      await this.fs.write(fd, zeros, 0, Math.min(zeros.length, to - at), at);
      if (!this.dsync) await this.fs.fdatasync(fd);
    }
  }

  /** Zero-fills log.spare in the background. A failure is kept and reported at the next roll. */
  private prepareSpare(): void {
    const path = join(this.opts.dir, SPARE_SEGMENT);
    const made = (async () => {
      const fd = await this.fs.open(path, this.dsync ? FS.O_WRONLY | FS.O_CREAT | FS.O_TRUNC | FS.O_DSYNC : 'w');
      try {
        await this.zeroFill(fd, 0, this.opts.segment_bytes);
        return fd;
      } catch (e) {
        await this.fs.close(fd).catch(() => {});
        throw e;
      }
    })();
    made.catch(() => {}); // observed at the next roll
    this.spare = made;
  }

  /**
   * Appends bytes[start, end) (whole records, first zxid `first_zxid`) and makes them durable.
   * Must not be called again before the previous call settled. After a failure every later call
   * fails: the caller stops accepting writes.
   */
  async append(bytes: Uint8Array, start: number, end: number, first_zxid: number): Promise<void> {
    if (this.broken !== null) throw this.broken;
    try {
      const len = end - start;
      const cur = this.current;
      if (cur === null || (cur.offset > SEGMENT_HEADER_BYTES && cur.offset + len > this.opts.segment_bytes)) {
        await this.roll(bytes, start, end, first_zxid);
      } else {
        await this.fs.write(cur.fd, bytes, start, end, cur.offset);
        cur.offset += len;
        if (cur.offset > cur.allocated) cur.allocated = cur.offset;
        await this.sync(cur.fd);
      }
      this.bytes_written += len;
    } catch (e) {
      this.broken = e;
      throw e;
    }
  }

  /**
   * append() on the calling thread: the write and its fdatasync (or the O_DSYNC write) run
   * synchronously, with no trip to libuv's pool and no wake-up of this thread when they end.
   * Why: an append made while the commit worker has nothing else to prep would only wait for
   * the pool anyway; doing it here saves two or four thread hand-offs per batch (measured
   * tens of microseconds each on this host), which is most of an unloaded write's latency
   * beyond the disk. Returns false, having done nothing, when it cannot: a roll to a new
   * segment (several calls and a rename), a fault-injection delay, or a file system without
   * synchronous calls; the caller then uses append(). Same contract as append() otherwise:
   * true means durable; a failure throws and breaks the writer.
   */
  appendInline(bytes: Uint8Array, start: number, end: number): boolean {
    if (this.broken !== null) throw this.broken;
    const cur = this.current;
    const len = end - start;
    const fs = this.fs;
    if (cur === null || cur.offset + len > this.opts.segment_bytes || this.fsync_delay !== null) return false;
    if (fs.writeSync === undefined || fs.fdatasyncSync === undefined) return false;
    try {
      fs.writeSync(cur.fd, bytes, start, end, cur.offset);
      cur.offset += len;
      if (cur.offset > cur.allocated) cur.allocated = cur.offset;
      if (this.opts.fsync && !this.dsync) fs.fdatasyncSync(cur.fd);
      this.bytes_written += len;
      return true;
    } catch (e) {
      this.broken = e;
      throw e;
    }
  }

  /** Starts log.<first_zxid> from the spare with this batch as its first records. */
  private async roll(bytes: Uint8Array, start: number, end: number, first_zxid: number): Promise<void> {
    const fd = await this.takeSpare();
    const header = encodeSegmentHeader(first_zxid, this.opts.now_ms());
    await this.fs.write(fd, header, 0, header.length, 0);
    await this.fs.write(fd, bytes, start, end, SEGMENT_HEADER_BYTES);
    await this.sync(fd);
    const path = join(this.opts.dir, segmentName(first_zxid));
    await this.fs.rename(join(this.opts.dir, SPARE_SEGMENT), path);
    if (this.opts.fsync) await this.fs.fsyncDir(this.opts.dir);
    const previous = this.current;
    const offset = SEGMENT_HEADER_BYTES + (end - start);
    this.current = { fd, path, offset, allocated: Math.max(this.opts.segment_bytes, offset) };
    this.segments_rolled++;
    if (previous !== null) await this.fs.close(previous.fd);
    this.prepareSpare();
  }

  /** The zero-filled spare; if preparing it failed (e.g. ENOSPC), one more try now. */
  private async takeSpare(): Promise<number> {
    const pending = this.spare;
    this.spare = null;
    if (pending !== null) {
      try {
        return await pending;
      } catch {
        // fall through: the disk may have space again
      }
    }
    this.prepareSpare();
    const retry = this.spare as unknown as Promise<number>;
    this.spare = null;
    return retry;
  }

  get current_segment(): string | null {
    return this.current?.path ?? null;
  }

  /** Closes the files (pending spare included). Nothing is lost: every append already synced. */
  async close(): Promise<void> {
    const spare = this.spare;
    this.spare = null;
    if (spare !== null) await spare.then((fd) => this.fs.close(fd)).catch(() => {});
    if (this.current !== null) await this.fs.close(this.current.fd).catch(() => {});
    this.current = null;
  }
}
