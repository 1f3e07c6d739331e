#!/usr/bin/env node
// Checks the load generator against Apache ZooKeeper's C load_gen and node-zookeeper-client on
// the same Apache ZooKeeper server: `node bench/validate.mjs [--rounds N] [--seconds S] [--record]`.
import { requireBench } from './lib/require_built.mjs';

const { validateMain } = await import(requireBench('validate.js'));
process.exitCode = await validateMain(process.argv.slice(2));
