import { defineConfig } from 'vitest/config';

// Interop and differential tests against real Apache ZooKeeper clients and servers
// (Debian packages zookeeper, zookeeper-bin). Run by .ci/run after `npm test`.
//
// Two projects, so that CI can run them side by side (`--project foreign-suites` in the
// background, `--project interop` in front; as one command they run one after the other): the
// foreign clients' own test suites (kazoo's, go-zookeeper's), which spend most of their 2-3 min
// each waiting on session timeouts and start their servers on ports of their own; and every other
// file. Within a project, files run one at a time.
const FOREIGN_SUITES = ['test/interop/kazoo_suite.test.ts', 'test/interop/go_zookeeper.test.ts'];

const timeouts = { testTimeout: 120_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    ...timeouts,
    projects: [
      { test: { name: 'foreign-suites', include: FOREIGN_SUITES, fileParallelism: false, ...timeouts } },
      {
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          exclude: FOREIGN_SUITES,
          fileParallelism: false,
          ...timeouts,
        },
      },
    ],
  },
});
