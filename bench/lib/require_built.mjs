// The bench entry points load compiled code: the product from dist/, the benchmark harness
// (bench/src) from bench/build/. Say how to build it when it is missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function built(dir, rel) {
  const url = new URL(`../../${dir}/${rel}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    process.stderr.write(`${fileURLToPath(url)} is missing: run \`npm run build\` in ${REPO_ROOT} first\n`);
    process.exit(1);
  }
  return url.href;
}

/** URL of dist/<rel> (the product), or exits with a hint to run `npm run build`. */
export function requireBuilt(rel) {
  return built('dist', rel);
}

/** URL of bench/build/<rel> (the benchmark harness, compiled from bench/src). */
export function requireBench(rel) {
  return built('bench/build', rel);
}
