import { describe, expect, it } from 'vitest';
import { Perms } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import type { ACL, Id } from '../../src/protocol/types.js';
import { checkAcl, digestId, fixupAcl, OPEN_ACL_UNSAFE, redactDigests } from '../../src/tree/acl.js';
import { validatePath as invalidPathReason } from '../../src/protocol/paths.js';
import { isValidPath, parentPath } from '../../src/tree/path_rules.js';

const ip = (id: string): Id => ({ scheme: 'ip', id });
const acl1 = (scheme: string, id: string, perms: number = Perms.ALL): ACL[] => [{ perms, id: { scheme, id } }];

describe('digestId', () => {
  it('is user:base64(sha1(user:password)) (values from an independent SHA-1)', () => {
    expect(digestId('super:test')).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    expect(digestId('bob:secret')).toBe('bob:fyVmFCwVbTJYrznoSu1koqYEYF0=');
  });
});

describe('checkAcl', () => {
  it('grants world:anyone entries to everybody, for the perms they carry', () => {
    expect(checkAcl(OPEN_ACL_UNSAFE, Perms.WRITE, [], false)).toBe(true);
    expect(checkAcl(acl1('world', 'anyone', Perms.READ), Perms.WRITE, [], false)).toBe(false);
  });

  it('matches digest ids exactly', () => {
    const bob = { scheme: 'digest', id: digestId('bob:secret') };
    const acl = acl1('digest', bob.id);
    expect(checkAcl(acl, Perms.READ, [bob], false)).toBe(true);
    expect(checkAcl(acl, Perms.READ, [{ scheme: 'digest', id: digestId('bob:wrong') }], false)).toBe(false);
    expect(checkAcl(acl, Perms.READ, [ip('127.0.0.1')], false)).toBe(false);
  });

  it('matches ip ids, with CIDR prefixes', () => {
    expect(checkAcl(acl1('ip', '10.0.0.0/8'), Perms.READ, [ip('10.200.3.4')], false)).toBe(true);
    expect(checkAcl(acl1('ip', '10.0.0.0/8'), Perms.READ, [ip('11.0.0.1')], false)).toBe(false);
    expect(checkAcl(acl1('ip', '192.168.1.0/23'), Perms.READ, [ip('192.168.0.77')], false)).toBe(true);
    expect(checkAcl(acl1('ip', '192.168.1.0/23'), Perms.READ, [ip('192.168.2.1')], false)).toBe(false);
    expect(checkAcl(acl1('ip', '127.0.0.1'), Perms.READ, [ip('127.0.0.1')], false)).toBe(true);
    expect(checkAcl(acl1('ip', '127.0.0.1'), Perms.READ, [ip('127.0.0.2')], false)).toBe(false);
    expect(checkAcl(acl1('ip', '0.0.0.0/0'), Perms.READ, [ip('8.8.8.8')], false)).toBe(true);
    expect(checkAcl(acl1('ip', '10.0.0.0/8'), Perms.READ, [ip('::1')], false)).toBe(false);
  });

  it('matches sasl ids exactly, and the sasl id "super" matches every sasl ACL (SASLAuthenticationProvider)', () => {
    const sasl = (id: string): Id => ({ scheme: 'sasl', id });
    const acl = acl1('sasl', 'jaasuser');
    expect(checkAcl(acl, Perms.READ, [sasl('jaasuser')], false)).toBe(true);
    expect(checkAcl(acl, Perms.READ, [sasl('jaasuser2')], false)).toBe(false);
    expect(checkAcl(acl, Perms.READ, [{ scheme: 'digest', id: 'jaasuser' }], false)).toBe(false);
    expect(checkAcl(acl, Perms.READ, [sasl('super')], false)).toBe(true);
    expect(checkAcl(acl1('digest', 'super:x'), Perms.READ, [sasl('super')], false)).toBe(false);
  });

  it('needs one of the requested bits; the super user and an empty ACL pass', () => {
    const acl = acl1('world', 'anyone', Perms.READ);
    expect(checkAcl(acl, Perms.READ | Perms.ADMIN, [], false)).toBe(true);
    expect(checkAcl(acl, Perms.ADMIN, [], false)).toBe(false);
    expect(checkAcl(acl, Perms.ADMIN, [], true)).toBe(true);
    expect(checkAcl([], Perms.ADMIN, [], false)).toBe(true);
  });
});

