// Command-line parsing shared by the standalone benchmark scripts: `--help`, and a usage error
// (exit 2) that names the bad option, number or system instead of a stack trace.

import { parseArgs } from 'node:util';

/**
 * Parses process.argv with `options` (plus --help / -h) and returns helpers bound to `usage`:
 * `values`, `fail(message)` (usage error), `atLeast(name, min)` (a number option) and
 * `systems(name, known, available)` (a comma list of known names; the unavailable ones are
 * dropped with a note on stderr).
 */
export function parseCli(usage, options) {
  const fail = (message) => {
    process.stderr.write(`${message}\n${usage}\n`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    fail(e.message);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const atLeast = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < min) fail(`--${name} ${values[name]}: expected a number >= ${min}`);
    return n;
  };
  const systems = (name, known, available) => {
    const asked = values[name].split(',').map((x) => x.trim()).filter((x) => x !== '');
    for (const x of asked) if (!known.includes(x)) fail(`--${name}: unknown system ${JSON.stringify(x)} (${known.join(', ')})`);
    const missing = asked.filter((x) => !available(x));
    for (const x of missing) process.stderr.write(`${x} is not available here: measuring without it\n`);
    return asked.filter((x) => available(x));
  };
  return { values, fail, atLeast, systems };
}
