// Apache ZooKeeper's Java shell over TLS (zkCli.sh with the Netty client socket and a client
// certificate, as ZooKeeper's TLS guide sets it up) against each server's secure client port:
// the x509 id the certificate gives, a node only that certificate may touch (an `auth` ACL
// expands to the x509 id), what a plain-port client and a certificate-less client get, and the
// certificate super user, and TLS on the plain client port (client.portUnification). Every
// scripted session must read the same on waitfree as on ZooKeeper 3.8 (serving TLS with its Netty
// connection factory).

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startZkCli } from '../support/cli_shells.js';
import type { ShellSession } from '../support/shell_driver.js';
import { serverKindsUnderTest, startServer, TLS_FIXTURES, TLS_STORE_PASSWORD, type RunningServer, type ServerKind } from '../support/servers.js';
import { APACHE_ZK_FILES, ZKCLI_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

const zkcli_missing = missingTools(ZKCLI_FILES, true);
const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('zkCli.sh (Debian zookeeper)', zkcli_missing);

const CLIENT_ID = 'CN=client one,OU=ops,O=Acme\\, Inc.,C=US';
const SUPER_ID = 'CN=admin,O=waitfree';
/** A PKCS#12 key store for the Java client, made from a PEM fixture's key and certificate. */
const CLIENT_P12 = join(TLS_FIXTURES, 'client.p12');
const CA = join(TLS_FIXTURES, 'ca.pem');

function tlsShell(server: RunningServer, key_store: string | null): Promise<ShellSession> {
  return startZkCli(`127.0.0.1:${server.securePort}`, { tls: { keyStore: key_store, password: TLS_STORE_PASSWORD, trustStore: CA } });
}

const PYTHON = '/usr/bin/python3';
const kazoo_missing = missingTools([PYTHON, '/usr/lib/python3/dist-packages/kazoo/client.py']);

/** kazoo over TLS (use_ssl, a client certificate, the CA): an x509 ACL of its own certificate,
 *  read back, and what a plain-port kazoo gets. argv: secure hosts, plain hosts, fixtures dir. */
const KAZOO_TLS = `
import json, logging, sys
logging.basicConfig(level=logging.CRITICAL)
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl
secure, plain, fixtures = sys.argv[1], sys.argv[2], sys.argv[3]
pem = fixtures + 'client.pem'
zk = KazooClient(hosts=secure, use_ssl=True, verify_certs=True, ca=fixtures + 'ca.pem', certfile=pem, keyfile=pem)
zk.start(timeout=15)
out = {}
zk.create('/kazoo-tls', b'v1', acl=[make_acl('x509', ${JSON.stringify(CLIENT_ID)}, all=True)])
zk.set('/kazoo-tls', b'v2')
out['get'] = zk.get('/kazoo-tls')[0].decode()
acl, _ = zk.get_acls('/kazoo-tls')
out['acl'] = [[a.id.scheme, a.id.id, a.perms] for a in acl]
zk.stop(); zk.close()
other = KazooClient(hosts=plain)
other.start(timeout=15)
try:
    other.get('/kazoo-tls')
    out['plain'] = 'read'
except NoAuthError:
    out['plain'] = 'NoAuthError'
other.stop(); other.close()
print(json.dumps(out))
`;

function runKazooTls(server: RunningServer): Promise<unknown> {
  const args = ['-c', KAZOO_TLS, `127.0.0.1:${server.securePort}`, server.connectString, TLS_FIXTURES];
  return new Promise((resolve, reject) => {
    execFile(PYTHON, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`kazoo failed: ${error.message}\n${stdout}\n${stderr.slice(-3000)}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''));
    });
  });
}

/** What each kind's sessions printed, by step, for the comparison at the end. */
const transcripts = new Map<ServerKind, Map<string, string>>();

for (const kind of serverKindsUnderTest()) {
  const skip = zkcli_missing.length > 0 || (kind === 'zookeeper' && zk_missing.length > 0);
  describe.skipIf(skip)(`zkCli.sh over TLS vs ${kind}`, () => {
    let server: RunningServer;
    const seen = new Map<string, string>();
    transcripts.set(kind, seen);
    beforeAll(async () => {
      server = await startServer(kind, { tls: { clientAuth: 'WANT', superUser: SUPER_ID, portUnification: true } });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('a client certificate is the x509 id; an auth ACL made with it shuts out the plain port', async () => {
      const sh = await tlsShell(server, CLIENT_P12);
      try {
        const who = await sh.run('whoami');
        seen.set('whoami', who);
        expect(who).toContain(`x509: ${CLIENT_ID}\n`);
        expect(await sh.run('create /tls-owned mine auth::cdrwa')).toBe('Created /tls-owned\n');
        const acl = await sh.run('getAcl /tls-owned');
        seen.set('getAcl', acl);
        // zkCli prints an ACL id's commas as %2C.
        expect(acl).toBe(`'x509,'${CLIENT_ID.replaceAll(',', '%2C')}\n: cdrwa\n`);
        expect(await sh.run('get /tls-owned')).toBe('mine\n');
      } finally {
        await sh.finish('quit');
      }
      const plain = await startZkCli(server.connectString);
      try {
        const denied = await plain.run('get /tls-owned');
        seen.set('plain get', denied);
        expect(denied).toContain('Insufficient permission');
      } finally {
        await plain.finish('quit');
      }
    });

    it.skipIf(kazoo_missing.length > 0)('kazoo over TLS: its certificate is its x509 id for an ACL; the plain port gets NoAuthError', async () => {
      const result = await runKazooTls(server);
      seen.set('kazoo', JSON.stringify(result));
      expect(result).toEqual({ get: 'v2', acl: [['x509', CLIENT_ID, 31]], plain: 'NoAuthError' });
    });

    it('client.portUnification: over TLS on the plain client port, the same x509 id; plain zkCli there too', async () => {
      const sh = await startZkCli(server.connectString, { tls: { keyStore: CLIENT_P12, password: TLS_STORE_PASSWORD, trustStore: CA } });
      try {
        const who = await sh.run('whoami');
        seen.set('unified whoami', who);
        expect(who).toContain(`x509: ${CLIENT_ID}\n`);
        expect(await sh.run('get /tls-owned')).toBe('mine\n');
      } finally {
        await sh.finish('quit');
      }
      const plain = await startZkCli(server.connectString);
      try {
        const who = await plain.run('whoami');
        seen.set('unified plain whoami', who);
        expect(who).not.toContain('x509');
      } finally {
        await plain.finish('quit');
      }
    });

    it('without a certificate (ssl.clientAuth=WANT) the session has its ip id only; the certificate super user passes every ACL', async () => {
      const anon = await tlsShell(server, null);
      try {
        const who = await anon.run('whoami');
        seen.set('anonymous whoami', who);
        expect(who).not.toContain('x509');
        expect(await anon.run('get /tls-owned')).toContain('Insufficient permission');
      } finally {
        await anon.finish('quit');
      }
      const admin = await tlsShell(server, join(TLS_FIXTURES, 'super.p12'));
      try {
        const who = await admin.run('whoami');
        seen.set('super whoami', who);
        expect(who).toContain(`x509: ${SUPER_ID}\n`);
        expect(who).toContain('super: \n');
        expect(await admin.run('set /tls-owned admin')).toBe('');
        expect(await admin.run('get /tls-owned')).toBe('admin\n');
      } finally {
        await admin.finish('quit');
      }
    });
  });
}

describe.skipIf(zkcli_missing.length > 0 || zk_missing.length > 0 || serverKindsUnderTest().length < 2)('zkCli.sh over TLS: waitfree reads as ZooKeeper', () => {
  it('every step printed the same', () => {
    const waitfree = transcripts.get('waitfree');
    const zookeeper = transcripts.get('zookeeper');
    expect(waitfree?.size).toBeGreaterThan(0);
    expect(Object.fromEntries(waitfree ?? [])).toEqual(Object.fromEntries(zookeeper ?? []));
  });
});
