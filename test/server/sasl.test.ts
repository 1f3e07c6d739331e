// SASL DIGEST-MD5 on a real server over TCP, with a JAAS file as ZooKeeper reads it: the
// handshake (sasl packets, as kazoo and the Java client send them), the sasl id it adds, sasl
// ACLs checked by the read workers (reads) and the commit worker (writes, create's ACL), the
// super user, and the failures: AUTHFAILED then a closed connection, or (where ZooKeeper's
// handler throws) a closed connection without a reply. Two read workers: sessions land on
// different shards, so the ids must reach the commit worker and the other shard's reads alike.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Perms } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { Op } from '../../src/protocol/opcodes.js';
import { clientDigest, digestResponse, nonceOf, type DigestClient } from '../support/digest_md5_client.js';
import type { Reply, WireClient } from '../support/wire_client.js';
import { OPEN_ACL, connect, rawSession, startTestServer, text, utf8, type TestServer } from './harness.js';

const JAAS = `/* what kazoo's test harness writes, plus a super user */
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_admin="admin_secret"
    user_jaasuser="jaas_password";
};
`;
const JAASUSER: DigestClient = { user: 'jaasuser', password: 'jaas_password' };
const SASL_ONLY = [{ perms: Perms.ALL, id: { scheme: 'sasl', id: 'jaasuser' } }];

function tokenOf(r: Reply): Uint8Array {
  const token = (r.body as { token: Uint8Array | null }).token;
  if (token === null) throw new Error('null token');
  return token;
}

/** The whole handshake: empty token, challenge, digest-response, rspauth. The rspauth checked. */
async function saslLogin(c: WireClient, who: DigestClient): Promise<Reply> {
  const challenge = await c.request(Op.sasl, { token: new Uint8Array(0) });
  expect([challenge.err, challenge.zxid]).toEqual([0, 0]);
  const nonce = nonceOf(tokenOf(challenge));
  const done = await c.request(Op.sasl, { token: digestResponse(who, nonce) });
  if (done.err === 0) expect(text(tokenOf(done))).toBe(`rspauth=${clientDigest(who, nonce, '')}`);
  return done;
}

/** A sasl request frame (length prefix included). */
function saslFrame(xid: number, token: Uint8Array): Buffer {
  const frame = Buffer.alloc(16 + token.length);
  frame.writeInt32BE(12 + token.length, 0);
  frame.writeInt32BE(xid, 4);
  frame.writeInt32BE(Op.sasl, 8);
  frame.writeInt32BE(token.length, 12);
  frame.set(token, 16);
  return frame;
}

async function whoAmI(c: WireClient): Promise<string[]> {
  const r = await c.request(Op.whoAmI, null);
  return (r.body as { clientInfo: { authScheme: string; user: string }[] }).clientInfo.map((i) => `${i.authScheme}:${i.user}`);
}

