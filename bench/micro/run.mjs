#!/usr/bin/env node
// `npm run bench:micro`: every micro-benchmark in its own process, one after the other, each
// bounded in time. Arguments name a subset: node bench/micro/run.mjs codec tree
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALL = ['codec', 'tree', 'ring', 'log', 'frame_cutter', 'quota'];
const TIMEOUT_MS = 180_000;
const dist = fileURLToPath(new URL('../../dist/protocol/index.js', import.meta.url));
if (!existsSync(dist)) {
  process.stderr.write('dist/ is missing: run `npm run build` first\n');
  process.exit(1);
}
const chosen = process.argv.length > 2 ? process.argv.slice(2) : ALL;
let failed = 0;
for (const name of chosen) {
  if (!ALL.includes(name)) {
    process.stderr.write(`unknown micro-benchmark ${name} (${ALL.join(', ')})\n`);
    process.exit(2);
  }
  const file = fileURLToPath(new URL(`./${name}.bench.mjs`, import.meta.url));
  process.stdout.write(`\n== ${name} ==\n`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit', timeout: TIMEOUT_MS });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`${name}: ${r.signal !== null ? `killed (${r.signal}) after ${TIMEOUT_MS / 1000} s` : `exit ${r.status}`}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
