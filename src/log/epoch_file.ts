// Zab's two durable epochs, in one small file `dataDir/epochs` (ZooKeeper keeps them in two
// files, acceptedEpoch and currentEpoch; one file written atomically means the pair is never
// seen half-updated).
//
//   file = "WFEP" | u32 version | u64 accepted_epoch | u64 current_epoch | u32 crc32c(bytes 0..24)
//
// Written as epochs.tmp, fdatasynced, renamed over `epochs`, directory fsynced: after a crash the
// file holds the old pair or the new one, never a mix; a leftover epochs.tmp is never read.
//
// Why a damaged file is an error and never "0": acceptedEpoch is a promise (this replica will not
// ACK a leader of an older epoch). Reading 0 after losing it would let the replica promise again
// in an epoch it already promised in: two leaders of one epoch could both count it.
//
// Invariants: both epochs are u32 (Zab's zxid carries the epoch in 32 bits) and
// current_epoch <= accepted_epoch (a replica accepts an epoch before it adopts its history).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getU64, setU64, viewOf } from './binary.js';
import { crc32c } from './crc32c.js';
import { replaceFileSync } from './data_dir.js';
import { NODE_LOG_FS, type LogFs } from './log_fs.js';

export const EPOCHS_FILE = 'epochs';
const MAGIC = 0x57464550; // "WFEP"
const VERSION = 1;
const FILE_BYTES = 28;
const CRC_AT = 24;
const EPOCH_MAX = 0xffff_ffff;

export interface Epochs {
  accepted_epoch: number;
  current_epoch: number;
}

export class EpochFileError extends Error {}

function isEpoch(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n <= EPOCH_MAX;
}

/** Why this pair must not be written (or read back), or null when it is valid. */
function invalid(e: Epochs): string | null {
  if (!isEpoch(e.accepted_epoch)) return `accepted_epoch ${e.accepted_epoch} is not a u32`;
  if (!isEpoch(e.current_epoch)) return `current_epoch ${e.current_epoch} is not a u32`;
  if (e.current_epoch > e.accepted_epoch) return `current_epoch ${e.current_epoch} is above accepted_epoch ${e.accepted_epoch}`;
  return null;
}

export function encodeEpochs(e: Epochs): Uint8Array {
  const why = invalid(e);
  if (why !== null) throw new RangeError(`epochs: ${why}`);
  const bytes = new Uint8Array(FILE_BYTES);
  const v = viewOf(bytes);
  v.setUint32(0, MAGIC);
  v.setUint32(4, VERSION);
  setU64(v, 8, e.accepted_epoch);
  setU64(v, 16, e.current_epoch);
  v.setUint32(CRC_AT, crc32c(bytes.subarray(0, CRC_AT)));
  return bytes;
}

/** Decodes the file's bytes; `path` names it in the error. */
export function decodeEpochs(bytes: Uint8Array, path: string): Epochs {
  const bad = (why: string): EpochFileError => new EpochFileError(`${path}: ${why}; refusing to guess Zab's epochs (restore the file or wipe this replica's data to rejoin empty)`);
  if (bytes.length !== FILE_BYTES) throw bad(`${bytes.length} bytes, expected ${FILE_BYTES}`);
  const v = viewOf(bytes);
  if (v.getUint32(0) !== MAGIC) throw bad('not a waitfree epochs file (bad magic)');
  if (v.getUint32(CRC_AT) !== crc32c(bytes.subarray(0, CRC_AT))) throw bad('checksum mismatch');
  const version = v.getUint32(4);
  if (version !== VERSION) throw bad(`format version ${version}; this waitfree reads version ${VERSION}`);
  const e = { accepted_epoch: getU64(v, 8), current_epoch: getU64(v, 16) };
  const why = invalid(e);
  if (why !== null) throw bad(why);
  return e;
}

/** Async writes in flight per file: they run one after the other, in call order. */
const queues = new Map<string, { tail: Promise<void>; pending: number }>();

export const EpochFile = {
  path(dir: string): string {
    return join(dir, EPOCHS_FILE);
  },

  /** The durable epochs, or null when the file does not exist (a replica that never joined an epoch). */
  readSync(dir: string): Epochs | null {
    const path = EpochFile.path(dir);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new EpochFileError(`${path}: cannot read (${(e as Error).message})`);
    }
    return decodeEpochs(bytes, path);
  },

  /**
   * Writes both epochs durably (unless fsync is false: waitfree.fsync none) before returning.
   * Throws when an async write to the same file is still in flight (the two would race).
   */
  writeSync(dir: string, epochs: Epochs, fsync: boolean): void {
    const path = EpochFile.path(dir);
    if ((queues.get(path)?.pending ?? 0) > 0) throw new Error(`${path}: writeSync while an async write is in flight`);
    replaceFileSync(dir, EPOCHS_FILE, encodeEpochs(epochs), fsync);
  },

  /**
   * The same on libuv's pool: resolves once both epochs are durable. Writes to one file are
   * queued in call order, so the last call's pair is the one left on disk.
   */
  write(dir: string, epochs: Epochs, fsync: boolean, fs: LogFs = NODE_LOG_FS): Promise<void> {
    const path = EpochFile.path(dir);
    const bytes = encodeEpochs(epochs); // validated now: a bad pair is the caller's error, thrown at once
    const q = queues.get(path) ?? { tail: Promise.resolve(), pending: 0 };
    queues.set(path, q);
    q.pending++;
    const run = q.tail.then(() => writeAsync(fs, dir, path, bytes, fsync));
    const done = run.finally(() => {
      if (--q.pending === 0 && queues.get(path) === q) queues.delete(path);
    });
    q.tail = done.catch(() => {}); // a failed write does not block the next one
    return done;
  },
};

async function writeAsync(fs: LogFs, dir: string, path: string, bytes: Uint8Array, fsync: boolean): Promise<void> {
  const tmp = `${path}.tmp`;
  const fd = await fs.open(tmp, 'w', 0o644);
  try {
    await fs.write(fd, bytes, 0, bytes.length, 0);
    if (fsync) await fs.fdatasync(fd);
  } finally {
    await fs.close(fd);
  }
  await fs.rename(tmp, path);
  if (fsync) await fs.fsyncDir(dir);
}
