// The README's "Client and recipes" examples, extracted and run as written: every ```js block of
// that section is written to a temp file inside the package (so `waitfree/client` resolves to
// this package through its own "exports"), run with node with ZK set to a fresh chroot on the
// server under test, and its stdout compared with the ```text block that follows it, if any.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/servers.js';

export interface Example {
  /** 1-based line of the code block in README.md. */
  line: number;
  code: string;
  expected: string | null;
}

export const README_SECTION = '## Client and recipes';

export function readmeExamples(): Example[] {
  const text = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = text.indexOf(`\n${README_SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no "${README_SECTION}" section`);
  const next = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, next < 0 ? undefined : next);
  const line_offset = text.slice(0, start).split('\n').length;
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)];
  const out: Example[] = [];
  blocks.forEach((m, i) => {
    if (m[1] !== 'js') return;
    const following = blocks[i + 1];
    const between = following === undefined ? '' : section.slice(m.index! + m[0].length, following.index);
    const expected = following?.[1] === 'text' && between.trim() === '' ? following[2]! : null;
    out.push({ line: line_offset + section.slice(0, m.index).split('\n').length, code: m[2]!, expected });
  });
  return out;
}

export interface ExampleRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class ExampleRunner {
  private readonly dir = mkdtempSync(join(REPO_ROOT, '.readme-examples-'));
  private seq = 0;

  run(example: Example, zk: string, timeout_ms = 30_000): Promise<ExampleRun> {
    const file = join(this.dir, `example-${++this.seq}.mjs`);
    writeFileSync(file, example.code);
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [file], { env: { ...process.env, ZK: zk }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeout_ms);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