describe('fixupAcl', () => {
  it('returns INVALIDACL for bad lists and keeps good ones', () => {
    expect(fixupAcl([], [])).toBe(Err.INVALIDACL);
    expect(fixupAcl(null, [])).toBe(Err.INVALIDACL);
    expect(fixupAcl(acl1('digest', 'user'), [])).toBe(Err.INVALIDACL);
    expect(fixupAcl(acl1('digest', 'user:'), [])).toBe(Err.INVALIDACL);
    expect(fixupAcl(acl1('digest', 'a:b:c'), [])).toBe(Err.INVALIDACL);
    expect(fixupAcl(acl1('digest', 'a:b:'), [])).toEqual(acl1('digest', 'a:b:')); // Java split drops trailing ''
    expect(fixupAcl(acl1('ip', '1.2.3'), [])).toBe(Err.INVALIDACL);
    expect(fixupAcl(acl1('ip', '1.2.3.4/x'), [])).toBe(Err.INVALIDACL);
    expect(fixupAcl(acl1('ip', '1.2.3.4/24'), [])).toEqual(acl1('ip', '1.2.3.4/24'));
    // x509 is known whether or not authProvider.x509 names it (ZooKeeper: only then), as sasl is.
    expect(fixupAcl(acl1('x509', 'CN=a,O=b\\, c'), [])).toEqual(acl1('x509', 'CN=a,O=b\\, c'));
    expect(fixupAcl(acl1('x509', 'alice'), [])).toBe(Err.INVALIDACL);
    expect(fixupAcl(acl1('world', 'anyone', 0), [])).toEqual(acl1('world', 'anyone', 0));
  });

  it('sasl ids are Kerberos names as ZooKeeper parses them: a malformed realm part is INVALIDACL (measured)', () => {
    for (const ok of ['jaasuser', '', 'a/b@R', 'a/b/c', 'a@', '@R']) expect(fixupAcl(acl1('sasl', ok), []), ok).toEqual(acl1('sasl', ok));
    for (const bad of ['a@b@c', 'a/b/c@R']) expect(fixupAcl(acl1('sasl', bad), []), bad).toBe(Err.INVALIDACL);
    expect(fixupAcl([{ perms: Perms.ALL, id: { scheme: 'sasl', id: null } }], [])).toBe(Err.MARSHALLINGERROR);
  });

  it('expands auth to every sasl id of the caller too', () => {
    const auth = [ip('1.2.3.4'), { scheme: 'sasl', id: 'jaasuser' }, { scheme: 'super', id: '' }];
    expect(fixupAcl(acl1('auth', ''), auth)).toEqual(acl1('sasl', 'jaasuser'));
  });

  it('expands auth to every digest id of the caller, never to ip ids', () => {
    const auth = [ip('1.2.3.4'), { scheme: 'digest', id: 'a:1' }, { scheme: 'digest', id: 'b:2' }];
    expect(fixupAcl(acl1('auth', '', Perms.READ), auth)).toEqual([
      { perms: Perms.READ, id: { scheme: 'digest', id: 'a:1' } },
      { perms: Perms.READ, id: { scheme: 'digest', id: 'b:2' } },
    ]);
    expect(fixupAcl(acl1('auth', ''), [ip('1.2.3.4'), { scheme: 'super', id: '' }])).toBe(Err.INVALIDACL);
  });
});

describe('redactDigests', () => {
  it('hides digest hashes and leaves other schemes alone', () => {
    const acl: ACL[] = [...acl1('digest', 'bob:hash=='), ...acl1('ip', '1.2.3.4')];
    expect(redactDigests(acl)).toEqual([...acl1('digest', 'bob:x'), ...acl1('ip', '1.2.3.4')]);
  });
});

describe('path rules', () => {
  it('accepts ZooKeeper paths and rejects the rest', () => {
    for (const p of ['/', '/a', '/a/b', '/a.b', '/...', '/a/..b', '/zookeeper', '/ä/日本']) expect(isValidPath(p), p).toBe(true);
    const invalid = ['', 'a', '/a/', '//', '/a//b', '/.', '/a/.', '/..', '/a/../b', '/a\u0000', '/\u0001', '/\u007f', '/\u009f', '/\ud800', '/\uf8ff', '/\ufff0', '/\uffff'];
    for (const p of invalid) expect(invalidPathReason(p), JSON.stringify(p)).not.toBeNull();
  });

  it('computes parents with the root as parent of top-level nodes', () => {
    expect(parentPath('/a')).toBe('/');
    expect(parentPath('/a/b/c')).toBe('/a/b');
    expect(parentPath('/a/')).toBe('/a');
  });
});
