// README.md "Client and recipes": every example runs as written against waitfree.
import { defineReadmeSuite } from './suites/readme_suite.js';
import { startWaitfreeTarget } from './support/targets.js';

defineReadmeSuite('waitfree', () => startWaitfreeTarget());
