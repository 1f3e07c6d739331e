// Writing a whole snapshot file synchronously, on the calling thread: for tools, benchmarks and
// tests (the server itself writes snapshots in the background: snapshotter.ts). Same bytes as the
// background path: the encoder's chunks, then the trailer with the running checksum.

import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { crc32c } from '../log/crc32c.js';
import type { DataTree } from '../tree/data_tree.js';
import { encodeSnapshotTrailer, type SessionState } from './snapshot_format.js';
import { SnapshotEncoder } from './snapshot_encoder.js';

/** Writes the snapshot of `tree` (at its last_zxid) to `path` via path.tmp + fsync + rename. */
export function writeSnapshotSync(path: string, tree: DataTree, sessions: readonly SessionState[], now_ms = Date.now()): number {
  return writeEncodedSnapshotSync(path, new SnapshotEncoder(tree, tree.last_zxid, sessions, now_ms));
}

/** A snapshot encoder of either tree (SnapshotEncoder, ArenaSnapshotEncoder): slices of nodes. */
export interface SnapshotChunkSource {
  /** Encodes up to `nodes` more nodes; true once the last chunk is ready. */
  step(nodes: number): boolean;
  take(): readonly { buffer: ArrayBufferLike; length: number }[];
}

/** Writes what `encoder` produces to `path` via path.tmp + fsync + rename; returns the bytes. */
export function writeEncodedSnapshotSync(path: string, encoder: SnapshotChunkSource): number {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  let crc = 0;
  let position = 0;
  const put = (bytes: Uint8Array): void => {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
    position += bytes.length;
  };
  try {
    let finished = false;
    while (!finished) {
      finished = encoder.step(1 << 16);
      for (const chunk of encoder.take()) {
        const bytes = new Uint8Array(chunk.buffer, 0, chunk.length);
        crc = crc32c(bytes, crc);
        put(bytes);
      }
    }
    put(encodeSnapshotTrailer(crc));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return position;
}
