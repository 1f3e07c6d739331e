// client.portUnification on a real server over 127.0.0.1: the plain client port also takes TLS
// clients, told apart by their first byte (ZooKeeper's Netty DualModeSslHandler), so that clients
// can move to TLS one at a time without a second port. A TLS client there gets what it would get
// on the secure client port (the handshake as ssl.clientAuth says, the x509 id of its verified
// certificate); a plain client and a four-letter word get what they get without the key. The
// bounds hold: a socket counts once against maxClientCnxns whichever way it goes, one that sends
// nothing is closed after the sessionless timeout, and a stop does not wait for either.
// Certificates: test/fixtures/tls (make.sh).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZooKeeperClient } from '../../src/client/index.js';
import { Op } from '../../src/protocol/opcodes.js';
import { fourLetter, TLS_FIXTURES, TLS_STORE_PASSWORD } from '../support/servers.js';
import { WireClient } from '../support/wire_client.js';
import { netCounter, startTestServer, type TestServer } from './harness.js';

const fixture = (name: string): Buffer => readFileSync(join(TLS_FIXTURES, name));
const CA = fixture('ca.pem');
const CLIENT_ID = 'CN=client one,OU=ops,O=Acme\\, Inc.,C=US';

function certOf(name: string | null): { key?: Buffer; cert?: Buffer; ca: Buffer } {
  if (name === null) return { ca: CA };
  const pem = fixture(`${name}.pem`);
  return { key: pem, cert: pem, ca: CA };
}

const unified = {
  read_workers: 2,
  four_letter_whitelist: ['srvr', 'conf'],
  client_port_unification: true,
  ssl_key_store_location: join(TLS_FIXTURES, 'server.p12'),
  ssl_key_store_password: TLS_STORE_PASSWORD,
  ssl_trust_store_location: join(TLS_FIXTURES, 'ca.pem'),
};

async function whoAmI(c: WireClient): Promise<string[]> {
  const r = await c.request(Op.whoAmI, null);
  return (r.body as { clientInfo: { authScheme: string; user: string }[] }).clientInfo.map((i) => `${i.authScheme}:${i.user}`).sort();
}

async function tlsSession(port: number, cert: string | null): Promise<WireClient> {
  const { client, outcome } = await WireClient.connectTls(port, certOf(cert), { handshakeTimeout_ms: 5_000 });
  if (outcome.kind !== 'connected') {
    client.destroy();
    throw new Error(`TLS session on ${port}: ${outcome.kind}`);
  }
  return client;
}

async function plainSession(port: number): Promise<WireClient> {
  const { client, outcome } = await WireClient.connect(port);
  if (outcome.kind !== 'connected') {
    client.destroy();
    throw new Error(`plain session on ${port}: ${outcome.kind}`);
  }
  return client;
}

function openRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

function closedWithin(s: net.Socket, timeout_ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), timeout_ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

