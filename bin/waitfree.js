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
// The command line starts from its bundle (dist/bundle/cli.js) while it is current, else from
// dist/cli/main.js: dist/server/entry_scripts.js decides, as for the worker threads.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const chooser = new URL('../dist/server/entry_scripts.js', import.meta.url);
if (!existsSync(fileURLToPath(chooser))) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`waitfree: ${fileURLToPath(chooser)} is missing: run \`npm run build\` in ${root} first\n`);
  process.exit(1);
}
const { entryScript } = await import(chooser.href);
const { main } = await import(entryScript('cli').url.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Once main returns, nothing should keep the process alive; if a stray handle does, do not hang.
setTimeout(() => process.exit(code), 2000).unref();
