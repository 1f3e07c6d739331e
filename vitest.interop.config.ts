import { defineConfig } from 'vitest/config';

// Interop and differential tests against real Apache ZooKeeper clients and servers
// (Debian packages zookeeper, zookeeper-bin). Run by .ci/run after `npm test`.
//
// Two projects, one after the other: the foreign clients' own test suites (kazoo's,
// go-zookeeper's; ~5 min, mostly waiting on session timeouts), selectable alone with
// `--project foreign-suites`, and every other file (`--project interop`). Within a project, files
// run one at a time. (Side by side they load a 2-core host enough to make timing-bound tests of
// the C client suite, which CI runs beside this one, fail: .ci/run.)
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
