// Quotas as a ZooKeeper user meets them: zkCli's setquota / listquota / delquota, the usage the
// server keeps in /zookeeper/quota/<path>/zookeeper_stats, zookeeper.enforceQuota refusing writes
// over a hard limit, and mntr's per-namespace quota lines. The same expectations run against
// Apache ZooKeeper 3.8 and waitfree, so each one is ZooKeeper's behaviour.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fourLetter } from '../../src/check/four_letter.js';
import { startZkCli } from '../support/cli_shells.js';
import { serverKindsUnderTest, startServer, type RunningServer } from '../support/servers.js';
import { APACHE_ZK_FILES, ZKCLI_FILES, missingTools, toolPresenceTest } from '../support/tools.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { WireClient } from '../support/wire_client.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

const zkcli_missing = missingTools(ZKCLI_FILES, true);
const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('zkCli.sh (Debian zookeeper)', zkcli_missing);

/** The `Output stat for <path> count=..,bytes=..` line of listquota. */
function statLine(listing: string): string | undefined {
  return listing.split('\n').find((l) => l.startsWith('Output stat for'));
}

/** mntr's quota lines, sorted (ZooKeeper prints its metric sets in hash order). */
async function quotaMonitorLines(port: number): Promise<string[]> {
  const text = await fourLetter(port, 'mntr', 10_000);
  return text
    .split('\n')
    .filter((l) => l.includes('_quota_'))
    .sort();
}

