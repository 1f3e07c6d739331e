// The client's session suite (failover between hosts, retries, expiry) against Apache ZooKeeper 3.8.
import { describe } from 'vitest';
import { defineSessionSuite } from '../client/suites/session_suite.js';
import { startZooKeeperTarget } from '../client/support/targets.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', missing);
describe.skipIf(missing.length > 0)('Apache ZooKeeper', () => defineSessionSuite('Apache ZooKeeper 3.8', startZooKeeperTarget));
