// Client operations against waitfree (in-process server from dist/).
import { defineOpsSuite } from './suites/ops_suite.js';
import { startWaitfreeTarget } from './support/targets.js';

defineOpsSuite('waitfree', () => startWaitfreeTarget(), { standaloneCheck: true });
