// The JAAS parser against what Java 17's own parser (javax.security.auth.login.Configuration
// over sun.security.provider.ConfigFile) made of the same text, measured case by case on this
// machine with a 20-line program that printed each section's modules, flags and options.

import { describe, expect, it } from 'vitest';
import { JaasSyntaxError, parseJaasConfig, type JaasConfig } from '../../src/auth/jaas_config.js';
import { thrownBy } from '../support/thrown.js';

/** Section -> modules as `class flag {options}`, the shape the Java program printed. */
function dump(config: JaasConfig): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, modules] of config) {
    out[name] = modules.map((m) => `${m.class_name} ${m.flag} ${JSON.stringify(Object.fromEntries(m.options))}`);
  }
  return out;
}

function syntaxError(text: string): JaasSyntaxError {
  return thrownBy(() => parseJaasConfig(text), JaasSyntaxError);
}

describe('parseJaasConfig: what Java accepts', () => {
  it("reads ZooKeeper's server section: DigestLoginModule with user_ options, comments of both kinds", () => {
    const text = [
      '/* server side */',
      'Server {',
      '    org.apache.zookeeper.server.auth.DigestLoginModule required',
      '    user_super="super_secret"',
      '    user_jaasuser="jaas_password";   // trailing comment',
      '};',
      'Client {',
      '    org.apache.zookeeper.server.auth.DigestLoginModule required username="u" password="p";',
      '};',
    ].join('\n');
    expect(dump(parseJaasConfig(text))).toEqual({
      Server: ['org.apache.zookeeper.server.auth.DigestLoginModule required {"user_super":"super_secret","user_jaasuser":"jaas_password"}'],
      Client: ['org.apache.zookeeper.server.auth.DigestLoginModule required {"username":"u","password":"p"}'],
    });
  });

  it('takes control flags in any case, several modules, quoted section names, no spaces', () => {
    expect(dump(parseJaasConfig('"Server" { a.b.C REQUIRED; }; Other { x sufficient a="1"; y Requisite; z optional; };'))).toEqual({
      Server: ['a.b.C required {}'],
      Other: ['x sufficient {"a":"1"}', 'y requisite {}', 'z optional {}'],
    });
    expect(dump(parseJaasConfig('Server{a.b.C required user_a="1";};Other{b required;};'))).toEqual({
      Server: ['a.b.C required {"user_a":"1"}'],
      Other: ['b required {}'],
    });
    expect(dump(parseJaasConfig('Server { a.b.C required user_a = "1" ; } ; '))).toEqual({ Server: ['a.b.C required {"user_a":"1"}'] });
  });

  it('unquoted values are words: letters, $ _ - *, and digits or dots after the first character', () => {
    expect(dump(parseJaasConfig('Server { a.b.C required user_bob=abc user_x=a-b_c$d*e user_y=x.y user_z=-x; };'))).toEqual({
      Server: ['a.b.C required {"user_bob":"abc","user_x":"a-b_c$d*e","user_y":"x.y","user_z":"-x"}'],
    });
  });

  it('quoted values take backslash escapes; empty and non-ASCII values are kept', () => {
    const text = String.raw`Server { a.b.C required user_a="a\"b" user_b="a\\b" user_c="x\ny" user_d="\101\60" user_e="" user_f="é"; };`;
    expect(parseJaasConfig(text).get('Server')![0]!.options).toEqual(
      new Map([
        ['user_a', 'a"b'],
        ['user_b', 'a\\b'],
        ['user_c', 'x\ny'],
        ['user_d', 'A0'],
        ['user_e', ''],
        ['user_f', 'é'],
      ]),
    );
  });

  it('a repeated option keeps its last value; ${...} is left as written (Java would expand it)', () => {
    expect(parseJaasConfig('Server { a.b.C required user_a="1" user_a="2"; };').get('Server')![0]!.options).toEqual(new Map([['user_a', '2']]));
    expect(parseJaasConfig('Server { a.b.C required user_a="${user.home}/x"; };').get('Server')![0]!.options.get('user_a')).toBe('${user.home}/x');
  });

  it('an empty file has no sections; an empty section has no modules', () => {
    expect(parseJaasConfig('').size).toBe(0);
    expect(parseJaasConfig('  // nothing\n/* at all */\n').size).toBe(0);
    expect(dump(parseJaasConfig('Server { };'))).toEqual({ Server: [] });
  });

  it('a block comment may span lines, and a lone / comments out the rest of its line', () => {
    expect(dump(parseJaasConfig('Server { a.b.C required user_a="1";\n /* block\n still */ // line\n};'))).toEqual({ Server: ['a.b.C required {"user_a":"1"}'] });
    expect(dump(parseJaasConfig('Server { a.b.C required / ignored "x" ;\n user_a="1"; };'))).toEqual({ Server: ['a.b.C required {"user_a":"1"}'] });
  });
});

describe('parseJaasConfig: what Java refuses, with the line', () => {
  it('a number or a single-quoted string where a value belongs', () => {
    expect(syntaxError('Server { a.b.C required user_bob=123; };').message).toBe('line 1: expected a value for option user_bob, found "123"');
    expect(syntaxError("Server { a.b.C required user_bob='pw q'; };").message).toBe('line 1: expected a value for option user_bob, found "pw q"');
    expect(syntaxError('Server { a.b.C required user_b=1a; };').message).toBe('line 1: expected a value for option user_b, found "1"');
    expect(syntaxError('Server { 9abc required; };').message).toBe('line 1: expected a login module class name, found "9"');
  });

  it('# is not a comment', () => {
    expect(syntaxError('# c\nServer { a.b.C required; };').message).toBe('line 1: expected a section name, found "#"');
  });

  it('a missing ; after } or after the options, a missing =, an unknown flag', () => {
    expect(syntaxError('Server { a.b.C required; }').message).toBe("line 1: expected ';' after '}', found the end of the file");
    expect(syntaxError('Server { a.b.C required user_a="1" }; };').message).toBe('line 1: expected an option key, found "}"');
    expect(syntaxError('Server {\n a.b.C required\n user_a "1"; };').message).toBe("line 3: expected '=', found \"1\"");
    expect(syntaxError('Server { a.b.C bogus; };').message).toBe('line 1: invalid control flag bogus (expected required, requisite, sufficient or optional)');
    expect(syntaxError('Server { a/b required; };').message).toBe('line 1: expected a control flag, found the end of the file');
  });

  it('an unterminated string ends at its line end, and what follows is read as tokens', () => {
    expect(syntaxError('Server { a.b.C required user_a="unterminated; };').message).toBe('line 1: expected an option key, found the end of the file');
  });

  it('a section may not appear twice', () => {
    expect(syntaxError('Server { a.b.C required; };\n\nServer { d.E optional; };').message).toBe('line 3: section Server appears twice');
  });

  it('counts lines across comments and CRLF (Java says 5 here: its count misses line ends inside block comments)', () => {
    expect(syntaxError('/* a\r\nb */\r\n// c\nServer {\r\n x required y=\n 7; };').line).toBe(6);
  });
});
