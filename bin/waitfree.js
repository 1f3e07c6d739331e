#!/usr/bin/env node
// waitfree command line. The code lives in dist/ (compiled from src/ by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`waitfree: ${fileURLToPath(entry)} is missing: run \`npm run build\` in ${root} first\n`);
  process.exit(1);
}

const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Once main returns, nothing should keep the process alive; if a stray handle does, do not hang.
setTimeout(() => process.exit(code), 2000).unref();
