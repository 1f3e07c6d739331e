// Piscina task: writes one snapshot file from chunks streamed over a MessagePort. Runs on a
// pool thread, so the checksum, the writes and fsync never stall the commit loop.
//
// Protocol on the port: the commit worker sends { kind: 'chunk', buffer, length } (buffer
// transferred) and finally { kind: 'end' } or { kind: 'abort' }; the task answers each chunk
// with { kind: 'ack' } (flow control: the encoder pauses with too many chunks unacknowledged).
// The file is written as `tmp_path`, fsynced and closed; the caller renames it into place once
// the log is durable up to the snapshot's zxid (a snapshot must never get ahead of the log).

import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import { crc32c } from '../log/crc32c.js';
import { freeNow } from '../store/arena/free_now.js';
import { encodeSnapshotTrailer } from './snapshot_format.js';

export interface SnapshotTaskInput {
  port: MessagePort;
  tmp_path: string;
  fsync: boolean;
}

export type SnapshotTaskOutput = { outcome: 'written'; bytes: number } | { outcome: 'aborted' };

export type SnapshotTaskMessage = { kind: 'chunk'; buffer: ArrayBuffer; length: number } | { kind: 'end' } | { kind: 'abort' };

export default function writeSnapshot(input: SnapshotTaskInput): Promise<SnapshotTaskOutput> {
  const { port, tmp_path } = input;
  const fd = openSync(tmp_path, 'w', 0o644);
  let crc = 0;
  let position = 0;
  const finish = (): void => {
    port.removeAllListeners('message');
    port.close();
  };
  return new Promise((resolve, reject) => {
    port.on('message', (m: SnapshotTaskMessage) => {
      try {
        if (m.kind === 'chunk') {
          const bytes = new Uint8Array(m.buffer, 0, m.length);
          crc = crc32c(bytes, crc);
          position += writeFully(fd, bytes, position);
          // Freed now, not at a GC this quiet thread may not run for minutes: glibc keeps 1 MiB
          // chunks freed late (measured +60-80 MiB RSS after a start that snapshots at once).
          freeNow(m.buffer);
          port.postMessage({ kind: 'ack' });
        } else if (m.kind === 'end') {
          const trailer = encodeSnapshotTrailer(crc);
          position += writeFully(fd, trailer, position);
          if (input.fsync) fsyncSync(fd);
          closeSync(fd);
          finish();
          resolve({ outcome: 'written', bytes: position });
        } else {
          closeSync(fd);
          unlinkSync(tmp_path);
          finish();
          resolve({ outcome: 'aborted' });
        }
      } catch (e) {
        try {
          closeSync(fd);
          unlinkSync(tmp_path);
        } catch {
          // the write already failed; the file may be gone
        }
        finish();
        reject(e);
      }
    });
  });
}

function writeFully(fd: number, bytes: Uint8Array, position: number): number {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  return done;
}
