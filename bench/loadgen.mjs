#!/usr/bin/env node
// The load generator against any ZooKeeper-compatible server: `node bench/loadgen.mjs --help`.
// Compiled from src/bench/ by `npm run build`.
import { requireBuilt } from './lib/require_built.mjs';

const { loadgenMain } = await import(requireBuilt('bench/loadgen_cli.js'));
process.exitCode = await loadgenMain(process.argv.slice(2));