describe('client.portUnification, ssl.clientAuth=NEED', () => {
  let server: TestServer;
  const clients: WireClient[] = [];
  beforeAll(async () => {
    server = await startTestServer(unified);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('one port: a TLS client gets the x509 id of its certificate besides its ip, a plain client its ip only, side by side', async () => {
    expect(server.secure_port).toBe(-1);
    const secure = await tlsSession(server.port, 'client');
    const plain = await plainSession(server.port);
    clients.push(secure, plain);
    expect(await whoAmI(secure)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_ID}`]);
    expect(await whoAmI(plain)).toEqual(['ip:127.0.0.1']);
    // Both sessions serve: a write through one is read through the other.
    const made = await secure.request(Op.create, { path: '/unified', data: new TextEncoder().encode('v'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 });
    expect(made.err).toBe(0);
    const read = await plain.request(Op.getData, { path: '/unified', watch: false });
    expect(read.err).toBe(0);
  });

  it('four-letter words are answered on it as on a plain port', async () => {
    expect(await fourLetter(server.port, 'srvr')).toContain('Zookeeper version:');
  });

  it("waitfree's own client over TLS (ClientOptions.tls) and without, on the one port", async () => {
    const pem = fixture('client.pem');
    const secure = await ZooKeeperClient.connect(`127.0.0.1:${server.port}`, { tls: { key: pem, cert: pem, ca: CA }, sessionTimeout_ms: 10_000 });
    const plain = await ZooKeeperClient.connect(`127.0.0.1:${server.port}`, { sessionTimeout_ms: 10_000 });
    try {
      await secure.create('/own-client', 'tls');
      expect((await plain.getData('/own-client')).data?.toString()).toBe('tls');
    } finally {
      await secure.close();
      await plain.close();
    }
  });

  it('a TLS client without a certificate, or with one of another CA, fails its handshake (counted as ZooKeeper\'s unsuccessful_handshake); plain clients go on', async () => {
    const failures = await netCounter(server, 'tls_handshake_failures');
    await expect(tlsSession(server.port, null)).rejects.toThrow();
    await expect(tlsSession(server.port, 'stranger')).rejects.toThrow();
    const deadline = Date.now() + 5_000;
    while ((await netCounter(server, 'tls_handshake_failures')) < failures + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await netCounter(server, 'tls_handshake_failures')).toBe(failures + 2);
    const plain = await plainSession(server.port);
    clients.push(plain);
    expect(await whoAmI(plain)).toEqual(['ip:127.0.0.1']);
  });
});

describe('client.portUnification beside a secure client port', () => {
  it('TLS clients are taken on both ports, plain ones on the client port', async () => {
    const server = await startTestServer({ ...unified, secure_client_port: 0 });
    try {
      expect(server.secure_port).toBeGreaterThan(0);
      const a = await tlsSession(server.secure_port, 'client');
      const b = await tlsSession(server.port, 'client');
      const c = await plainSession(server.port);
      expect(await whoAmI(a)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_ID}`]);
      expect(await whoAmI(b)).toEqual(['ip:127.0.0.1', `x509:${CLIENT_ID}`]);
      expect(await whoAmI(c)).toEqual(['ip:127.0.0.1']);
      for (const x of [a, b, c]) x.destroy();
    } finally {
      await server.stop();
    }
  });
});

describe('client.portUnification and the connection bounds', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...unified, max_client_cnxns: 3, sessionless_cnxn_timeout_ms: 1_500 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a TLS socket counts once against maxClientCnxns: two TLS sessions and a plain one fit under 3, a fourth connection does not', async () => {
    const held = [await tlsSession(server.port, 'client'), await tlsSession(server.port, 'client'), await plainSession(server.port)];
    const over = await WireClient.connect(server.port).catch((e: Error) => e);
    expect(over instanceof Error || over.outcome.kind === 'closed').toBe(true);
    if (!(over instanceof Error)) over.client.destroy();
    for (const c of held) c.destroy();
    // Their places come back once the server sees the closes: three TLS sessions fit again.
    const again: WireClient[] = [];
    const deadline = Date.now() + 5_000;
    while (again.length < 3) {
      const got = await tlsSession(server.port, 'client').catch((e: Error) => e);
      if (!(got instanceof Error)) again.push(got);
      else if (Date.now() > deadline) throw new Error(`the places of closed TLS sessions did not come back: ${got.message}`);
      else await new Promise((r) => setTimeout(r, 50));
    }
    for (const c of again) c.destroy();
  });

  it('a socket that sends nothing is closed after the sessionless timeout', async () => {
    const before = await netCounter(server, 'sessionless_closes');
    const silent = await openRaw(server.port);
    silent.on('error', () => {});
    expect(await closedWithin(silent, 10_000)).toBe(true);
    // Closed for its silence (not refused by a bound: that would not count here).
    expect(await netCounter(server, 'sessionless_closes')).toBe(before + 1);
  });
});

describe('client.portUnification at stop', () => {
  it('stopping the server ends sockets that have sent nothing yet (it does not wait for their timeout)', async () => {
    const server = await startTestServer({ ...unified, sessionless_cnxn_timeout_ms: 120_000 });
    const silent = await openRaw(server.port);
    silent.on('error', () => {});
    const closed = closedWithin(silent, 30_000);
    await server.stop();
    expect(await closed).toBe(true);
  });
});
