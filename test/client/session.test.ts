// Session lifecycle (failover, retries, expiry) against waitfree (in-process server from dist/).
import { defineSessionSuite } from './suites/session_suite.js';
import { startWaitfreeTarget } from './support/targets.js';

defineSessionSuite('waitfree', () => startWaitfreeTarget());
