// Apache ZooKeeper's own Java shell (zkCli.sh from the Debian package) runs scripted sessions
// against each server; we check what a user at that shell would read.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startZkCli } from '../support/cli_shells.js';
import { serverKindsUnderTest, startServer, type RunningServer } from '../support/servers.js';
import { APACHE_ZK_FILES, ZKCLI_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const zkcli_missing = missingTools(ZKCLI_FILES, true);
const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('zkCli.sh (Debian zookeeper)', zkcli_missing);

const STAT_FIELDS = [
  'cZxid',
  'ctime',
  'mZxid',
  'mtime',
  'pZxid',
  'cversion',
  'dataVersion',
  'aclVersion',
  'ephemeralOwner',
  'dataLength',
  'numChildren',
];

/** Parses zkCli's `name = value` stat block. */
function statFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^(\w+) = (.*)$/gm)) out[m[1]] = m[2];
  return out;
}

function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** The server's SASL DIGEST-MD5 users (its JAAS file's Server section). */
const SASL_USERS = { jaasuser: 'jaas_password' } as const;

/** A client JAAS file: the Java client logs in with DIGEST-MD5 as `user`. */
function clientJaas(dir: string, user: string, password: string): string {
  const path = join(dir, `client-${user}-${password}.conf`);
  writeFileSync(path, `Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username="${user}"\n  password="${password}";\n};\n`);
  return path;
}

