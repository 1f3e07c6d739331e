#!/usr/bin/env node
// The load generator against any ZooKeeper-compatible server: `node bench/loadgen.mjs --help`.
// Compiled from bench/src/ into bench/build/ by `npm run build`.
import { requireBench } from './lib/require_built.mjs';

const { loadgenMain } = await import(requireBench('loadgen_cli.js'));
process.exitCode = await loadgenMain(process.argv.slice(2));
