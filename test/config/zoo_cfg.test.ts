import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '../../src/config/config_error.js';
import { parseZooCfg } from '../../src/config/zoo_cfg.js';
import { bounded } from '../support/fc_bounds.js';

function values(text: string): Record<string, string> {
  return Object.fromEntries([...parseZooCfg(text)].map(([k, e]) => [k, e.value]));
}

describe('parseZooCfg (Java properties syntax)', () => {
  it('reads key=value, key: value and key value, trimming blanks', () => {
    expect(values('tickTime=2000\nclientPort: 2181\n  dataDir   /var/zk  \n\tmaxClientCnxns =  0\t\n')).toEqual({
      tickTime: '2000',
      clientPort: '2181',
      dataDir: '/var/zk',
      maxClientCnxns: '0',
    });
  });

  it('skips # and ! comments and blank lines, and reports 1-based line numbers', () => {
    const cfg = parseZooCfg('# comment\n! other comment\n\n   \n  # indented comment\ntickTime=2000\n');
    expect([...cfg.keys()]).toEqual(['tickTime']);
    expect(cfg.get('tickTime')).toEqual({ value: '2000', line: 6 });
  });

  it('keeps separators that follow the first one as part of the value', () => {
    expect(values('a=b=c\nb:c:d\nc = = x\nsuperDigest=super:abc=')).toEqual({ a: 'b=c', b: 'c:d', c: '= x', superDigest: 'super:abc=' });
  });

  it('joins lines ending in an odd number of backslashes, dropping the next line\'s indentation', () => {
    const cfg = parseZooCfg('4lw.commands.whitelist=ruok, \\\n     mntr, \\\n   srvr\nnext=1\n');
    expect(cfg.get('4lw.commands.whitelist')).toEqual({ value: 'ruok, mntr, srvr', line: 1 });
    expect(cfg.get('next')).toEqual({ value: '1', line: 4 });
  });

  it('does not continue on an even number of backslashes (an escaped backslash)', () => {
    expect(values('dir=C:\\\\data\\\\\nx=1')).toEqual({ dir: 'C:\\data\\', x: '1' });
  });

  it('does not continue comment lines', () => {
    expect(values('# comment \\\ntickTime=1')).toEqual({ tickTime: '1' });
  });

  it('drops a continuation backslash at end of file', () => {
    expect(values('a=b\\')).toEqual({ a: 'b' });
  });

  it('unescapes \\t \\n \\uXXXX and escaped separators in keys and values', () => {
    expect(values('my\\ key\\:x=a\\tb\\u0041\\=')).toEqual({ 'my key:x': 'a\tbA=' });
  });

  it('rejects a malformed \\u escape with the line', () => {
    expect(() => parseZooCfg('a=1\nb=\\u12G4', 'my.cfg')).toThrow(ConfigError);
    expect(() => parseZooCfg('a=1\nb=\\u12G4', 'my.cfg')).toThrow(/my\.cfg:2: malformed/);
  });

  it('accepts \\r\\n and \\r line endings', () => {
    expect(values('a=1\r\nb=2\rc=3')).toEqual({ a: '1', b: '2', c: '3' });
  });

  it('a key given twice: the last value wins and its line is reported', () => {
    const cfg = parseZooCfg('tickTime=1000\nclientPort=1\ntickTime=3000\n');
    expect(cfg.get('tickTime')).toEqual({ value: '3000', line: 3 });
    expect(cfg.size).toBe(2);
  });

  it('a key alone has an empty value', () => {
    expect(values('standaloneEnabled\n')).toEqual({ standaloneEnabled: '' });
  });

  it('treats __proto__ as an ordinary key', () => {
    const cfg = parseZooCfg('__proto__=1');
    expect(cfg.get('__proto__')?.value).toBe('1');
  });

  it('round-trips generated key/value files whatever the separator and comments', () => {
    const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9._]{0,15}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9/.,*_-]([A-Za-z0-9/.,*_ -]{0,20}[A-Za-z0-9/.,*_-])?$/);
    const sep = fc.constantFrom('=', ':', ' = ', ': ', ' ', '\t=\t');
    const entry = fc.tuple(key, sep, value, fc.boolean());
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e[0], maxLength: 12 }), (entries) => {
        const text = entries.map(([k, s, v, comment]) => `${comment ? '# note\n' : ''}  ${k}${s}${v}`).join('\n');
        const parsed = parseZooCfg(text);
        expect([...parsed.keys()]).toEqual(entries.map((e) => e[0]));
        for (const [k, , v] of entries) expect(parsed.get(k)?.value).toBe(v);
      }),
      bounded(),
    );
  });
});
