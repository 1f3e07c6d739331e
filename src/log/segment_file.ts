// Reading a log segment file in bounded chunks (recovery), behind a small synchronous port so
// tests can count what is read. Recovery runs once at start, before the thread serves anything,
// so plain blocking reads are the right tool; the log writer's async port (log_fs.ts) is for
// the running server.
//
// Invariant: at most max(chunk_bytes, the largest record asked for) bytes of the file are held
// in memory at a time, whatever the segment's size (a preallocated segment is mostly zeros).

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { SegmentBytes } from './segment_format.js';

export interface SegmentReadFs {
  openRead(path: string): number;
  sizeBytes(fd: number): number;
  /** Reads up to `length` bytes at file `position` into into[offset..]; 0 at the end of the file. */
  read(fd: number, into: Uint8Array, offset: number, length: number, position: number): number;
  close(fd: number): void;
}

export const NODE_SEGMENT_READ_FS: SegmentReadFs = {
  openRead: (path) => openSync(path, 'r'),
  sizeBytes: (fd) => fstatSync(fd).size,
  read: (fd, into, offset, length, position) => readSync(fd, into, offset, length, position),
  close: (fd) => closeSync(fd),
};

/** Default read size: large enough that a walk over records makes few calls, small next to a segment. */
export const SEGMENT_READ_CHUNK_BYTES = 1 << 20;

export class SegmentFileError extends Error {}

/** A segment file as SegmentBytes: one reusable buffer, refilled when a window falls outside it. */
export class FileSegmentBytes implements SegmentBytes {
  private buf: Uint8Array;
  /** The buffer holds file bytes [base, base + filled). */
  private base = 0;
  private filled = 0;
  /** Bytes read from the file so far (a window re-read counts again). */
  bytes_read = 0;

  constructor(
    private readonly fs: SegmentReadFs,
    private readonly fd: number,
    readonly path: string,
    readonly size_bytes: number,
    private readonly chunk_bytes: number = SEGMENT_READ_CHUNK_BYTES,
  ) {
    this.buf = new Uint8Array(Math.min(chunk_bytes, size_bytes));
  }

  window(offset: number, length: number): Uint8Array {
    const end = Math.min(offset + length, this.size_bytes);
    if (offset >= this.base && end <= this.base + this.filled) return this.buf.subarray(offset - this.base, end - this.base);
    this.fill(offset, Math.max(end - offset, Math.min(this.chunk_bytes, this.size_bytes - offset)));
    return this.buf.subarray(0, end - offset);
  }

  /** Reads file bytes [offset, offset + want) into the buffer (grown if a record needs more). */
  private fill(offset: number, want: number): void {
    if (want > this.buf.length) this.buf = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const n = this.fs.read(this.fd, this.buf, got, want - got, offset + got);
      if (n <= 0) break;
      got += n;
    }
    this.bytes_read += got;
    this.base = offset;
    this.filled = got;
    // The size was taken when the file was opened; only the commit worker shortens a segment, and
    // only after every thread has recovered. A shorter file means someone else changed it.
    if (got < want) throw new SegmentFileError(`${this.path}: ${want} bytes expected at offset ${offset}, the file ends after ${got}`);
  }
}

/** Opens `path`, runs `use` on it as SegmentBytes, closes it; returns use's result and the bytes read. */
export function withSegmentFile<T>(
  fs: SegmentReadFs,
  path: string,
  use: (src: FileSegmentBytes) => T,
  chunk_bytes: number = SEGMENT_READ_CHUNK_BYTES,
): { result: T; bytes_read: number } {
  const fd = fs.openRead(path);
  try {
    const src = new FileSegmentBytes(fs, fd, path, fs.sizeBytes(fd), chunk_bytes);
    const result = use(src);
    return { result, bytes_read: src.bytes_read };
  } finally {
    fs.close(fd);
  }
}
