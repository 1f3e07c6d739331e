#!/usr/bin/env node
// The benchmark set, waitfree side by side with Apache ZooKeeper: `node bench/run.mjs --help`.
// `npm run bench` runs the short version; `npm run bench -- --full` the full one.
import { requireBench } from './lib/require_built.mjs';

const { runMain } = await import(requireBench('run_cli.js'));
process.exitCode = await runMain(process.argv.slice(2));
