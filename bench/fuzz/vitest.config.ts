import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The long protocol fuzz run only (test/fuzz/long_run.fuzz.ts); started by bench/fuzz/long_run.mjs.
export default defineConfig({
  root: fileURLToPath(new URL('../../', import.meta.url)),
  test: {
    include: ['test/fuzz/long_run.fuzz.ts'],
    maxWorkers: 1,
    fileParallelism: false,
    // The file sets its own test timeout from WAITFREE_FUZZ_MINUTES.
    hookTimeout: 120_000,
  },
});
