// `waitfree shell` against Apache ZooKeeper 3.8: the same commands as on waitfree, same output.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShell } from '../../src/cli/shell.js';
import { ZooKeeperClient } from '../../src/client/index.js';
import { eventually, startZooKeeperTarget, type Target } from '../client/support/targets.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', missing);

async function shell(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdin = new PassThrough();
  stdin.end();
  const code = await runShell(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), stdin, stdinIsTTY: false });
  return { code, out, err };
}

describe.skipIf(missing.length > 0)('waitfree shell vs Apache ZooKeeper 3.8', () => {
  let target: Target;
  let admin: ZooKeeperClient;
  beforeAll(async () => {
    target = await startZooKeeperTarget();
    admin = await ZooKeeperClient.connect(target.connectString);
    await admin.create('/sh');
  });
  afterAll(async () => {
    await admin?.close();
    await target?.stop();
  });

  it('scripts: create flags, get/set/stat, ls -R, ACLs, errors, deleteall', async () => {
    const cs = `${target.connectString}/sh`;
    const r = await shell([cs, '-c', 'create /a x; create -e /a/e; create -s /a/s- ; create -c /c; create -t 60000 /t; set -v 0 /a y; get /a; ls -R /a; stat /a; getAcl /a; sync /a; deleteall /a; ls /']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines.slice(0, 2)).toEqual(['Created /a', 'Created /a/e']);
    expect(lines[2]).toMatch(/^Created \/a\/s-\d{10}$/);
    expect(lines.slice(3, 6)).toEqual(['Created /c', 'Created /t', 'y']);
    expect(lines.slice(6, 9)).toEqual(['/a', '/a/e', lines[2]!.slice('Created '.length)]);
    expect(lines).toContain('dataVersion = 1');
    expect(lines).toContain("'world,'anyone");
    expect(lines).toContain('Sync is OK');
    expect(lines[lines.length - 2]).toBe('[c, t]');
    const bad = await shell([cs, '-c', 'get /nope']);
    expect(bad).toEqual({ code: 1, out: '', err: 'Node does not exist: /nope\n' });
  });

  it('watch -n waits for events', async () => {
    await admin.create('/sh/w', '0');
    const running = shell([`${target.connectString}/sh`, '-c', 'watch -n 1 /w']);
    await eventually('watch registered', async () => {
      await admin.setData('/sh/w', String(Date.now()));
      return Promise.race([running.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
    });
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.out).toContain('WatchedEvent state:SyncConnected type:NodeDataChanged path:/w');
  });
});
