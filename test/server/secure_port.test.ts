// The secure client port (secureClientPort) on a real server over TLS on 127.0.0.1: the handshake
// as ssl.clientAuth says (NEED, WANT, NONE), the x509 id a verified client certificate gives
// (ZooKeeper's X509AuthenticationProvider: the subject, RFC 2253), x509 ACLs checked by the
// commit worker (writes) and the read workers (reads), the certificate super user, and the
// clients that must only lose their own connection: no certificate, one of an untrusted CA,
// plain ZooKeeper bytes sent to the TLS port. The plain client port keeps serving beside it.
// Certificates: test/fixtures/tls (make.sh).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Perms } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { fourLetter, TLS_FIXTURES, TLS_STORE_PASSWORD } from '../support/servers.js';
import { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, connect, connectRequestFrame, startTestServer, text, utf8, type TestServer } from './harness.js';

const fixture = (name: string): Buffer => readFileSync(join(TLS_FIXTURES, name));
const CA = fixture('ca.pem');
/** What Java's X500Principal.getName() gives for client.pem's subject (/C=US/O=Acme, Inc./OU=ops/CN=client one). */
const CLIENT_ID = 'CN=client one,OU=ops,O=Acme\\, Inc.,C=US';
const SUPER_ID = 'CN=admin,O=waitfree';

function certOf(name: string | null): { key?: Buffer; cert?: Buffer; ca: Buffer } {
  if (name === null) return { ca: CA };
  const pem = fixture(`${name}.pem`);
  return { key: pem, cert: pem, ca: CA };
}

const serverFlags = (client_auth: string) => ({
  read_workers: 2,
  four_letter_whitelist: ['conf'],
  secure_client_port: 0,
  ssl_key_store_location: join(TLS_FIXTURES, 'server.p12'),
  ssl_key_store_password: TLS_STORE_PASSWORD,
  ssl_trust_store_location: join(TLS_FIXTURES, 'ca.pem'),
  ssl_client_auth: client_auth,
  x509_super_user: SUPER_ID,
});

async function whoAmI(c: WireClient): Promise<string[]> {
  const r = await c.request(Op.whoAmI, null);
  return (r.body as { clientInfo: { authScheme: string; user: string }[] }).clientInfo.map((i) => `${i.authScheme}:${i.user}`).sort();
}

