// One server per data directory: the lock file, its stale-lock takeover after a crash, and the
// error that names the live holder.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirLockError, LOCK_FILE, lockDir } from '../../src/log/dir_lock.js';

function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return '';
  }
}

async function waitFor(cond: () => boolean, timeout_ms = 10_000): Promise<void> {
  const until = Date.now() + timeout_ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

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

  it('takes over a lock whose holder is a zombie (killed, not reaped by its parent)', async () => {
    const dir = join(root, 'z');
    // The shell starts a child that exits at once, then becomes `sleep` (exec), which never
    // reaps it: the child stays a zombie, and kill(pid, 0) still succeeds on it.
    const parent = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e 0 & echo $!; exec sleep 30`]);
    try {
      const pid = Number((await new Promise<Buffer>((r) => parent.stdout.once('data', r))).toString().trim());
      await waitFor(() => procState(pid) === 'Z');
      expect(() => process.kill(pid, 0)).not.toThrow();
      lockDir(dir).release();
      writeFileSync(join(dir, LOCK_FILE), `${pid}\n`);
      const lock = lockDir(dir, 0);
      expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
      lock.release();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('waits for a holder that exits while the new server starts (a restart right after a kill)', () => {
    const dir = join(root, 'w');
    // A holder that exits 300 ms from now; lockDir blocks, so it must be a process of its own.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300)']);
    lockDir(dir).release();
    writeFileSync(join(dir, LOCK_FILE), `${holder.pid}\n`);
    const lock = lockDir(dir, 5000);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });

  it('refuses while the holder runs, naming its PID and the lock file', async () => {
    const dir = join(root, 'c');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      lockDir(dir).release();
      writeFileSync(join(dir, LOCK_FILE), `${child.pid}\n`);
      expect(() => lockDir(dir, 100)).toThrow(new RegExp(`in use by process ${child.pid} \\(lock file .*lock\\)`));
      expect(readFileSync(join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(child.pid));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