for (const kind of serverKindsUnderTest()) {
  const skip = zkcli_missing.length > 0 || (kind === 'zookeeper' && zk_missing.length > 0);

  describe.skipIf(skip)(`quotas (counted) vs ${kind}`, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer(kind);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('listquota shows the subtree the server counts, as nodes come, go and change size', async () => {
      const sh = await startZkCli(server.connectString);
      try {
        await sh.run('create /q x');
        await sh.run('create /q/b hello');
        await sh.run('setquota -n 5 /q');
        // /q (1 byte) and /q/b (5 bytes): counted when the stats node is created.
        expect(statLine(await sh.run('listquota /q'))).toBe('Output stat for /q count=2,bytes=6');
        await sh.run('create /q/c 1234567890');
        await sh.run('create /q/c/d');
        expect(statLine(await sh.run('listquota /q'))).toBe('Output stat for /q count=4,bytes=16');
        await sh.run('set /q/b hi');
        await sh.run('delete /q/c/d');
        expect(statLine(await sh.run('listquota /q'))).toBe('Output stat for /q count=3,bytes=13');
        // Soft limits are only counted: a sixth node goes in without enforcement.
        for (const n of ['e', 'f', 'g']) await sh.run(`create /q/${n}`);
        expect(statLine(await sh.run('listquota /q'))).toBe('Output stat for /q count=6,bytes=13');
        // The server rewrites the data in place: no new version, no new mzxid.
        const stat = await sh.run('stat /zookeeper/quota/q/zookeeper_stats');
        expect(stat).toMatch(/^dataVersion = 0$/m);
        expect(stat).toMatch(/^dataLength = 16$/m);
        expect(await sh.run('get /zookeeper/quota/q/zookeeper_stats')).toBe('count=6,bytes=13\n');
        // Writes outside the quota'd path leave it alone.
        await sh.run('create /qq outside');
        expect(statLine(await sh.run('listquota /q'))).toBe('Output stat for /q count=6,bytes=13');
        expect(await quotaMonitorLines(server.port)).toEqual([
          'zk_q_quota_bytes_limit_per_namespace\t-1',
          'zk_q_quota_bytes_usage_per_namespace\t13',
          'zk_q_quota_count_limit_per_namespace\t5',
          'zk_q_quota_count_usage_per_namespace\t6',
        ]);
      } finally {
        await sh.finish('quit');
      }
    });

    it('a client-written stats node is the base later writes count from; delquota stops the counting', async () => {
      const sh = await startZkCli(server.connectString);
      try {
        await sh.run('create /r x');
        await sh.run('setquota -b 100 /r');
        await sh.run('set /zookeeper/quota/r/zookeeper_stats count=10,bytes=0');
        await sh.run('create /r/a abc');
        expect(statLine(await sh.run('listquota /r'))).toBe('Output stat for /r count=11,bytes=3');
        // delquota without a flag deletes the quota's nodes: writes under /r are no longer counted.
        await sh.run('delquota /r');
        expect(await sh.run('ls /zookeeper/quota/r')).toMatch(/Node does not exist|^\[\]$/m);
        await sh.run('create /r/b abc');
        // A new quota counts the subtree afresh (its stats node's creation recounts it).
        await sh.run('setquota -n 10 /r');
        expect(statLine(await sh.run('listquota /r'))).toBe('Output stat for /r count=3,bytes=7');
      } finally {
        await sh.finish('quit');
      }
    });

    it('nothing is refused while zookeeper.enforceQuota is off', async () => {
      const sh = await startZkCli(server.connectString);
      try {
        await sh.run('create /s x');
        await sh.run('setquota -N 1 /s');
        expect(await sh.run('create /s/over')).toBe('Created /s/over\n');
      } finally {
        await sh.finish('quit');
      }
    });
  });

  describe.skipIf(skip)(`quotas (enforced) vs ${kind}`, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer(kind, { enforceQuota: true });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('a create or setData over a hard limit is refused QUOTAEXCEEDED; soft limits let writes through', async () => {
      const sh = await startZkCli(server.connectString);
      try {
        await sh.run('create /app x');
        await sh.run('setquota -N 3 /app');
        expect(await sh.run('create /app/b hello')).toBe('Created /app/b\n');
        expect(await sh.run('create /app/c hello')).toBe('Created /app/c\n');
        expect(await sh.run('create /app/d')).toMatch(/Quota has exceeded : \/app\/d/);
        await sh.run('setquota -B 13 /app');
        expect(await sh.run('set /app/b hello12')).toBe('');
        expect(await sh.run('set /app/b hello123')).toMatch(/Quota has exceeded : \/app\/b/);
        // Back under the limit.
        await sh.run('set /app/b h');
        expect(statLine(await sh.run('listquota /app'))).toBe('Output stat for /app count=3,bytes=7');
        // A soft limit only logs.
        await sh.run('create /soft x');
        await sh.run('setquota -n 1 /soft');
        expect(await sh.run('create /soft/over')).toBe('Created /soft/over\n');
        expect(await quotaMonitorLines(server.port)).toEqual([
          'zk_app_quota_bytes_limit_per_namespace\t13',
          'zk_app_quota_bytes_usage_per_namespace\t7',
          'zk_app_quota_count_limit_per_namespace\t3',
          'zk_app_quota_count_usage_per_namespace\t3',
          'zk_app_quota_exceeded_error_per_namespace\t2',
          'zk_soft_quota_bytes_limit_per_namespace\t-1',
          'zk_soft_quota_bytes_usage_per_namespace\t1',
          'zk_soft_quota_count_limit_per_namespace\t1',
          'zk_soft_quota_count_usage_per_namespace\t2',
        ]);
      } finally {
        await sh.finish('quit');
      }
    });

    it('a multi whose create goes over a hard limit fails as a whole, QUOTAEXCEEDED at that op', async () => {
      const { client, outcome } = await WireClient.connect(server.port);
      try {
        expect(outcome.kind).toBe('connected');
        const before = await client.request(Op.exists, { path: '/app/c', watch: false });
        const r = await client.request(Op.multi, {
          ops: [
            { type: Op.setData, request: { path: '/app/c', data: new TextEncoder().encode('x'), version: -1 } },
            { type: Op.create, request: { path: '/app/e', data: null, acl: OPEN, flags: 0 } },
          ],
        });
        expect(r.err).toBe(0);
        expect(r.body).toEqual([
          { type: -1, response: { err: 0 } },
          { type: -1, response: { err: Err.QUOTAEXCEEDED } },
        ]);
        const after = await client.request(Op.exists, { path: '/app/c', watch: false });
        expect(after.body).toEqual(before.body);
      } finally {
        client.destroy();
      }
    });
  });
}