for (const kind of serverKindsUnderTest()) {
  const skip = zkcli_missing.length > 0 || (kind === 'zookeeper' && zk_missing.length > 0);
  describe.skipIf(skip)(`zkCli.sh vs ${kind}`, () => {
    let server: RunningServer;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'zkcli-jaas-'));
      // SASL on: clients without a JAAS file (every other case here) do not try it.
      server = await startServer(kind, { saslUsers: SASL_USERS });
    });
    afterAll(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('create / get / set / stat / ls / delete / deleteall and their error messages', async () => {
      const sh = await startZkCli(server.connectString);
      try {
        expect(await sh.run('create /zkcli hello')).toBe('Created /zkcli\n');
        expect(await sh.run('get /zkcli')).toBe('hello\n');
        const got = await sh.run('get -s /zkcli');
        expect(got.startsWith('hello\n')).toBe(true);
        const s0 = statFields(got);
        expect(Object.keys(s0)).toEqual(STAT_FIELDS);
        expect(s0).toMatchObject({ dataVersion: '0', cversion: '0', aclVersion: '0', dataLength: '5', numChildren: '0', ephemeralOwner: '0x0' });
        expect(s0.cZxid).toMatch(/^0x[0-9a-f]+$/);
        expect(s0.mZxid).toBe(s0.cZxid);
        expect(s0.pZxid).toBe(s0.cZxid);

        expect(await sh.run('set /zkcli world')).toBe('');
        expect(await sh.run('get /zkcli')).toBe('world\n');
        const s1 = statFields(await sh.run('stat /zkcli'));
        expect(Object.keys(s1)).toEqual(STAT_FIELDS);
        expect(s1).toMatchObject({ dataVersion: '1', dataLength: '5', cZxid: s0.cZxid });
        expect(BigInt(s1.mZxid)).toBeGreaterThan(BigInt(s0.mZxid));
        expect(await sh.run('set -v 7 /zkcli nope')).toBe('version No is not valid : /zkcli\n');

        expect(await sh.run('create -e /zkcli/eph e')).toBe('Created /zkcli/eph\n');
        const se = statFields(await sh.run('stat /zkcli/eph'));
        expect(se.ephemeralOwner).toMatch(/^0x[0-9a-f]*[1-9a-f][0-9a-f]*$/);
        expect(await sh.run('create /zkcli/eph/child x')).toBe('Ephemerals cannot have children: /zkcli/eph/child\n');
        expect(await sh.run('create -s /zkcli/seq- a')).toBe('Created /zkcli/seq-0000000001\n');
        expect(await sh.run('create -s /zkcli/seq- b')).toBe('Created /zkcli/seq-0000000002\n');
        expect(await sh.run('ls /zkcli')).toBe('[eph, seq-0000000001, seq-0000000002]\n');
        const sp = statFields(await sh.run('stat /zkcli'));
        expect(sp).toMatchObject({ cversion: '3', numChildren: '3' });

        expect(await sh.run('create /zkcli dup')).toBe('Node already exists: /zkcli\n');
        expect(await sh.run('create /zkcli-missing/child x')).toBe('Node does not exist: /zkcli-missing/child\n');
        expect(await sh.run('get /zkcli-missing')).toBe('Node does not exist: /zkcli-missing\n');
        expect(await sh.run('delete /zkcli')).toBe('Node not empty: /zkcli\n');
        expect(await sh.run('delete -v 9 /zkcli/seq-0000000001')).toBe('version No is not valid : /zkcli/seq-0000000001\n');
        expect(await sh.run('delete /zkcli/seq-0000000001')).toBe('');
        expect(await sh.run('ls /zkcli')).toBe('[eph, seq-0000000002]\n');
        expect(await sh.run('sync /zkcli')).toBe('Sync is OK\n');
        expect(await sh.run('deleteall /zkcli')).toBe('');
        expect(await sh.run('stat /zkcli')).toBe('Node does not exist: /zkcli\n');
        expect(await sh.run('ls /')).toMatch(/^\[.*\bzookeeper\b.*\]\n$/);
      } finally {
        await sh.finish('quit');
      }
    });

    it('ephemeral nodes of a closed zkCli session are gone for the next session', async () => {
      const first = await startZkCli(server.connectString);
      expect(await first.run('create -e /zkcli-eph x')).toBe('Created /zkcli-eph\n');
      await first.finish('quit');
      const second = await startZkCli(server.connectString);
      try {
        expect(await second.run('stat /zkcli-eph')).toBe('Node does not exist: /zkcli-eph\n');
      } finally {
        await second.finish('quit');
      }
    });

    it('getAcl / setAcl / addauth: digest ACLs deny others and admit the owner', async () => {
      const owner = await startZkCli(server.connectString);
      try {
        expect(await owner.run('create /zkcli-acl open')).toBe('Created /zkcli-acl\n');
        expect(await owner.run('getAcl /zkcli-acl')).toBe("'world,'anyone\n: cdrwa\n");
        expect(await owner.run('addauth digest alice:pw')).toBe('');
        expect(await owner.run('setAcl /zkcli-acl auth::cdrwa')).toBe('');
        expect(await owner.run('getAcl /zkcli-acl')).toBe(`'digest,'${digestId('alice', 'pw')}\n: cdrwa\n`);
        expect(await owner.run('get /zkcli-acl')).toBe('open\n');
        expect(await owner.run('create /zkcli-ro x world:anyone:r')).toBe('Created /zkcli-ro\n');
        expect(await owner.run('set /zkcli-ro y')).toBe('Insufficient permission : /zkcli-ro\n');
        expect(await owner.run('setAcl /zkcli-ro bogus:zzz:r')).toBe('Acl is not valid : /zkcli-ro\n');
        const st = statFields(await owner.run('stat /zkcli-acl'));
        expect(st.aclVersion).toBe('1');
      } finally {
        await owner.finish('quit');
      }

      const other = await startZkCli(server.connectString);
      try {
        expect(await other.run('get /zkcli-acl')).toBe('Insufficient permission : /zkcli-acl\n');
        expect(await other.run('addauth digest alice:wrong')).toBe('');
        expect(await other.run('get /zkcli-acl')).toBe('Insufficient permission : /zkcli-acl\n');
        expect(await other.run('addauth digest alice:pw')).toBe('');
        expect(await other.run('get /zkcli-acl')).toBe('open\n');
      } finally {
        await other.finish('quit');
      }
    });

    it('SASL DIGEST-MD5 with a client JAAS file: logged in as sasl:jaasuser, whose ACL shuts out other sessions', async () => {
      const owner = await startZkCli(server.connectString, {
        jaas_file: clientJaas(dir, 'jaasuser', 'jaas_password'),
        ready: /WatchedEvent state:SaslAuthenticated type:None path:null\n/,
      });
      try {
        // In the order of ZooKeeper's hash set of ids, on both servers.
        const ids = (await owner.run('whoami')).split('\n').filter((l) => l !== '');
        expect(ids).toEqual(['Auth scheme: User', 'ip: 127.0.0.1', 'sasl: jaasuser']);
        expect(await owner.run('create /zkcli-sasl s sasl:jaasuser:cdrwa')).toBe('Created /zkcli-sasl\n');
        expect(await owner.run('getAcl /zkcli-sasl')).toBe("'sasl,'jaasuser\n: cdrwa\n");
        expect(await owner.run('get /zkcli-sasl')).toBe('s\n');
        expect(await owner.run('create /zkcli-sasl-auth a auth::cdrwa')).toBe('Created /zkcli-sasl-auth\n');
        expect(await owner.run('getAcl /zkcli-sasl-auth')).toBe("'sasl,'jaasuser\n: cdrwa\n");
        expect(await owner.run('setAcl /zkcli-sasl-auth sasl:a@b@c:r')).toBe('Acl is not valid : /zkcli-sasl-auth\n');
      } finally {
        await owner.finish('quit');
      }

      const other = await startZkCli(server.connectString);
      try {
        expect(await other.run('get /zkcli-sasl')).toBe('Insufficient permission : /zkcli-sasl\n');
        expect(await other.run('set /zkcli-sasl-auth x')).toBe('Insufficient permission : /zkcli-sasl-auth\n');
      } finally {
        await other.finish('quit');
      }
    });

    it('SASL with a wrong password: the Java client reports AuthFailed', async () => {
      const sh = await startZkCli(server.connectString, {
        jaas_file: clientJaas(dir, 'jaasuser', 'wrong'),
        ready: /WatchedEvent state:AuthFailed type:None path:null\n/,
      });
      await sh.finish('quit');
      expect(sh.transcript()).not.toMatch(/SaslAuthenticated/);
    });

    it('watches set with get -w / ls -w fire once and are printed', async () => {
      const sh = await startZkCli(server.connectString);
      try {
        await sh.run('create /zkcli-w v0');
        expect(await sh.run('get -w /zkcli-w')).toBe('v0\n');
        expect(await sh.run('ls -w /zkcli-w')).toBe('[]\n');
        await sh.run('set /zkcli-w v1');
        await sh.run('set /zkcli-w v2');
        await sh.run('create /zkcli-w/c x');
        await sh.run('create /zkcli-w/d x');
        await sh.run('get /zkcli-w');
      } finally {
        await sh.finish('quit');
      }
      const events = [...sh.transcript().matchAll(/WatchedEvent state:(\w+) type:(\w+) path:(\S+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
      expect(events).toEqual([
        'SyncConnected None null',
        'SyncConnected NodeDataChanged /zkcli-w',
        'SyncConnected NodeChildrenChanged /zkcli-w',
        'Closed None null',
      ]);
    });
  });
}
