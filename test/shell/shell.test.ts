// `waitfree shell` against waitfree (in-process server from dist/): scripted with -c, from stdin,
// interactive (-i over a pipe), and through the real `waitfree` binary.

import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShell } from '../../src/cli/shell.js';
import { digestId, ZooKeeperClient } from '../../src/client/index.js';
import { eventually, startWaitfreeTarget, type Target } from '../client/support/targets.js';

const BIN = fileURLToPath(new URL('../../bin/waitfree.js', import.meta.url));

interface Run {
  code: number;
  out: string;
  err: string;
}

async function shell(argv: string[], stdin_text: string | null = null): Promise<Run> {
  let out = '';
  let err = '';
  const stdin = new PassThrough();
  if (stdin_text !== null) stdin.end(stdin_text);
  const code = await runShell(argv, {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stdin,
    stdinIsTTY: stdin_text === null,
  });
  return { code, out, err };
}

describe('waitfree shell', () => {
  let target: Target;
  let seq = 0;
  let admin: ZooKeeperClient;
  /** A fresh namespace; the shell connects chrooted there. */
  const ns = async (): Promise<string> => {
    const p = `/shell-${++seq}`;
    await admin.create(p);
    return `${target.connectString}${p}`;
  };
  beforeAll(async () => {
    target = await startWaitfreeTarget();
    admin = await ZooKeeperClient.connect(target.connectString);
  });
  afterAll(async () => {
    await admin?.close();
    await target?.stop();
  });

  it('runs -c commands: create, get, set, ls, ls -R, stat, delete, deleteall', async () => {
    const cs = await ns();
    const r = await shell([cs, '-c', 'create /a "hello world"; create /a/b; create /a/b/c x; get /a; set /a v2; get -s /a', '-c', 'ls /a; ls -R /a; stat /a/b; delete /a/b/c; deleteall /a; ls /']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines.slice(0, 5)).toEqual(['Created /a', 'Created /a/b', 'Created /a/b/c', 'hello world', 'v2']);
    expect(lines).toContain('dataVersion = 1');
    expect(lines).toContain('[b]');
    const ls_r = lines.indexOf('/a');
    expect(lines.slice(ls_r, ls_r + 3)).toEqual(['/a', '/a/b', '/a/b/c']);
    expect(lines).toContain('numChildren = 1');
    expect(lines[lines.length - 2]).toBe('[]');
  });

  it('create -e / -s / -c / -t, ACLs, addauth and getAcl', async () => {
    const cs = await ns();
    const r = await shell([
      cs,
      '-c',
      'create -s /seq- a; create -e /eph; create -c /box; create -t 60000 /ttl; addauth digest alice:pw; create /priv p auth::cdrwa; getAcl /priv; setAcl /box world:anyone:r; getAcl /box; whoami',
    ]);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^Created \/seq-\d{10}$/);
    expect(lines.slice(1, 4)).toEqual(['Created /eph', 'Created /box', 'Created /ttl']);
    expect(lines).toContain(`'digest,'${digestId('alice', 'pw')}`);
    expect(lines).toContain(': cdrwa');
    expect(lines).toContain("'world,'anyone");
    expect(lines).toContain(': r');
    expect(lines).toContain('User: alice');
    const denied = await shell([cs, '-c', 'get /priv']);
    expect(denied.code).toBe(1);
    expect(denied.err).toBe('Insufficient permission: /priv\n');
  });

  it("reports errors in zkCli's words and stops a script at the first failure (exit 1)", async () => {
    const cs = await ns();
    const r = await shell([cs, '-c', 'create /x; get /missing; create /never']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('Created /x\n');
    expect(r.err).toBe('Node does not exist: /missing\n');
    expect((await shell([cs, '-c', 'get /never'])).code).toBe(1);
    const usage = await shell([cs, '-c', 'set /x']);
    expect(usage.err).toMatch(/usage: set \[-s\] \[-v version\] path data/);
    expect((await shell([cs, '-c', 'set -v 7 /x y'])).err).toBe('version No is not valid: /x\n');
    expect((await shell(['--bogus'])).code).toBe(2);
  });

  it('reads commands from stdin when it is not a terminal', async () => {
    const cs = await ns();
    const r = await shell([cs], 'create /in data\n# a comment\nget /in\nsync /\nhistory\n');
    expect(r.code).toBe(0);
    expect(r.out).toBe('Created /in\ndata\nSync is OK\n0: create /in data\n1: get /in\n2: sync /\n3: history\n');
  });

  it('watch -n waits for events in a script; the watch is gone afterwards', async () => {
    const cs = await ns();
    const path = cs.slice(cs.indexOf('/'));
    await admin.create(`${path}/w`, '0');
    const running = shell([cs, '-c', 'watch -n 2 /w']);
    await eventually('watch registered', async () => (await admin.getAllChildrenNumber('/')) > 0 && (await watchCount(target)) > 0);
    await admin.setData(`${path}/w`, '1');
    await admin.setData(`${path}/w`, '2');
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter((l) => l.startsWith('WatchedEvent'))).toEqual([
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/w',
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/w',
    ]);
  });

  it('interactive: prompt, asynchronous watch events, unwatch, history, quit', async () => {
    const cs = await ns();
    const path = cs.slice(cs.indexOf('/'));
    const stdin = new PassThrough();
    let out = '';
    const done = runShell([cs, '-i'], { stdout: (t) => (out += t), stderr: (t) => (out += t), stdin, stdinIsTTY: false });
    await eventually('prompt', () => out.includes('(CONNECTED) 0] '));
    stdin.write('create /i one\n');
    await eventually('created', () => out.includes('Created /i'));
    stdin.write('watch -R /i\n');
    await eventually('watching', () => out.includes('watching /i and below'));
    await admin.create(`${path}/i/kid`);
    await eventually('event printed while idle at the prompt', () => out.includes('type:NodeCreated path:/i/kid'));
    stdin.write('unwatch /i\nget /nope\nhistory\n');
    await eventually('history', () => out.includes('2: unwatch /i'));
    expect(out).toContain('Node does not exist: /nope');
    stdin.write('quit\n');
    expect(await done).toBe(0);
  });

  it('the waitfree binary runs the shell (exit codes included)', async () => {
    const cs = await ns();
    const ok = await runBin(['shell', cs, '-c', 'create /bin 1; ls /']);
    expect(ok).toEqual({ code: 0, out: 'Created /bin\n[bin]\n', err: '' });
    const failed = await runBin(['shell', cs, '-c', 'delete /nothing']);
    expect(failed.code).toBe(1);
    expect(failed.err).toBe('Node does not exist: /nothing\n');
    const piped = await runBin(['shell', cs], 'get /bin\n');
    expect(piped).toEqual({ code: 0, out: '1\n', err: '' });
  });
});

async function watchCount(target: Target): Promise<number> {
  const { fourLetter } = await import('../support/servers.js');
  const text = await fourLetter(target.port, 'wchs');
  return Number(/Total watches:(\d+)/.exec(text)?.[1] ?? 0);
}

function runBin(args: string[], stdin_text?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(stdin_text ?? '');
  });
}
