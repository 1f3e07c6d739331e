// The open descriptors and their limit that mntr reports (zk_open_file_descriptor_count,
// zk_max_file_descriptor_count), read from /proc on Linux.

import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { maxOpenFilesOf, processFdCounts } from '../../src/metrics/process_fds.js';

const LIMITS = [
  'Limit                     Soft Limit           Hard Limit           Units     ',
  'Max cpu time              unlimited            unlimited            seconds   ',
  'Max open files            20000                524288               files     ',
  'Max locked memory         8388608              8388608              bytes     ',
].join('\n');

describe('process descriptors', () => {
  it('the limit is the soft "Max open files"', () => {
    expect(maxOpenFilesOf(LIMITS)).toBe(20000);
    expect(maxOpenFilesOf(LIMITS.replace('20000 ', 'unlimited'))).toBeNull();
    expect(maxOpenFilesOf('Limit Soft Hard\n')).toBeNull();
  });

  it.skipIf(process.platform !== 'linux')('counts this process: more after opening some, and its own limit', async () => {
    const before = await processFdCounts();
    expect(before).not.toBeNull();
    expect(before!.max).toBe(maxOpenFilesOf(readFileSync('/proc/self/limits', 'utf8')));
    expect(before!.open).toBeGreaterThan(0);
    expect(before!.open).toBeLessThanOrEqual(readdirSync('/proc/self/fd').length);
    const opened = Array.from({ length: 20 }, () => openSync('/dev/null', 'r'));
    try {
      const after = await processFdCounts();
      // Other code of this process may close a descriptor meanwhile: some slack, not much.
      expect(after!.open - before!.open).toBeGreaterThanOrEqual(15);
    } finally {
      for (const fd of opened) closeSync(fd);
    }
  });
});
