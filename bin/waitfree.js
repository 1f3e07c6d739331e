#!/bin/sh
':' //; case ":${GLIBC_TUNABLES-}" in *:glibc.malloc.hugetlb=*) ;; *) export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1" ;; esac; exec node "$0" "$@"
// waitfree command line. The code lives in dist/ (compiled from src/ by `npm run build`).
//
// Line 2 is both shell and JavaScript. Executed directly (./bin/waitfree.js, the `waitfree` that
// npm links, `npm start`), the shell runs it: it adds glibc.malloc.hugetlb=1 to GLIBC_TUNABLES
// unless that tunable is set already, and execs node on this file, so the PID stays the one
// that was started. Node reads the line as a string and a comment. Why the tunable: the shared
// tree on transparent huge pages (src/server/huge_pages.ts); launchers in this package that run
// `node bin/waitfree.js` pass the same environment (serverEnv()).
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
