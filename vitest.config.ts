import { defineConfig } from 'vitest/config';

// Unit, property and server tests. The interop suite (real Apache ZooKeeper, zkCli.sh, cli_mt)
// has its own config: vitest.interop.config.ts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/interop/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // 2-core machines: server tests start worker threads; keep file parallelism modest.
    maxWorkers: 2,
  },
});