/** Resolves when the TLS handshake has failed or the server closed the connection. */
async function refused(port: number, cert: string | null): Promise<string> {
  try {
    const { client, outcome } = await WireClient.connectTls(port, certOf(cert), { handshakeTimeout_ms: 5_000 });
    client.destroy();
    return outcome.kind === 'closed' ? 'closed before the session' : 'connected';
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

describe('secure client port, ssl.clientAuth=NEED (the default)', () => {
  let server: TestServer;
  const clients: WireClient[] = [];
  const tlsClient = async (cert: string | null): Promise<WireClient> => {
    const { client, outcome } = await WireClient.connectTls(server.secure_port, certOf(cert));
    expect(outcome.kind).toBe('connected');
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startTestServer(serverFlags('NEED'));
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('listens on its own port beside the plain one, which conf shows', async () => {
    expect(server.secure_port).toBeGreaterThan(0);
    expect(server.secure_port).not.toBe(server.port);
    expect(await fourLetter(server.port, 'conf')).toContain(`\nsecureClientPort=${server.secure_port}\n`);
  });

  it('a verified client certificate gives the x509 id of its subject (RFC 2253, as ZooKeeper)', async () => {
    const c = await tlsClient('client');
    expect(await whoAmI(c)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_ID}`]);
  });

  it('x509 ACLs: the certificate holder writes and reads, others get NOAUTH, the certificate super user passes', async () => {
    const owner = await tlsClient('client');
    const acl = [{ perms: Perms.ALL, id: { scheme: 'x509', id: CLIENT_ID } }];
    expect((await owner.request(Op.create, { path: '/tls-owned', data: utf8('mine'), acl, flags: 0 })).err).toBe(0);
    expect((await owner.request(Op.setData, { path: '/tls-owned', data: utf8('mine 2'), version: -1 })).err).toBe(0);
    const got = await owner.request(Op.getData, { path: '/tls-owned', watch: false });
    expect(text((got.body as { data: Uint8Array }).data)).toBe('mine 2');

    const plain = await connect(server.port);
    clients.push(plain);
    expect((await plain.request(Op.getData, { path: '/tls-owned', watch: false })).err).toBe(Err.NOAUTH);
    expect((await plain.request(Op.setData, { path: '/tls-owned', data: utf8('theirs'), version: -1 })).err).toBe(Err.NOAUTH);

    const admin = await tlsClient('super');
    // As ZooKeeper's whoAmI: the super id has no provider to name its user.
    expect(await whoAmI(admin)).toEqual(['ip:127.0.0.1', 'super:', `x509:${SUPER_ID}`]);
    expect((await admin.request(Op.setData, { path: '/tls-owned', data: utf8('admin was here'), version: -1 })).err).toBe(0);
    expect((await admin.request(Op.delete, { path: '/tls-owned', version: -1 })).err).toBe(0);
  });

  it("waitfree's own client over TLS (ClientOptions.tls): a session with the certificate's id; a bad CA never connects", async () => {
    const { ZooKeeperClient } = await import('../../src/client/index.js');
    const pem = fixture('client.pem');
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${server.secure_port}`, { tls: { ca: CA, key: pem, cert: pem, servername: 'localhost' } });
    try {
      const ids = (await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`).sort();
      expect(ids).toEqual(['ip:127.0.0.1', `x509:${CLIENT_ID}`]);
      await zk.create('/client-tls', 'x', { acl: [{ perms: Perms.ALL, id: { scheme: 'x509', id: CLIENT_ID } }] });
      expect(text((await zk.getData('/client-tls')).data)).toBe('x');
    } finally {
      await zk.close();
    }
    const untrusting = ZooKeeperClient.connect(`127.0.0.1:${server.secure_port}`, { tls: { ca: fixture('other-ca.pem'), key: pem, cert: pem, servername: 'localhost' }, connectTimeout_ms: 1_500 });
    await expect(untrusting).rejects.toThrow();
  });

  it('an x509 ACL entry that is no distinguished name is INVALIDACL', async () => {
    const c = await tlsClient('client');
    const acl = [{ perms: Perms.ALL, id: { scheme: 'x509', id: 'not a name' } }];
    expect((await c.request(Op.create, { path: '/tls-bad-acl', data: utf8(''), acl, flags: 0 })).err).toBe(Err.INVALIDACL);
  });

  it('a client without a certificate, or with one of another CA, fails the handshake; nothing else changes', async () => {
    expect(await refused(server.secure_port, null)).toMatch(/^refused|^closed/);
    expect(await refused(server.secure_port, 'stranger')).toMatch(/^refused|^closed/);
    const c = await tlsClient('client');
    expect((await c.request(Op.exists, { path: '/', watch: false })).err).toBe(0);
  });

  it('plain ZooKeeper bytes sent to the TLS port end that connection only', async () => {
    const sock = net.connect({ host: '127.0.0.1', port: server.secure_port });
    sock.on('error', () => {});
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(connectRequestFrame());
    await new Promise<void>((resolve) => sock.once('close', () => resolve()));
    const plain = await connect(server.port);
    clients.push(plain);
    expect((await plain.request(Op.create, { path: '/after-garbage', data: utf8(''), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
  });
});

describe('secure client port and maxClientCnxns', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...serverFlags('NEED'), max_client_cnxns: 3 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const openRaw = async (): Promise<net.Socket> => {
    const sock = net.connect({ host: '127.0.0.1', port: server.secure_port });
    sock.on('error', () => {});
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    return sock;
  };
  const sessionSoon = async (): Promise<WireClient> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const got = await WireClient.connectTls(server.secure_port, certOf('client')).catch((e: Error) => e);
      if (!(got instanceof Error) && got.outcome.kind === 'connected') return got.client;
      if (!(got instanceof Error)) got.client.destroy();
      if (Date.now() > deadline) throw new Error(`no TLS session within 5 s: ${got instanceof Error ? got.message : 'closed'}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const closeAll = async (socks: net.Socket[]): Promise<void> => {
    await Promise.all(socks.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : (s.once('close', () => resolve()), s.destroy())))));
  };

  it('a socket that never handshakes holds its place until it closes; TLS sessions give theirs back', async () => {
    const idle = [await openRaw(), await openRaw(), await openRaw()];
    // The fourth connection from this address is over the bound, on either port.
    expect(await refused(server.secure_port, 'client')).toMatch(/^refused|^closed/);
    const plain = await WireClient.connect(server.port).catch((e: Error) => e);
    expect(plain instanceof Error || plain.outcome.kind === 'closed').toBe(true);
    if (!(plain instanceof Error)) plain.client.destroy();
    await closeAll(idle);
    // The server sees the closes a moment later: a session within 5 s, each time.
    for (let i = 0; i < 5; i++) (await sessionSoon()).destroy();
    const held = [await sessionSoon(), await sessionSoon(), await sessionSoon()];
    for (const c of held) c.destroy();
  });
});

describe('secure client port at stop', () => {
  it('stopping the server ends the sockets still in their handshake (it does not wait for their timeout)', async () => {
    // A handshake timeout (the sessionless timeout) longer than the test's own: a stop that
    // waited for it would fail the test. (The net worker ends them itself, and its thread is
    // terminated after its stop anyway.)
    const server = await startTestServer({ ...serverFlags('NEED'), sessionless_cnxn_timeout_ms: 120_000 });
    const sock = net.connect({ host: '127.0.0.1', port: server.secure_port });
    sock.on('error', () => {});
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    await server.stop();
    await closed;
  });
});

describe('secure client port, ssl.clientAuth=WANT and NONE', () => {
  let want: TestServer;
  let none: TestServer;
  beforeAll(async () => {
    want = await startTestServer(serverFlags('want'));
    none = await startTestServer(serverFlags('NONE'));
  });
  afterAll(async () => {
    await want?.stop();
    await none?.stop();
  });

  it('WANT: a client without a certificate comes in with its ip id only; one with a verified certificate gets its x509 id', async () => {
    const { client: anon } = await WireClient.connectTls(want.secure_port, certOf(null));
    expect(await whoAmI(anon)).toEqual(['ip:127.0.0.1']);
    const { client: known } = await WireClient.connectTls(want.secure_port, certOf('client'));
    expect(await whoAmI(known)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_ID}`]);
    anon.destroy();
    known.destroy();
  });

  it('WANT: a certificate that does not verify is refused', async () => {
    expect(await refused(want.secure_port, 'stranger')).toMatch(/^refused|^closed/);
  });

  it('NONE: no certificate is asked for, so none gives an id', async () => {
    const { client } = await WireClient.connectTls(none.secure_port, certOf('client'));
    expect(await whoAmI(client)).toEqual(['ip:127.0.0.1']);
    client.destroy();
  });
});
