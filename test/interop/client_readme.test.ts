// README.md "Client and recipes": every example runs as written against Apache ZooKeeper 3.8.
import { describe } from 'vitest';
import { defineReadmeSuite } from '../client/suites/readme_suite.js';
import { startZooKeeperTarget } from '../client/support/targets.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', missing);
describe.skipIf(missing.length > 0)('Apache ZooKeeper', () => defineReadmeSuite('Apache ZooKeeper 3.8', startZooKeeperTarget));
