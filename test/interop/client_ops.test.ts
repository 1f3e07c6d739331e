// The client's operations suite against Apache ZooKeeper 3.8 (Debian).
import { defineOpsSuite } from '../client/suites/ops_suite.js';
import { startZooKeeperTarget } from '../client/support/targets.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';
import { describe } from 'vitest';

const missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', missing);
describe.skipIf(missing.length > 0)('Apache ZooKeeper', () => defineOpsSuite('Apache ZooKeeper 3.8', startZooKeeperTarget, { standaloneCheck: false }));
