// The SASL keys and the JAAS file they name, through loadConfig (what `waitfree server` runs).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config_error.js';
import { loadConfig } from '../../src/config/load.js';
import { thrownBy } from '../support/thrown.js';

const dir = mkdtempSync(join(tmpdir(), 'waitfree-sasl-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function jaasFile(text: string): string {
  const path = join(dir, `jaas-${files++}.conf`);
  writeFileSync(path, text);
  return path;
}

function errorOf(f: () => unknown): ConfigError {
  return thrownBy(f, ConfigError);
}

const SERVER_SECTION = `Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super_secret"
    user_jaasuser="jaas_password";
};
`;

describe('SASL configuration', () => {
  it('is off by default: no JAAS file, no users, no warning', () => {
    const { config, warnings } = loadConfig({});
    expect([config.sasl, config.sasl_jaas_config_file, config.sasl_server_section, config.sasl_super_user]).toEqual([null, '', 'Server', '']);
    expect(warnings).toEqual([]);
  });

  it("reads the users of the Server section, under ZooKeeper's property names as zoo.cfg lines", () => {
    const path = jaasFile(SERVER_SECTION);
    const { config, warnings } = loadConfig({ text: `java.security.auth.login.config=${path}\nzookeeper.superUser=jaasuser\n` });
    expect(warnings).toEqual([]);
    expect(config.sasl).toEqual({ digest_users: [['super', 'super_secret'], ['jaasuser', 'jaas_password']] });
    expect(config.sasl_super_user).toBe('jaasuser');
    expect(loadConfig({ text: `waitfree.sasl.jaasConfigFile=${path}` }).config.sasl).toEqual(config.sasl);
    expect(loadConfig({ flags: { sasl_jaas_config_file: path } }).config.sasl).toEqual(config.sasl);
  });

  it('takes another section by zookeeper.sasl.serverconfig, and user_ options of every module in it (later wins)', () => {
    const path = jaasFile(`${SERVER_SECTION}
ZkServer {
    org.apache.zookeeper.server.auth.DigestLoginModule required user_a="1" user_b="2" other="x";
    org.apache.zookeeper.server.auth.DigestLoginModule optional user_a="3";
};`);
    const { config } = loadConfig({ text: `java.security.auth.login.config=${path}\nzookeeper.sasl.serverconfig=ZkServer\n` });
    expect(config.sasl).toEqual({ digest_users: [['a', '3'], ['b', '2']] });
  });

  it('accepts Java\'s "==path" and file: URL spellings', () => {
    const path = jaasFile(SERVER_SECTION);
    expect(loadConfig({ text: `java.security.auth.login.config==${path}` }).config.sasl).not.toBeNull();
    expect(loadConfig({ text: `java.security.auth.login.config=${pathToFileURL(path).href}` }).config.sasl).not.toBeNull();
  });

  it('an empty file, or no such section: SASL off, as in ZooKeeper, with a warning', () => {
    const empty = jaasFile('');
    const r = loadConfig({ text: `java.security.auth.login.config=${empty}` });
    expect(r.config.sasl).toBeNull();
    expect(r.warnings).toEqual([`JAAS file ${empty} has no section Server (zookeeper.sasl.serverconfig) with a login module: SASL logins are off, as in ZooKeeper`]);
    const other = jaasFile('Client { a.B required; };\nServer { };');
    expect(loadConfig({ text: `java.security.auth.login.config=${other}` }).config.sasl).toBeNull();
  });

  it('warns about Kerberos (GSSAPI), other login modules, ${...} in a password and a section without users', () => {
    const path = jaasFile(`Server {
  com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/k" principal="zookeeper/host@R";
  com.example.Custom optional user_u="\${secret}";
};`);
    const { config, warnings } = loadConfig({ text: `java.security.auth.login.config=${path}` });
    expect(config.sasl).toEqual({ digest_users: [['u', '${secret}']] });
    expect(warnings).toEqual([
      `${path}, section Server: com.sun.security.auth.module.Krb5LoginModule: Kerberos (SASL GSSAPI) is not supported; only DIGEST-MD5 logins with the section's user_ entries`,
      `${path}, section Server: login module com.example.Custom is not loaded; its user_ options still serve DIGEST-MD5`,
      `${path}, section Server: the password of u is taken as written: \${...} is not expanded (Java would expand it)`,
    ]);
    const no_users = jaasFile('Server { org.apache.zookeeper.server.auth.DigestLoginModule required; };');
    expect(loadConfig({ text: `java.security.auth.login.config=${no_users}` }).warnings).toEqual([
      `${no_users}, section Server: no user_NAME="password" entries: no SASL login can succeed`,
    ]);
  });

  it('a missing or unparsable file stops the start with an error naming the key and the file', () => {
    const missing = join(dir, 'missing.conf');
    const e1 = errorOf(() => loadConfig({ text: `java.security.auth.login.config=${missing}` }));
    expect([e1.key, e1.message]).toEqual(['waitfree.sasl.jaasConfigFile', `waitfree.sasl.jaasConfigFile: cannot read JAAS file ${missing}: ENOENT`]);
    const bad = jaasFile('# a comment Java does not know\nServer { a.B required; };');
    const e2 = errorOf(() => loadConfig({ text: `java.security.auth.login.config=${bad}` }));
    expect([e2.key, e2.message]).toEqual(['waitfree.sasl.jaasConfigFile', `waitfree.sasl.jaasConfigFile: JAAS file ${bad}, line 1: expected a section name, found "#"`]);
  });

  it('a section name without a JAAS file is a warning (ZooKeeper refuses to start)', () => {
    const { config, warnings } = loadConfig({ text: 'zookeeper.sasl.serverconfig=ZkServer' });
    expect(config.sasl).toBeNull();
    expect(warnings).toEqual([
      'zookeeper.sasl.serverconfig is set, but no JAAS file is (waitfree.sasl.jaasConfigFile, or java.security.auth.login.config): SASL logins are off (ZooKeeper would not start)',
    ]);
  });
});