describe('SASL DIGEST-MD5 (JAAS file)', () => {
  let server: TestServer;
  let dir: string;
  const clients: WireClient[] = [];
  const client = async (): Promise<WireClient> => {
    const c = await connect(server.port);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'waitfree-sasl-'));
    writeFileSync(join(dir, 'jaas.conf'), JAAS);
    server = await startTestServer({ read_workers: 2, sasl_jaas_config_file: join(dir, 'jaas.conf'), sasl_super_user: 'admin' });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in; a node with a sasl ACL is readable and writable by that user only', async () => {
    const owner = await client();
    const other = await client();
    expect((await saslLogin(owner, JAASUSER)).err).toBe(0);
    expect(await whoAmI(owner)).toEqual(['ip:127.0.0.1', 'sasl:jaasuser']);

    expect((await owner.request(Op.create, { path: '/sasl-secret', data: utf8('s'), acl: SASL_ONLY, flags: 0 })).err).toBe(0);
    const read = await owner.request(Op.getData, { path: '/sasl-secret', watch: false });
    expect([read.err, text((read.body as { data: Uint8Array }).data)]).toEqual([0, 's']);
    expect((await owner.request(Op.setData, { path: '/sasl-secret', data: utf8('t'), version: -1 })).err).toBe(0);

    expect((await other.request(Op.getData, { path: '/sasl-secret', watch: false })).err).toBe(Err.NOAUTH);
    expect((await other.request(Op.setData, { path: '/sasl-secret', data: utf8('x'), version: -1 })).err).toBe(Err.NOAUTH);
    expect((await other.request(Op.create, { path: '/sasl-secret/c', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(Err.NOAUTH);
  });

  it("an `auth` ACL becomes the session's sasl id", async () => {
    const owner = await client();
    expect((await saslLogin(owner, JAASUSER)).err).toBe(0);
    const auth_acl = [{ perms: Perms.ALL, id: { scheme: 'auth', id: '' } }];
    expect((await owner.request(Op.create, { path: '/sasl-auth', data: null, acl: auth_acl, flags: 0 })).err).toBe(0);
    const got = await owner.request(Op.getACL, { path: '/sasl-auth' });
    expect((got.body as { acl: unknown }).acl).toEqual(SASL_ONLY);
    expect((await (await client()).request(Op.getData, { path: '/sasl-auth', watch: false })).err).toBe(Err.NOAUTH);
  });

  it('zookeeper.superUser gets the super id and passes every ACL', async () => {
    const admin = await client();
    expect((await saslLogin(admin, { user: 'admin', password: 'admin_secret' })).err).toBe(0);
    // In ZooKeeper's hash set order (session/auth_id_set.ts).
    expect(await whoAmI(admin)).toEqual(['sasl:admin', 'super:', 'ip:127.0.0.1']);
    const owner = await client();
    await saslLogin(owner, JAASUSER);
    await owner.request(Op.create, { path: '/sasl-only-jaasuser', data: null, acl: SASL_ONLY, flags: 0 });
    expect((await admin.request(Op.getData, { path: '/sasl-only-jaasuser', watch: false })).err).toBe(0);
    expect((await admin.request(Op.delete, { path: '/sasl-only-jaasuser', version: -1 })).err).toBe(0);
  });

  it('a wrong password: AUTHFAILED (zxid 0), then the connection closes', async () => {
    const c = await client();
    const r = await saslLogin(c, { ...JAASUSER, password: 'wrong' });
    expect([r.err, r.zxid]).toEqual([Err.AUTHFAILED, 0]);
    expect(await c.waitClosed()).toBe(true);
  });

  it('the AUTHFAILED reply carries a SetSASLResponse with a null token, as ZooKeeper\'s (the Java client needs it)', async () => {
    const raw = await rawSession(server.port);
    try {
      raw.write(saslFrame(1, new Uint8Array(0)));
      raw.write(saslFrame(2, utf8('username="x"')));
      expect(await raw.waitClosed(10_000)).toBe(true);
      const reply = raw.frames()[2]!;
      // xid 2, zxid 0, err -115, then the token's length -1.
      expect(reply.toString('hex')).toBe('00000002' + '0000000000000000' + 'ffffff8d' + 'ffffffff');
    } finally {
      raw.destroy();
    }
  });

  it('the exchange is one per connection: a packet after success fails and closes', async () => {
    const c = await client();
    expect((await saslLogin(c, JAASUSER)).err).toBe(0);
    expect((await c.request(Op.sasl, { token: new Uint8Array(0) })).err).toBe(Err.AUTHFAILED);
    expect(await c.waitClosed()).toBe(true);
  });

  it('garbage tokens close that connection only: AUTHFAILED, or no reply where ZooKeeper throws', async () => {
    const garbage = await client();
    await garbage.request(Op.sasl, { token: new Uint8Array(0) });
    expect((await garbage.request(Op.sasl, { token: utf8('username="jaasuser\u0000,,,=') })).err).toBe(Err.AUTHFAILED);
    expect(await garbage.waitClosed()).toBe(true);

    const big = await client();
    expect((await big.request(Op.sasl, { token: new Uint8Array(4097) })).err).toBe(Err.AUTHFAILED);
    expect(await big.waitClosed()).toBe(true);

    const aborted = await client();
    const nonce = nonceOf(tokenOf(await aborted.request(Op.sasl, { token: new Uint8Array(0) })));
    const maxbuf_abc = utf8(Buffer.from(digestResponse(JAASUSER, nonce)).toString().replace('maxbuf=65536', 'maxbuf=abc'));
    await expect(aborted.request(Op.sasl, { token: maxbuf_abc })).rejects.toThrow(/closed/);

    // The server goes on serving everybody else.
    const after = await client();
    expect((await saslLogin(after, JAASUSER)).err).toBe(0);
    expect((await after.request(Op.exists, { path: '/', watch: false })).err).toBe(0);
  });
});
