// Every recipe, with its failure cases, against Apache ZooKeeper 3.8 (Debian).
import { describe } from 'vitest';
import { startZooKeeperTarget } from '../client/support/targets.js';
import { defineRecipesSuite } from '../recipes/suites/recipes_suite.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', missing);
describe.skipIf(missing.length > 0)('Apache ZooKeeper', () => defineRecipesSuite('Apache ZooKeeper 3.8', startZooKeeperTarget));
