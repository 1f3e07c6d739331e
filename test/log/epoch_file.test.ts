// Zab's epochs file on real files: round trips (sync and async), ordering of async writes,
// damage is an error naming the file (never a silent 0), crash leftovers are ignored.

import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EpochFile, EpochFileError, EPOCHS_FILE } from '../../src/log/epoch_file.js';
import { faultyFs, removeTempDirs, tempDir } from './zab_fixtures.js';

afterEach(removeTempDirs);

describe('EpochFile', () => {
  it('is null before the first write, then reads back what was written last', async () => {
    const dir = tempDir();
    expect(EpochFile.readSync(dir)).toBeNull();
    EpochFile.writeSync(dir, { accepted_epoch: 4, current_epoch: 3 }, true);
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 4, current_epoch: 3 });
    await EpochFile.write(dir, { accepted_epoch: 0xffff_ffff, current_epoch: 0xffff_fffe }, true);
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 0xffff_ffff, current_epoch: 0xffff_fffe });
    EpochFile.writeSync(dir, { accepted_epoch: 5, current_epoch: 5 }, false); // waitfree.fsync none
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 5, current_epoch: 5 });
  });

  it('async writes land in call order: the last call is what stays on disk', async () => {
    const dir = tempDir();
    const writes = [1, 2, 3, 4, 5, 6].map((e) => EpochFile.write(dir, { accepted_epoch: e, current_epoch: e - 1 }, true));
    expect(() => EpochFile.writeSync(dir, { accepted_epoch: 9, current_epoch: 9 }, true)).toThrow(/async write is in flight/);
    await Promise.all(writes);
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 6, current_epoch: 5 });
    EpochFile.writeSync(dir, { accepted_epoch: 9, current_epoch: 9 }, true); // allowed again once they settled
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 9, current_epoch: 9 });
  });

  it('a damaged file is an error naming it, never epochs of 0', () => {
    const dir = tempDir();
    const path = join(dir, EPOCHS_FILE);
    EpochFile.writeSync(dir, { accepted_epoch: 7, current_epoch: 6 }, true);
    const good = readFileSync(path);
    for (const at of [0, 5, 12, 20, 26]) {
      const bad = Buffer.from(good);
      bad[at] ^= 0x10;
      writeFileSync(path, bad);
      expect(() => EpochFile.readSync(dir)).toThrow(EpochFileError);
      expect(() => EpochFile.readSync(dir)).toThrow(path);
    }
    writeFileSync(path, good);
    truncateSync(path, 10);
    expect(() => EpochFile.readSync(dir)).toThrow(/10 bytes, expected 28/);
    truncateSync(path, 0);
    expect(() => EpochFile.readSync(dir)).toThrow(EpochFileError);
  });

  it('refuses a pair that breaks the invariants, leaving the file as it was', async () => {
    const dir = tempDir();
    EpochFile.writeSync(dir, { accepted_epoch: 3, current_epoch: 2 }, true);
    expect(() => EpochFile.writeSync(dir, { accepted_epoch: 3, current_epoch: 4 }, true)).toThrow(/current_epoch 4 is above accepted_epoch 3/);
    expect(() => EpochFile.write(dir, { accepted_epoch: 2 ** 32, current_epoch: 0 }, true)).toThrow(/not a u32/);
    expect(() => EpochFile.writeSync(dir, { accepted_epoch: -1, current_epoch: 0 }, true)).toThrow(RangeError);
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 3, current_epoch: 2 });
  });

  it('a crash before the rename leaves the previous pair (the leftover epochs.tmp is never read)', async () => {
    const dir = tempDir();
    EpochFile.writeSync(dir, { accepted_epoch: 3, current_epoch: 3 }, true);
    const { fs } = faultyFs((method) => method === 'rename');
    await expect(EpochFile.write(dir, { accepted_epoch: 4, current_epoch: 3 }, true, fs)).rejects.toThrow(/injected crash/);
    expect(existsSync(join(dir, `${EPOCHS_FILE}.tmp`))).toBe(true);
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 3, current_epoch: 3 });
    // A torn leftover does not disturb the next write either.
    writeFileSync(join(dir, `${EPOCHS_FILE}.tmp`), 'garbage');
    await EpochFile.write(dir, { accepted_epoch: 4, current_epoch: 4 }, true);
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 4, current_epoch: 4 });
  });

  it('an async write that fails does not block the ones queued after it', async () => {
    const dir = tempDir();
    const { fs } = faultyFs((method) => method === 'fdatasync');
    const first = EpochFile.write(dir, { accepted_epoch: 1, current_epoch: 0 }, true, fs);
    const second = EpochFile.write(dir, { accepted_epoch: 2, current_epoch: 1 }, true);
    await expect(first).rejects.toThrow(/injected crash/);
    await second;
    expect(EpochFile.readSync(dir)).toEqual({ accepted_epoch: 2, current_epoch: 1 });
  });
});
