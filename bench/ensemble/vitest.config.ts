import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The SNAP sync measurement only (test/ensemble/snap_sync.measure.ts):
//   npm run build && npx vitest run --config bench/ensemble/vitest.config.ts
// WAITFREE_SNAP_ZNODES (default 100000) and WAITFREE_SNAP_VALUE_BYTES (default 1000) size the tree.
export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    include: ['test/ensemble/snap_sync.measure.ts'],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 120_000,
  },
});
