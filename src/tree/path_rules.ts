// Znode path rules (Apache ZooKeeper's PathUtils.validatePath) and the path arithmetic the tree
// needs. Strings are indexed by UTF-16 code unit, as Java's String is, so character ranges match.

/**
 * Paths ZooKeeper creates itself and refuses to delete (DataTree.isSpecialPath).
 * They can still be written to where their ACL allows (e.g. setData on /zookeeper).
 */
const SPECIAL_PATHS: ReadonlySet<string> = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

export function isSpecialPath(path: string): boolean {
  return SPECIAL_PATHS.has(path);
}

/** A code unit that may not appear in a path (control characters, surrogates, private use, specials). */
function isForbiddenChar(c: number): boolean {
  return (c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0;
}

/**
 * Why `path` is not a valid znode path, or null when it is. Rules: starts with '/', no trailing
 * '/' (except the root), no empty segment, no '.' or '..' segment, no U+0000, none of the
 * characters in isForbiddenChar.
 */
export function invalidPathReason(path: string): string | null {
  if (path.length === 0) return 'path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'path must start with /';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'path must not end with /';
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    const prev = path.charCodeAt(i - 1);
    const segment_ends = i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f;
    if (c === 0) return `null character @${i}`;
    if (c === 0x2f && prev === 0x2f) return `empty node name @${i}`;
    if (c === 0x2e && prev === 0x2e && path.charCodeAt(i - 2) === 0x2f && segment_ends) return `relative path @${i}`;
    if (c === 0x2e && prev === 0x2f && segment_ends) return `relative path @${i}`;
    if (isForbiddenChar(c)) return `invalid character @${i}`;
  }
  return null;
}

export function isValidPath(path: string): boolean {
  return invalidPathReason(path) === null;
}

/**
 * Parent of an absolute path: '/a' -> '/', '/a/b' -> '/a'. ZooKeeper computes '' for children of
 * the root and keeps '' as an alias of '/'; we map to '/' directly. Requires a '/' in `path`.
 */
export function parentPath(path: string): string {
  const last_slash = path.lastIndexOf('/');
  if (last_slash < 0) throw new Error(`parentPath: no '/' in ${JSON.stringify(path)}`);
  return last_slash === 0 ? '/' : path.slice(0, last_slash);
}

/** Last segment of an absolute path ('' for the root). */
export function childName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `parent` + '/' + `name`, without doubling the root's slash. */
export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/**
 * The sequential suffix: Java's String.format("%010d", n). Zero padding goes after the sign and
 * the width counts it, so -1 is "-000000001"; values needing more digits are not truncated.
 */
export function sequenceSuffix(n: number): string {
  if (n >= 0) return String(n).padStart(10, '0');
  return `-${String(-n).padStart(9, '0')}`;
}
