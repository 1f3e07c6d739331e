// One server per data directory: the lock file, its stale-lock takeover after a crash, and the
// error that names the live holder.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirLockError, LOCK_FILE, lockDir } from '../../src/log/dir_lock.js';

const root = mkdtempSync(join(tmpdir(), 'waitfree-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('data dir lock', () => {
  it('holds the PID, refuses a second holder in the process, and is removed on release', () => {
    const dir = join(root, 'a');
    const lock = lockDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    expect(() => lockDir(dir)).toThrow(DirLockError);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockDir(dir).release();
  });

  it('takes over a lock whose process is gone (a SIGKILLed server)', async () => {
    const dir = join(root, 'b');
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    lockDir(dir).release();
    writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
    const lock = lockDir(dir);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
    // Garbage in the lock file is stale too.
    writeFileSync(join(dir, LOCK_FILE), 'not a pid');
    lockDir(dir).release();
  });

  it('refuses while the holder runs, naming its PID and the lock file', async () => {
    const dir = join(root, 'c');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      lockDir(dir).release();
      writeFileSync(join(dir, LOCK_FILE), `${child.pid}\n`);
      expect(() => lockDir(dir)).toThrow(new RegExp(`in use by process ${child.pid} \\(lock file .*lock\\)`));
      expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(child.pid));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
