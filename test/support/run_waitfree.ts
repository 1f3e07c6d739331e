// Runs the real `waitfree` binary (bin/waitfree.js) as a child process with `args`, collecting
// its output; bounded: SIGKILLed after timeout_ms (the exit code is then null).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const WAITFREE_BIN = fileURLToPath(new URL('../../bin/waitfree.js', import.meta.url));

export interface WaitfreeRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

export function runWaitfree(args: readonly string[], timeout_ms: number): Promise<WaitfreeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WAITFREE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout_ms);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
