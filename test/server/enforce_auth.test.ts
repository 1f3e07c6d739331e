// zookeeper.enforce.auth and zookeeper.sessionRequireClientSASLAuth on a real server over TCP,
// as ZooKeeper 3.8's AuthenticationHelper: a connection without an id of an enforced scheme has
// every request but auth and sasl answered SESSIONCLOSEDREQUIRESASLAUTH (zxid 0) and is closed;
// its session stays, so the client may come back and log in. The net worker's fast reads and
// direct writes would answer a request without the read worker that holds the connection's ids:
// under enforcement they are off, whatever their keys say (the config turns them on here).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/config_error.js';
import { Err } from '../../src/protocol/errors.js';
import type { OpCode, RequestInput } from '../../src/protocol/messages.js';
import { Op } from '../../src/protocol/opcodes.js';
import { digestResponse, nonceOf } from '../support/digest_md5_client.js';
import { thrownBy } from '../support/thrown.js';
import type { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, connect, fastReads, netCounter, startTestServer, utf8, type TestServer } from './harness.js';

const JAAS = 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_myuser="mypassword";\n};\n';

async function refused<C extends OpCode>(c: WireClient, op: C, body: RequestInput<C>): Promise<void> {
  const r = await c.request(op, body);
  expect([r.err, r.zxid]).toEqual([Err.SESSIONCLOSEDREQUIRESASLAUTH, 0]);
  expect(await c.waitClosed()).toBe(true);
}

describe('zookeeper.enforce.auth: digest', () => {
  let server: TestServer;
  const clients: WireClient[] = [];
  const client = async (): Promise<WireClient> => {
    const c = await connect(server.port);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startTestServer({
      read_workers: 2,
      enforce_auth_enabled: true,
      enforce_auth_schemes: 'digest',
      net_fast_reads: true,
      net_direct_writes: true,
    });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
  });

  it('refuses a read, a write and a ping of a connection without a digest id, and closes it', async () => {
    await refused(await client(), Op.getData, { path: '/', watch: false });
    await refused(await client(), Op.create, { path: '/nope', data: null, acl: OPEN_ACL, flags: 0 });
    await refused(await client(), Op.ping, null);
    const other = await client();
    expect((await other.request(Op.auth, { type: 0, scheme: 'digest', auth: utf8('u:p') })).err).toBe(0);
    expect((await other.request(Op.exists, { path: '/nope', watch: false })).err).toBe(Err.NONODE);
  });

  it('serves everything once the connection has a digest id, reads and writes alike', async () => {
    const c = await client();
    expect((await c.request(Op.auth, { type: 0, scheme: 'digest', auth: utf8('user:secret') })).err).toBe(0);
    expect((await c.request(Op.create, { path: '/in', data: utf8('x'), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    for (let i = 0; i < 20; i++) expect((await c.request(Op.getData, { path: '/in', watch: false })).err).toBe(0);
    expect((await c.request(Op.setData, { path: '/in', data: utf8('y'), version: -1 })).err).toBe(0);
    // Every one of them passed the read worker that holds the connection's ids.
    expect(await fastReads(server)).toBe(0);
    expect(await netCounter(server, 'direct_writes')).toBe(0);
  });

  it('an ip id alone is not a digest id', async () => {
    const c = await client();
    expect((await c.request(Op.auth, { type: 0, scheme: 'ip', auth: utf8('') })).err).toBe(0);
    await refused(c, Op.getChildren, { path: '/', watch: false });
  });
});

describe('zookeeper.sessionRequireClientSASLAuth', () => {
  let server: TestServer;
  let dir: string;
  const clients: WireClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waitfree-enforce-'));
    writeFileSync(join(dir, 'jaas.conf'), JAAS);
    server = await startTestServer({ session_require_client_sasl_auth: true, sasl_jaas_config_file: join(dir, 'jaas.conf') });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a digest id is not enough; a SASL login is, and a failed one is SESSIONCLOSEDREQUIRESASLAUTH', async () => {
    const digest = await connect(server.port);
    clients.push(digest);
    expect((await digest.request(Op.auth, { type: 0, scheme: 'digest', auth: utf8('u:p') })).err).toBe(0);
    await refused(digest, Op.exists, { path: '/', watch: false });

    const sasl = await connect(server.port);
    clients.push(sasl);
    const challenge = await sasl.request(Op.sasl, { token: new Uint8Array(0) });
    const nonce = nonceOf((challenge.body as { token: Uint8Array }).token);
    expect((await sasl.request(Op.sasl, { token: digestResponse({ user: 'myuser', password: 'mypassword' }, nonce) })).err).toBe(0);
    expect((await sasl.request(Op.create, { path: '/sasl-in', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);

    const wrong = await connect(server.port);
    clients.push(wrong);
    const c2 = await wrong.request(Op.sasl, { token: new Uint8Array(0) });
    const n2 = nonceOf((c2.body as { token: Uint8Array }).token);
    const failed = await wrong.request(Op.sasl, { token: digestResponse({ user: 'myuser', password: 'wrong' }, n2) });
    expect([failed.err, failed.zxid]).toEqual([Err.SESSIONCLOSEDREQUIRESASLAUTH, 0]);
    expect(await wrong.waitClosed()).toBe(true);
  });
});

describe('enforcement configuration', () => {
  const load = (lines: string[]) => loadConfig({ text: lines.join('\n') });

  it('needs schemes, and only schemes served here; fast reads and direct writes go off', () => {
    const missing = thrownBy(() => load(['enforce.auth.enabled=true']), ConfigError);
    expect(missing.message).toMatch(/zookeeper\.enforce\.auth\.schemes must name the schemes/);
    expect(missing.key).toBe('zookeeper.enforce.auth.schemes');
    expect(() => load(['enforce.auth.enabled=true', 'enforce.auth.schemes=x509'])).toThrow(/authentication scheme x509 is not available/);
    const on = load(['enforce.auth.enabled=true', 'enforce.auth.schemes=digest,sasl', 'waitfree.net.fastReads=true']).config;
    expect([on.net_fast_reads, on.net_direct_writes]).toEqual([false, false]);
    const off = load(['enforce.auth.schemes=digest']).config;
    expect([off.net_fast_reads, off.net_direct_writes]).toEqual([true, true]);
  });
});
