// sslQuorumReloadCertFiles over real files (src/replication/quorum_cert_reload.ts,
// store_watch.ts): a store written in place or renamed over the old one is read again and handed
// to the transport; one that does not load is logged with its key and the previous certificates
// stay; a change to another file of the directory reads nothing. Waits are bounded; the "nothing
// happened" check waits several settle periods.

import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { PeerTls } from '../../src/replication/peer_tls.js';
import { reloadQuorumCertsOnChange } from '../../src/replication/quorum_cert_reload.js';
import type { StoreWatch } from '../../src/replication/store_watch.js';
import { TLS_FIXTURES } from '../support/servers.js';

const root = mkdtempSync(join(tmpdir(), 'waitfree-cert-reload-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let watch: StoreWatch | null = null;
afterEach(() => {
  watch?.close();
  watch = null;
});

const ENSEMBLE = ['waitfree.myid=1', 'server.1=127.0.0.1:3181:3182', 'server.2=127.0.0.1:3183:3184', 'server.3=127.0.0.1:3185:3186'];
const fixture = (name: string): string => join(TLS_FIXTURES, name);

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A member's key store in a directory of its own (a certificate of the other CA at first),
 *  watched; what the watch installs and logs. */
function watched(name: string) {
  const dir = join(root, name);
  mkdirSync(dir);
  const key_store = join(dir, 'member.pem');
  copyFileSync(fixture('stranger.pem'), key_store);
  const { config } = loadConfig({
    text: [...ENSEMBLE, 'sslQuorum=true', 'sslQuorumReloadCertFiles=true', `ssl.quorum.keyStore.location=${key_store}`, `ssl.quorum.trustStore.location=${fixture('ca.pem')}`].join('\n'),
  });
  expect(config.ssl_quorum_reload_cert_files).toBe(true);
  const installed: PeerTls[] = [];
  const logs: string[] = [];
  watch = reloadQuorumCertsOnChange(config, { setTls: (t) => installed.push(t) }, (l) => logs.push(l));
  return { dir, key_store, installed, logs };
}

describe('sslQuorumReloadCertFiles', () => {
  it('a key store written in place is read again once, and handed to the transport', async () => {
    const m = watched('in-place');
    copyFileSync(fixture('server.pem'), m.key_store);
    await until(() => m.installed.length === 1, 'the new stores installed');
    expect(m.logs.at(-1)).toMatch(/quorum TLS: read .*member\.pem, .*ca\.pem again \(sslQuorumReloadCertFiles\); links made from now on use them/);
    // A burst of writes is one reload, after the settle time.
    await new Promise((r) => setTimeout(r, 600));
    expect(m.installed).toHaveLength(1);
  });

  it('a key store renamed over the old one (how certificate tools write) is read again too', async () => {
    const m = watched('renamed');
    const next = join(m.dir, 'member.pem.new');
    copyFileSync(fixture('server.pem'), next);
    renameSync(next, m.key_store);
    await until(() => m.installed.length >= 1, 'the new stores installed');
  });

  it('a store that does not load is logged with its key; nothing is installed, so the previous certificates stay', async () => {
    const m = watched('broken');
    writeFileSync(m.key_store, 'not a key store\n');
    await until(() => m.logs.length >= 1, 'a log line');
    expect(m.logs[0]).toMatch(/quorum TLS: reading the stores again failed \(.*ssl\.quorum\.keyStore\.location.*\); links keep the previous certificates/);
    expect(m.installed).toEqual([]);
  });

  it('another file of the directory changing reads nothing', async () => {
    const m = watched('neighbour');
    writeFileSync(join(m.dir, 'unrelated.txt'), 'x');
    await new Promise((r) => setTimeout(r, 800));
    expect(m.installed).toEqual([]);
    expect(m.logs).toEqual([]);
  });
});

describe('sslQuorumReloadCertFiles in the config', () => {
  it('is off by default, and warns that it does nothing without quorum TLS', () => {
    expect(loadConfig({ text: ENSEMBLE.join('\n') }).config.ssl_quorum_reload_cert_files).toBe(false);
    const { warnings } = loadConfig({ text: [...ENSEMBLE, 'sslQuorumReloadCertFiles=true'].join('\n') });
    expect(warnings).toContain('sslQuorumReloadCertFiles=true: the quorum links have no TLS here (an ensemble with sslQuorum or portUnification); the key does nothing');
  });
});
