// The client TLS keys (secure client port, client.portUnification) and the quorum's, as
// ZooKeeper's zoo.cfg has them: what reads, and what stops the start naming the key at fault (a
// missing or unreadable store, a wrong password, a store type Node cannot read, a cipher list or
// TLS version it would not honour, revocation checks).

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

describe('client.portUnification: the plain client port also takes TLS clients', () => {
  it("reads the ssl.* stores without a secure client port, in ZooKeeper's and the zookeeper.* spelling; off by default", () => {
    expect(loadConfig({ text: '' }).config.client_port_unification).toBe(false);
    for (const key of ['client.portUnification', 'zookeeper.client.portUnification']) {
      const { config, warnings } = loadConfig({ text: [`${key}=true`, `ssl.keyStore.location=${at('server.pem')}`].join('\n') });
      expect(warnings).toEqual([]);
      expect(config.client_port_unification).toBe(true);
      expect(config.secure_client_port).toBe(-1);
      expect(config.tls).toMatchObject({ client_auth: 'NEED', key_store: { kind: 'pem' } });
    }
  });

  it('stops the start naming ssl.keyStore.location when the stores are missing', () => {
    const e = thrownBy(() => loadConfig({ text: 'client.portUnification=true' }), ConfigError);
    expect(e.key).toBe('ssl.keyStore.location');
    expect(e.message).toMatch(/client\.portUnification=true, but ssl\.keyStore\.location is not/);
  });
});

describe('quorum TLS configuration (sslQuorum, ssl.quorum.*, portUnification)', () => {
  const ENSEMBLE = ['waitfree.myid=1', 'server.1=127.0.0.1:3181:3182', 'server.2=127.0.0.1:3183:3184', 'server.3=127.0.0.1:3185:3186'];
  const loadEnsemble = (lines: string[]) => loadConfig({ text: [...ENSEMBLE, ...lines].join('\n') });
  const quorumKeyAtFault = (lines: string[]): { key: string | undefined; message: string } => {
    const e = thrownBy(() => loadEnsemble(lines), ConfigError);
    return { key: e.key, message: e.message };
  };
  const STORES = [`ssl.quorum.keyStore.location=${at('server.p12')}`, 'ssl.quorum.keyStore.password=changeit', `ssl.quorum.trustStore.location=${at('ca.pem')}`];

  it('plain links by default: the ssl.quorum.* keys are not read', () => {
    expect(loadEnsemble([`ssl.quorum.keyStore.location=${at('missing.p12')}`]).config.quorum_tls).toBeNull();
  });

  it("sslQuorum=true with ZooKeeper's keys, in both spellings: TLS dialed and taken, NEED and hostname verification by default", () => {
    for (const prefix of ['', 'zookeeper.']) {
      const { config, warnings } = loadEnsemble([`${prefix}sslQuorum=true`, ...STORES.map((l) => prefix + l)]);
      expect(warnings).toEqual([]);
      expect(config.quorum_tls).toMatchObject({ dial_tls: true, port_unification: false, client_auth: 'NEED', hostname_verification: true, key_store: { kind: 'pkcs12' } });
    }
    const relaxed = loadEnsemble(['sslQuorum=true', ...STORES, 'ssl.quorum.clientAuth=want', 'ssl.quorum.hostnameVerification=false', 'ssl.quorum.enabledProtocols=TLSv1.2,TLSv1.3']);
    expect(relaxed.config.quorum_tls).toMatchObject({ client_auth: 'WANT', hostname_verification: false, min_version: 'TLSv1.2', max_version: 'TLSv1.3' });
    // The client port's ssl.* keys are another endpoint's: they do not stand in for ssl.quorum.*.
    expect(quorumKeyAtFault(['sslQuorum=true', `ssl.keyStore.location=${at('server.p12')}`]).key).toBe('ssl.quorum.keyStore.location');
  });

  it('portUnification=true alone reads the stores (the port takes TLS) but dials plain', () => {
    expect(loadEnsemble(['portUnification=true', ...STORES]).config.quorum_tls).toMatchObject({ dial_tls: false, port_unification: true });
    expect(quorumKeyAtFault(['portUnification=true']).message).toMatch(/portUnification=true, but ssl\.quorum\.keyStore\.location is not/);
  });

  it('stops the start naming the ssl.quorum key at fault', () => {
    expect(quorumKeyAtFault(['sslQuorum=true']).message).toMatch(/sslQuorum=true, but ssl\.quorum\.keyStore\.location is not: the quorum links need this member's key and certificate/);
    expect(quorumKeyAtFault(['sslQuorum=true', `ssl.quorum.keyStore.location=${at('server.p12')}`, 'ssl.quorum.keyStore.password=wrong']).key).toBe('ssl.quorum.keyStore.location');
    expect(quorumKeyAtFault(['sslQuorum=true', `ssl.quorum.keyStore.location=${at('keystore.jks')}`]).key).toBe('ssl.quorum.keyStore.type');
    expect(quorumKeyAtFault(['sslQuorum=true', ...STORES, `ssl.quorum.trustStore.location=${at('client.p12')}`]).key).toBe('ssl.quorum.trustStore.type');
    expect(quorumKeyAtFault(['sslQuorum=true', ...STORES, 'ssl.quorum.ciphersuites=TLS_AES_128_GCM_SHA256']).key).toBe('ssl.quorum.ciphersuites');
    expect(quorumKeyAtFault(['sslQuorum=true', ...STORES, 'ssl.quorum.enabledProtocols=TLSv1.1']).key).toBe('ssl.quorum.enabledProtocols');
  });

  it('a standalone server warns that sslQuorum does nothing', () => {
    const { config, warnings } = loadConfig({ text: ['sslQuorum=true', ...STORES].join('\n') });
    expect(config.quorum_tls).toBeNull();
    expect(warnings).toEqual(['sslQuorum=true: a standalone server has no quorum links; the key does nothing']);
  });
});
