import { describe, expect, it } from 'vitest';
import { baseName, parentPath, validatePath } from '../../src/protocol/paths.js';

const VALID = ['/', '/a', '/a/b', '/zookeeper', '/a.b', '/...', '/a/..b', '/a/b..', '/.a', '/é', '/日本'];

// [path, isSequential, reason] — messages as PathUtils.validatePath words them.
const INVALID: [string, boolean, string][] = [
  ['', false, 'Path length must be > 0'],
  ['a', false, 'Path must start with / character'],
  ['/a/', false, 'Path must not end with / character'],
  ['//', false, 'Path must not end with / character'],
  ['//a', false, 'Invalid path string "//a" caused by empty node name specified @1'],
  ['/a//b', false, 'Invalid path string "/a//b" caused by empty node name specified @3'],
  ['/.', false, 'Invalid path string "/." caused by relative paths not allowed @1'],
  ['/..', false, 'Invalid path string "/.." caused by relative paths not allowed @2'],
  ['/a/./b', false, 'Invalid path string "/a/./b" caused by relative paths not allowed @3'],
  ['/a/../b', false, 'Invalid path string "/a/../b" caused by relative paths not allowed @4'],
  ['/a\u0000b', false, 'Invalid path string "/a\u0000b" caused by null character not allowed @2'],
  ['/a\u0001', false, 'Invalid path string "/a\u0001" caused by invalid character @2'],
  ['/\u007f', false, 'Invalid path string "/\u007f" caused by invalid character @1'],
  ['/\u009f', false, 'Invalid path string "/\u009f" caused by invalid character @1'],
  ['/\ue000', false, 'Invalid path string "/\ue000" caused by invalid character @1'],
  ['/\ufff0', false, 'Invalid path string "/\ufff0" caused by invalid character @1'],
  ['/\ufffd', false, 'Invalid path string "/\ufffd" caused by invalid character @1'],
  // A character outside the BMP is a surrogate pair in UTF-16, hence refused (as in Java).
  ['/\u{1F600}', false, 'Invalid path string "/\u{1F600}" caused by invalid character @1'],
  // Sequential: checked with a digit appended (the suffix the server adds).
  ['', true, 'Path must start with / character'],
  ['/a//', true, 'Invalid path string "/a//1" caused by empty node name specified @3'],
  ['/a/./', true, 'Invalid path string "/a/./1" caused by relative paths not allowed @3'],
];

describe('validatePath', () => {
  it.each(VALID)('accepts %j', (path) => {
    expect(validatePath(path)).toBeNull();
  });

  it.each(INVALID)('rejects %j (sequential: %s)', (path, sequential, reason) => {
    expect(validatePath(path, sequential)).toBe(reason);
  });

  it('lets a sequential create end with / (children named by the suffix alone)', () => {
    expect(validatePath('/a/', true)).toBeNull();
    expect(validatePath('/', true)).toBeNull();
    expect(validatePath('/a-', true)).toBeNull();
  });

  it('a sequential path still must not contain what a plain one must not', () => {
    expect(validatePath('/a\u0001/', true)).not.toBeNull();
  });
});

describe('parentPath / baseName', () => {
  it.each([
    ['/a', '/', 'a'],
    ['/a/b', '/a', 'b'],
    ['/a/b/c0000000001', '/a/b', 'c0000000001'],
  ])('%s -> parent %s, name %s', (path, parent, name) => {
    expect(parentPath(path)).toBe(parent);
    expect(baseName(path)).toBe(name);
  });

  it('the root has no parent and an empty name', () => {
    expect(() => parentPath('/')).toThrow();
    expect(baseName('/')).toBe('');
  });
});
