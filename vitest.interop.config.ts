import { defineConfig } from 'vitest/config';

// Interop and differential tests against real Apache ZooKeeper clients and servers
// (Debian packages zookeeper, zookeeper-bin). Run by .ci/run after `npm test`.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
