// Quorum TLS on a real 3-replica ensemble (one process per replica on 127.0.0.1), configured as
// ZooKeeper's administrator's guide writes it: sslQuorum=true with ssl.quorum.keyStore (PKCS#12,
// a password) and ssl.quorum.trustStore (PEM). The members elect a leader and replicate over TLS;
// then the guide's rolling upgrade from plain links, with no moment without a quorum:
// portUnification=true everywhere, then sslQuorum=true one member at a time, then
// portUnification=false one member at a time; a client's write succeeds after every restart. And
// sslQuorumReloadCertFiles: a member whose certificate the others do not trust is shut out until
// its key store file is replaced, then joins without a restart.

import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ZK_NOT_SERVING } from '../../src/admin/four_letter.js';
import { ZooKeeperClient } from '../../src/client/index.js';
import { encodeHello } from '../../src/replication/peer_hello.js';
import { startEnsemble, type Ensemble } from '../support/ensemble.js';
import { serving } from '../support/ensemble_roles.js';
import { TLS_FIXTURES, TLS_STORE_PASSWORD } from '../support/servers.js';

const SETTLE_MS = 60_000;
const TEST_MS = 240_000;

const STORES = [
  `ssl.quorum.keyStore.location=${join(TLS_FIXTURES, 'server.p12')}`,
  `ssl.quorum.keyStore.password=${TLS_STORE_PASSWORD}`,
  `ssl.quorum.trustStore.location=${join(TLS_FIXTURES, 'ca.pem')}`,
];

/** Restarts member `sid` with its zoo.cfg's lines for `keys` set to `values`. */
async function restartWith(e: Ensemble, sid: number, values: Record<string, string>): Promise<void> {
  const m = e.member(sid);
  await e.kill(sid, 'SIGTERM');
  let text = readFileSync(m.cfgPath, 'utf8');
  for (const [key, value] of Object.entries(values)) {
    const line = new RegExp(`^${key.replace(/\./g, '\\.')}=.*$`, 'm');
    text = line.test(text) ? text.replace(line, `${key}=${value}`) : `${text}${key}=${value}\n`;
  }
  writeFileSync(m.cfgPath, text);
  await e.restart(sid);
}

/** restartWith, then waits until the ensemble serves again with every member at the same zxid. */
async function reconfigure(e: Ensemble, sid: number, values: Record<string, string>): Promise<void> {
  await restartWith(e, sid, values);
  await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
}

async function outputMatches(e: Ensemble, sid: number, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  while (!pattern.test(e.member(sid).output())) {
    if (Date.now() > deadline) throw new Error(`server.${sid} did not log ${pattern}:\n${e.member(sid).output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A write through one member, read back through another after a sync. */
async function writeAndRead(e: Ensemble, path: string, writer: number, reader: number): Promise<void> {
  const w = await ZooKeeperClient.connect(`127.0.0.1:${e.member(writer).client_port}`, { sessionTimeout_ms: 10_000 });
  const r = await ZooKeeperClient.connect(`127.0.0.1:${e.member(reader).client_port}`, { sessionTimeout_ms: 10_000 });
  try {
    await w.create(path, new TextEncoder().encode(path));
    await r.sync(path);
    expect(new TextDecoder().decode((await r.getData(path)).data)).toBe(path);
  } finally {
    await w.close();
    await r.close();
  }
}

/** A plain hello to `sid`'s quorum port; resolves with that member's output once it logged the refusal. */
async function plainHelloRefused(e: Ensemble, sid: number): Promise<string> {
  const s = net.connect({ host: '127.0.0.1', port: e.member(sid).quorum_port });
  s.on('error', () => {});
  s.write(encodeHello(99));
  await new Promise<void>((r) => s.once('close', () => r()));
  const deadline = Date.now() + 10_000;
  while (!/TLS handshake failed: .*not TLS/.test(e.member(sid).output())) {
    if (Date.now() > deadline) throw new Error(`server.${sid} did not log the plain hello's refusal:\n${e.member(sid).output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return e.member(sid).output();
}

describe('quorum TLS on a 3-replica ensemble', () => {
  let e: Ensemble | null = null;
  afterEach(async () => {
    await e?.stop();
    e = null;
  });

  it(
    'sslQuorum=true: the members elect and replicate over TLS; a plain hello to a quorum port is refused',
    async () => {
      e = await startEnsemble({ replicas: 3, extra_cfg: ['sslQuorum=true', ...STORES] });
      await e.waitFor(serving(e), SETTLE_MS);
      for (const m of e.members) expect(m.output()).toMatch(/quorum port \d+: takes TLS links only, dials with TLS; certificates of members dialing in: NEED; hostname verification on/);
      await writeAndRead(e, '/over-tls', 1, 3);
      await plainHelloRefused(e, 1);
      await e.waitFor(serving(e, { same_zxid: true }), SETTLE_MS);
    },
    TEST_MS,
  );

  it(
    "the administrator's guide's rolling upgrade from plain links to TLS, a write after every restart",
    async () => {
      e = await startEnsemble({ replicas: 3, extra_cfg: ['sslQuorum=false', 'portUnification=true', ...STORES] });
      const ens = e;
      await ens.waitFor(serving(ens), SETTLE_MS);
      await writeAndRead(ens, '/plain', 1, 2);
      let n = 0;
      for (const sid of [1, 2, 3]) {
        await reconfigure(ens, sid, { sslQuorum: 'true' });
        await writeAndRead(ens, `/upgrading-${++n}`, sid, (sid % 3) + 1);
      }
      for (const sid of [1, 2, 3]) {
        await reconfigure(ens, sid, { portUnification: 'false' });
        await writeAndRead(ens, `/upgrading-${++n}`, (sid % 3) + 1, sid);
      }
      for (const m of ens.members) expect(m.output()).toMatch(/quorum port \d+: takes TLS links only, dials with TLS/);
      await plainHelloRefused(ens, 2);
    },
    TEST_MS,
  );

  it(
    'sslQuorumReloadCertFiles: a member shut out for an untrusted certificate joins once its key store file is replaced, without a restart',
    async () => {
      e = await startEnsemble({ replicas: 3, extra_cfg: ['sslQuorum=true', 'sslQuorumReloadCertFiles=true', ...STORES] });
      const ens = e;
      await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
      // Member 3 gets a key store of its own holding a certificate of another CA.
      const own = join(ens.dir, 'member3.pem');
      copyFileSync(join(TLS_FIXTURES, 'stranger.pem'), own);
      await restartWith(ens, 3, { 'ssl.quorum.keyStore.location': own, 'ssl.quorum.keyStore.password': '' });
      await outputMatches(ens, 1, /its certificate does not verify/);
      await writeAndRead(ens, '/without-3', 1, 2);
      await ens.waitFor((a) => a.get(3)?.trim() === ZK_NOT_SERVING, SETTLE_MS);
      // The certificate is rotated as a tool writes it: a new file renamed over the old one.
      copyFileSync(join(TLS_FIXTURES, 'server.pem'), `${own}.new`);
      renameSync(`${own}.new`, own);
      await outputMatches(ens, 3, /quorum TLS: read .*member3\.pem.* again \(sslQuorumReloadCertFiles\); links made from now on use them/);
      await ens.waitFor(serving(ens, { same_zxid: true }), SETTLE_MS);
      await writeAndRead(ens, '/with-3', 2, 3);
    },
    TEST_MS,
  );
});
