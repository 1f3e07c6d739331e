// The bench entry points load compiled code from dist/; say how to build it when it is missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** URL of dist/<rel>, or exits with a hint to run `npm run build`. */
export function requireBuilt(rel) {
  const url = new URL(`../../dist/${rel}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    process.stderr.write(`${fileURLToPath(url)} is missing: run \`npm run build\` in ${REPO_ROOT} first\n`);
    process.exit(1);
  }
  return url.href;
}
