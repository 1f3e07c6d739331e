// The secure client port's keys as ZooKeeper's zoo.cfg has them: what reads, and what stops the
// start naming the key at fault (a missing or unreadable store, a wrong password, a store type
// Node cannot read, a cipher list or TLS version it would not honour, revocation checks).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config_error.js';
import { loadConfig } from '../../src/config/load.js';
import { TLS_FIXTURES } from '../support/servers.js';
import { thrownBy } from '../support/thrown.js';

const at = (name: string): string => join(TLS_FIXTURES, name);

function load(lines: string[]) {
  return loadConfig({ text: ['secureClientPort=2281', ...lines].join('\n') });
}

function keyAtFault(lines: string[]): { key: string | undefined; message: string } {
  const e = thrownBy(() => load(lines), ConfigError);
  return { key: e.key, message: e.message };
}

describe('secure client port configuration', () => {
  it('no secureClientPort: the ssl.* keys are not read and tls is null', () => {
    const { config } = loadConfig({ text: `ssl.keyStore.location=${at('missing.p12')}` });
    expect(config.tls).toBeNull();
    expect(config.secure_client_port).toBe(-1);
  });

  it('a PKCS#12 key store with its password and a PEM trust store, in ZooKeeper\'s and in the zookeeper.* spelling', () => {
    for (const prefix of ['', 'zookeeper.']) {
      const { config, warnings } = load([
        `${prefix}ssl.keyStore.location=${at('server.p12')}`,
        `${prefix}ssl.keyStore.password=changeit`,
        `${prefix}ssl.trustStore.location=${at('ca.pem')}`,
        `${prefix}ssl.clientAuth=want`,
        'authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider',
        'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
      ]);
      expect(warnings.filter((w) => !w.includes('serverCnxnFactory'))).toEqual([]);
      expect(config.tls).toMatchObject({ client_auth: 'WANT', min_version: 'TLSv1.2', max_version: 'TLSv1.2', key_store: { kind: 'pkcs12' } });
      expect(config.tls?.trust_pem).not.toBeNull();
    }
  });

  it('a PEM key store (key and certificates in one file), its key encrypted or not; the type from the file name', () => {
    expect(load([`ssl.keyStore.location=${at('server.pem')}`]).config.tls?.key_store.kind).toBe('pem');
    const encrypted = load([`ssl.keyStore.location=${at('server-encrypted.pem')}`, 'ssl.keyStore.password=changeit']);
    expect(encrypted.config.tls?.key_store.kind).toBe('pem');
  });

  it('ssl.keyStore.passwordPath: the password from a file (its trailing newline dropped), over ssl.keyStore.password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'waitfree-tls-'));
    try {
      writeFileSync(join(dir, 'pw'), 'changeit\n');
      const { config } = load([`ssl.keyStore.location=${at('server.p12')}`, 'ssl.keyStore.password=wrong', `ssl.keyStore.passwordPath=${join(dir, 'pw')}`]);
      expect(config.tls?.passphrase).toBe('changeit');
      expect(keyAtFault([`ssl.keyStore.location=${at('server.p12')}`, `ssl.keyStore.passwordPath=${join(dir, 'missing')}`]).key).toBe('ssl.keyStore.passwordPath');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('TLS versions: ssl.protocol alone, or the span of ssl.enabledProtocols', () => {
    expect(load([`ssl.keyStore.location=${at('server.pem')}`, 'ssl.protocol=TLSv1.3']).config.tls).toMatchObject({ min_version: 'TLSv1.3', max_version: 'TLSv1.3' });
    const both = load([`ssl.keyStore.location=${at('server.pem')}`, 'ssl.enabledProtocols=TLSv1.3,TLSv1.2']);
    expect(both.config.tls).toMatchObject({ min_version: 'TLSv1.2', max_version: 'TLSv1.3' });
  });

  it('stops the start naming the key: no key store, an unreadable one, a wrong password', () => {
    expect(keyAtFault([]).key).toBe('ssl.keyStore.location');
    expect(keyAtFault([`ssl.keyStore.location=${at('missing.p12')}`]).key).toBe('ssl.keyStore.location');
    const wrong = keyAtFault([`ssl.keyStore.location=${at('server.p12')}`, 'ssl.keyStore.password=wrong']);
    expect(wrong.key).toBe('ssl.keyStore.location');
    expect(wrong.message).toContain('ssl.keyStore.password');
    expect(keyAtFault([`ssl.keyStore.location=${at('server-encrypted.pem')}`]).key).toBe('ssl.keyStore.location');
  });

  it('stores Node cannot read are refused with the conversion to make', () => {
    const jks = keyAtFault(['ssl.keyStore.location=/etc/zk/keystore.jks']);
    expect(jks.key).toBe('ssl.keyStore.type');
    expect(jks.message).toContain('keytool -importkeystore');
    const p12_trust = keyAtFault([`ssl.keyStore.location=${at('server.p12')}`, 'ssl.keyStore.password=changeit', `ssl.trustStore.location=${at('server.p12')}`]);
    expect(p12_trust.key).toBe('ssl.trustStore.type');
    expect(keyAtFault(['ssl.keyStore.location=/etc/zk/keystore']).key).toBe('ssl.keyStore.type');
    const not_pem = keyAtFault([`ssl.keyStore.location=${at('server.p12')}`, 'ssl.keyStore.password=changeit', `ssl.trustStore.location=${at('server.p12')}`, 'ssl.trustStore.type=PEM']);
    expect(not_pem.key).toBe('ssl.trustStore.location');
  });

  it('what the port would not honour stops the start: a cipher list, TLS 1.1, revocation checks', () => {
    const base = [`ssl.keyStore.location=${at('server.pem')}`];
    expect(keyAtFault([...base, 'ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']).key).toBe('ssl.ciphersuites');
    expect(keyAtFault([...base, 'ssl.enabledProtocols=TLSv1.1,TLSv1.2']).key).toBe('ssl.enabledProtocols');
    expect(keyAtFault([...base, 'ssl.clientAuth=sometimes']).key).toBe('ssl.clientAuth');
    expect(() => load([...base, 'ssl.crl=true'])).toThrow(/revocation/);
    expect(() => load([...base, 'zookeeper.ssl.ocsp=true'])).toThrow(/revocation/);
  });
});
