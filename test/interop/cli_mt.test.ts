// Apache ZooKeeper's C client shell (cli_mt from the Debian package zookeeper-bin) driven on
// stdin against each server. It exercises the C client library's side of the wire protocol:
// create/create2 (data "new"), get/ls/ls2 (with watches), set, delete, exists/wexists, sync.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliMt } from '../support/cli_shells.js';
import { serverKindsUnderTest, startServer, type RunningServer } from '../support/servers.js';
import { APACHE_ZK_FILES, CLI_MT_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const climt_missing = missingTools(CLI_MT_FILES);
const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('cli_mt (Debian zookeeper-bin)', climt_missing);

/** Drops what varies between runs: timings and wall-clock dates. */
function norm(text: string): string {
  return text.replace(/^time = \d+ msec\n/gm, '').replace(/(ctime|mtime)( ?= ?)[^\n]*\n/g, '$1$2<date>\n');
}

/** The C shell's dumpStat fields: czxid/mzxid (hex), version, aversion, ephemeralOwner (hex). */
function statOf(text: string): { czxid: bigint; mzxid: bigint; version: number; aversion: number; ephemeralOwner: bigint } {
  const m = /czxid=([0-9a-f]+)\n[\s\S]*?mzxid=([0-9a-f]+)\n\tversion=([0-9a-f]+)\taversion=([0-9a-f]+)\n\tephemeralOwner = ([0-9a-f]+)\n/.exec(text);
  if (m === null) throw new Error(`no stat in ${JSON.stringify(text)}`);
  return {
    czxid: BigInt(`0x${m[1]}`),
    mzxid: BigInt(`0x${m[2]}`),
    version: parseInt(m[3], 16),
    aversion: parseInt(m[4], 16),
    ephemeralOwner: BigInt(`0x${m[5]}`),
  };
}

for (const kind of serverKindsUnderTest()) {
  const skip = climt_missing.length > 0 || (kind === 'zookeeper' && zk_missing.length > 0);
  describe.skipIf(skip)(`cli_mt vs ${kind}`, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer(kind);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('create / get / set / ls / ls2 / exists / delete / sync with result codes', async () => {
      const sh = await startCliMt(server.connectString);
      try {
        expect(await sh.run('create /cmt')).toBe('Creating [/cmt] node (mode: 0)\n[/cmt]: rc = 0\n\tname = /cmt\n');
        const g0 = norm(await sh.run('get /cmt'));
        expect(g0).toMatch(/^\/cmt: rc = 0\n value_len = 3\nnew\nStat:\n\tctime = <date>\n/);
        const s0 = statOf(g0);
        expect(s0).toMatchObject({ version: 0, aversion: 0, ephemeralOwner: 0n });
        expect(s0.mzxid).toBe(s0.czxid);

        // `get` left a data watch: the set's notification is printed before the set completes.
        const set = norm(await sh.run('set /cmt hello'));
        expect(set).toMatch(/^Watcher CHANGED_EVENT state = CONNECTED_STATE for path \/cmt\n\/cmt: rc = 0 Stat:\n/);
        const s1 = statOf(set);
        expect(s1.version).toBe(1);
        expect(s1.czxid).toBe(s0.czxid);
        expect(s1.mzxid).toBeGreaterThan(s0.mzxid);
        expect(norm(await sh.run('get /cmt'))).toMatch(/^\/cmt: rc = 0\n value_len = 5\nhello\nStat:\n/);

        expect(norm(await sh.run('ls /cmt'))).toBe('/cmt: rc = 0\n');
        // `ls` left a child watch on /cmt.
        expect(await sh.run('create +e /cmt/e')).toBe(
          'Creating [/cmt/e] node (mode: 1)\nWatcher CHILD_EVENT state = CONNECTED_STATE for path /cmt\n[/cmt/e]: rc = 0\n\tname = /cmt/e\n',
        );
        expect(await sh.run('create +s /cmt/s')).toBe('Creating [/cmt/s] node (mode: 2)\n[/cmt/s]: rc = 0\n\tname = /cmt/s0000000001\n');
        const ls2 = norm(await sh.run('ls2 /cmt'));
        expect(ls2).toMatch(/^\/cmt: rc = 0\n(\ts0000000001\n\te\n|\te\n\ts0000000001\n)\tctime = <date>\n/);
        expect(statOf(ls2).version).toBe(1);

        const c2 = norm(await sh.run('create2 /cmt2'));
        expect(c2).toMatch(/^Creating \[\/cmt2\] node \(mode: 0\)\n\[\/cmt2\]: rc = 0\n\tname = \/cmt2\n\tctime = <date>\n/);
        expect(statOf(c2).version).toBe(0);

        expect(await sh.run('exists /cmt')).toBe('');
        expect(await sh.run('exists /nope')).toBe('Error -101 for /nope\n');
        expect(await sh.run('wexists /later')).toBe('Error -101 for /later\n');
        expect(await sh.run('create /later')).toBe(
          'Creating [/later] node (mode: 0)\nWatcher CREATED_EVENT state = CONNECTED_STATE for path /later\n[/later]: rc = 0\n\tname = /later\n',
        );

        expect(await sh.run('create /cmt')).toBe('Creating [/cmt] node (mode: 0)\n[/cmt]: rc = -110\n');
        expect(await sh.run('create /cmt/e/x')).toBe('Creating [/cmt/e/x] node (mode: 0)\n[/cmt/e/x]: rc = -108\n');
        expect(await sh.run('create /none/x')).toBe('Creating [/none/x] node (mode: 0)\n[/none/x]: rc = -101\n');
        expect(await sh.run('delete /cmt')).toBe('/cmt: rc = -111\n');
        expect(await sh.run('delete /cmt2')).toBe('/cmt2: rc = 0\n');
        expect(await sh.run('delete /cmt2')).toBe('/cmt2: rc = -101\n');
        expect(await sh.run('sync /')).toBe('[/]: rc = 0\n\tname = /\n');
        const eph = norm(await sh.run('get /cmt/e'));
        expect(eph).toMatch(/^\/cmt\/e: rc = 0\n value_len = 3\nnew\n/);
        expect(statOf(eph).ephemeralOwner).toBeGreaterThan(0n);
      } finally {
        await sh.finish('quit');
      }
    });

    it('an ephemeral node created by cli_mt is gone once that shell quits', async () => {
      const first = await startCliMt(server.connectString);
      expect(await first.run('create +e /cmt-eph')).toBe('Creating [/cmt-eph] node (mode: 1)\n[/cmt-eph]: rc = 0\n\tname = /cmt-eph\n');
      await first.finish('quit');
      const second = await startCliMt(server.connectString);
      try {
        expect(await second.run('exists /cmt-eph')).toBe('Error -101 for /cmt-eph\n');
      } finally {
        await second.finish('quit');
      }
    });
  });
}
