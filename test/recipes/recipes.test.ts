// Every recipe against waitfree (in-process server from dist/).
import { defineRecipesSuite } from './suites/recipes_suite.js';
import { startWaitfreeTarget } from '../client/support/targets.js';

defineRecipesSuite('waitfree', () => startWaitfreeTarget());
