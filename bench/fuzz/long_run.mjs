#!/usr/bin/env node
// The long protocol fuzz run (issue 10): >= 10^6 frames against a live server with bystander
// sessions, bounded in frames and in time, ending with a summary (frames sent, connections,
// bystander errors, server restarts). The generators and checks are the CI test's
// (test/fuzz/); this runs test/fuzz/long_run.fuzz.ts through vitest, which compiles them.
//
//   node bench/fuzz/long_run.mjs [--frames 1000000] [--minutes 60] [--seed N] [--parallel 6]
//                                [--target waitfree|zookeeper] [--summary file.json]
//
// Needs `npm run build` first (the server runs from dist/).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireBuilt, REPO_ROOT } from '../lib/require_built.mjs';

const FLAGS = {
  '--frames': 'WAITFREE_FUZZ_FRAMES',
  '--minutes': 'WAITFREE_FUZZ_MINUTES',
  '--seed': 'WAITFREE_FUZZ_SEED',
  '--parallel': 'WAITFREE_FUZZ_PARALLEL',
  '--target': 'WAITFREE_FUZZ_TARGET',
  '--summary': 'WAITFREE_FUZZ_SUMMARY',
};

function usage(code) {
  process.stdout.write(`usage: node bench/fuzz/long_run.mjs ${Object.keys(FLAGS).map((f) => `[${f} V]`).join(' ')}\n`);
  process.exit(code);
}

const env = { ...process.env };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--help' || argv[i] === '-h') usage(0);
  const name = FLAGS[argv[i]];
  if (name === undefined || i + 1 >= argv.length) {
    process.stderr.write(`unknown or incomplete argument: ${argv[i]}\n`);
    usage(2);
  }
  env[name] = argv[++i];
}
requireBuilt('server/server.js');

const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const config = fileURLToPath(new URL('./vitest.config.ts', import.meta.url));
const r = spawnSync(process.execPath, [vitest, 'run', '--config', config], { cwd: REPO_ROOT, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
