// The session liveness file in dataDir (format: liveness_format.ts): written by the commit
// worker in the background, read once by recovery.
//
// Each write replaces the whole file: sessions.live.tmp, fdatasync (with waitfree.fsync always),
// rename over sessions.live. The rename is atomic, so a crash leaves either the old table or the
// new one, both consistent. The directory is not fsynced: after a power loss the previous table
// may come back, which only makes the estimate a tick staler (resume.ts errs towards keeping
// sessions, never towards expiring them early).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogFs } from '../log/log_fs.js';
import { decodeLiveness, encodeLiveness, type Liveness } from './liveness_format.js';

export const LIVENESS_FILE = 'sessions.live';
const LIVENESS_TMP = `${LIVENESS_FILE}.tmp`;

export type LivenessRead = { ok: true; liveness: Liveness } | { ok: false; missing: boolean; reason: string };

/** Reads dataDir's liveness file; a missing or damaged one is reported, never thrown. */
export function readLivenessFile(dir: string): LivenessRead {
  const path = join(dir, LIVENESS_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, missing, reason: missing ? `${path} does not exist` : `${path}: ${String(e)}` };
  }
  try {
    return { ok: true, liveness: decodeLiveness(bytes) };
  } catch (e) {
    return { ok: false, missing: false, reason: `${path}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export interface LivenessWriterOptions {
  dir: string;
  fsync: boolean;
}

/** Writes liveness tables one at a time; a write asked for while one is in flight is skipped. */
export class LivenessWriter {
  private inflight = false;
  /** Writes completed and failed (stats, tests). */
  written = 0;
  failed = 0;

  constructor(
    private readonly fs: LogFs,
    private readonly opts: LivenessWriterOptions,
  ) {}

  get busy(): boolean {
    return this.inflight;
  }

  /** Starts writing `l`; resolves true once it is in place, false (with `onError` called) on failure. */
  async write(l: Liveness, onError: (e: unknown) => void): Promise<boolean> {
    if (this.inflight) return false;
    this.inflight = true;
    const bytes = encodeLiveness(l);
    const tmp = join(this.opts.dir, LIVENESS_TMP);
    try {
      const fd = await this.fs.open(tmp, 'w');
      try {
        await this.fs.write(fd, bytes, 0, bytes.length, 0);
        if (this.opts.fsync) await this.fs.fdatasync(fd);
      } finally {
        await this.fs.close(fd);
      }
      await this.fs.rename(tmp, join(this.opts.dir, LIVENESS_FILE));
      this.written++;
      return true;
    } catch (e) {
      this.failed++;
      onError(e);
      return false;
    } finally {
      this.inflight = false;
    }
  }
}
